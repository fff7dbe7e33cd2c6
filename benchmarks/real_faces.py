"""Accuracy and calibration on real faces beside FER2013: docs/accuracy.md's "real faces" table, for one or more models.

    python benchmarks/real_faces.py [--model model_file.h5 ...] [--detector yunet] [--margin 0.09] [--svm]
                                    [--json benchmarks/results/real_faces.json]

Each model is measured through detect.py's own path (TFLite, int8 weights, mirror averaging):
- FER2013 test crops, against the original labels and against the FER+ annotators' majority;
- the posed photos of ../shared/posed/taiwanese, each photo's largest face found and framed as
  detect.py does: all photos, and the photos whose observers agree with the posed label (no neutral:
  observers had no such choice); on every performer, and on the 10 performers held out of training
  (`python -m moodlens.training.group_split ... --hold-out 10 --seed 0` draws the same ten), those
  also by performance type (calm, theatrical, Ekman-coded, recalled);
- the photos of ../shared/posed/yale, a second studio, found and framed the same way.
Each source's accuracy has its standard error beside it, and the sources are listed worst first.
`--svm` also fits baselines.py's SVM on HOG features on FER2013 train (about 4 CPU minutes) and measures
it on the same faces (it gives a label, not probabilities: no ECE, nothing uncertain).
"Accuracy" counts photos without a face as wrong; "labelled" also counts as wrong the faces detect.py
calls uncertain (top probability below its default threshold). "ECE" is the expected calibration
error of the faces found (`moodlens/emotions/calibration.py`).
"""

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from moodlens.detector import DEFAULT_MARGIN, DEFAULT_THRESHOLD, EmotionDetector  # noqa: E402
from moodlens.emotions.calibration import expected_calibration_error  # noqa: E402
from moodlens.evaluation.measure import evaluate_folder, votes_accuracy  # noqa: E402
from moodlens.evaluation.metrics import classification_report  # noqa: E402
from moodlens.faces.finders import DEFAULT_DETECTOR, DETECTORS  # noqa: E402
from moodlens.media.outputs import write_json  # noqa: E402
from moodlens.training.group_split import held_out_groups  # noqa: E402

SHARED = ROOT.parent / "shared"
POSED = SHARED / "posed" / "taiwanese"
YALE = SHARED / "posed" / "yale"
HELD_OUT = 10  # performers
PERFORMANCES = {"0": "calm", "1": "theatrical", "2": "ekman", "3": "recalled"}
SEED = 0


def subset_figures(records: list[dict], labels: tuple[str, ...]) -> dict:
    """Accuracy, accuracy with uncertain faces counted wrong, and recall per class."""
    def right(r: dict, threshold: float = 0.0) -> bool:
        return r["label"] == r["predicted"] and max(r["scores"]) >= threshold  # no face: predicted is None

    recall = {}
    for name in labels:
        of_class = [r for r in records if r["label"] == name]
        if of_class:
            recall[name] = sum(right(r) for r in of_class) / len(of_class)
    found = [r for r in records if r["scores"] is not None]
    ece = expected_calibration_error(np.array([r["scores"] for r in found]),
                                     np.array([labels.index(r["label"]) for r in found]))
    accuracy = sum(right(r) for r in records) / len(records)
    return {"photos": len(records), "accuracy": accuracy, "se": standard_error(accuracy, len(records)),
            "labelled": sum(right(r, DEFAULT_THRESHOLD) for r in records) / len(records), "ece": ece,
            "recall": recall}


def standard_error(accuracy: float, n: int) -> float:
    """One standard error of an accuracy measured on n faces."""
    return float(np.sqrt(accuracy * (1 - accuracy) / max(n, 1)))


