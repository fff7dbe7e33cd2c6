"""What an encoded image is and the size its header claims, read before any decoder sees a pixel.

OpenCV picks its decoder by the first bytes, whatever the file is called, and allocates what the
header claims before it decodes (a Radiance HDR file claiming 50 megapixels costs 600 MB of floats).
So every format OpenCV's imdecode accepts is listed here, each with a signature test at least as wide
as OpenCV's own and the header read that gives the size OpenCV will allocate. Bytes that fit no
format, or more than one, or a format whose size is not read here, never reach a decoder.
"""

import io
import re
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image  # Pillow comes with matplotlib; used here to read headers only

OPENCV_SIGNATURE_BYTES = 500  # the first bytes OpenCV's decoders look at to pick one
HEAD_BYTES = 512  # enough of a file for every signature test below
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
C_SPACE = b" \t\n\v\f\r"  # isspace() in C, which OpenCV's PNM tests use


class UnreadableSize(ValueError):
    """The header that gives the size is missing or damaged."""


class BeyondPillowLimit(ValueError):
    """Pillow would not read the size: it is more than Pillow's own limit (179 megapixels), itself above ours."""


@dataclass(frozen=True)
class ImageFormat:
    name: str
    signed: Callable[[bytes], bool]  # whether the first bytes may be this format
    size: Callable[[bytes], tuple[int, int]] | None  # (width, height) the header claims; None: refused


def pillow_size(plugin: str) -> Callable[[bytes], tuple[int, int]]:
    """The size as Pillow's `plugin` reads it from the header (the same fields OpenCV's decoder reads)."""

    def size(raw: bytes) -> tuple[int, int]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's own large-image warning
                with Image.open(io.BytesIO(raw), formats=[plugin]) as image:
                    return image.size
        except Image.DecompressionBombError as exc:
            raise BeyondPillowLimit(str(exc)) from None
        except Exception as exc:  # any damage Pillow finds in the header
            raise UnreadableSize(str(exc)) from None

    return size


def png_size(raw: bytes) -> tuple[int, int]:
    """IHDR, read directly: a bad checksum stops Pillow, not OpenCV."""
    if raw[12:16] != b"IHDR" or len(raw) < 24:
        raise UnreadableSize("no IHDR chunk first")
    return struct.unpack(">II", raw[16:24])


def c_lines(raw: bytes, size: int = 128, most: int = 10_000) -> list[bytes]:
    """The first `most` header lines as C's fgets(buffer, size) reads them (a long line comes in pieces),
    each up to a NUL: a header longer than that is no photo's, and is refused."""
    lines, start = [], 0
    while start < len(raw) and len(lines) < most:
        end = raw.find(b"\n", start, start + size - 1)
        end = start + size - 1 if end < 0 else end + 1
        lines.append(raw[start:end].split(b"\0")[0])
        start = end
    return lines


def radiance_size(raw: bytes) -> tuple[int, int]:
    """The resolution line, found as OpenCV's RGBE_ReadHeader finds it: after a FORMAT line and a blank one."""
    lines = iter(c_lines(raw)[1:])
    has_format = False
    for line in lines:
        if line == b"\n":  # a blank line ends the header
            break
        has_format |= line == b"FORMAT=32-bit_rle_rgbe\n"
    else:
        raise UnreadableSize("no end of header")
    found = re.match(rb"-Y\s*([+-]?\d+)\s*\+X\s*([+-]?\d+)", next(lines, b""))  # C's sscanf("-Y %d +X %d")
    if not has_format or not found or min(int(found[1]), int(found[2])) <= 0:
        raise UnreadableSize("no FORMAT line or resolution")
    return int(found[2]), int(found[1])


def is_avif(head: bytes) -> bool:
    """An ISO media file whose ftyp box names an AVIF brand (videos name others), or whose box OpenCV's
    test cannot see the end of: it passes that unread."""
    if head[4:8] != b"ftyp":
        return False
    box = int.from_bytes(head[:4], "big")
    return not 16 <= box <= OPENCV_SIGNATURE_BYTES or b"avi" in head[8:box]


def is_webp(head: bytes) -> bool:
    """What WebPGetFeatures accepts: the RIFF container, or a bare VP8X, VP8 or VP8L chunk or bitstream."""
    return (head[:4] == b"RIFF" and head[8:12] == b"WEBP" or head[:4] in (b"VP8X", b"VP8 ", b"VP8L")
            or head[:1] == b"\x2f" and len(head) > 4 and head[4] >> 5 == 0 or head[3:6] == b"\x9d\x01\x2a")


def starts(*signatures: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(signatures)


def pnm(letters: bytes) -> Callable[[bytes], bool]:
    """P, one of `letters`, white space: PBM, PGM, PPM (1-6), PAM (7), PFM (F, f)."""
    return lambda head: len(head) > 2 and head[:1] == b"P" and head[1] in letters and head[2] in C_SPACE


# OpenCV 4's decoders (imgcodecs/src/loadsave.cpp), in its order.
FORMATS = (
    ImageFormat("BMP", starts(b"BM"), pillow_size("BMP")),
    ImageFormat("GIF", starts(b"GIF"), pillow_size("GIF")),
    ImageFormat("AVIF", is_avif, pillow_size("AVIF")),
    ImageFormat("Radiance HDR", starts(b"#?"), radiance_size),
    ImageFormat("JPEG", starts(b"\xff\xd8\xff"), pillow_size("JPEG")),
    ImageFormat("WebP", is_webp, pillow_size("WEBP")),
    ImageFormat("Sun raster", starts(b"\x59\xa6\x6a\x95"), pillow_size("SUN")),
    ImageFormat("PNM", pnm(b"123456"), pillow_size("PPM")),
    ImageFormat("PAM", pnm(b"7"), None),
    ImageFormat("PFM", pnm(b"Ff"), None),
    ImageFormat("TIFF", starts(b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"), pillow_size("TIFF")),
    ImageFormat("PNG", starts(PNG_SIGNATURE), png_size),
    ImageFormat("JPEG 2000", starts(b"\0\0\0\x0c", b"\xff\x4f\xff\x51"), None),
    ImageFormat("OpenEXR", starts(b"\x76\x2f\x31\x01"), None),
)
ACCEPTED = ", ".join(f.name for f in FORMATS if f.size)


def image_formats(head: bytes) -> list[ImageFormat]:
    """The formats whose signature the first bytes fit (one for any real image)."""
    return [f for f in FORMATS if f.signed(head[:HEAD_BYTES])]
