"""The DNN face finder (`--detector blazeface`) on real photos and a real video, and end to end."""

from pathlib import Path

import cv2
import pytest
from errors_helpers import call_script
from video_helpers import read_frames

from moodlens.detector import EmotionDetector
from moodlens.faces.blazeface import BlazeFaceFinder

COMMITTED_MODEL = Path(__file__).resolve().parents[1] / "model_file.h5"
PHOTO_FACES = {"fr_obama.jpg": 1, "fr_two_people.jpg": 2, "fer_justin.jpg": 1, "fer_no-faces.jpg": 0}


@pytest.fixture(scope="module")
def finder() -> BlazeFaceFinder:
    return BlazeFaceFinder()


@pytest.mark.parametrize(("name", "faces"), PHOTO_FACES.items())
def test_blazeface_counts_the_faces_of_real_photos(name: str, faces: int, finder: BlazeFaceFinder,
                                                   media: Path) -> None:
    gray = cv2.imread(str(media / name), cv2.IMREAD_GRAYSCALE)
    boxes = finder.find(gray)
    assert len(boxes) == faces
    for x, y, w, h in boxes:
        assert 0 <= x and 0 <= y and x + w <= gray.shape[1] and y + h <= gray.shape[0]


def test_blazeface_follows_the_face_of_a_real_video(media: Path) -> None:
    stream = EmotionDetector(COMMITTED_MODEL, detector="blazeface").stream()
    faces_per_frame = [stream.process(frame) for frame in read_frames(media / "huimiang_1543684773.avi")]
    assert sum(len(faces) == 1 for faces in faces_per_frame) >= 0.95 * len(faces_per_frame)
    assert {face.track for faces in faces_per_frame for face in faces} == {1}


def test_detect_runs_with_blazeface(media: Path) -> None:
    outcome = call_script("detect.py", "--no-window", "--source", media / "fr_two_people.jpg", "--model",
                          COMMITTED_MODEL, "--detector", "blazeface")
    assert outcome.code == 0, outcome.stderr
    assert "2 faces" in outcome.stdout
