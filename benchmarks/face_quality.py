"""Real faces, not crops: face counts, faces in scenes, steady labels and framing, before and after.

    python benchmarks/face_quality.py [--model model_file.h5] [--json benchmarks/results/face_quality.json]

1. Face counts on the photos of ../shared/media against the counts a person sees (its README):
   the stock cascade (scaleFactor 1.1, minNeighbors 5, minSize 30) against each of detect.py's face
   finders side by side (YuNet, the default; our Haar cascade; BlazeFace); and the faces each finds on
   the photos with one or two faces turned by 15 to 45 degrees, or with each face's lower or left half
   painted over; and, on those turned photos, how much of the turn YuNet's landmarks report as roll.
   Precision and recall are by count (found faces beyond the true count are phantoms; this
   assumes the detections up to the true count are real, which the overlay pictures confirm).
2. Every clip of ../shared/media, stock cascade on every frame against our FaceStream with each
   finder (detect.py's defaults otherwise): the share of frames with a face; on the frames counted by hand
   (benchmarks/hand_counts.json), the real faces found and the phantoms (boxes on no marked face);
   and how many frames ours takes to find a face entering (a face the stock cascade holds for at
   least ENTERING_RUN frames in a row, from its first frame). The worst clip is printed. The same
   with BlazeFace.
3. The single-face videos, with the default finder: flicker (how often a face's top label changes between
   consecutive frames) with smoothing off and on, box jitter (the mean frame-to-frame change of the
   box's size and centre, relative to its size) with the track's box averaging off and on, and the
   lag smoothing adds on the video whose expression really changes (frames from the raw label
   settling to the smoothed one settling).
4. Framing: on FER2013 test faces enlarged 4x, the Haar box's size relative to the FER crop
   (which fixes the margin), and the accuracy of classifying the Haar crop at several margins.
5. YuNet's settings: real faces and phantoms on the hand-counted frames, each frame searched alone,
   at first-pass scales (a 1080p frame at 1 searched whole, at 0.5 as 960x540) and score thresholds
   around the chosen ones (`faces/yunet.py`), and in colour against gray.
6. Face crops: how many of FER2013's 48x48 test crops YuNet finds a face on, as detect.py searches
   them (small images enlarged first) and at the 30 px faces' scale alone.
7. The aligned crop's framing: where YuNet's landmarks put the eyes on FER2013's training faces
   (enlarged as for training), which sets `preprocess.EYE_LINE` and `SIDE_PER_SCALE`.
8. Head pose: the yaw YuNet's landmarks give on FER2013's training faces (the range the model learned
   from, which sets `pose.TURNED_YAW`), on the posed photos (all frontal) and on every clip's faces.
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
from moodlens.emotions.preprocess import FACE_SIZE, crop_face, face_scale, to_gray
from moodlens.evaluation.metrics import box_jitter, label_flicker
from moodlens.faces.cascade import CascadeParams, FaceFinder
from moodlens.faces.finders import DEFAULT_DETECTOR, DETECTORS, make_finder, search_view
from moodlens.faces.geometry import Box, iou
from moodlens.faces.pose import TURNED_YAW, head_pose
from moodlens.faces.tracking import BOX_SMOOTH, MATCH_IOU
from moodlens.faces.yunet import best_of_overlapping
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
MARKED_SIZE = 30  # pixels: the hand counts mark faces of about this size and more
POSE_FACES = 3000  # FER2013 training faces whose yaw is measured
YUNET_SETTINGS = [(scale, score, True) for scale in (1.0, 0.67, 0.5, 0.4) for score in (0.5, 0.6, 0.7)]
YUNET_SETTINGS += [(0.5, 0.6, False)]  # the chosen ones on gray frames
MARGINS = (0.0, 0.09, 0.2, 0.3)
UPSCALE = 4


def count_precision_recall(found: dict[str, int]) -> dict:
    hits = sum(min(n, PHOTO_FACES[k]) for k, n in found.items())
    return {"precision": hits / max(sum(found.values()), 1), "recall": hits / sum(PHOTO_FACES.values()),
            "exact_files": sum(n == PHOTO_FACES[k] for k, n in found.items()), "files": len(found), "found": found}


def stock_find(gray: np.ndarray) -> list[Box]:
    """The usual tutorial search: the default cascade at full resolution, nothing else."""
    return stock_haar(STOCK_CASCADE, gray)


def colour_photos() -> dict[str, np.ndarray]:
    return {name: cv2.imread(str(MEDIA / name)) for name in PHOTO_FACES}


def finders() -> dict[str, object]:
    """Each of detect.py's face finders with its defaults, and the stock cascade, by name."""
    return {"stock": StockFinder(), **{name: make_finder(name) for name in DETECTORS}}


