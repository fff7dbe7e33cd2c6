"""Speed benchmark (issue 6): moodlens side by side with the usual Haar + Keras loop.

    python benchmarks/bench_speed.py [--model model_file.h5] [--quick] [--json benchmarks/results/speed.json]

Sections, each printed as a table and written to one JSON file (with the machine and the date):
  1. detect throughput (frames/s, headless, decoding timed apart) on the videos in ../shared/media,
     native and resized, with 1 thread and all cores, for three pipelines:
       usual          stock Haar on every full frame + one Keras `model.predict` per face
       cascade-bound  the same Haar on every frame, faces classified by the compiled TFLite path
       ours           `EmotionDetector(...).stream()` with detect.py's defaults
     and each one's face recall (share of frames with a face: every frame of both videos has one);
  2. per-face classification latency, batch 1 and 8, for every inference path (1 thread);
  3. training throughput: our tf.data pipeline against the ImageDataGenerator recipe, the input
     pipelines alone, and the model step with and without XLA at batch 32/64/128;
  4. cold start of detect.py on one image, with a warm and an empty TFLite cache;
  5. RSS of detect.py over a long video (peak, steady, growth).

TensorFlow's thread pools are fixed once it starts, so every measurement that depends on thread
settings runs in a fresh subprocess of this script (`--worker`), which reports the pool sizes read
back; the cpu/wall columns show the setting took effect (at most about 1.0 with 1 thread). "1 thread"
sets OpenCV, TensorFlow (intra and inter op), FFmpeg decoding and LiteRT to 1 thread; "all cores"
sets them to os.cpu_count() (LiteRT's own default, kept by detect.py without --threads, is 1 thread).
Detection runs on the first `frames` frames of each video (consecutive: ours tracks faces), decoded
into memory first; the 640x480 and 1280x720 versions are plain resizes (aspect not kept).

`--quick` is a smoke test (about 1.5 minutes on a quiet machine); its figures are indicative only.
Run the full benchmark (a few minutes) on a quiet machine: the load average at start is recorded,
and a busy machine is warned about.
"""

import argparse
import datetime
import functools
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    import keras

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository is not on the path
    sys.path.insert(0, str(ROOT))

# None of these imports TensorFlow: the workers import it after choosing their thread settings.
from moodlens import cli  # noqa: E402
from moodlens.classifier import EmotionClassifier  # noqa: E402
from moodlens.data import Split, class_folders, load_folder_split  # noqa: E402
from moodlens.detector import DEFAULT_MARGIN, EmotionDetector  # noqa: E402
from moodlens.faces import DEFAULT_CASCADE, Box, load_cascade  # noqa: E402
from moodlens.images import image_files  # noqa: E402
from moodlens.modelio import load_model  # noqa: E402
from moodlens.outputs import write_json  # noqa: E402
from moodlens.preprocess import INPUT_SHAPE, crop_face, to_gray, to_model_input  # noqa: E402

cli.quiet_tensorflow()  # before any TensorFlow import, here and (through the environment) in workers

SHARED = ROOT.parent / "shared"
MEDIA = SHARED / "media"
FER_TRAIN = SHARED / "fer2013" / "train"
VIDEOS = ("fer_woman2.mp4", "huimiang_1543684773.avi")  # one face in every frame of both
STILL = MEDIA / "fer_justin.jpg"  # cold start: one face, close up
LOOP_SOURCE = MEDIA / "fer_woman2.mp4"  # memory: its frames repeated into a long video
RESULTS = ROOT / "benchmarks" / "results"
DETECT_SCRIPT = ROOT / "detect.py"

ALL_CORES = os.cpu_count() or 1
STOCK_HAAR = {"scaleFactor": 1.1, "minNeighbors": 5, "minSize": (30, 30)}  # the usual loop's cascade call
PIPELINES = ("usual", "cascade-bound", "ours")
LATENCY_BATCHES = (1, 8)
TRAIN_ARCH = "bn"  # train.py's default architecture
TRAIN_BATCH = 64  # the batch the two training input pipelines are compared at
SEED = 1337
WARMUP_FRAMES = 3  # per pipeline and video, on a separate instance (first Keras calls trace)
WARMUP_CALLS = 5  # per latency measurement
MIN_CALLS = 10  # latency calls made even past the time budget
WARMUP_STEPS = 3  # training steps (tracing, XLA compilation) before the clock starts
RSS_INTERVAL_S = 0.5
BUSY_LOAD = 0.5  # load average above which the machine is not quiet

