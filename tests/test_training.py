"""train.py end to end on tiny real data: model file, side files, label order, --resume, --init, --distribute."""

import csv
import json
import signal
import time
from pathlib import Path

import cv2
import numpy as np

from moodlens.emotions.modelio import load_model
from moodlens.labels import EMOTIONS


def history(model: Path) -> list[dict[str, str]]:
    with open(model.with_suffix(".history.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_train_script_writes_a_loadable_model_with_the_label_order(tiny_model) -> None:
    model, labels = load_model(tiny_model.path)
    assert labels == EMOTIONS
    assert model.input_shape == (None, 48, 48, 1)
    assert model.output_shape == (None, 7)


def test_training_writes_history_csv_and_curves_png_beside_the_model(tiny_model) -> None:
    rows = history(tiny_model.path)
    assert [row["epoch"] for row in rows] == ["0"]
    assert {"accuracy", "loss", "val_accuracy", "val_loss"} <= set(rows[0])
    curves = cv2.imread(str(tiny_model.path.with_suffix(".curves.png")))
    assert curves is not None and curves.shape[0] > 100 and curves.shape[1] > 100


def test_successful_training_leaves_no_checkpoint_or_temporary_file(tiny_model) -> None:
    left = sorted(p.name for p in tiny_model.path.parent.iterdir())
    assert left == ["m.curves.png", "m.h5", "m.history.csv"]


def test_train_script_prints_the_best_validation_accuracy(tiny_model) -> None:
    best = max(float(row["val_accuracy"]) for row in history(tiny_model.path))
    assert f"best validation accuracy {best:.4f}, model in {tiny_model.path}" in tiny_model.run.stdout


def test_model_trained_on_three_classes_labels_with_those_three(copy_faces, train_tiny, tmp_path: Path) -> None:
    data = copy_faces(tmp_path / "data", classes=("angry", "happy", "surprise"), train=10, test=3)
    run = train_tiny(data, tmp_path / "three.h5")
    assert run.returncode == 0, run.stderr[-3000:]
    model, labels = load_model(tmp_path / "three.h5")
    assert labels == ("angry", "happy", "surprise")
    assert model.output_shape == (None, 3)


def weight_distance(a: Path, b: Path) -> float:
    """The largest difference between two models' trainable weights."""
    (model_a, _), (model_b, _) = load_model(a), load_model(b)
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in
               zip(model_a.trainable_weights, model_b.trainable_weights, strict=True))


def test_init_starts_from_the_given_models_weights(tiny_model, tiny_data: Path, train_tiny, tmp_path: Path) -> None:
    # At a vanishing learning rate the weights stay where they started: the init model's, not random ones.
    warm = train_tiny(tiny_data, tmp_path / "warm.h5", "--init", tiny_model.path, "--lr", 1e-12)
    assert warm.returncode == 0, warm.stderr[-3000:]
    fresh = train_tiny(tiny_data, tmp_path / "fresh.h5", "--lr", 1e-12, "--seed", 99)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert weight_distance(tmp_path / "warm.h5", tiny_model.path) < 1e-6
    assert weight_distance(tmp_path / "fresh.h5", tiny_model.path) > 1e-2


def test_a_warm_restart_fits_no_temperature_on_faces_its_start_may_have_learned(
        tiny_model, tiny_data: Path, train_tiny, tmp_path: Path) -> None:
    # The held-out faces are training faces, which the --init model may have learned: a temperature fitted
    # on them would sharpen its scores. At a vanishing rate the weights stay the start's, untempered.
    run = train_tiny(tiny_data, tmp_path / "warm.h5", "--init", tiny_model.path, "--lr", 1e-12, "--holdout", 0.2)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"no temperature fitted: the held-out faces may have trained {tiny_model.path} (--init)" in run.stdout
    assert "fitted on" not in run.stdout
    assert weight_distance(tmp_path / "warm.h5", tiny_model.path) < 1e-6


def test_ema_saves_the_moving_average_of_the_weights(tiny_model, tiny_data: Path, train_tiny, tmp_path: Path) -> None:
    # 7 steps at a high rate move the raw weights far from the start; their average at momentum 0.99
    # keeps almost all of the first step's weights, so the saved model stays near where it started.
    start = ("--init", tiny_model.path, "--lr", 1e-2, "--schedule", "constant")
    raw = train_tiny(tiny_data, tmp_path / "raw.h5", *start)
    assert raw.returncode == 0, raw.stderr[-3000:]
    averaged = train_tiny(tiny_data, tmp_path / "averaged.h5", *start, "--ema", 0.99)
    assert averaged.returncode == 0, averaged.stderr[-3000:]
    moved = weight_distance(tmp_path / "raw.h5", tiny_model.path)
    assert moved > 3e-2
    assert weight_distance(tmp_path / "averaged.h5", tiny_model.path) < moved / 2


def wait_for(path: Path, training, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert training.running(), f"training ended before {path} appeared:\n{training.finish().stderr[-3000:]}"
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout} s"
        time.sleep(0.05)


def test_resume_continues_an_interrupted_run_from_its_checkpoint(
    tiny_data: Path, tmp_path: Path, start_script, run_script
) -> None:
    output = tmp_path / "m.h5"
    args = ["--data", tiny_data, "--arch", "seed", "--batch-size", 16, "--output", output]
    # Many epochs, so the interrupt surely lands in epoch 2, just after epoch 1's checkpoint.
    training = start_script("train.py", *args, "--epochs", 50)
    state = tmp_path / "m.ckpt" / "state.json"
    wait_for(state, training)
    training.process.send_signal(signal.SIGINT)
    interrupted = training.finish(timeout=120)
    assert interrupted.returncode == 130, interrupted.stderr[-3000:]  # 128 + SIGINT, as a shell reports Ctrl-C
    assert "interrupted" in interrupted.stderr and "--resume" in interrupted.stderr
    done = json.loads(state.read_text())["epoch"]
    assert done >= 1
    load_model(output)  # the best epoch so far is a whole model file

    resumed = run_script("train.py", *args, "--epochs", done + 1, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming after epoch {done}" in resumed.stdout
    assert [int(row["epoch"]) for row in history(output)] == list(range(done + 1))
    assert not (tmp_path / "m.ckpt").exists()
    assert load_model(output)[1] == EMOTIONS


MIRRORED = """
import sys
from pathlib import Path

import tensorflow as tf

tf.config.set_visible_devices([], "GPU")
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from moodlens.training import loop as training

used = []
def recording_strategy_for(name, real=training.strategy_for):
    used.append(real(name))
    return used[-1]
training.strategy_for = recording_strategy_for

training.train(training.TrainConfig(
    data=Path(sys.argv[1]), output=Path(sys.argv[2]), arch="seed", epochs=1, batch_size=16,
    schedule="constant", weight_decay=0.0, label_smoothing=0.0, class_weight="none", distribute="mirrored"))
print("strategy", type(used[0]).__name__, used[0].num_replicas_in_sync)
"""


def test_mirrored_strategy_trains_over_two_logical_cpu_devices(tiny_data: Path, tmp_path: Path, run_script) -> None:
    output = tmp_path / "mirrored.h5"
    run = run_script("-c", MIRRORED, tiny_data, output)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "strategy MirroredStrategy 2" in run.stdout
    assert load_model(output)[1] == EMOTIONS


def test_a_resumed_weight_average_run_trains_on_from_the_raw_weights(tiny_data: Path, tmp_path: Path) -> None:
    # One epoch of five with a weight average, checkpointed as train() does, then interrupted; resumed: at the
    # start of its next epoch the model must hold the raw weights again, not the average it was saved with.
    import keras
    import numpy as np

    from moodlens.training.data import load_training_data
    from moodlens.training.loop import Checkpointer, TrainConfig, WeightAverage, artifact_paths, compile_new, restore
    from moodlens.training.pipeline import make_dataset

    config = TrainConfig(data=tiny_data, output=tmp_path / "m.h5", arch="seed", batch_size=16, learning_rate=1e-2,
                         schedule="constant", ema=0.9)
    train, val = load_training_data(tiny_data)
    model = compile_new(config, train.labels, steps_per_epoch=7)
    batches = make_dataset(train, 16, training=True, seed=1)
    history = keras.callbacks.CSVLogger(artifact_paths(config.output)["history"])
    interrupt = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: setattr(model, "stop_training", True))
    model.fit(batches, epochs=5, verbose=0, validation_data=make_dataset(val, 16, training=False),
              callbacks=[WeightAverage(resumed=False), history, Checkpointer(config, train.labels, 1.0), interrupt])
    resumed, epochs_done, _ = restore(config)
    average = [np.array(v) for v in resumed.trainable_variables]  # the checkpoint holds the average...
    raw = [np.array(v) for v in resumed.optimizer._model_variables_moving_average]  # ...and the raw weights
    assert max(np.abs(r - a).max() for r, a in zip(raw, average)) > 1e-3
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: seen.append([np.array(v) for v in resumed.trainable_variables]))
    resumed.optimizer.learning_rate.assign(0.0)
    resumed.fit(batches, epochs=epochs_done + 1, initial_epoch=epochs_done,
                callbacks=[WeightAverage(resumed=True), record], verbose=0)
    for start, r in zip(seen[0], raw):
        np.testing.assert_allclose(start, r, atol=1e-6)
