"""moodlens analyze on real photos and videos: detect.py's records, folders, list files, bad files,
the three table formats, the summary and plots, and an interrupted run resumed.

Kept small for CI: short clips, --every to analyse a few frames, one or two workers.
"""

import json
import re
import shutil
import signal
import time
from pathlib import Path

import pytest
from analyze_helpers import analyze_args, read_table
from terminal_helpers import drew_a_bar, run_on_terminal

from moodlens.batch.parts import WorkFolder
from moodlens.faces.pose import LANDMARK_NAMES
from moodlens.labels import EMOTIONS

CLIP = "huimiang_1543684773.avi"  # 67 frames, one face on every frame
LONG_CLIP = "fer_woman2.mp4"  # 464 frames: long enough to interrupt
DETECT_CSV_HEADER = ["source", "frame", "time", "track", "x", "y", "w", "h", "emotion", "confidence", *EMOTIONS,
                     "roll", "yaw", "turned", *(f"{n}_{axis}" for n in LANDMARK_NAMES for axis in "xy")]
PART_WAIT_S = 180


def one_line_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_records_are_detect_logs_records_plus_the_path(run_script, media: Path, tmp_path: Path):
    """Every frame of a clip: the same records, value for value, as detect.py's JSON log."""
    analyzed = run_script(*analyze_args(media / CLIP, "--output", tmp_path / "faces.jsonl", "--workers", 1))
    assert analyzed.returncode == 0, analyzed.stderr[-3000:]
    detected = run_script("detect.py", "--source", media / CLIP, "--no-window", "--log", tmp_path / "detect.jsonl")
    assert detected.returncode == 0, detected.stderr[-3000:]
    records = read_table(tmp_path / "faces.jsonl")
    assert {r.pop("path") for r in records} == {str(media / CLIP)}
    assert records == read_table(tmp_path / "detect.jsonl")
    assert len(records) == 67
    assert "67 frames, 67 faces" in analyzed.stdout


@pytest.fixture(scope="module")
def folder_run(media: Path, tmp_path_factory: pytest.TempPathFactory):
    """A folder tree of photos, a clip, a broken video and a hidden folder, analysed into CSV."""
    root = tmp_path_factory.mktemp("tree")
    tree = root / "media"
    for sub in ("photos/nested", "clips", ".cache"):
        (tree / sub).mkdir(parents=True)
    shutil.copy(media / "fr_obama.jpg", tree / "photos")
    shutil.copy(media / "fer_no-faces.jpg", tree / "photos/nested")
    shutil.copy(media / CLIP, tree / "clips")
    shutil.copy(media / "fr_two_people.jpg", tree / ".cache")  # hidden: not analysed
    (tree / "clips/broken.mp4").write_bytes((media / "fer_woman2.mp4").read_bytes()[:4096])  # cut short
    (tree / "notes.txt").write_text("not media\n")
    run, drawn = run_on_terminal(*analyze_args(tree, "--output", root / "faces.csv", "--every", 10, "--workers", 2))
    return root, tree, run, drawn


def test_folder_is_walked_and_a_bad_file_is_reported_once_and_skipped(folder_run):
    root, tree, run, drawn = folder_run  # drawn: what went to stderr, a terminal
    assert run.returncode == 0, drawn[-3000:]
    skipped = re.findall(r"skipped: [^\r\n]*", drawn)
    assert len(skipped) == 1 and "broken.mp4" in skipped[0], drawn
    assert "1 file(s) could not be analysed" in drawn
    assert drew_a_bar(drawn, 1 + 1 + 67 + 1)  # over the frames: 2 photos, the clip, the broken video's 1
    summary = {Path(r["path"]).name: r for r in read_table(root / "faces.summary.csv")}
    assert set(summary) == {"fr_obama.jpg", "fer_no-faces.jpg", CLIP, "broken.mp4"}
    assert summary["broken.mp4"]["error"] and not summary[CLIP]["error"]
    assert "3 of 4 files analysed" in run.stdout
    assert not (root / "faces.csv.parts").exists()  # the work folder goes once the table is written


def test_records_have_detect_csv_columns_plus_path_for_every_nth_frame(folder_run):
    root, tree, _, _ = folder_run
    rows = read_table(root / "faces.csv")
    assert list(rows[0]) == ["path", *DETECT_CSV_HEADER]
    clip = [r for r in rows if r["source"] == CLIP]
    assert [int(r["frame"]) for r in clip] == list(range(0, 67, 10))
    assert {r["path"] for r in clip} == {str(tree / "clips" / CLIP)}
    photo = [r for r in rows if r["source"] == "fr_obama.jpg"]
    assert len(photo) == 1 and photo[0]["track"] == ""  # photos are not tracked
    assert not [r for r in rows if r["source"] == "fer_no-faces.jpg"]
    assert all(r["right_eye_x"] and r["yaw"] and r["turned"] in ("True", "False") for r in rows)  # YuNet's


