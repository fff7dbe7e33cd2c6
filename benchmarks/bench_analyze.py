"""Batch throughput of `moodlens analyze`: seconds of video analysed per second, local engine and Ray.

    python benchmarks/bench_analyze.py [--media ../shared/media] [--workers 2] [--json benchmarks/results/analyze.json]

Analyses every frame of all the videos in the media folder, once per engine (worker processes on this
machine; a local Ray with the same number of actors), each run from scratch in a subprocess. Prints,
per engine, the video-seconds per second of the analysis (workers started, files analysed, as the
command's own last line reports it), the same over the whole run including start-up and writing the
table, and what an hour of video costs in wall time; checks that both engines wrote the same records.

`--quick` is a smoke test (the shortest video, every 10th frame); its figures mean nothing. Run the
real one on a quiet machine: the load average at start is recorded.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov"}
RUN_LINE = re.compile(r"this run: ([\d.]+) s of video in ([\d.]+) s")


def run_engine(engine: str, videos: list[Path], workers: int, every: int, folder: Path) -> dict:
    """One `moodlens analyze` run: its figures, and where it wrote the records."""
    output = folder / f"{engine}.parquet"
    command = [sys.executable, "-m", "moodlens", "analyze", *map(str, videos), "--output", str(output),
               "--engine", engine, "--workers", str(workers), "--every", str(every)]
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    total = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{engine}: moodlens analyze failed:\n{run.stderr[-3000:]}")
    video, analysis = map(float, RUN_LINE.search(run.stdout).groups())
    return {"engine": engine, "workers": workers, "video_s": video, "analysis_s": round(analysis, 2),
            "total_s": round(total, 2), "video_s_per_s": round(video / analysis, 2),
            "video_s_per_s_end_to_end": round(video / total, 2),
            "minutes_per_hour_of_video": round(3600 / (video / analysis) / 60, 1), "output": output}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--quick", action="store_true", help="smoke test: the shortest video, every 10th frame")
    args = p.parse_args()
    videos = sorted(v for v in args.media.iterdir() if v.suffix.lower() in VIDEO_SUFFIXES)
    if args.quick:
        videos = [min(videos, key=lambda v: v.stat().st_size)]
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f}: the figures will be low", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        rows = [run_engine(engine, videos, args.workers, 10 if args.quick else 1, Path(folder))
                for engine in ("local", "ray")]
        same = pq.read_table(rows[0].pop("output")).equals(pq.read_table(rows[1].pop("output")))
    print(f"{len(videos)} videos, {rows[0]['video_s']:.1f} s in all, every {10 if args.quick else 1} frame(s), "
          f"{args.workers} workers; load average at start {load:.2f}")
    print(f"{'engine':8}{'video-s/s':>11}{'end to end':>12}{'min per hour of video':>23}")
    for r in rows:
        print(f"{r['engine']:8}{r['video_s_per_s']:11.2f}{r['video_s_per_s_end_to_end']:12.2f}"
              f"{r['minutes_per_hour_of_video']:23.1f}")
    print(f"records identical between engines: {same}")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                        "load_average_at_start": round(load, 2)},
            "videos": [v.name for v in videos], "quick": args.quick, "records_identical": same, "results": rows,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
