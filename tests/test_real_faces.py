"""Real faces: annotators' votes as training targets, photos through the detect path for evaluation and
training, and performers kept apart between the two."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED, require

from moodlens.detector import EmotionDetector
from moodlens.emotions.preprocess import EYE_LINE, SIDE_PER_SCALE, to_gray
from moodlens.evaluation.measure import evaluate_folder
from moodlens.faces.finders import make_finder, search_view
from moodlens.labels import EMOTIONS
from moodlens.media.images import read_image
from moodlens.training.aligned import align_faces
from moodlens.training.data import load_folder_split
from moodlens.training.ferplus import majority, read_votes, soft_targets
from moodlens.training.group_split import group_split
from moodlens.training.photos import narrowed

MODEL = ROOT / "model_file.h5"


@pytest.fixture(scope="module")
def votes_csv() -> Path:
    return require(SHARED / "fer2013" / "ferplus_votes.csv", "FER+ votes")


@pytest.fixture(scope="module")
def posed() -> Path:
    return require(SHARED / "posed" / "taiwanese", "posed photos")


@pytest.fixture(scope="module")
def few_photos(posed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two photos of each emotion: the first photo of each of the first two performers."""
    target = tmp_path_factory.mktemp("photos")
    for emotion in EMOTIONS:
        (target / emotion).mkdir()
        firsts = {}
        for photo in sorted((posed / emotion).glob("*.jpg")):
            firsts.setdefault(photo.name[:2], photo)
        for photo in list(firsts.values())[:2]:
            shutil.copy(photo, target / emotion / photo.name)
    return target


def test_soft_targets_mix_the_label_with_the_vote_shares(votes_csv: Path) -> None:
    # Real rows: a PublicTest "angry" face that 8 of 10 annotators call neutral, and one of the faces
    # all ten call "not a face".
    files = [Path("test/angry/PublicTest_10116449.jpg"), Path("train/sad/Training_45577250.jpg")]
    votes = read_votes(votes_csv, EMOTIONS)
    targets, keep = soft_targets(files, np.array([0, 5]), len(EMOTIONS), votes, weight=0.5)
    assert keep.tolist() == [True, False]
    expected = {"angry": 0.5 + 0.05, "neutral": 0.4, "sad": 0.05}
    np.testing.assert_allclose(targets[0], [expected.get(e, 0.0) for e in EMOTIONS], atol=1e-6)
    assert majority(files, votes).tolist() == [EMOTIONS.index("neutral"), -1]


def test_train_with_votes_drops_not_a_face_and_learns(copy_faces, train_tiny, votes_csv: Path, tmp_path: Path) -> None:
    data = copy_faces(tmp_path / "data")
    nf = data / "train" / "sad" / "Training_45577250.jpg"  # voted "not a face" by all ten
    shutil.copy(SHARED / "fer2013" / "train" / "sad" / nf.name, nf)
    votes = read_votes(votes_csv, EMOTIONS)
    files = list((data / "train").rglob("*.jpg"))
    kept = sum(1 for f in files if f.name in votes and votes[f.name][-1] <= votes[f.name][:-1].max())
    assert kept < len(files) - 1  # some faces have no votes, one is not a face
    run = train_tiny(data, tmp_path / "m.h5", "--votes", votes_csv)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"votes: {kept} faces with votes, {len(files) - kept} without or not a face dropped" in run.stdout
    assert f"train: {kept} faces" in run.stdout


