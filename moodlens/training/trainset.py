"""The training set: labelled faces, optionally with annotators' votes as soft targets and faces
from labelled photos added (see ferplus.py and photos.py)."""

from pathlib import Path

from moodlens.errors import MoodlensError
from moodlens.training.data import Split, joined


def with_votes(split: Split, votes_csv: Path, weight: float) -> Split:
    """The faces that have votes, targets mixing their own label and the votes; "not a face" dropped."""
    from moodlens.training.ferplus import read_votes, soft_targets

    if split.files is None:
        raise MoodlensError("--votes needs faces loaded from image files (a data folder, not a CSV)")
    soft, keep = soft_targets(split.files, split.y, len(split.labels), read_votes(votes_csv, split.labels), weight)
    if not keep.any():
        raise MoodlensError(f"{votes_csv}: none of the training files has votes")
    print(f"votes: {int(keep.sum())} faces with votes, {int((~keep).sum())} without or not a face dropped")
    split.soft = soft
    return split.subset(keep)


def with_photos(split: Split, folders: list[Path], repeat: int, align: bool, width: float = 1.0) -> Split:
    """`split` plus the largest face of every photo in `folders` (each `<emotion>/`), `repeat` times,
    found by detect.py's default finder and cropped as detect.py crops for the framing trained; each
    photo first narrowed to `width` of its width (to undo a stretch: see `photos.load_photo_split`)."""
    from moodlens.detector import DEFAULT_MARGIN
    from moodlens.emotions.preprocess import face_crop
    from moodlens.faces.finders import make_finder
    from moodlens.training.photos import load_photo_split

    finder = make_finder()
    for folder in folders:
        photos, missed = load_photo_split(folder, split.labels, finder,
                                          lambda gray, box: face_crop(gray, box, DEFAULT_MARGIN, align), width)
        print(f"extra: {len(photos)} faces from {folder} ({len(missed)} photos without a face), x{repeat}")
        for _ in range(repeat):
            split = joined(split, photos)
    return split


def aligned(split: Split) -> Split:
    """The split with its faces aligned on their landmarks (see `aligned.align_faces`)."""
    from moodlens.training.aligned import align_faces

    split.x, found = align_faces(split.x)
    print(f"align: {found} of {len(split)} faces aligned on their landmarks, the rest kept as they are")
    return split


def load_training_set(data: Path, votes: Path | None = None, votes_weight: float = 0.5,
                      extra: tuple[Path, ...] = (), extra_repeat: int = 1, holdout: float = 0.0,
                      seed: int = 0, align: bool = False, extra_width: float = 1.0) -> tuple[Split, Split]:
    """(train, validation) from `data` (see `data.load_training_data`), with votes and photo faces
    added to the training split; validation keeps its own labels.

    With a `holdout` fraction, validation is that share of each class of the training faces (drawn
    with `seed`) instead of the test split, which training then never sees. With `align`, the data's
    faces are framed by their landmarks, as detect.py frames YuNet's faces (see `aligned.py`); the
    `extra` photos are narrowed to `extra_width` of their width before their faces are found.
    """
    from moodlens.training.data import load_training_data

    train, val = load_training_data(data)
    if align:
        train, val = aligned(train), aligned(val)
    if holdout:
        train, val = train.held_out(holdout, seed)
        if not len(val):
            raise MoodlensError(f"--holdout {holdout}: holds out no face of {data} (too few faces per class)")
        print(f"holdout: {len(val)} training faces validate instead of the test split")
    if votes is not None:
        train = with_votes(train, votes, votes_weight)
    if extra:
        train = with_photos(train, list(extra), extra_repeat, align, extra_width)
    return train, val
