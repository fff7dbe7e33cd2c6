"""Scene cuts on a real talk-show clip: each shot's faces get their own tracks."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from video_helpers import read_frames

from moodlens.detector import EmotionDetector, SearchSchedule
from moodlens.faces.scenes import CutDetector

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


def test_the_whole_frame_is_searched_every_fifth_frame_and_at_cuts_whether_or_not_a_face_is_known() -> None:
    schedule = SearchSchedule(5)
    assert [schedule.full_search(cut=False) for _ in range(11)] == [True, False, False, False, False] * 2 + [True]
    assert schedule.full_search(cut=True) and not schedule.full_search(cut=False)


def test_a_scene_without_faces_is_not_searched_in_full_on_every_frame_by_the_cascade(media: Path) -> None:
    """With no face known, every frame used to be searched in full: a third of a scene where people come
    and go ran at the cascade's speed. (YuNet searches every frame whole: it costs less than following.)"""
    detector = EmotionDetector(COMMITTED_MODEL, detector="haar")
    searched = []
    find = detector.faces.find
    detector.faces.find = lambda gray, **options: searched.append(options) or find(gray, **options)
    stream = detector.stream()
    empty = cv2.imread(str(media / "fer_no-faces.jpg"))
    assert not any(stream.process(empty) for _ in range(10))
    assert len(searched) == 2 and all(options["video"] for options in searched)  # on the video pyramid
