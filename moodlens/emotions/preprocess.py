"""The one preprocessing path: any image or face crop -> 48x48 grayscale in [0, 1].

Training, evaluation and detection all call `to_model_input`, so the pixels the model sees at
detection time are prepared exactly as the ones it learned from.
"""

import cv2
import numpy as np

from moodlens.faces.geometry import landmarks_of

FACE_SIZE = 48
INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return an 8-bit single-channel copy of a gray, BGR or BGRA image of any bit depth.

    Raises ValueError for anything else: another dtype or shape, or an image without pixels.
    """
    if image.size == 0:
        raise ValueError(f"expected a non-empty image, received shape {image.shape}")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"expected an 8- or 16-bit image, received dtype {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected a gray, BGR or BGRA image, received shape {image.shape}")


def to_model_input(image: np.ndarray) -> np.ndarray:
    """Turn one face image (any size, gray or color) into the model's float32 48x48x1 in [0, 1].

    The 48x48 face's histogram is equalized, as FER2013's faces were when the data set was made
    (they differ from their own equalization by 2 grey levels on average): a camera's dim or
    washed-out crop then reaches the model with the contrast of the faces it learned from.

    Example:
        >>> to_model_input(np.zeros((100, 80, 3), np.uint8)).shape
        (48, 48, 1)
    """
    gray = to_gray(image)
    if gray.shape != (FACE_SIZE, FACE_SIZE):
        shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)
    gray = cv2.equalizeHist(gray)
    return (gray.astype(np.float32) / 255.0)[:, :, None]


def square_box(
    box: tuple[int, int, int, int], margin: float, frame_shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """Grow a face box by `margin` of its size on each side, make it square, keep it in the frame.

    Haar boxes are tighter than FER2013's framing; the margin restores the border the model was
    trained with. The square is shifted (not squeezed) to stay inside the frame.
    """
    x, y, w, h = box
    frame_h, frame_w = frame_shape[:2]
    grown = round(max(w, h) * (1 + 2 * margin))
    if grown < 1:
        raise ValueError(f"expected a box of positive size with its margin, received {box} and margin {margin}")
    side = min(grown, frame_w, frame_h)
    left = round(x + w / 2 - side / 2)
    top = round(y + h / 2 - side / 2)
    left = min(max(left, 0), frame_w - side)
    top = min(max(top, 0), frame_h - side)
    return left, top, side, side


def crop_face(frame: np.ndarray, box: tuple[int, int, int, int], margin: float) -> np.ndarray:
    """Cut the square, margin-grown crop of `box` out of `frame` (no copy)."""
    left, top, w, h = square_box(box, margin, frame.shape)
    return frame[top : top + h, left : left + w]


# The aligned crop's framing: where FER2013's own faces have their eyes, by YuNet's landmarks on every
# 9th training face enlarged 4x (benchmarks/face_quality.py, "aligned_framing"): the eyes' midpoint at
# the middle, EYE_LINE of the way down, and the side SIDE_PER_SCALE times the face's scale, the larger
# of the eye distance and the eyes-to-mouth distance (about equal on a frontal face; the larger one
# holds when the head turns or nods).
EYE_LINE = 0.383
SIDE_PER_SCALE = 2.58
ALIGN_SHRINK = 2 * FACE_SIZE  # a large face is first shrunk to about this side with area averaging


def face_scale(landmarks: np.ndarray) -> float:
    """The larger of the eye distance and the distance from the eyes' midpoint to the mouth's."""
    eyes, mouth = landmarks[:2].mean(axis=0), landmarks[3:5].mean(axis=0)
    return float(max(np.linalg.norm(landmarks[1] - landmarks[0]), np.linalg.norm(mouth - eyes)))


def aligned_crop(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face turned so its eyes are level, scaled and placed as FER2013's faces are: FACE_SIZE square.

    `landmarks` are YuNet's five points in frame pixels (the person's right eye, left eye, nose tip, right
    and left mouth corners). Training and detection both crop with this, so the model sees one framing.
    """
    right_eye, left_eye = landmarks[0].astype(np.float64), landmarks[1].astype(np.float64)
    angle = np.degrees(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    side = SIDE_PER_SCALE * face_scale(landmarks)
    centre = (right_eye + left_eye) / 2
    shrink = min(1.0, ALIGN_SHRINK / max(side, 1.0))
    if shrink < 1.0:  # area-average a large face first: warpAffine alone would alias it
        reach = int(np.ceil(side))  # the rotated crop lies within this distance of the eyes
        left, top = max(int(centre[0]) - reach, 0), max(int(centre[1]) - reach, 0)
        region = frame[top : int(centre[1]) + reach, left : int(centre[0]) + reach]
        frame = cv2.resize(region, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        centre, side = (centre - (left, top)) * shrink, side * shrink
    scale = FACE_SIZE / side
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += (FACE_SIZE / 2 - centre[0], FACE_SIZE * EYE_LINE - centre[1])
    return cv2.warpAffine(frame, matrix, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def face_crop(gray: np.ndarray, box: tuple[int, int, int, int], margin: float, aligned: bool) -> np.ndarray:
    """The face the classifier reads, in training and detection alike: for a model that learned `aligned`
    faces, aligned on its eyes where the finder gave landmarks (YuNet's `Face`); else the box's square
    grown by `margin`, FER2013's own framing."""
    landmarks = landmarks_of(box)
    return aligned_crop(gray, landmarks) if aligned and landmarks is not None else crop_face(gray, box, margin)