# The targets of issue 6.
TARGET_VS_USUAL = 5.0  # ours' frames/s over the usual loop's, on 1 thread
TARGET_VS_CASCADE = 3.0  # ours' frames/s over the cascade-bound loop's, on 1 thread
TARGET_FACE_MS = 0.5  # classification per face (TFLite, batch of 1)
TARGET_COLD_START_S = 3.0  # warm cache
TARGET_GROWTH_MB = 10.0  # "flat": RSS growth from the second to the last quarter of the long run

Size = tuple[int, int]  # width, height
FrameFn = Callable[[np.ndarray], int]  # one frame in, number of faces found out


@dataclass(frozen=True)
class Settings:
    """How much of each section runs: the full benchmark or the --quick smoke test."""

    frames: int  # per video, the first ones (tracking needs consecutive frames)
    sizes: tuple[Size | None, ...]  # None: the video's own size
    latency_calls: int
    latency_budget_s: float  # per path and batch size
    faces_per_class: int  # FER2013 training subset; 7 x 128 = 896 is a multiple of every batch
    train_steps: int  # timed steps per training measurement
    train_batches: tuple[int, ...]  # model step batch sizes
    cold_runs: int  # per cache state
    memory_video_s: float  # length of the long video detect.py runs through


FULL = Settings(frames=120, sizes=(None, (640, 480), (1280, 720)), latency_calls=200, latency_budget_s=4.0,
                faces_per_class=128, train_steps=24, train_batches=(32, 64, 128), cold_runs=3, memory_video_s=120.0)
QUICK = Settings(frames=15, sizes=((640, 480),), latency_calls=20, latency_budget_s=0.5,
                 faces_per_class=64, train_steps=3, train_batches=(TRAIN_BATCH,), cold_runs=1, memory_video_s=20.0)


# ---------------------------------------------------------------- helpers


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(seconds, q) * 1000)


def or_na(value: float | None) -> float | str:
    return "n/a" if value is None else float(value)


def size_label(size: Size | None, native: Size) -> str:
    return f"native {native[0]}x{native[1]}" if size is None else f"{size[0]}x{size[1]}"


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


def cpu_seconds() -> float:
    """CPU time of this process and of its finished subprocesses."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_worker(kind: str, threads: int, model: Path, quick: bool) -> dict:
    """Run one measurement in a fresh Python (its own thread settings) and return its JSON."""
    with tempfile.TemporaryDirectory(prefix="bench_speed_") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--threads", str(threads),
                   "--model", str(model), "--out", str(out)] + (["--quick"] if quick else [])
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


# ---------------------------------------------------------------- 1. detect throughput


def stock_haar(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[Box]:
    """The usual loop's face search: the stock cascade over the whole full-resolution frame."""
    return [tuple(int(v) for v in box) for box in cascade.detectMultiScale(gray, **STOCK_HAAR)]


class Pipelines:
    """The three detection loops compared, built once per worker; each `make` is a fresh loop for one video."""

    def __init__(self, model_path: Path, threads: int):
        self.keras_model, _ = load_model(model_path)
        self.classifier = EmotionClassifier(model_path, backend="tflite", threads=threads)
        self.detector = EmotionDetector(model_path, threads=threads)
        self.cascade = load_cascade(DEFAULT_CASCADE)

    def make(self, name: str) -> FrameFn:
        return {"usual": self.usual, "cascade-bound": self.cascade_bound, "ours": self.ours}[name]()

    def usual(self) -> FrameFn:
        def process(frame: np.ndarray) -> int:
            gray = to_gray(frame)
            boxes = stock_haar(self.cascade, gray)
            for box in boxes:
                self.keras_model.predict(to_model_input(crop_face(gray, box, DEFAULT_MARGIN))[None], verbose=0)
            return len(boxes)

        return process

    def cascade_bound(self) -> FrameFn:
        def process(frame: np.ndarray) -> int:
            gray = to_gray(frame)
            boxes = stock_haar(self.cascade, gray)
            self.classifier.classify([crop_face(gray, box, DEFAULT_MARGIN) for box in boxes])
            return len(boxes)

        return process

    def ours(self) -> FrameFn:
        stream = self.detector.stream()  # detect.py's defaults
        return lambda frame: len(stream.process(frame))


