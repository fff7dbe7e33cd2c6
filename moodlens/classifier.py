"""Classifying face crops: the model file behind one compiled call for a whole batch of faces.

`model.predict` costs tens of milliseconds per call in Keras 3; a `tf.function` with a fixed
signature runs the same graph in a few, so every face of a frame goes through one such call.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf

from moodlens.modelio import load_model
from moodlens.preprocess import INPUT_SHAPE, to_model_input


class EmotionClassifier:
    """Scores faces with a saved model; `labels` names the score columns.

    Example:
        >>> clf = EmotionClassifier("model_file.h5")
        >>> clf.scores(np.stack([to_model_input(face_bgr)])).shape
        (1, 7)
    """

    def __init__(self, model_path: Path | str = "model_file.h5", tta: bool = False):
        self.model, self.labels = load_model(Path(model_path))
        self.tta = tta
        self._run = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)],
        )

    def scores(self, faces: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for faces (N, 48, 48, 1) float32 in [0, 1]."""
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        probs = self._run(tf.constant(faces, tf.float32)).numpy()
        if self.tta:  # average with the mirrored face: expressions are left-right symmetric
            probs = (probs + self._run(tf.constant(faces[:, :, ::-1], tf.float32)).numpy()) / 2
        return probs

    def classify(self, face_images: list[np.ndarray]) -> np.ndarray:
        """Scores for face crops of any size and colour (see `preprocess.to_model_input`)."""
        if not face_images:
            return self.scores(np.zeros((0, *INPUT_SHAPE), np.float32))
        return self.scores(np.stack([to_model_input(f) for f in face_images]))
