"""Finding faces: OpenCV's Haar cascade, built once, with fewer phantoms and a cheap local search.

A full search runs the frontal-face cascade over the frame, then keeps a candidate only if
  - it is at least `min_face` of the frame's shorter side (clothing patterns in big photos are
    small next to the frame; a fixed pixel minimum would not scale with the image),
  - a second, differently trained cascade (alt2) also sees a face there, and
  - it does not mostly overlap a larger box already kept.
Between full searches, `refine` follows a known face by searching a small window around it.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError

CASCADES = Path(cv2.data.haarcascades)
DEFAULT_CASCADE = CASCADES / "haarcascade_frontalface_default.xml"
CHECK_CASCADE = CASCADES / "haarcascade_frontalface_alt2.xml"
SEARCH_WINDOW = 24  # pixels: frames are searched scaled so the smallest face fills the cascade's 24x24 window
TRACK_FACE = 48  # pixels: a tracked face's size in the scaled window `refine` searches

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels


@dataclass
class CascadeParams:
    """How faces are searched: `detectMultiScale` parameters and the phantom filters."""

    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 30  # pixels, the smallest face side searched for
    min_face: float = 0.06  # fraction of the frame's shorter side: about 3 m from a VGA webcam
    check: bool = True  # confirm each candidate with a second cascade
    overlap: float = 0.3  # boxes sharing more than this of the smaller one are the same face


def load_cascade(path: Path) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise MoodlensError(f"cannot load face cascade {path}: missing or not a cascade XML")
    return cascade


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


class FaceFinder:
    """Finds frontal faces in 8-bit grayscale frames with Haar cascades loaded once."""

    def __init__(self, cascade: Path | None = None, params: CascadeParams | None = None):
        self.cascade = load_cascade(Path(cascade) if cascade else DEFAULT_CASCADE)
        self.params = params or CascadeParams()
        self.checker = load_cascade(CHECK_CASCADE) if self.params.check else None

    def min_face_pixels(self, shape: tuple[int, ...]) -> int:
        return max(self.params.min_size, round(self.params.min_face * min(shape[:2])))

    def find(self, gray: np.ndarray) -> list[Box]:
        """Face boxes in a whole frame, largest first."""
        p = self.params
        min_px = self.min_face_pixels(gray.shape)
        scale = min(1.0, SEARCH_WINDOW / min_px)  # a large frame is searched smaller: same faces, less work
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        side = max(round(min_px * scale), 1)
        found = self.cascade.detectMultiScale(small, scaleFactor=p.scale_factor, minNeighbors=p.min_neighbors,
                                              minSize=(side, side))
        boxes = [tuple(round(v / scale) for v in box) for box in found]
        boxes = [b for b in boxes if self.confirmed(gray, b)]
        return suppress_overlaps(boxes, p.overlap)

    def confirmed(self, gray: np.ndarray, box: Box) -> bool:
        """Whether the second cascade also finds a face of about this size here."""
        if self.checker is None:
            return True
        return bool(search_near(self.checker, gray, box, around=0.25, step=1.05, neighbors=2, sizes=(0.6, 1.5)))

    def refine(self, gray: np.ndarray, box: Box) -> Box | None:
        """The face near a known box; None when it is gone."""
        found = search_near(self.cascade, gray, box, around=0.4, step=1.15, neighbors=3, sizes=(0.75, 1.33))
        return max(found, key=lambda b: b[2]) if found else None


def search_near(cascade: cv2.CascadeClassifier, gray: np.ndarray, box: Box, around: float, step: float,
                neighbors: int, sizes: tuple[float, float]) -> list[Box]:
    """Faces of about `box`'s size (`sizes` as factors) in the window `around` it, in frame pixels.

    The window is scaled so the face is TRACK_FACE pixels wide: the search costs the same for a
    near face as for a far one.
    """
    x, y, w, h = grow(box, around, gray.shape)
    if w < 2 or h < 2:
        return []
    scale = min(1.0, TRACK_FACE / box[2])
    window = cv2.resize(gray[y : y + h, x : x + w], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    low, high = (max(round(box[2] * scale * f), 1) for f in sizes)
    found = cascade.detectMultiScale(window, scaleFactor=step, minNeighbors=neighbors,
                                     minSize=(low, low), maxSize=(high, high))
    return [(round(x + fx / scale), round(y + fy / scale), round(fw / scale), round(fh / scale))
            for fx, fy, fw, fh in found]
