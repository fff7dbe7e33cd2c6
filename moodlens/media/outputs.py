"""Files a detection run writes: the per-face log and the annotated video or images.

Each file is written under a temporary name and renamed when complete, so a failed run never
leaves a half-written file where the user expects a finished one. An interrupted run keeps what it
wrote under a name that says so (`interrupted_name`), leaving a complete earlier file untouched.
"""

import contextlib
import csv
import json
import os
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from moodlens.detector import Detection
from moodlens.errors import MoodlensError
from moodlens.faces.pose import LANDMARK_NAMES
from moodlens.interrupts import interrupts_deferred
from moodlens.media.files import replaced, temporary_name

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG", ".webm": "VP80"}  # browsers play only WebM of these


def check_writable(path: Path, what: str, is_folder: bool = False) -> None:
    """Refuse up front an output whose folder does not exist or cannot be written.

    A file output must not be a folder or a device: it is written beside and renamed over,
    which would replace /dev/full or /dev/stdout with a plain file.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MoodlensError(f"cannot write {what} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise MoodlensError(f"cannot write {what} {path}: folder {folder} is not writable")
    if not is_folder and path.exists() and not path.is_file():
        raise MoodlensError(f"cannot write {what} {path}: it exists and is not a regular file")


def interrupted_name(path: Path) -> Path:
    """Where an interrupted run keeps a partial file: annotated.mp4 -> annotated.interrupted.mp4."""
    return path.with_name(f"{path.stem}.interrupted{path.suffix}")


def check_not_source(path: Path, source: Path | None, what: str) -> None:
    """Refuse an output that is the source itself (photo, video or folder), or whose interrupted
    name would be: symlinks and `..` are resolved on both sides, so no spelling writes over the input."""
    if source is None:
        return
    for name in (path, interrupted_name(path)):
        if name.resolve() == source.resolve():
            raise MoodlensError(f"cannot write {what} {path}: it is the source {source} "
                                "(choose another name; the input is never written over)")


def named(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file the user asked for rather than its temporary twin."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def video_complete(path: Path, frames: int) -> bool:
    """Whether a video just written opens and holds all its frames: OpenCV's writer reports no errors
    (a full disk leaves a truncated file without a frame index)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return capture.isOpened() and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) >= frames
    finally:
        capture.release()


