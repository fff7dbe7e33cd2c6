"""Classification latency per face, for every inference path, on 1 thread.

    python benchmarks/speed_classify.py [--model model_file.h5] [--quick] [--json PATH]

Keras `model.predict`, eager `model(x)`, a `tf.function`, and the TFLite path detect.py uses (int8
weights), alone and with mirror averaging (the default), at batch 1 and 8, on random 48x48 inputs.
The target: 0.5 ms a face (TFLite, batch 1). About 1 minute (`--quick`: 15 s).
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import (
    finish_report,
    limit_threads,
    parse_benchmark_args,
    print_table,
    print_targets,
    run_worker,
    start_report,
)

from moodlens.emotions.classifier import EmotionClassifier
from moodlens.emotions.modelio import load_model
from moodlens.emotions.preprocess import INPUT_SHAPE
from moodlens.media.outputs import write_json

BATCHES = (1, 8)
SEED = 1337
WARMUP_CALLS = 5  # per measurement
MIN_CALLS = 10  # calls made even past the time budget
CALLS, BUDGET_S = 200, 4.0  # per path and batch (--quick: 20, 0.5 s)
TARGET_FACE_MS = 0.5


def call_times(fn: Callable[[np.ndarray], object], x: np.ndarray, calls: int, budget_s: float) -> list[float]:
    """Seconds per call after a warm-up: `calls` calls, or fewer (at least MIN_CALLS) past `budget_s`."""
    for _ in range(WARMUP_CALLS):
        fn(x)
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < calls and (len(times) < MIN_CALLS or time.perf_counter() < deadline):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return times


def worker(model_path: Path, threads: int, quick: bool) -> dict:
    """Every inference path, batch of 1 and of 8, on `threads` thread(s)."""
    in_effect = limit_threads(threads)
    model, _ = load_model(model_path)
    paths: dict[str, Callable[[np.ndarray], object]] = {
        "keras model.predict": lambda x: model.predict(x, verbose=0),
        "keras model(x) eager": lambda x: np.asarray(model(x, training=False)),
        "tf.function (backend tf)": EmotionClassifier(model_path, backend="tf", tta=False).scores,
        "tflite (backend tflite)": EmotionClassifier(model_path, backend="tflite", threads=threads, tta=False).scores,
        "tflite + mirror (default)": EmotionClassifier(model_path, backend="tflite", threads=threads).scores,
    }
    rng = np.random.default_rng(SEED)
    rows = []
    for name, fn in paths.items():
        for batch in BATCHES:
            print(f"latency: {name}, batch {batch}", file=sys.stderr, flush=True)
            x = rng.random((batch, *INPUT_SHAPE), dtype=np.float32)
            times = call_times(fn, x, 20 if quick else CALLS, 0.5 if quick else BUDGET_S)
            median = float(np.percentile(times, 50) * 1000)
            rows.append({"path": name, "batch": batch, "calls": len(times), "median_ms": median,
                         "p90_ms": float(np.percentile(times, 90) * 1000), "per_face_ms": median / batch})
    return {"threads": threads, "threads_in_effect": in_effect, "paths": rows}


def main() -> None:
    args = parse_benchmark_args(__doc__, "speed_classify", "latency", "fewer calls (smoke test)")
    model = args.model
    if args.worker:
        write_json(worker(model, args.threads, args.quick), args.out)
        return
    results = start_report(args.quick, model, {"batches": BATCHES})
    results["latency"] = run_worker(Path(__file__).resolve(), "latency", 1, model, args.quick)
    print_table("classification latency per call (1 thread)",
                ["path", "batch", "median ms", "p90 ms", "per face ms", "calls"],
                [[r["path"], r["batch"], r["median_ms"], r["p90_ms"], r["per_face_ms"], r["calls"]]
                 for r in results["latency"]["paths"]])
    face = next(r for r in results["latency"]["paths"] if r["path"].startswith("tflite") and r["batch"] == 1)
    results["targets"] = print_targets("target", [("classification per face, TFLite batch 1, ms", face["per_face_ms"],
                                                   f"<= {TARGET_FACE_MS}", face["per_face_ms"] <= TARGET_FACE_MS)])
    finish_report(results, args.json)


if __name__ == "__main__":
    main()