def decode_video(path: Path, keep: int, threads: int) -> tuple[list[np.ndarray], dict]:
    """Decode every frame (timed), keeping the first `keep` in memory."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
    if not capture.isOpened():
        raise SystemExit(f"cannot open video {path}")
    frames, count = [], 0
    start = time.perf_counter()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count += 1
        if len(frames) < keep:
            frames.append(frame)
    seconds = time.perf_counter() - start
    decode_threads = int(capture.get(cv2.CAP_PROP_N_THREADS))
    capture.release()
    if not frames:
        raise SystemExit(f"video {path} delivered no frames")
    height, width = frames[0].shape[:2]
    return frames, {"frames": count, "fps": count / seconds, "size": [width, height], "threads": decode_threads}


def time_loop(make: Callable[[], FrameFn], frames: list[np.ndarray]) -> dict:
    """Frames/s, face recall and CPU use of one pipeline over frames already in memory."""
    warm = make()
    for frame in frames[:WARMUP_FRAMES]:
        warm(frame)
    process = make()
    wall, cpu = time.perf_counter(), time.process_time()
    faces = [process(frame) for frame in frames]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "frames": len(frames),
        "fps": len(frames) / wall,
        "ms_per_frame": wall / len(frames) * 1000,
        "recall": sum(n > 0 for n in faces) / len(frames),
        "faces_per_frame": sum(faces) / len(frames),
        "cpu_per_wall": cpu / wall,
    }


def detect_worker(model_path: Path, threads: int, settings: Settings) -> dict:
    """Section 1 for one thread setting: every video, size and pipeline."""
    in_effect = limit_threads(threads)
    pipelines = Pipelines(model_path, threads)
    videos = {}
    for name in VIDEOS:
        frames, decode = decode_video(MEDIA / name, settings.frames, threads)
        runs = []
        for size in settings.sizes:
            sized = frames if size is None else [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
            label = size_label(size, tuple(decode["size"]))
            for pipeline in PIPELINES:
                print(f"detect: {threads} thread(s), {name} {label}, {pipeline}", file=sys.stderr, flush=True)
                runs.append({"size": label, "pipeline": pipeline,
                             **time_loop(functools.partial(pipelines.make, pipeline), sized)})
        videos[name] = {"decode": decode, "runs": runs}
    return {"threads": threads, "threads_in_effect": in_effect, "videos": videos}


def add_speedups(result: dict) -> None:
    """Each run's frames/s over the usual and the cascade-bound loop's on the same frames."""
    for video in result["videos"].values():
        by_size: dict[str, dict[str, dict]] = {}
        for run in video["runs"]:
            by_size.setdefault(run["size"], {})[run["pipeline"]] = run
        for runs in by_size.values():
            for run in runs.values():
                run["vs_usual"] = run["fps"] / runs["usual"]["fps"]
                run["vs_cascade_bound"] = run["fps"] / runs["cascade-bound"]["fps"]


def bench_detect(model: Path, settings: Settings, quick: bool) -> list[dict]:
    results = []
    for threads in sorted({1, ALL_CORES}):
        result = run_worker("detect", threads, model, quick)
        add_speedups(result)
        results.append(result)
    rows = [[name, v["decode"]["size"][0], v["decode"]["size"][1], r["threads"], v["decode"]["threads"],
             v["decode"]["fps"]] for r in results for name, v in r["videos"].items()]
    print_table("1a. video decoding (all frames, timed apart from detection)",
                ["video", "width", "height", "threads", "ffmpeg threads", "decode fps"], rows)
    print("threads in effect: " + "; ".join(f"{r['threads']}: {r['threads_in_effect']}" for r in results))
    rows = [[name, run["size"], r["threads"], run["pipeline"], run["fps"], run["ms_per_frame"], run["recall"],
             run["faces_per_frame"], run["cpu_per_wall"], run["vs_usual"], run["vs_cascade_bound"]]
            for r in results for name, v in r["videos"].items() for run in v["runs"]]
    print_table("1b. detect throughput (frames in memory; recall = frames with a face)",
                ["video", "size", "threads", "pipeline", "frames/s", "ms/frame", "recall", "faces/frame",
                 "cpu/wall", "x usual", "x cascade-bound"], rows)
    return results


# ---------------------------------------------------------------- 2. classification latency


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


def latency_worker(model_path: Path, threads: int, settings: Settings) -> dict:
    """Section 2: every inference path, batch of 1 and of 8, on `threads` thread(s)."""
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
        for batch in LATENCY_BATCHES:
            print(f"latency: {name}, batch {batch}", file=sys.stderr, flush=True)
            x = rng.random((batch, *INPUT_SHAPE), dtype=np.float32)
            times = call_times(fn, x, settings.latency_calls, settings.latency_budget_s)
            median = percentile_ms(times, 50)
            rows.append({"path": name, "batch": batch, "calls": len(times), "median_ms": median,
                         "p90_ms": percentile_ms(times, 90), "per_face_ms": median / batch})
    return {"threads": threads, "threads_in_effect": in_effect, "paths": rows}


def bench_latency(model: Path, settings: Settings, quick: bool) -> dict:
    result = run_worker("latency", 1, model, quick)
    print_table("2. classification latency per call (1 thread)",
                ["path", "batch", "median ms", "p90 ms", "per face ms", "calls"],
                [[r["path"], r["batch"], r["median_ms"], r["p90_ms"], r["per_face_ms"], r["calls"]]
                 for r in result["paths"]])
    return result


# ---------------------------------------------------------------- 3. training throughput


def fer_subset(per_class: int, folder: Path) -> Split:
    """The first `per_class` FER2013 training faces of each class, copied to `folder` and loaded."""
    for name, source in class_folders(FER_TRAIN).items():
        (folder / name).mkdir(parents=True)
        for path in image_files(source)[:per_class]:
            shutil.copy(path, folder / name / path.name)
    return load_folder_split(folder)


def new_model(split: Split, batch: int, jit_compile: bool | None = None) -> "keras.Model":
    """A fresh model compiled with train.py's recipe; `jit_compile` None keeps the recipe's own setting."""
    from moodlens.training import TrainConfig, compile_new

    config = TrainConfig(data=FER_TRAIN, arch=TRAIN_ARCH, batch_size=batch, seed=SEED)
    model = compile_new(config, split.labels, -(-len(split) // batch))
    if jit_compile is not None:
        model.jit_compile = jit_compile  # read when fit builds its train function
    return model


def fit_rate(model: "keras.Model", data: object, batch: int, steps: int) -> dict:
    """Images/s (and CPU use) of `model.fit` over `steps` steps after WARMUP_STEPS untimed ones."""
    import keras

    ends: list[tuple[float, float]] = []
    clock = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: ends.append((time.perf_counter(), time.process_time())))
    model.fit(data, epochs=1, steps_per_epoch=WARMUP_STEPS + steps, shuffle=False, verbose=0, callbacks=[clock])
    wall, cpu = (last - first for last, first in zip(ends[-1], ends[WARMUP_STEPS - 1]))
    return {"images_per_s": batch * steps / wall, "cpu_per_wall": cpu / wall}


def iterate_rate(batches: Iterator, batch: int, steps: int) -> float:
    """Images/s an input pipeline delivers on its own."""
    for _ in range(WARMUP_STEPS):
        next(batches)
    start = time.perf_counter()
    for _ in range(steps):
        next(batches)
    return batch * steps / (time.perf_counter() - start)


def generator_flow(split: Split, batch: int) -> Iterator:
    """The ImageDataGenerator recipe over the same faces (as 0-255 pixels: the recipe rescales)."""
    import tensorflow as tf

    generator = tf.keras.preprocessing.image.ImageDataGenerator(
        rescale=1 / 255, rotation_range=10, zoom_range=0.1, width_shift_range=0.1, height_shift_range=0.1,
        horizontal_flip=True)
    labels = np.eye(len(split.labels), dtype=np.float32)[split.y]
    return generator.flow(split.x * 255, labels, batch_size=batch, seed=SEED)


def forever(flow: Iterator) -> Iterator:
    """A plain generator over the flow: `fit` then takes as many steps as asked, across epochs."""
    while True:
        yield next(flow)


def pipeline_rates(split: Split, settings: Settings) -> dict:
    """tf.data against ImageDataGenerator, end to end (model.fit) and alone, at TRAIN_BATCH."""
    from moodlens.pipeline import make_dataset

    steps, results = settings.train_steps, {}

    def dataset():
        return make_dataset(split, TRAIN_BATCH, training=True, seed=SEED).repeat()

    print("training: tf.data pipeline", file=sys.stderr, flush=True)
    results["tf.data"] = {"available": True,
                          "input_only": iterate_rate(iter(dataset()), TRAIN_BATCH, 4 * steps),
                          **fit_rate(new_model(split, TRAIN_BATCH), dataset(), TRAIN_BATCH, steps)}
    print("training: ImageDataGenerator recipe", file=sys.stderr, flush=True)
    try:
        results["ImageDataGenerator"] = {
            "available": True,
            "input_only": iterate_rate(generator_flow(split, TRAIN_BATCH), TRAIN_BATCH, 4 * steps),
            **fit_rate(new_model(split, TRAIN_BATCH), forever(generator_flow(split, TRAIN_BATCH)), TRAIN_BATCH,
                       steps),
        }
    except (AttributeError, ImportError) as exc:  # gone from tf.keras, or scipy missing for its transforms
        results["ImageDataGenerator"] = {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
    return results


def model_step_rates(split: Split, settings: Settings) -> list[dict]:
    """The model step alone (one fixed batch repeated: no input cost), with and without XLA."""
    import tensorflow as tf

    labels = np.eye(len(split.labels), dtype=np.float32)[split.y]
    rows = []
    for batch in settings.train_batches:
        data = tf.data.Dataset.from_tensors((split.x[:batch], labels[:batch])).repeat()
        for jit in (False, True):
            print(f"training: model step, batch {batch}, jit_compile {jit}", file=sys.stderr, flush=True)
            rows.append({"batch": batch, "jit_compile": jit,
                         **fit_rate(new_model(split, batch, jit), data, batch, settings.train_steps)})
    return rows


def train_worker(model_path: Path, threads: int, settings: Settings) -> dict:
    """Section 3 on `threads` threads: real FER2013 faces, train.py's model and recipe."""
    in_effect = limit_threads(threads)
    with tempfile.TemporaryDirectory(prefix="bench_speed_fer_") as tmp:
        split = fer_subset(settings.faces_per_class, Path(tmp))
    return {
        "threads": threads,
        "threads_in_effect": in_effect,
        "faces": len(split),
        "arch": TRAIN_ARCH,
        "recipe_jit_compile": bool(new_model(split, TRAIN_BATCH).jit_compile),  # what train.py gets
        "batch": TRAIN_BATCH,
        "pipelines": pipeline_rates(split, settings),
        "model_step": model_step_rates(split, settings),
    }


