"""Drawing: a box, the emotion and its confidence on each face, and the frame rate."""

import cv2
import numpy as np

from moodlens.detector import Detection
from moodlens.faces.geometry import Box, overlap

COLORS = {  # BGR, one per emotion so a change of label is visible at a glance
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160),
    "happy": (40, 200, 240), "neutral": (200, 200, 200), "sad": (200, 120, 40),
    "surprise": (40, 160, 255),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def text_size(text: str, scale: float) -> tuple[int, int, int, int]:
    """Width, height and baseline of the text, and the stroke thickness it is drawn with."""
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    return w, h, base, thickness


def label_size(text: str, scale: float) -> tuple[int, int]:
    """Width and height of the band a label is drawn on."""
    w, h, base, _ = text_size(text, scale)
    return w + 6, h + base + 4


def draw_label(frame: np.ndarray, text: str, x: int, top: int, color: tuple[int, int, int], scale: float) -> None:
    """Text on a filled band whose top-left corner is (x, top)."""
    w, h, base, thickness = text_size(text, scale)
    cv2.rectangle(frame, (x, top), (x + w + 6, top + h + base + 4), color, cv2.FILLED)
    cv2.putText(frame, text, (x + 3, top + h + 2), FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)


def label_place(box: Box, size: tuple[int, int], frame_shape: tuple[int, ...], labels: list[Box],
                faces: list[Box]) -> Box:
    """Where a face's label goes: above its box, else below it, else inside its top edge, always in
    the frame. The first of these clear of the `labels` already drawn and of the other `faces` wins,
    else the least covered; covering a label counts double, as it hides the other face's emotion."""
    x, y, w, h = box
    x = min(max(x, 0), max(frame_shape[1] - size[0], 0))
    places = [(x, y - size[1], *size)] if y >= size[1] else []
    places += [(x, max(min(y + h, frame_shape[0] - size[1]), 0), *size), (x, y, *size)]

    def covered(place: Box) -> float:
        return 2 * sum(overlap(place, t) for t in labels) + sum(overlap(place, f) for f in faces if f != box)

    return min(places, key=covered)


def draw_detections(frame: np.ndarray, detections: list[Detection]) -> None:
    """Box and `emotion 87%` on every face, in place; labels of neighbouring faces do not overlap."""
    scale = max(frame.shape[0], frame.shape[1]) / 1000 + 0.3
    faces = [d.box for d in detections]
    labels: list[Box] = []
    for d in detections:
        x, y, w, h = d.box
        color = COLORS.get(d.emotion, (255, 255, 255))
        cv2.rectangle(frame, (x, y), (x + w, y + h), color, max(2, round(scale * 2)))
        text = f"{d.emotion} {d.confidence:.0%}"
        labels.append(label_place(d.box, label_size(text, scale), frame.shape, labels, faces))
        draw_label(frame, text, labels[-1][0], labels[-1][1], color, scale)


def draw_fps(frame: np.ndarray, fps: float) -> None:
    """The processing frame rate in the top-left corner."""
    scale = max(frame.shape[0], frame.shape[1]) / 1200 + 0.3
    draw_label(frame, f"{fps:.1f} fps", 0, 0, (255, 255, 255), scale)
