"""Reading a video's frames into memory, for tests that check what happens frame by frame, and
counting a written video's frames."""

from pathlib import Path

import cv2
import numpy as np


def read_frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    """The first `limit` frames of a video (all of them by default), BGR."""
    capture, frames = cv2.VideoCapture(str(path)), []
    while limit is None or len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def frame_count(video: Path) -> int:
    """The frames a video file's index holds; 0 for a file that does not open."""
    capture = cv2.VideoCapture(str(video))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
