"""Files and sources the face search takes: cascade files that are not cascades, and live sources
that drop a frame now and then."""

from pathlib import Path

import cv2
import pytest
from errors_helpers import assert_one_line_error, call_script
from video_helpers import mjpg_clip

from moodlens.errors import MoodlensError
from moodlens.faces.cascade import DEFAULT_CASCADE, FaceFinder
from moodlens.media.sources import Source

COMMITTED_MODEL = Path(__file__).resolve().parents[1] / "model_file.h5"
CLIP_FRAMES = 24
DROPPED_FRAME = 5


def cascade_file(kind: str, folder: Path, media: Path) -> Path:
    """A file given to --cascade that is not a usable cascade."""
    path = folder / f"{kind}.xml"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not xml":
        path.write_text("this is not a cascade\n")
    elif kind == "a photo":
        path.write_bytes((media / "fer_justin.jpg").read_bytes())
    elif kind == "truncated":
        path.write_bytes(DEFAULT_CASCADE.read_bytes()[:5000])
    elif kind == "other xml":
        path.write_text('<?xml version="1.0"?>\n<opencv_storage>\n<size>3</size>\n</opencv_storage>\n')
    return path


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "not xml", "a photo", "truncated", "other xml"])
def test_a_cascade_file_that_is_not_a_cascade_is_one_error_line(kind: str, tmp_path: Path, media: Path) -> None:
    cascade = cascade_file(kind, tmp_path, media)
    with pytest.raises(MoodlensError, match="cascade"):
        FaceFinder(cascade)
    outcome = call_script("detect.py", "--no-window", "--source", media / "fer_justin.jpg",
                          "--model", COMMITTED_MODEL, "--detector", "haar", "--cascade", cascade)
    assert_one_line_error(outcome, cascade)


def test_the_stock_cascade_given_by_path_loads(media: Path) -> None:
    finder = FaceFinder(DEFAULT_CASCADE)
    assert len(finder.find(cv2.imread(str(media / "fer_justin.jpg"), cv2.IMREAD_GRAYSCALE))) == 1


def test_a_stream_that_drops_a_frame_goes_on(media: Path, tmp_path: Path) -> None:
    """A live source has no frame count: one unreadable frame must not end it (it ended the run)."""
    data = bytearray(mjpg_clip(media / "fer_woman2.mp4", tmp_path / "clip.avi", CLIP_FRAMES).read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]  # each frame's JPEG
    data[starts[DROPPED_FRAME] : starts[DROPPED_FRAME + 1] - 16] = bytes(starts[DROPPED_FRAME + 1] - 16
                                                                        - starts[DROPPED_FRAME])
    (tmp_path / "dropped.avi").write_bytes(bytes(data))
    source = Source(f"file://{tmp_path / 'dropped.avi'}")
    assert source.live
    indices = []
    with pytest.raises(MoodlensError, match=f"stopped delivering frames after {CLIP_FRAMES - 1}"):
        for frame in source.frames():
            indices.append(frame.index)
    source.close()
    assert indices == [i for i in range(CLIP_FRAMES) if i != DROPPED_FRAME]
