"""Helpers for the bad-input catalogue (test_errors.py) and the fuzzing (test_fuzz.py).

Two ways to run a script, both for real:
  - `call_script`: in this process, through `runpy` exactly as `python script.py` runs it (argparse,
    `cli.run`, `sys.exit`), without paying TensorFlow's start-up again; Python-level stdout/stderr.
  - `run_script`: a child process, where the point is the real exit status and every byte the process
    writes to stderr (native libraries included: OpenCV, FFmpeg, libpng, TensorFlow).
"""

import contextlib
import hashlib
import io
import os
import runpy
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FER2013 = SHARED / "fer2013"
MEDIA = SHARED / "media"
SCRIPT_TIMEOUT_S = 300

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The scripts' own quiet defaults (moodlens.cli.quiet_tensorflow) are under test: never pass ours.
NATIVE_LOG_VARIABLES = ("TF_CPP_MIN_LOG_LEVEL", "OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL", "DISPLAY",
                        "WAYLAND_DISPLAY")


def require(path: Path, what: str) -> Path:
    """`path`, or skip the test saying where the real data was looked for."""
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (it lives in shared/ beside the repository)")
    return path


def fer_faces(split: str, emotion: str, count: int) -> list[Path]:
    """The first `count` real FER2013 faces of one class."""
    folder = require(FER2013 / split / emotion, "FER2013 faces")
    return sorted(folder.iterdir())[:count]


def media_file(name: str) -> Path:
    return require(MEDIA / name, "test media")


def radiance_claiming(width: int, height: int) -> bytes:
    """A Radiance HDR file whose header claims width x height, then 4 kB of pixels: Pillow cannot read this
    header, OpenCV (and FFmpeg) decode it, into 12 bytes of float a pixel."""
    return f"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {height} +X {width}\n".encode() + bytes(4096)


@dataclass
class Outcome:
    """How a script ended: exit code, stdout, stderr."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """The non-empty lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def exit_code(exc: SystemExit) -> int:
    """The status `sys.exit(x)` gives the shell: None is 0, a message is 1."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


@contextlib.contextmanager
def cwd(folder: Path | None) -> Iterator[None]:
    before = Path.cwd()
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def call_script(script: str, *args: object, folder: Path | None = None) -> Outcome:
    """Run `python <script> args...` in this process (as `__main__`), in `folder` if given."""
    out, err = io.StringIO(), io.StringIO()
    argv, handler = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = [script, *map(str, args)]
    code = 0
    try:
        with cwd(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(str(ROOT / script), run_name="__main__")
    except SystemExit as exc:
        code = exit_code(exc)
        if isinstance(exc.code, str):  # what the interpreter would print on the way out
            err.write(exc.code + "\n")
    finally:
        sys.argv = argv
        signal.signal(signal.SIGTERM, handler)
    return Outcome(code, out.getvalue(), err.getvalue())


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NATIVE_LOG_VARIABLES}
    env.update(extra)
    return env


def run_script(script: str, *args: object, folder: Path | None = None, env: dict[str, str] | None = None,
               preexec_fn: Callable[[], None] | None = None, timeout: float = SCRIPT_TIMEOUT_S) -> Outcome:
    """Run `python <script> args...` as a child process and wait for it."""
    done = subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=folder or ROOT,
                          env=env or script_env(), capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(outcome: Outcome, *needles: object) -> str:
    """Exit 2, and stderr is exactly one `error: ...` line holding every needle (paths, reasons)."""
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.code == 2, f"exit {outcome.code}, stderr:\n{outcome.stderr}"
    assert len(outcome.lines) == 1, f"expected one line on stderr, received:\n{outcome.stderr}"
    line = outcome.lines[0]
    assert line.startswith("error: "), line
    for needle in needles:
        assert str(needle).lower() in line.lower(), f"{needle!r} not in {line!r}"
    return line


def assert_usage_error(outcome: Outcome, script: str, *needles: object) -> str:
    """argparse's way: exit 2, a usage line, then `<script>: error: ...` naming the option."""
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.code == 2, f"exit {outcome.code}, stderr:\n{outcome.stderr}"
    assert outcome.lines[0].startswith("usage: "), outcome.stderr
    line = outcome.lines[-1]
    assert line.startswith(f"{script}: error: "), line
    for needle in needles:
        assert str(needle) in line, f"{needle!r} not in {line!r}"
    return line


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) and a digest of its bytes."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files a failed run may have left: hidden files, *.tmp*, *.part*, *.old."""
    marks = (".tmp", ".part", ".old")
    return [str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.name.startswith(".") or any(m in p.name for m in marks)]
