"""The detection loop: frames in, faces classified, boxes drawn, shown and written out."""

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.detector import DEFAULT_REDETECT, DEFAULT_SMOOTH, Detection, EmotionDetector
from moodlens.errors import MoodlensError, os_error_text
from moodlens.media.images import image_files
from moodlens.media.outputs import (
    ImageOutput,
    RecordLog,
    VideoOutput,
    check_not_source,
    close_outputs,
    interrupted_note,
)
from moodlens.media.overlay import draw_detections, draw_fps
from moodlens.media.sources import Source
from moodlens.progress import progress_bar

WINDOW = "moodlens (q or Esc quits)"
QUIT_KEYS = (ord("q"), ord("Q"), 27)
MAX_WINDOW = (1280, 720)  # width, height


@dataclass
class RunSummary:
    """What a run saw: frames read, frames with at least one face, faces, seconds."""

    frames_read: int = 0
    frames_with_face: int = 0
    faces: int = 0
    seconds: float = 0.0

    def line(self, name: str) -> str:
        share = self.frames_with_face / self.frames_read if self.frames_read else 0.0
        rate = self.frames_read / self.seconds if self.seconds else 0.0
        return (f"{name}: {self.frames_read} frames, a face on {self.frames_with_face} ({share:.1%}), "
                f"{self.faces} faces, {rate:.1f} frames/s")


def display_available() -> bool:
    """Whether a window can open: a display exists and OpenCV was built with a GUI."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:
        return False
    return True


class FrameRate:
    """Frames per second, smoothed so the corner figure is readable."""

    def __init__(self) -> None:
        self.last, self.value = time.perf_counter(), 0.0

    def tick(self) -> float:
        now = time.perf_counter()
        current = 1.0 / max(now - self.last, 1e-6)
        self.value = current if self.value == 0 else 0.9 * self.value + 0.1 * current
        self.last = now
        return self.value


def show(frame: np.ndarray, first: bool) -> None:
    """Show a frame; size the window to the first one, shrunk to fit a common screen."""
    if first:
        scale = min(1.0, MAX_WINDOW[0] / frame.shape[1], MAX_WINDOW[1] / frame.shape[0])
        cv2.resizeWindow(WINDOW, round(frame.shape[1] * scale), round(frame.shape[0] * scale))
    cv2.imshow(WINDOW, frame)


def open_output(path: Path | None, source: Source) -> ImageOutput | VideoOutput | None:
    if path is None:
        return None
    if source.stills:
        return ImageOutput(path, folder=source.kind == "folder")
    return VideoOutput(path, source.fps)


def source_path(source: Source) -> Path | None:
    """The file or folder a source reads, which no output may write over; None for cameras and streams."""
    return None if source.live else Path(source.spec)


def expected_frames(source: Source) -> int | None:
    """How many frames a video file or folder holds (from the video's header); None for the others."""
    if source.kind == "video":
        return int(source.capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    if source.kind == "folder":
        return len(image_files(Path(source.spec)))
    return None


class Playback:
    """Shows a video file at its own frame rate: how long to wait after each frame for the next one's time."""

    def __init__(self, fps: float):
        self.fps, self.start = fps, None

    def wait_ms(self, timestamp: float) -> int:
        """Milliseconds until the frame after the one at `timestamp` is due (at least 1: the window draws then)."""
        now = time.perf_counter()
        if self.start is None:
            self.start = now - timestamp
        due = self.start + timestamp + 1 / self.fps
        return max(1, round((due - now) * 1000))


def face_lines(detections: list[Detection], name: str | None) -> list[str]:
    """`face 1: happy 87% at [x, y, w, h]` for each face of a photo, after its file name in a folder."""
    prefix = f"{name} " if name else ""
    return [f"{prefix}face {i}: {d.emotion} {d.confidence:.0%} at {list(d.box)}" for i, d in enumerate(detections, 1)]


def detect_source(detector: EmotionDetector, source: Source, window: bool, output: Path | None = None,
                  log: Path | None = None, smooth: float = DEFAULT_SMOOTH, redetect: int = DEFAULT_REDETECT,
                  paced: bool = True) -> RunSummary:
    """Process every frame of `source`; returns what it saw. Outputs are finished or removed; on Ctrl-C or
    SIGTERM they are kept under `interrupted_name`s (named in the KeyboardInterrupt) and earlier files stay.

    Photos are each searched in full, and without a window each face is printed; video frames go
    through a FaceStream (tracking, smoothing). In the window a video file plays at its own frame rate
    unless `paced` is False; headless runs go flat out, with a progress bar on a terminal.
    """
    for path, what in ((output, "output"), (log, "log")):
        if path is not None:
            check_not_source(path, source_path(source), what)
    summary, rate = RunSummary(), FrameRate()
    process = detector.detect if source.stills else detector.stream(smooth, redetect).process
    playback = Playback(source.fps) if window and paced and source.kind == "video" and source.fps else None
    writer = open_output(output, source)
    records = RecordLog(log, detector.labels) if log else None
    outputs = [out for out in (writer, records) if out]
    progress = progress_bar(expected_frames(source), "photo" if source.stills else "frame", shown=not window)
    start = time.perf_counter()
    try:
        for frame in source.frames():
            detections = process(frame.image)
            summary.frames_read += 1
            summary.faces += len(detections)
            summary.frames_with_face += bool(detections)
            draw_detections(frame.image, detections)
            if not source.stills:
                draw_fps(frame.image, rate.tick())
            if writer:
                writer.write(frame.image, frame.name)
            if records:  # after the frame is written: an interrupted log never runs ahead of its video
                records.write(frame.name, frame.index, frame.timestamp, detections)
            if source.stills and not window:
                for line in face_lines(detections, frame.name if source.kind == "folder" else None):
                    progress.write(line, file=sys.stdout)
            progress.update()
            if window:
                show(frame.image, first=summary.frames_read == 1)
                wait = 0 if source.stills else playback.wait_ms(frame.timestamp) if playback else 1
                if cv2.waitKey(wait) & 0xFF in QUIT_KEYS:
                    break
                if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    break  # the user closed the window
    except OSError as exc:
        close_outputs(outputs, "discard")
        raise MoodlensError(f"cannot write {exc.filename or 'output'}: {os_error_text(exc)}") from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(interrupted_note(close_outputs(outputs, "interrupted"))) from None
    except BaseException:  # e.g. a stream that stopped delivering: what was recorded up to then is kept
        close_outputs(outputs, "complete")
        raise
    finally:
        summary.seconds = time.perf_counter() - start
        progress.close()
        if window:
            cv2.destroyAllWindows()
    close_outputs(outputs, "complete")
    return summary
