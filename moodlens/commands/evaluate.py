"""Measure a model on labelled faces: accuracy, per-class precision/recall/F1, confusion matrix.

    python evaluate.py --data ../shared/fer2013/test
    python evaluate.py --data data/test --model model_file.h5 --json report.json --plot confusion.png
    python evaluate.py --data ../shared/fer2013/test --votes ../shared/fer2013/ferplus_votes.csv
    python evaluate.py --data photos/ --photos      # full photos: face found, framed, classified

`--photos` takes photos of people in <emotion>/ folders through detect.py's path (the largest face
each photo shows); photos where no face is found count as wrong in "all photos".
"""

import argparse
from pathlib import Path

from moodlens import cli
from moodlens.commands.options import MODEL_NAME, default_model


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    from moodlens.emotions.classifier import DEFAULT_TTA

    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of <emotion>/ image folders")
    p.add_argument("--model", type=Path, default=None,
                   help=f"model file (default: {MODEL_NAME} in the current folder, else the one shipped with moodlens)")
    p.add_argument("--json", type=Path, help="write the figures as JSON")
    p.add_argument("--plot", type=Path, help="write the confusion matrix as PNG")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=DEFAULT_TTA,
                   help="average each face with its mirror image, as detect.py does (default on)")
    p.add_argument("--photos", action="store_true",
                   help="the images are photos of people, not face crops: find and crop the face as detect.py does")
    p.add_argument("--votes", type=Path, metavar="CSV",
                   help="also measure against the annotators' majority label (FER+'s ferplus_votes.csv)")
    p.add_argument("--batch-size", type=cli.positive_int, default=256)
    args = p.parse_args(argv)
    args.model = args.model or default_model()
    if args.votes is not None and not args.votes.is_file():
        p.error(f"--votes: file {args.votes} not found")
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    import numpy as np

    from moodlens.detector import EmotionDetector
    from moodlens.errors import MoodlensError
    from moodlens.evaluation.measure import evaluate_folder, votes_accuracy
    from moodlens.evaluation.metrics import format_report
    from moodlens.evaluation.plots import plot_confusion
    from moodlens.media.outputs import check_writable, write_json

    outputs = [(args.json, "report", lambda path: write_json(report, path)),
               (args.plot, "plot", lambda path: plot_confusion(np.array(report["confusion"]), detector.labels, path))]
    for path, what, _ in outputs:
        if path:  # refused now, not after the whole evaluation
            check_writable(path, what)
    detector = EmotionDetector(args.model, tta=args.tta)
    report, records = evaluate_folder(detector, args.data, args.photos, args.batch_size)
    report.update(model=str(args.model), data=str(args.data), tta=args.tta, photos=args.photos)
    print(format_report(report))
    if args.photos:
        print(f"faces found in {report['faces_found']} of {report['images']} photos; "
              f"accuracy on all photos {report['accuracy_all']:.4f}")
    if args.votes:
        report["votes"] = votes_accuracy(records, args.votes, detector.labels)
        print(f"against the annotators' majority: accuracy {report['votes']['accuracy']:.4f} "
              f"on {report['votes']['faces']} faces")
    report["images_detail"] = records
    for path, what, write in outputs:
        if path:
            try:
                write(path)
            except OSError as exc:  # a full disk, mid-run
                raise MoodlensError(f"cannot write {what} {path}: {cli.os_error_text(exc)}") from None

