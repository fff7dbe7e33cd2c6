"""See emotions live: boxes, emotions and confidences on every face of a webcam, video or photo.

    python detect.py                                   # webcam 0, q or Esc quits
    python detect.py --source clip.mp4 --output annotated.mp4 --log faces.jsonl
    python detect.py --source photos/ --no-window --output annotated/ --log faces.csv
"""

import argparse
import sys
from pathlib import Path

from moodlens import cli
from moodlens.commands.options import add_detector_options, check_detector_options, detector_spec


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="0",
                   help="camera index, video file, image, folder of images or stream URL (default: 0)")
    p.add_argument("--no-window", action="store_true", help="run headless (automatic where no display exists)")
    p.add_argument("--fast", action="store_true",
                   help="in the window, process a video file flat out rather than at its own frame rate "
                        "(headless runs always are)")
    p.add_argument("--output", type=Path, help="write the annotated video, image, or folder of images")
    p.add_argument("--log", type=Path, help="write one record per face per frame (.jsonl or .csv)")
    add_detector_options(p)
    p.add_argument("--backend", choices=("tflite", "tf"), default="tflite", help="inference path (default tflite)")
    p.add_argument("--threads", type=cli.positive_int, default=None, help="CPU threads for inference")
    args = p.parse_args(argv)
    check_detector_options(p, args)
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    from moodlens.live import detect_source, display_available
    from moodlens.media.sources import Source

    detector = detector_spec(args, args.backend, args.threads).build()
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
