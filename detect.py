"""See emotions live: boxes, emotions and confidences on every face of a webcam, video or photo.

    python detect.py                                   # webcam 0, q or Esc quits
    python detect.py --source clip.mp4 --output annotated.mp4 --log faces.jsonl
    python detect.py --source photos/ --no-window --output annotated/ --log faces.csv
"""

import argparse
import sys
from pathlib import Path

from moodlens import cli

cli.quiet_tensorflow()


def smoothing(text: str) -> float:
    value = cli.fraction(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a value from 0 to below 1, received {value}")
    return value


def parse_args():
    from moodlens.classifier import DEFAULT_TTA
    from moodlens.detector import DEFAULT_DETECTOR, DEFAULT_REDETECT, DEFAULT_SMOOTH, DEFAULT_THRESHOLD, DETECTORS
    from moodlens.faces import CascadeParams

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="0",
                   help="camera index, video file, image, folder of images or stream URL (default: 0)")
    p.add_argument("--model", type=Path, default=Path("model_file.h5"), help="model file (default: model_file.h5)")
    p.add_argument("--no-window", action="store_true", help="run headless (automatic where no display exists)")
    p.add_argument("--fast", action="store_true",
                   help="in the window, process a video file flat out rather than at its own frame rate "
                        "(headless runs always are)")
    p.add_argument("--output", type=Path, help="write the annotated video, image, or folder of images")
    p.add_argument("--log", type=Path, help="write one record per face per frame (.jsonl or .csv)")
    p.add_argument("--cascade", type=Path, help="Haar cascade XML (default: OpenCV's frontal face cascade)")
    p.add_argument("--scale-factor", type=float, default=1.1, help="cascade image pyramid step (> 1)")
    p.add_argument("--min-neighbors", type=int, default=5, help="cascade votes a face needs (>= 0)")
    p.add_argument("--min-size", type=cli.positive_int, default=30, help="smallest face side in pixels")
    p.add_argument("--min-face", type=cli.fraction, default=CascadeParams.min_face,
                   help="smallest face side as a fraction of the frame's shorter side (default 0: any face of "
                        "--min-size pixels or more)")
    p.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR,
                   help=f"face finder: the Haar cascade, or BlazeFace, a DNN for close and mid-range faces "
                        f"(default {DEFAULT_DETECTOR})")
    p.add_argument("--no-check", action="store_true",
                   help="keep every cascade candidate (no second-cascade check against phantom faces)")
    p.add_argument("--smooth", type=smoothing, default=DEFAULT_SMOOTH,
                   help=f"label smoothing over video frames, 0 (off) to below 1 (default {DEFAULT_SMOOTH})")
    p.add_argument("--redetect", type=cli.positive_int, default=DEFAULT_REDETECT,
                   help=f"search whole video frames every N frames, follow known faces in between "
                        f"(default {DEFAULT_REDETECT})")
    p.add_argument("--threshold", type=cli.fraction, default=DEFAULT_THRESHOLD,
                   help=f"below this top probability a face is labelled uncertain (default {DEFAULT_THRESHOLD}, "
                        "0 never)")
    p.add_argument("--margin", type=cli.fraction, default=None,
                   help="border added around each face box before classifying, as a fraction of its size")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=DEFAULT_TTA,
                   help="also classify the mirrored face and average (default on: +1 point on FER2013 test)")
    p.add_argument("--backend", choices=("tflite", "tf"), default="tflite", help="inference path (default tflite)")
    p.add_argument("--threads", type=cli.positive_int, default=None, help="CPU threads for inference")
    args = p.parse_args()
    if args.scale_factor <= 1:
        p.error(f"--scale-factor: expected a value above 1, received {args.scale_factor}")
    if args.min_neighbors < 0:
        p.error(f"--min-neighbors: expected 0 or more, received {args.min_neighbors}")
    return args


def main() -> None:
    args = parse_args()
    from moodlens.detector import DEFAULT_MARGIN, EmotionDetector
    from moodlens.faces import CascadeParams
    from moodlens.live import detect_source, display_available
    from moodlens.sources import Source

    params = CascadeParams(args.scale_factor, args.min_neighbors, args.min_size, args.min_face, not args.no_check)
    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    detector = EmotionDetector(args.model, args.cascade, params, margin=margin, threshold=args.threshold,
                               tta=args.tta, backend=args.backend, threads=args.threads, detector=args.detector)
    source = Source(args.source)
    window = not args.no_window and display_available()
    if not args.no_window and not window:
        print("note: no display found, running without a window", file=sys.stderr)
    try:
        summary = detect_source(detector, source, window, args.output, args.log, args.smooth, args.redetect,
                                paced=not args.fast)
    finally:
        source.close()
    print(summary.line(args.source))


if __name__ == "__main__":
    cli.run(main)
