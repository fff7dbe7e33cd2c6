"""Drawing: a box, the emotion and its confidence on each face, and the frame rate."""

import cv2
import numpy as np

from moodlens.detector import Detection

COLORS = {  # BGR, one per emotion so a change of label is visible at a glance
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160),
    "happy": (40, 200, 240), "neutral": (200, 200, 200), "sad": (200, 120, 40),
    "surprise": (40, 160, 255),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_label(frame: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int], scale: float) -> None:
    """Text on a filled band, above (x, y) or inside the frame's top edge."""
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    top = max(y - h - base - 4, 0)
    cv2.rectangle(frame, (x, top), (x + w + 6, top + h + base + 4), color, cv2.FILLED)
    cv2.putText(frame, text, (x + 3, top + h + 2), FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)


def draw_detections(frame: np.ndarray, detections: list[Detection]) -> None:
    """Box and `emotion 87%` on every face, in place."""
    scale = max(frame.shape[0], frame.shape[1]) / 1000 + 0.3
    for d in detections:
        x, y, w, h = d.box
        color = COLORS.get(d.emotion, (255, 255, 255))
        cv2.rectangle(frame, (x, y), (x + w, y + h), color, max(2, round(scale * 2)))
        draw_label(frame, f"{d.emotion} {d.confidence:.0%}", x, y, color, scale)


def draw_fps(frame: np.ndarray, fps: float) -> None:
    """The processing frame rate in the top-left corner."""
    scale = max(frame.shape[0], frame.shape[1]) / 1200 + 0.3
    draw_label(frame, f"{fps:.1f} fps", 0, 0, (255, 255, 255), scale)
