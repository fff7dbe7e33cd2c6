"""Where frames come from: a camera index, a video file, a stream URL, an image or a folder."""

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError
from moodlens.media.images import image_files, is_image_file, read_image


@dataclass
class Frame:
    """A BGR frame, its position in the source and the name it is reported under."""

    image: np.ndarray
    index: int
    timestamp: float  # seconds from the start of the source
    name: str


OPEN_FAILURES = {
    "camera": "no such camera, or another program is using it",
    "stream": "unreachable, or not a video stream",
    "video": "not a video file OpenCV can decode, or damaged",
}
# Unreadable frames a video file, camera or stream may deliver in a row before it counts as ended: a
# camera or stream drops a frame now and then, and a live source has no frame count to go by.
MAX_BAD_FRAMES_IN_A_ROW = 25


class Source:
    """Iterates over the frames of one source; `kind` is camera, stream, video, image or folder."""

    def __init__(self, spec: str):
        self.spec = spec
        path = Path(spec)
        if spec.isdigit():
            self.kind = "camera"
        elif "://" in spec:
            self.kind = "stream"
        elif path.is_dir():
            self.kind = "folder"
        elif not path.exists():
            raise MoodlensError(f"source {spec} not found (expected a camera index, file, folder or URL)")
        elif is_image_file(path):
            self.kind = "image"
        else:
            self.kind = "video"
        self.capture = None if self.stills else self._open_capture()
        self.fps = (self.capture.get(cv2.CAP_PROP_FPS) if self.capture else 0.0) or 0.0
        self.skipped = 0  # images of a folder or frames of a video that could not be decoded

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(int(self.spec) if self.kind == "camera" else self.spec)
        if not capture.isOpened():
            capture.release()
            raise MoodlensError(f"cannot open {self.kind} {self.spec}: {OPEN_FAILURES[self.kind]}")
        return capture

    def close(self) -> None:
        """Release the camera or file."""
        if self.capture is not None:
            self.capture.release()

    @property
    def live(self) -> bool:
        return self.kind in ("camera", "stream")

    @property
    def stills(self) -> bool:
        return self.kind in ("image", "folder")

    def frames(self) -> Iterator[Frame]:
        """The frames in order; a live source that stops delivering raises MoodlensError."""
        if self.kind == "image":
            yield Frame(read_image(Path(self.spec)), 0, 0.0, Path(self.spec).name)
        elif self.kind == "folder":
            yield from self._folder_frames()
        else:
            yield from self._capture_frames()

    def _folder_frames(self) -> Iterator[Frame]:
        files = image_files(Path(self.spec))
        if not files:
            raise MoodlensError(f"folder {self.spec} holds no images")
        for index, path in enumerate(files):
            try:
                image = read_image(path)
            except MoodlensError as exc:  # one bad photo should not stop a batch: say so, go on
                self.skipped += 1
                print(f"skipped: {exc}", file=sys.stderr)
                continue
            yield Frame(image, index, 0.0, path.name)
        if self.skipped == len(files):
            raise MoodlensError(f"folder {self.spec}: none of its {len(files)} images could be decoded")

    def _capture_frames(self) -> Iterator[Frame]:
        """Frames until the source ends; unreadable frames are skipped and counted in `skipped`."""
        name = f"{self.kind}:{self.spec}" if self.live else Path(self.spec).name
        expected = 0 if self.live else int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        start, delivered, failed_in_a_row = time.monotonic(), 0, 0
        while True:
            ok, image = self.capture.read()
            if not ok or image is None:
                failed_in_a_row += 1
                position = delivered + self.skipped + failed_in_a_row
                if failed_in_a_row > MAX_BAD_FRAMES_IN_A_ROW or (not self.live and position >= expected):
                    break  # the end (or a live source that stopped): no more frames will come
                continue  # a corrupt frame inside a video file, or a frame a camera or stream dropped
            self.skipped += failed_in_a_row
            index, failed_in_a_row = delivered + self.skipped, 0
            stamp = time.monotonic() - start if self.live or not self.fps else index / self.fps
            yield Frame(image, index, stamp, name)
            delivered += 1
        if delivered == 0:
            raise MoodlensError(f"{self.kind} {self.spec} delivered no frames (unreadable or empty)")
        if self.live:
            raise MoodlensError(f"{self.kind} {self.spec} stopped delivering frames after {delivered}")
        self._warn_if_short(delivered, expected)

    def _warn_if_short(self, delivered: int, expected: int) -> None:
        """One line on stderr when a video file had corrupt frames or ended before its header's count."""
        problems = [f"skipped {self.skipped} unreadable frame(s)"] if self.skipped else []
        seen = delivered + self.skipped
        if seen < expected - max(1, expected // 100):  # frame counts from some containers are estimates
            problems.append(f"ended after {seen} of {expected} frames (truncated?)")
        if problems:
            print(f"warning: video {self.spec}: {'; '.join(problems)}", file=sys.stderr)