def test_summary_gives_each_emotions_share_and_each_video_a_plot(folder_run):
    root, tree, _, _ = folder_run
    rows = read_table(root / "faces.csv")
    clip = [r for r in rows if r["source"] == CLIP]
    summary = {Path(r["path"]).name: r for r in read_table(root / "faces.summary.csv")}[CLIP]
    assert int(summary["frames"]) == 7 and int(summary["faces"]) == len(clip) == 7
    for emotion in (*EMOTIONS, "uncertain"):
        share = sum(r["emotion"] == emotion for r in clip) / len(clip)
        assert float(summary[f"share_{emotion}"]) == pytest.approx(share, abs=1e-4)
    plots = list((root / "faces.plots").iterdir())
    assert len(plots) == 1 and plots[0].name.startswith(CLIP) and plots[0].read_bytes()[:4] == b"\x89PNG"


def test_parquet_csv_and_jsonl_hold_the_same_records(run_script, media: Path, tmp_path: Path):
    tables = {}
    for suffix in (".parquet", ".csv", ".jsonl"):
        out = tmp_path / f"faces{suffix}"
        run = run_script(*analyze_args(media / "fr_two_people.jpg", "--output", out, "--workers", 1))
        assert run.returncode == 0, run.stderr[-3000:]
        tables[suffix] = read_table(out)
    assert len(tables[".parquet"]) == 2  # the two people (media README)
    flat_jsonl = [{"path": r["path"], "source": r["source"], "frame": r["frame"], "time": r["time"],
                   "track": r["track"], **dict(zip("xywh", r["box"])), "emotion": r["emotion"],
                   "confidence": r["confidence"], **r["scores"], **r["pose"], "turned": r["turned"],
                   **{f"{name}_{axis}": v for name, point in zip(LANDMARK_NAMES, r["landmarks"])
                      for axis, v in zip("xy", point)}} for r in tables[".jsonl"]]
    assert tables[".parquet"] == flat_jsonl
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in flat_jsonl]
    assert tables[".csv"] == as_text


def test_list_file_names_files_relative_to_itself_and_a_missing_one_is_skipped(run_script, media: Path,
                                                                                tmp_path: Path):
    shutil.copy(media / "fr_obama.jpg", tmp_path)
    listing = tmp_path / "files.txt"
    listing.write_text("# photos to analyse\nfr_obama.jpg\n\ngone.jpg\n")
    run = run_script(*analyze_args(listing, "--output", tmp_path / "faces.jsonl", "--workers", 1))
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["path"] for r in read_table(tmp_path / "faces.jsonl")] == [str(tmp_path / "fr_obama.jpg")]
    assert "skipped: source" in run.stderr and "gone.jpg not found" in run.stderr


