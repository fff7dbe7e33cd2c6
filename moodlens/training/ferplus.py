"""FER+ votes: ten annotators' labels for every FER2013 face, as soft training targets.

FER2013's single labels are often wrong or ambiguous (FER+ annotators read much of its sad and fear
as neutral). `ferplus_votes.csv` (see ../shared/fer2013/README.md) holds, per image file, the votes
for each emotion plus `contempt`, `unknown` and `NF` (not a face).
"""

import csv
from pathlib import Path

import numpy as np

from moodlens.errors import MoodlensError

# FER+ column names of our emotions.
FERPLUS_NAMES = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
                 "neutral": "neutral", "sad": "sadness", "surprise": "surprise"}


def read_votes(path: Path, labels: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Votes per image, keyed by the file name (`Training_10131352.jpg`): one count per label, then
    `NF`. Rows without votes are left out."""
    columns = [FERPLUS_NAMES[name] for name in labels] + ["NF"]
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = {"file", *columns} - set(reader.fieldnames or [])
            if missing:
                raise MoodlensError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            votes = {}
            for row in reader:
                if all(row[c].strip() for c in columns):
                    votes[Path(row["file"]).name] = np.array([float(row[c]) for c in columns], np.float32)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise MoodlensError(f"cannot read votes {path}: {exc}") from None
    if not votes:
        raise MoodlensError(f"{path} holds no votes")
    return votes


def soft_targets(files: list[Path], y: np.ndarray, num_classes: int, votes: dict[str, np.ndarray],
                 weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Targets that mix each face's own label (1 - weight) with its annotators' vote shares (weight).

    Returns (targets, keep): faces that most annotators call "not a face", or that have no votes
    (FER+ gives none for the images it drops as not a face), are not kept; a face whose votes all
    went to emotions outside `labels` keeps its own label alone.
    """
    targets = np.zeros((len(files), num_classes), np.float32)
    keep = np.zeros(len(files), bool)
    for i, (file, label) in enumerate(zip(files, y)):
        counts = votes.get(file.name)
        if counts is None or not_a_face(counts):
            continue
        own = np.eye(num_classes, dtype=np.float32)[label]
        emotions = counts[:-1]
        share = emotions / emotions.sum() if emotions.sum() else own
        targets[i], keep[i] = (1 - weight) * own + weight * share, True
    return targets, keep


def majority(files: list[Path], votes: dict[str, np.ndarray]) -> np.ndarray:
    """The FER+ majority label per file (ties to the first label), -1 where it has no votes or the
    majority says not a face."""
    out = np.full(len(files), -1)
    for i, file in enumerate(files):
        counts = votes.get(file.name)
        if counts is not None and not not_a_face(counts) and counts[:-1].sum():
            out[i] = int(np.argmax(counts[:-1]))
    return out


def not_a_face(counts: np.ndarray) -> bool:
    """Whether more annotators said "not a face" than chose any one emotion."""
    return bool(counts[-1] > counts[:-1].max())
