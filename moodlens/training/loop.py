"""Training: recipe, callbacks that keep the best model and a resumable checkpoint, and the loop.

Files written next to the output model (for `model_file.h5`):
    model_file.h5            the best epoch by validation accuracy, replaced atomically (with --holdout,
                             its temperature fitted on the held-out faces once the last epoch is done)
    model_file.history.csv   one row of metrics per epoch
    model_file.curves.png    loss and accuracy curves, redrawn every epoch
    model_file.ckpt/         the last epoch's full state for --resume (removed once training ends)
"""

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from moodlens.emotions.calibration import calibrate_file
from moodlens.emotions.modelio import load_model, read_framing, read_labels, save_model
from moodlens.emotions.networks import build_model
from moodlens.errors import MoodlensError, os_error_text
from moodlens.evaluation.plots import plot_history
from moodlens.interrupts import interrupts_deferred
from moodlens.media.files import replaced
from moodlens.training.data import Split
from moodlens.training.pipeline import make_dataset
from moodlens.training.trainset import load_training_set


@dataclass
class TrainConfig:
    """Everything a training run depends on; train.py fills it from the command line."""

    data: Path
    output: Path = Path("model_file.h5")
    arch: str = "bn"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    schedule: str = "cosine"  # or "constant"
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    class_weight: str = "sqrt"  # "none", "sqrt" (inverse square root of frequency), "balanced"
    seed: int = 1337
    resume: bool = False
    init: Path | None = None  # start from this model's weights (a warm restart) instead of random ones
    ema: float = 0.0  # momentum of a moving average of the weights, validated and saved instead; 0: off
    distribute: str = "none"  # "mirrored" or "multiworker"
    votes: Path | None = None  # annotators' votes per training image (FER+), mixed into the targets
    votes_weight: float = 0.5  # the votes' share of each target; the image's own label has the rest
    extra: tuple[Path, ...] = ()  # folders of labelled photos whose faces are added to training
    extra_repeat: int = 1  # how many times each extra face is added
    extra_width: float = 1.0  # each extra photo narrowed to this share of its width first (undoes a stretch)
    holdout: float = 0.0  # share of the training faces that validates (and calibrates) instead of the test split
    teacher: Path | None = None  # a model (or ensemble) whose probabilities on each augmented face join its target
    teacher_weight: float = 0.5  # the teacher's share of each target
    align: bool = False  # the faces are framed by their landmarks (recorded in the model file)

    @property
    def framing(self) -> str:
        """How this run frames faces, as its model file records it (see modelio.FRAMINGS)."""
        return "aligned" if self.align else "box"


def artifact_paths(output: Path) -> dict[str, Path]:
    """Where a run keeps its history, curves and checkpoint, beside the output model."""
    stem = output.with_suffix("")
    return {
        "history": Path(f"{stem}.history.csv"),
        "curves": Path(f"{stem}.curves.png"),
        "checkpoint": Path(f"{stem}.ckpt"),
    }


