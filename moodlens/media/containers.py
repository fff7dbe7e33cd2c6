"""Video containers, told by their first bytes: what the server takes as an uploaded video.

FFmpeg, behind OpenCV, opens whatever its probe recognises, whatever the file is called: a playlist
(HLS .m3u8, an ffconcat list) that makes it read other files of the server, or an image that it
decodes whole only to learn its size. An upload must start as a video container does.
"""

from collections.abc import Callable

IMAGE_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
QUICKTIME_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")  # a QuickTime file's first box


def iso_video(head: bytes) -> bool:
    """MP4, MOV, 3GP: an ISO media file, not an AVIF or HEIF photo."""
    return head[4:8] in QUICKTIME_BOXES and not (head[4:8] == b"ftyp" and head[8:12] in IMAGE_BRANDS)


def transport_stream(head: bytes) -> bool:
    """MPEG-TS packets of 188 bytes, or 192 with a time stamp first (.m2ts): each starts with G."""
    return head[:1] == head[188:189] == b"G" or head[4:5] == head[196:197] == b"G"


CONTAINERS: dict[str, Callable[[bytes], bool]] = {
    "MP4/MOV": iso_video,
    "MKV/WebM": lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),
    "AVI": lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI ",
    "MPEG": lambda head: head.startswith((b"\0\0\x01\xba", b"\0\0\x01\xb3")),
    "MPEG-TS": transport_stream,
    "FLV": lambda head: head.startswith(b"FLV"),
    "WMV": lambda head: head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"),
    "Ogg": lambda head: head.startswith(b"OggS"),
}


def video_container(head: bytes) -> str | None:
    """The container the first bytes (200 are enough) start, or None."""
    return next((name for name, starts in CONTAINERS.items() if starts(head)), None)
