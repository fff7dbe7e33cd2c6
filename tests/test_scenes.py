"""Scene cuts on a real talk-show clip: each shot's faces get their own tracks."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from video_helpers import read_frames

from moodlens.detector import EmotionDetector
from moodlens.scenes import CutDetector

COMMITTED_MODEL = Path(__file__).resolve().parents[1] / "model_file.h5"
SOFA = "norton_sofa.mp4"
FIRST, LAST = 360, 620  # a stretch where one track ran through six people (frames 370-614)
CUTS = [370, 416, 449, 491, 539, 589]  # the frames that start a new shot, found by eye


@pytest.fixture(scope="module")
def sofa(media: Path) -> list[np.ndarray]:
    return read_frames(media / SOFA, limit=LAST)[FIRST:]


def test_cuts_found_are_the_cuts_a_person_sees(sofa: list[np.ndarray], media: Path) -> None:
    cuts = CutDetector()
    assert [FIRST + i for i, frame in enumerate(sofa) if cuts(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))] == CUTS
    talking = CutDetector()
    assert not any(talking(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)) for f in read_frames(media / "fer_woman2.mp4"))


def test_no_track_runs_across_a_scene_cut(sofa: list[np.ndarray]) -> None:
    stream = EmotionDetector(COMMITTED_MODEL).stream()
    spans: dict[int, list[int]] = {}
    for i, frame in enumerate(sofa):
        for face in stream.process(frame):
            spans.setdefault(face.track, [FIRST + i, FIRST + i])[1] = FIRST + i
    assert len(spans) >= len(CUTS)  # every shot has a face
    across = {track: span for track, span in spans.items() if any(span[0] < cut <= span[1] for cut in CUTS)}
    assert not across, f"tracks running across a cut (first, last frame): {across}"
