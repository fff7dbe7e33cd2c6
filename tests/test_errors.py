"""The bad-input catalogue: every kind of bad input or fault, fed for real, and what the user sees.

Each test checks the outcome a user gets: a non-zero exit with exactly one `error: ...` line on stderr
that names the file or device and what is wrong (no traceback), and nothing lost: earlier models and
outputs intact, no partial or temporary files left. Inputs that are odd but fine (colour, 16-bit,
palette, 1x1 and huge images, stray files, a batch larger than the data) must simply work.

Most runs go through the real scripts in this process (`call_script`); the ones where native
libraries could print to stderr, or where signals and process limits are the point, run as child
processes (`run_script`). Kinds are numbered as in the README's old errors list; the messages and
what to do about them are now in docs/errors.md.
"""

import csv
import errno
import json
import os
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from errors_helpers import (
    ROOT,
    Outcome,
    assert_one_line_error,
    assert_usage_error,
    call_script,
    digest,
    fer_faces,
    leftovers,
    media_file,
    radiance_claiming,
    run_script,
    script_env,
    snapshot,
)
from video_helpers import frame_count, mjpg_clip

import moodlens.media.outputs
import moodlens.training.loop
from moodlens.emotions.modelio import load_model, save_model
from moodlens.emotions.networks import build_model
from moodlens.emotions.preprocess import to_model_input
from moodlens.errors import MoodlensError
from moodlens.labels import EMOTIONS
from moodlens.media.images import read_image
from moodlens.native import native_stderr_silenced
from moodlens.training.data import load_fer2013_csv, load_folder_split

CLASSES = ("angry", "happy", "sad")
VIDEO = "huimiang_1543684773.avi"  # one face in every frame, MJPG
CLIP_FRAMES = 24
BROKEN_FRAME = 10

# --- fixtures: a tiny data set, models good and bad, a short real clip ------------------------------


def make_data(root: Path, classes: tuple[str, ...] = CLASSES, train: int = 4, test: int = 2) -> Path:
    """root/{train,test}/<emotion>/ with real FER2013 faces."""
    for split, count in (("train", train), ("test", test)):
        for emotion in classes:
            folder = root / split / emotion
            folder.mkdir(parents=True)
            for face in fer_faces(split, emotion, count):
                shutil.copy(face, folder / face.name)
    return root


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_data(tmp_path / "data")


def face_gray() -> np.ndarray:
    """One real 48x48 FER2013 face."""
    return cv2.imread(str(fer_faces("train", "happy", 1)[0]), cv2.IMREAD_GRAYSCALE)


def sequential(*layers: object, shape: tuple[int, ...] = (48, 48, 1), outputs: int = 7) -> object:
    """A small model: `layers`, then a softmax head with `outputs` classes."""
    import keras

    head = [keras.layers.Flatten(), keras.layers.Dense(outputs, activation="softmax")]
    return keras.Sequential([keras.Input(shape), *layers, *head])


# A Lambda layer whose code touches $MOODLENS_PWNED when it runs: while the model is built for saving
# the variable is unset; a loader that ran the code would create the file.
PWN = ('lambda x: (__import__("pathlib").Path(__import__("os").environ["MOODLENS_PWNED"]).touch() '
       'if "MOODLENS_PWNED" in __import__("os").environ else None) or x')


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good 7-class model (untrained: error tests need none) and every kind of bad model file."""
    import keras

    folder = tmp_path_factory.mktemp("models")
    paths = {name: folder / f"{name}.h5" for name in
             ("good", "wrong_input", "wrong_outputs", "lambda", "truncated", "text", "keras_zip")}
    save_model(build_model("seed", len(EMOTIONS)), EMOTIONS, paths["good"])
    save_model(sequential(shape=(64, 64, 3)), EMOTIONS, paths["wrong_input"])
    save_model(sequential(outputs=5), EMOTIONS, paths["wrong_outputs"])
    assert "MOODLENS_PWNED" not in os.environ
    save_model(sequential(keras.layers.Lambda(eval(PWN))), EMOTIONS, paths["lambda"])
    good = paths["good"].read_bytes()
    paths["truncated"].write_bytes(good[: len(good) // 2])
    paths["text"].write_text("this is not a model\n")
    sequential().save(folder / "native.keras")  # a real Keras file, but a zip, named .h5
    shutil.copy(folder / "native.keras", paths["keras_zip"])
    return paths


@pytest.fixture(scope="module")
def good_model(models: dict[str, Path]) -> Path:
    """The good model, run once through detect.py here: its conversion for detection is then cached
    for every later run, child processes included."""
    outcome = call_script("detect.py", "--no-window", "--source", media_file("fer_justin.jpg"),
                          "--model", models["good"])
    assert outcome.code == 0, outcome.stderr
    return models["good"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 frames of the real test video at 360x240 (MJPG): short enough to detect on quickly."""
    return mjpg_clip(media_file(VIDEO), tmp_path_factory.mktemp("clip") / "clip.avi", CLIP_FRAMES)


