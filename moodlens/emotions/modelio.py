"""Saving and loading model files with their label order, safely and atomically.

The label order is stored as an attribute of the .h5 file, so a model trained on fewer than the
seven emotions still names its outputs right; so is the framing of the faces it learned from, so
detection crops faces the same way. Loading always uses Keras' safe mode.
"""

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import h5py

from moodlens.emotions.preprocess import INPUT_SHAPE
from moodlens.errors import MoodlensError
from moodlens.labels import EMOTIONS
from moodlens.media.files import replaced

if TYPE_CHECKING:
    import keras

LABELS_ATTR = "moodlens_labels"
FRAMING_ATTR = "moodlens_framing"
# box: the finder's box, square, grown by the margin (FER2013's own framing, the default); aligned: by the
# face's landmarks (`preprocess.aligned_crop`, train.py --align). A file without the attribute is box.
FRAMINGS = ("box", "aligned")
UNSAFE = "it holds Python code (a Lambda layer), which safe mode refuses to run"


class LegacyFormatNote(logging.Filter):
    """Drops Keras' note, on every .h5 save, that HDF5 is a legacy format: it is this project's format."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "HDF5 file" not in record.getMessage()


LEGACY_FORMAT_NOTE = LegacyFormatNote()


def save_model(model: "keras.Model", labels: tuple[str, ...], path: Path, framing: str = "box") -> None:
    """Write `model`, its `labels` and the `framing` it learned to `path` (.h5) via a temporary file, then rename."""
    logging.getLogger("absl").addFilter(LEGACY_FORMAT_NOTE)  # Keras says it through absl's logger
    with replaced(path) as tmp:
        model.save(tmp, include_optimizer=False)
        with h5py.File(tmp, "a") as f:
            f.attrs[LABELS_ATTR] = json.dumps(list(labels))
            f.attrs[FRAMING_ATTR] = framing


def h5_reason(exc: Exception) -> str:
    """h5py's paragraph about a broken file, in a few words."""
    text = str(exc)
    if "truncated file" in text:
        return "truncated"
    if "signature not found" in text:
        return "empty, or not an HDF5 file"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def read_labels(path: Path | BinaryIO) -> tuple[str, ...]:
    """The label order stored in a model file, or in its bytes in memory (the seven emotions for a file
    without one)."""
    if isinstance(path, str | os.PathLike) and not Path(path).is_file():
        raise MoodlensError(f"model file {path} not found (train one with: python train.py)")
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get(LABELS_ATTR)
        labels = tuple(json.loads(raw)) if raw is not None else EMOTIONS
    except (OSError, ValueError) as exc:
        raise MoodlensError(f"cannot load model {path}: not a readable .h5 model file ({h5_reason(exc)})") from None
    if not labels or not set(labels) <= set(EMOTIONS):
        raise MoodlensError(f"model {path}: stored labels {labels} are not emotions")
    return labels


def read_framing(path: Path | BinaryIO) -> str:
    """The framing a model file learned (see FRAMINGS); call after `read_labels` has checked the file."""
    with h5py.File(path, "r") as f:
        raw = f.attrs.get(FRAMING_ATTR)
    return raw if raw in FRAMINGS else "box"


def load_model(path: Path) -> tuple["keras.Model", tuple[str, ...]]:
    """Load a model file in safe mode and check it maps 48x48x1 faces to one score per label."""
    import keras  # here, not at import: detection with a cached TFLite model needs no TensorFlow

    path = Path(path)
    labels = read_labels(path)
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # h5py and Keras raise many types for a broken or foreign file
        reason = UNSAFE if "safe_mode" in str(exc) else h5_reason(exc)
        raise MoodlensError(f"cannot load model {path}: {reason}") from None
    if tuple(model.input_shape[1:]) != INPUT_SHAPE:
        raise MoodlensError(
            f"model {path}: expected input shape {INPUT_SHAPE}, received {tuple(model.input_shape[1:])}"
        )
    if model.output_shape[-1] != len(labels):
        raise MoodlensError(
            f"model {path}: {model.output_shape[-1]} outputs for {len(labels)} labels ({', '.join(labels)})"
        )
    return model, labels
