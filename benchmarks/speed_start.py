"""Start-up and memory: detect.py's cold start on a photo, and its RSS over a long video.

    python benchmarks/speed_start.py [--model model_file.h5] [--quick] [--json PATH]

1. Cold start: whole detect.py runs on one photo (an upper bound of the time to its first annotated
   frame), with an empty TFLite cache (the first run after training) and a warm one. Target: 3 s warm.
2. Memory: detect.py over fer_woman2.mp4 repeated into a 120 s video (`--quick`: 20 s), its VmRSS
   sampled every 0.5 s: peak, steady (median of the last half) and growth (last quarter's median
   minus the second quarter's). Target: growth under 10 MiB. About 2.5 minutes (`--quick`: 40 s).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from common import MEDIA, RESULTS, ROOT, finish_report, print_table, print_targets, start_report

STILL = MEDIA / "fer_justin.jpg"  # cold start: one face, close up
LOOP_SOURCE = MEDIA / "fer_woman2.mp4"  # memory: its frames repeated into a long video
DETECT_SCRIPT = ROOT / "detect.py"
RSS_INTERVAL_S = 0.5
TARGET_COLD_START_S = 3.0  # warm cache
TARGET_GROWTH_MB = 10.0  # "flat": RSS growth from the second to the last quarter of the long run
COLD_RUNS, QUICK_COLD_RUNS = 3, 1  # per cache state
VIDEO_S, QUICK_VIDEO_S = 120.0, 20.0


def or_na(value: float | None) -> float | str:
    return "n/a" if value is None else float(value)


def detect_command(model: Path, source: Path) -> list[str]:
    return [sys.executable, str(DETECT_SCRIPT), "--source", str(source), "--no-window", "--model", str(model)]


def timed_detect_run(model: Path, cache: Path) -> float:
    """Seconds of one whole detect.py run on one image (an upper bound of its time to the first frame)."""
    env = {**os.environ, "MOODLENS_CACHE": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(detect_command(model, STILL), cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"detect.py failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds


def bench_cold_start(model: Path, runs: int) -> dict:
    """Empty-cache runs first (each in a fresh cache folder); the last one's cache then serves the warm runs."""
    with tempfile.TemporaryDirectory(prefix="speed_start_cache_") as tmp:
        caches = [Path(tmp) / f"cache{i}" for i in range(runs)]
        empty = [timed_detect_run(model, cache) for cache in caches]
        warm = [timed_detect_run(model, caches[-1]) for _ in range(runs)]
    result = {"image": STILL.name, "measures": "whole detect.py run on one image: an upper bound of the time to "
                                               "its first annotated frame",
              "warm_cache_s": warm, "empty_cache_s": empty,
              "warm_cache_median_s": statistics.median(warm), "empty_cache_median_s": statistics.median(empty)}
    print_table(f"4. cold start: python detect.py --source {STILL.name} --no-window, whole run (upper bound)",
                ["TFLite cache", "median s", "runs s"],
                [["warm", result["warm_cache_median_s"], " ".join(f"{s:.2f}" for s in warm)],
                 ["empty", result["empty_cache_median_s"], " ".join(f"{s:.2f}" for s in empty)]])
    return result


def make_long_video(source: Path, dest: Path, seconds: float) -> int:
    """Repeat the source's frames into an MJPG .avi `seconds` long; returns its frame count."""
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    if not frames:
        raise SystemExit(f"video {source} delivered no frames")
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    total = round(seconds * fps)
    for i in range(total):
        writer.write(frames[i % len(frames)])
    writer.release()
    return total


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None  # gone, or a zombie


def sample_rss(process: subprocess.Popen) -> list[float]:
    """VmRSS of a running process every RSS_INTERVAL_S until it ends, in MiB."""
    samples = []
    while process.poll() is None:
        value = rss_mb(process.pid)
        if value is not None:
            samples.append(value)
        time.sleep(RSS_INTERVAL_S)
    return samples


def rss_summary(samples: list[float]) -> dict:
    """Peak; steady = median of the last half; growth = last quarter's median minus the second quarter's."""
    n = len(samples)
    if n < 4:
        return {"peak_mb": max(samples, default=0.0), "steady_mb": None, "growth_mb": None}
    quarter = n // 4
    return {"peak_mb": max(samples), "steady_mb": statistics.median(samples[n // 2:]),
            "growth_mb": statistics.median(samples[n - quarter:]) - statistics.median(samples[quarter:2 * quarter])}


def bench_memory(model: Path, video_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="speed_start_video_") as tmp:
        video = Path(tmp) / "long.avi"
        frames = make_long_video(LOOP_SOURCE, video, video_s)
        with tempfile.TemporaryFile("w+") as out:
            start = time.perf_counter()
            process = subprocess.Popen(detect_command(model, video), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                       text=True)
            samples = sample_rss(process)
            seconds = time.perf_counter() - start
            out.seek(0)
            output = out.read().strip()
        if process.returncode != 0:
            raise SystemExit(f"detect.py failed ({process.returncode}): {output[-500:]}")
    result = {"video": f"{LOOP_SOURCE.name} repeated, {video_s:.0f} s", "frames": frames,
              "run_s": seconds, "samples": len(samples), "interval_s": RSS_INTERVAL_S, "rss_mb": samples,
              "detect_summary": output.splitlines()[-1] if output else "", **rss_summary(samples)}
    print_table(f"5. memory: detect.py on {result['video']} (VmRSS every {RSS_INTERVAL_S} s), MiB",
                ["frames", "run s", "samples", "peak", "steady", "growth"],
                [[frames, seconds, len(samples), or_na(result["peak_mb"]), or_na(result["steady_mb"]),
                  or_na(result["growth_mb"])]])
    print(f"detect.py said: {result['detect_summary']}")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("model_file.h5"))
    p.add_argument("--quick", action="store_true", help="one run per cache state, a 20 s video (smoke test)")
    p.add_argument("--json", type=Path, default=None, help="default: benchmarks/results/speed_start[-quick].json")
    args = p.parse_args()
    model = args.model.resolve()
    missing = [path for path in (model, STILL, LOOP_SOURCE) if not path.exists()]
    if missing:
        raise SystemExit(f"error: not found: {', '.join(map(str, missing))}")
    runs, video_s = (QUICK_COLD_RUNS, QUICK_VIDEO_S) if args.quick else (COLD_RUNS, VIDEO_S)
    results = start_report(args.quick, model, {"cold_runs": runs, "video_s": video_s})
    results["cold_start"] = bench_cold_start(model, runs)
    results["memory"] = bench_memory(model, video_s)
    cold, growth = results["cold_start"]["warm_cache_median_s"], results["memory"]["growth_mb"]
    results["targets"] = print_targets("targets", [
        ("cold start, warm cache, s (whole run)", cold, f"<= {TARGET_COLD_START_S}", cold <= TARGET_COLD_START_S),
        ("memory growth over the long run, MiB", growth, f"<= {TARGET_GROWTH_MB}",
         growth is not None and growth <= TARGET_GROWTH_MB)])
    finish_report(results, args.json or RESULTS / ("speed_start-quick.json" if args.quick else "speed_start.json"))


if __name__ == "__main__":
    main()
