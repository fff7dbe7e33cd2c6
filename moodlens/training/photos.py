"""Faces from labelled photos: the detect path's face search and crop, one face per photo.

Full photos in `<emotion>/` folders (a person, not a 48x48 crop) are measured, and may be trained on,
as detect.py sees them: the largest face the cascade finds, cropped with the detector's margin, then
the one preprocessing path. Photos where no face is found are returned apart.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from moodlens.emotions.preprocess import crop_face, to_gray, to_model_input
from moodlens.errors import MoodlensError
from moodlens.faces.cascade import Box, FaceFinder
from moodlens.media.images import read_image
from moodlens.training.data import Split, labelled_files


def load_photo_split(folder: Path, labels: tuple[str, ...] | None, finder: FaceFinder, margin: float,
                     crop: Callable[[np.ndarray, Box, float], np.ndarray] = crop_face) -> tuple[Split, list[Path]]:
    """The largest face of each photo of `folder/<emotion>/` as a Split, and the photos without a face.

    `crop(gray, box, margin)` cuts the face out (detect.py's `crop_face` unless a measurement tries another)."""
    files, y, labels = labelled_files(folder, labels)
    faces, kept, missed = [], [], []
    for index, path in enumerate(files):
        gray = to_gray(read_image(path))
        boxes = finder.find(gray)
        if not boxes:
            missed.append(path)
            continue
        largest = max(boxes, key=lambda b: b[2] * b[3])
        faces.append(to_model_input(crop(gray, largest, margin)))
        kept.append(index)
    if not faces:
        raise MoodlensError(f"{folder}: no face found in any of its {len(files)} photos")
    return Split(np.stack(faces), y[kept], labels, [files[i] for i in kept]), missed
