"""Temperature scaling: the fit finds a known temperature, and train.py --holdout writes the fitted one in."""

import re
from pathlib import Path

import numpy as np
import pytest

from moodlens.emotions.calibration import expected_calibration_error, fit_temperature, log_loss, tempered
from moodlens.emotions.modelio import load_model
from moodlens.training.data import load_folder_split


def softmax(logits: np.ndarray) -> np.ndarray:
    powers = np.exp(logits - logits.max(axis=1, keepdims=True))
    return powers / powers.sum(axis=1, keepdims=True)


def test_fit_finds_the_temperature_that_made_scores_overconfident() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (20000, 7))
    truth = np.array([rng.choice(7, p=p) for p in softmax(logits)])  # the true classes follow softmax(logits)
    overconfident = softmax(logits * 2)
    temperature = fit_temperature(overconfident, truth)
    assert temperature == pytest.approx(2.0, rel=0.05)
    assert expected_calibration_error(tempered(overconfident, temperature), truth) < 0.02
    assert expected_calibration_error(overconfident, truth) > 0.1


def test_holdout_validates_on_training_faces_and_saves_a_calibrated_model(tiny_data: Path, train_tiny,
                                                                          tmp_path: Path) -> None:
    output = tmp_path / "m.h5"
    run = train_tiny(tiny_data, output, "--holdout", 0.2)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "holdout: 21 training faces validate instead of the test split" in run.stdout  # 3 of 15 per class
    assert "validation: 21 faces" in run.stdout
    assert "train: 84 faces" in run.stdout
    said = re.search(r"temperature ([\d.]+) fitted on 21 held-out faces: calibration error [\d.]+ -> [\d.]+, "
                     r"log loss ([\d.]+) -> ([\d.]+)", run.stdout)
    assert said, run.stdout[-2000:]
    temperature, before, after = map(float, said.groups())

    # The file holds the tempered model: undoing the temperature gives back the log loss said before.
    model, labels = load_model(output)
    _, held = load_folder_split(tiny_data / "train", labels).held_out(0.2, seed=1337)
    scores = model.predict(held.x, verbose=0)
    assert log_loss(scores, held.y) == pytest.approx(after, abs=2e-3)
    assert log_loss(tempered(scores, 1 / temperature), held.y) == pytest.approx(before, abs=2e-3)
    assert after <= before


def test_a_holdout_too_small_for_any_face_is_refused(tiny_data: Path, train_tiny, tmp_path: Path) -> None:
    run = train_tiny(tiny_data, tmp_path / "m.h5", "--holdout", 0.01)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].endswith("holds out no face of " + str(tiny_data)
                                                        + " (too few faces per class)")
    assert not (tmp_path / "m.h5").exists()
