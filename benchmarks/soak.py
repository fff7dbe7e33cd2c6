"""Soak test (issue 5): detect's pipeline looping a video for a long time, memory sampled as it goes.

    python benchmarks/soak.py                                  # 10 minutes of ../shared/media/fer_woman2.mp4
    python benchmarks/soak.py --duration 60 --every 5 --json soak.json
    python benchmarks/soak.py --video clip.avi --model model_file.h5 --no-outputs

Each pass over the video is one `moodlens.live.detect_source`, exactly what `detect.py --no-window --output
out.mp4 --log out.jsonl` does (faces tracked and classified, boxes drawn, the annotated video and
the per-face log written to a temporary folder), then the video is opened again, until the
duration is up. The resident memory (VmRSS) is sampled every few seconds; a table of time, frames,
frames per second and RSS is printed as it goes, and everything is written as JSON.

Frame errors are counted, not fatal: frames the decoder could not read (skipped by the source) and
passes that ended in an error (the error's line is kept). A healthy soak shows 0 errors and a flat
RSS after warm-up: `growth_mb_per_min` is the slope of a least-squares line through the samples
after the first fifth of the run.
"""

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moodlens import cli  # noqa: E402
from moodlens.errors import MoodlensError  # noqa: E402

cli.quiet_tensorflow()

DEFAULT_VIDEO = ROOT.parent / "shared" / "media" / "fer_woman2.mp4"
WARM_UP_SHARE = 0.2  # the first fifth of the run is warm-up (caches, allocator pools): not in the slope


def rss_mb() -> float:
    """Resident memory of this process now (Linux), or its peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


class Counters:
    """What the loop has done so far; the sampler thread reads it."""

    def __init__(self) -> None:
        self.frames = 0
        self.passes = 0
        self.skipped = 0  # frames the decoder could not read
        self.failed_passes: list[str] = []


def looping_source(spec: str, counters: Counters, deadline: float):
    """A moodlens Source over `spec` that counts its frames and stops at `deadline`."""
    from moodlens.media.sources import Source

    class Counting(Source):
        def frames(self) -> Iterator:
            for frame in super().frames():
                if time.monotonic() >= deadline:
                    return
                counters.frames += 1
                yield frame

    return Counting(spec)


def sample_memory(counters: Counters, start: float, every: float, stop: threading.Event,
                  samples: list[dict]) -> None:
    """Every `every` seconds, and once more at the end: time, frames, RSS; printed as a table row and kept."""
    last = (0, start)
    while True:
        done = stop.wait(every) if samples else False
        now, frames = time.monotonic(), counters.frames
        rate = (frames - last[0]) / max(now - last[1], 1e-9)
        row = {"t": round(now - start, 1), "frames": frames, "fps": round(rate, 1), "rss_mb": round(rss_mb(), 1)}
        samples.append(row)
        print(f"{row['t']:>8.1f} {frames:>9d} {row['fps']:>7.1f} {row['rss_mb']:>9.1f}", flush=True)
        last = (frames, now)
        if done:
            return


def slope_per_minute(samples: list[dict]) -> float:
    """Least-squares slope of RSS over time, MB per minute, after warm-up."""
    points = [(s["t"], s["rss_mb"]) for s in samples if s["t"] >= WARM_UP_SHARE * samples[-1]["t"]]
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_r = sum(r for _, r in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 60 * sum((t - mean_t) * (r - mean_r) for t, r in points) / spread if spread else 0.0


def soak(video: Path, model: Path, duration: float, every: float, outputs: bool) -> dict:
    """Loop the pipeline over `video` for `duration` seconds; the figures as a dict."""
    from moodlens.detector import EmotionDetector
    from moodlens.live import detect_source

    counters = Counters()
    rss_before_model = rss_mb()
    detector = EmotionDetector(model)
    samples: list[dict] = []
    stop = threading.Event()
    print(f"{'seconds':>8} {'frames':>9} {'fps':>7} {'RSS MB':>9}")
    start = time.monotonic()
    sampler = threading.Thread(target=sample_memory, args=(counters, start, every, stop, samples), daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory(prefix="moodlens-soak-") as scratch:
        out = (Path(scratch) / "out.mp4", Path(scratch) / "out.jsonl") if outputs else (None, None)
        while time.monotonic() - start < duration:
            source = looping_source(str(video), counters, start + duration)
            try:
                detect_source(detector, source, False, *out)
            except MoodlensError as exc:
                counters.failed_passes.append(str(exc))
                print(f"pass {counters.passes + 1}: error: {exc}", file=sys.stderr)
            finally:
                source.close()
            counters.passes += 1
            counters.skipped += source.skipped
    stop.set()
    sampler.join()
    seconds = time.monotonic() - start
    rss = [s["rss_mb"] for s in samples]
    return {
        "video": str(video), "model": str(model), "duration_s": round(seconds, 1), "every_s": every,
        "outputs_written": outputs, "passes": counters.passes, "frames": counters.frames,
        "fps": round(counters.frames / seconds, 2),
        "frame_errors": counters.skipped + len(counters.failed_passes),
        "skipped_frames": counters.skipped, "failed_passes": counters.failed_passes,
        "rss_mb": {"before_model": round(rss_before_model, 1), "start": rss[0],
                   "after_warm_up": next(s["rss_mb"] for s in samples if s["t"] >= WARM_UP_SHARE * seconds),
                   "peak": max(rss), "end": rss[-1], "growth_mb_per_min": round(slope_per_minute(samples), 2)},
        "samples": samples,
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help=f"video to loop (default: {DEFAULT_VIDEO})")
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--duration", type=cli.positive_float, default=600.0, help="seconds to run (default: 600)")
    p.add_argument("--every", type=cli.positive_float, default=5.0, help="seconds between RSS samples (default: 5)")
    p.add_argument("--json", type=Path, default=Path("soak.json"), help="figures as JSON (default: soak.json)")
    p.add_argument("--no-outputs", action="store_true", help="skip writing the annotated video and the log")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if not args.video.is_file():
        raise MoodlensError(f"video {args.video} not found")
    result = soak(args.video, args.model, args.duration, args.every, not args.no_outputs)
    rss = result["rss_mb"]
    print(f"\n{result['frames']} frames in {result['duration_s']} s ({result['fps']} frames/s, "
          f"{result['passes']} passes), {result['frame_errors']} frame errors; RSS MB start {rss['start']}, "
          f"after warm-up {rss['after_warm_up']}, peak {rss['peak']}, end {rss['end']}, "
          f"growth {rss['growth_mb_per_min']} MB/min after warm-up")
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.json}")


if __name__ == "__main__":
    cli.run(main)
