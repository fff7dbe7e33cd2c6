"""What the benchmarks share: where the real media lives, the stock cascade the references run,
reading clips, the hand counts, thread settings for worker processes, the machine, and tables.

Imported by the scripts beside it (`python benchmarks/<script>.py` puts this folder on the path).
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository is not on the path
    sys.path.insert(0, str(ROOT))

from moodlens import cli  # noqa: E402
from moodlens.faces.cascade import DEFAULT_CASCADE  # noqa: E402
from moodlens.faces.geometry import Box  # noqa: E402
from moodlens.media.outputs import write_json  # noqa: E402

cli.quiet_tensorflow()  # before any TensorFlow import, here and (through the environment) in workers

SHARED = ROOT.parent / "shared"
MEDIA = SHARED / "media"
RESULTS = ROOT / "benchmarks" / "results"
HAND_COUNTS = ROOT / "benchmarks" / "hand_counts.json"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")
ALL_CORES = os.cpu_count() or 1
BUSY_LOAD = 0.5  # load average above which the machine is not quiet
STOCK_HAAR = {"scaleFactor": 1.1, "minNeighbors": 5, "minSize": (30, 30)}  # the usual tutorial's cascade call


def clips() -> list[str]:
    """Every video in ../shared/media, by name."""
    return sorted(p.name for p in MEDIA.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def read_clip(name: str, start: int = 0, count: int | None = None) -> list[np.ndarray]:
    """Frames start .. start + count of a clip in ../shared/media (all from `start` by default), BGR."""
    capture, frames, index = cv2.VideoCapture(str(MEDIA / name)), [], 0
    while count is None or len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index >= start:
            frames.append(frame)
        index += 1
    capture.release()
    if not frames:
        raise SystemExit(f"error: video {MEDIA / name} delivered no frames")
    return frames


def stock_cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(DEFAULT_CASCADE))


def stock_haar(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[Box]:
    """The usual loop's face search: the stock cascade over the whole full-resolution frame."""
    return [tuple(int(v) for v in box) for box in cascade.detectMultiScale(gray, **STOCK_HAAR)]


def hand_counts() -> dict[str, dict[int, list[tuple[int, int]]]]:
    """Per clip, per sampled frame: one point on each face a person sees (benchmarks/hand_counts.json)."""
    clips_ = json.loads(HAND_COUNTS.read_text())["clips"]
    return {clip: {int(k): [tuple(p) for p in points] for k, points in frames.items()}
            for clip, frames in clips_.items()}


def real_and_phantom(boxes: list[Box], faces: list[tuple[int, int]]) -> tuple[int, int]:
    """Boxes on a face a person marked (each face counted once) and boxes on none."""
    taken: set[int] = set()
    for x, y, w, h in boxes:
        hit = next((i for i, (px, py) in enumerate(faces) if i not in taken and x <= px <= x + w and y <= py <= y + h),
                   None)
        if hit is not None:
            taken.add(hit)
    return len(taken), len(boxes) - len(taken)


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    """The CPU, cores, load and library versions the figures were measured with."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return {
        "cpu": models[0] if models else platform.processor() or "unknown",
        "cores": ALL_CORES,
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else ALL_CORES,
        "load_average_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": package_version("tensorflow"),
        "keras": package_version("keras"),
        "opencv": cv2.__version__,
        "ai_edge_litert": package_version("ai-edge-litert"),
        "numpy": package_version("numpy"),
    }


def start_report(quick: bool, model: Path | None, settings: dict) -> dict:
    """The figures' header (date, machine, settings), printed; a busy machine is warned about."""
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, load {machine['load_average_at_start'][0]:.2f}; "
          f"python {machine['python']}, tensorflow {machine['tensorflow']}, opencv {machine['opencv']}, "
          f"ai-edge-litert {machine['ai_edge_litert']}")
    if machine["load_average_at_start"][0] > BUSY_LOAD:
        print(f"warning: load average {machine['load_average_at_start'][0]:.2f}: the machine is busy, "
              "figures are not reliable")
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "quick": quick,
            "model": str(model) if model else None, "settings": settings, "machine": machine}


def finish_report(results: dict, path: Path) -> None:
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(results, path)
    print(f"\nfigures in {path}")


def print_table(title: str, headers: list[str], rows: list[list[object]]) -> None:
    """A plain text table: numbers right-aligned, floats with two decimals."""
    cells = [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows):
        print("  ".join(c.rjust(w) if isinstance(v, int | float) else c.ljust(w)
                        for c, v, w in zip(row, raw, widths)))
    sys.stdout.flush()


def print_targets(title: str, rows: list[tuple[str, float | None, str, bool]]) -> list[dict]:
    """Targets against the figures measured: printed, and returned for the JSON."""
    checks = [{"target": name, "measured": value, "wanted": wanted, "met": bool(met)}
              for name, value, wanted, met in rows]
    print_table(title, ["target", "measured", "wanted", "met"],
                [[c["target"], "n/a" if c["measured"] is None else float(c["measured"]), c["wanted"],
                  "yes" if c["met"] else "NO"] for c in checks])
    return checks


def parse_benchmark_args(doc: str, name: str, worker: str, quick_help: str) -> argparse.Namespace:
    """A model benchmark's options: --model, --quick, --json (resolved to its default under
    benchmarks/results/), and the hidden ones `run_worker` passes to a measuring process."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("model_file.h5"))
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--json", type=Path, default=None, help=f"default: benchmarks/results/{name}[-quick].json")
    p.add_argument("--worker", choices=[worker], help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.model = args.model.resolve()
    args.json = args.json or RESULTS / (f"{name}-quick.json" if args.quick else f"{name}.json")
    if not args.worker and not args.model.exists():
        raise SystemExit(f"error: model {args.model} not found (train one with: python train.py, or pass --model)")
    return args


def run_worker(script: Path, kind: str, threads: int, model: Path | None, quick: bool) -> dict:
    """Run one measurement of `script` in a fresh Python (its own thread settings) and return its JSON.

    TensorFlow's thread pools are fixed once it starts, so each thread setting needs its own process.
    """
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, str(script), "--worker", kind, "--threads", str(threads), "--out", str(out),
                   *(["--model", str(model)] if model else []), *(["--quick"] if quick else [])]
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL)  # stdout: TFLite converter chatter
        if done.returncode != 0:
            raise SystemExit(f"error: the {kind} worker failed (exit {done.returncode}), see above")
        return json.loads(out.read_text())


def limit_threads(threads: int) -> dict:
    """Size OpenCV's and TensorFlow's thread pools (before TensorFlow's first operation); returns them read back."""
    import tensorflow as tf

    cv2.setNumThreads(threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return {"opencv": cv2.getNumThreads(), "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads(), "litert": threads}
