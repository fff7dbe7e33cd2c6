"""The one preprocessing path: any image or face crop -> 48x48 grayscale in [0, 1].

Training, evaluation and detection all call `to_model_input`, so the pixels the model sees at
detection time are prepared exactly as the ones it learned from.
"""

import cv2
import numpy as np

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
