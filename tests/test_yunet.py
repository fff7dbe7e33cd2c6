"""YuNet, the default face finder: faces on real photos, landmarks, the aligned crop, head pose, the
records that carry them, and a bad face model file refused in one line."""

import json
import pickle
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from errors_helpers import assert_one_line_error, assert_usage_error, run_script

from moodlens.detector import EmotionDetector
from moodlens.emotions.modelio import read_framing
from moodlens.emotions.preprocess import EYE_LINE, FACE_SIZE, SIDE_PER_SCALE, aligned_crop
from moodlens.errors import MoodlensError
from moodlens.faces.pose import NOSE_DEPTH, TURNED_YAW, head_pose
from moodlens.faces.yunet import MODEL, YuNetFinder, load_yunet

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_MODEL = ROOT / "model_file.h5"
# What a person sees on the photos of ../shared/media (its README); the stock cascade boxes clothing on two.
PHOTO_FACES = {"fr_two_people.jpg": 2, "fr_kit_with_rose.jpg": 2, "deepface_img3.jpg": 1, "fr_obama.jpg": 1,
               "fer_no-faces.jpg": 0}


@pytest.fixture(scope="module")
def finder() -> YuNetFinder:
    return YuNetFinder()


def photo(media: Path, name: str) -> np.ndarray:
    return cv2.imread(str(media / name))


@pytest.mark.parametrize("name", PHOTO_FACES)
def test_yunet_finds_the_faces_a_person_sees_on_real_photos(finder: YuNetFinder, media: Path, name: str) -> None:
    assert len(finder.find(photo(media, name))) == PHOTO_FACES[name]


def test_each_face_carries_landmarks_in_face_order(finder: YuNetFinder, media: Path) -> None:
    for face in finder.find(photo(media, "fr_two_people.jpg")):
        x, y, w, h = face
        right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
        assert all(x <= px <= x + w and y <= py <= y + h for px, py in face.landmarks)
        assert right_eye[0] < left_eye[0] and right_mouth[0] < left_mouth[0]  # the person's right is on the left
        assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])
        assert 0.6 <= face.score <= 1


def test_a_face_far_larger_than_yunets_range_is_found_on_a_smaller_pass(finder: YuNetFinder, media: Path) -> None:
    image = photo(media, "fer_justin.jpg")
    large = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)  # its face about 650 px wide
    faces = finder.find(large)
    assert len(faces) == 1 and faces[0][2] > 400


def test_a_face_survives_pickling_with_its_landmarks(finder: YuNetFinder, media: Path) -> None:
    face = finder.find(photo(media, "fr_obama.jpg"))[0]
    copy = pickle.loads(pickle.dumps(face))
    assert tuple(copy) == tuple(face) and copy.score == face.score
    np.testing.assert_array_equal(copy.landmarks, face.landmarks)


def test_the_aligned_crop_levels_the_eyes_and_places_them_as_fer2013_does() -> None:
    """Two bright dots as eyes on a tilted line: after the crop they are level, centred, at EYE_LINE, and
    as far apart as the framing says."""
    image = np.zeros((400, 400), np.uint8)
    eyes = np.array([[150.0, 200.0], [230.0, 240.0]])  # tilted by atan(40 / 80) = 26.6 degrees
    for x, y in eyes:
        cv2.circle(image, (int(x), int(y)), 4, 255, -1)
    mouth = eyes.mean(axis=0) + [-20.0, 40.0]  # nearer than the eyes are to each other: the eyes set the scale
    landmarks = np.array([eyes[0], eyes[1], eyes.mean(axis=0) + [-10, 20], mouth - [20, 0], mouth + [20, 0]],
                         np.float32)
    crop = aligned_crop(image, landmarks).astype(float)
    ys, xs = np.nonzero(crop > 100)
    left, right = xs < FACE_SIZE / 2, xs >= FACE_SIZE / 2
    centres = [(np.average(xs[s], weights=crop[ys[s], xs[s]]), np.average(ys[s], weights=crop[ys[s], xs[s]]))
               for s in (left, right)]
    (x0, y0), (x1, y1) = centres
    assert abs(y0 - y1) < 1.0  # level
    assert (x0 + x1) / 2 == pytest.approx(FACE_SIZE / 2 - 0.5, abs=1.0)
    assert (y0 + y1) / 2 == pytest.approx(FACE_SIZE * EYE_LINE - 0.5, abs=1.0)
    assert x1 - x0 == pytest.approx(FACE_SIZE / SIDE_PER_SCALE, abs=1.0)


def test_the_aligned_crop_of_a_large_face_matches_the_crop_of_the_same_face_made_small() -> None:
    """A big face is area-averaged before the turn: its crop is the small face's crop, not an aliased one."""
    rng = np.random.default_rng(0)
    small = cv2.GaussianBlur(rng.integers(0, 256, (120, 120), dtype=np.uint8), (5, 5), 2)
    big = cv2.resize(small, None, fx=8, fy=8, interpolation=cv2.INTER_CUBIC)
    landmarks = np.array([[45, 50], [75, 52], [60, 70], [48, 85], [72, 86]], np.float32)
    difference = np.abs(aligned_crop(big, landmarks * 8).astype(int) - aligned_crop(small, landmarks).astype(int))
    assert difference.mean() < 6


