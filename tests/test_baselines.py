"""baselines.py on real FER2013 faces (tiny_data: 15 train and 5 test a class): HOG, a fit, the command line."""

import json
from pathlib import Path

import numpy as np
import pytest
from terminal_helpers import drew_a_bar, run_on_terminal

import baselines
from moodlens.training.data import Split, load_training_data

HOG_LENGTH = 5 * 5 * 4 * 9  # 5x5 blocks of 2x2 cells of 9 orientation bins


@pytest.fixture(scope="module")
def splits(tiny_data: Path) -> tuple[Split, Split]:
    return load_training_data(tiny_data)


def test_hog_gives_one_fixed_length_row_per_face_and_repeats_exactly(splits: tuple[Split, Split]) -> None:
    train, _ = splits
    features = baselines.hog_features(train.x)
    assert features.shape == (len(train), HOG_LENGTH)
    assert features.dtype == np.float32 and np.isfinite(features).all()
    assert np.array_equal(features, baselines.hog_features(train.x))
    assert len(np.unique(features, axis=0)) == len(train)  # distinct faces, distinct descriptors


def test_a_quick_fit_reports_figures_that_agree_and_repeat(splits: tuple[Split, Split]) -> None:
    train, test = splits
    train_x, test_x = baselines.hog_features(train.x), baselines.hog_features(test.x)
    first, second = (baselines.fit_and_score(baselines.methods()["tree"][1], train_x, train.y, test_x, test)
                     for _ in range(2))
    report = first["report"]
    assert set(report) == {"labels", "count", "accuracy", "macro_f1", "per_class", "confusion"}
    confusion = np.array(report["confusion"])
    assert confusion.sum(axis=1).tolist() == [5] * 7  # every test face once, in its true row
    assert first["accuracy"] == report["accuracy"] == pytest.approx(np.trace(confusion) / len(test))
    assert first["macro_f1"] == report["macro_f1"] == pytest.approx(
        np.mean([m["f1"] for m in report["per_class"].values()]))
    assert first["fit_s"] >= 0 and first["predict_s"] >= 0
    assert second["report"] == report  # seeded: the same tree, the same predictions


def test_command_line_prints_the_table_and_writes_it_as_json(tiny_data: Path, tmp_path: Path) -> None:
    output = tmp_path / "baselines.json"
    run, drawn = run_on_terminal("baselines.py", "--data", tiny_data, "--json", output, "--only", "svm,tree")
    assert run.returncode == 0, drawn[-3000:]
    result = json.loads(output.read_text())
    assert (result["train_faces"], result["test_faces"]) == (15 * 7, 5 * 7)
    assert [row["method"] for row in result["results"]] == ["svm", "tree"]
    for row in result["results"]:
        assert f"{row['accuracy']:10.4f}{row['macro_f1']:10.4f}{row['fit_s']:10.1f}" in run.stdout
    assert [p.name for p in tmp_path.iterdir()] == [output.name]  # no temporary file left behind
    assert drew_a_bar(drawn, 15 * 7) and drew_a_bar(drawn, 5 * 7)  # HOG over the train and test faces
    assert drew_a_bar(drawn, 2)  # the fits


@pytest.mark.parametrize("args, message", [
    (("--data", "no-such-data"), "error: data no-such-data not found"),
    (("--only", "svm,knn"), "--only: expected some of svm,logreg,forest,tree, received 'svm,knn'"),
    (("--json", "no-such-folder/out.json"), "--json: folder no-such-folder does not exist"),
])
def test_bad_input_is_refused_in_one_line(run_script, args: tuple[str, ...], message: str) -> None:
    run = run_script("baselines.py", *args)
    assert run.returncode == 2
    assert message in run.stderr.strip().splitlines()[-1]
