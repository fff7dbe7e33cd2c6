"""The TFLite cache: a damaged entry is rebuilt, and an entry always holds the conversion of the bytes
its key was computed from (the model file is read once, whatever happens to it meanwhile)."""

import hashlib
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from errors_helpers import call_script, fer_faces

from moodlens.emotions.classifier import EmotionClassifier
from moodlens.emotions.modelio import save_model
from moodlens.emotions.networks import build_model
from moodlens.emotions.preprocess import to_model_input
from moodlens.labels import EMOTIONS

THREE = ("angry", "happy", "sad")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two untrained models that differ in their labels: 7 emotions and 3."""
    folder = tmp_path_factory.mktemp("models")
    paths = {"seven": folder / "seven.h5", "three": folder / "three.h5"}
    save_model(build_model("seed", len(EMOTIONS)), EMOTIONS, paths["seven"])
    save_model(build_model("seed", len(THREE)), THREE, paths["three"])
    return paths


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache of this test's own."""
    monkeypatch.setenv("MOODLENS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def entry(cache: Path, model: bytes) -> Path:
    (path,) = cache.glob(f"{hashlib.sha256(model).hexdigest()}.*.tflite")
    return path


def faces() -> np.ndarray:
    return np.stack([to_model_input(cv2.imread(str(p))) for p in fer_faces("test", "happy", 4)])


@pytest.mark.parametrize("damage", ["empty", "truncated", "another model's conversion"])
def test_a_damaged_cache_entry_is_rebuilt(damage: str, models: dict[str, Path], cache: Path) -> None:
    """detect.py runs (exit 0, nothing on stderr) and the entry is repaired: it scores as a fresh one."""
    model = models["seven"]
    expected = EmotionClassifier(model).scores(faces())
    cached = entry(cache, model.read_bytes())
    good = cached.read_bytes()
    damaged = {"empty": b"", "truncated": good[: len(good) // 2]}
    if damage == "another model's conversion":
        EmotionClassifier(models["three"])
        damaged[damage] = entry(cache, models["three"].read_bytes()).read_bytes()
    cached.write_bytes(damaged[damage])
    outcome = call_script("detect.py", "--no-window", "--source", fer_faces("test", "happy", 1)[0], "--model", model)
    assert (outcome.code, outcome.stderr) == (0, ""), outcome.stderr
    assert len(cached.read_bytes()) == len(good)
    np.testing.assert_allclose(EmotionClassifier(model).scores(faces()), expected, atol=1e-6)


def test_cache_key_labels_and_conversion_come_from_one_read(models: dict[str, Path], cache: Path,
                                                            tmp_path: Path) -> None:
    """The model path is a pipe that serves the 7-class model to its first reader and the 3-class model
    to the next, as a training replacing the file mid-load would: the 7-class model is what loads, under
    its own key; `--model <(curl ...)` works the same way."""
    seven, three = models["seven"].read_bytes(), models["three"].read_bytes()
    pipe = tmp_path / "model_file.h5"
    os.mkfifo(pipe)
    served: list[bytes] = []

    def serve() -> None:
        for data in (seven, three):
            with open(pipe, "wb") as f:  # blocks until a reader opens the pipe
                served.append(data)
                f.write(data)
            time.sleep(2)  # the reader sees the end of the file and closes before the pipe reopens

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    classifier = EmotionClassifier(pipe)
    assert classifier.labels == EMOTIONS and classifier.scores(faces()).shape == (4, 7)
    assert served == [seven], "the model file was read more than once"
    with open(pipe, "rb") as f:  # let the server finish
        f.read()
    server.join(timeout=10)
    interpreter = Interpreter(model_content=entry(cache, seven).read_bytes())
    assert interpreter.get_output_details()[0]["shape"][-1] == 7, "the 3-class model is cached under the 7's key"
    assert len(list(cache.iterdir())) == 1
