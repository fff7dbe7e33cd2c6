"""Scene cuts: the frame where a video jumps to another shot, so tracks are not handed from one
person to the next.

A cut changes the whole picture at once, so the gray-level histogram of the frame moves far from the
previous frame's; a face moving, talking or a camera pan leaves it nearly the same.
"""

import cv2
import numpy as np

# Bhattacharyya distance between consecutive frames' 32-bin histograms: between the distances of every
# cut of the real clips and of every other frame pair (benchmarks/face_quality.py; docs/detection.md).
CUT_DISTANCE = 0.15
BINS = 32
SUBSAMPLE = 8  # every 8th pixel of every 8th row: the histogram barely changes, the cost is 1/64


def histogram(gray: np.ndarray) -> np.ndarray:
    """The frame's gray-level histogram, from a subsample of its pixels."""
    sample = np.ascontiguousarray(gray[::SUBSAMPLE, ::SUBSAMPLE])
    return cv2.calcHist([sample], [0], None, [BINS], [0, 256])


class CutDetector:
    """Called on each frame in order: True when it starts a new shot (never on the first frame)."""

    def __init__(self, threshold: float = CUT_DISTANCE):
        self.threshold = threshold
        self.previous: np.ndarray | None = None

    def __call__(self, gray: np.ndarray) -> bool:
        current, previous = histogram(gray), self.previous
        self.previous = current
        return previous is not None and cv2.compareHist(previous, current, cv2.HISTCMP_BHATTACHARYYA) > self.threshold
