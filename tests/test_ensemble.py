"""moodlens.emotions.ensemble for real: two trained models as one file that averages them inside the graph, scoring
real FER2013 faces through both inference paths, and bad requests refused in one line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import ROOT, script_env

from moodlens.emotions.classifier import EmotionClassifier
from moodlens.emotions.modelio import LABELS_ATTR, read_labels
from moodlens.training.data import load_folder_split

MODEL = ROOT / "model_file.h5"


def ensemble(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "moodlens.emotions.ensemble", *map(str, args)], cwd=ROOT,
                          env=script_env(), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def faces(copy_faces, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    folder = copy_faces(tmp_path_factory.mktemp("faces"), train=1, test=4) / "test"
    return load_folder_split(folder, read_labels(MODEL)).x


def test_the_file_scores_the_average_of_its_members(tiny_model, faces: np.ndarray, tmp_path: Path) -> None:
    output = tmp_path / "ensemble.h5"
    run = ensemble(MODEL, tiny_model.path, "--output", output)
    assert run.returncode == 0, run.stderr
    assert f"wrote {output}: the average of 2 models" in run.stdout
    assert read_labels(output) == read_labels(MODEL)
    members = [EmotionClassifier(path, tta=False, backend="tf").scores(faces) for path in (MODEL, tiny_model.path)]
    assert np.abs(members[0] - members[1]).max() > 0.1  # two different models: the average is not either one
    together = EmotionClassifier(output, tta=False, backend="tf").scores(faces)
    np.testing.assert_allclose(together, (members[0] + members[1]) / 2, atol=1e-5)
    lite = EmotionClassifier(output).scores(faces)  # detect.py's default path: TFLite, int8 weights, mirror
    assert np.abs(lite - EmotionClassifier(output, backend="tf").scores(faces)).max() < 0.05


def test_bad_requests_are_one_line_errors_and_write_nothing(tmp_path: Path) -> None:
    relabelled = tmp_path / "relabelled.h5"
    shutil.copy(MODEL, relabelled)
    with h5py.File(relabelled, "a") as f:
        f.attrs[LABELS_ATTR] = json.dumps(list(reversed(read_labels(MODEL))))
    one = ensemble(MODEL, "--output", tmp_path / "one.h5")
    assert one.returncode == 2 and "needs at least 2 model files, received 1" in one.stderr
    mixed = ensemble(MODEL, relabelled, "--output", tmp_path / "mixed.h5")
    assert mixed.returncode == 2 and f"model {relabelled} has labels surprise, sad" in mixed.stderr
    missing = ensemble(MODEL, tmp_path / "none.h5", "--output", tmp_path / "missing.h5")
    assert missing.returncode == 2 and "none.h5 not found" in missing.stderr
    no_folder = ensemble(MODEL, MODEL, "--output", tmp_path / "nowhere" / "e.h5")
    assert no_folder.returncode == 2 and "does not exist" in no_folder.stderr
    for run in (one, mixed, missing, no_folder):
        assert run.stderr.startswith("error: ") and len(run.stderr.splitlines()) == 1, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relabelled.h5"]