class StockFinder:
    """The usual tutorial search, with a finder's `find`."""

    def find(self, gray: np.ndarray) -> list[Box]:
        return stock_find(gray)


def found(finder: object, image: np.ndarray) -> list[Box]:
    """The faces `finder` finds in a BGR photo, given the view it reads (colour or gray)."""
    return finder.find(search_view(finder, image, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)))


def photo_counts() -> dict:
    photos = colour_photos()
    result = {who: count_precision_recall({name: len(found(f, image)) for name, image in photos.items()})
              for who, f in finders().items()}
    print_table("face counts on the photos (a person sees: " + ", ".join(map(str, PHOTO_FACES.values())) + ")",
                ["finder", "counts", "right", "precision", "recall"],
                [[who, ", ".join(str(n) for n in r["found"].values()), f"{r['exact_files']} of {r['files']}",
                  r["precision"], r["recall"]] for who, r in result.items()])
    return result


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)


def half_hidden(image: np.ndarray, faces: list[Box], half: str) -> np.ndarray:
    """Each face's lower or left half painted black, as a hand or another head would hide it."""
    hidden = image.copy()
    for x, y, w, h in faces:
        if half == "lower":
            hidden[y + h // 2 : y + h, x : x + w] = 0
        else:
            hidden[y : y + h, x : x + w // 2] = 0
    return hidden


def tilted_and_hidden() -> dict:
    """Faces found (at most the true count per photo) on the photos with a face or two, turned or half
    hidden; and the roll YuNet's landmarks give the turned faces, against the turn."""
    photos = {name: image for name, image in colour_photos().items() if name in HARD_PHOTOS}
    every = {who: f for who, f in finders().items() if who != "stock"}
    changes = {f"turned {d} degrees": lambda g, d=d: rotated(g, d) for d in TURNS}
    changes |= {f"{half} half hidden": lambda g, half=half: half_hidden(g, found(every["haar"], g), half)
                for half in ("lower", "left")}
    result: dict = {"faces": sum(PHOTO_FACES[n] for n in photos)}
    for change, apply in changes.items():
        changed = {name: apply(image) for name, image in photos.items()}
        result[change] = {who: sum(min(len(found(f, g)), PHOTO_FACES[n]) for n, g in changed.items())
                          for who, f in every.items()}
    result["roll_reported"] = {str(d): [-head_pose(face.landmarks)["roll"] for image in photos.values()
                                        for face in found(every["yunet"], rotated(image, d))] for d in TURNS}
    print_table(f"faces found of {result['faces']} on photos turned or half hidden", ["change", *every],
                [[change, *result[change].values()] for change in changes])
    print_table("roll YuNet's landmarks report on the turned photos (degrees; the photo turned counter-clockwise)",
                ["turned", "median reported", "each face"],
                [[d, float(np.median(r)) if r else "-", ", ".join(f"{v:.0f}" for v in r)]
                 for d, r in result["roll_reported"].items()])
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


def scenes(detectors: dict[str, EmotionDetector]) -> dict:
    """Every clip: frames with a face, real faces and phantoms on the hand-counted frames, delay to find
    faces, for the stock cascade on every frame and for our FaceStream with each finder."""
    counted, result = hand_counts(), {}
    for name in clips():
        frames = read_clip(name)
        runs = {"stock": [stock_find(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)) for f in frames]}
        for who, detector in detectors.items():
            stream = detector.stream()
            runs[who] = [[face.box for face in stream.process(f)] for f in frames]
        entry: dict = {"frames": len(frames)}
        entering = entering_faces(runs["stock"])
        for who, boxes in runs.items():
            entry[who] = {"face_frames": sum(bool(b) for b in boxes) / len(frames), "faces": sum(map(len, boxes))}
            if name in counted:  # the marking rule's 30 px: smaller boxes are neither real faces nor phantoms
                marked = [real_and_phantom([b for b in boxes[i] if b[2] >= MARKED_SIZE], faces)
                          for i, faces in counted[name].items()]
                entry[who] |= {"real": sum(r for r, _ in marked), "phantoms": sum(p for _, p in marked)}
            if who != "stock":
                delays = [frames_to_find(run, boxes) for run in entering]
                seen = sorted(d for d in delays if d is not None)
                entry[who]["entering"] = {"faces": len(delays), "never_found": len(delays) - len(seen),
                                          "median_frames": float(np.median(seen)) if seen else None,
                                          "max_frames": max(seen, default=None)}
        if name in counted:
            entry["hand_counted"] = {"frames": len(counted[name]), "faces": sum(map(len, counted[name].values()))}
        result[name] = entry
    for who in detectors:
        print_table(f"faces in scenes: stock cascade on every frame / ours with {who} (real faces and phantoms "
                    "on the hand-counted frames)",
                    ["clip", "face frames stock", "ours", "gap (points)", "real faces: hand", "stock", "ours",
                     "phantoms stock", "ours", "entering: faces", "median delay", "max", "never"],
                    [[name, e["stock"]["face_frames"], e[who]["face_frames"],
                      100 * (e[who]["face_frames"] - e["stock"]["face_frames"]),
                      e.get("hand_counted", {}).get("faces", "-"), e["stock"].get("real", "-"), e[who].get("real", "-"),
                      e["stock"].get("phantoms", "-"), e[who].get("phantoms", "-"), e[who]["entering"]["faces"],
                      dash(e[who]["entering"]["median_frames"]), dash(e[who]["entering"]["max_frames"]),
                      e[who]["entering"]["never_found"]] for name, e in result.items()])
        worst = min(result, key=lambda n: result[n][who]["face_frames"] - result[n]["stock"]["face_frames"])
        print(f"{who}: worst clip for frames with a face: {worst}")
    return result


def dash(value: object) -> object:
    return "-" if value is None else value


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


def yunet_settings() -> dict:
    """Single-frame counts on the hand-counted frames for YuNet's first-pass scale and score threshold."""
    finder, counted, result = make_finder("yunet"), hand_counts(), {}
    for name, marked in counted.items():
        frames = read_clip(name)
        for scale, score, colour in YUNET_SETTINGS:
            real = phantoms = 0
            for index, faces in marked.items():
                image = frames[index] if colour else cv2.cvtColor(to_gray(frames[index]), cv2.COLOR_GRAY2BGR)
                boxes = [f for f in best_of_overlapping(finder.detect(image, scale, score), finder.params.overlap)
                         if f[2] >= MARKED_SIZE]
                r, p = real_and_phantom(boxes, faces)
                real, phantoms = real + r, phantoms + p
            result.setdefault(name, []).append({"scale": scale, "score": score, "colour": colour, "real": real,
                                                "phantoms": phantoms, "marked": sum(map(len, marked.values()))})
    print_table("YuNet alone on the hand-counted frames: real faces (of the marked) and phantoms",
                ["clip", "scale", "score", "colour", "real", "phantoms"],
                [[name, r["scale"], r["score"], r["colour"], f"{r['real']} of {r['marked']}", r["phantoms"]]
                 for name, rows in result.items() for r in rows])
    return result


def fer_landmarks(finder: object) -> list[np.ndarray]:
    """YuNet's landmarks on every POSE_FACES-th FER2013 training face, in the 48x48 face's pixels."""
    from moodlens.training.aligned import UPSCALE as FER_UPSCALE

    found = []
    for f in sorted((SHARED / "fer2013" / "train").glob("*/*"))[:: max(1, 28709 // POSE_FACES)]:
        big = cv2.resize(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), None, fx=FER_UPSCALE, fy=FER_UPSCALE,
                         interpolation=cv2.INTER_CUBIC)
        faces = finder.detect(big, 1.0, 0.5)
        if faces:
            found.append(max(faces, key=lambda face: face.score).landmarks / FER_UPSCALE)
    return found


def crops_found(finder: object) -> dict:
    """Faces YuNet finds on every 12th FER2013 test crop (a face filling a 48x48 image), as detect.py
    searches it, and searched only at the 30 px faces' scale (0.5) without enlarging the image first."""
    crops = [cv2.imread(str(f)) for f in sorted(FER_TEST.glob("*/*"))[::12]]
    result = {"crops": len(crops), "found": sum(bool(finder.find(c)) for c in crops),
              "found_at_half": sum(bool(finder.detect(c, 0.5, 0.6)) for c in crops)}
    print(f"FER2013 test crops with a face found: {result['found']} of {result['crops']} "
          f"({result['found_at_half']} searched at half size only)")
    return result


def aligned_framing(finder: object) -> dict:
    """Where FER2013's faces have their eyes, as fractions of the 48-pixel side."""
    marks = fer_landmarks(finder)
    eyes = np.array([m[:2].mean(axis=0) for m in marks]) / FACE_SIZE
    scale = np.array([face_scale(m) for m in marks]) / FACE_SIZE
    result = {"faces": len(marks), "eyes_x": float(np.median(eyes[:, 0])), "eye_line": float(np.median(eyes[:, 1])),
              "side_per_scale": float(1 / np.median(scale))}
    print(f"FER2013's eyes on {result['faces']} faces: midpoint at x {result['eyes_x']:.3f}, "
          f"y {result['eye_line']:.3f} of the side; side / face scale {result['side_per_scale']:.2f}")
    return result


def poses(detector: EmotionDetector) -> dict:
    """Yaw on FER2013's training faces (enlarged as for training), the posed photos and every clip."""
    fer = [head_pose(marks)["yaw"] for marks in fer_landmarks(detector.faces)]
    posed = [head_pose(face.landmarks)["yaw"] for f in sorted((SHARED / "posed" / "taiwanese").glob("*/*.jpg"))[::4]
             for face in found(detector.faces, cv2.imread(str(f)))[:1]]
    clip_yaw = {name: [d.pose["yaw"] for frame in read_clip(name) for d in detector.detect(frame)] for name in clips()}

    def spread(yaws: list[float]) -> dict:
        turned = np.abs(yaws) if yaws else np.zeros(1)
        return {"faces": len(yaws), "abs_yaw_median": float(np.median(turned)),
                "abs_yaw_p95": float(np.percentile(turned, 95)), "turned_share": float(np.mean(turned > TURNED_YAW))}

    result = {"fer2013_train": spread(fer), "posed_photos": spread(posed)} | {n: spread(y) for n, y in clip_yaw.items()}
    print_table(f"head yaw from YuNet's landmarks (|degrees|; turned: beyond {TURNED_YAW:g})",
                ["faces of", "faces", "median", "95th percentile", "turned"],
                [[name, r["faces"], r["abs_yaw_median"], r["abs_yaw_p95"], r["turned_share"]]
                 for name, r in result.items()])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "face_quality.json")
    args = p.parse_args()
    detectors = {name: EmotionDetector(args.model, detector=name) for name in DETECTORS}
    detector = detectors[DEFAULT_DETECTOR]
    result = {"photos": photo_counts(), "tilted_and_hidden": tilted_and_hidden(), "scenes": scenes(detectors),
              "videos": videos(detector), "framing": framing(detector), "yunet_settings": yunet_settings(),
              "aligned_framing": aligned_framing(detectors["yunet"].faces),
              "crops_found": crops_found(detectors["yunet"].faces),
              "pose": poses(detectors["yunet"])}
    print(json.dumps(result, indent=2))
    write_json(result, args.json)


if __name__ == "__main__":
    main()
