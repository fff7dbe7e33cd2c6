"""Distillation (`train.py --teacher`, `--arch bn-half` for a smaller student): each augmented training
face's target mixes its own label with a trained model's probabilities for the very face the student sees;
a teacher that does not fit is refused."""

from pathlib import Path

import numpy as np
from conftest import ROOT

from moodlens.emotions.modelio import load_model
from moodlens.labels import EMOTIONS
from moodlens.training.data import load_folder_split
from moodlens.training.pipeline import make_dataset

TEACHER = ROOT / "model_file.h5"


def test_targets_mix_the_label_with_the_teachers_scores_for_the_augmented_face(tiny_data: Path) -> None:
    split = load_folder_split(tiny_data / "train", EMOTIONS)
    teacher, _ = load_model(TEACHER)
    batches = make_dataset(split, batch_size=35, training=True, seed=3, teacher=teacher, teacher_weight=0.25)
    for x, y in batches.take(2):
        x, y = x.numpy(), y.numpy()
        own = (y - 0.25 * teacher(x, training=False).numpy()) / 0.75
        # what is left is a one-hot label: the teacher's part was computed on the augmented faces themselves
        np.testing.assert_allclose(own.max(axis=1), 1.0, atol=1e-4)
        assert np.abs(y - np.eye(len(EMOTIONS))[own.argmax(axis=1)]).max() > 0.05  # and the teacher did move it


def test_train_with_a_teacher_learns_and_a_wrong_teacher_is_refused(tiny_data: Path, copy_faces, train_tiny,
                                                                     tmp_path: Path) -> None:
    run = train_tiny(tiny_data, tmp_path / "student.h5", "--arch", "bn-half", "--teacher", TEACHER,
                     "--teacher-weight", 0.7)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"teacher: {TEACHER}, 70% of each target" in run.stdout
    student, labels = load_model(tmp_path / "student.h5")
    assert labels == EMOTIONS
    # half the width: a quarter of the teacher's weights (and of its work), in the same layers
    assert 0.24 < student.count_params() / load_model(TEACHER)[0].count_params() < 0.26
    assert len(student.layers) == len(load_model(TEACHER)[0].layers)
    three = copy_faces(tmp_path / "three", classes=("angry", "happy", "surprise"), train=5, test=2)
    mismatch = train_tiny(three, tmp_path / "three.h5", "--teacher", TEACHER)
    missing = train_tiny(tiny_data, tmp_path / "none.h5", "--teacher", tmp_path / "absent.h5")
    itself = train_tiny(tiny_data, tmp_path / "same.h5", "--teacher", tmp_path / "same.h5")
    assert mismatch.returncode == 2 and missing.returncode == 2 and itself.returncode == 2
    assert "--teacher: " in itself.stderr and "is also the output" in itself.stderr
    assert "--teacher" in mismatch.stderr and "differ from the data's (angry, happy, surprise)" in mismatch.stderr
    assert "--teacher: model file" in missing.stderr and "absent.h5 not found" in missing.stderr
    framed = train_tiny(tiny_data, tmp_path / "aligned.h5", "--teacher", TEACHER, "--align")  # it learned boxes
    assert framed.returncode == 2 and framed.stderr.strip().splitlines()[-1] == (
        f"error: --teacher {TEACHER} learned box faces and this run frames them aligned: give --align to both "
        "runs or to neither")
    assert not (tmp_path / "aligned.h5").exists()
    folder = train_tiny(tiny_data, tmp_path / "f.h5", "--teacher", tmp_path)
    assert folder.returncode == 2 and f"--teacher: model file {tmp_path} not found" in folder.stderr
    assert "Traceback" not in mismatch.stderr + missing.stderr
    assert not (tmp_path / "three.h5").exists() and not (tmp_path / "none.h5").exists()
