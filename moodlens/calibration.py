"""How far a model's confidence is from its accuracy: expected calibration error (ECE).

A face labelled with 80 % confidence should be right 80 % of the time. ECE sorts faces into bins by
their top probability and averages, weighted by the bins' sizes, the gap between each bin's mean
confidence and its accuracy (Guo et al., 2017, "On calibration of modern neural networks").
"""

import numpy as np

BINS = 15


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
