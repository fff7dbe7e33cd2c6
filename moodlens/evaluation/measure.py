"""Measuring a model on labelled faces: face crops, or full photos through the detect path.

Crops (FER2013's 48x48 faces) go to the classifier as its model learned them: as they are, or aligned on
their landmarks for a model trained with `--align`. Photos of people go the way detect.py
takes them: the largest face found by the face search, cropped as detect.py crops it; a photo
where no face is found counts as wrong in `accuracy_all`.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from moodlens.evaluation.metrics import classification_report
from moodlens.progress import progress_bar
from moodlens.training.data import load_folder_split


def evaluate_folder(detector, folder: Path, photos: bool, batch_size: int = 256, crop: Callable | None = None
                    ) -> tuple[dict, list[dict]]:
    """The report of `detector` on `folder/<emotion>/`, and one record per image: file, label,
    predicted (None where no face was found) and the scores.

    `detector` is an `EmotionDetector`: its face search and margin for photos, its classifier for all;
    `crop` replaces detect.py's way of cutting a photo's face out (see `photos.load_photo_split`).
    """
    from moodlens.training.photos import load_photo_split

    labels = detector.labels
    split, missed = (load_photo_split(folder, labels, detector.faces, crop or detector.crop) if photos
                     else (load_folder_split(folder, labels), []))
    if not photos and detector.classifier.framing == "aligned":
        from moodlens.training.aligned import align_faces

        split.x = align_faces(split.x)[0]  # as train.py --align framed its training crops
    parts = []
    with progress_bar(len(split), "face") as progress:  # on a terminal: the scoring is the long part
        for i in range(0, len(split), batch_size):
            parts.append(detector.classifier.scores(split.x[i : i + batch_size]))
            progress.update(len(parts[-1]))
    scores = np.concatenate(parts)
    predicted = scores.argmax(axis=1)
    records = [{"file": str(f), "label": labels[t], "predicted": labels[p], "scores": s.round(4).tolist()}
               for f, t, p, s in zip(split.files, split.y, predicted, scores)]
    records += [{"file": str(f), "label": f.parent.name.lower(), "predicted": None, "scores": None} for f in missed]
    report = classification_report(split.y, predicted, labels)
    report.update(images=len(records), faces_found=len(split),
                  accuracy_all=sum(r["label"] == r["predicted"] for r in records) / len(records))
    return report, records


def votes_accuracy(records: list[dict], votes_csv: Path, labels: tuple[str, ...]) -> dict:
    """Accuracy against the annotators' majority (FER+), over the images that have one."""
    from moodlens.training.ferplus import majority, read_votes

    found = [r for r in records if r["predicted"] is not None]
    truth = majority([Path(r["file"]) for r in found], read_votes(votes_csv, labels))
    judged = [(t, r["predicted"]) for t, r in zip(truth, found) if t >= 0]
    hits = sum(labels[t] == p for t, p in judged)
    return {"faces": len(judged), "accuracy": hits / len(judged) if judged else 0.0}
