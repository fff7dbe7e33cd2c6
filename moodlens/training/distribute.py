"""Training on several machines: tf.distribute.MultiWorkerMirroredStrategy, each worker told its place
in the cluster by the TF_CONFIG environment variable.

Every machine runs the same `train.py ... --distribute multiworker`, with its own TF_CONFIG:

    TF_CONFIG='{"cluster": {"worker": ["host1:23456", "host2:23456"]}, "task": {"type": "worker", "index": 0}}'

Each worker holds a full copy of the model; every batch (--batch-size is the global batch) is split
across the workers and their gradients are summed over the network (all-reduce) before each step,
so the copies stay identical. Worker 0, the chief, writes the model, history, curves and
checkpoint; Keras saves on every worker, so the others write theirs to a temporary folder that is
removed at the end.
"""

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import tensorflow as tf

from moodlens.errors import MoodlensError

TF_CONFIG_EXAMPLE = '{"cluster": {"worker": ["host1:23456", "host2:23456"]}, "task": {"type": "worker", "index": 0}}'


def worker_place() -> tuple[int, int]:
    """This worker's index and the number of workers, from TF_CONFIG; MoodlensError when missing or malformed."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise MoodlensError(f"--distribute multiworker needs TF_CONFIG in the environment, for instance "
                            f"TF_CONFIG='{TF_CONFIG_EXAMPLE}'")
    try:
        config = json.loads(text)
        workers, task = list(config["cluster"]["worker"]), config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise MoodlensError(f"TF_CONFIG: expected JSON like '{TF_CONFIG_EXAMPLE}', received '{text}'") from None
    if task.get("type") != "worker" or not 0 <= index < len(workers):
        raise MoodlensError(f"TF_CONFIG: task must be a worker with an index from 0 to {len(workers) - 1}, "
                            f"received {task}")
    return index, len(workers)


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy as Keras 3 (3.15) can use it in `fit`.

    Keras reduces a nested batch in one `reduce` call, which this strategy does not take, and it
    reduces the scalar loss and metrics with axis=0, which a scalar has not (keras-team/keras#20585).
    Each value is reduced on its own here, a scalar across the workers only.
    """

    def reduce(self, reduce_op, value, axis=None):
        def reduce_one(v):
            scalar = self.experimental_local_results(v)[0].shape.rank == 0
            return super(MultiWorkerStrategy, self).reduce(reduce_op, v, None if scalar else axis)

        return tf.nest.map_structure(reduce_one, value)


def multiworker_strategy() -> tf.distribute.Strategy:
    """The strategy for this worker (TF_CONFIG checked first); says which worker it is."""
    index, count = worker_place()
    strategy = MultiWorkerStrategy()
    role = " (chief: writes the model)" if index == 0 else ""
    print(f"multi-worker training: worker {index} of {count}{role}, {strategy.num_replicas_in_sync} replicas in sync")
    return strategy


@contextlib.contextmanager
def worker_output(output: Path) -> Iterator[Path]:
    """Where this worker's files go: the output itself on the chief, a temporary folder (removed after) elsewhere."""
    index, _ = worker_place()
    if index == 0:
        yield output
        return
    with tempfile.TemporaryDirectory(prefix=f"moodlens-worker{index}-") as folder:
        yield Path(folder) / output.name
