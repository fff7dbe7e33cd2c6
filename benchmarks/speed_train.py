"""Training speed: our tf.data pipeline against the ImageDataGenerator recipe, and the model step.

    python benchmarks/speed_train.py [--quick] [--json PATH]

On real FER2013 training faces (the first 128 of each class; `--quick`: 64) with train.py's model
and recipe, on all cores: both input pipelines alone and end to end through `model.fit`, and the
model step alone (a fixed batch repeated) at batch 32, 64 and 128, with and without XLA. About
2 minutes (`--quick`: 30 s).
"""

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from common import ALL_CORES, RESULTS, SHARED, finish_report, limit_threads, print_table, run_worker, start_report

from moodlens.media.outputs import write_json
from moodlens.training.data import Split, class_folders, image_files, load_folder_split

if TYPE_CHECKING:
    import keras

FER_TRAIN = SHARED / "fer2013" / "train"
TRAIN_ARCH = "bn"  # train.py's default architecture
TRAIN_BATCH = 64  # the batch the two training input pipelines are compared at
SEED = 1337
WARMUP_STEPS = 3  # training steps (tracing, XLA compilation) before the clock starts


@dataclass(frozen=True)
class Settings:
    faces_per_class: int  # FER2013 training subset; 7 x 128 = 896 is a multiple of every batch
    train_steps: int  # timed steps per training measurement
    train_batches: tuple[int, ...]  # model step batch sizes


FULL = Settings(faces_per_class=128, train_steps=24, train_batches=(32, 64, 128))
QUICK = Settings(faces_per_class=64, train_steps=3, train_batches=(TRAIN_BATCH,))


def fer_subset(per_class: int, folder: Path) -> Split:
    """The first `per_class` FER2013 training faces of each class, copied to `folder` and loaded."""
    for name, source in class_folders(FER_TRAIN).items():
        (folder / name).mkdir(parents=True)
        for path in image_files(source)[:per_class]:
            shutil.copy(path, folder / name / path.name)
    return load_folder_split(folder)


def new_model(split: Split, batch: int, jit_compile: bool | None = None) -> "keras.Model":
    """A fresh model compiled with train.py's recipe; `jit_compile` None keeps the recipe's own setting."""
    from moodlens.training.loop import TrainConfig, compile_new

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
    from moodlens.training.pipeline import make_dataset

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


def train_worker(threads: int, settings: Settings) -> dict:
    """Section 3 on `threads` threads: real FER2013 faces, train.py's model and recipe."""
    in_effect = limit_threads(threads)
    with tempfile.TemporaryDirectory(prefix="speed_train_fer_") as tmp:
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


def bench_training(quick: bool) -> dict:
    result = run_worker(Path(__file__).resolve(), "train", ALL_CORES, None, quick)
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer faces and steps (smoke test)")
    p.add_argument("--json", type=Path, default=None, help="default: benchmarks/results/speed_train[-quick].json")
    p.add_argument("--worker", choices=["train"], help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=ALL_CORES, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    settings = QUICK if args.quick else FULL
    if args.worker:
        write_json(train_worker(args.threads, settings), args.out)
        return
    if not FER_TRAIN.exists():
        raise SystemExit(f"error: not found: {FER_TRAIN}")
    results = start_report(args.quick, None, {"faces_per_class": settings.faces_per_class,
                                              "train_steps": settings.train_steps})
    start = time.perf_counter()
    results["training"] = bench_training(args.quick)
    results["wall_s"] = time.perf_counter() - start
    finish_report(results, args.json or RESULTS / ("speed_train-quick.json" if args.quick else "speed_train.json"))


if __name__ == "__main__":
    main()
