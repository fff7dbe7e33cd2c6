"""How far a model's confidence is from its accuracy (expected calibration error, ECE), and temperature
scaling, which narrows that gap (Guo et al., 2017, "On calibration of modern neural networks").

A face labelled with 80 % confidence should be right 80 % of the time. ECE sorts faces into bins by
their top probability and averages, weighted by the bins' sizes, the gap between each bin's mean
confidence and its accuracy. Temperature scaling divides the network's logits by one number T, fitted
on faces it did not train on: T > 1 softens overconfident scores, T < 1 sharpens timid ones (label
smoothing trains them timid). The ranking of the classes, and so accuracy, is unchanged.
"""

from pathlib import Path

import numpy as np

from moodlens.errors import MoodlensError
from moodlens.training.data import Split

BINS = 15
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 281))  # 1 % steps


def expected_calibration_error(scores: np.ndarray, truth: np.ndarray, bins: int = BINS) -> float:
    """ECE of class probabilities `scores` (N, classes) against true label indices `truth` (N,)."""
    confidence = scores.max(axis=1)
    right = scores.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap += in_bin.mean() * abs(confidence[in_bin].mean() - right[in_bin].mean())
    return float(gap)


def tempered(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax scores as the same network would give them with its logits divided by `temperature`."""
    logits = np.log(np.clip(scores, 1e-12, 1.0)) / temperature  # log-softmax differs from the logits by a constant
    logits -= logits.max(axis=1, keepdims=True)
    powers = np.exp(logits)
    return powers / powers.sum(axis=1, keepdims=True)


def log_loss(scores: np.ndarray, truth: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes."""
    return float(-np.mean(np.log(np.clip(scores[np.arange(len(truth)), truth], 1e-12, 1.0))))


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature (from 0.25 to 4) that gives `truth` the highest likelihood under `scores`."""
    return float(min(TEMPERATURES, key=lambda t: log_loss(tempered(scores, t), truth)))


def set_temperature(model, temperature: float) -> None:
    """Divide the logits of `model` (ending in a softmax Dense layer) by `temperature`, in its weights."""
    import keras

    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense) or last.activation is not keras.activations.softmax:
        raise MoodlensError(f"cannot calibrate {model.name}: it does not end in a softmax Dense layer")
    last.set_weights([w / temperature for w in last.get_weights()])


def calibrate_file(path: Path, faces: Split) -> float:
    """Fit the temperature of the model in `path` on `faces` (held out from its training), write it into
    the model file and print the calibration error before and after; returns the temperature."""
    from moodlens.emotions.modelio import load_model, read_framing, save_model

    model, labels = load_model(path)
    scores = model.predict(faces.x, batch_size=256, verbose=0)
    temperature = fit_temperature(scores, faces.y)
    set_temperature(model, temperature)
    save_model(model, labels, path, read_framing(path))
    after = tempered(scores, temperature)
    print(f"temperature {temperature:.2f} fitted on {len(faces)} held-out faces: calibration error "
          f"{expected_calibration_error(scores, faces.y):.3f} -> {expected_calibration_error(after, faces.y):.3f}, "
          f"log loss {log_loss(scores, faces.y):.3f} -> {log_loss(after, faces.y):.3f}")
    return temperature