def bench_training(model: Path, settings: Settings, quick: bool) -> dict:
    result = run_worker("train", ALL_CORES, model, quick)
    rows = []
    for name, r in result["pipelines"].items():
        rows.append([name, r["input_only"], r["images_per_s"], r["cpu_per_wall"]] if r["available"]
                    else [name, "n/a", f"not reachable: {r['reason']}", "n/a"])
    print_table(f"3a. training input pipelines ({result['faces']} FER2013 faces, {result['arch']} model, "
                f"batch {result['batch']}, {result['threads']} threads, recipe jit_compile "
                f"{result['recipe_jit_compile']}), images/s",
                ["pipeline", "input alone", "model.fit end to end", "cpu/wall"], rows)
    print_table("3b. model step alone (fixed batch, no input cost), images/s",
                ["batch", "jit_compile", "images/s", "cpu/wall"],
                [[r["batch"], str(r["jit_compile"]), r["images_per_s"], r["cpu_per_wall"]]
                 for r in result["model_step"]])
    return result


# ---------------------------------------------------------------- 4. cold start


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


def bench_cold_start(model: Path, settings: Settings) -> dict:
    """Empty-cache runs first (each in a fresh cache folder); the last one's cache then serves the warm runs."""
    with tempfile.TemporaryDirectory(prefix="bench_speed_cache_") as tmp:
        caches = [Path(tmp) / f"cache{i}" for i in range(settings.cold_runs)]
        empty = [timed_detect_run(model, cache) for cache in caches]
        warm = [timed_detect_run(model, caches[-1]) for _ in range(settings.cold_runs)]
    result = {"image": STILL.name, "measures": "whole detect.py run on one image: an upper bound of the time to "
                                               "its first annotated frame",
              "warm_cache_s": warm, "empty_cache_s": empty,
              "warm_cache_median_s": statistics.median(warm), "empty_cache_median_s": statistics.median(empty)}
    print_table(f"4. cold start: python detect.py --source {STILL.name} --no-window, whole run (upper bound)",
                ["TFLite cache", "median s", "runs s"],
                [["warm", result["warm_cache_median_s"], " ".join(f"{s:.2f}" for s in warm)],
                 ["empty", result["empty_cache_median_s"], " ".join(f"{s:.2f}" for s in empty)]])
    return result


