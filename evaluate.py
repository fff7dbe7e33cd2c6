"""Measure a model on labelled faces: accuracy, per-class precision/recall/F1, confusion matrix.

    python evaluate.py --data ../shared/fer2013/test
    python evaluate.py --data data/test --model model_file.h5 --json report.json --plot confusion.png
"""

import argparse
from pathlib import Path

from moodlens import cli

cli.quiet_tensorflow()


def parse_args():
    from moodlens.classifier import DEFAULT_TTA

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of <emotion>/ image folders")
    p.add_argument("--model", type=Path, default=Path("model_file.h5"))
    p.add_argument("--json", type=Path, help="write the figures as JSON")
    p.add_argument("--plot", type=Path, help="write the confusion matrix as PNG")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=DEFAULT_TTA,
                   help="average each face with its mirror image, as detect.py does (default on)")
    p.add_argument("--batch-size", type=cli.positive_int, default=256)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    import numpy as np

    from moodlens.classifier import EmotionClassifier
    from moodlens.data import load_folder_split
    from moodlens.errors import MoodlensError
    from moodlens.metrics import classification_report, format_report
    from moodlens.outputs import check_writable, write_json
    from moodlens.plots import plot_confusion

    outputs = [(args.json, "report", lambda path: write_json(report, path)),
               (args.plot, "plot", lambda path: plot_confusion(np.array(report["confusion"]), classifier.labels, path))]
    for path, what, _ in outputs:
        if path:  # refused now, not after the whole evaluation
            check_writable(path, what)
    classifier = EmotionClassifier(args.model, tta=args.tta)
    split = load_folder_split(args.data, classifier.labels)
    scores = np.concatenate([classifier.scores(split.x[i : i + args.batch_size])
                             for i in range(0, len(split), args.batch_size)])
    report = classification_report(split.y, scores.argmax(axis=1), classifier.labels)
    report.update(model=str(args.model), data=str(args.data), tta=args.tta)
    print(format_report(report))
    for path, what, write in outputs:
        if path:
            try:
                write(path)
            except OSError as exc:  # a full disk, mid-run
                raise MoodlensError(f"cannot write {what} {path}: {cli.os_error_text(exc)}") from None


if __name__ == "__main__":
    cli.run(main)
