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
from moodlens.emotions.preprocess import face_crop, to_gray
from moodlens.faces.cascade import CascadeParams
from moodlens.faces.finders import DEFAULT_DETECTOR, make_finder, search_view
from moodlens.faces.geometry import Box, landmarks_of, suppress_overlaps
from moodlens.faces.pose import head_pose, is_turned
from moodlens.faces.scenes import CutDetector
from moodlens.faces.tracking import Tracker

# The border that gives the Haar box FER2013's framing: the box's share of a FER2013 crop, measured by
# benchmarks/face_quality.py ("framing"; docs/detection.md, Framing).
DEFAULT_MARGIN = 0.09
UNCERTAIN = "uncertain"
# Below this top score the model is right far less often than above it, so such faces are labelled
# uncertain (docs/accuracy.md, Uncertain faces).
DEFAULT_THRESHOLD = 0.4
# Halves a talking face's label flicker for a few frames of lag when the expression really changes
# (benchmarks/face_quality.py; docs/detection.md, Steady labels).
DEFAULT_SMOOTH = 0.8
DEFAULT_REDETECT = 5


@dataclass
class Detection:
    """One face: its box, the top emotion (or "uncertain"), its probability, every class's score; and,
    where the finder gives landmarks (YuNet), the five points, the head's pose and whether the face is
    turned further than the faces the model learned from (its emotion is then less reliable)."""

    box: Box
    emotion: str
    confidence: float
    scores: dict[str, float]
    track: int | None = None  # the same number on every frame of one face (video only)
    landmarks: np.ndarray | None = None  # (5, 2): see faces/pose.py's LANDMARK_NAMES
    pose: dict[str, float] | None = None  # {"roll", "yaw"} in degrees: see faces/pose.py
    turned: bool | None = None

    def record(self) -> dict:
        """This face as the logs and the API give it, ready for JSON."""
        landmarks = None if self.landmarks is None else np.round(self.landmarks.astype(float), 1).tolist()
        return {"track": self.track, "box": [int(v) for v in self.box], "emotion": self.emotion,
                "confidence": round(self.confidence, 4), "scores": {k: round(v, 4) for k, v in self.scores.items()},
                "landmarks": landmarks, "pose": self.pose, "turned": self.turned}


class EmotionDetector:
    """Faces and their emotions in BGR frames, with one classifier call per frame.

    Args:
        model_path: model file written by train.py.
        cascade, params: the face cascade XML and how faces are searched (see `cascade.CascadeParams`).
        detector: "yunet" (a DNN with landmarks, default: see `faces/yunet.py`), "haar" (the cascade) or
            "blazeface" (see `faces/blazeface.py`).
        face_model: YuNet's ONNX file (default: the one shipped in the package).
        margin: border added around each face box, as a fraction of its size.
        threshold: below this top probability a face is labelled "uncertain" (0 never).
        tta, backend, threads: see `classifier.EmotionClassifier`.
    """

    def __init__(self, model_path: Path | str = "model_file.h5", cascade: Path | None = None,
                 params: CascadeParams | None = None, margin: float = DEFAULT_MARGIN,
                 threshold: float = 0.0, tta: bool = DEFAULT_TTA, backend: str = "tflite", threads: int | None = None,
                 detector: str = DEFAULT_DETECTOR, face_model: Path | None = None):
        # first: a bad cascade or face model file is refused before the model loads
        self.faces = make_finder(detector, params, cascade, face_model, threads)
        self.classifier = EmotionClassifier(model_path, tta=tta, backend=backend, threads=threads)
        self.margin, self.threshold = margin, threshold

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Every face found in one frame (BGR, BGRA or gray), largest first."""
        gray = to_gray(frame)
        boxes = self.faces.find(search_view(self.faces, frame, gray))
        return [self.describe(box, p) for box, p in zip(boxes, self.score(gray, boxes))]

    def score(self, gray: np.ndarray, boxes: list[Box], mirrored: bool | None = None) -> np.ndarray:
        """Class probabilities for the faces at `boxes`, in one classifier call (`mirrored`: see
        `EmotionClassifier.scores`)."""
        return self.classifier.classify([self.crop(gray, box) for box in boxes], mirrored)

    def crop(self, gray: np.ndarray, box: Box) -> np.ndarray:
        """The face as the classifier reads it, framed as its model learned (see `preprocess.face_crop`)."""
        return face_crop(gray, box, self.margin, self.classifier.framing == "aligned")

    def describe(self, box: Box, probs: np.ndarray, track: int | None = None) -> Detection:
        top = int(np.argmax(probs))
        emotion = self.labels[top] if probs[top] >= self.threshold else UNCERTAIN
        scores = {name: float(p) for name, p in zip(self.labels, probs)}
        landmarks = landmarks_of(box)
        if landmarks is None:
            return Detection(box, emotion, float(probs[top]), scores, track)
        pose = head_pose(landmarks)
        return Detection(box, emotion, float(probs[top]), scores, track, landmarks, pose, is_turned(pose))

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
        tracks = self.tracker.update(self.find_boxes(search_view(self.detector.faces, frame, gray), cut))
        mirrored = self.frames % 2 == 1 if self.alternate else None
        self.frames += 1
        probs = self.detector.score(gray, [t.box for t in tracks], mirrored)
        return [self.detector.describe(t.box, t.smooth(p, self.smooth), t.id) for t, p in zip(tracks, probs)]

    def find_boxes(self, image: np.ndarray, cut: bool) -> list[Box]:
        """Known faces found again near their last boxes, plus new ones when the schedule says so; a
        finder that searches every frame (YuNet) finds them all there, and the tracker matches them.

        A known face keeps the box the local search gives it even on whole-frame search frames: the
        two searches size a face slightly differently, and alternating made a still face's box jump.
        """
        faces = self.detector.faces
        if faces.searches_every_frame:
            return faces.find(image, video=True)
        followed = [faces.refine(image, t.box, LOST_WINDOW) if t.misses else faces.refine(image, t.box)
                    for t in self.tracker.tracks]
        boxes = suppress_overlaps([b for b in followed if b is not None], faces.params.overlap)
        if self.schedule.full_search(cut):
            boxes += faces.find(image, known=boxes, video=True)
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
    face_model: Path | None = None

    def absolute(self) -> "DetectorSpec":
        """The same with absolute file paths, for workers that run in other folders (Ray on a cluster)."""
        return dataclasses.replace(self, model=self.model.absolute(),
                                   cascade=self.cascade.absolute() if self.cascade else None,
                                   face_model=self.face_model.absolute() if self.face_model else None)

    def build(self) -> EmotionDetector:
        return EmotionDetector(self.model, self.cascade, self.params, margin=self.margin, threshold=self.threshold,
                               tta=self.tta, backend=self.backend, threads=self.threads, detector=self.detector,
                               face_model=self.face_model)
