"""Image files: which files in a folder are images, and decoding one safely (a damaged or
pixel-bomb file gives a one-line MoodlensError naming it). Training data and detection both read here.
"""

import io
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image  # Pillow comes with matplotlib; used here to read image headers only

from moodlens.errors import MoodlensError
from moodlens.native import native_stderr_silenced

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 150_000_000  # any camera's photo; not a damaged 10 kB JPEG that claims 30000x30000


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Decode an image file to 8-bit BGR (or as `flags` say); MoodlensError names the file when it cannot.

    Training reads colour too, and turns it gray with `to_gray` as detection does: the decoders'
    own gray conversion differs from it by up to a few levels.
    """
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise MoodlensError(f"cannot read image {path}: {exc.strerror}") from None
    return decode_image(raw, str(path), flags)


def decode_image(raw: np.ndarray, name: str, flags: int = cv2.IMREAD_COLOR, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image's bytes (uint8 array), as `read_image` does; MoodlensError names it `name`.

    Any colour, alpha, 16-bit or palette image decodes; libpng's own complaints about a broken file are
    silenced, the one-line error says it. A header claiming more than `max_pixels` is refused unread.
    """
    if raw.size and claims_too_many_pixels(raw, max_pixels):
        raise MoodlensError(f"cannot decode image {name}: larger than {max_pixels / 10**6:g} megapixels "
                            "(damaged, or too big for a photo)")
    image = None
    if raw.size:
        with native_stderr_silenced():
            try:
                image = cv2.imdecode(raw, flags)
            except cv2.error:  # e.g. a header claiming more pixels than OpenCV accepts
                image = None
    if image is None or image.size == 0:
        raise MoodlensError(f"cannot decode image {name}: empty, truncated or not an image")
    return image


def claims_too_many_pixels(raw: np.ndarray, max_pixels: int = MAX_PIXELS) -> bool:
    """Whether an encoded image's header claims more than `max_pixels`; only the header is read.

    OpenCV would decode such a claim (up to a gigapixel) into gigabytes, taking a minute, and
    return a mostly empty picture.
    """
    if raw[:8].tobytes() == PNG_SIGNATURE and raw.size >= 24:  # direct: a bad checksum stops Pillow, not OpenCV
        width, height = struct.unpack(">II", raw[16:24].tobytes())
        return width * height > max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own large-image warning
            with Image.open(io.BytesIO(raw.tobytes())) as image:
                return image.width * image.height > max_pixels
    except Image.DecompressionBombError:  # Pillow's own limit, above ours
        return True
    except Exception:  # a format or a kind of damage Pillow does not read: OpenCV decides
        return False


def visible(path: Path) -> bool:
    """False for hidden entries (.DS_Store, macOS ._* twins, .ipynb_checkpoints): never data."""
    return not path.name.startswith(".")


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder, by suffix, in a stable order; other files and hidden ones are ignored."""
    return sorted(p for p in folder.iterdir() if p.is_file() and visible(p) and p.suffix.lower() in IMAGE_SUFFIXES)
