"""The default face finder: YuNet (Shiqi Yu's tiny detector, 2023mar), run natively by OpenCV's
`FaceDetectorYN`, with five landmarks per face (the eyes, the nose tip, the mouth's corners).

Its weights ship beside this file (`models/`, with their licences and provenance); nothing is
downloaded. YuNet reads faces of about 10 to 300 pixels, so a frame is searched on a short pyramid:
first scaled so that the smallest face wanted comes out SMALLEST pixels wide, then at a quarter of
that size for faces too large for the first pass, and so on while the image can hold a face. A face
found on two passes keeps its best-scoring box. Every box it returns is a `geometry.Face`, carrying
its landmarks and score.
"""

from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError
from moodlens.faces.cascade import CascadeParams
from moodlens.faces.geometry import Box, Face, inside, overlap

MODEL = Path(__file__).with_name("models") / "face_detection_yunet_2023mar.onnx"
SMALLEST = 15  # pixels: the smallest face wanted is searched at this size (YuNet finds faces from about 10)
PASS_STEP = 4  # each further pass searches at a quarter of the size: one pass spans 10 to 300 px faces
SMALLEST_IMAGE = 32  # pixels: no further pass on an image shorter than this
# pixels: the first pass sees the image at least this tall, enlarged if need be, so a face that fills a
# small image (a face crop) is found: measured on FER2013's 48x48 crops (docs/detection.md, YuNet's settings).
FIRST_PASS_SHORT_SIDE = 128
NMS_IOU = 0.3  # YuNet's own suppression of overlapping boxes within a pass
PHOTO_SCORE = 0.6  # the score a face needs: chosen on the hand-counted frames and photos (docs/detection.md)
VIDEO_SCORE = 0.6


def load_yunet(path: Path | None = None) -> cv2.FaceDetectorYN:
    """YuNet from its ONNX file (the shipped one by default); MoodlensError if missing, empty or damaged."""
    path = Path(path) if path else MODEL
    if not path.is_file():
        raise MoodlensError(f"face model {path} not found (expected YuNet's ONNX file)")
    try:
        return cv2.FaceDetectorYN.create(str(path), "", (320, 320), PHOTO_SCORE, NMS_IOU, 5000)
    except cv2.error:
        raise MoodlensError(f"cannot load face model {path}: empty, damaged or not YuNet's ONNX file") from None


class YuNetFinder:
    """Finds faces with YuNet, loaded once, in BGR frames (or gray ones, given on three channels)."""

    color = True  # it reads colour: gray frames cost it real faces (docs/detection.md, YuNet's settings)
    # A video's every frame is searched whole: at the pyramid's scale that costs less than following each
    # face with local searches, and found more faces on the hand-counted frames (docs/detection.md).
    searches_every_frame = True

    def __init__(self, params: CascadeParams | None = None, model: Path | None = None):
        self.params = params or CascadeParams()  # min_size, min_face and overlap apply
        self.net = load_yunet(model)

    def detect(self, image: np.ndarray, scale: float, score: float) -> list[Face]:
        """Faces of `image` searched at `scale` with a score of at least `score`, in `image`'s pixels."""
        shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=shrink)
        if small.ndim == 2:
            small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        self.net.setInputSize((small.shape[1], small.shape[0]))
        self.net.setScoreThreshold(score)
        _, rows = self.net.detect(small)
        faces = []
        for row in rows if rows is not None else []:
            if not np.isfinite(row).all():  # seen on some flat gray photos: a row of infinities, no face
                continue
            box = inside(tuple(round(v / scale) for v in row[:4]), image.shape)
            landmarks = (row[4:14].reshape(5, 2) / np.float32(scale)).astype(np.float32)
            faces.append(Face(box, landmarks, float(row[14])))
        return faces

    def find(self, image: np.ndarray, known: list[Box] | tuple = (), video: bool = False) -> list[Face]:
        """Faces in a whole frame, largest first; faces on a `known` box are left out."""
        min_px = self.params.min_face_pixels(image.shape)
        score = VIDEO_SCORE if video else PHOTO_SCORE
        found = [face for scale in pass_scales(image.shape, min_px) for face in self.detect(image, scale, score)]
        faces = best_of_overlapping(found, self.params.overlap)
        faces = [f for f in faces if f[2] >= min_px and all(overlap(f, k) <= self.params.overlap for k in known)]
        return sorted(faces, key=lambda f: f[2] * f[3], reverse=True)


def pass_scales(shape: tuple[int, ...], min_px: int) -> list[float]:
    """The pyramid's scales: the smallest face wanted at SMALLEST pixels (a large frame is not enlarged; a
    small image is, to FIRST_PASS_SHORT_SIDE), then each pass PASS_STEP times smaller while the image
    stays SMALLEST_IMAGE pixels or taller."""
    short = min(shape[:2])
    scales = [max(min(1.0, SMALLEST / min_px), FIRST_PASS_SHORT_SIDE / short)]
    while short * scales[-1] / PASS_STEP >= SMALLEST_IMAGE:
        scales.append(scales[-1] / PASS_STEP)
    return scales


def best_of_overlapping(faces: list[Face], limit: float) -> list[Face]:
    """The best-scoring face of each group of overlapping faces (one face found on two passes)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(overlap(face, k) <= limit for k in kept):
            kept.append(face)
    return kept
