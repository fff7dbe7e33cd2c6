"""Head pose from YuNet's five landmarks: roll from the eye line, yaw from where the nose tip lies
between the eyes.

Yaw: turning the head by an angle t moves the nose tip, which stands NOSE_DEPTH eye distances in front
of the eyes, sideways by NOSE_DEPTH * sin(t) while the eyes draw together to cos(t) of their distance,
so the nose's offset from the eyes' midpoint, in eye distances, is NOSE_DEPTH * tan(t). Pitch is not
given: from these five points it cannot be told apart from the shape of a face.
"""

import numpy as np

NOSE_DEPTH = 0.55  # the nose tip in front of the eyes' centres, in eye distances (adult average proportions)
# Beyond this yaw a face is flagged `turned`: 95 % of FER2013's training faces, which the model learned
# from, are turned less than this (docs/detection.md, "Landmarks and head pose").
TURNED_YAW = 34.0
LANDMARK_NAMES = ("right_eye", "left_eye", "nose", "right_mouth", "left_mouth")  # the person's own right and left


def head_pose(landmarks: np.ndarray) -> dict[str, float]:
    """{"roll", "yaw"} in degrees: roll, the eye line's angle clockwise from level in the image; yaw,
    positive when the face turns towards the image's right."""
    right_eye, left_eye, nose = (landmarks[i].astype(np.float64) for i in range(3))
    eye_line = left_eye - right_eye
    roll = np.arctan2(eye_line[1], eye_line[0])
    distance = max(float(np.hypot(*eye_line)), 1e-6)
    # The nose's offset along the eye line, in eye distances, with the head's roll taken out.
    offset = float(np.dot(nose - (right_eye + left_eye) / 2, eye_line)) / distance**2
    yaw = np.arctan(offset / NOSE_DEPTH)
    return {"roll": round(float(np.degrees(roll)), 1), "yaw": round(float(np.degrees(yaw)), 1)}


def is_turned(pose: dict[str, float]) -> bool:
    """Whether the face is turned further than the faces the model learned from (see TURNED_YAW)."""
    return abs(pose["yaw"]) > TURNED_YAW
