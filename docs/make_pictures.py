"""Make the README's pictures again: an annotated photo and the web page, both from moodlens itself.

    python docs/make_pictures.py                   # both pictures, from ../shared/media/fr_two_people.jpg
    python docs/make_pictures.py --only annotated  # the annotated photo alone (no browser needed)
    python docs/make_pictures.py --source ../shared/media/norton_sofa.mp4 --frame 200

Writes
    docs/images/annotated.png  the photo (or a video's frame) through `EmotionDetector` with detect.py's
                               defaults, drawn by `draw_detections`, as `detect.py --source photo.jpg
                               --output annotated.jpg` draws it; shrunk to --width pixels
    docs/images/web_page.png   the page of `python serve.py` (on 127.0.0.1, a free port) in headless
                               Chromium, whose fake camera plays the same photo (or the video from
                               --frame on); screenshot once the page lists the faces and its frame rate

Run it after a change to face finding, the model, the overlay or the page: it uses whatever the code
defaults to at the time. The web page needs Chromium, its driver and Selenium (requirements-dev.txt):
`apt-get install chromium chromium-driver`. Both PNGs are reduced to 256 colours to stay small.

The source media are test files of other projects (../shared/media/README.md): only a reduced
picture made from one is committed, never the file itself.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, installed or not

from moodlens.detector import DEFAULT_THRESHOLD, EmotionDetector  # noqa: E402
from moodlens.media.overlay import draw_detections  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
IMAGES = ROOT / "docs" / "images"
DEFAULT_SOURCE = MEDIA / "fr_two_people.jpg"  # two people; a White House photo of Obama and Biden
MODEL = ROOT / "model_file.h5"
CAMERA_WIDTH = 640  # the page asks for a 640x480 camera and sends frames at most 640 wide
CAMERA_FRAMES = 60  # 2 s at 30 frames/s; Chromium loops the file
WINDOW = (1100, 640)  # the browser's window, CSS pixels
SERVER_START_S = 180  # the first start converts the model to TFLite
PAGE_READY_S = 180
SETTLE_S = 4  # after the first faces: the page's frame rate is over its last 15 answers
FACE_LINE = re.compile(r"^[a-z]+ \d{1,3}%$", re.M)
BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def read_frames(source: Path, first: int, count: int) -> list[np.ndarray]:
    """`count` frames of a video from frame `first`, or a photo `count` times (BGR)."""
    image = cv2.imread(str(source))
    if image is not None:
        return [image] * count
    video = cv2.VideoCapture(str(source))
    frames = []
    while len(frames) < first + count:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    video.release()
    if len(frames) <= first:
        raise SystemExit(f"error: cannot read frame {first} of {source}")
    return frames[first:]


def detect_frame(source: Path, frame: int) -> tuple[np.ndarray, list, str]:
    """The frame with every face drawn as detect.py draws it, the faces, and the face finder's name.

    A photo goes through `detect` (one search, as detect.py does for a photo); a video through
    `stream().process` from its first frame up to `frame`, so its faces are tracked and smoothed
    as detect.py shows them on that frame."""
    detector = EmotionDetector(MODEL, threshold=DEFAULT_THRESHOLD)
    finder = type(detector.faces).__name__
    image = cv2.imread(str(source))
    if image is not None:
        faces = detector.detect(image)
    else:
        stream, video = detector.stream(), cv2.VideoCapture(str(source))
        for _ in range(frame + 1):
            ok, image = video.read()
            if not ok:
                raise SystemExit(f"error: {source} has no frame {frame}")
            faces = stream.process(image)
        video.release()
    draw_detections(image, faces)
    return image, faces, finder


def shrink(image: np.ndarray, width: int) -> np.ndarray:
    if image.shape[1] <= width:
        return image
    return cv2.resize(image, (width, round(image.shape[0] * width / image.shape[1])), interpolation=cv2.INTER_AREA)


def save_png(image: np.ndarray, path: Path) -> None:
    """A BGR image as a 256-colour PNG (a third of the full-colour file's size for a photo)."""
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)} ({image.shape[1]}x{image.shape[0]}, {path.stat().st_size // 1024} KB)")


def make_annotated(source: Path, frame: int, width: int) -> None:
    image, faces, finder = detect_frame(source, frame)
    for i, face in enumerate(faces, 1):
        print(f"  face {i}: {face.emotion} {face.confidence:.0%} at {list(face.box)}")
    print(f"  {len(faces)} face(s) found by {finder}")
    save_png(shrink(image, width), IMAGES / "annotated.png")


def write_y4m(frames: list[np.ndarray], target: Path) -> Path:
    """Frames as YUV4MPEG2 (4:2:0), the format Chromium's fake camera plays (as tests/test_page.py does)."""
    frames = [shrink(f, CAMERA_WIDTH) for f in frames]
    height, width = (d - d % 2 for d in frames[0].shape[:2])  # 4:2:0 needs even sides
    with open(target, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for f in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(f[:height, :width], cv2.COLOR_BGR2YUV_I420).tobytes())
    return target


class Server:
    """`python serve.py --port 0` (127.0.0.1, a free port), stopped with Ctrl-C as a person would."""

    def __init__(self, tmp: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["TMPDIR"] = str(tmp)
        self.log = open(tmp / "serve.log", "w+")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", "0"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=self.log, text=True)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            self.log.seek(0)
            found = re.search(r"serving on (https?://[^/\s]+)", self.log.read())
            if found:
                self.url = found.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        self.log.seek(0)
        raise SystemExit(f"error: serve.py did not start:\n{self.log.read()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def make_web_page(source: Path, frame: int, width: int) -> None:
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        raise SystemExit("error: the web page picture needs Selenium: pip install -r requirements-dev.txt") from None
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        raise SystemExit("error: chromium and chromedriver not found (apt-get install chromium chromium-driver)")
    with tempfile.TemporaryDirectory(prefix="moodlens-pictures-") as folder:
        tmp = Path(folder)
        camera = write_y4m(read_frames(source, frame, CAMERA_FRAMES), tmp / "camera.y4m")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*BROWSER_FLAGS, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={tmp / 'profile'}",
                     f"--use-file-for-fake-video-capture={camera}"):
            options.add_argument(flag)
        server = Server(tmp)
        try:
            browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
            try:
                browser.get(server.url)
                faces = lambda d: d.find_element(By.ID, "faces").text  # noqa: E731
                WebDriverWait(browser, PAGE_READY_S).until(lambda d: FACE_LINE.search(faces(d)))
                time.sleep(SETTLE_S)
                WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "fps").text)
                print(f"  the page lists: {', '.join(faces(browser).splitlines())}; "
                      f"{browser.find_element(By.ID, 'fps').text} on this machine")
                shot = tmp / "page.png"
                if not browser.save_screenshot(str(shot)):
                    raise SystemExit("error: Chromium took no screenshot")
            finally:
                browser.quit()
        finally:
            server.stop()
        save_png(shrink(cv2.imread(str(shot)), width), IMAGES / "web_page.png")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help=f"a photo or video (default {DEFAULT_SOURCE})")
    p.add_argument("--frame", type=int, default=0, help="a video's frame to annotate, and where its camera starts")
    p.add_argument("--width", type=int, default=800, help="the pictures' width in pixels (default 800)")
    p.add_argument("--only", choices=("annotated", "web_page"), help="make one picture only")
    args = p.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"error: {args.source} not found (../shared/media beside the repository, or --source)")
    if args.only != "web_page":
        make_annotated(args.source, args.frame, args.width)
    if args.only != "annotated":
        make_web_page(args.source, args.frame, args.width)


if __name__ == "__main__":
    main()
