"""The Python API: find every face of a frame and name its emotion.

    >>> detector = EmotionDetector("model_file.h5")
    >>> for face in detector.detect(cv2.imread("photo.jpg")):
    ...     print(face.box, face.emotion, round(face.confidence, 2))

For video, `detector.stream()` follows faces across frames and smooths their labels.
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodlens.emotions.classifier import DEFAULT_TTA, EmotionClassifier
from moodlens.emotions.preprocess import crop_face, to_gray
from moodlens.errors import MoodlensError
from moodlens.faces.cascade import Box, CascadeParams, FaceFinder, suppress_overlaps
from moodlens.faces.scenes import CutDetector
from moodlens.faces.tracking import Tracker

# Measured: on FER2013 faces the Haar box is 84% of the crop's side (benchmarks/face_quality.py,
# framing), so 9% of the box on each side restores the framing the model learned from.
DEFAULT_MARGIN = 0.09
UNCERTAIN = "uncertain"
# detect.py's and the web server's default: on FER2013 test 20.0 % of faces score below it, and the model
# is right on only 35 % of those (69 % on the rest), so they are labelled uncertain (docs/accuracy.md, Uncertain faces).
DEFAULT_THRESHOLD = 0.4
# Measured on the real videos (benchmarks/face_quality.py, docs/detection.md): 0.8 takes fer_woman2's label
# flicker from 13.0 % to 6.5 % for 4 frames of lag when the expression really changes; 0.9 costs 10.
DEFAULT_SMOOTH = 0.8
DEFAULT_REDETECT = 5
# The Haar cascade stays the default: BlazeFace was not measured better on every count (docs/detection.md,
# benchmarks/face_quality.py): over a whole frame it misses every face of a street crowd.
DETECTORS = ("haar", "blazeface")
DEFAULT_DETECTOR = "haar"


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
        detector: "haar" (the cascade, default) or "blazeface" (a DNN, see `blazeface.py`; no cascade).
        margin: border added around each face box, as a fraction of its size.
        threshold: below this top probability a face is labelled "uncertain" (0 never).
        tta, backend, threads: see `classifier.EmotionClassifier`.
    """

    def __init__(self, model_path: Path | str = "model_file.h5", cascade: Path | None = None,
                 params: CascadeParams | None = None, margin: float = DEFAULT_MARGIN,
                 threshold: float = 0.0, tta: bool = DEFAULT_TTA, backend: str = "tflite", threads: int | None = None,
                 detector: str = DEFAULT_DETECTOR):
        # first: a bad cascade file is refused before the model loads
        if detector == "blazeface":
            from moodlens.faces.blazeface import BlazeFaceFinder

            self.faces = BlazeFaceFinder(params, threads)
        elif detector == "haar":
            self.faces = FaceFinder(cascade, params)
        else:
            raise MoodlensError(f"unknown face detector {detector!r} (expected one of {', '.join(DETECTORS)})")
        self.classifier = EmotionClassifier(model_path, tta=tta, backend=backend, threads=threads)
        self.margin, self.threshold = margin, threshold

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Every face found in one frame (BGR, BGRA or gray), largest first."""
        gray = to_gray(frame)
        boxes = self.faces.find(gray)
        return [self.describe(box, p) for box, p in zip(boxes, self.score(gray, boxes))]

    def score(self, gray: np.ndarray, boxes: list[Box], mirrored: bool | None = None) -> np.ndarray:
        """Class probabilities for the faces at `boxes`, in one classifier call (`mirrored`: see
        `EmotionClassifier.scores`)."""
        return self.classifier.classify([crop_face(gray, box, self.margin) for box in boxes], mirrored)

    def describe(self, box: Box, probs: np.ndarray, track: int | None = None) -> Detection:
        top = int(np.argmax(probs))
        emotion = self.labels[top] if probs[top] >= self.threshold else UNCERTAIN
        scores = {name: float(p) for name, p in zip(self.labels, probs)}
        return Detection(box, emotion, float(probs[top]), scores, track)

    def stream(self, smooth: float = DEFAULT_SMOOTH, redetect: int = DEFAULT_REDETECT) -> "FaceStream":
        """A stateful per-video processor; see FaceStream."""
        return FaceStream(self, smooth, redetect)


class SearchSchedule:
    """When a FaceStream searches the whole frame; between two such searches it only follows the
    faces it knows, each in a small window around its last box.

    The whole frame is searched on the first frame, on the first frame of a new shot, and every
    `every` frames, whether or not a face is known (searching every frame while none was known made
    scenes without faces run at the full cascade's speed). A face entering the picture is therefore
    found within `every` frames, at once after a cut.
    """

    def __init__(self, every: int):
        self.every, self.waited = max(every, 1), None

    def full_search(self, cut: bool) -> bool:
        """Whether this frame is searched in full; call once per frame."""
        if cut or self.waited is None or self.waited + 1 >= self.every:
            self.waited = 0
            return True
        self.waited += 1
        return False


# A face the local search missed is looked for in a window this much wider (of its size, each side)
# on the next frames, until found or its track ends: it may have moved further than one frame's step.
LOST_WINDOW = 1.0


class FaceStream:
    """Faces of consecutive video frames: tracked, searched in full only when `SearchSchedule` says
    (every `redetect` frames and at scene cuts), and labelled from scores smoothed over time
    (`smooth`, 0 = off). At a scene cut every track ends: the next shot's faces start afresh.

    With smoothing and mirror averaging on, a frame scores each face once, as it is and as its
    mirror image on alternate frames: the smoothing averages the two views, and classification costs
    half as much (a crowd's faces are most of a frame's time; docs/detection.md, Speed)."""

    def __init__(self, detector: EmotionDetector, smooth: float = DEFAULT_SMOOTH, redetect: int = DEFAULT_REDETECT):
        self.detector, self.smooth = detector, smooth
        self.tracker = Tracker()
        self.schedule = SearchSchedule(redetect)
        self.cuts = CutDetector()
        self.alternate = smooth > 0 and detector.classifier.tta
        self.frames = 0

    def process(self, frame: np.ndarray) -> list[Detection]:
        """The faces of the next frame, each with its track number."""
        gray = to_gray(frame)
        cut = self.cuts(gray)
        if cut:
            self.tracker.end_all()
        tracks = self.tracker.update(self.find_boxes(gray, cut))
        mirrored = self.frames % 2 == 1 if self.alternate else None
        self.frames += 1
        probs = self.detector.score(gray, [t.box for t in tracks], mirrored)
        return [self.detector.describe(t.box, t.smooth(p, self.smooth), t.id) for t, p in zip(tracks, probs)]

    def find_boxes(self, gray: np.ndarray, cut: bool) -> list[Box]:
        """Known faces found again near their last boxes, plus new ones when the schedule says so.

        A known face keeps the box the local search gives it even on whole-frame search frames: the
        two searches size a face slightly differently, and alternating made a still face's box jump.
        """
        faces = self.detector.faces
        followed = [faces.refine(gray, t.box, LOST_WINDOW) if t.misses else faces.refine(gray, t.box)
                    for t in self.tracker.tracks]
        boxes = suppress_overlaps([b for b in followed if b is not None], faces.params.overlap)
        if self.schedule.full_search(cut):
            boxes += faces.find(gray, known=boxes, video=True)
        return boxes


@dataclass(frozen=True)
class DetectorSpec:
    """Everything needed to build an EmotionDetector; small and picklable, so worker processes and Ray
    actors each build their own from it."""

    model: Path
    cascade: Path | None = None
    params: CascadeParams = field(default_factory=CascadeParams)
    margin: float = DEFAULT_MARGIN
    threshold: float = 0.0
    tta: bool = DEFAULT_TTA
    backend: str = "tflite"
    threads: int | None = None
    detector: str = DEFAULT_DETECTOR

    def absolute(self) -> "DetectorSpec":
        """The same with absolute file paths, for workers that run in other folders (Ray on a cluster)."""
        return dataclasses.replace(self, model=self.model.absolute(),
                                   cascade=self.cascade.absolute() if self.cascade else None)

    def build(self) -> EmotionDetector:
        return EmotionDetector(self.model, self.cascade, self.params, margin=self.margin, threshold=self.threshold,
                               tta=self.tta, backend=self.backend, threads=self.threads, detector=self.detector)
