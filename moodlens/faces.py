"""Finding faces: OpenCV's Haar cascade, built once, with its detection parameters exposed."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError

DEFAULT_CASCADE = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels


@dataclass
class CascadeParams:
    """Parameters of `CascadeClassifier.detectMultiScale` (the usual tutorial values)."""

    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 30  # pixels, the smallest face side searched for


class FaceFinder:
    """Finds frontal faces in a grayscale frame with a Haar cascade loaded once."""

    def __init__(self, cascade: Path | None = None, params: CascadeParams | None = None):
        path = Path(cascade) if cascade else DEFAULT_CASCADE
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise MoodlensError(f"cannot load face cascade {path}: missing or not a cascade XML")
        self.params = params or CascadeParams()

    def find(self, gray: np.ndarray) -> list[Box]:
        """Face boxes in an 8-bit grayscale frame, largest first."""
        p = self.params
        found = self.cascade.detectMultiScale(
            gray, scaleFactor=p.scale_factor, minNeighbors=p.min_neighbors, minSize=(p.min_size, p.min_size)
        )
        boxes = [tuple(int(v) for v in box) for box in found]
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)
