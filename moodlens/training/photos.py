"""Faces from labelled photos: the detect path's face search and crop, one face per photo.

Full photos in `<emotion>/` folders (a person, not a 48x48 crop) are measured, and may be trained on,
as detect.py sees them: the largest face the face finder finds, cropped as detect.py crops it, then
the one preprocessing path. Photos where no face is found are returned apart.
"""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from moodlens.emotions.preprocess import to_gray, to_model_input
from moodlens.errors import MoodlensError
from moodlens.faces.finders import search_view
from moodlens.faces.geometry import Box
from moodlens.media.images import read_image
from moodlens.training.data import Split, labelled_files


def load_photo_split(folder: Path, labels: tuple[str, ...] | None, finder: object,
                     crop: Callable[[np.ndarray, Box], np.ndarray],
                     width: float = 1.0) -> tuple[Split, list[Path]]:
    """The largest face of each photo of `folder/<emotion>/` as a Split, and the photos without a face.

    `finder` is a face finder (`faces.finders.make_finder`); `crop(gray, box)` cuts the face out (as
    detect.py does, `EmotionDetector.crop`, unless a measurement tries another). With `width` below 1
    each photo is first narrowed to that share of its width: photos stretched to a square get their
    faces' proportions back."""
    files, y, labels = labelled_files(folder, labels)
    faces, kept, missed = [], [], []
    for index, path in enumerate(files):
        image = narrowed(read_image(path), width)
        gray = to_gray(image)
        boxes = finder.find(search_view(finder, image, gray))
        if not boxes:
            missed.append(path)
            continue
        largest = max(boxes, key=lambda b: b[2] * b[3])
        faces.append(to_model_input(crop(gray, largest)))
        kept.append(index)
    if not faces:
        raise MoodlensError(f"{folder}: no face found in any of its {len(files)} photos")
    return Split(np.stack(faces), y[kept], labels, [files[i] for i in kept]), missed


def narrowed(image: np.ndarray, width: float) -> np.ndarray:
    """`image` resized to `width` of its width (its height kept); unchanged at 1."""
    if width == 1.0:
        return image
    return cv2.resize(image, (round(image.shape[1] * width), image.shape[0]), interpolation=cv2.INTER_AREA)
