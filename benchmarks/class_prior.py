"""A class's prior raised or lowered after training, measured on every source: each face's scores (the
face's and its mirror's, averaged, as detect.py gives them) with one class's multiplied by a weight and
renormalised.

    python benchmarks/class_prior.py [--model model_file.h5] [--weights 0.6 0.8 1.25]
                                     [--json benchmarks/results/class_prior.json]

The failing faces of issue 20 fall into a few classes (sad and angry read as neutral, fear and sad as
disgust), so a lower prior for those classes is the cheapest lever: no training, no extra time a
face. Every source is read once through detect.py's defaults (`real_faces.py`); each class and weight
is then applied to the same scores. The JSON is `real_faces.py`'s, the model as it is first and each
weight named `<model>, <class> xW`, so `compare_sources.py` reads it; the lines printed are its verdicts.
"""

import argparse
import os
from pathlib import Path

import numpy as np
from common import ROOT
from compare_sources import verdict, worst
from real_faces import records_figures, source_records

from moodlens.detector import DEFAULT_THRESHOLD, EmotionDetector
from moodlens.faces.finders import DEFAULT_DETECTOR
from moodlens.media.outputs import write_json


def reweighted(records: list[dict], weights: np.ndarray, labels: tuple[str, ...]) -> list[dict]:
    """The records with each face's scores multiplied by `weights`, renormalised, and the top class again."""
    changed = []
    for record in records:
        if record["scores"] is not None:  # a photo without a face stays wrong
            scores = np.array(record["scores"]) * weights
            scores /= scores.sum()
            record = {**record, "scores": scores.tolist(), "predicted": labels[int(scores.argmax())]}
        changed.append(record)
    return changed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--weights", type=float, nargs="+", default=[0.6, 0.8, 1.25],
                   help="the factors tried on each class's score (default 0.6 0.8 1.25)")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "class_prior.json")
    args = p.parse_args()
    detector = EmotionDetector(args.model, detector=DEFAULT_DETECTOR)
    labels = detector.labels
    records = source_records(detector)
    model = os.path.relpath(args.model, ROOT)  # the name in the JSON, as real_faces.json names it
    reference = {"model": model, "detector": DEFAULT_DETECTOR, **records_figures(records, labels)}
    results = [reference]
    lowest = worst(reference)
    print(f"{model}: worst {lowest['accuracy']:.1%} ({lowest['source']})")
    for index, name in enumerate(labels):
        for weight in args.weights:
            weights = np.ones(len(labels))
            weights[index] = weight
            changed = {source: reweighted(rs, weights, labels) for source, rs in records.items()}
            result = {"model": f"{model}, {name} x{weight:g}", "detector": DEFAULT_DETECTOR,
                      **records_figures(changed, labels)}
            results.append(result)
            print(f"{name} x{weight:g}: {verdict(reference, result)}", flush=True)
    write_json({"threshold": DEFAULT_THRESHOLD, "results": results}, args.json)


if __name__ == "__main__":
    main()
