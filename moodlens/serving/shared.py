"""One EmotionDetector shared by every connection of the server, one frame at a time.

LiteRT's interpreter and OpenCV's cascades may not be used by two threads at once; a lock around each
frame keeps one detector (one model in memory, loaded once) for any number of clients, while decoding
and encoding run in parallel outside it.
"""

import threading

import numpy as np

from moodlens.detector import Detection, EmotionDetector, FaceStream


class SharedDetector:
    """`detect` and `stream` as on EmotionDetector, each frame under one lock."""

    def __init__(self, detector: EmotionDetector):
        self.detector = detector
        self.lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.detector.labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        with self.lock:
            return self.detector.detect(frame)

    def stream(self, smooth: float, redetect: int) -> "SharedStream":
        return SharedStream(self.detector.stream(smooth, redetect), self.lock)


class SharedStream:
    """A FaceStream (tracked, smoothed faces of one video or connection) whose frames take the lock."""

    def __init__(self, stream: FaceStream, lock: threading.Lock):
        self.stream, self.lock = stream, lock

    def process(self, frame: np.ndarray) -> list[Detection]:
        with self.lock:
            return self.stream.process(frame)
