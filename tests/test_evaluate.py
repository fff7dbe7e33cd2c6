"""evaluate.py on real FER2013 test faces with the tiny model: printed report, JSON figures, plot."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from terminal_helpers import drew_a_bar, run_on_terminal

from moodlens.emotions.classifier import EmotionClassifier
from moodlens.labels import EMOTIONS
from moodlens.training.data import load_folder_split

FACES = 5 * 7  # tiny_data's test split


@dataclass
class Evaluated:
    run: subprocess.CompletedProcess
    report: dict
    folder: Path


@pytest.fixture(scope="module")
def evaluated(run_script, tiny_model, tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    folder = tmp_path_factory.mktemp("evaluate")
    run = run_script("evaluate.py", "--data", tiny_data / "test", "--model", tiny_model.path,
                     "--json", folder / "report.json", "--plot", folder / "confusion.png")
    assert run.returncode == 0, run.stderr[-3000:]
    return Evaluated(run, json.loads((folder / "report.json").read_text()), folder)


def test_report_prints_accuracy_macro_f1_and_the_confusion_matrix(evaluated: Evaluated) -> None:
    report = evaluated.report
    out = evaluated.run.stdout
    assert f"faces {FACES}   accuracy {report['accuracy']:.4f}   macro F1 {report['macro_f1']:.4f}" in out
    assert "precision  recall      f1  support" in out
    assert "confusion (rows true, columns predicted)" in out
    assert all(name in out for name in EMOTIONS)


def test_json_holds_the_figures_for_every_label(evaluated: Evaluated) -> None:
    report = evaluated.report
    assert {"accuracy", "per_class", "confusion", "labels", "macro_f1"} <= set(report)
    assert report["labels"] == list(EMOTIONS)
    assert list(report["per_class"]) == list(EMOTIONS)
    assert all(set(m) == {"precision", "recall", "f1", "support"} for m in report["per_class"].values())


def test_confusion_counts_every_face_once_in_its_true_row(evaluated: Evaluated) -> None:
    confusion = np.array(evaluated.report["confusion"])
    assert confusion.shape == (7, 7)
    assert confusion.sum() == FACES
    assert confusion.sum(axis=1).tolist() == [5] * 7
    assert [m["support"] for m in evaluated.report["per_class"].values()] == [5] * 7


def test_accuracy_is_the_diagonal_share_of_the_confusion(evaluated: Evaluated) -> None:
    confusion = np.array(evaluated.report["confusion"])
    assert evaluated.report["accuracy"] == pytest.approx(np.trace(confusion) / confusion.sum())


def test_per_class_figures_and_macro_f1_follow_from_the_confusion(evaluated: Evaluated) -> None:
    confusion = np.array(evaluated.report["confusion"], dtype=float)
    hits, predicted, support = np.diag(confusion), confusion.sum(axis=0), confusion.sum(axis=1)
    f1s = []
    for i, name in enumerate(EMOTIONS):
        m = evaluated.report["per_class"][name]
        precision = hits[i] / predicted[i] if predicted[i] else 0.0
        recall = hits[i] / support[i]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((precision, recall, f1))
        f1s.append(f1)
    assert evaluated.report["macro_f1"] == pytest.approx(np.mean(f1s))


def test_accuracy_matches_the_classifier_on_the_same_faces(evaluated: Evaluated, tiny_model, tiny_data: Path) -> None:
    classifier = EmotionClassifier(tiny_model.path)
    split = load_folder_split(tiny_data / "test", classifier.labels)
    predicted = classifier.scores(split.x).argmax(axis=1)
    assert evaluated.report["accuracy"] == pytest.approx(np.mean(predicted == split.y))


def test_plot_is_a_png_confusion_matrix(evaluated: Evaluated) -> None:
    path = evaluated.folder / "confusion.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imread(str(path))
    assert image is not None and min(image.shape[:2]) > 200


def test_evaluate_leaves_only_its_two_files(evaluated: Evaluated) -> None:
    assert sorted(p.name for p in evaluated.folder.iterdir()) == ["confusion.png", "report.json"]


# --- the committed model: label order end to end ----------------------------------------------------------

COMMITTED_MODEL = Path(__file__).resolve().parents[1] / "model_file.h5"
PER_CLASS = 20


def test_committed_model_clears_a_floor_in_every_class_of_real_test_faces(run_script, copy_faces,
                                                                          tmp_path: Path) -> None:
    """The first 20 FER2013 test faces of each class through evaluate.py and the committed model. Measured:
    accuracy 0.61, every recall at least 0.35. Swapping any two labels between training and detection
    drops some class's recall below 0.2 (the largest confusion, fear read as neutral, is 7 of 20 one way
    and 1 the other), and accuracy far down."""
    data = copy_faces(tmp_path / "data", train=0, test=PER_CLASS) / "test"
    run = run_script("evaluate.py", "--data", data, "--model", COMMITTED_MODEL, "--json", tmp_path / "report.json")
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["count"] == PER_CLASS * len(EMOTIONS) and report["accuracy"] >= 0.5
    recalls = {name: figures["recall"] for name, figures in report["per_class"].items()}
    assert min(recalls.values()) >= 0.2, recalls


def test_evaluate_shows_a_progress_bar_with_the_time_left_on_a_terminal(tiny_model, tiny_data: Path) -> None:
    run, drawn = run_on_terminal("evaluate.py", "--data", tiny_data / "test", "--model", tiny_model.path,
                                 "--batch-size", 5)
    assert run.returncode == 0 and f"faces {FACES}" in run.stdout
    assert drew_a_bar(drawn, FACES), drawn
