"""export.py for real: the committed model to a .tflite that LiteRT runs, scoring real FER2013 faces as
evaluate.py does, with int8 weights and its label order inside and beside it."""

import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from conftest import ROOT

from moodlens.emotions.classifier import EmotionClassifier
from moodlens.emotions.modelio import read_labels
from moodlens.export import labels_path, stored_labels
from moodlens.training.data import load_folder_split

MODEL = ROOT / "model_file.h5"
FACES_PER_CLASS = 8


@pytest.fixture(scope="module")
def exported(run_script, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("export") / "emotions.tflite"
    run = run_script("export.py", "--format", "tflite", "--model", MODEL, "--output", output)
    assert run.returncode == 0, run.stderr
    assert f"wrote {output}" in run.stdout and "input float32 [N, 48, 48, 1]" in run.stdout
    return output


def litert_scores(path: Path, faces: np.ndarray) -> np.ndarray:
    """The exported file run by LiteRT alone, as an app would: one batch of faces in, probabilities out."""
    interpreter = Interpreter(model_path=str(path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, list(faces.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, faces.astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.fixture(scope="module")
def real_faces(fer2013: Path, tmp_path_factory: pytest.TempPathFactory, copy_faces) -> Path:
    """The first FER2013 test faces of each class, in evaluate.py's folder layout."""
    return copy_faces(tmp_path_factory.mktemp("faces"), train=1, test=FACES_PER_CLASS) / "test"


def test_the_file_holds_int8_weights_and_its_labels(exported: Path) -> None:
    interpreter = Interpreter(model_path=str(exported))
    details = interpreter.get_input_details()[0]
    assert list(details["shape_signature"]) == [-1, 48, 48, 1] and details["dtype"] == np.float32
    assert interpreter.get_output_details()[0]["shape"][-1] == len(read_labels(MODEL))
    int8 = [t for t in interpreter.get_tensor_details() if t["dtype"] == np.int8]
    assert len(int8) >= 4  # every convolution's and dense layer's weights
    assert exported.stat().st_size < MODEL.stat().st_size / 3  # the float32 .h5 is 4 bytes a weight
    labels = read_labels(MODEL)
    assert stored_labels(exported.read_bytes()) == labels
    assert labels_path(exported).read_text().splitlines() == list(labels)


def test_litert_scores_real_faces_as_evaluate_py_does(exported: Path, real_faces: Path, run_script,
                                                     tmp_path: Path) -> None:
    run = run_script("evaluate.py", "--data", real_faces, "--model", MODEL, "--json", tmp_path / "report.json")
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    split = load_folder_split(real_faces, read_labels(MODEL))  # evaluate.py's loading and preprocessing
    plain = litert_scores(exported, split.x)
    np.testing.assert_allclose(plain, EmotionClassifier(MODEL, tta=False).scores(split.x), atol=1e-5)
    mirrored = (plain + litert_scores(exported, split.x[:, :, ::-1])) / 2  # evaluate.py's default averaging
    np.testing.assert_allclose(mirrored, EmotionClassifier(MODEL).scores(split.x), atol=1e-5)
    predicted = mirrored.argmax(axis=1)
    confusion = np.zeros((len(split.labels),) * 2, int)
    np.add.at(confusion, (split.y, predicted), 1)
    assert confusion.tolist() == report["confusion"]
    assert float(np.mean(predicted == split.y)) == pytest.approx(report["accuracy"], abs=1e-4)
    assert report["accuracy"] > 2 / len(split.labels)  # a real model on real faces, far above chance


def test_bad_requests_are_one_line_errors_and_write_nothing(run_script, tmp_path: Path) -> None:
    wrong_name = run_script("export.py", "--model", MODEL, "--output", tmp_path / "model.h5")
    assert wrong_name.returncode == 2 and wrong_name.stderr.startswith("error: --output")
    assert ".tflite" in wrong_name.stderr
    missing = run_script("export.py", "--model", tmp_path / "none.h5", "--output", tmp_path / "m.tflite")
    assert missing.returncode == 2 and "none.h5 not found" in missing.stderr
    no_folder = run_script("export.py", "--model", MODEL, "--output", tmp_path / "nowhere" / "m.tflite")
    assert no_folder.returncode == 2 and "does not exist" in no_folder.stderr
    assert "Traceback" not in wrong_name.stderr + missing.stderr + no_folder.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