def posed_figures(records: list[dict], posed: Path, labels: tuple[str, ...]) -> dict:
    """Figures of per-photo records (see `evaluation.evaluate_folder`) on all, observer-agreed,
    held-out and held-out agreed posed photos."""
    with open(posed / "labels.csv", newline="") as f:
        observed = {row["file"]: row["observer_max_category"] for row in csv.DictReader(f)}
    held = set(held_out_groups([Path(r["file"]) for r in records], HELD_OUT, seed=SEED))

    def agreed(r: dict) -> bool:
        return observed[f"{r['label']}/{Path(r['file']).name}"] == r["label"]

    def held_out(r: dict) -> bool:
        return Path(r["file"]).name[:2] in held

    subsets = {"all": records, "agreed": [r for r in records if agreed(r)],
               "held_out": [r for r in records if held_out(r)],
               "held_out_agreed": [r for r in records if held_out(r) and agreed(r)]}
    for digit, kind in PERFORMANCES.items():  # the file name's third character
        subsets[f"held_out_{kind}"] = [r for r in subsets["held_out"] if Path(r["file"]).name[2] == digit]
        subsets[f"held_out_{kind}_agreed"] = [r for r in subsets[f"held_out_{kind}"] if agreed(r)]
    # calm photos are neutral, which observers could not choose: no agreed ones
    figures = {name: subset_figures(rs, labels) for name, rs in subsets.items() if rs}
    figures["faces_found"] = sum(r["predicted"] is not None for r in records)
    figures["held_out_performers"] = sorted(held)
    return figures


def fer2013_figures(records: list[dict], labels: tuple[str, ...]) -> dict:
    """Accuracy, macro F1, ECE and recall against FER2013's labels, and accuracy against the FER+ majority."""
    truth = np.array([labels.index(r["label"]) for r in records])
    report = classification_report(truth, np.array([labels.index(r["predicted"]) for r in records]), labels)
    return {"accuracy": report["accuracy"], "se": standard_error(report["accuracy"], len(records)),
            "macro_f1": report["macro_f1"],
            "ece": expected_calibration_error(np.array([r["scores"] for r in records]), truth),
            "recall": {n: c["recall"] for n, c in report["per_class"].items()},
            "ferplus_majority": votes_accuracy(records, SHARED / "fer2013" / "ferplus_votes.csv", labels)}


class SVMScorer:
    """baselines.py's SVM on HOG, fitted on FER2013 train, as one-hot scores."""

    framing = "box"  # it learned FER2013's crops as they are

    def __init__(self, labels: tuple[str, ...]):
        from baselines import hog_features, methods
        from moodlens.training.data import load_folder_split

        train = load_folder_split(SHARED / "fer2013" / "train", labels)
        self.hog, self.svm, self.labels = hog_features, methods()["svm"][1], labels
        self.svm.fit(self.hog(train.x), train.y)

    def scores(self, faces: np.ndarray) -> np.ndarray:
        return np.eye(len(self.labels), dtype=np.float32)[self.svm.predict(self.hog(faces))]


def model_figures(model: Path, detector_name: str, svm: bool = False, margin: float = DEFAULT_MARGIN) -> dict:
    """The figures of `model` with the face finder `detector_name` and the box framing's `margin`, or with
    `svm` of the SVM baseline in place of its classifier."""
    detector = EmotionDetector(model, detector=detector_name, margin=margin)
    if svm:
        detector.classifier = SVMScorer(detector.labels)
    figures = {"model": "SVM on HOG (baselines.py)" if svm else str(model), "detector": detector_name,
               "margin": margin, **records_figures(source_records(detector), detector.labels)}
    if svm:  # one-hot scores: no calibration to measure, nothing below the threshold
        parts = (figures["fer2013_test"], figures["yale"], *figures["posed"].values())
        for part in parts:
            if isinstance(part, dict):
                part.pop("ece", None)
    return figures


def source_records(detector: EmotionDetector) -> dict[str, list[dict]]:
    """One record per face or photo of every source (see `evaluation.evaluate_folder`)."""
    return {"fer2013_test": evaluate_folder(detector, SHARED / "fer2013" / "test", photos=False)[1],
            "posed": evaluate_folder(detector, POSED, photos=True)[1],
            "yale": evaluate_folder(detector, YALE, photos=True)[1]}


