"""train.py --distribute multiworker: two worker processes on localhost train one model together
(tf.distribute.MultiWorkerMirroredStrategy, each told its place by TF_CONFIG), 1 epoch on a few real
FER2013 faces. Both run the same command with the same --output, as on a real cluster."""

import json
import socket
import subprocess
from pathlib import Path

from conftest import ROOT, python_command, script_env

from moodlens.emotions.modelio import read_labels
from moodlens.labels import EMOTIONS

WORKER_TIMEOUT_S = 600


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback now (all held open together, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_worker(index: int, cluster: list[str], *args: object) -> subprocess.Popen:
    env = script_env() | {"TF_CONFIG": json.dumps({"cluster": {"worker": cluster},
                                                   "task": {"type": "worker", "index": index}})}
    return subprocess.Popen(python_command("train.py", *args), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_workers_train_one_model_and_only_the_chief_writes_it(copy_faces, tmp_path: Path):
    data = copy_faces(tmp_path / "data", train=8, test=2)
    output = tmp_path / "out" / "m.h5"
    output.parent.mkdir()
    cluster = [f"localhost:{port}" for port in free_ports(2)]
    workers = [start_worker(i, cluster, "--data", data, "--epochs", 1, "--arch", "seed", "--batch-size", 16,
                            "--output", output, "--distribute", "multiworker") for i in range(2)]
    try:
        runs = [w.communicate(timeout=WORKER_TIMEOUT_S) for w in workers]
    finally:
        for w in workers:
            w.kill()
    for i, (worker, (stdout, stderr)) in enumerate(zip(workers, runs)):
        assert worker.returncode == 0, f"worker {i}: {stderr[-3000:]}"
        assert f"multi-worker training: worker {i} of 2" in stdout and "2 replicas in sync" in stdout
    assert "(chief: writes the model)" in runs[0][0]
    assert sorted(p.name for p in output.parent.iterdir()) == ["m.curves.png", "m.h5", "m.history.csv"]
    assert read_labels(output) == EMOTIONS
    history = output.with_suffix(".history.csv").read_text().splitlines()
    assert len(history) == 2  # a header and the one epoch


def test_multiworker_without_tf_config_is_a_one_line_error(run_script, tiny_data: Path, tmp_path: Path):
    run = run_script("train.py", "--data", tiny_data, "--epochs", 1, "--output", tmp_path / "m.h5",
                     "--distribute", "multiworker")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("error: --distribute multiworker needs TF_CONFIG")
    assert not list(tmp_path.iterdir())