def test_evaluate_photos_reads_them_through_the_detect_path(few_photos: Path, run_script, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    run = run_script("evaluate.py", "--data", few_photos, "--photos", "--model", MODEL, "--json", report_path)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["images"] == 14 and report["faces_found"] == 14
    assert "faces found in 14 of 14 photos" in run.stdout
    # The scores are the detector's own for the largest face of the photo.
    detector = EmotionDetector(MODEL)
    import cv2

    for record in report["images_detail"][::5]:
        largest = max(detector.detect(cv2.imread(record["file"])), key=lambda d: d.box[2] * d.box[3])
        np.testing.assert_allclose([largest.scores[e] for e in EMOTIONS], record["scores"], atol=1e-4)
    # The committed model knows a posed smile: a label-order mix-up would not.
    assert report["per_class"]["happy"]["recall"] == 1.0


def test_evaluate_folder_cuts_faces_out_with_the_crop_given(few_photos: Path) -> None:
    detector = EmotionDetector(MODEL)
    boxes = []

    def upside_down(gray: np.ndarray, box) -> np.ndarray:
        boxes.append(box)
        return detector.crop(gray, box)[::-1]

    plain = evaluate_folder(detector, few_photos, photos=True)[1]
    turned = evaluate_folder(detector, few_photos, photos=True, crop=upside_down)[1]
    assert len(boxes) == len(plain) == 14  # once per photo, on the face the default path crops:
    for box, record in zip(boxes, turned):
        image = read_image(Path(record["file"]))
        found = detector.faces.find(search_view(detector.faces, image, to_gray(image)))
        assert box == max(found, key=lambda b: b[2] * b[3])
    assert [r["file"] for r in turned] == [r["file"] for r in plain]
    changed = [np.abs(np.subtract(a["scores"], b["scores"])).max() for a, b in zip(plain, turned)]
    assert min(changed) > 1e-3  # every face was scored from the crop given, not detect.py's


def test_evaluate_folder_aligns_crops_for_a_model_that_learned_aligned_faces(tiny_data: Path) -> None:
    """FER2013's crops reach a model framed as it trained on them: aligned on their landmarks after
    train.py --align, as they are otherwise."""
    faces = load_folder_split(tiny_data / "test", EMOTIONS).x
    detector = EmotionDetector(MODEL)
    as_cut = evaluate_folder(detector, tiny_data / "test", photos=False)[1]
    detector.classifier.framing = "aligned"  # as read from a model file trained that way
    aligned = evaluate_folder(detector, tiny_data / "test", photos=False)[1]
    scores = np.array([r["scores"] for r in aligned])
    np.testing.assert_allclose(scores, detector.classifier.scores(align_faces(faces)[0]), atol=1e-4)
    np.testing.assert_allclose([r["scores"] for r in as_cut], detector.classifier.scores(faces), atol=1e-4)
    assert np.abs(scores - np.array([r["scores"] for r in as_cut])).max() > 0.05


def test_a_framing_set_for_a_measurement_reaches_the_crop_the_detector_scores(media: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks/aligned_framing.py measures each side through the detect path: the side it sets must
    reach the crop detect.py scores (one bound at import would measure the same framing each time), and
    only while it is set."""
    monkeypatch.syspath_prepend(ROOT / "benchmarks")
    from aligned_framing import framed

    detector = EmotionDetector(MODEL)
    detector.classifier.framing = "aligned"  # as read from a model file trained that way
    frame = read_image(media / "fr_obama.jpg")
    (found,) = detector.detect(frame)
    gray = to_gray(frame)
    own = detector.crop(gray, found.box)
    with framed(SIDE_PER_SCALE / 2, EYE_LINE):
        tight = detector.crop(gray, found.box)
    # Half the side: the middle half of the face fills the crop, so the eyes and mouth sit apart.
    assert np.abs(tight.astype(int) - own).mean() > 10
    np.testing.assert_array_equal(detector.crop(gray, found.box), own)


def test_group_split_keeps_each_performer_on_one_side(few_photos: Path, tmp_path: Path) -> None:
    held = group_split(few_photos, tmp_path / "split", hold_out=1)
    sides = {part: {p.name[:2] for p in (tmp_path / "split" / part).rglob("*.jpg")} for part in ("train", "held_out")}
    assert sides["held_out"] == set(held) and not sides["train"] & sides["held_out"]
    assert sum(1 for _ in (tmp_path / "split").rglob("*.jpg")) == 14


def test_train_with_extra_photos_adds_their_faces(tiny_data: Path, few_photos: Path, train_tiny, tmp_path: Path
                                                   ) -> None:
    run = train_tiny(tiny_data, tmp_path / "m.h5", "--extra", few_photos, "--extra-repeat", 3)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"extra: 14 faces from {few_photos} (0 photos without a face), x3" in run.stdout
    assert "train: 147 faces" in run.stdout  # 105 + 3 x 14


def face_proportion(image: np.ndarray) -> float:
    """Eye distance over the height from the eyes to the mouth, from YuNet's landmarks on the largest face."""
    finder = make_finder()
    faces = finder.find(search_view(finder, image, to_gray(image)))
    right_eye, left_eye, _, right_mouth, left_mouth = max(faces, key=lambda f: f[2] * f[3]).landmarks
    eyes_to_mouth = (right_eye + left_eye - right_mouth - left_mouth) / 2
    return float(np.linalg.norm(left_eye - right_eye) / np.linalg.norm(eyes_to_mouth))


def test_extra_width_gives_a_stretched_photos_faces_their_proportions_back(few_photos: Path) -> None:
    photo = read_image(next(few_photos.glob("neutral/*.jpg")))
    narrow = narrowed(photo, 0.8)
    assert narrow.shape == (photo.shape[0], round(photo.shape[1] * 0.8), 3)
    # YuNet's landmarks follow a known narrowing only part of the way (about half), but they follow it.
    assert face_proportion(narrow) < 0.95 * face_proportion(photo)
    assert narrowed(photo, 1.0) is photo


def test_train_narrows_extra_photos_and_refuses_to_widen_them(tiny_data: Path, few_photos: Path, train_tiny,
                                                               tmp_path: Path) -> None:
    run = train_tiny(tiny_data, tmp_path / "m.h5", "--extra", few_photos, "--extra-width", 0.96)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"extra: 14 faces from {few_photos} (0 photos without a face), x1" in run.stdout
    wide = train_tiny(tiny_data, tmp_path / "w.h5", "--extra", few_photos, "--extra-width", 1.5)
    assert wide.returncode == 2
    assert wide.stderr.strip().splitlines()[-1].endswith("--extra-width: expected a share of 1 or less, received 1.5")
    assert not (tmp_path / "w.h5").exists()


def test_calibration_error_is_the_gap_between_confidence_and_accuracy() -> None:
    from moodlens.emotions.calibration import expected_calibration_error

    truth = np.array([0] * 8 + [1] * 2)  # 10 faces, all scored 0.8 for class 0: right 8 times in 10
    scores = np.tile([0.8, 0.2], (10, 1))
    assert expected_calibration_error(scores, truth) == pytest.approx(0.0)
    overconfident = np.tile([0.99, 0.01], (10, 1))
    assert expected_calibration_error(overconfident, truth) == pytest.approx(0.19)
    # Two bins: 0.9 confident and always right (gap 0.1), 0.6 confident and right half the time (0.1).
    mixed = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 4)
    assert expected_calibration_error(mixed, np.array([0] * 4 + [0, 1, 0, 1])) == pytest.approx(0.1)


def compare(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_sources.py"), *map(str, files)],
                          capture_output=True, text=True, timeout=60)


def test_compare_sources_refuses_a_candidate_that_falls_beyond_one_standard_error(tmp_path: Path) -> None:
    reference = ROOT / "benchmarks" / "results" / "real_faces.json"
    figures = json.loads(reference.read_text())
    rows = figures["results"][0]["sources"]
    worst = rows[0]
    fer = next(row for row in rows if row["source"] == "FER2013 test")
    worst["accuracy"] += 0.05  # the worst source rises ...
    fer["accuracy"] -= 0.5 * fer["se"]  # ... and FER2013 test falls within its standard error: a gain
    gain = tmp_path / "gain.json"
    gain.write_text(json.dumps(figures))
    fer["accuracy"] -= fer["se"]  # now beyond it: refused, whatever the worst source gained
    loss = tmp_path / "loss.json"
    loss.write_text(json.dumps(figures))

    out = compare(reference, gain, loss)
    assert out.returncode == 0, out.stderr
    verdicts = out.stdout.splitlines()[-2:]
    assert verdicts[0].endswith("falls beyond one SE on no source: may replace it")
    assert "falls beyond one SE on FER2013 test: keep the reference" in verdicts[1]
    assert out.stdout.splitlines()[0].startswith(worst["source"])  # worst source first


def test_compare_sources_names_a_file_without_per_source_figures(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"results": [{"model": "model_file.h5"}]}))
    out = compare(ROOT / "benchmarks" / "results" / "real_faces.json", old)
    assert out.returncode != 0
    message = "error: a file has no per-source figures: measure it again with real_faces.py"
    assert out.stderr.strip().splitlines() == [message]
