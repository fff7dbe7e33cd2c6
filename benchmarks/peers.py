"""A peer on the same real faces: the pip library `fer` beside benchmarks/real_faces.py's figures.

    pip install 'setuptools<81' && pip install --no-deps fer==25.10.3   # its other dependencies pull PyTorch
    python benchmarks/peers.py [--json benchmarks/results/peers.json]
    pip uninstall -y fer && pip install -r requirements-dev.txt          # the pinned setuptools again

fer runs as its README shows, with its own Haar cascade and 64x64 CNN (MTCNN off): on each posed and
Yale photo the largest face it finds counts (none found: wrong); on the FER2013 test crops its
classifier reads exactly the 48x48 crop (a box inset by fer's own 10-pixel offsets, which it grows
back). The figures are the same as real_faces.py's, on the same subsets, every source worst first.
"""

import argparse
import sys
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_faces import POSED, SHARED, YALE, print_figures, records_figures  # noqa: E402

from moodlens.labels import EMOTIONS  # noqa: E402
from moodlens.media.images import read_image  # noqa: E402
from moodlens.media.outputs import write_json  # noqa: E402
from moodlens.training.data import labelled_files  # noqa: E402

FER_OFFSET = 10  # pixels fer adds around a face box before classifying (its default `offsets`)


def fer_records(detector, folder: Path, crops: bool) -> list[dict]:
    """One record per image of `folder/<emotion>/`: label, fer's top emotion and its scores (None: no face)."""
    files, y, labels = labelled_files(folder, EMOTIONS)
    records = []
    for path, label in zip(files, y):
        image = read_image(path)
        h, w = image.shape[:2]
        whole = [(FER_OFFSET, FER_OFFSET, w - 2 * FER_OFFSET, h - 2 * FER_OFFSET)] if crops else None
        faces = detector.detect_emotions(image, face_rectangles=whole)
        record = {"file": str(path), "label": labels[label], "predicted": None, "scores": None}
        if faces:
            largest = max(faces, key=lambda f: f["box"][2] * f["box"][3])
            scores = [float(largest["emotions"][name]) for name in EMOTIONS]
            record.update(predicted=EMOTIONS[int(np.argmax(scores))], scores=scores)
        records.append(record)
    return records


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "peers.json")
    args = p.parse_args()
    try:
        from fer.fer import FER
    except ImportError as exc:
        raise SystemExit(f"error: the peer library is not installed ({exc}); see this script's docstring") from None

    cv2.setNumThreads(1)
    detector = FER(mtcnn=False)
    records = {"fer2013_test": fer_records(detector, SHARED / "fer2013" / "test", crops=True),
               "posed": fer_records(detector, POSED, crops=False),
               "yale": fer_records(detector, YALE, crops=False)}
    figures = {"model": f"fer {version('fer')} (MTCNN off)", "detector": "fer's Haar cascade",
               **records_figures(records, EMOTIONS)}
    print_figures(figures)
    write_json(figures, args.json)


if __name__ == "__main__":
    main()
