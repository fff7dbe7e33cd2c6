"""The live window for real, on a virtual X screen (Xvfb): a screenshot shows the box and the label; q quits.

Needs the `Xvfb` and `xdotool` programs (Debian: apt-get install xvfb xdotool) and Pillow with XCB
support (PyPI's Pillow wheels have it) for screenshots; skips with a reason where one is missing.
"""

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodlens.live import Playback
from moodlens.media.overlay import COLORS

VIDEO = "fer_woman2.mp4"
SHOW_TIMEOUT_S = 240  # a cold start converts the model with TensorFlow first; CI machines are slow
QUIT_TIMEOUT_S = 30


def require_program(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found on PATH: install it to test the live window (apt-get install {package})")
    return path


@pytest.fixture
def display(tmp_path: Path) -> Iterator[str]:
    """A fresh Xvfb screen, 1280x800, on a display number Xvfb picks itself (-displayfd)."""
    xvfb = require_program("Xvfb", "xvfb")
    from PIL import features

    if not features.check("xcb"):
        pytest.skip("Pillow was built without XCB support: it cannot take screenshots of an X display")
    log = tmp_path / "xvfb.log"
    read_end, write_end = os.pipe()
    with open(log, "w") as log_file:
        server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
                                   "-nolisten", "tcp"], pass_fds=(write_end,), stdout=log_file, stderr=log_file)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 30)
        number = os.read(read_end, 16).decode().strip() if ready else ""
        if not number:
            server.kill()
            server.wait()
            pytest.fail(f"Xvfb did not start:\n{log.read_text()[-2000:]}")
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def screenshot(display: str) -> np.ndarray:
    """The whole X screen as an RGB array."""
    from PIL import ImageGrab

    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


def runs(mask: np.ndarray, length: int, vertical: bool) -> bool:
    """Whether `mask` has a straight run of at least `length` pixels, up-down or left-right."""
    kernel = np.ones((length, 1) if vertical else (1, length), np.uint8)
    return bool(cv2.erode(mask.astype(np.uint8), kernel).any())


def colour_mask(shot: np.ndarray, bgr: tuple[int, int, int]) -> np.ndarray:
    """Where `shot` (RGB) shows exactly the OpenCV colour `bgr`."""
    b, g, r = bgr
    return np.all(shot == (r, g, b), axis=2)


def overlay_colour(shot: np.ndarray) -> str | None:
    """The emotion whose exact colour draws a box (long straight sides) and a label (a filled band) on screen."""
    packed = shot.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], np.uint32)  # one compare per colour
    for emotion, (b, g, r) in COLORS.items():
        mask = packed == (r << 16 | g << 8 | b)
        if np.count_nonzero(mask) < 300:  # too few pixels for a box and a label
            continue
        box = runs(mask, 40, vertical=True) and runs(mask, 40, vertical=False)
        band_rows = int(np.sum(mask.sum(axis=1) >= 30))  # a box's edges fill only a few rows this much
        if box and band_rows >= 10:
            return emotion
    return None


def wait_for_overlay(display: str, detect) -> tuple[str, np.ndarray]:
    start = time.monotonic()
    polls = 0
    while time.monotonic() < start + SHOW_TIMEOUT_S:
        shot = screenshot(display)
        polls += 1
        emotion = overlay_colour(shot)
        if emotion:
            return emotion, shot
        if not detect.running():
            ended = detect.finish()
            pytest.fail(f"detect.py ended (exit {ended.returncode}) after {time.monotonic() - start:.0f} s and "
                        f"{polls} screenshots before a labelled box showed:\n{ended.stdout[-1000:]}"
                        f"\n{ended.stderr[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"no labelled face box on screen within {SHOW_TIMEOUT_S} s")


def press_q(display: str) -> None:
    """Point at the window (with no window manager, keys go where the pointer is) and press q."""
    xdotool = require_program("xdotool", "xdotool")
    env = {**os.environ, "DISPLAY": display}
    subprocess.run([xdotool, "search", "--name", "moodlens", "mousemove", "--window", "%1", "60", "60", "key", "q"],
                   env=env, check=True, capture_output=True, timeout=30)


@pytest.fixture
def start_window(start_script, tiny_model, display: str):
    """`start_window(source)` runs detect.py with a window on the Xvfb screen (killed after the test)."""
    # --threshold 0: the tiny model's label in its emotion colour, never the white "uncertain"
    return lambda source: start_script("detect.py", "--model", tiny_model.path, "--source", source,
                                       "--threshold", 0, display=display)


def test_video_window_shows_a_face_box_and_its_label(display: str, start_window, media: Path, tmp_path: Path) -> None:
    before = screenshot(display)
    detect = start_window(media / VIDEO)
    emotion, shot = wait_for_overlay(display, detect)
    cv2.imwrite(str(tmp_path / "window.png"), cv2.cvtColor(shot, cv2.COLOR_RGB2BGR))
    assert overlay_colour(before) is None
    assert colour_mask(shot, COLORS[emotion]).sum() > 10 * colour_mask(before, COLORS[emotion]).sum() + 500

    stopped = detect.running()  # a fast machine may have played all 464 frames already
    if stopped:
        detect.process.terminate()  # as closing a terminal does; q is the next test's
    ended = detect.finish(timeout=QUIT_TIMEOUT_S)
    assert ended.returncode == (130 if stopped else 0), ended.stderr[-3000:]


def test_q_closes_the_window_of_a_photo(display: str, start_window, media: Path) -> None:
    detect = start_window(media / "fer_justin.jpg")  # a photo stays on screen until a key is pressed
    wait_for_overlay(display, detect)
    press_q(display)
    ended = detect.finish(timeout=QUIT_TIMEOUT_S)
    assert ended.returncode == 0, ended.stderr[-3000:]
    assert "fer_justin.jpg: 1 frames, a face on 1 (100.0%), 1 faces" in ended.stdout
    assert overlay_colour(screenshot(display)) is None  # the window is gone


def summary_rate(stdout: str) -> float:
    """The frames/s of detect.py's summary line."""
    return float(re.search(r"([0-9.]+) frames/s", stdout).group(1))


def test_a_video_file_plays_at_its_own_frame_rate_in_the_window(display: str, start_window, media: Path) -> None:
    """huimiang is 30 frames/s; processed flat out it runs at 60 or more on a quiet machine."""
    ended = start_window(media / "huimiang_1543684773.avi").finish(timeout=SHOW_TIMEOUT_S)
    assert ended.returncode == 0, ended.stderr[-3000:]
    assert "67 frames" in ended.stdout and summary_rate(ended.stdout) <= 30 * 1.03


def test_playback_waits_for_each_frames_time_on_any_machine() -> None:
    """The same pacing without a window: 10 frames at 30 frames/s, no processing, take a third of a second."""
    playback, start = Playback(30.0), time.perf_counter()
    for index in range(10):
        time.sleep(playback.wait_ms(index / 30) / 1000)
    assert time.perf_counter() - start >= 10 / 30 - 0.01
