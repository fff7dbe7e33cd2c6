"""The aligned crop's size and height, for a model trained on aligned faces: every source at each framing.

    python benchmarks/aligned_framing.py --model MODEL [--sides 2.35 2.58 2.8] [--eye-lines 0.383]
                                         [--json benchmarks/results/aligned_framing.json]

A model trained with `train.py --align` learned one framing: the crop's side SIDE_PER_SCALE times the
face's scale, the eyes EYE_LINE of the way down (`moodlens/emotions/preprocess.py`, where FER2013's
faces have them). Here each other side and height is applied at detection only, to every source of
`real_faces.py` (FER2013's test crops are aligned with it too), so the table says how far the model
holds off its own framing, and whether a tighter or looser crop reads some source better: a reason to
train at that framing, not a setting to change at detection. Compare the framings with
`python benchmarks/compare_sources.py benchmarks/results/aligned_framing.json`, whose first result is
the model's own framing.
"""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from common import ROOT
from real_faces import print_figures, records_figures, source_records

from moodlens.detector import DEFAULT_THRESHOLD, EmotionDetector
from moodlens.emotions import preprocess
from moodlens.emotions.modelio import read_framing, read_labels
from moodlens.errors import MoodlensError
from moodlens.media.outputs import write_json


def framings(sides: list[float], eye_lines: list[float]) -> list[tuple[float, float]]:
    """The model's own framing first, then every other (side, eye line) pair asked for."""
    own = (preprocess.SIDE_PER_SCALE, preprocess.EYE_LINE)
    others = [(side, line) for side in sides for line in eye_lines if (side, line) != own]
    return [own, *others]


@contextmanager
def framed(side: float, eye_line: float) -> Iterator[None]:
    """The aligned crop, everywhere it is made, with this side (in face scales) and eye line, until the end."""
    with mock.patch.object(preprocess, "SIDE_PER_SCALE", side), mock.patch.object(preprocess, "EYE_LINE", eye_line):
        yield


def framing_figures(detector: EmotionDetector, model: Path, side: float, eye_line: float) -> dict:
    """`real_faces.py`'s figures of `detector` (its model file `model`) with the aligned crop framed so."""
    with framed(side, eye_line):
        records = source_records(detector)
    return {"model": f"{model}, side {side}, eye line {eye_line}", "detector": "yunet", "side": side,
            "eye_line": eye_line, **records_figures(records, detector.labels)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="a model file trained with train.py --align")
    p.add_argument("--sides", type=float, nargs="+", default=[2.35, preprocess.SIDE_PER_SCALE, 2.8],
                   help="the crop's side, in face scales")
    p.add_argument("--eye-lines", type=float, nargs="+", default=[preprocess.EYE_LINE],
                   help="the eyes' height in the crop, as a share of its side from the top")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "aligned_framing.json")
    args = p.parse_args()
    try:
        read_labels(args.model)
    except MoodlensError as exc:
        raise SystemExit(f"error: {exc}") from None
    if read_framing(args.model) != "aligned":
        raise SystemExit(f"error: {args.model} learned boxes, not aligned faces: see real_faces.py --margin")
    detector = EmotionDetector(args.model, detector="yunet")  # loaded once: only the crop changes
    results = []
    for side, eye_line in framings(args.sides, args.eye_lines):
        results.append(framing_figures(detector, args.model, side, eye_line))
        print_figures(results[-1])
    write_json({"threshold": DEFAULT_THRESHOLD, "results": results}, args.json)


if __name__ == "__main__":
    main()
