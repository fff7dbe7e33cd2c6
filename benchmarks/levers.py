"""Issue 10's levers that need no training, measured on one model beside detect.py's default path.

    python benchmarks/levers.py [--model model_file.h5] [--json benchmarks/results/levers.json]

- shifted views: each face scored at 5 positions (as found, and moved 3 pixels left, right, up and
  down, the edge pixels repeated), each with its mirror, and the 10 scores averaged: the multi-crop
  average of the published FER2013 networks, in a form that fits a model trained on whole 48x48
  faces with shifts of up to 10 %. It costs 5 times the default path's model calls.
- levelled eyes (photos only): OpenCV's eye cascade looks for the two eyes in the upper half of
  the face found; where it finds one on each side, the photo is turned about the face's centre so
  that they are level before the face is cropped. FER2013's 48x48 crops are not levelled: the eye
  cascade needs larger eyes, and the data set's faces are roughly upright already.
Figures as in `real_faces.py`: FER2013 test (original labels and FER+ majority) and the posed photos.
"""

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from common import ROOT
from real_faces import POSED, SHARED, fer2013_figures, posed_figures

from moodlens.detector import EmotionDetector
from moodlens.emotions.preprocess import crop_face
from moodlens.evaluation.measure import evaluate_folder
from moodlens.faces.geometry import Box
from moodlens.media.outputs import write_json

SHIFT = 3  # pixels of the 48x48 face
EYES = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_eye.xml"))
MAX_TILT = 30.0  # degrees: a steeper pair of "eyes" is an eyebrow or a nostril


class ShiftedViews:
    """A classifier's scores averaged over the face moved by SHIFT pixels each way (and as it is)."""

    def __init__(self, classifier):
        self.classifier = classifier
        self.labels = classifier.labels
        self.framing = classifier.framing  # the views are cut from the face as the model learned it

    def scores(self, faces: np.ndarray) -> np.ndarray:
        padded = np.pad(faces, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), mode="edge")
        size = faces.shape[1]
        offsets = [(SHIFT, SHIFT), (0, SHIFT), (2 * SHIFT, SHIFT), (SHIFT, 0), (SHIFT, 2 * SHIFT)]
        views = [self.classifier.scores(padded[:, y : y + size, x : x + size]) for y, x in offsets]
        return np.mean(views, axis=0)


def eye_tilt(gray: np.ndarray, box: Box) -> float | None:
    """The angle in degrees of the line between the eyes found in the upper half of `box`, or None."""
    x, y, w, h = box
    upper = gray[y : y + h // 2, x : x + w]
    eyes = EYES.detectMultiScale(upper, scaleFactor=1.1, minNeighbors=5, minSize=(w // 10, w // 10))
    left = [e for e in eyes if e[0] + e[2] / 2 < w / 2]
    right = [e for e in eyes if e[0] + e[2] / 2 >= w / 2]
    if not left or not right:
        return None
    (lx, ly, lw, lh), (rx, ry, rw, rh) = (max(side, key=lambda e: e[2]) for side in (left, right))
    tilt = math.degrees(math.atan2((ry + rh / 2) - (ly + lh / 2), (rx + rw / 2) - (lx + lw / 2)))
    return tilt if abs(tilt) <= MAX_TILT else None


class LevelledCrop:
    """detect.py's crop of the face at `box`, from the photo turned so the face's eyes are level;
    `tilts` keeps the angle of every face levelled."""

    def __init__(self, margin: float):
        self.margin, self.tilts = margin, []

    def __call__(self, gray: np.ndarray, box: Box) -> np.ndarray:
        tilt = eye_tilt(gray, box)
        if tilt is not None:
            self.tilts.append(tilt)
            x, y, w, h = box
            turn = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), tilt, 1.0)
            gray = cv2.warpAffine(gray, turn, gray.shape[::-1], flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
        return crop_face(gray, box, self.margin)


def lever_figures(detector: EmotionDetector, name: str, fer: bool = True, crop: Callable | None = None) -> dict:
    """`real_faces.py`'s figures on the posed photos (faces cut out by `crop`) and, with `fer`, FER2013 test."""
    figures = {"lever": name, "posed": posed_figures(evaluate_folder(detector, POSED, photos=True, crop=crop)[1],
                                                     POSED, detector.labels)}
    if fer:
        figures["fer2013_test"] = fer2013_figures(
            evaluate_folder(detector, SHARED / "fer2013" / "test", photos=False)[1], detector.labels)
    return figures


def print_lever(figures: dict) -> None:
    posed = figures["posed"]
    fer = figures.get("fer2013_test")
    line = f"{figures['lever']:<26}"
    if fer:
        line += f" FER2013 test {fer['accuracy']:.2%}, FER+ majority {fer['ferplus_majority']['accuracy']:.2%};"
    print(line + "".join(f" {name} {posed[name]['accuracy']:.2%}"
                         for name in ("all", "agreed", "held_out", "held_out_agreed")))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "levers.json")
    args = p.parse_args()
    detector = EmotionDetector(args.model, detector="haar")  # these levers were measured on the cascade's boxes
    results = [lever_figures(detector, "default (face + mirror)")]
    print_lever(results[-1])
    levelled = LevelledCrop(detector.margin)
    results.append(lever_figures(detector, "levelled eyes", fer=False, crop=levelled))
    tilts = np.abs(levelled.tilts) if levelled.tilts else np.zeros(1)  # zeros: no pair of eyes found
    results[-1]["levelled"] = {"faces": len(levelled.tilts), "median_tilt": float(np.median(tilts)),
                               "max_tilt": float(tilts.max())}
    print_lever(results[-1])
    print(f"{'':26} eyes levelled on {len(levelled.tilts)} faces, by {np.median(tilts):.1f} degrees (median), "
          f"{tilts.max():.1f} at most")
    detector.classifier = ShiftedViews(detector.classifier)
    results.append(lever_figures(detector, f"shifted views (+-{SHIFT} px)"))
    print_lever(results[-1])
    write_json({"model": str(args.model), "results": results}, args.json)


if __name__ == "__main__":
    main()
