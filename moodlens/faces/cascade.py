"""Finding faces: OpenCV's Haar cascade, built once, with fewer phantoms and a cheap local search.

A full search runs the frontal-face cascade over the frame (scaled so the smallest face searched
for fills the cascade's window), then keeps a candidate only if
  - enough of the cascade's overlapping hits agree on it (`min_neighbors`), or fewer do
    (`weak_neighbors`) and the cascade finds the face again in a small window around it at the
    face's own scale: in a crowd, neighbouring faces split the hits between them, and the scaled-down
    search alone missed real faces that the full-resolution cascade finds, and
  - a second, differently trained cascade (alt2) also sees a face there, and
  - it does not mostly overlap a larger box already kept, and
  - it is not on the body below a face much larger than itself: there a person's clothing hides
    anyone behind, and shirt buttons, collars and jewellery are where the cascade sees phantoms.
No rule drops small faces as a share of the frame: a 1080p street scene holds real 40 px faces
(`min_face` can still ask for one). Between full searches, `refine` follows a known face by
searching a small window around it. Every box returned lies inside the frame.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError
from moodlens.faces.geometry import Box, grow, iou, overlap, scaled_back, suppress_overlaps

CASCADES = Path(cv2.data.haarcascades)
DEFAULT_CASCADE = CASCADES / "haarcascade_frontalface_default.xml"
CHECK_CASCADE = CASCADES / "haarcascade_frontalface_alt2.xml"
SEARCH_WINDOW = 24  # pixels: frames are searched scaled so the smallest face fills the cascade's 24x24 window
TRACK_FACE = 48  # pixels: a tracked face's size in the scaled window `refine` searches
# Scale steps `refine` tries in turn: the coarse grid finds most faces; the cascade fires on some small
# or half-turned faces at only a few scales, which it steps over, and the fine grid (3x the cost) finds those.
REFINE_STEPS = (1.15, 1.05)


@dataclass
class CascadeParams:
    """How faces are searched: `detectMultiScale` parameters and the phantom filters."""

    scale_factor: float = 1.1
    video_scale_factor: float = 1.15  # a video's whole-frame searches (see `FaceFinder.find`)
    min_neighbors: int = 5
    min_size: int = 30  # pixels, the smallest face side searched for
    min_face: float = 0.0  # fraction of the frame's shorter side (0: only `min_size` counts)
    check: bool = True  # confirm each candidate with a second cascade
    overlap: float = 0.3  # boxes sharing more than this of the smaller one are the same face
    weak_neighbors: int = 3  # fewer hits than min_neighbors: kept if a local search finds the face again

    def min_face_pixels(self, shape: tuple[int, ...]) -> int:
        """The smallest face side searched for in a frame of `shape`: min_size, or min_face of its shorter side."""
        return max(self.min_size, round(self.min_face * min(shape[:2])))


# The body below a face of width w: centred under it, BODY_WIDTH w wide, down to BODY_DEPTH w below
# its chin. A candidate there under BODY_FACE of the face's width is clothing, not someone behind.
BODY_WIDTH, BODY_DEPTH, BODY_FACE = 3.0, 3.0, 0.6


def load_cascade(path: Path) -> cv2.CascadeClassifier:
    """The cascade in an OpenCV cascade XML file; MoodlensError if it is missing, empty or malformed."""
    if not path.is_file():
        raise MoodlensError(f"face cascade {path} not found (expected an OpenCV cascade XML file)")
    try:  # a file OpenCV cannot parse comes back as SystemError, not as an empty cascade
        cascade = cv2.CascadeClassifier(str(path))
    except (cv2.error, SystemError):
        cascade = None
    if cascade is None or cascade.empty():
        raise MoodlensError(f"cannot load face cascade {path}: empty, damaged or not a cascade XML")
    return cascade


def on_a_body(box: Box, faces: list[Box]) -> bool:
    """Whether `box` lies on the body below one of `faces` much larger than itself (see BODY_*)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return any(box[2] < BODY_FACE * w and abs(cx - (x + w / 2)) <= BODY_WIDTH * w / 2
               and y + h <= cy <= y + h + BODY_DEPTH * w for x, y, w, h in faces)


