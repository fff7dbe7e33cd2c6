"""Measure a model on labelled faces: accuracy, per-class precision/recall/F1, confusion matrix.

Run as `python evaluate.py ...` or, once installed, `moodlens evaluate ...`: both are moodlens/commands/evaluate.py
(`python evaluate.py --help` lists the options).
"""

from moodlens.commands import run_command

if __name__ == "__main__":
    run_command("evaluate")
