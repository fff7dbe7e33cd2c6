"""Classifying face crops: the model file behind one compiled call for a whole batch of faces.

Two inference paths:
    tflite  the model converted once to TFLite with 8-bit weights and run by LiteRT with XNNPACK
            (default): several times faster per face than the float model (docs/detection.md, Speed),
            and detect.py starts without importing TensorFlow. The conversion is cached per model file
            content (see `tflite.py`); its accuracy matches the float model's within noise (model
            card, "Int8 weights").
    tf      a `tf.function` with a fixed input signature over the float Keras model.
`model.predict` is never used per frame: in Keras 3 each call costs tens of milliseconds.
"""

from pathlib import Path

import numpy as np

from moodlens.emotions.modelio import read_framing
from moodlens.emotions.preprocess import INPUT_SHAPE, to_model_input
from moodlens.emotions.tflite import load_tflite
from moodlens.errors import MoodlensError

BACKENDS = ("tflite", "tf")
# Averaging each face with its mirror image lifts FER2013 test accuracy, for a second model call per
# face; the gain for the committed model is in model_card/README.md (Accuracy: with and without `--no-tta`).
DEFAULT_TTA = True


class TFFunctionRunner:
    """The Keras model behind a `tf.function` traced once for any batch size."""

    def __init__(self, model_path: Path):
        import tensorflow as tf

        from moodlens.emotions.modelio import load_model

        self.model, self.labels = load_model(model_path)
        self._tf = tf
        self._run = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)],
        )

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        return self._run(self._tf.constant(faces)).numpy()


class EmotionClassifier:
    """Scores faces with a saved model; `labels` names the score columns.

    Args:
        model_path: a model file written by train.py (.h5).
        tta: also score each face's mirror image and average (test-time augmentation; on by default).
        backend: "tflite" (default) or "tf"; see the module docstring.
        threads: CPU threads for inference (tflite only; None lets LiteRT choose).

    Example:
        >>> clf = EmotionClassifier("model_file.h5")
        >>> clf.classify([face_bgr]).shape
        (1, 7)
    """

    def __init__(self, model_path: Path | str = "model_file.h5", tta: bool = DEFAULT_TTA,
                 backend: str = "tflite", threads: int | None = None):
        if backend not in BACKENDS:
            raise MoodlensError(f"unknown backend {backend!r} (expected one of {', '.join(BACKENDS)})")
        model_path = Path(model_path)
        # framing: how the faces the model learned from were cropped (see modelio.FRAMINGS)
        if backend == "tflite":
            self._run, self.labels, self.framing = load_tflite(model_path, threads)
        else:
            runner = TFFunctionRunner(model_path)
            self._run, self.labels, self.framing = runner, runner.labels, read_framing(model_path)
        self.tta, self.backend = tta, backend

    def scores(self, faces: np.ndarray, mirrored: bool | None = None) -> np.ndarray:
        """Class probabilities (N, classes) for faces (N, 48, 48, 1) float32 in [0, 1].

        `mirrored` None scores the faces as `tta` says; False scores the faces alone, True their
        mirror images alone (a video alternates the two, see `detector.FaceStream`).
        """
        faces = np.asarray(faces, np.float32)
        if faces.ndim != 4 or faces.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"expected faces of shape (N, {', '.join(map(str, INPUT_SHAPE))}), received {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        if mirrored is not None:
            return self._run(faces[:, :, ::-1] if mirrored else faces)
        if not self.tta:
            return self._run(faces)
        # Expressions are left-right symmetric: average each face with its mirror, in one call.
        both = self._run(np.concatenate([faces, faces[:, :, ::-1]]))
        return (both[: len(faces)] + both[len(faces) :]) / 2

    def classify(self, face_images: list[np.ndarray], mirrored: bool | None = None) -> np.ndarray:
        """Scores for face crops of any size and colour (see `preprocess.to_model_input`; `mirrored`: see `scores`)."""
        if not face_images:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.scores(np.stack([to_model_input(f) for f in face_images]), mirrored)
