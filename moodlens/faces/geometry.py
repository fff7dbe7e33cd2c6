"""Face boxes and what the finders share: overlap measures, suppression, growing and clipping boxes.

A `Box` is (x, y, width, height) in frame pixels. A `Face` is a Box that also carries the landmarks
and score a landmark detector (YuNet) gave it: everything that takes a Box takes a Face unchanged.
"""

import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels


class Face(tuple):
    """A Box with `landmarks`, (5, 2) float32 points in frame pixels (the person's right eye, left eye,
    nose tip, right and left mouth corners), and the finder's `score`."""

    landmarks: np.ndarray
    score: float

    def __new__(cls, box: Box, landmarks: np.ndarray, score: float) -> "Face":
        face = super().__new__(cls, box)
        face.landmarks, face.score = landmarks, score
        return face

    def __getnewargs__(self) -> tuple:  # pickled whole, for worker processes
        return tuple(self), self.landmarks, self.score


def landmarks_of(box: Box) -> np.ndarray | None:
    """The landmarks a box carries, or None for a plain Box (the Haar cascade's, BlazeFace's)."""
    return getattr(box, "landmarks", None)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def overlap(a: Box, b: Box) -> float:
    """Intersection area over the smaller box's area."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0) / min(a[2] * a[3], b[2] * b[3])


def suppress_overlaps(boxes: list[Box], limit: float) -> list[Box]:
    """Keep the largest of each group of overlapping boxes."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        if all(overlap(box, k) <= limit for k in kept):
            kept.append(box)
    return kept


def grow(box: Box, factor: float, shape: tuple[int, ...]) -> Box:
    """The box grown by `factor` of its size on each side, cut to the frame."""
    x, y, w, h = box
    left, top = max(round(x - factor * w), 0), max(round(y - factor * h), 0)
    right, bottom = min(round(x + w + factor * w), shape[1]), min(round(y + h + factor * h), shape[0])
    return left, top, right - left, bottom - top


def inside(box: Box, shape: tuple[int, ...]) -> Box:
    """The box cut to the frame: corners scaled back from a shrunk image are rounded apart and can
    land a pixel outside it."""
    left, top = min(max(box[0], 0), shape[1] - 1), min(max(box[1], 0), shape[0] - 1)
    right, bottom = min(box[0] + box[2], shape[1]), min(box[1] + box[3], shape[0])
    return left, top, max(right - left, 1), max(bottom - top, 1)


def scaled_back(found: np.ndarray | tuple, scale: float, origin: tuple[int, int], shape: tuple[int, ...]) -> list[Box]:
    """Boxes found in an image scaled by `scale` whose corner is at `origin` in the frame, in frame pixels."""
    return [inside((round(origin[0] + x / scale), round(origin[1] + y / scale), round(w / scale), round(h / scale)),
                   shape) for x, y, w, h in found]
