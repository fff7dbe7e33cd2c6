"""Real faces, not crops: face counts, faces in scenes, steady labels and framing, before and after.

    python benchmarks/face_quality.py [--model model_file.h5] [--json benchmarks/results/face_quality.json]

1. Face counts on the photos of ../shared/media against the counts a person sees (its README):
   the stock cascade (scaleFactor 1.1, minNeighbors 5, minSize 30) against our FaceFinder and
   BlazeFace (`--detector blazeface`); and the faces each finds on the photos with one or two faces
   turned by 15 to 45 degrees, or with each face's lower or left half painted over.
   Precision and recall are by count (found faces beyond the true count are phantoms; this
   assumes the detections up to the true count are real, which the overlay pictures confirm).
2. Every clip of ../shared/media, stock cascade on every frame against our FaceStream (detect.py's
   defaults): the share of frames with a face; on the frames counted by hand
   (benchmarks/hand_counts.json), the real faces found and the phantoms (boxes on no marked face);
   and how many frames ours takes to find a face entering (a face the stock cascade holds for at
   least ENTERING_RUN frames in a row, from its first frame). The worst clip is printed. The same
   with BlazeFace.
3. The single-face videos: flicker (how often a face's top label changes between
   consecutive frames) with smoothing off and on, box jitter (the mean frame-to-frame change of the
   box's size and centre, relative to its size) with the track's box averaging off and on, and the
   lag smoothing adds on the video whose expression really changes (frames from the raw label
   settling to the smoothed one settling).
4. Framing: on FER2013 test faces enlarged 4x, the Haar box's size relative to the FER crop
   (which fixes the margin), and the accuracy of classifying the Haar crop at several margins.
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from common import (
    MEDIA,
    ROOT,
    SHARED,
    clips,
    hand_counts,
    print_table,
    read_clip,
    real_and_phantom,
    stock_cascade,
    stock_haar,
)

from moodlens.detector import EmotionDetector
from moodlens.emotions.preprocess import crop_face
from moodlens.evaluation.metrics import box_jitter, label_flicker
from moodlens.faces.blazeface import BlazeFaceFinder
from moodlens.faces.cascade import Box, CascadeParams, FaceFinder, iou
from moodlens.faces.tracking import BOX_SMOOTH, MATCH_IOU
from moodlens.labels import EMOTIONS
from moodlens.media.outputs import write_json

FER_TEST = SHARED / "fer2013" / "test"
PHOTO_FACES = {  # what a person sees, from ../shared/media/README.md
    "fr_obama.jpg": 1, "fr_two_people.jpg": 2, "fr_kit_with_rose.jpg": 2, "deepface_img3.jpg": 1,
    "deepface_img5.jpg": 1, "fer_justin.jpg": 1, "deepface_selfie-many-people.jpg": 9, "fer_no-faces.jpg": 0,
}
VIDEOS = ("fer_woman2.mp4", "huimiang_1543684773.avi")
CHANGING_VIDEO = "huimiang_1543684773.avi"
STOCK_CASCADE = stock_cascade()
HARD_PHOTOS = ("fr_obama.jpg", "fr_two_people.jpg", "fr_kit_with_rose.jpg", "deepface_img5.jpg", "fer_justin.jpg")
TURNS = (15, 30, -30, 45)  # degrees
ENTERING_RUN = 5  # frames in a row the stock cascade must hold a face for it to count as entering
SMOOTHING = (0.0, 0.6, 0.8, 0.9)
FRAMING_FACES = 100  # per class
MARGINS = (0.0, 0.09, 0.2, 0.3)
UPSCALE = 4


def count_precision_recall(found: dict[str, int]) -> dict:
    hits = sum(min(n, PHOTO_FACES[k]) for k, n in found.items())
    return {"precision": hits / max(sum(found.values()), 1), "recall": hits / sum(PHOTO_FACES.values()),
            "exact_files": sum(n == PHOTO_FACES[k] for k, n in found.items()), "files": len(found), "found": found}


def stock_find(gray: np.ndarray) -> list[Box]:
    """The usual tutorial search: the default cascade at full resolution, nothing else."""
    return stock_haar(STOCK_CASCADE, gray)


def gray_photos() -> dict[str, np.ndarray]:
    return {name: cv2.cvtColor(cv2.imread(str(MEDIA / name)), cv2.COLOR_BGR2GRAY) for name in PHOTO_FACES}


def photo_counts() -> dict:
    gray, finder, blazeface = gray_photos(), FaceFinder(), BlazeFaceFinder()
    return {"stock": count_precision_recall({name: len(stock_find(g)) for name, g in gray.items()}),
            "ours": count_precision_recall({name: len(finder.find(g)) for name, g in gray.items()}),
            "blazeface": count_precision_recall({name: len(blazeface.find(g)) for name, g in gray.items()})}


def rotated(gray: np.ndarray, degrees: float) -> np.ndarray:
    h, w = gray.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(gray, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)


def half_hidden(gray: np.ndarray, faces: list[Box], half: str) -> np.ndarray:
    """Each face's lower or left half painted black, as a hand or another head would hide it."""
    hidden = gray.copy()
    for x, y, w, h in faces:
        if half == "lower":
            hidden[y + h // 2 : y + h, x : x + w] = 0
        else:
            hidden[y : y + h, x : x + w // 2] = 0
    return hidden


def tilted_and_hidden() -> dict:
    """Faces found (at most the true count per photo) on the photos with a face or two, turned or half hidden."""
    gray = {name: g for name, g in gray_photos().items() if name in HARD_PHOTOS}
    finders = {"ours": FaceFinder(), "blazeface": BlazeFaceFinder()}
    changes = {f"turned {d} degrees": lambda g, d=d: rotated(g, d) for d in TURNS}
    changes |= {f"{half} half hidden": lambda g, half=half: half_hidden(g, finders["ours"].find(g), half)
                for half in ("lower", "left")}
    result = {"faces": sum(PHOTO_FACES[n] for n in gray)}
    for change, apply in changes.items():
        changed = {name: apply(g) for name, g in gray.items()}
        result[change] = {who: sum(min(len(f.find(g)), PHOTO_FACES[n]) for n, g in changed.items())
                          for who, f in finders.items()}
    print_table(f"faces found of {result['faces']} on photos turned or half hidden",
                ["change", "ours (cascade)", "blazeface"],
                [[change, r["ours"], r["blazeface"]] for change, r in result.items() if change != "faces"])
    return result


Run = list[tuple[str, tuple] | None]  # per frame: the largest face's label and box, or None


def stock_run(detector: EmotionDetector, frames: list[np.ndarray]) -> Run:
    """Before: every frame searched by the stock cascade and labelled from its own scores alone."""
    run = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = sorted(stock_find(gray), key=lambda b: b[2], reverse=True)[:1]
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
        frames = read_clip(name)
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


def entering_faces(stock: list[list[Box]]) -> list[tuple[int, list[Box]]]:
    """Faces the stock cascade holds for ENTERING_RUN frames or more after the first frame: (first frame,
    its boxes frame by frame), linked from frame to frame by box overlap as the tracker does."""
    runs: list[tuple[int, list[Box]]] = []
    open_runs: list[tuple[int, list[Box]]] = []
    for index, boxes in enumerate(stock):
        still_open = []
        for box in boxes:
            run = next((r for r in open_runs if iou(r[1][-1], box) >= MATCH_IOU), None)
            if run is None:
                run = (index, [])
            else:
                open_runs.remove(run)
            run[1].append(box)
            still_open.append(run)
        runs += [r for r in open_runs if len(r[1]) >= ENTERING_RUN]
        open_runs = still_open
    runs += [r for r in open_runs if len(r[1]) >= ENTERING_RUN]
    return [r for r in runs if r[0] > 0]


def frames_to_find(run: tuple[int, list[Box]], ours: list[list[Box]]) -> int | None:
    """Frames from a face's first stock frame until one of our boxes holds its centre (None: never in its run)."""
    start, boxes = run
    for offset, (x, y, w, h) in enumerate(boxes):
        cx, cy = x + w / 2, y + h / 2
        if any(bx <= cx <= bx + bw and by <= cy <= by + bh for bx, by, bw, bh in ours[start + offset]):
            return offset
    return None


def scenes(detector: EmotionDetector, blazeface: EmotionDetector) -> dict:
    """Every clip: frames with a face, real faces and phantoms on the hand-counted frames, delay to find faces."""
    counted, result = hand_counts(), {}
    for name in clips():
        frames = read_clip(name)
        stock = [stock_find(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)) for f in frames]
        ours, dnn = ([[face.box for face in stream.process(f)] for f in frames]
                     for stream in (detector.stream(), blazeface.stream()))
        entry: dict = {"frames": len(frames)}
        for who, boxes in (("stock", stock), ("ours", ours), ("blazeface", dnn)):
            entry[who] = {"face_frames": sum(bool(b) for b in boxes) / len(frames), "faces": sum(map(len, boxes))}
            if name in counted:
                found = [real_and_phantom(boxes[i], faces) for i, faces in counted[name].items()]
                entry[who] |= {"real": sum(r for r, _ in found), "phantoms": sum(p for _, p in found)}
        if name in counted:
            entry["hand_counted"] = {"frames": len(counted[name]), "faces": sum(map(len, counted[name].values()))}
        delays = [frames_to_find(run, ours) for run in entering_faces(stock)]
        found = sorted(d for d in delays if d is not None)
        entry["entering"] = {"faces": len(delays), "never_found": len(delays) - len(found),
                             "median_frames": float(np.median(found)) if found else None,
                             "max_frames": max(found, default=None)}
        result[name] = entry
    print_table("faces in scenes: stock cascade on every frame / ours (real and phantoms on hand-counted frames)",
                ["clip", "face frames stock", "ours", "gap (points)", "real faces: hand", "stock", "ours",
                 "phantoms stock", "ours", "entering: faces", "median delay", "max", "never"],
                [[name, e["stock"]["face_frames"], e["ours"]["face_frames"],
                  100 * (e["ours"]["face_frames"] - e["stock"]["face_frames"]),
                  e.get("hand_counted", {}).get("faces", "-"), e["stock"].get("real", "-"), e["ours"].get("real", "-"),
                  e["stock"].get("phantoms", "-"), e["ours"].get("phantoms", "-"), e["entering"]["faces"],
                  e["entering"]["median_frames"] if e["entering"]["median_frames"] is not None else "-",
                  e["entering"]["max_frames"] if e["entering"]["max_frames"] is not None else "-",
                  e["entering"]["never_found"]] for name, e in result.items()])
    print_table("the same with --detector blazeface", ["clip", "face frames", "real faces", "phantoms"],
                [[name, e["blazeface"]["face_frames"], e["blazeface"].get("real", "-"),
                  e["blazeface"].get("phantoms", "-")] for name, e in result.items()])
    worst = min(result, key=lambda n: result[n]["ours"]["face_frames"] - result[n]["stock"]["face_frames"])
    print(f"worst clip for frames with a face: {worst}")
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
    result = {"photos": photo_counts(), "tilted_and_hidden": tilted_and_hidden(),
              "scenes": scenes(detector, EmotionDetector(args.model, detector="blazeface")),
              "videos": videos(detector), "framing": framing(detector)}
    print(json.dumps(result, indent=2))
    write_json(result, args.json)


if __name__ == "__main__":
    main()