def class_weights(split: Split, mode: str) -> dict[int, float] | None:
    """Per-class loss weights that lift rare classes (disgust) without drowning common ones."""
    if mode == "none":
        return None
    counts = np.bincount(split.y, minlength=len(split.labels)).astype(float)
    weights = len(split) / (len(counts) * np.maximum(counts, 1))
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return {i: float(w) for i, w in enumerate(weights)}


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam (decoupled weight decay when set), with a cosine schedule over the whole run, keeping a moving
    average of the weights when `config.ema` is set."""
    rate = config.learning_rate
    if config.schedule == "cosine":
        warmup = steps_per_epoch  # one epoch of warm-up keeps early BN statistics sane
        rate = keras.optimizers.schedules.CosineDecay(
            rate / 10, max(config.epochs * steps_per_epoch - warmup, 1),
            warmup_target=rate, warmup_steps=warmup,
        )
    average = {"use_ema": True, "ema_momentum": config.ema} if config.ema else {}
    if config.weight_decay:
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay, **average)
    return keras.optimizers.Adam(rate, **average)


class Checkpointer(keras.callbacks.Callback):
    """After each epoch: save the best model atomically, the full state for resuming, the curves."""

    def __init__(self, config: TrainConfig, labels: tuple[str, ...], best: float):
        super().__init__()
        self.config, self.labels, self.best = config, labels, best
        self.paths = artifact_paths(config.output)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        accuracy = float((logs or {}).get("val_accuracy", 0.0))
        target = self.config.output
        try:
            with interrupts_deferred():  # each file is finished before a Ctrl-C is acted on
                if accuracy > self.best:
                    save_model(self.model, self.labels, target, self.config.framing)
                    self.best = accuracy
                    print(f"\nepoch {epoch + 1}: val_accuracy {accuracy:.4f}, saved {target}")
                target = self.paths["checkpoint"]
                self.save_state(epoch + 1)
                target = self.paths["curves"]
                plot_history(self.paths["history"], target)
        except OSError as exc:  # a full disk: say which file, and what is still safe
            kept = f"; {self.config.output} holds the best epoch so far" if self.best >= 0 else ""
            raise MoodlensError(f"cannot write {target}: {os_error_text(exc)}{kept}") from None

    def save_state(self, epochs_done: int) -> None:
        """The model with its optimizer and the epoch count, replaced as a whole.

        Written to `.ckpt.tmp`, then swapped in; the previous state stays in `.ckpt.old` until the new
        one is in place, so an interruption at any moment leaves one complete checkpoint.
        """
        final, tmp, old = checkpoint_folders(self.config.output)
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            self.model.save(tmp / "last.keras")
            (tmp / "state.json").write_text(json.dumps({"epoch": epochs_done, "best": self.best}))
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(final, old)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


class WeightAverage(keras.callbacks.SwapEMAWeights):
    """Puts the moving average of the weights in the model from each epoch's end (so validation, the
    best model and the checkpoint get it) to the next epoch's start (training goes on from the raw ones).

    A checkpoint is therefore saved with the average in the model and the raw weights in the
    optimizer: a resumed run starts swapped, and swaps back before its first epoch.
    """

    def __init__(self, resumed: bool):
        super().__init__(swap_on_epoch=True)
        self._ema_weights_in_model = resumed


def checkpoint_folders(output: Path) -> tuple[Path, Path, Path]:
    """The checkpoint folder, its temporary twin while written, and the previous one while replaced."""
    final = artifact_paths(output)["checkpoint"]
    return final, Path(f"{final}.tmp"), Path(f"{final}.old")


def restore(config: TrainConfig) -> tuple[keras.Model, int, float]:
    """Load the checkpoint of an interrupted run: model with optimizer, epochs done, best accuracy."""
    final, _, old = checkpoint_folders(config.output)
    folder = next((f for f in (final, old) if (f / "state.json").is_file()), None)
    if folder is None:
        raise MoodlensError(f"nothing to resume: no checkpoint at {final}")
    try:
        state = json.loads((folder / "state.json").read_text())
        model = keras.models.load_model(folder / "last.keras", safe_mode=True)
        return model, int(state["epoch"]), float(state["best"])
    except Exception as exc:  # JSON, zip and Keras errors of a damaged checkpoint
        raise MoodlensError(f"cannot resume from {folder}: damaged checkpoint ({type(exc).__name__}); "
                            "train afresh without --resume") from None


def trim_history(history: Path, epochs_done: int) -> None:
    """Drop history rows past the checkpoint: an interrupt can fall between the two writes."""
    if not history.is_file():
        return
    with open(history, newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and int(r[0]) < epochs_done]
    if len(kept) < len(rows):
        with replaced(history) as tmp, open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(kept)


def strategy_for(name: str) -> tf.distribute.Strategy:
    """`mirrored` spreads each batch over every GPU (or every logical CPU device when none);
    `multiworker` over the machines TF_CONFIG names (see distribute.py)."""
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "multiworker":
        from moodlens.training.distribute import multiworker_strategy

        return multiworker_strategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def starting_model(config: TrainConfig, labels: tuple[str, ...]) -> keras.Model:
    """A fresh model of the configured architecture, or the --init model when it has the same labels."""
    if config.init is None:
        return build_model(config.arch, len(labels))
    model, init_labels = load_model(config.init)
    if init_labels != labels:
        raise MoodlensError(f"--init {config.init}: its labels ({', '.join(init_labels)}) differ from the "
                            f"data's ({', '.join(labels)})")
    return model


def load_teacher(config: TrainConfig, labels: tuple[str, ...]) -> keras.Model | None:
    """The --teacher model, when one is given and names the data's classes in their order."""
    if config.teacher is None:
        return None
    teacher, teacher_labels = load_model(config.teacher)
    if teacher_labels != labels:
        raise MoodlensError(f"--teacher {config.teacher}: its labels ({', '.join(teacher_labels)}) differ from "
                            f"the data's ({', '.join(labels)})")
    teacher.trainable = False
    print(f"teacher: {config.teacher}, {config.teacher_weight:.0%} of each target")
    return teacher