def jpeg_starts(data: bytes) -> list[int]:
    """Where each MJPG frame's JPEG begins."""
    return [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]


def detect(*args: object, folder: Path | None = None) -> Outcome:
    return call_script("detect.py", "--no-window", *args, folder=folder)


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


# --- data (kinds 1-17) ---------------------------------------------------------------------------------


def train(data: Path, output: Path, *extra: object) -> Outcome:
    return call_script("train.py", "--data", data, "--output", output, "--arch", "seed", "--epochs", 1,
                       "--batch-size", 8, *extra)


def test_01_missing_data_folder_in_a_real_process(tmp_path: Path) -> None:
    """A real `python train.py`: one line on stderr, TensorFlow's start-up chatter silenced too."""
    outcome = run_script("train.py", "--data", tmp_path / "data", "--output", tmp_path / "m.h5")
    assert_one_line_error(outcome, tmp_path / "data", "not found")
    assert list(tmp_path.iterdir()) == []


def test_02_missing_split_folder(data: Path, tmp_path: Path) -> None:
    shutil.rmtree(data / "test")
    assert_one_line_error(train(data, tmp_path / "m.h5"), data / "test", "not found")
    assert not (tmp_path / "m.h5").exists()


def test_03_empty_class_folder(data: Path, tmp_path: Path) -> None:
    for face in (data / "train" / "sad").iterdir():
        face.unlink()
    assert_one_line_error(train(data, tmp_path / "m.h5"), data / "train" / "sad", "no images")


def test_04_folder_named_for_no_emotion(data: Path, tmp_path: Path) -> None:
    (data / "train" / "happy").rename(data / "train" / "hapy")
    assert_one_line_error(train(data, tmp_path / "m.h5"), data / "train", "hapy", "not emotions")


def test_05_stray_files_and_hidden_entries_are_ignored(data: Path) -> None:
    happy = data / "train" / "happy"
    (happy / "README.txt").write_text("notes")
    (happy / "labels.csv").write_text("a,b\n")
    (happy / "Thumbs.db").write_bytes(b"\0" * 64)
    (happy / ".DS_Store").write_bytes(b"\0" * 64)
    (happy / "._Training_1.jpg").write_bytes(b"\0\5\26\7" + b"\0" * 60)  # macOS AppleDouble twin
    (data / "train" / ".ipynb_checkpoints").mkdir()
    split = load_folder_split(data / "train")
    assert split.counts() == dict.fromkeys(CLASSES, 4)


