"""Loading labelled faces: a `<split>/<emotion>/` folder tree or the original FER2013 CSV.

Every image is decoded once, through `to_model_input`, into one float32 array held in memory
(FER2013's 32k faces take 300 MB); `make_dataset` wraps it in a shuffled, batched tf.data pipeline.
"""

import csv
from pathlib import Path

import numpy as np

from moodlens.emotions.preprocess import FACE_SIZE, to_model_input
from moodlens.errors import MoodlensError
from moodlens.labels import EMOTIONS, FER2013_CSV_ORDER, canonical_order
from moodlens.media.images import image_files, read_image, visible


class Split:
    """Faces (N, 48, 48, 1) float32 in [0, 1] and their label indices into `labels`.

    `files` names each face's image file when it came from one; `soft` holds training targets
    (N, classes) that replace the one-hot labels, such as annotators' vote shares (see ferplus.py).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, labels: tuple[str, ...], files: list[Path] | None = None,
                 soft: np.ndarray | None = None):
        self.x, self.y, self.labels, self.files, self.soft = x, y, labels, files, soft

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        """Faces per label."""
        return {name: int(np.sum(self.y == i)) for i, name in enumerate(self.labels)}

    def targets(self) -> np.ndarray:
        """What training fits: the soft targets, or else the one-hot labels."""
        return self.soft if self.soft is not None else np.eye(len(self.labels), dtype=np.float32)[self.y]

    def subset(self, keep: np.ndarray) -> "Split":
        """The faces where `keep` (a boolean mask) is true."""
        files = [f for f, k in zip(self.files, keep) if k] if self.files is not None else None
        soft = self.soft[keep] if self.soft is not None else None
        return Split(self.x[keep], self.y[keep], self.labels, files, soft)

    def held_out(self, fraction: float, seed: int) -> tuple["Split", "Split"]:
        """(the rest, a random `fraction` of each class's faces), drawn repeatably with `seed`."""
        rng = np.random.default_rng(seed)
        held = np.zeros(len(self), bool)
        for label in np.unique(self.y):
            faces = np.flatnonzero(self.y == label)
            held[rng.choice(faces, round(len(faces) * fraction), replace=False)] = True
        return self.subset(~held), self.subset(held)


def joined(first: Split, second: Split) -> Split:
    """One split of both splits' faces (same labels), with their training targets."""
    files = first.files + second.files if first.files is not None and second.files is not None else None
    return Split(np.concatenate([first.x, second.x]), np.concatenate([first.y, second.y]), first.labels, files,
                 np.concatenate([first.targets(), second.targets()]))


def class_folders(split_dir: Path) -> dict[str, Path]:
    """Map each emotion folder of a split to its path; refuse folders named for no emotion."""
    if not split_dir.is_dir():
        raise MoodlensError(f"data folder {split_dir} not found (expected {split_dir}/<emotion>/)")
    folders = {p.name.lower(): p for p in split_dir.iterdir() if p.is_dir() and visible(p)}
    unknown = sorted(set(folders) - set(EMOTIONS))
    if unknown:
        raise MoodlensError(
            f"{split_dir}: folder(s) {', '.join(unknown)} are not emotions "
            f"(expected some of {', '.join(EMOTIONS)})"
        )
    if not folders:
        raise MoodlensError(f"{split_dir} has no emotion folders (expected {', '.join(EMOTIONS)})")
    return folders


def load_folder_split(split_dir: Path, labels: tuple[str, ...] | None = None) -> Split:
    """Load `split_dir/<emotion>/*` face images; `labels` fixes the label order (e.g. the train split's)."""
    files, y, labels = labelled_files(split_dir, labels)
    return Split(np.stack([to_model_input(read_image(f)) for f in files]), y, labels, files)


def labelled_files(split_dir: Path, labels: tuple[str, ...] | None = None
                   ) -> tuple[list[Path], np.ndarray, tuple[str, ...]]:
    """The image files of `split_dir/<emotion>/`, their label indices, and the label order."""
    folders = class_folders(split_dir)
    labels = labels or canonical_order(folders)
    extra = sorted(set(folders) - set(labels))
    if extra:
        raise MoodlensError(f"{split_dir}: folder(s) {', '.join(extra)} have no training faces")
    paths, targets = [], []
    for index, name in enumerate(labels):
        if name not in folders:  # a validation split may lack a class
            continue
        files = image_files(folders[name])
        if not files:
            raise MoodlensError(f"{folders[name]} holds no images")
        paths.extend(files)
        targets.extend([index] * len(files))
    if not paths:
        raise MoodlensError(f"{split_dir} holds no images")
    return paths, np.asarray(targets, np.int32), labels


def parse_pixels(text: str, row: int, path: Path) -> np.ndarray:
    """Parse one CSV `pixels` cell (2304 space-separated 0-255 values) to a 48x48 uint8 face."""
    out_of_range = f"{path}: row {row}: pixel values must be 0-255"
    try:
        values = np.array(text.split(), dtype=np.int64)
    except ValueError:
        raise MoodlensError(f"{path}: row {row}: pixels are not whole numbers") from None
    except OverflowError:  # beyond 64 bits
        raise MoodlensError(out_of_range) from None
    expected = FACE_SIZE * FACE_SIZE
    if values.size != expected:
        raise MoodlensError(f"{path}: row {row}: expected {expected} pixel values, received {values.size}")
    if values.min() < 0 or values.max() > 255:
        raise MoodlensError(f"{out_of_range}, received {values.min()}-{values.max()}")
    return values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)


def load_fer2013_csv(path: Path) -> tuple[Split, Split]:
    """Load FER2013's `emotion,pixels,Usage` CSV: Training rows train, PublicTest rows validate."""
    rows: dict[str, tuple[list, list]] = {"Training": ([], []), "PublicTest": ([], [])}
    columns = ("emotion", "pixels", "Usage")
    known = {str(i): EMOTIONS.index(name) for i, name in enumerate(FER2013_CSV_ORDER)}
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f, restval="")  # a short row reads as empty cells
            missing = set(columns) - set(reader.fieldnames or [])
            if missing:
                raise MoodlensError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            for row_number, row in enumerate(reader, start=2):
                empty = [name for name in columns if not row[name].strip()]
                if empty:
                    raise MoodlensError(f"{path}: row {row_number}: no {', '.join(empty)}")
                if row["Usage"].strip() not in rows:
                    continue
                label = row["emotion"].strip()
                if label not in known:
                    raise MoodlensError(f"{path}: row {row_number}: unknown emotion {label!r} (expected 0-6)")
                faces, targets = rows[row["Usage"].strip()]
                faces.append(to_model_input(parse_pixels(row["pixels"], row_number, path)))
                targets.append(known[label])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MoodlensError(f"cannot read CSV {path}: {exc}") from None
    for usage, (faces, _) in rows.items():
        if not faces:
            raise MoodlensError(f"{path}: no {usage} rows (the Usage column says which rows train and validate)")
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