# ---------------------------------------------------------------- 5. memory


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


def bench_memory(model: Path, settings: Settings) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_speed_video_") as tmp:
        video = Path(tmp) / "long.avi"
        frames = make_long_video(LOOP_SOURCE, video, settings.memory_video_s)
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
    result = {"video": f"{LOOP_SOURCE.name} repeated, {settings.memory_video_s:.0f} s", "frames": frames,
              "run_s": seconds, "samples": len(samples), "interval_s": RSS_INTERVAL_S, "rss_mb": samples,
              "detect_summary": output.splitlines()[-1] if output else "", **rss_summary(samples)}
    print_table(f"5. memory: detect.py on {result['video']} (VmRSS every {RSS_INTERVAL_S} s), MiB",
                ["frames", "run s", "samples", "peak", "steady", "growth"],
                [[frames, seconds, len(samples), or_na(result["peak_mb"]), or_na(result["steady_mb"]),
                  or_na(result["growth_mb"])]])
    print(f"detect.py said: {result['detect_summary']}")
    return result


# ---------------------------------------------------------------- targets


def recall_gap(video: dict) -> float:
    """Ours' recall minus the best reference's, at the worst size of one video."""
    by_size: dict[str, dict[str, float]] = {}
    for run in video["runs"]:
        by_size.setdefault(run["size"], {})[run["pipeline"]] = run["recall"]
    return min(r["ours"] - max(r["usual"], r["cascade-bound"]) for r in by_size.values())


