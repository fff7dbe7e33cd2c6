"""The Python API: find every face of a frame and name its emotion.

    >>> detector = EmotionDetector("model_file.h5")
    >>> for face in detector.detect(cv2.imread("photo.jpg")):
    ...     print(face.box, face.emotion, round(face.confidence, 2))
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodlens.classifier import EmotionClassifier
from moodlens.faces import Box, CascadeParams, FaceFinder
from moodlens.preprocess import crop_face, to_gray

# Haar boxes hug the eyes-to-mouth region; FER2013 crops show the whole head with a small border.
DEFAULT_MARGIN = 0.1


@dataclass
class Detection:
    """One face: its box in the frame, the top emotion, its probability and every class's score."""

    box: Box
    emotion: str
    confidence: float
    scores: dict[str, float]


class EmotionDetector:
    """Faces and their emotions in BGR frames, with one classifier call per frame."""

    def __init__(
        self,
        model_path: Path | str = "model_file.h5",
        cascade: Path | None = None,
        params: CascadeParams | None = None,
        margin: float = DEFAULT_MARGIN,
        tta: bool = False,
    ):
        self.classifier = EmotionClassifier(model_path, tta=tta)
        self.faces = FaceFinder(cascade, params)
        self.margin = margin

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Every face found in `frame` (BGR, BGRA or gray), largest first."""
        gray = to_gray(frame)
        boxes = self.faces.find(gray)
        probs = self.classifier.classify([crop_face(gray, box, self.margin) for box in boxes])
        return [self._detection(box, p) for box, p in zip(boxes, probs)]

    def _detection(self, box: Box, probs: np.ndarray) -> Detection:
        top = int(np.argmax(probs))
        scores = {name: float(p) for name, p in zip(self.labels, probs)}
        return Detection(box, self.labels[top], float(probs[top]), scores)