def test_head_pose_from_landmarks_of_known_geometry() -> None:
    def landmarks(nose_offset: float, tilt: float) -> np.ndarray:
        eye_line = np.array([np.cos(np.radians(tilt)), np.sin(np.radians(tilt))])
        down = np.array([-eye_line[1], eye_line[0]])
        centre = np.array([100.0, 100.0])
        points = [centre - 20 * eye_line, centre + 20 * eye_line, centre + 40 * nose_offset * eye_line + 20 * down,
                  centre - 15 * eye_line + 40 * down, centre + 15 * eye_line + 40 * down]
        return np.array(points, np.float32)

    assert head_pose(landmarks(0.0, 0.0)) == {"roll": 0.0, "yaw": 0.0}
    assert head_pose(landmarks(0.0, 12.0))["roll"] == pytest.approx(12.0, abs=0.1)
    turned = head_pose(landmarks(NOSE_DEPTH, 12.0))  # the nose one NOSE_DEPTH off: tan(yaw) = 1
    assert turned["yaw"] == pytest.approx(45.0, abs=0.1) and turned["roll"] == pytest.approx(12.0, abs=0.1)
    assert head_pose(landmarks(-NOSE_DEPTH, 0.0))["yaw"] == pytest.approx(-45.0, abs=0.1)


def test_a_photos_records_carry_landmarks_pose_and_the_turned_flag(media: Path, tmp_path: Path) -> None:
    jsonl, csv_log = tmp_path / "faces.jsonl", tmp_path / "faces.csv"
    for log in (jsonl, csv_log):
        done = run_script("detect.py", "--source", media / "fr_two_people.jpg", "--no-window", "--log", log)
        assert done.code == 0, done.stderr
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        assert len(record["landmarks"]) == 5 and set(record["pose"]) == {"roll", "yaw"}
        assert record["turned"] is (abs(record["pose"]["yaw"]) > TURNED_YAW)
    header, *rows = [line.split(",") for line in csv_log.read_text().splitlines()]
    assert {"roll", "yaw", "turned", "right_eye_x", "left_mouth_y"} <= set(header) and len(rows) == 2


def test_haar_faces_have_no_landmarks_in_the_records(media: Path, tmp_path: Path) -> None:
    log = tmp_path / "faces.jsonl"
    done = run_script("detect.py", "--source", media / "fr_two_people.jpg", "--no-window", "--detector", "haar",
                      "--log", log)
    assert done.code == 0, done.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records and all(r["landmarks"] is None and r["pose"] is None and r["turned"] is None for r in records)


@pytest.mark.parametrize("content", [None, b"", b"not an onnx file at all" * 40])
def test_a_missing_empty_or_damaged_face_model_is_one_line(media: Path, tmp_path: Path, content: bytes | None) -> None:
    model = tmp_path / "yunet.onnx"
    if content is not None:
        model.write_bytes(content)
    with pytest.raises(MoodlensError, match="face model"):
        load_yunet(model)
    outcome = run_script("detect.py", "--source", media / "fr_obama.jpg", "--no-window", "--face-model", model)
    assert_one_line_error(outcome, "face model", model.name)


def test_a_damaged_shipped_face_model_is_one_line(media: Path, tmp_path: Path, monkeypatch) -> None:
    damaged = tmp_path / MODEL.name
    damaged.write_bytes(MODEL.read_bytes()[: MODEL.stat().st_size // 2])
    monkeypatch.setattr("moodlens.faces.yunet.MODEL", damaged)
    with pytest.raises(MoodlensError, match="damaged"):
        EmotionDetector(COMMITTED_MODEL)


def test_a_copy_of_the_shipped_face_model_loads_by_option(media: Path, tmp_path: Path) -> None:
    copy = shutil.copy(MODEL, tmp_path / "yunet.onnx")
    done = run_script("detect.py", "--source", media / "fr_kit_with_rose.jpg", "--no-window", "--face-model", copy)
    assert done.code == 0 and "2 faces" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("args, needle", [
    (("--detector", "blazeface", "--cascade", "x.xml"), "--cascade: applies to --detector haar, not blazeface"),
    (("--detector", "blazeface", "--no-check"), "--no-check"),
    (("--scale-factor", "1.2"), "--scale-factor: applies to --detector haar, not yunet"),
    (("--redetect", "3"), "--redetect: applies to --detector haar or blazeface, not yunet"),
    (("--detector", "haar", "--face-model", "y.onnx"), "--face-model: applies to --detector yunet, not haar"),
])
def test_options_the_chosen_finder_does_not_read_are_refused(media: Path, args: tuple, needle: str) -> None:
    outcome = run_script("detect.py", "--source", media / "fr_obama.jpg", "--no-window", *args)
    assert_usage_error(outcome, "detect.py", needle)


def test_blazeface_applies_min_face(media: Path) -> None:
    image = photo(media, "fr_two_people.jpg")
    every = EmotionDetector(COMMITTED_MODEL, detector="blazeface")
    assert len(every.detect(image)) == 2
    large_only = EmotionDetector(COMMITTED_MODEL, detector="blazeface")
    large_only.faces.params.min_face = 0.5  # both faces are about a third of the photo's height
    assert large_only.detect(image) == []


def test_train_py_align_frames_the_faces_by_landmarks_and_records_it(tiny_data: Path, train_tiny, tiny_model,
                                                                     tmp_path: Path) -> None:
    output = tmp_path / "aligned.h5"
    run = train_tiny(tiny_data, output, "--align")
    assert run.returncode == 0, run.stderr[-3000:]
    aligned = re.search(r"align: (\d+) of (\d+) faces aligned", run.stdout)
    assert aligned and int(aligned[2]) == 105 and int(aligned[1]) >= 90  # 15 faces a class; YuNet finds most
    assert read_framing(output) == "aligned" and read_framing(tiny_model.path) == "box"
    assert EmotionDetector(output).classifier.framing == "aligned"
