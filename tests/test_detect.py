"""detect.py headless on real media: an image, a folder of photos and a video, with --output and --log."""

import csv
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from terminal_helpers import drew_a_bar, run_on_terminal
from video_helpers import read_frames

from moodlens.detector import DEFAULT_THRESHOLD
from moodlens.faces.pose import LANDMARK_NAMES, TURNED_YAW
from moodlens.labels import EMOTIONS
from moodlens.media.overlay import COLORS

VIDEO = "fer_woman2.mp4"
VIDEO_FRAMES = 464
PHOTOS = {"fr_obama.jpg": 1, "fr_two_people.jpg": 2, "fer_no-faces.jpg": 0}  # faces in each (media README)
FIELDS = {"source", "frame", "time", "track", "box", "emotion", "confidence", "scores", "landmarks", "pose", "turned"}


@dataclass
class Detected:
    run: subprocess.CompletedProcess
    folder: Path  # holds only what detect.py wrote
    output: Path
    log: Path


def detect(run_script, model: Path, source: Path, folder: Path, output: str, log: str, *more: object) -> Detected:
    folder.mkdir()
    run = run_script("detect.py", "--model", model, "--source", source, "--no-window",
                     "--output", folder / output, "--log", folder / log, *more)
    assert run.returncode == 0, run.stderr[-3000:]
    return Detected(run, folder, folder / output, folder / log)


@pytest.fixture(scope="module")
def video(run_script, tiny_model, media: Path, tmp_path_factory: pytest.TempPathFactory) -> Detected:
    """The 464-frame video, detected once for every test of this module."""
    return detect(run_script, tiny_model.path, media / VIDEO, tmp_path_factory.mktemp("video") / "out",
                  "annotated.mp4", "faces.jsonl")


@pytest.fixture(scope="module")
def image(run_script, tiny_model, media: Path, tmp_path_factory: pytest.TempPathFactory) -> Detected:
    return detect(run_script, tiny_model.path, media / "fr_obama.jpg", tmp_path_factory.mktemp("image") / "out",
                  "annotated.jpg", "faces.jsonl")


