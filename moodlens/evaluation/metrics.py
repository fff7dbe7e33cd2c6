"""Accuracy, per-class precision, recall and F1, macro F1 and the confusion matrix; and, for video,
how often a face's label flickers and how much its box jitters from frame to frame."""

from collections.abc import Sequence

import numpy as np


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> dict:
    """The figures evaluate.py prints and writes, as plain JSON-ready values.

    Returns:
        {"labels", "count", "accuracy", "macro_f1", "per_class": {label: {precision, recall, f1,
        support}}, "confusion": rows = true label, columns = predicted label}
    """
    k = len(labels)
    confusion = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    hits = np.diag(confusion).astype(float)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=precision + recall > 0)
    present = support > 0  # macro F1 over the classes the data has
    return {
        "labels": list(labels),
        "count": int(len(y_true)),
        "accuracy": float(hits.sum() / max(len(y_true), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                   "support": int(support[i])}
            for i, name in enumerate(labels)
        },
        "confusion": confusion.tolist(),
    }


def format_report(report: dict) -> str:
    """The report as a text table, confusion matrix included."""
    labels = report["labels"]
    width = max(len(n) for n in labels) + 2
    lines = [f"faces {report['count']}   accuracy {report['accuracy']:.4f}   macro F1 {report['macro_f1']:.4f}", "",
             f"{'':{width}}precision  recall      f1  support"]
    for name, m in report["per_class"].items():
        lines.append(f"{name:{width}}{m['precision']:9.3f}{m['recall']:8.3f}{m['f1']:8.3f}{m['support']:9d}")
    lines += ["", "confusion (rows true, columns predicted)",
              " " * width + "".join(f"{n[:7]:>8}" for n in labels)]
    for name, row in zip(labels, report["confusion"]):
        lines.append(f"{name:{width}}" + "".join(f"{v:8d}" for v in row))
    return "\n".join(lines)


def label_flicker(labels: Sequence[str | None]) -> float:
    """Share of consecutive frames, both with a face (not None), whose labels differ."""
    pairs = [(a, b) for a, b in zip(labels, labels[1:]) if a and b]
    return sum(a != b for a, b in pairs) / max(len(pairs), 1)


def box_jitter(boxes: Sequence[Sequence[int] | None]) -> float | None:
    """Mean change of an (x, y, w, h) box's width and centre between consecutive frames, relative to its
    width; None without two consecutive boxes."""
    changes = [(abs(b[2] - a[2]) + abs(b[0] + b[2] / 2 - a[0] - a[2] / 2) + abs(b[1] + b[3] / 2 - a[1] - a[3] / 2))
               / a[2] for a, b in zip(boxes, boxes[1:]) if a and b]
    return float(np.mean(changes)) if changes else None