def check_targets(results: dict) -> list[dict]:
    """Issue 6's targets against the figures measured."""
    videos = next(r for r in results["detect"] if r["threads"] == 1)["videos"].values()
    ours = [run for v in videos for run in v["runs"] if run["pipeline"] == "ours"]
    vs_usual = min(r["vs_usual"] for r in ours)
    vs_cascade = min(r["vs_cascade_bound"] for r in ours)
    gap = min(recall_gap(v) for v in videos)
    face_ms = next(r for r in results["latency"]["paths"] if r["path"].startswith("tflite") and r["batch"] == 1)
    cold = results["cold_start"]["warm_cache_median_s"]
    growth = results["memory"]["growth_mb"]
    rows = [
        ("detect, 1 thread: ours / usual frames/s (worst video, size)", vs_usual, f">= {TARGET_VS_USUAL}",
         vs_usual >= TARGET_VS_USUAL),
        ("detect, 1 thread: ours / cascade-bound frames/s (worst)", vs_cascade, f">= {TARGET_VS_CASCADE}",
         vs_cascade >= TARGET_VS_CASCADE),
        ("detect, 1 thread: ours' recall - best reference's (worst)", gap, ">= 0", gap >= 0),
        ("classification per face, TFLite batch 1, ms", face_ms["per_face_ms"], f"<= {TARGET_FACE_MS}",
         face_ms["per_face_ms"] <= TARGET_FACE_MS),
        ("cold start, warm cache, s (whole run)", cold, f"<= {TARGET_COLD_START_S}", cold <= TARGET_COLD_START_S),
        ("memory growth over the long run, MiB", growth, f"<= {TARGET_GROWTH_MB}",
         growth is not None and growth <= TARGET_GROWTH_MB),
    ]
    checks = [{"target": name, "measured": value, "wanted": wanted, "met": bool(met)}
              for name, value, wanted, met in rows]
    print_table("targets (issue 6)", ["target", "measured", "wanted", "met"],
                [[c["target"], or_na(c["measured"]), c["wanted"], "yes" if c["met"] else "NO"] for c in checks])
    return checks