def records_figures(records: dict[str, list[dict]], labels: tuple[str, ...]) -> dict:
    """The figures of every source from its records (`source_records`), and the sources worst first."""
    figures = {"fer2013_test": fer2013_figures(records["fer2013_test"], labels),
               "posed": posed_figures(records["posed"], POSED, labels),
               "yale": subset_figures(records["yale"], labels)}
    figures["sources"] = sources(figures)
    return figures


def sources(figures: dict) -> list[dict]:
    """Every source's accuracy and standard error, worst first."""
    fer, posed, yale = figures["fer2013_test"], figures["posed"], figures["yale"]
    votes = fer["ferplus_majority"]
    rows = [("FER2013 test", fer["accuracy"], fer["se"]),
            ("FER2013 test, FER+ majority", votes["accuracy"], standard_error(votes["accuracy"], votes["faces"])),
            ("posed, held-out performers", posed["held_out"]["accuracy"], posed["held_out"]["se"]),
            ("yale", yale["accuracy"], yale["se"])]
    rows += [(f"posed, held-out, {kind}", posed[f"held_out_{kind}"]["accuracy"], posed[f"held_out_{kind}"]["se"])
             for kind in PERFORMANCES.values()]
    return [{"source": name, "accuracy": accuracy, "se": se} for name, accuracy, se in sorted(rows, key=lambda r: r[1])]


def print_figures(figures: dict) -> None:
    fer, posed = figures["fer2013_test"], figures["posed"]
    print(f"\n{figures['model']} (faces found by {figures['detector']}), every source worst first:")
    for row in figures["sources"]:
        print(f"  {row['source']:32} {row['accuracy']:7.2%} +- {row['se']:.2%}")
    print(f"FER2013 test: {fer['accuracy']:.2%} (macro F1 {fer['macro_f1']:.3f}), "
          f"FER+ majority {fer['ferplus_majority']['accuracy']:.2%}, ECE {fer.get('ece', float('nan')):.3f}")
    print(f"posed photos, faces found {posed['faces_found']} of {posed['all']['photos']}")
    agreed = [(kind, posed[f"held_out_{kind}_agreed"]) for kind in PERFORMANCES.values()
              if f"held_out_{kind}_agreed" in posed]
    print("held-out performers by type, photos whose observers agree: "
          + ", ".join(f"{kind} {s['accuracy']:.2%} of {s['photos']}" for kind, s in agreed))
    for name in ("all", "agreed", "held_out", "held_out_agreed", "yale"):
        s = figures["yale"] if name == "yale" else posed[name]
        recall = " ".join(f"{k} {v:.2f}" for k, v in s["recall"].items())
        print(f"  {name:16} {s['photos']:5} photos  {s['accuracy']:.2%}  (labelled {s['labelled']:.2%}, "
              f"ECE {s.get('ece', float('nan')):.3f})  {recall}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, nargs="+", default=[ROOT / "model_file.h5"])
    p.add_argument("--detector", choices=DETECTORS, default=DEFAULT_DETECTOR, help="the face finder for photos")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                   help="the border around a photo's face box, as a share of its size, for models trained on "
                        "boxes (detect.py's --margin; FER2013's crops are whole faces already)")
    p.add_argument("--svm", action="store_true", help="also measure baselines.py's SVM on HOG features")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "real_faces.json")
    args = p.parse_args()
    runs = [(model, False) for model in args.model] + ([(args.model[0], True)] if args.svm else [])
    results = []
    for model, svm in runs:
        results.append(model_figures(model, args.detector, svm, args.margin))
        print_figures(results[-1])
    write_json({"threshold": DEFAULT_THRESHOLD, "results": results}, args.json)


if __name__ == "__main__":
    main()
