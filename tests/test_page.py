"""The page in a real headless Chromium (Debian's chromium and chromium-driver, through Selenium).

Its camera is a real video: Chromium's fake capture device plays a .y4m made here from
../shared/media/fer_woman2.mp4. The page must list the woman's emotion in #faces, as it would for a
person in front of a webcam, then take a photo and a video by upload. Screenshots are saved in the
test's temporary folder (their paths are printed) for a person to look at.
"""

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from server_helpers import Server
from video_helpers import read_frames

from moodlens.labels import EMOTIONS

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FACE_LINE = re.compile(rf"^({'|'.join(EMOTIONS)}|uncertain) \d{{1,3}}%$", re.M)
CAMERA_FRAMES = 90  # 3 s of the clip; Chromium loops it
PHONE = (390, 844)  # CSS pixels of a common phone
MAX_FPS = 8  # below the camera's 30 frames/s: the page must keep to the server's limit


def y4m(video: Path, target: Path, frames: int) -> Path:
    """The first frames of a video as YUV4MPEG2 (4:2:0), the format Chromium's fake camera plays."""
    images = read_frames(video, frames)
    height, width = images[0].shape[:2]
    with open(target, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for image in images:
            out.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return target


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("page-serve"), "--max-fps", MAX_FPS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(media: Path, tmp_path_factory: pytest.TempPathFactory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver not found (apt-get install chromium chromium-driver; .ci/run does)")
    camera = y4m(media / "fer_woman2.mp4", tmp_path_factory.mktemp("camera") / "woman.y4m", CAMERA_FRAMES)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={camera}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def faces_text(driver) -> str:
    return driver.find_element(By.ID, "faces").text


def screenshot(driver, folder: Path, name: str) -> Path:
    path = folder / name
    assert driver.save_screenshot(str(path)), name
    print(f"screenshot: {path}")
    return path


def test_the_camera_shows_the_emotion_of_the_face_in_it(browser, server: Server, tmp_path: Path) -> None:
    browser.get(server.url)
    WebDriverWait(browser, 180).until(lambda d: FACE_LINE.search(faces_text(d)))
    time.sleep(15 / MAX_FPS + 1)  # the page's rate is over its last 15 answers
    rate = WebDriverWait(browser, 30).until(
        lambda d: re.fullmatch(r"(\d+\.\d) frames/s", d.find_element(By.ID, "fps").text))
    assert 0 < float(rate.group(1)) <= MAX_FPS * 1.05
    lines = faces_text(browser).splitlines()
    assert len(lines) == 1 and FACE_LINE.fullmatch(lines[0]), lines  # one woman, one line
    bars = browser.execute_script("return [...document.querySelectorAll('#bars .bar')].map(b => b.innerText)")
    assert [b.split()[0] for b in bars] == list(EMOTIONS)  # redrawn on every frame: read at once
    shown = sum(int(b.split()[-1].rstrip("%")) for b in bars)
    assert 90 <= shown <= 110  # the largest face's probabilities, rounded
    assert browser.find_element(By.ID, "status").text == "live"  # no error: the page keeps to the server's --max-fps
    assert screenshot(browser, tmp_path, "camera.png").stat().st_size > 10_000


def test_a_photo_upload_lists_each_face(browser, server: Server, media: Path, tmp_path: Path) -> None:
    browser.get(server.url)
    browser.find_element(By.ID, "file").send_keys(str(media / "fr_two_people.jpg"))
    WebDriverWait(browser, 120).until(
        lambda d: d.find_element(By.ID, "status").text == "fr_two_people.jpg: 2 face(s)")
    lines = faces_text(browser).splitlines()
    assert len(lines) == 2 and all(FACE_LINE.fullmatch(line) for line in lines), lines
    screenshot(browser, tmp_path, "photo.png")


def test_a_video_upload_shows_progress_then_the_annotated_video(browser, server: Server, media: Path,
                                                                 tmp_path: Path) -> None:
    browser.get(server.url)
    browser.find_element(By.ID, "file").send_keys(str(media / "huimiang_1543684773.avi"))
    WebDriverWait(browser, 300).until(lambda d: "done" in d.find_element(By.ID, "status").text)
    links = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
    assert [a.text for a in links] == ["annotated video", "records (jsonl)"]
    assert browser.find_element(By.ID, "progress-text").text == "67 frames, a face on 67"
    result = "return document.getElementById('result')"
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(f"{result}.readyState") >= 1)
    assert browser.execute_script(f"{result}.videoWidth") == 720  # the browser plays the annotated WebM
    screenshot(browser, tmp_path, "video.png")


def test_the_page_fits_a_phone_screen(browser, server: Server, tmp_path: Path) -> None:
    browser.set_window_size(*PHONE)
    browser.get(server.url)
    WebDriverWait(browser, 180).until(lambda d: FACE_LINE.search(faces_text(d)))
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert browser.find_element(By.ID, "video").get_attribute("playsinline") is not None
    screenshot(browser, tmp_path, "phone.png")


def test_with_a_token_the_page_works_only_from_the_address_that_holds_it(browser, tmp_path: Path) -> None:
    guarded = Server(tmp_path, "--token", "s3cret")
    try:
        browser.get(guarded.url)
        WebDriverWait(browser, 120).until(lambda d: "?token=" in d.find_element(By.ID, "status").text)
        assert faces_text(browser) == ""
        browser.get(f"{guarded.url}/?token=s3cret")
        WebDriverWait(browser, 180).until(lambda d: FACE_LINE.search(faces_text(d)))
    finally:
        guarded.stop()
