"""Reading a video's frames into memory, for tests that check what happens frame by frame."""

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