def write_json(data: dict, path: Path) -> None:
    """`data` as indented JSON at `path`, via a temporary file and a rename."""
    path = Path(path)
    try:
        with replaced(path) as tmp:
            tmp.write_text(json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise named(exc, path) from None


FLAT_COLUMNS = ("source", "frame", "time", "track", "x", "y", "w", "h", "emotion", "confidence")
POSE_COLUMNS = ("roll", "yaw", "turned")
LANDMARK_COLUMNS = tuple(f"{name}_{axis}" for name in LANDMARK_NAMES for axis in "xy")


def face_record(source: str, frame: int, timestamp: float, d: Detection) -> dict:
    """One face of one frame as the JSON log writes it (moodlens analyze adds the file's path)."""
    return {"source": source, "frame": frame, "time": round(timestamp, 3), **d.record()}


def flat_columns(labels: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of a flat row (see `flat_record`)."""
    return (*FLAT_COLUMNS, *labels, *POSE_COLUMNS, *LANDMARK_COLUMNS)


def flat_record(record: dict, labels: tuple[str, ...]) -> dict:
    """A nested face record as one flat row (CSV, Parquet): the box's four numbers, each label's score,
    the pose and each landmark's coordinates as columns; pose and landmarks are empty (None) for a face
    finder that gives none (haar, blazeface)."""
    row = {k: record.get(k) for k in FLAT_COLUMNS}
    row.update(zip(("x", "y", "w", "h"), record["box"]))
    row.update((label, record["scores"][label]) for label in labels)
    row.update((k, (record["pose"] or {}).get(k)) for k in ("roll", "yaw"))
    row["turned"] = record["turned"]
    points = [v for point in record["landmarks"] for v in point] if record["landmarks"] else [None] * 10
    row.update(zip(LANDMARK_COLUMNS, points))
    return row


class RecordLog:
    """One record per face per frame, as JSON lines (.jsonl) or CSV (.csv)."""

    def __init__(self, path: Path, labels: tuple[str, ...]):
        self.path, self.labels = Path(path), labels
        self.format = self.path.suffix.lower()
        if self.format not in (".jsonl", ".csv"):
            raise MoodlensError(f"--log {path}: expected a .jsonl or .csv file name")
        check_writable(self.path, "log")
        self.tmp = temporary_name(self.path)
        try:
            self.file: IO[str] = open(self.tmp, "w", newline="")
        except OSError as exc:
            raise MoodlensError(f"cannot write log {self.path}: {exc.strerror}") from None
        self.frames_logged = 0
        self.csv = None
        if self.format == ".csv":
            self.csv = csv.DictWriter(self.file, flat_columns(labels))
            self.csv.writeheader()

    def write(self, source: str, frame: int, timestamp: float, detections: list[Detection]) -> None:
        """Append the records of one frame's faces; OSError (a full disk) names the log."""
        try:
            for d in detections:
                record = face_record(source, frame, timestamp, d)
                if self.csv:
                    self.csv.writerow(flat_record(record, self.labels))
                else:
                    self.file.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise named(exc, self.path) from None
        self.frames_logged += 1

    def close(self, target: Path | None) -> Path | None:
        """Finish the file and rename it to `target` (the log's path, or `interrupted_name` of it); with
        None, or no frame seen, remove what was written. Returns where the log now is, if anywhere."""
        try:
            self.file.close()  # the last buffered records reach the disk here
            if target is None or not self.frames_logged:
                return None
            os.replace(self.tmp, target)
            return target
        except OSError as exc:
            if target is None:  # when discarding the log, a failed flush is no news
                return None
            raise MoodlensError(f"cannot write log {self.path}: {exc.strerror or exc}") from None
        finally:
            self.tmp.unlink(missing_ok=True)


class VideoOutput:
    """The annotated frames as a video file (.mp4, .avi, .mkv or .webm), opened on the first frame."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = Path(path), fps or 30.0
        codec = VIDEO_CODECS.get(self.path.suffix.lower())
        if codec is None:
            raise MoodlensError(f"--output {path}: expected a video name ending in {', '.join(VIDEO_CODECS)}")
        check_writable(self.path, "video")
        self.fourcc = cv2.VideoWriter_fourcc(*codec)
        self.tmp = temporary_name(self.path)
        self.writer: cv2.VideoWriter | None = None
        self.frames_written = 0

    def write(self, frame: np.ndarray, name: str = "") -> None:
        """Append a frame; `name` (the source frame's) is not needed in a video, only in ImageOutput."""
        if self.writer is None:
            self.writer = cv2.VideoWriter(str(self.tmp), self.fourcc, self.fps, (frame.shape[1], frame.shape[0]))
            if not self.writer.isOpened():
                raise MoodlensError(f"cannot write video {self.path}")
        self.writer.write(frame)
        self.frames_written += 1

    def close(self, target: Path | None) -> Path | None:
        """Finish the video and rename it to `target` (its path, or `interrupted_name` of it); with None
        or no frame written, remove it. An incomplete video is removed and reported. Returns where it is."""
        if self.writer is not None:
            self.writer.release()
        try:
            if target is None or not self.frames_written:
                return None
            if not video_complete(self.tmp, self.frames_written):
                raise MoodlensError(f"cannot write video {self.path}: it came out incomplete (disk full?)")
            os.replace(self.tmp, target)
            return target
        finally:
            self.tmp.unlink(missing_ok=True)


class ImageOutput:
    """Annotated stills: one image file, or a folder of images named after their sources."""

    def __init__(self, path: Path, folder: bool):
        self.path, self.folder = Path(path), folder
        if folder:
            if self.path.exists() and not self.path.is_dir():
                raise MoodlensError(f"--output {path}: expected a folder for a folder source")
            check_writable(self.path, "folder", is_folder=True)
            self.path.mkdir(exist_ok=True)
        else:
            if self.path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".bmp", ".webp"):
                raise MoodlensError(f"--output {path}: expected an image name (.jpg, .png, ...)")
            check_writable(self.path, "image")

    def write(self, frame: np.ndarray, name: str) -> None:
        target = self.path / name if self.folder else self.path
        ok, encoded = cv2.imencode(target.suffix or ".png", frame)
        if not ok:
            raise MoodlensError(f"cannot encode image {target}")
        try:
            with replaced(target) as tmp:
                tmp.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise named(exc, target) from None

    def close(self, target: Path | None) -> Path | None:
        """Each image is complete once written and stays: nothing is pending, nothing is partial."""
        return None


def close_outputs(outputs: list[ImageOutput | VideoOutput | RecordLog], how: str) -> list[Path]:
    """Close every output (even if one close fails) as `how` says: "complete" renames each into place,
    "interrupted" keeps each partial file under its `interrupted_name`, "discard" removes them.
    Ctrl-C and SIGTERM wait until this is done. Returns the partial files kept."""
    kept: list[Path] = []
    with interrupts_deferred(), contextlib.ExitStack() as closing:
        for out in reversed(outputs):  # an ExitStack runs its callbacks last in, first out
            target = {"complete": out.path, "interrupted": interrupted_name(out.path), "discard": None}[how]
            closing.callback(lambda out=out, target=target: kept.append(out.close(target)))
    return [path for path in kept if path is not None and how == "interrupted"]


def interrupted_note(kept: list[Path]) -> str:
    """What the `interrupted: ...` line says about the outputs."""
    if not kept:
        return "no partial output kept; earlier files untouched"
    return f"partial outputs kept as {', '.join(map(str, kept))}; earlier files untouched"