@pytest.fixture(scope="module")
def folder(run_script, tiny_model, media: Path, tmp_path_factory: pytest.TempPathFactory) -> Detected:
    photos = tmp_path_factory.mktemp("folder") / "photos"
    photos.mkdir()
    for name in PHOTOS:
        shutil.copy(media / name, photos / name)
    # --threshold 0: always the top emotion (the tiny model is never confident enough for the default)
    return detect(run_script, tiny_model.path, photos, photos.parent / "out", "annotated", "faces.csv",
                  "--threshold", 0)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def csv_records(path: Path) -> list[dict]:
    """CSV rows in the JSON-lines record form, to check both logs the same way."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{"source": r["source"], "frame": int(r["frame"]), "time": float(r["time"]),
             "track": int(r["track"]) if r["track"] else None, "box": [int(r[k]) for k in "xywh"],
             "emotion": r["emotion"], "confidence": float(r["confidence"]),
             "scores": {k: float(r[k]) for k in EMOTIONS}, "pose": {k: float(r[k]) for k in ("roll", "yaw")},
             "turned": r["turned"] == "True",
             "landmarks": [[float(r[f"{n}_x"]), float(r[f"{n}_y"])] for n in LANDMARK_NAMES]} for r in rows]


def check_record(record: dict, frame_shape: tuple[int, ...], threshold: float = DEFAULT_THRESHOLD) -> None:
    assert set(record) == FIELDS
    x, y, w, h = record["box"]
    assert all(isinstance(v, int) for v in record["box"])
    assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= frame_shape[1] and y + h <= frame_shape[0]
    scores = record["scores"]
    assert list(scores) == list(EMOTIONS)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)
    best = max(scores.values())
    assert record["confidence"] == pytest.approx(best, abs=1e-4)
    if record["confidence"] < threshold:
        assert record["emotion"] == "uncertain"
    else:  # logged scores are rounded to 4 places, so two near-equal scores may tie: the label is one of them
        assert scores[record["emotion"]] == pytest.approx(best, abs=1e-4)
    # detect.py's default finder (YuNet) gives the five landmarks, on the face, and the head's pose
    assert len(record["landmarks"]) == 5
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in record["landmarks"])
    assert set(record["pose"]) == {"roll", "yaw"} and record["turned"] == (abs(record["pose"]["yaw"]) > TURNED_YAW)


# --- video -----------------------------------------------------------------------------------------


def test_video_summary_counts_every_frame(video: Detected) -> None:
    assert f"{VIDEO}: {VIDEO_FRAMES} frames, a face on " in video.run.stdout


def test_video_output_has_every_frame_of_the_source(video: Detected, media: Path) -> None:
    frames = read_frames(video.output)
    assert len(frames) == VIDEO_FRAMES
    assert frames[0].shape == read_frames(media / VIDEO)[0].shape


def test_video_finds_a_face_on_at_least_95_percent_of_frames(video: Detected) -> None:
    frames_with_face = {r["frame"] for r in jsonl(video.log)}
    assert frames_with_face <= set(range(VIDEO_FRAMES))
    assert len(frames_with_face) >= 0.95 * VIDEO_FRAMES


def test_video_log_records_have_every_field(video: Detected) -> None:
    records = jsonl(video.log)
    for record in records:
        check_record(record, (336, 596))
        assert record["source"] == VIDEO and isinstance(record["track"], int)
        assert record["time"] == pytest.approx(record["frame"] / 29.97, abs=2e-3)
    assert [r["frame"] for r in records] == sorted(r["frame"] for r in records)


def test_video_output_frames_show_the_box_in_the_emotion_colour(video: Detected) -> None:
    first = jsonl(video.log)[0]
    frame = read_frames(video.output)[first["frame"]]
    x, y, w, h = first["box"]
    left_edge = frame[y + h // 4 : y + 3 * h // 4, x].astype(int)  # mid-height of the box's left side
    colour = np.array(COLORS.get(first["emotion"], (255, 255, 255)))  # white for "uncertain"
    assert np.median(np.abs(left_edge - colour).max(axis=1)) < 40


def test_video_run_leaves_only_its_two_files(video: Detected) -> None:
    assert sorted(p.name for p in video.folder.iterdir()) == ["annotated.mp4", "faces.jsonl"]


# --- one image -------------------------------------------------------------------------------------


def test_image_output_is_the_annotated_photo(image: Detected, media: Path) -> None:
    photo = cv2.imread(str(media / "fr_obama.jpg"))
    annotated = cv2.imread(str(image.output))
    assert annotated is not None and annotated.shape == photo.shape
    changed = np.abs(annotated.astype(int) - photo).max(axis=2) > 100
    assert changed.sum() > 500  # the box and the label are drawn on it


def test_image_run_prints_the_face_its_emotion_and_confidence(image: Detected) -> None:
    (record,) = jsonl(image.log)
    line = f"face 1: {record['emotion']} {record['confidence']:.0%} at {record['box']}"
    assert image.run.stdout.splitlines()[0] == line


def test_image_log_has_one_record_for_the_one_face(image: Detected) -> None:
    (record,) = jsonl(image.log)
    check_record(record, (1137, 910))
    assert (record["source"], record["frame"], record["time"], record["track"]) == ("fr_obama.jpg", 0, 0.0, None)
    assert sorted(p.name for p in image.folder.iterdir()) == ["annotated.jpg", "faces.jsonl"]


# --- a folder of photos ----------------------------------------------------------------------------


def test_folder_output_holds_one_annotated_image_per_photo(folder: Detected, media: Path) -> None:
    assert sorted(p.name for p in folder.output.iterdir()) == sorted(PHOTOS)
    for name in PHOTOS:
        annotated = cv2.imread(str(folder.output / name))
        assert annotated is not None and annotated.shape == cv2.imread(str(media / name)).shape


def test_folder_csv_log_has_a_header_and_one_row_per_face(folder: Detected, media: Path) -> None:
    with open(folder.log, newline="") as f:
        header = next(csv.reader(f))
    assert header == ["source", "frame", "time", "track", "x", "y", "w", "h", "emotion", "confidence", *EMOTIONS,
                      "roll", "yaw", "turned", *(f"{n}_{axis}" for n in LANDMARK_NAMES for axis in "xy")]
    records = csv_records(folder.log)
    assert {name: sum(r["source"] == name for r in records) for name in PHOTOS} == PHOTOS
    for record in records:
        check_record(record, cv2.imread(str(media / record["source"])).shape, threshold=0)
        assert record["time"] == 0.0 and record["track"] is None


def test_folder_run_prints_each_face_after_its_photo_name(folder: Detected) -> None:
    lines = [line for line in folder.run.stdout.splitlines() if " face " in line]
    assert {name: sum(line.startswith(f"{name} face ") for line in lines) for name in PHOTOS} == PHOTOS
    assert "fr_two_people.jpg face 2: " in folder.run.stdout


def test_folder_run_leaves_no_temporary_files(folder: Detected) -> None:
    assert sorted(p.name for p in folder.folder.iterdir()) == ["annotated", "faces.csv"]


# --- the committed model: label order end to end ----------------------------------------------------------


def test_committed_model_calls_broad_smiles_happy(run_script, media: Path, tmp_path: Path) -> None:
    """detect.py's own path (face search, crop, TFLite, the label names in the log) with the committed model:
    a label-order mix-up between training and detection would name these smiles anything but happy.
    Measured: Obama 92 %, Rose Leslie (the left face of fr_kit_with_rose) 91 %."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("fr_obama.jpg", "fr_kit_with_rose.jpg"):
        shutil.copy(media / name, photos / name)
    run = run_script("detect.py", "--source", photos, "--no-window", "--log", tmp_path / "faces.jsonl")
    assert run.returncode == 0, run.stderr[-3000:]
    records = jsonl(tmp_path / "faces.jsonl")
    (obama,) = [r for r in records if r["source"] == "fr_obama.jpg"]
    rose = min((r for r in records if r["source"] == "fr_kit_with_rose.jpg"), key=lambda r: r["box"][0])
    for smile in (obama, rose):
        assert smile["emotion"] == "happy" and smile["confidence"] >= 0.6, smile


# --- progress on a terminal -------------------------------------------------------------------------------


def test_headless_video_run_shows_a_progress_bar_with_the_time_left_on_a_terminal(tiny_model, media: Path) -> None:
    """stderr is a pseudo-terminal here, as in a shell; elsewhere (a pipe, a log) no bar is drawn."""
    run, drawn = run_on_terminal("detect.py", "--model", tiny_model.path, "--source",
                                 media / "huimiang_1543684773.avi", "--no-window")
    assert run.returncode == 0 and "67 frames" in run.stdout
    assert drew_a_bar(drawn, 67), drawn
