"""Measuring a model on labelled faces: accuracy, per-class figures and their plots."""
