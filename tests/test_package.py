"""The package as a user gets it: pip installs the repository's last commit from its git URL (a fresh
clone, built into a wheel, not editable) into a new virtual environment, and the `moodlens` command
runs from a folder that holds neither the checkout nor a model.

Fast and offline: the new environment gets the dependencies from this test run's own environment
through a .pth file, instead of downloading TensorFlow again, and pip installs moodlens alone
(--no-deps) with the setuptools of requirements-dev.txt (--no-build-isolation). The package itself,
its console command and the model inside it come only from the clone: the test checks that
`moodlens` is imported from the new environment, never from this checkout.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ROOT

INSTALL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 300


def run(command: list, cwd: Path, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run with nothing of this checkout on the path: no PYTHONPATH, no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY", "WAYLAND_DISPLAY")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run(list(map(str, command)), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with moodlens installed from git+file://<this repository>; its bin/."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs git and a git checkout of the repository")
    env = tmp_path_factory.mktemp("venv") / "env"
    made = run([sys.executable, "-m", "venv", "--without-pip", env], cwd=env.parent)
    assert made.returncode == 0, made.stderr
    python = env / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=env.parent)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    install = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-build-isolation",
                   "--no-index", f"git+file://{ROOT}"], cwd=env.parent, timeout=INSTALL_TIMEOUT_S)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return env / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """An empty folder to run from: no model_file.h5, no moodlens/ package beside it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def committed(path: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{path}"], capture_output=True, check=True).stdout


def test_package_comes_from_the_new_environment_with_the_committed_model(installed: Path, elsewhere: Path):
    where = run([installed / "python", "-c", "import moodlens, pathlib; print(pathlib.Path(moodlens.__file__).parent)"],
                cwd=elsewhere)
    package = Path(where.stdout.strip())
    assert package.is_relative_to(installed.parent), f"moodlens imported from {package}, not the new environment"
    model = package / "model_file.h5"
    assert model.is_file() and not model.is_symlink(), "the wheel must hold a copy of the model, not a link"
    assert model.read_bytes() == committed("model_file.h5")


def test_moodlens_detect_finds_the_shipped_model_from_another_folder(installed: Path, elsewhere: Path, media: Path):
    result = run([installed / "moodlens", "detect", "--source", media / "fr_obama.jpg", "--no-window",
                  "--log", "faces.jsonl"], cwd=elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    faces = [json.loads(line) for line in (elsewhere / "faces.jsonl").read_text().splitlines()]
    assert len(faces) == 1  # one face in the portrait (media README)
    assert faces[0]["emotion"] == "happy"  # the smile the committed model sees; a stand-in model would not
    assert len(faces[0]["landmarks"]) == 5  # found by YuNet, whose weights the wheel ships
    assert sorted(p.name for p in elsewhere.iterdir()) == ["faces.jsonl"]  # nothing else written here


def test_moodlens_analyze_a_folder_from_another_folder(installed: Path, elsewhere: Path, media: Path, tmp_path: Path):
    videos = tmp_path / "media"
    (videos / "clips").mkdir(parents=True)
    shutil.copy(media / "fr_two_people.jpg", videos)
    shutil.copy(media / "huimiang_1543684773.avi", videos / "clips")
    result = run([installed / "moodlens", "analyze", videos, "--output", "out.parquet", "--every", 10,
                  "--workers", 1], cwd=elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = pq.read_table(elsewhere / "out.parquet").to_pylist()
    video = [r for r in rows if r["source"] == "huimiang_1543684773.avi"]
    assert [r["frame"] for r in video] == list(range(0, 67, 10))  # one face on each 10th of its 67 frames
    assert sum(r["source"] == "fr_two_people.jpg" for r in rows) == 2
    assert (elsewhere / "out.summary.csv").is_file()
    assert len(list((elsewhere / "out.plots").glob("huimiang_1543684773.avi-*.png"))) == 1


def test_moodlens_lists_its_commands_and_refuses_an_unknown_one(installed: Path, elsewhere: Path):
    listed = run([installed / "moodlens", "--help"], cwd=elsewhere)
    assert listed.returncode == 0
    for command in ("detect", "analyze", "train", "evaluate"):
        assert f"  {command} " in listed.stdout
    unknown = run([installed / "moodlens", "detekt"], cwd=elsewhere)
    assert unknown.returncode == 2 and "error: unknown command 'detekt'" in unknown.stderr