# ---------------------------------------------------------------- command line


WORKERS = {"detect": detect_worker, "latency": latency_worker, "train": train_worker}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("model_file.h5"), help="model file (default: model_file.h5)")
    p.add_argument("--quick", action="store_true", help="a reduced run of every section (smoke test)")
    p.add_argument("--json", type=Path, default=None,
                   help="where to write the figures (default: benchmarks/results/speed.json, "
                        "speed-quick.json with --quick)")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return p.parse_args()


def check_inputs(model: Path) -> None:
    missing = [p for p in (model, *(MEDIA / v for v in VIDEOS), STILL, FER_TRAIN) if not p.exists()]
    if missing:
        hint = " (train one with: python train.py, or pass --model)" if model in missing else ""
        raise SystemExit(f"error: not found: {', '.join(map(str, missing))}{hint}")


def main() -> None:
    args = parse_args()
    settings = QUICK if args.quick else FULL
    model = args.model.resolve()
    if args.worker:
        write_json(WORKERS[args.worker](model, args.threads, settings), args.out)
        return
    check_inputs(model)
    json_path = args.json or RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    start = time.perf_counter()
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, load {machine['load_average_at_start'][0]:.2f}; "
          f"python {machine['python']}, tensorflow {machine['tensorflow']}, keras {machine['keras']}, "
          f"opencv {machine['opencv']}, ai-edge-litert {machine['ai_edge_litert']}")
    if machine["load_average_at_start"][0] > BUSY_LOAD:
        print(f"warning: load average {machine['load_average_at_start'][0]:.2f}: the machine is busy, "
              "figures are not reliable")
    results: dict = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "model": str(model),
        "settings": asdict(settings),
        "machine": machine,
    }
    sections: list[tuple[str, Callable[[], object]]] = [
        ("detect", lambda: bench_detect(model, settings, args.quick)),
        ("latency", lambda: bench_latency(model, settings, args.quick)),
        ("training", lambda: bench_training(model, settings, args.quick)),
        ("cold_start", lambda: bench_cold_start(model, settings)),
        ("memory", lambda: bench_memory(model, settings)),
    ]
    results["section_s"] = {}
    for name, section in sections:
        wall, cpu = time.perf_counter(), cpu_seconds()
        results[name] = section()
        results["section_s"][name] = {"wall": time.perf_counter() - wall, "cpu": cpu_seconds() - cpu}
    results["targets"] = check_targets(results)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["wall_s"] = time.perf_counter() - start
    json_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(results, json_path)
    print_table("seconds per section (cpu: this process and its subprocesses)", ["section", "wall", "cpu"],
                [[name, t["wall"], t["cpu"]] for name, t in results["section_s"].items()])
    print(f"\n{'quick run' if args.quick else 'benchmark'}: {results['wall_s']:.0f} s; figures in {json_path}")


if __name__ == "__main__":
    main()