@pytest.mark.parametrize("kind", ["zero-byte JPEG", "truncated JPEG", "truncated PNG", "garbled PNG"])
def test_06_to_09_broken_image_files(kind: str, data: Path, tmp_path: Path) -> None:
    jpeg = fer_faces("train", "happy", 1)[0].read_bytes()
    png = cv2.imencode(".png", face_gray())[1].tobytes()
    broken = {"zero-byte JPEG": b"", "truncated JPEG": jpeg[: len(jpeg) // 2], "truncated PNG": png[: len(png) // 2],
              "garbled PNG": png[:60] + bytes(300) + png[360:]}[kind]
    name = "broken.png" if "PNG" in kind else "broken.jpg"
    (data / "train" / "sad" / name).write_bytes(broken)
    assert_one_line_error(train(data, tmp_path / "m.h5"), data / "train" / "sad" / name, "cannot decode")
    assert not (tmp_path / "m.h5").exists()


def encode_variants(gray: np.ndarray, folder: Path) -> list[Path]:
    """The same face as colour JPEG, RGBA PNG, 16-bit PNG, palette PNG and 8-bit BMP."""
    from PIL import Image

    bgr = cv2.merge([gray, gray, gray])
    files = {"color.jpg": bgr, "rgba.png": cv2.merge([gray, gray, gray, np.full_like(gray, 255)]),
             "deep16.png": gray.astype(np.uint16) * 257, "plain.bmp": gray}
    for name, image in files.items():
        cv2.imwrite(str(folder / name), image, [cv2.IMWRITE_JPEG_QUALITY, 100])
    Image.fromarray(gray).convert("P").save(folder / "palette.png")
    return sorted(folder.iterdir())


def test_10_color_rgba_16bit_and_palette_images_are_accepted(tmp_path: Path) -> None:
    gray = face_gray()
    folder = tmp_path / "split" / "happy"
    folder.mkdir(parents=True)
    files = encode_variants(gray, folder)
    assert len(files) == 5
    split = load_folder_split(tmp_path / "split")
    assert split.x.shape == (5, 48, 48, 1) and split.x.dtype == np.float32
    expected = to_model_input(gray)  # the plain gray face, through the same preprocessing
    for face, path in zip(split.x, files):
        tolerance = 3 / 255 if path.suffix == ".jpg" else 1e-6  # JPEG is lossy even at quality 100
        np.testing.assert_allclose(face, expected, atol=tolerance, err_msg=path.name)
    from PIL import Image

    with Image.open(folder / "palette.png") as palette:  # the variants are what they claim to be
        assert palette.mode == "P"
    assert cv2.imread(str(folder / "deep16.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert cv2.imread(str(folder / "rgba.png"), cv2.IMREAD_UNCHANGED).shape == (48, 48, 4)


def test_11_one_pixel_image_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    cv2.imwrite(str(path), np.array([[200]], np.uint8))
    face = to_model_input(read_image(path))
    assert face.shape == (48, 48, 1) and face.dtype == np.float32
    np.testing.assert_allclose(face, 200 / 255, atol=1e-6)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (and holds none)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def jpeg_claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF) is changed to claim width x height."""
    at = next(i for i in range(len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] in (0xC0, 0xC1, 0xC2))
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def test_12_huge_image_is_accepted_and_lying_headers_refused(tmp_path: Path) -> None:
    """10000x10000 decodes. A few kB that claim more than 150 megapixels are refused without decoding:
    OpenCV would fill gigabytes for a minute (a damaged JPEG claiming 30000x30000 takes 75 s, 6 GB)."""
    huge = np.zeros((10_000, 10_000), np.uint8)
    cv2.circle(huge, (5000, 5000), 3000, 255, -1)
    path = tmp_path / "huge.png"
    cv2.imwrite(str(path), huge, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del huge
    face = to_model_input(read_image(path))
    assert face.shape == (48, 48, 1) and face[24, 24, 0] == 1.0 and face[0, 0, 0] == 0.0
    photo = media_file("fer_no-faces.jpg").read_bytes()
    liars = {"liar.png": png_header(200_000, 200_000),  # 40 gigapixels
             "bad-checksum.png": png_header(3_735_600, 48)[:29] + b"\0\0\0\0",  # Pillow stops, OpenCV would not
             "liar.jpg": jpeg_claiming(photo, 30_000, 30_000)}
    for name, raw in liars.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(MoodlensError, match=f"cannot decode image {tmp_path / name}: larger than 150 megapixels"):
            read_image(tmp_path / name)


def test_12b_every_format_opencv_decodes_has_its_size_read_before_decoding(tmp_path: Path) -> None:
    """OpenCV picks its decoder by the bytes, not the name. A Radiance HDR file claiming 13000x13000 (2 GB
    of floats to OpenCV) is refused unread whatever it is called; small real images of every format OpenCV
    writes decode; a format whose size is not read before decoding, or bytes fitting two formats, are refused."""
    for name in ("bomb.hdr", "bomb.jpg"):
        (tmp_path / name).write_bytes(radiance_claiming(13_000, 13_000))
        with pytest.raises(MoodlensError, match=f"cannot decode image {tmp_path / name}: larger than 150 megapixels "
                                                r"\(it claims 13000x13000"):
            read_image(tmp_path / name)
    small = cv2.imread(str(media_file("fer_no-faces.jpg")))[:40, :60]
    for suffix in (".hdr", ".avif", ".gif", ".ras", ".webp", ".tiff", ".bmp", ".ppm", ".png", ".jpg"):
        path = tmp_path / f"small{suffix}"
        assert cv2.imwrite(str(path), small.astype(np.float32) / 255 if suffix == ".hdr" else small), suffix
        assert read_image(path).shape == (40, 60, 3), suffix
    cv2.imwrite(str(tmp_path / "small.jp2"), small)
    with pytest.raises(MoodlensError, match="small.jp2: JPEG 2000 is not accepted"):
        read_image(tmp_path / "small.jp2")
    (tmp_path / "both.hdr").write_bytes(b"#?RAftypavif\n" + radiance_claiming(10, 10))  # also an AVIF's start
    with pytest.raises(MoodlensError, match="both.hdr: its header fits AVIF and Radiance HDR"):
        read_image(tmp_path / "both.hdr")


def test_12c_detect_py_refuses_an_image_bomb_not_named_as_an_image(tmp_path: Path) -> None:
    """bomb.hdr is no image by its name: it went to the video decoder, FFmpeg, which decodes it whole."""
    bomb = tmp_path / "bomb.hdr"
    bomb.write_bytes(radiance_claiming(13_000, 13_000))
    outcome = run_script("detect.py", "--source", bomb, "--no-window")
    assert_one_line_error(outcome, f"cannot decode image {bomb}: larger than 150 megapixels")


def write_csv(path: Path, rows: list[str], header: str = "emotion,pixels,Usage") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


PIXELS = " ".join(["128"] * 2304)
OUT_OF_RANGE = " ".join(["128"] * 2303 + ["999"])


@pytest.mark.parametrize(("kind", "header", "rows", "expected"), [
    ("missing columns", "emotion,Usage", ["3,Training"], "missing column(s) pixels"),
    ("pixels not numbers", None, ["3,12 abc 7,Training"], "row 2: pixels are not whole numbers"),
    ("too few pixels", None, ["3,1 2 3,Training"], "row 2: expected 2304 pixel values, received 3"),
    ("pixels out of range", None, [f"3,{OUT_OF_RANGE},Training"], "row 2: pixel values must be 0-255"),
    ("pixel beyond 64 bits", None, [f"3,{OUT_OF_RANGE}99999999999999999,Training"], "row 2: pixel values must be"),
    ("unknown label", None, [f"9,{PIXELS},Training"], "row 2: unknown emotion '9'"),
    ("short row", None, ["3"], "row 2: no pixels, Usage"),
    ("no Training rows", None, [f"3,{PIXELS},PublicTest"], "no Training rows"),
])
def test_13_to_16_bad_fer2013_csv(kind: str, header: str | None, rows: list[str], expected: str,
                                  tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer2013.csv", rows, header or "emotion,pixels,Usage")
    assert_one_line_error(train(path, tmp_path / "m.h5"), path, expected)
    assert not (tmp_path / "m.h5").exists()


def test_17_data_file_that_is_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "fer2013.csv"
    path.write_bytes(cv2.imencode(".png", face_gray())[1].tobytes())
    assert_one_line_error(train(path, tmp_path / "m.h5"), path, "cannot read CSV")


def test_17b_a_good_csv_loads(tmp_path: Path) -> None:
    """The control for the CSV kinds: rows in every state the bad ones break, done right."""
    path = write_csv(tmp_path / "ok.csv", [f"3,{PIXELS},Training", f"6,{PIXELS},PublicTest",
                                           f"0,{PIXELS},PrivateTest"])
    train_split, val = load_fer2013_csv(path)
    assert (len(train_split), len(val)) == (1, 1)
    assert EMOTIONS[train_split.y[0]] == "happy" and EMOTIONS[val.y[0]] == "neutral"


# --- models (kinds 18-23) ------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "expected"), [
    ("missing", "not found"),
    ("truncated", "not a readable .h5 model file (truncated)"),
    ("text", "not a readable .h5 model file"),
    ("keras_zip", "not a readable .h5 model file"),
    ("wrong_input", "expected input shape (48, 48, 1), received (64, 64, 3)"),
    ("wrong_outputs", "5 outputs for 7 labels"),
])
def test_18_to_22_bad_model_files(model: str, expected: str, models: dict[str, Path], data: Path,
                                  tmp_path: Path) -> None:
    path = models.get(model, tmp_path / "model_file.h5")
    report = tmp_path / "report.json"
    outcome = call_script("evaluate.py", "--data", data / "test", "--model", path, "--json", report)
    assert_one_line_error(outcome, path, expected)
    assert not report.exists()


def test_18b_bad_model_for_detect(models: dict[str, Path]) -> None:
    assert_one_line_error(detect("--source", media_file("fer_justin.jpg"), "--model", models["truncated"]),
                          models["truncated"], "truncated")


def test_18c_init_model_whose_labels_differ_from_the_data(models: dict[str, Path], data: Path,
                                                            tmp_path: Path) -> None:
    output = tmp_path / "m.h5"
    outcome = train(data, output, "--init", models["good"])
    assert_one_line_error(outcome, "--init", models["good"], "differ from the data's (angry, happy, sad)")
    assert not output.exists()


def test_18d_init_model_that_is_missing_or_is_the_output(models: dict[str, Path], data: Path,
                                                          tmp_path: Path) -> None:
    missing = train(data, tmp_path / "m.h5", "--init", tmp_path / "nothing.h5")
    assert_usage_error(missing, "train.py", "--init", str(tmp_path / "nothing.h5"), "not found")
    assert not (tmp_path / "m.h5").exists()
    before = digest(models["good"])
    same = train(data, models["good"], "--init", models["good"])
    assert_usage_error(same, "train.py", "--init", "also the output")
    assert digest(models["good"]) == before


@pytest.mark.parametrize("script", ["evaluate.py", "detect.py"])
def test_23_model_with_code_in_it_is_refused_and_the_code_never_runs(script: str, models: dict[str, Path],
                                                                      data: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    side_effect = tmp_path / "pwned"
    monkeypatch.setenv("MOODLENS_PWNED", str(side_effect))
    where = ("--data", data / "test") if script == "evaluate.py" else ("--source", media_file("fer_justin.jpg"),
                                                                       "--no-window")
    outcome = call_script(script, *where, "--model", models["lambda"])
    assert_one_line_error(outcome, models["lambda"], "Python code", "safe mode")
    assert not side_effect.exists(), "the model's code ran on load"


def test_23b_the_code_would_run_without_safe_mode(models: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The control that makes kind 23 mean something: unsafe loading does run the planted code."""
    import keras

    side_effect = tmp_path / "pwned"
    monkeypatch.setenv("MOODLENS_PWNED", str(side_effect))
    keras.models.load_model(models["lambda"], compile=False, safe_mode=False)
    assert side_effect.exists()


def test_23c_good_model_loads(models: dict[str, Path]) -> None:
    model, labels = load_model(models["good"])
    assert labels == EMOTIONS and model.output_shape == (None, 7)


# --- capture (kinds 24-36) -----------------------------------------------------------------------------


def test_24_camera_that_does_not_exist(good_model: Path, tmp_path: Path) -> None:
    """A real process: OpenCV's own warnings about the camera stay off the terminal."""
    outcome = run_script("detect.py", "--source", 7, "--model", good_model, "--no-window",
                         "--log", tmp_path / "faces.jsonl")
    assert_one_line_error(outcome, "camera 7", "cannot open")
    assert list(tmp_path.iterdir()) == []


def test_25_video_that_cannot_be_read(good_model: Path, tmp_path: Path) -> None:
    """Garbage bytes named .mp4, in a real process: FFmpeg's complaints stay off the terminal."""
    video = tmp_path / "holiday.mp4"
    video.write_bytes(np.random.default_rng(5).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    outcome = run_script("detect.py", "--source", video, "--model", good_model, "--no-window",
                         "--output", tmp_path / "out.mp4")
    assert_one_line_error(outcome, video, "cannot open video")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.mp4"]


def test_26_video_that_ends_early(good_model: Path, clip: Path, tmp_path: Path) -> None:
    """A truncated file: every readable frame is processed, outputs finished, one warning line."""
    data = clip.read_bytes()
    short = tmp_path / "short.avi"
    short.write_bytes(data[: jpeg_starts(data)[12]])  # cut inside the file: 12 whole frames remain
    log, out = tmp_path / "faces.jsonl", tmp_path / "out.avi"
    outcome = detect("--source", short, "--model", good_model, "--log", log, "--output", out)
    assert outcome.code == 0, outcome.stderr
    assert outcome.lines == [f"warning: video {short}: ended after 12 of {CLIP_FRAMES} frames (truncated?)"]
    assert "short.avi: 12 frames" in outcome.stdout
    assert frame_count(out) == 12
    assert {r["frame"] for r in records(log)} <= set(range(12))
    assert leftovers(tmp_path) == []


def test_27_video_with_a_corrupt_frame(good_model: Path, clip: Path, tmp_path: Path) -> None:
    """One frame's JPEG wiped: it is skipped and counted, the frames after it still processed."""
    data = bytearray(clip.read_bytes())
    starts = jpeg_starts(bytes(data))
    data[starts[BROKEN_FRAME] : starts[BROKEN_FRAME + 1] - 16] = bytes(starts[BROKEN_FRAME + 1] - 16
                                                                      - starts[BROKEN_FRAME])
    broken = tmp_path / "broken.avi"
    broken.write_bytes(bytes(data))
    log, out = tmp_path / "faces.jsonl", tmp_path / "out.avi"
    outcome = detect("--source", broken, "--model", good_model, "--log", log, "--output", out)
    assert outcome.code == 0, outcome.stderr
    assert outcome.lines == [f"warning: video {broken}: skipped 1 unreadable frame(s)"]
    assert frame_count(out) == CLIP_FRAMES - 1
    frames = {r["frame"] for r in records(log)}
    assert BROKEN_FRAME not in frames and max(frames) == CLIP_FRAMES - 1  # indices stay true to the video


def test_28_stream_that_stops_delivering_mid_run(good_model: Path, clip: Path, tmp_path: Path) -> None:
    """A live source (a stream URL) that dries up after 12 frames: an error, and what was recorded kept."""
    data = clip.read_bytes()
    short = tmp_path / "cam.avi"
    short.write_bytes(data[: jpeg_starts(data)[12]])
    url = f"file://{short}"
    log, out = tmp_path / "faces.jsonl", tmp_path / "out.avi"
    outcome = detect("--source", url, "--model", good_model, "--log", log, "--output", out)
    assert_one_line_error(outcome, f"stream {url}", "stopped delivering frames after 12")
    assert frame_count(out) == 12, "the frames before the failure are finished cleanly"
    assert records(log), "the log of the frames before the failure is finished cleanly"
    assert leftovers(tmp_path) == []


def test_29_output_in_a_folder_that_does_not_exist(good_model: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "out.avi"
    assert_one_line_error(detect("--source", clip, "--model", good_model, "--output", out),
                          out, "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_30_output_that_is_a_device_is_refused_and_left_alone(good_model: Path, tmp_path: Path) -> None:
    """--log faces.jsonl, a link to /dev/full: written beside and renamed over, the link (as root, a
    device) would become a plain file. It is refused, and both stay what they are."""
    log = tmp_path / "faces.jsonl"
    log.symlink_to("/dev/full")
    outcome = detect("--source", media_file("fer_justin.jpg"), "--model", good_model, "--log", log)
    assert_one_line_error(outcome, log, "not a regular file")
    assert log.is_symlink() and stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert leftovers(tmp_path) == []


def test_31_log_that_cannot_be_created(good_model: Path, tmp_path: Path) -> None:
    log = Path("/proc/moodlens-faces.jsonl")  # a folder no one, root included, can create files in
    outcome = detect("--source", media_file("fer_justin.jpg"), "--model", good_model, "--log", log)
    assert_one_line_error(outcome, log, "cannot write log")


def test_32_output_of_the_wrong_kind(good_model: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "annotated.gif"
    assert_one_line_error(detect("--source", clip, "--model", good_model, "--output", out), out,
                          "expected a video name")


@pytest.mark.parametrize("kind", ["no images", "only broken images"])
def test_33_folder_with_no_usable_images(kind: str, good_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "notes.txt").write_text("no photos here")
    if kind == "only broken images":
        (folder / "a.jpg").write_bytes(b"")
        (folder / "b.png").write_bytes(cv2.imencode(".png", face_gray())[1].tobytes()[:100])
    log = tmp_path / "faces.csv"
    outcome = detect("--source", folder, "--model", good_model, "--log", log)
    assert outcome.code == 2 and "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.lines[-1].startswith(f"error: folder {folder}"), outcome.stderr
    skipped = outcome.lines[:-1]
    assert len(skipped) == (2 if kind == "only broken images" else 0)
    assert all(line.startswith("skipped: cannot decode image") for line in skipped)
    assert not log.exists() and leftovers(tmp_path) == []


def test_33b_folder_of_only_broken_images_in_a_real_process(good_model: Path, tmp_path: Path) -> None:
    """libpng prints its own complaint about a garbled PNG straight to stderr: it must not show."""
    folder = tmp_path / "photos"
    folder.mkdir()
    png = cv2.imencode(".png", face_gray())[1].tobytes()
    (folder / "garbled.png").write_bytes(png[:60] + bytes(300) + png[360:])
    outcome = run_script("detect.py", "--source", folder, "--model", good_model, "--no-window")
    assert outcome.code == 2 and "libpng" not in outcome.stderr, outcome.stderr
    assert outcome.lines == [f"skipped: cannot decode image {folder / 'garbled.png'}: empty, truncated or not "
                             "an image", f"error: folder {folder}: none of its 1 images could be decoded"]


def test_33c_threads_silencing_native_output_at_once_leave_stderr_where_it_was() -> None:
    """File descriptor 2 is the whole process's. Two threads that each pointed it at /dev/null and back, in
    this order, left it at /dev/null for good (the second restored the first's /dev/null)."""
    before, saved = os.fstat(2), os.dup(2)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with native_stderr_silenced():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with native_stderr_silenced():
            second_in.set()
            first_out.wait(10)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert os.path.samestat(os.fstat(2), before), os.readlink("/proc/self/fd/2")
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@pytest.mark.parametrize("kind", ["missing path", "image that is not one"])
def test_34_source_missing_or_not_an_image(kind: str, good_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    if kind == "image that is not one":
        source.write_text("<html>not a photo</html>")
    expected = "not found" if kind == "missing path" else "cannot decode image"
    assert_one_line_error(detect("--source", source, "--model", good_model), source, expected)


class FullDisk:
    """A text file with room for `room` characters: then every write fails as on a full disk."""

    def __init__(self, path: Path, mode: str, newline: str | None = None, room: int = 1500):
        self.file = open(path, mode, newline=newline)  # noqa: SIM115 - closed by close()
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(text)
        return self.file.write(text)

    def close(self) -> None:
        self.file.close()


def test_35_disk_full_while_writing_the_log(good_model: Path, clip: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The log fills the disk after a few frames: the error names it, the half-written log and video are
    removed, the earlier run's log and video are intact."""
    log, out = tmp_path / "faces.jsonl", tmp_path / "out.avi"
    log.write_text('{"earlier": "run"}\n')
    out.write_bytes(b"an earlier video")
    before = snapshot(tmp_path)
    monkeypatch.setattr(moodlens.media.outputs, "open", FullDisk, raising=False)
    outcome = detect("--source", clip, "--model", good_model, "--log", log, "--output", out)
    assert snapshot(tmp_path) == before, "earlier outputs changed or partial files left"
    assert_one_line_error(outcome, log, "No space left on device")


def test_36_disk_full_while_writing_the_video(good_model: Path, clip: Path, tmp_path: Path) -> None:
    """A real process whose files may not grow past 200 kB (RLIMIT_FSIZE: writes fail as on a full disk).

    OpenCV's video writer reports no write errors: the truncated video must be caught before it is
    renamed into place.
    """
    out = tmp_path / "out.avi"
    out.write_bytes(b"an earlier video")
    before = snapshot(tmp_path)
    limit = 200_000

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    outcome = run_script("detect.py", "--source", clip, "--model", good_model, "--no-window", "--output", out,
                         preexec_fn=small_disk)
    assert snapshot(tmp_path) == before, "earlier video changed or partial files left"
    assert_one_line_error(outcome, out, "incomplete")


# --- training (kinds 37-43) ----------------------------------------------------------------------------


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"process ended (exit {process.returncode}) before {what}:\n{process.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def epochs_checkpointed(output: Path) -> int:
    state = Path(f"{output.with_suffix('')}.ckpt") / "state.json"
    try:
        return json.loads(state.read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def assert_checkpoint_after(output: Path, epochs: int) -> None:
    """The checkpoint --resume would use is complete: it restores, `epochs` epochs done."""
    from moodlens.training.loop import TrainConfig, restore

    _, done, best = restore(TrainConfig(data=Path("unused"), output=output))
    assert done == epochs and 0 <= best <= 1


def assert_resumes(data: Path, output: Path, done: int) -> None:
    """--resume picks up after `done` epochs, trains one more, finishes cleanly."""
    outcome = train(data, output, "--resume", "--epochs", done + 1)
    assert outcome.code == 0, outcome.stderr
    assert f"resuming after epoch {done}" in outcome.stdout
    with open(f"{output.with_suffix('')}.history.csv", newline="") as f:
        epochs = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert epochs == list(range(done + 1))  # each epoch once: the ones before, then the resumed one
    assert not Path(f"{output.with_suffix('')}.ckpt").exists()
    load_model(output)


def test_37_ctrl_c_mid_training_in_a_real_process(data: Path, tmp_path: Path) -> None:
    """SIGINT at an arbitrary moment after the first epoch: exit 130, one line, the model loadable,
    no temporary files, and --resume continues from the checkpoint."""
    output = tmp_path / "run" / "model_file.h5"
    output.parent.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), "--data", str(data), "--output", str(output),
         "--arch", "seed", "--epochs", "500", "--batch-size", "4"],
        env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: epochs_checkpointed(output) >= 1, 240, "the first checkpoint", process)
        time.sleep(0.7)  # somewhere in a later epoch (or its checkpoint: that must be safe too)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == ["interrupted: the best epoch so far is in the output model; continue with --resume"], stderr
    load_model(output)
    assert leftovers(output.parent) == []
    assert_resumes(data, output, epochs_checkpointed(output))


def test_38_sigterm_mid_epoch(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM delivered in the middle of epoch 2 (after its second batch), for certain."""

    class TermMidEpoch(moodlens.training.loop.Checkpointer):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if self.epoch == 1 and batch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(moodlens.training.loop, "Checkpointer", TermMidEpoch)
    output = tmp_path / "model_file.h5"
    outcome = train(data, output, "--epochs", 5, "--batch-size", 4)  # 12 faces: 3 batches an epoch
    assert outcome.code == 130, outcome.stderr
    assert outcome.lines == ["interrupted: the best epoch so far is in the output model; continue with --resume"]
    load_model(output)
    assert_checkpoint_after(output, 1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("epochs", ["0", "-3", "two"])
def test_39_epochs_zero_negative_or_not_a_number(epochs: str, tmp_path: Path) -> None:
    outcome = run_script("train.py", "--data", tmp_path, "--epochs", epochs)
    assert_usage_error(outcome, "train.py", "--epochs", epochs)


def test_40_batch_larger_than_the_data_set(data: Path, tmp_path: Path) -> None:
    output = tmp_path / "model_file.h5"
    outcome = train(data, output, "--batch-size", 4096)
    assert outcome.code == 0, outcome.stderr
    assert outcome.lines == []
    assert "1/1" in outcome.stdout  # one step: the whole data set is one batch
    load_model(output)


def disk_full_after(saves: int) -> Callable[..., None]:
    """A stand-in for keras.Model.save: the first `saves` calls work, later ones write part of the
    file and fail as on a full disk."""
    import keras

    real, left = keras.Model.save, [saves]

    def save(model: object, path: object, *args: object, **kwargs: object) -> None:
        if left[0] > 0:
            left[0] -= 1
            return real(model, path, *args, **kwargs)
        Path(path).write_bytes(b"\x89HDF\r\n" + bytes(4000))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return save


@pytest.mark.parametrize("saves_that_work", [0, 2])
def test_41_disk_full_while_checkpointing(saves_that_work: int, data: Path, tmp_path: Path,
                                          models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """0: the very first save fails, an earlier run's model stays byte for byte. 2: epoch 1 is saved
    (model and checkpoint), epoch 2's saves fail: epoch 1's model and checkpoint stay usable."""
    import keras

    output = tmp_path / "model_file.h5"
    shutil.copy(models["good"], output)
    earlier = digest(output)
    monkeypatch.setattr(keras.Model, "save", disk_full_after(saves_that_work))
    outcome = train(data, output, "--epochs", 3, "--lr", 1e-9)  # the same accuracy each epoch: saved once
    monkeypatch.undo()
    line = assert_one_line_error(outcome, "No space left on device")
    assert leftovers(tmp_path) == []
    load_model(output)
    if saves_that_work == 0:
        assert str(output) in line and "holds the best" not in line
        assert digest(output) == earlier
    else:
        assert f"{output} holds the best epoch so far" in line
        assert digest(output) != earlier
        assert_checkpoint_after(output, 1)


def test_42_resume_with_nothing_to_resume(data: Path, tmp_path: Path) -> None:
    output = tmp_path / "model_file.h5"
    assert_one_line_error(train(data, output, "--resume"), "nothing to resume", f"{output.with_suffix('')}.ckpt")


def test_43_resume_from_a_damaged_checkpoint(data: Path, tmp_path: Path) -> None:
    output = tmp_path / "model_file.h5"
    checkpoint = tmp_path / "model_file.ckpt"
    checkpoint.mkdir()
    (checkpoint / "state.json").write_text('{"epoch": 3, "best": 0.5}')
    (checkpoint / "last.keras").write_bytes(b"PK\3\4 half a zip")
    assert_one_line_error(train(data, output, "--resume"), checkpoint, "damaged checkpoint")


# --- options (kind 44) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("script", "args", "needle"), [
    ("detect.py", ["--scale-factor", "1"], "--scale-factor"),
    ("detect.py", ["--min-neighbors", "-1"], "--min-neighbors"),
    ("detect.py", ["--margin", "2"], "--margin"),
    ("detect.py", ["--min-size", "0"], "--min-size"),
    ("train.py", ["--output", "model.keras"], "--output"),
    ("train.py", ["--output", "no/such/folder/model_file.h5"], "does not exist"),
    ("train.py", ["--batch-size", "0"], "--batch-size"),
    ("train.py", ["--lr", "0"], "--lr"),
    ("train.py", ["--label-smoothing", "1.5"], "--label-smoothing"),
    ("train.py", ["--weight-decay", "-1"], "--weight-decay"),
    ("train.py", ["--ema", "1"], "--ema"),
    ("train.py", ["--ema", "-0.5"], "--ema"),
    ("train.py", ["--arch", "resnet"], "--arch"),
    ("evaluate.py", ["--data", "x", "--batch-size", "-5"], "--batch-size"),
    ("evaluate.py", [], "--data"),
])
def test_44_out_of_range_or_contradictory_options(script: str, args: list[str], needle: str) -> None:
    assert_usage_error(run_script(script, *args), script, needle)


# --- evaluate's own outputs (kind 45) ----------------------------------------------------------------------


def test_45_evaluate_report_that_cannot_be_written(good_model: Path, data: Path, tmp_path: Path) -> None:
    report = tmp_path / "missing" / "report.json"
    outcome = call_script("evaluate.py", "--data", data / "test", "--model", good_model, "--json", report)
    assert_one_line_error(outcome, report)
    assert list(tmp_path.iterdir()) == [data]
