"""Batch analysis: every face of many videos and photos, one record per face per analysed frame.

The records are those of detect.py's JSON log (`outputs.face_record`) plus the file's path. Each
file is analysed whole by one worker (a video's faces are tracked from frame to frame, so it
cannot be split), and its records are written to its own part file in a work folder beside the
output (`parts.WorkFolder`). A run that is interrupted or crashes loses at most the files in
progress: the same command again skips the files whose part is there (if made with the same
settings) and, at the end, merges the parts into the output and removes the work folder.
"""

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from moodlens.detector import DEFAULT_REDETECT, DEFAULT_SMOOTH, DetectorSpec, EmotionDetector
from moodlens.errors import MoodlensError
from moodlens.media.files import file_digest
from moodlens.media.images import IMAGE_SUFFIXES, is_image_file
from moodlens.media.outputs import face_record
from moodlens.media.sources import Source

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"})
LIST_SUFFIX = ".txt"  # a source ending in .txt lists files, one a line
PROGRESS_EVERY_S = 0.5  # how often a worker says how far into a file it is

Progress = Callable[[int], None]  # called with the frames of the current file read so far


@dataclass(frozen=True)
class FrameChoice:
    """Which frames are analysed and how a video's faces are followed."""

    every: int = 1  # analyse frames 0, every, 2 * every, ...
    smooth: float = DEFAULT_SMOOTH
    redetect: int = DEFAULT_REDETECT


@dataclass
class FileResult:
    """One file's records, or why it could not be analysed (`error`)."""

    path: str
    kind: str = ""  # video or image
    frames: int = 0  # frames analysed
    duration: float = 0.0  # seconds of video (0 for a photo)
    records: list[dict] = field(default_factory=list)
    error: str = ""


def media_files(folder: Path) -> list[Path]:
    """The videos and images anywhere under `folder`, in name order; hidden files and folders skipped."""
    found = [p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES
             and p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(found)


def listed_files(list_file: Path) -> list[Path]:
    """The files a list file names, one a line; blank lines and # comments skipped; relative to its folder."""
    try:
        lines = list_file.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MoodlensError(f"cannot read list file {list_file}: {exc}") from None
    return [list_file.parent / line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def find_files(sources: list[str]) -> list[Path]:
    """Every file to analyse, as an absolute path: folders walked recursively, list files read, files as
    given; each once, however many links or spellings lead to it.

    A named source that does not exist is the user's error; a missing file inside a list is only a
    bad file, reported when its turn comes.
    """
    files: list[Path] = []
    for spec in sources:
        path = Path(spec)
        if path.is_dir():
            files += media_files(path)
        elif not path.exists():
            raise MoodlensError(f"source {spec} not found (expected a video, image, folder or .txt list)")
        elif path.suffix.lower() == LIST_SUFFIX:
            files += listed_files(path)
        else:
            files.append(path)
    unique: dict[Path, Path] = {}  # by resolved path: a file reached through a link or `..` is the same file
    for file in files:
        unique.setdefault(file.resolve(), file.absolute())  # absolute: the same file for every worker
    return list(unique.values())


def frames_in(path: Path) -> int:
    """A file's frame count as its header says (1 for a photo, 0 when unknown): for the progress bar."""
    if is_image_file(path):  # never to a video decoder: FFmpeg would decode a photo whole to count it
        return 1
    capture = cv2.VideoCapture(str(path))
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if capture.isOpened() else 0
    finally:
        capture.release()


def analyze_file(detector: EmotionDetector, path: str, choice: FrameChoice, progress: Progress) -> FileResult:
    """Every face of every chosen frame of one video or photo; a bad file gives a result with `error`."""
    result = FileResult(path)
    try:
        source = Source(path)
        if source.kind not in ("video", "image"):
            raise MoodlensError(f"{path}: not a video or image file")
        result.kind = source.kind
        process = detector.detect if source.stills else detector.stream(choice.smooth, choice.redetect).process
        said, read = time.monotonic(), 0
        try:
            for frame in source.frames():
                read = frame.index + 1
                if frame.index % choice.every == 0:
                    result.frames += 1
                    result.records += [{"path": path, **face_record(frame.name, frame.index, frame.timestamp, d)}
                                       for d in process(frame.image)]
                if time.monotonic() - said > PROGRESS_EVERY_S:
                    progress(read)
                    said = time.monotonic()
        finally:
            source.close()
        result.duration = read / source.fps if source.fps else 0.0
    except MoodlensError as exc:
        result.error = str(exc)
    except (OSError, cv2.error, MemoryError) as exc:  # a decoder's failure on one file must not stop the batch
        result.error = f"{path}: {type(exc).__name__}: {exc}"
    return result


def settings_of(spec: DetectorSpec, choice: FrameChoice) -> dict:
    """What the parts are made with; parts made otherwise (another model, --every...) are not reused."""
    detector = dataclasses.asdict(spec)
    detector["model"] = file_digest(spec.model)  # the content, not the name: a retrained model redoes all
    detector["cascade"] = str(spec.cascade) if spec.cascade else None
    detector.pop("threads")  # how fast, not what comes out
    return json.loads(json.dumps({"detector": detector, "frames": dataclasses.asdict(choice)}))
