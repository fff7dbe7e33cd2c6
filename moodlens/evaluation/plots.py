"""Figures: training curves from a history CSV, and a confusion matrix."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from moodlens.media.files import replaced  # noqa: E402
from moodlens.media.overlay import COLORS  # noqa: E402


def save_figure(fig: plt.Figure, path: Path) -> None:
    """Write a figure as PNG through a temporary file, then rename."""
    try:
        with replaced(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)


def plot_history(history_csv: Path, out: Path) -> None:
    """Loss and accuracy per epoch, training against validation."""
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, [float(r[metric]) for r in rows], label="train (augmented)")
        ax.plot(epochs, [float(r[f"val_{metric}"]) for r in rows], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, out)


def plot_confusion(confusion: np.ndarray, labels: tuple[str, ...], out: Path) -> None:
    """Confusion matrix as row-normalized colours (recall) with the raw counts written in."""
    recall = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if recall[i, j] > 0.5 else "black"
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", color=color, fontsize=8)
    save_figure(fig, out)


def plot_emotions_over_time(records: list[dict], labels: tuple[str, ...], title: str, out: Path) -> None:
    """Each emotion's score over a video's time, averaged over the faces of each analysed frame."""
    frames: dict[float, list[dict]] = {}
    for r in records:
        frames.setdefault(r["time"], []).append(r["scores"])
    times = sorted(frames)
    fig, ax = plt.subplots(figsize=(10, 4))
    for label in labels:
        mean = [np.mean([s[label] for s in frames[t]]) for t in times]
        ax.plot(times, mean, label=label, color=np.array(COLORS[label][::-1]) / 255, linewidth=1.2)
    if not times:
        ax.text(0.5, 0.5, "no face found", transform=ax.transAxes, ha="center", va="center")
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("score (mean over the frame's faces)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    save_figure(fig, out)
