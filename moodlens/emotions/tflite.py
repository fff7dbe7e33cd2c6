"""The TFLite form of a model file, converted once and cached by the file's content.

Converting needs TensorFlow (seconds); running the cached .tflite needs only LiteRT, so a later
start of detect.py skips TensorFlow entirely. The .h5 file is read once; the cache key is the SHA-256
of those bytes (and the conversion's kind), and the labels and the conversion come from the same
bytes: a retrained model_file.h5 can never be served by a stale conversion, even one replaced
mid-load. An entry LiteRT cannot load (empty, truncated) is rebuilt.

The weights are stored as 8-bit integers (dynamic-range quantization: no calibration data needed)
and XNNPACK quantizes activations on the fly: faster than float per face on one core
(docs/detection.md, Speed), at the float model's accuracy within noise (model card, "Int8 weights").
"""

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from moodlens.emotions.preprocess import INPUT_SHAPE
from moodlens.errors import MoodlensError, os_error_text
from moodlens.media.files import replaced
from moodlens.native import native_stderr_silenced

CONVERSION = "int8-weights"  # part of the cache key: a change of conversion never reuses an old file


def cache_dir() -> Path:
    """$MOODLENS_CACHE, else $XDG_CACHE_HOME/moodlens, else ~/.cache/moodlens."""
    if os.environ.get("MOODLENS_CACHE"):
        return Path(os.environ["MOODLENS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "moodlens"


class NamedBytes(io.BytesIO):
    """A file's bytes in memory, for h5py; shown as the file's path, so errors still name it."""

    def __init__(self, data: bytes, path: Path):
        super().__init__(data)
        self.path = path

    def __str__(self) -> str:
        return str(self.path)


def read_model_bytes(path: Path) -> bytes:
    """A model file's bytes, read once: its cache key, labels and conversion all come from them."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MoodlensError(f"model file {path} not found (train one with: python train.py)") from None
    except OSError as exc:
        raise MoodlensError(f"cannot read model {path}: {os_error_text(exc)}") from None


def convert(data: bytes, model_path: Path) -> bytes:
    """Load a model's bytes in safe mode (checking its shapes) and convert them to TFLite, int8 weights.

    Keras loads only from a path, so the bytes go to a private copy of the same name; errors name the
    user's file.
    """
    import tensorflow as tf

    from moodlens.emotions.modelio import load_model

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / model_path.name
        copy.write_bytes(data)
        try:
            model, _ = load_model(copy)
        except MoodlensError as exc:
            raise MoodlensError(str(exc).replace(str(copy), str(model_path))) from None
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights; see the module docstring
    with contextlib.redirect_stdout(io.StringIO()):  # the converter lists every captured tensor
        return converter.convert()


def store(entry: Path, data: bytes) -> None:
    """Write a cache entry whole (a crash leaves none rather than a torn one)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with replaced(entry) as tmp:
            tmp.write_bytes(data)
    except OSError:
        pass  # a read-only cache only costs the conversion next time


class TFLiteRunner:
    """A LiteRT interpreter with XNNPACK, resized only when the batch size changes."""

    def __init__(self, data: bytes, threads: int | None):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_content=data, num_threads=threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.batch = 0

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) != self.batch:
            self.interpreter.resize_tensor_input(self.input, list(faces.shape))
            with native_stderr_silenced():  # LiteRT announces its XNNPACK delegate on stderr
                self.interpreter.allocate_tensors()
            self.batch = len(faces)
        self.interpreter.set_tensor(self.input, np.ascontiguousarray(faces, np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output).copy()


    def fits(self, labels: tuple[str, ...]) -> bool:
        """Whether the model takes 48x48x1 faces and gives one score per label."""
        shape = self.interpreter.get_input_details()[0]["shape"]
        return tuple(shape[1:]) == INPUT_SHAPE and self.interpreter.get_output_details()[0]["shape"][-1] == len(labels)


def cached_runner(entry: Path, labels: tuple[str, ...], threads: int | None) -> TFLiteRunner | None:
    """The runner of a cache entry, or None when there is none or it is damaged (empty, truncated, not
    this model's): LiteRT verifies the flatbuffer as it loads, and the shapes must fit the labels."""
    try:
        runner = TFLiteRunner(entry.read_bytes(), threads)
    except (OSError, ValueError, RuntimeError):
        return None
    return runner if runner.fits(labels) else None


def load_tflite(model_path: Path, threads: int | None = None) -> tuple[Callable, tuple[str, ...], str]:
    """A callable scoring (N, 48, 48, 1) faces, the model's labels and framing, all from one read of
    the file; a missing or damaged cache entry is (re)built from the model's bytes."""
    from moodlens.emotions.modelio import read_framing, read_labels

    data = read_model_bytes(model_path)
    labels = read_labels(NamedBytes(data, model_path))
    framing = read_framing(NamedBytes(data, model_path))
    entry = cache_dir() / f"{hashlib.sha256(data).hexdigest()}.{CONVERSION}.tflite"
    runner = cached_runner(entry, labels, threads)
    if runner is None:
        converted = convert(data, model_path)
        store(entry, converted)
        runner = TFLiteRunner(converted, threads)
    return runner, labels, framing