class FaceFinder:
    """Finds frontal faces in 8-bit grayscale frames with Haar cascades loaded once."""

    searches_every_frame = False  # a video follows known faces with `refine` between whole-frame searches

    def __init__(self, cascade: Path | None = None, params: CascadeParams | None = None):
        self.cascade = load_cascade(Path(cascade) if cascade else DEFAULT_CASCADE)
        self.params = params or CascadeParams()
        self.checker = load_cascade(CHECK_CASCADE) if self.params.check else None

    def find(self, gray: np.ndarray, known: list[Box] | tuple = (), video: bool = False) -> list[Box]:
        """Face boxes in a whole frame, largest first; candidates on a `known` face are left out
        (a video already follows those: they are neither checked nor returned).

        A `video` frame is searched on a coarser pyramid (`video_scale_factor`: fewer pixels to scan):
        a face it steps over is searched for again a few frames later and then followed, while a photo
        gets one search, on the finer pyramid that finds more faces alone (docs/detection.md, The Haar
        cascade).
        """
        p = self.params
        min_px = p.min_face_pixels(gray.shape)
        scale = min(1.0, SEARCH_WINDOW / min_px)  # a large frame is searched smaller: same faces, less work
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        side = max(round(min_px * scale), 1)
        step = p.video_scale_factor if video else p.scale_factor
        found, hits = self.cascade.detectMultiScale2(small, scaleFactor=step, minSize=(side, side),
                                                     minNeighbors=min(p.weak_neighbors, p.min_neighbors))
        boxes = []
        for box, count in zip(scaled_back(found, scale, (0, 0), gray.shape), hits):
            if count <= p.min_neighbors:  # OpenCV keeps a group of more than min_neighbors hits
                box = self.refine(gray, box, around=0.25)
            if box and all(overlap(box, k) <= p.overlap for k in known) and self.confirmed(gray, box):
                boxes.append(box)
        kept: list[Box] = []
        for box in suppress_overlaps(boxes, p.overlap):  # largest first: the faces whose bodies count
            if not on_a_body(box, kept + list(known)):
                kept.append(box)
        return kept

    def confirmed(self, gray: np.ndarray, box: Box) -> bool:
        """Whether the second cascade also finds a face of about this size here."""
        if self.checker is None:
            return True
        return bool(search_near(self.checker, gray, box, around=0.25, step=1.05, neighbors=2, sizes=(0.6, 1.5)))

    def refine(self, gray: np.ndarray, box: Box, around: float = 0.4) -> Box | None:
        """The face near a known box (the candidate that overlaps it most); None when it is gone.

        Taking the widest candidate instead made a still face's box creep outwards frame by frame.
        """
        for step in REFINE_STEPS:
            found = search_near(self.cascade, gray, box, around=around, step=step, neighbors=3, sizes=(0.75, 1.33))
            if found:
                return max(found, key=lambda b: iou(b, box))
        return None


def search_near(cascade: cv2.CascadeClassifier, gray: np.ndarray, box: Box, around: float, step: float,
                neighbors: int, sizes: tuple[float, float]) -> list[Box]:
    """Faces of about `box`'s size (`sizes` as factors) in the window `around` it, in frame pixels.

    The window is scaled so the face is about TRACK_FACE pixels wide: the search costs the same for
    a near face as for a far one. The scale is rounded to a power of `step`, so a box a few pixels
    wider or narrower is searched on the same grid of sizes and a still face gets the same box
    back (a scale that followed the box exactly let the box and the grid push each other outwards).
    """
    x, y, w, h = grow(box, around, gray.shape)
    if w < 2 or h < 2:
        return []
    scale = min(1.0, step ** round(math.log(TRACK_FACE / box[2], step)))
    window = cv2.resize(gray[y : y + h, x : x + w], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    low, high = (max(round(TRACK_FACE * f), 1) for f in (sizes[0] / step, sizes[1] * step))
    if scale == 1.0:  # a face smaller than TRACK_FACE is searched at its own size
        low, high = (max(round(box[2] * f), 1) for f in sizes)
    found = cascade.detectMultiScale(window, scaleFactor=step, minNeighbors=neighbors,
                                     minSize=(low, low), maxSize=(high, high))
    return scaled_back(found, scale, (x, y), gray.shape)
