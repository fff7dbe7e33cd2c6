"""Where frames come from: a camera index, a video file, a stream URL, an image or a folder."""

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodlens.data import IMAGE_SUFFIXES, image_files
from moodlens.errors import MoodlensError


@dataclass
class Frame:
    """A BGR frame, its position in the source and the name it is reported under."""

    image: np.ndarray
    index: int
    timestamp: float  # seconds from the start of the source
    name: str


def read_color_image(path: Path) -> np.ndarray:
    """Decode an image file to BGR; MoodlensError names the file when it cannot."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise MoodlensError(f"cannot read image {path}: {exc.strerror}") from None
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR) if raw.size else None
    if image is None:
        raise MoodlensError(f"cannot decode image {path}: empty, truncated or not an image")
    return image


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
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            self.kind = "image"
        else:
            self.kind = "video"
        self.capture = None if self.stills else self._open_capture()
        self.fps = (self.capture.get(cv2.CAP_PROP_FPS) if self.capture else 0.0) or 0.0

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(int(self.spec) if self.kind == "camera" else self.spec)
        if not capture.isOpened():
            capture.release()
            raise MoodlensError(f"cannot open {self.kind} {self.spec}")
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
            yield Frame(read_color_image(Path(self.spec)), 0, 0.0, Path(self.spec).name)
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
                image = read_color_image(path)
            except MoodlensError as exc:  # one bad photo should not stop a batch: say so, go on
                print(f"skipped: {exc}", file=sys.stderr)
                continue
            yield Frame(image, index, 0.0, path.name)

    def _capture_frames(self) -> Iterator[Frame]:
        name = f"{self.kind}:{self.spec}" if self.live else Path(self.spec).name
        start, index = time.monotonic(), 0
        while True:
            ok, image = self.capture.read()
            if not ok or image is None:
                break
            stamp = time.monotonic() - start if self.live or not self.fps else index / self.fps
            yield Frame(image, index, stamp, name)
            index += 1
        if index == 0:
            raise MoodlensError(f"{self.kind} {self.spec} delivered no frames (unreadable or empty)")
        if self.live:
            raise MoodlensError(f"{self.kind} {self.spec} stopped delivering frames after {index}")
