"""How wide faces look on each source, from YuNet: do the Taiwanese photos show their stretch to a square?

    python benchmarks/face_proportions.py [--photos 400] [--json benchmarks/results/face_proportions.json]

For the largest face of each photo (FER2013's 48x48 crops enlarged 4 times, as `training/aligned.py`
does): the box's width over its height, and the eye distance over the height from the eyes to the
mouth, as medians per source and per class. Then the same two figures on the photos narrowed to 0.8 of
their width (`training.photos.narrowed`), over their values on the photos as they are: how far the
detector's box and landmarks follow a known change of proportions. `train.py --extra-width` narrows
training photos; docs/training.md says what these figures chose.
"""

import argparse
import random
from pathlib import Path

import cv2
import numpy as np
from common import RESULTS, SHARED, write_json

from moodlens.emotions.preprocess import to_gray
from moodlens.faces.finders import make_finder, search_view
from moodlens.media.images import read_image
from moodlens.training.photos import narrowed

SOURCES = {"taiwanese": (SHARED / "posed" / "taiwanese", 1), "yale": (SHARED / "posed" / "yale", 1),
           "fer2013 test": (SHARED / "fer2013" / "test", 4)}  # folder, enlargement
KNOWN_NARROWING = 0.8


def proportions(finder: object, image: np.ndarray) -> tuple[float, float] | None:
    """(box width / height, eye distance / eyes-to-mouth height) of the largest face, or None."""
    faces = finder.find(search_view(finder, image, to_gray(image)))
    if not faces:
        return None
    face = max(faces, key=lambda f: f[2] * f[3])
    right_eye, left_eye, _, right_mouth, left_mouth = face.landmarks
    eyes_to_mouth = (right_eye + left_eye - right_mouth - left_mouth) / 2
    return face[2] / face[3], float(np.linalg.norm(left_eye - right_eye) / np.linalg.norm(eyes_to_mouth))


def source_figures(finder: object, folder: Path, enlarge: int, photos: int) -> dict:
    files = sorted(folder.glob("*/*"))
    files = random.Random(0).sample(files, min(photos, len(files)))
    rows = []
    for path in files:
        image = read_image(path)
        if enlarge > 1:
            image = cv2.resize(image, None, fx=enlarge, fy=enlarge, interpolation=cv2.INTER_CUBIC)
        as_is = proportions(finder, image)
        narrow = proportions(finder, narrowed(image, KNOWN_NARROWING))
        if as_is and narrow:
            rows.append((path.parent.name, *as_is, narrow[0] / as_is[0], narrow[1] / as_is[1]))
    columns = ("box_aspect", "eyes_over_mouth_height", "narrowed_box_aspect", "narrowed_eyes_over_mouth_height")
    figures = {"faces": len(rows)}
    figures.update({name: float(np.median([r[i + 1] for r in rows])) for i, name in enumerate(columns)})
    figures["eyes_over_mouth_height_by_class"] = {
        label: float(np.median([r[2] for r in rows if r[0] == label])) for label in sorted({r[0] for r in rows})}
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", type=int, default=400, help="photos drawn from each source (default 400)")
    p.add_argument("--json", type=Path, default=RESULTS / "face_proportions.json")
    args = p.parse_args()
    finder = make_finder()
    results = {name: source_figures(finder, folder, enlarge, args.photos)
               for name, (folder, enlarge) in SOURCES.items()}
    for name, f in results.items():
        print(f"{name:13} {f['faces']:4} faces: box width/height {f['box_aspect']:.3f}, "
              f"eyes/eyes-to-mouth {f['eyes_over_mouth_height']:.3f}; narrowed to {KNOWN_NARROWING}: "
              f"box x{f['narrowed_box_aspect']:.3f}, eyes/mouth x{f['narrowed_eyes_over_mouth_height']:.3f}")
    write_json({"known_narrowing": KNOWN_NARROWING, "sources": results}, args.json)


if __name__ == "__main__":
    main()
