"""detect.py never destroys what the user already has: it refuses to write over its own input, and an
interrupted run leaves complete earlier outputs untouched, keeping its partial ones under names that say so."""

import json
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from errors_helpers import assert_one_line_error, call_script, leftovers, snapshot
from video_helpers import frame_count

INTERRUPTED_VIDEO = "norton_sofa.mp4"  # 781 frames: long enough to interrupt mid-run


def detect(*args: object) -> object:
    return call_script("detect.py", "--no-window", *args)


def link(path: Path, target: Path) -> Path:
    path.symlink_to(target)
    return path


# --- writing over the input -----------------------------------------------------------------------------


PHOTO_OUTPUTS: dict[str, Callable[[Path], Path]] = {
    "the same path": lambda photo: photo,
    "a path through ..": lambda photo: photo.parent / "sub" / ".." / photo.name,
    "a link to the photo": lambda photo: link(photo.parent / "link.jpg", photo),
}


@pytest.mark.parametrize("how", PHOTO_OUTPUTS)
def test_output_onto_the_source_photo_is_refused(how: str, tiny_model, media: Path, tmp_path: Path) -> None:
    photo = tmp_path / "one.jpg"
    shutil.copy(media / "fr_obama.jpg", photo)
    (tmp_path / "sub").mkdir()
    output = PHOTO_OUTPUTS[how](photo)
    before = snapshot(tmp_path)
    outcome = detect("--source", photo, "--model", tiny_model.path, "--output", output)
    assert_one_line_error(outcome, output, "is the source")
    assert snapshot(tmp_path) == before and (not output.is_symlink() or output.resolve() == photo)


def test_source_that_links_to_the_output_is_refused(tiny_model, media: Path, tmp_path: Path) -> None:
    """The source is a link: writing the real file would change what the link shows."""
    photo = tmp_path / "one.jpg"
    shutil.copy(media / "fr_obama.jpg", photo)
    source = link(tmp_path / "shortcut.jpg", photo)
    before = snapshot(tmp_path)
    outcome = detect("--source", source, "--model", tiny_model.path, "--output", photo)
    assert_one_line_error(outcome, photo, "is the source")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("how", ["the same path", "a path through ..", "a link to the folder"])
def test_output_folder_onto_the_source_folder_is_refused(how: str, tiny_model, media: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("fr_obama.jpg", "fer_justin.jpg"):
        shutil.copy(media / name, photos / name)
    output = {"the same path": photos, "a path through ..": photos / ".." / "photos",
              "a link to the folder": tmp_path / "annotated"}[how]
    if how == "a link to the folder":
        output.symlink_to(photos, target_is_directory=True)
    before = snapshot(tmp_path)
    outcome = detect("--source", photos, "--model", tiny_model.path, "--output", output)
    assert_one_line_error(outcome, output, "is the source")
    assert snapshot(tmp_path) == before


def test_video_output_or_log_onto_the_source_video_is_refused(tiny_model, media: Path, tmp_path: Path) -> None:
    """OpenCV opens a video whatever its name, so even a log name (.csv) can be the source."""
    video = tmp_path / "clip.avi"
    shutil.copy(media / "huimiang_1543684773.avi", video)
    as_csv = tmp_path / "clip.csv"
    shutil.copy(video, as_csv)
    before = snapshot(tmp_path)
    same = tmp_path / "." / "clip.avi"
    assert_one_line_error(detect("--source", video, "--model", tiny_model.path, "--output", same), "is the source")
    assert_one_line_error(detect("--source", as_csv, "--model", tiny_model.path, "--log", as_csv), as_csv,
                          "is the source")
    assert snapshot(tmp_path) == before


# --- interrupted runs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_keeps_earlier_outputs_and_names_the_partial_ones(sig: signal.Signals, start_script, tiny_model,
                                                                    media: Path, tmp_path: Path) -> None:
    """A real signal mid-run on a real clip: the complete earlier video and log stay byte for byte; what
    was done so far is kept, complete as far as it goes, as annotated.interrupted.mp4 and
    faces.interrupted.jsonl."""
    out, log = tmp_path / "annotated.mp4", tmp_path / "faces.jsonl"
    out.write_bytes(b"an earlier, complete video")
    log.write_text('{"earlier": "run"}\n')
    before = snapshot(tmp_path)
    run = start_script("detect.py", "--model", tiny_model.path, "--source", media / INTERRUPTED_VIDEO,
                       "--no-window", "--output", out, "--log", log)
    deadline = time.monotonic() + 240
    while not any(p.stat().st_size > 50_000 for p in tmp_path.glob(".annotated.part*.mp4")):
        assert run.running(), run.finish().stderr
        assert time.monotonic() < deadline, "the video was never started"
        time.sleep(0.05)
    run.process.send_signal(sig)
    done = run.finish(timeout=60)
    assert done.returncode == 130, done.stderr
    partial_video, partial_log = tmp_path / "annotated.interrupted.mp4", tmp_path / "faces.interrupted.jsonl"
    assert done.stderr.strip().splitlines() == [f"interrupted: partial outputs kept as {partial_video}, "
                                                f"{partial_log}; earlier files untouched"]
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, partial_video.name, partial_log.name])
    frames = frame_count(partial_video)
    assert 0 < frames < 781
    records = [json.loads(line) for line in partial_log.read_text().splitlines()]
    assert records and max(r["frame"] for r in records) < frames  # the log covers the video's frames, no more
    assert leftovers(tmp_path) == []
