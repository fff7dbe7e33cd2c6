"""Real faces, not crops: face counts, steady labels and framing, measured before and after.

    python benchmarks/face_quality.py [--model model_file.h5] [--json benchmarks/results/face_quality.json]

1. Face counts on the photos of ../shared/media against the counts a person sees (its README):
   the stock cascade (scaleFactor 1.1, minNeighbors 5, minSize 30) against our FaceFinder.
   Precision and recall are by count (found faces beyond the true count are phantoms; this
   assumes the detections up to the true count are real, which the overlay pictures confirm).
2. Videos: share of frames with a face, flicker (how often a face's top label changes between
   consecutive frames) with smoothing off and on, box jitter (the mean frame-to-frame change of the
   box's size and centre, relative to its size) with the track's box averaging off and on, and the
   lag smoothing adds on the video whose expression really changes (frames from the raw label
   settling to the smoothed one settling).
3. Framing: on FER2013 test faces enlarged 4x, the Haar box's size relative to the FER crop
   (which fixes the margin), and the accuracy of classifying the Haar crop at several margins.
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moodlens.detector import EmotionDetector  # noqa: E402
from moodlens.faces import DEFAULT_CASCADE, CascadeParams, FaceFinder  # noqa: E402
from moodlens.labels import EMOTIONS  # noqa: E402
from moodlens.metrics import box_jitter, label_flicker  # noqa: E402
from moodlens.outputs import write_json  # noqa: E402
from moodlens.preprocess import crop_face  # noqa: E402
from moodlens.tracking import BOX_SMOOTH  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
FER_TEST = ROOT.parent / "shared" / "fer2013" / "test"
PHOTO_FACES = {  # what a person sees, from ../shared/media/README.md
    "fr_obama.jpg": 1, "fr_two_people.jpg": 2, "fr_kit_with_rose.jpg": 2, "deepface_img3.jpg": 1,
    "deepface_img5.jpg": 1, "fer_justin.jpg": 1, "deepface_selfie-many-people.jpg": 9, "fer_no-faces.jpg": 0,
}
VIDEOS = ("fer_woman2.mp4", "huimiang_1543684773.avi")
CHANGING_VIDEO = "huimiang_1543684773.avi"
STOCK_CASCADE = cv2.CascadeClassifier(str(DEFAULT_CASCADE))
SMOOTHING = (0.0, 0.6, 0.8, 0.9)
FRAMING_FACES = 100  # per class
MARGINS = (0.0, 0.09, 0.2, 0.3)
UPSCALE = 4


def count_precision_recall(found: dict[str, int]) -> dict:
    hits = sum(min(n, PHOTO_FACES[k]) for k, n in found.items())
    return {"precision": hits / max(sum(found.values()), 1), "recall": hits / sum(PHOTO_FACES.values()),
            "exact_files": sum(n == PHOTO_FACES[k] for k, n in found.items()), "files": len(found), "found": found}


def stock_find(gray: np.ndarray) -> list:
    """The usual tutorial search: the default cascade at full resolution, nothing else."""
    return list(STOCK_CASCADE.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30)))


def photo_counts() -> dict:
    gray = {name: cv2.cvtColor(cv2.imread(str(MEDIA / name)), cv2.COLOR_BGR2GRAY) for name in PHOTO_FACES}
    finder = FaceFinder()
    return {"stock": count_precision_recall({name: len(stock_find(g)) for name, g in gray.items()}),
            "ours": count_precision_recall({name: len(finder.find(g)) for name, g in gray.items()})}


def read_frames(path: Path) -> list[np.ndarray]:
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


Run = list[tuple[str, tuple] | None]  # per frame: the largest face's label and box, or None


def stock_run(detector: EmotionDetector, frames: list[np.ndarray]) -> Run:
    """Before: every frame searched by the stock cascade and labelled from its own scores alone."""
    run = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = [tuple(int(v) for v in b) for b in sorted(stock_find(gray), key=lambda b: b[2], reverse=True)[:1]]
        probs = detector.score(gray, boxes)
        run.append((detector.labels[int(probs[0].argmax())], boxes[0]) if boxes else None)
    return run


def stream_run(detector: EmotionDetector, frames: list[np.ndarray], smooth: float, box_smooth: float) -> Run:
    """After: our FaceStream (tracking, local re-search, averaged boxes and scores)."""
    stream = detector.stream(smooth=smooth)
    stream.tracker.box_smooth = box_smooth
    run = []
    for frame in frames:
        faces = stream.process(frame)
        face = max(faces, key=lambda d: d.box[2]) if faces else None
        run.append((face.emotion, face.box) if face else None)
    return run


def settle_frame(labels: list, final: str, hold: int = 10) -> int | None:
    """First frame from which `final` stays the label for `hold` frames."""
    for i in range(len(labels) - hold):
        if all(x == final for x in labels[i : i + hold]):
            return i
    return None


def videos(detector: EmotionDetector) -> dict:
    result = {}
    for name in VIDEOS:
        frames = read_frames(MEDIA / name)
        runs = {"stock cascade, per-frame labels": stock_run(detector, frames),
                "ours, smooth 0.0, boxes not averaged": stream_run(detector, frames, 0.0, 0.0)}
        runs.update({f"ours, smooth {s}": stream_run(detector, frames, s, BOX_SMOOTH) for s in SMOOTHING})
        labels_of = {label: [r[0] if r else None for r in run] for label, run in runs.items()}
        entry = {label: {"face_frames": sum(x is not None for x in labels) / len(frames),
                         "flicker": label_flicker(labels),
                         "box_jitter": box_jitter([r[1] if r else None for r in runs[label]]),
                         "labels": {e: labels.count(e) for e in set(labels) if e}}
                 for label, labels in labels_of.items()}
        if name == CHANGING_VIDEO:
            raw = labels_of["ours, smooth 0.0"]
            final = max(set(raw[-20:]) - {None}, key=raw[-20:].count)
            entry["change"] = {"final_label": final, **{f"settles_at, {label}": settle_frame(labels, final)
                                                         for label, labels in labels_of.items()}}
        result[name] = {"frames": len(frames), **entry}
    return result


def framing(detector: EmotionDetector) -> dict:
    finder = FaceFinder(params=CascadeParams(min_face=0.3, check=False))
    ratios, crops, truth = [], {m: [] for m in MARGINS}, []
    for index, emotion in enumerate(EMOTIONS):
        files = sorted((FER_TEST / emotion).glob("*.jpg"))[:FRAMING_FACES]
        for f in files:
            face = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
            big = cv2.resize(face, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
            boxes = finder.find(big)
            if len(boxes) != 1:
                continue
            ratios.append(boxes[0][2] / big.shape[1])
            truth.append(index)
            for m in MARGINS:
                crops[m].append(crop_face(big, boxes[0], m))
    truth = np.array(truth)
    labels = detector.labels
    accuracy = {}
    for m in MARGINS:
        predicted = detector.classifier.classify(crops[m]).argmax(axis=1)
        accuracy[str(m)] = float(np.mean([labels[p] == EMOTIONS[t] for p, t in zip(predicted, truth)]))
    median = float(np.median(ratios))
    return {"faces": len(truth), "haar_box_over_crop_median": median,
            "margin_that_matches": (1 / median - 1) / 2, "accuracy_by_margin": accuracy}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "face_quality.json")
    args = p.parse_args()
    detector = EmotionDetector(args.model)
    result = {"photos": photo_counts(), "videos": videos(detector), "framing": framing(detector)}
    print(json.dumps(result, indent=2))
    write_json(result, args.json)


if __name__ == "__main__":
    main()