def compile_new(config: TrainConfig, labels: tuple[str, ...], steps_per_epoch: int) -> keras.Model:
    """The starting model (see `starting_model`), compiled with the recipe and a new schedule."""
    keras.utils.set_random_seed(config.seed)
    model = starting_model(config, labels)
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def calibrate_unless_seen(config: TrainConfig, held_out: Split) -> None:
    """Fit the saved model's temperature on the held-out faces, unless a warm restart's starting model
    may have trained on them: a temperature fitted on faces it knows would sharpen its scores."""
    if config.init is not None:
        print(f"no temperature fitted: the held-out faces may have trained {config.init} (--init)")
        return
    calibrate_file(config.output, held_out)


def check_teacher_framing(config: TrainConfig) -> None:
    """A --teacher must have learned faces framed as this run frames them: its scores on faces cut out
    otherwise would be wrong targets. Checked before the data loads (aligning it takes minutes)."""
    if config.teacher is None:
        return
    read_labels(config.teacher)  # a file that is not a model file is said as such, not as an HDF5 error
    learned = read_framing(config.teacher)
    if learned != config.framing:
        raise MoodlensError(f"--teacher {config.teacher} learned {learned} faces and this run frames them "
                            f"{config.framing}: give --align to both runs or to neither")


def train(config: TrainConfig, splits: tuple[Split, Split] | None = None) -> float:
    """Train per `config` (on `splits` when already loaded from config.data); returns the best validation
    accuracy (that model is in config.output)."""
    check_teacher_framing(config)
    train_split, val_split = splits or load_training_set(config.data, config.votes, config.votes_weight,
                                                         config.extra, config.extra_repeat, config.holdout,
                                                         config.seed, config.align, config.extra_width)
    print(f"train: {len(train_split)} faces {train_split.counts()}")
    print(f"validation: {len(val_split)} faces {val_split.counts()}")
    teacher = load_teacher(config, train_split.labels)
    steps = -(-len(train_split) // config.batch_size)
    strategy = strategy_for(config.distribute)
    with strategy.scope():
        if config.resume:
            model, initial_epoch, best = restore(config)
            trim_history(artifact_paths(config.output)["history"], initial_epoch)
            print(f"resuming after epoch {initial_epoch} (best val_accuracy {best:.4f})")
        else:
            model, initial_epoch, best = compile_new(config, train_split.labels, steps), 0, -1.0
    paths = artifact_paths(config.output)
    checkpointer = Checkpointer(config, train_split.labels, best)
    averaging = [WeightAverage(resumed=config.resume)] if model.optimizer.use_ema else []
    model.fit(
        make_dataset(train_split, config.batch_size, training=True, seed=config.seed, teacher=teacher,
                     teacher_weight=config.teacher_weight),
        validation_data=make_dataset(val_split, config.batch_size, training=False),
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        class_weight=class_weights(train_split, config.class_weight),
        shuffle=False,  # the dataset shuffles itself each epoch
        callbacks=[
            *averaging,
            keras.callbacks.CSVLogger(paths["history"], append=config.resume),
            checkpointer,
        ],
    )
    if config.holdout and checkpointer.best >= 0:
        calibrate_unless_seen(config, val_split)
    shutil.rmtree(paths["checkpoint"], ignore_errors=True)
    return checkpointer.best
