"""Crops such as FER2013's faces framed as detection frames a face: YuNet's landmarks found on each
48x48 face (enlarged UPSCALE times, where YuNet reads a face well), then the same `aligned_crop` that
detect.py applies to YuNet's faces. The model then learns the framing it will be shown.
"""

import cv2
import numpy as np

from moodlens.emotions.preprocess import aligned_crop, to_model_input
from moodlens.faces.yunet import YuNetFinder
from moodlens.progress import progress_bar

UPSCALE = 4  # YuNet reads a 48x48 face well at 192 px: it found most training faces so (model card, run 7)
MIN_SCORE = 0.5


def align_faces(faces: np.ndarray, finder: YuNetFinder | None = None) -> tuple[np.ndarray, int]:
    """`faces` (N, 48, 48, 1) in [0, 1], each turned and framed by its landmarks; faces where YuNet finds
    none are kept as they are (a crop's framing is already close to the aligned one). Returns the faces
    and how many were aligned."""
    finder = finder or YuNetFinder()
    aligned, found = faces.copy(), 0
    with progress_bar(len(faces), "face") as progress:
        for i, face in enumerate(faces):
            gray = np.round(face[:, :, 0] * 255).astype(np.uint8)
            big = cv2.resize(gray, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
            candidates = finder.detect(big, 1.0, MIN_SCORE)
            if candidates:
                best = max(candidates, key=lambda f: f.score)
                aligned[i] = to_model_input(aligned_crop(big, best.landmarks))
                found += 1
            progress.update(1)
    return aligned, found
