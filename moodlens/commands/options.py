"""Options shared by the commands that detect faces (detect, analyze), and the detector they describe."""

import argparse
from pathlib import Path

from moodlens import cli
from moodlens.detector import (
    DEFAULT_MARGIN,
    DEFAULT_REDETECT,
    DEFAULT_SMOOTH,
    DEFAULT_THRESHOLD,
    DetectorSpec,
)
from moodlens.emotions.classifier import DEFAULT_TTA
from moodlens.faces.cascade import CascadeParams
from moodlens.faces.finders import DEFAULT_DETECTOR, DETECTORS

MODEL_NAME = "model_file.h5"
# The committed model, inside the package (in a checkout a symlink to the top-level file; a wheel holds a copy).
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / MODEL_NAME


def default_model() -> Path:
    """model_file.h5 in the current folder (what train.py writes by default), else the shipped model."""
    local = Path(MODEL_NAME)
    return local if local.is_file() else SHIPPED_MODEL


def smoothing(text: str) -> float:
    """argparse type: a smoothing factor from 0 to below 1."""
    value = cli.fraction(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a value from 0 to below 1, received {value}")
    return value



def add_detector_options(p: argparse.ArgumentParser) -> None:
    """The model, face-search, labelling and video-smoothing options."""
    p.add_argument("--model", type=Path, default=None,
                   help=f"model file (default: {MODEL_NAME} in the current folder, else the one shipped with moodlens)")
    p.add_argument("--cascade", type=Path, help="Haar cascade XML (default: OpenCV's frontal face cascade)")
    search = CascadeParams()  # the defaults live there, as detect.py's do
    p.add_argument("--scale-factor", type=float, default=None,
                   help=f"cascade image pyramid step (> 1; default {search.scale_factor:g} on photos, "
                        f"{search.video_scale_factor:g} on a video's whole-frame searches)")
    p.add_argument("--min-neighbors", type=int, default=None,
                   help=f"cascade votes a face needs (>= 0; default {search.min_neighbors})")
    p.add_argument("--min-size", type=cli.positive_int, default=search.min_size, help="smallest face side in pixels")
    p.add_argument("--min-face", type=cli.fraction, default=search.min_face,
                   help=f"smallest face side as a fraction of the frame's shorter side (default {search.min_face:g}: "
                        "any face of --min-size pixels or more)")
    p.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR,
                   help=f"face finder: YuNet, a small DNN that also finds each face's eyes, nose and mouth (and so "
                        f"its pose); the Haar cascade (the classic recipe); or BlazeFace, a DNN for close and "
                        f"mid-range faces (default {DEFAULT_DETECTOR})")
    p.add_argument("--face-model", type=Path, default=None,
                   help="YuNet's ONNX file (default: the one shipped with moodlens)")
    p.add_argument("--no-check", action="store_true",
                   help="keep every cascade candidate (no second-cascade check against phantom faces)")
    p.add_argument("--smooth", type=smoothing, default=DEFAULT_SMOOTH,
                   help=f"label smoothing over video frames, 0 (off) to below 1 (default {DEFAULT_SMOOTH})")
    p.add_argument("--redetect", type=cli.positive_int, default=DEFAULT_REDETECT,
                   help=f"haar and blazeface: search whole video frames every N frames, follow known faces in "
                        f"between (default {DEFAULT_REDETECT}; yunet searches every frame)")
    p.add_argument("--threshold", type=cli.fraction, default=DEFAULT_THRESHOLD,
                   help=f"below this top probability a face is labelled uncertain (default {DEFAULT_THRESHOLD}, "
                        "0 never)")
    p.add_argument("--margin", type=cli.fraction, default=None,
                   help=f"border added around each face box before classifying, as a fraction of its size "
                        f"(default {DEFAULT_MARGIN}; a model trained with train.py --align frames YuNet's faces by "
                        f"their landmarks instead)")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=DEFAULT_TTA,
                   help="also classify the mirrored face and average (default on; its gain: docs/accuracy.md)")


# The face finders that read each option: given with another finder, it would be silently ignored.
# YuNet searches every frame whole (no --redetect).
OPTION_FINDERS = {
    "cascade": ("haar",), "scale_factor": ("haar",), "min_neighbors": ("haar",), "no_check": ("haar",),
    "face_model": ("yunet",), "redetect": ("haar", "blazeface"),
}


def check_detector_options(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse values argparse's types cannot (they depend on the option), and options the chosen face
    finder does not read."""
    for name, finders in OPTION_FINDERS.items():
        if getattr(args, name) != p.get_default(name) and args.detector not in finders:
            p.error(f"--{name.replace('_', '-')}: applies to --detector {' or '.join(finders)}, not {args.detector}")
    if args.scale_factor is not None and args.scale_factor <= 1:
        p.error(f"--scale-factor: expected a value above 1, received {args.scale_factor}")
    if args.min_neighbors is not None and args.min_neighbors < 0:
        p.error(f"--min-neighbors: expected 0 or more, received {args.min_neighbors}")


def detector_spec(args: argparse.Namespace, backend: str = "tflite", threads: int | None = None) -> DetectorSpec:
    """The detector the parsed options describe."""
    steps: dict = {} if args.scale_factor is None else {"scale_factor": args.scale_factor,
                                                  "video_scale_factor": args.scale_factor}
    if args.min_neighbors is not None:
        steps["min_neighbors"] = args.min_neighbors
    params = CascadeParams(**steps, min_size=args.min_size, min_face=args.min_face, check=not args.no_check)
    return DetectorSpec(args.model or default_model(), args.cascade, params,
                        DEFAULT_MARGIN if args.margin is None else args.margin, args.threshold, args.tta,
                        backend, threads, args.detector, args.face_model)
