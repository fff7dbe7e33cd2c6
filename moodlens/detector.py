"""The Python API: find every face of a frame and name its emotion.

    >>> detector = EmotionDetector("model_file.h5")
    >>> for face in detector.detect(cv2.imread("photo.jpg")):
    ...     print(face.box, face.emotion, round(face.confidence, 2))

For video, `detector.stream()` follows faces across frames and smooths their labels.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodlens.classifier import DEFAULT_TTA, EmotionClassifier
from moodlens.faces import Box, CascadeParams, FaceFinder, suppress_overlaps
from moodlens.preprocess import crop_face, to_gray
from moodlens.tracking import Tracker

# Measured: on FER2013 faces the Haar box is 84% of the crop's side (benchmarks/face_framing.py),
# so 9% of the box on each side restores the framing the model learned from.
DEFAULT_MARGIN = 0.09
UNCERTAIN = "uncertain"
# detect.py's and the web server's default: on FER2013 test 14.6 % of faces score below it, and the model
# is right on only 35 % of those (71 % on the rest), so they are labelled uncertain (README).
DEFAULT_THRESHOLD = 0.4
# Measured on the real videos (benchmarks/face_quality.py): 0.8 takes fer_woman2's label flicker
# from 7.0 % to 4.6 % for 4 frames of lag when the expression really changes; 0.9 costs 7 frames.
DEFAULT_SMOOTH = 0.8
DEFAULT_REDETECT = 5


@dataclass
class Detection:
    """One face: its box, the top emotion (or "uncertain"), its probability, every class's score."""

    box: Box
    emotion: str
    confidence: float
    scores: dict[str, float]
    track: int | None = None  # the same number on every frame of one face (video only)


class EmotionDetector:
    """Faces and their emotions in BGR frames, with one classifier call per frame.

    Args:
        model_path: model file written by train.py.
        cascade, params: the face cascade XML and how it searches (see `faces.CascadeParams`).
        margin: border added around each face box, as a fraction of its size.
        threshold: below this top probability a face is labelled "uncertain" (0 never).
        tta, backend, threads: see `classifier.EmotionClassifier`.
    """

    def __init__(self, model_path: Path | str = "model_file.h5", cascade: Path | None = None,
                 params: CascadeParams | None = None, margin: float = DEFAULT_MARGIN,
                 threshold: float = 0.0, tta: bool = DEFAULT_TTA, backend: str = "tflite", threads: int | None = None):
        self.classifier = EmotionClassifier(model_path, tta=tta, backend=backend, threads=threads)
        self.faces = FaceFinder(cascade, params)
        self.margin, self.threshold = margin, threshold

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Every face found in one frame (BGR, BGRA or gray), largest first."""
        gray = to_gray(frame)
        boxes = self.faces.find(gray)
        return [self.describe(box, p) for box, p in zip(boxes, self.score(gray, boxes))]

    def score(self, gray: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """Class probabilities for the faces at `boxes`, in one classifier call."""
        return self.classifier.classify([crop_face(gray, box, self.margin) for box in boxes])

    def describe(self, box: Box, probs: np.ndarray, track: int | None = None) -> Detection:
        top = int(np.argmax(probs))
        emotion = self.labels[top] if probs[top] >= self.threshold else UNCERTAIN
        scores = {name: float(p) for name, p in zip(self.labels, probs)}
        return Detection(box, emotion, float(probs[top]), scores, track)

    def stream(self, smooth: float = DEFAULT_SMOOTH, redetect: int = DEFAULT_REDETECT) -> "FaceStream":
        """A stateful per-video processor; see FaceStream."""
        return FaceStream(self, smooth, redetect)


class FaceStream:
    """Faces of consecutive video frames: tracked, searched in full only every `redetect` frames
    (or when a face is lost), and labelled from scores smoothed over time (`smooth`, 0 = off)."""

    def __init__(self, detector: EmotionDetector, smooth: float = DEFAULT_SMOOTH, redetect: int = DEFAULT_REDETECT):
        self.detector, self.smooth, self.redetect = detector, smooth, max(redetect, 1)
        self.tracker = Tracker()
        self.frames = 0
        self.lost = True  # no face known yet: search the whole frame

    def process(self, frame: np.ndarray) -> list[Detection]:
        """The faces of the next frame, each with its track number."""
        gray = to_gray(frame)
        faces = self.detector.faces
        if self.lost or self.frames % self.redetect == 0:
            boxes, self.lost = faces.find(gray), False
        else:
            refined = [faces.refine(gray, t.box) for t in self.tracker.tracks if t.misses == 0]
            boxes = suppress_overlaps([b for b in refined if b is not None], faces.params.overlap)
            self.lost = len(boxes) < len(refined)
        self.frames += 1
        tracks = self.tracker.update(boxes)
        if not tracks:
            self.lost = True
        probs = self.detector.score(gray, [t.box for t in tracks])
        return [self.detector.describe(t.box, t.smooth(p, self.smooth), t.id) for t, p in zip(tracks, probs)]
