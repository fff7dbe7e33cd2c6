"""Loading labelled faces: a `<split>/<emotion>/` folder tree or the original FER2013 CSV.

Every image is decoded once, through `to_model_input`, into one float32 array held in memory
(FER2013's 32k faces take 300 MB); `make_dataset` wraps it in a shuffled, batched tf.data pipeline.
"""

import csv
from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError
from moodlens.labels import EMOTIONS, FER2013_CSV_ORDER, canonical_order
from moodlens.preprocess import FACE_SIZE, to_model_input

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})


class Split:
    """Faces (N, 48, 48, 1) float32 in [0, 1] and their label indices into `labels`."""

    def __init__(self, x: np.ndarray, y: np.ndarray, labels: tuple[str, ...]):
        self.x, self.y, self.labels = x, y, labels

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        """Faces per label."""
        return {name: int(np.sum(self.y == i)) for i, name in enumerate(self.labels)}


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to 8-bit gray; MoodlensError names the file when it cannot."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise MoodlensError(f"cannot read image {path}: {exc.strerror}") from None
    image = cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE) if raw.size else None
    if image is None:
        raise MoodlensError(f"cannot decode image {path}: empty, truncated or not an image")
    return image


def class_folders(split_dir: Path) -> dict[str, Path]:
    """Map each emotion folder of a split to its path; refuse folders named for no emotion."""
    if not split_dir.is_dir():
        raise MoodlensError(f"data folder {split_dir} not found (expected {split_dir}/<emotion>/)")
    folders = {p.name.lower(): p for p in split_dir.iterdir() if p.is_dir()}
    unknown = sorted(set(folders) - set(EMOTIONS))
    if unknown:
        raise MoodlensError(
            f"{split_dir}: folder(s) {', '.join(unknown)} are not emotions "
            f"(expected some of {', '.join(EMOTIONS)})"
        )
    if not folders:
        raise MoodlensError(f"{split_dir} has no emotion folders (expected {', '.join(EMOTIONS)})")
    return folders


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder, by suffix, in a stable order; other files are ignored."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_folder_split(split_dir: Path, labels: tuple[str, ...] | None = None) -> Split:
    """Load `split_dir/<emotion>/*` images; `labels` fixes the label order (e.g. the train split's)."""
    folders = class_folders(split_dir)
    labels = labels or canonical_order(folders)
    extra = sorted(set(folders) - set(labels))
    if extra:
        raise MoodlensError(f"{split_dir}: folder(s) {', '.join(extra)} have no training faces")
    faces, targets = [], []
    for index, name in enumerate(labels):
        if name not in folders:  # a validation split may lack a class
            continue
        files = image_files(folders[name])
        if not files:
            raise MoodlensError(f"{folders[name]} holds no images")
        faces.extend(to_model_input(read_image(f)) for f in files)
        targets.extend([index] * len(files))
    if not faces:
        raise MoodlensError(f"{split_dir} holds no images")
    return Split(np.stack(faces), np.asarray(targets, np.int32), labels)


def parse_pixels(text: str, row: int, path: Path) -> np.ndarray:
    """Parse one CSV `pixels` cell (2304 space-separated 0-255 values) to a 48x48 uint8 face."""
    try:
        values = np.array(text.split(), dtype=np.int64)
    except ValueError:
        raise MoodlensError(f"{path}: row {row}: pixels are not whole numbers") from None
    if values.size != FACE_SIZE * FACE_SIZE or values.min() < 0 or values.max() > 255:
        raise MoodlensError(
            f"{path}: row {row}: expected {FACE_SIZE * FACE_SIZE} pixel values in 0-255, "
            f"received {values.size}"
        )
    return values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)


def load_fer2013_csv(path: Path) -> tuple[Split, Split]:
    """Load FER2013's `emotion,pixels,Usage` CSV: Training rows train, PublicTest rows validate."""
    rows: dict[str, tuple[list, list]] = {"Training": ([], []), "PublicTest": ([], [])}
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
            if missing:
                raise MoodlensError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            for row_number, row in enumerate(reader, start=2):
                if row["Usage"] not in rows:
                    continue
                label = row["emotion"].strip()
                if label not in {str(i) for i in range(len(FER2013_CSV_ORDER))}:
                    raise MoodlensError(f"{path}: row {row_number}: unknown emotion {label!r} (expected 0-6)")
                faces, targets = rows[row["Usage"]]
                faces.append(to_model_input(parse_pixels(row["pixels"], row_number, path)))
                targets.append(EMOTIONS.index(FER2013_CSV_ORDER[int(label)]))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MoodlensError(f"cannot read CSV {path}: {exc}") from None
    for usage, (faces, _) in rows.items():
        if not faces:
            raise MoodlensError(f"{path}: no {usage} rows")
    train, val = (Split(np.stack(f), np.asarray(t, np.int32), EMOTIONS) for f, t in rows.values())
    return train, val


def load_training_data(data: Path) -> tuple[Split, Split]:
    """Load (train, validation) from a data folder (`train/`, `test/`) or a FER2013 CSV file."""
    if data.is_file():
        return load_fer2013_csv(data)
    if not data.is_dir():
        raise MoodlensError(f"data {data} not found (expected a folder with train/ and test/, or a CSV)")
    train = load_folder_split(data / "train")
    return train, load_folder_split(data / "test", train.labels)
