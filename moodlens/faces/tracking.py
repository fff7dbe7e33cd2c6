"""Following faces across frames, and smoothing each face's scores so its label does not flicker.

Faces are matched to tracks by box overlap (IoU); each track keeps an exponential moving average
of its score vector: smoothed = smooth * previous + (1 - smooth) * current, so `smooth` = 0 shows
every frame's raw scores and values near 1 react slowly. The track's box is averaged the same way
(with `box_smooth`): the cascade's boxes jump by a scale step from frame to frame, and so would
the face crop the classifier sees.
"""

from dataclasses import dataclass, field
from itertools import count

import numpy as np

from moodlens.faces.geometry import Box, Face, iou

MATCH_IOU = 0.3  # a face box overlapping a track's last box this much is the same face
# Halves the box jitter on the real videos and trails a moving face by one frame (benchmarks/face_quality.py;
# docs/detection.md, Steady labels).
BOX_SMOOTH = 0.5


@dataclass
class Track:
    """One face over time: an id, its last box, its smoothed scores, frames since last seen."""

    id: int
    box: Box
    scores: np.ndarray | None = None
    misses: int = 0

    def follow(self, box: Box, strength: float) -> None:
        """Move the box toward this frame's box, keeping `strength` of the old one (0: jump to it).

        The corners are averaged, not the sizes, so a box between two boxes inside the frame stays
        inside it; a face found again after misses jumps, as its old box is stale.
        """
        if self.misses:
            strength = 0.0
        old = (self.box[0], self.box[1], self.box[0] + self.box[2], self.box[1] + self.box[3])
        new = (box[0], box[1], box[0] + box[2], box[1] + box[3])
        x0, y0, x1, y1 = (round(strength * a + (1 - strength) * b) for a, b in zip(old, new))
        smoothed = (x0, y0, x1 - x0, y1 - y0)
        if isinstance(box, Face):  # landmarks are averaged as the corners are: the aligned crop holds still
            landmarks = box.landmarks
            if isinstance(self.box, Face):
                landmarks = strength * self.box.landmarks + (1 - strength) * landmarks
            smoothed = Face(smoothed, landmarks.astype(np.float32), box.score)
        self.box, self.misses = smoothed, 0

    def smooth(self, current: np.ndarray, strength: float) -> np.ndarray:
        """Blend this frame's scores into the track's and return the result."""
        if self.scores is None:
            self.scores = current.astype(np.float64)
        else:
            self.scores = strength * self.scores + (1 - strength) * current
        return self.scores


@dataclass
class Tracker:
    """Assigns face boxes to tracks frame after frame; a track unseen for `max_misses` frames ends."""

    max_misses: int = 5
    box_smooth: float = BOX_SMOOTH
    tracks: list[Track] = field(default_factory=list)
    _ids: count = field(default_factory=lambda: count(1))

    def end_all(self) -> None:
        """Forget every face (at a scene cut): the next boxes start new tracks with fresh scores."""
        self.tracks = []

    def update(self, boxes: list[Box]) -> list[Track]:
        """Match this frame's boxes to tracks (best overlap first); returns the tracks seen now."""
        pairs = sorted(((iou(t.box, b), ti, bi) for ti, t in enumerate(self.tracks) for bi, b in enumerate(boxes)),
                       reverse=True)
        matched_tracks, matched_boxes, seen = set(), set(), []
        for score, ti, bi in pairs:
            if score < MATCH_IOU or ti in matched_tracks or bi in matched_boxes:
                continue
            matched_tracks.add(ti)
            matched_boxes.add(bi)
            track = self.tracks[ti]
            track.follow(boxes[bi], self.box_smooth)
            seen.append(track)
        for ti, track in enumerate(self.tracks):
            if ti not in matched_tracks:
                track.misses += 1
        self.tracks = [t for t in self.tracks if t.misses <= self.max_misses]
        for bi, box in enumerate(boxes):
            if bi not in matched_boxes:
                track = Track(next(self._ids), box)
                self.tracks.append(track)
                seen.append(track)
        return seen
