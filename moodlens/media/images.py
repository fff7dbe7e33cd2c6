"""Image files: which files in a folder are images, and decoding one safely (a damaged or
pixel-bomb file gives a one-line MoodlensError naming it). Training data and detection both read here.
"""

from pathlib import Path

import cv2
import numpy as np

from moodlens.errors import MoodlensError
from moodlens.media.headers import ACCEPTED, HEAD_BYTES, BeyondPillowLimit, UnreadableSize, image_formats
from moodlens.native import native_stderr_silenced

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})
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
    silenced, the one-line error says it. An image whose header claims more than `max_pixels`, or
    whose size cannot be read before decoding, is refused unread (`check_header`).
    """
    check_header(raw.tobytes(), name, max_pixels)
    with native_stderr_silenced():
        try:
            image = cv2.imdecode(raw, flags)
        except cv2.error:  # some decoders raise on damage rather than return nothing
            image = None
    if image is None or image.size == 0:
        raise MoodlensError(f"cannot decode image {name}: empty, truncated or not an image")
    return image


def check_header(data: bytes, name: str, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse an encoded image before any decoder runs, unless its format is known and its header
    claims at most `max_pixels`: OpenCV would decode a false claim (up to a gigapixel) into gigabytes,
    taking a minute, and return a mostly empty picture."""
    formats = image_formats(data)
    if not formats:
        raise MoodlensError(f"cannot decode image {name}: empty, truncated or not an image")
    if len(formats) > 1:  # which decoder OpenCV picks, and so which size counts, is not sure
        raise MoodlensError(f"cannot decode image {name}: its header fits {' and '.join(f.name for f in formats)}")
    image_format = formats[0]
    if image_format.size is None:
        raise MoodlensError(f"cannot decode image {name}: {image_format.name} is not accepted "
                            f"(these are: {ACCEPTED})")
    try:
        width, height = image_format.size(data)
    except UnreadableSize:
        raise MoodlensError(f"cannot decode image {name}: damaged {image_format.name} header "
                            "(its size cannot be read)") from None
    except BeyondPillowLimit:
        width = height = None
    if width is None or width * height > max_pixels:
        claim = f"it claims {width}x{height}: " if width else ""
        raise MoodlensError(f"cannot decode image {name}: larger than {max_pixels / 10**6:g} megapixels "
                            f"({claim}damaged, or too big for a photo)")


def is_image_file(path: Path) -> bool:
    """Whether a file is an image, by its name or else by its first bytes: OpenCV and FFmpeg go by the
    bytes, so a photo named .hdr or .mp4 is still decoded as one (and must be checked as one)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    if not path.is_file():  # a camera device or a pipe: reading it could wait for ever
        return False
    try:
        with open(path, "rb") as f:
            return bool(image_formats(f.read(HEAD_BYTES)))
    except OSError:  # unreadable: the video decoder says so
        return False


def visible(path: Path) -> bool:
    """False for hidden entries (.DS_Store, macOS ._* twins, .ipynb_checkpoints): never data."""
    return not path.name.startswith(".")


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder, by suffix, in a stable order; other files and hidden ones are ignored."""
    return sorted(p for p in folder.iterdir() if p.is_file() and visible(p) and p.suffix.lower() in IMAGE_SUFFIXES)