def test_interrupted_run_keeps_finished_files_and_the_same_command_resumes(start_script, run_script, media: Path,
                                                                           tmp_path: Path):
    output = tmp_path / "faces.parquet"
    args = analyze_args(media / "fr_obama.jpg", media / LONG_CLIP, "--output", output, "--every", 5,
                        "--workers", 1)
    running = start_script(*args)
    parts = tmp_path / "faces.parquet.parts"
    deadline = time.monotonic() + PART_WAIT_S
    while not list(parts.glob("*-*.json")) and running.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.running(), "the long clip ended before the interrupt: the test needs a longer one"
    running.process.send_signal(signal.SIGINT)
    stopped = running.finish()
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    assert stopped.stderr.splitlines()[-1].startswith("interrupted: the files finished so far are kept")
    assert [p.name.split("-")[0] for p in parts.glob("*-*.json")] == ["fr_obama.jpg"]
    assert not output.exists() and not list(tmp_path.glob(".*part*"))  # nothing half-written

    resumed = run_script(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming: 1 of 2 files already done" in resumed.stderr
    assert "2 of 2 files analysed (1 by an earlier run)" in resumed.stdout
    rows = read_table(output)
    assert {r["source"] for r in rows} == {"fr_obama.jpg", LONG_CLIP}
    assert all(r["frame"] % 5 == 0 for r in rows)
    assert not parts.exists()


def test_a_second_run_on_the_same_output_is_refused_and_a_damaged_part_is_analysed_again(
        start_script, run_script, media: Path, tmp_path: Path):
    output = tmp_path / "faces.jsonl"
    args = analyze_args(media / "fr_obama.jpg", media / LONG_CLIP, "--output", output, "--workers", 1)
    first = start_script(*args)
    parts = tmp_path / "faces.jsonl.parts"
    deadline = time.monotonic() + PART_WAIT_S
    while not list(parts.glob("*-*.json")) and first.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = run_script(*analyze_args(media / "fr_obama.jpg", "--output", output, "--workers", 1))
    assert first.running(), "the long clip ended before the second run: the test needs a longer one"
    assert second.returncode == 2 and one_line_errors(second.stderr) == [second.stderr.strip()], second.stderr
    assert f"{parts} is in use by another run writing the same --output" in second.stderr
    first.process.send_signal(signal.SIGINT)
    assert first.finish().returncode == 130
    [part] = parts.glob("fr_obama.jpg-*.json")
    part.write_bytes(b"")  # what a power loss could leave of a part renamed before it reached the disk
    again = run_script(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming" not in again.stderr and "2 of 2 files analysed" in again.stdout
    assert {r["source"] for r in read_table(output)} == {"fr_obama.jpg", LONG_CLIP}
    assert not parts.exists()


def test_a_file_reached_by_two_paths_is_analysed_once(run_script, media: Path, tmp_path: Path):
    """Through a linked folder and through `..` in a list file beside a walk of the folder itself."""
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(media / "fr_obama.jpg", photos / "a.jpg")  # one face
    (tmp_path / "linked").symlink_to(photos)
    listing = tmp_path / "lists" / "files.txt"
    listing.parent.mkdir()
    listing.write_text("../photos/a.jpg\n")
    output = tmp_path / "faces.jsonl"
    run = run_script(*analyze_args(photos, tmp_path / "linked", listing, "--output", output, "--workers", 1))
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["path"] for r in read_table(output)] == [str(photos / "a.jpg")]
    assert "1 of 1 files analysed" in run.stdout


def test_a_video_with_a_long_name_gets_short_part_and_plot_names(run_script, media: Path, tmp_path: Path):
    """A 234-byte name (legal on Linux) made the part's name too long to create, so the run never ended."""
    clip = tmp_path / ("entretien-" + "é" * 110 + ".avi")
    shutil.copy(media / CLIP, clip)
    output = tmp_path / "faces.csv"
    run = run_script(*analyze_args(clip, "--output", output, "--every", 10, "--workers", 1))
    assert run.returncode == 0, run.stderr[-3000:]
    [plot] = (tmp_path / "faces.plots").iterdir()
    assert plot.name.startswith("entretien-éé") and len(plot.name.encode()) <= 100, plot.name
    assert {r["path"] for r in read_table(output)} == {str(clip)}


def test_bad_options_and_sources_are_one_line_errors(run_script, media: Path, tmp_path: Path):
    cases = {
        "expected a name ending in .parquet, .csv, .jsonl": (media / "fr_obama.jpg", "--output", tmp_path / "x.txt"),
        "source nowhere.mp4 not found": ("nowhere.mp4", "--output", tmp_path / "x.csv"),
        f"no videos or images in {tmp_path}": (tmp_path, "--output", tmp_path / "x.csv"),
        "folder": (media / "fr_obama.jpg", "--output", tmp_path / "no" / "x.csv"),
    }
    for message, args in cases.items():
        run = run_script(*analyze_args(*args))
        assert run.returncode == 2 and one_line_errors(run.stderr) == [run.stderr.strip()], run.stderr
        assert message in run.stderr
    usage = run_script(*analyze_args(media / "fr_obama.jpg", "--output", tmp_path / "x.csv", "--address", "auto"))
    assert usage.returncode == 2 and "--address: only with --engine ray" in usage.stderr


def test_no_file_analysable_is_an_error(run_script, media: Path, tmp_path: Path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes((media / "fer_woman2.mp4").read_bytes()[:4096])
    run = run_script(*analyze_args(broken, "--output", tmp_path / "x.jsonl", "--workers", 1))
    assert run.returncode == 2 and "error: none of the 1 files could be analysed" in run.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_parts_made_with_other_settings_are_not_reused(run_script, media: Path, tmp_path: Path):
    photo = tmp_path / "fr_obama.jpg"
    shutil.copy(media / "fr_obama.jpg", photo)
    first = run_script(*analyze_args(photo, "--output", tmp_path / "faces.jsonl", "--workers", 1))
    assert first.returncode == 0, first.stderr[-3000:]
    parts = tmp_path / "faces.jsonl.parts"
    parts.mkdir()  # what an interrupted run with --threshold 0.99 would have left: the face uncertain
    (parts / "settings.json").write_text('{"detector": {"threshold": 0.99}}')
    stale = read_table(tmp_path / "faces.jsonl")[0] | {"emotion": "uncertain"}
    summary = read_table(tmp_path / "faces.summary.csv")[0]
    WorkFolder(tmp_path / "faces.jsonl", {}).part(str(photo)).write_text(json.dumps(
        {"path": str(photo), "kind": "image", "frames": 1, "records": [stale]}))
    again = run_script(*analyze_args(photo, "--output", tmp_path / "faces.jsonl", "--workers", 1))
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"note: {parts} holds an earlier run made with other settings: starting afresh" in again.stderr
    assert read_table(tmp_path / "faces.jsonl")[0]["emotion"] == "happy"
    assert read_table(tmp_path / "faces.summary.csv")[0] == summary
