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


def mjpg_clip(video: Path, path: Path, frames: int) -> Path:
    """The first `frames` frames of a real video at 360x240 in MJPG (each frame its own JPEG), at `path`."""
    source = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (360, 240))
    for _ in range(frames):
        ok, frame = source.read()
        assert ok
        writer.write(cv2.resize(frame, (360, 240), interpolation=cv2.INTER_AREA))
    writer.release()
    source.release()
    return path
