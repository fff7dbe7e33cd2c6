"""Shared fixtures: where the real data lives, a tiny FER2013 copy, one tiny trained model, script runs.

Real inputs come from `../shared` beside the repository (FER2013 faces, photos and videos); tests
that need them skip with the path they looked at when it is absent. The one model the suite trains
(1 epoch of the seed CNN on 15 faces per class) is trained once per session through train.py.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FER2013 = SHARED / "fer2013"
MEDIA = SHARED / "media"

if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repository on the path
    sys.path.insert(0, str(ROOT))

from moodlens.labels import EMOTIONS  # noqa: E402

# A suite started in the background (`cmd &` in a script) inherits SIGINT ignored and passes that on to
# every process it starts, so the Ctrl-C tests would see nothing: Ctrl-C as in a terminal, here and in them.
signal.signal(signal.SIGINT, signal.default_int_handler)

TINY_TRAIN_PER_CLASS = 15
TINY_TEST_PER_CLASS = 5
SCRIPT_TIMEOUT_S = 600

RunScript = Callable[..., subprocess.CompletedProcess]


def script_env(display: str | None = None) -> dict[str, str]:
    """The environment scripts run in: TensorFlow's C++ chatter off; no display unless one is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if display:
        env["DISPLAY"] = display
    return env


def python_command(script: str, *args: object) -> list[str]:
    """`python <repo>/<script> args...`, or `python -c <code> args...` for script "-c"."""
    return [sys.executable, script if script == "-c" else str(ROOT / script), *map(str, args)]


def run_script_now(script: str, *args: object, timeout: float = SCRIPT_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run one of the repository's scripts to completion; stdout and stderr captured as text."""
    return subprocess.run(python_command(script, *args), cwd=ROOT, env=script_env(), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_script() -> RunScript:
    """`run_script("train.py", "--epochs", 1, ...)` -> CompletedProcess, run in the repository root.

    `run_script("-c", code, args...)` runs Python code there instead (so `import moodlens` works).
    """
    return run_script_now


class RunningScript:
    """A script running in the background; its output goes to files (a full pipe would block it)."""

    def __init__(self, script: str, *args: object, display: str | None = None):
        self.stdout, self.stderr = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(python_command(script, *args), cwd=ROOT, env=script_env(display),
                                        stdout=self.stdout, stderr=self.stderr, text=True)

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float = SCRIPT_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Wait for the exit (TimeoutExpired past `timeout`); the exit status and everything it printed."""
        self.process.wait(timeout=timeout)
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, read(self.stdout),
                                           read(self.stderr))

    def stop(self) -> None:
        if self.running():
            self.process.kill()
        self.process.wait()
        self.stdout.close()
        self.stderr.close()


def read(file) -> str:
    file.seek(0)
    return file.read()


@pytest.fixture
def start_script() -> Iterator[Callable[..., RunningScript]]:
    """`start_script("detect.py", ..., display=":99")` -> a RunningScript, killed after the test if still running."""
    started: list[RunningScript] = []

    def start(script: str, *args: object, display: str | None = None) -> RunningScript:
        started.append(RunningScript(script, *args, display=display))
        return started[-1]

    yield start
    for script in started:
        script.stop()


@pytest.fixture(scope="session", autouse=True)
def tflite_cache(tmp_path_factory: pytest.TempPathFactory):
    """Detection's model conversions are cached here, not in the user's home; children inherit it."""
    before = os.environ.get("MOODLENS_CACHE")
    os.environ["MOODLENS_CACHE"] = str(tmp_path_factory.mktemp("tflite-cache"))
    yield
    if before is None:
        os.environ.pop("MOODLENS_CACHE", None)
    else:
        os.environ["MOODLENS_CACHE"] = before


def require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (clone the repository with shared/ beside it)")
    return path


@pytest.fixture(scope="session")
def fer2013() -> Path:
    """The real FER2013 folders: fer2013/{train,test}/<emotion>/*.jpg."""
    return require(FER2013 / "train", "FER2013 faces").parent


@pytest.fixture(scope="session")
def media() -> Path:
    """The real photos and videos."""
    return require(MEDIA / "README.md", "test media").parent


def copy_fer2013(fer2013: Path, target: Path, classes: tuple[str, ...] = EMOTIONS,
                 train: int = TINY_TRAIN_PER_CLASS, test: int = TINY_TEST_PER_CLASS) -> Path:
    """Copy the first faces of each class of both FER2013 splits into target/{train,test}/<emotion>/."""
    for split, count in (("train", train), ("test", test)):
        for emotion in classes:
            folder = target / split / emotion
            folder.mkdir(parents=True)
            for face in sorted((fer2013 / split / emotion).iterdir())[:count]:
                shutil.copy(face, folder / face.name)
    return target


@pytest.fixture(scope="session")
def copy_faces(fer2013: Path) -> Callable[..., Path]:
    """`copy_faces(target, classes=..., train=10, test=3)`: a small FER2013 copy in the folder layout."""
    return lambda target, **kwargs: copy_fer2013(fer2013, target, **kwargs)


@pytest.fixture(scope="session")
def tiny_data(fer2013: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 training and 5 test faces of each of the 7 emotions (tests only read it)."""
    return copy_fer2013(fer2013, tmp_path_factory.mktemp("tiny") / "data")


@dataclass
class TrainedModel:
    path: Path
    run: subprocess.CompletedProcess  # train.py's run


def train_tiny_now(data: Path, output: Path, *extra: object) -> subprocess.CompletedProcess:
    return run_script_now("train.py", "--data", data, "--epochs", 1, "--arch", "seed", "--batch-size", 16,
                          "--output", output, *extra)


@pytest.fixture(scope="session")
def train_tiny() -> RunScript:
    """`train_tiny(data, output.h5, *more_options)`: train.py for 1 epoch of the seed CNN, batch 16."""
    return train_tiny_now


@pytest.fixture(scope="session")
def tiny_model(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """The suite's one 7-class model: train.py, 1 epoch of the seed CNN on `tiny_data`."""
    output = tmp_path_factory.mktemp("model") / "m.h5"
    run = train_tiny_now(tiny_data, output)
    assert run.returncode == 0, f"train.py failed:\n{run.stderr[-3000:]}"
    return TrainedModel(output, run)
