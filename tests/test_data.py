"""Loading labelled faces (folders and FER2013's CSV) and the tf.data training pipeline."""

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodlens.emotions.preprocess import to_model_input
from moodlens.labels import EMOTIONS
from moodlens.training.data import Split, load_fer2013_csv, load_folder_split, load_training_data

# FER2013's CSV numbers its emotions in its own order (written out here, not imported, on purpose).
CSV_EMOTION = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}


def gray(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def copy_classes(source_split: Path, target_split: Path, classes: list[str], count: int = 3) -> None:
    for emotion in classes:
        (target_split / emotion).mkdir(parents=True)
        for face in sorted((source_split / emotion).iterdir())[:count]:
            shutil.copy(face, target_split / emotion / face.name)


# --- folders ---------------------------------------------------------------------------------------


def test_folder_split_counts_faces_per_class(tiny_data: Path) -> None:
    split = load_folder_split(tiny_data / "train")
    assert len(split) == 15 * 7
    assert split.counts() == dict.fromkeys(EMOTIONS, 15)


def test_labels_follow_the_fixed_emotion_order(tiny_data: Path) -> None:
    split = load_folder_split(tiny_data / "train")
    assert split.labels == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    first_happy = sorted((tiny_data / "train" / "happy").iterdir())[0]
    np.testing.assert_array_equal(split.x[split.y == 3][0], to_model_input(gray(first_happy)))


def test_faces_are_48x48x1_float32_in_unit_range(tiny_data: Path) -> None:
    split = load_folder_split(tiny_data / "test")
    assert split.x.shape == (5 * 7, 48, 48, 1)
    assert split.x.dtype == np.float32
    assert 0.0 <= split.x.min() and split.x.max() <= 1.0
    assert split.y.dtype == np.int32


def test_subset_of_classes_gives_subset_label_order(tiny_data: Path, tmp_path: Path) -> None:
    copy_classes(tiny_data / "train", tmp_path, ["surprise", "angry", "happy"])
    split = load_folder_split(tmp_path)
    assert split.labels == ("angry", "happy", "surprise")
    assert split.counts() == {"angry": 3, "happy": 3, "surprise": 3}


def test_validation_split_uses_the_training_label_order(tiny_data: Path, tmp_path: Path) -> None:
    copy_classes(tiny_data / "train", tmp_path / "train", ["angry", "happy", "surprise"])
    copy_classes(tiny_data / "test", tmp_path / "test", ["surprise"])  # validation lacks two classes
    train, validation = load_training_data(tmp_path)
    assert validation.labels == train.labels == ("angry", "happy", "surprise")
    assert validation.y.tolist() == [2, 2, 2]


def write_variants(face: np.ndarray, folder: Path) -> dict[str, np.ndarray]:
    """The same face as colour, BGRA, 16-bit, larger and smaller images."""
    folder.mkdir(parents=True)
    bgr = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    variants = {
        "colour_2x.png": cv2.resize(bgr, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST),
        "bgra_3x.png": cv2.resize(cv2.cvtColor(face, cv2.COLOR_GRAY2BGRA), None, fx=3, fy=3,
                                  interpolation=cv2.INTER_NEAREST),
        "gray_16bit.png": face.astype(np.uint16) * 257,
        "colour_100x80.jpg": cv2.resize(bgr, (80, 100)),
        "gray_30x30.bmp": cv2.resize(face, (30, 30), interpolation=cv2.INTER_AREA),
    }
    for name, image in variants.items():
        assert cv2.imwrite(str(folder / name), image)
    return variants


def test_images_of_any_size_and_colour_become_48x48_gray(tiny_data: Path, tmp_path: Path) -> None:
    face = gray(sorted((tiny_data / "test" / "sad").iterdir())[0])
    write_variants(face, tmp_path / "sad")
    split = load_folder_split(tmp_path)
    assert split.x.shape == (5, 48, 48, 1) and split.x.dtype == np.float32
    assert 0.0 <= split.x.min() and split.x.max() <= 1.0
    assert split.labels == ("sad",)


def test_integer_upscaled_colour_face_loads_as_the_original_pixels(tiny_data: Path, tmp_path: Path) -> None:
    face = gray(sorted((tiny_data / "test" / "fear").iterdir())[0])
    write_variants(face, tmp_path / "fear")
    split = load_folder_split(tmp_path)
    by_name = dict(zip(sorted(p.name for p in (tmp_path / "fear").iterdir()), split.x[:, :, :, 0]))
    for name in ("colour_2x.png", "bgra_3x.png", "gray_16bit.png"):
        np.testing.assert_allclose(by_name[name], to_model_input(face)[:, :, 0], atol=1e-6, err_msg=name)


# --- FER2013 CSV -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fer_csv(fer2013: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A small `emotion,pixels,Usage` CSV of real faces: per CSV emotion 2 Training, 1 PublicTest, 1 PrivateTest."""
    rows = []
    for code, emotion in CSV_EMOTION.items():
        faces = sorted((fer2013 / "train" / emotion).iterdir())[:4]
        for face, usage in zip(faces, ("Training", "Training", "PublicTest", "PrivateTest")):
            rows.append({"emotion": code, "pixels": " ".join(map(str, gray(face).ravel())), "Usage": usage,
                         "file": face})
    path = tmp_path_factory.mktemp("csv") / "fer2013.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["emotion", "pixels", "Usage"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path, rows


def test_csv_training_rows_train_and_public_test_rows_validate(fer_csv: tuple[Path, list[dict]]) -> None:
    path, _ = fer_csv
    train, validation = load_training_data(path)  # what train.py --data fer2013.csv calls
    assert len(train) == 14 and len(validation) == 7  # the 7 PrivateTest rows are left out
    assert train.labels == validation.labels == EMOTIONS


def test_csv_emotion_numbers_map_to_our_label_order(fer_csv: tuple[Path, list[dict]]) -> None:
    path, rows = fer_csv
    train, _ = load_fer2013_csv(path)
    expected = [EMOTIONS.index(CSV_EMOTION[r["emotion"]]) for r in rows if r["Usage"] == "Training"]
    assert train.y.tolist() == expected
    assert train.counts() == dict.fromkeys(EMOTIONS, 2)


def test_csv_pixels_become_the_same_input_as_the_jpg(fer_csv: tuple[Path, list[dict]]) -> None:
    path, rows = fer_csv
    _, validation = load_fer2013_csv(path)
    public = [r for r in rows if r["Usage"] == "PublicTest"]
    from_files = np.stack([to_model_input(gray(r["file"])) for r in public])
    assert validation.x.shape == (7, 48, 48, 1) and validation.x.dtype == np.float32
    np.testing.assert_array_equal(validation.x, from_files)


# --- tf.data pipeline ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seven_faces(tiny_data: Path) -> Split:
    """One real face per emotion; label i is face i, so one-hot labels identify the faces."""
    split = load_folder_split(tiny_data / "test")
    x = np.stack([split.x[split.y == i][0] for i in range(7)])
    return Split(x, np.arange(7, dtype=np.int32), EMOTIONS)


def epoch(dataset) -> tuple[np.ndarray, np.ndarray]:
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def test_dataset_yields_face_batches_with_one_hot_labels(seven_faces: Split) -> None:
    from moodlens.training.pipeline import make_dataset

    shapes = [(x.shape, y.shape, y.dtype) for x, y in make_dataset(seven_faces, 4, training=True, seed=1)]
    assert [(tuple(xs), tuple(ys)) for xs, ys, _ in shapes] == [((4, 48, 48, 1), (4, 7)), ((3, 48, 48, 1), (3, 7))]
    _, labels = epoch(make_dataset(seven_faces, 4, training=True, seed=1))
    assert set(labels.ravel().tolist()) == {0.0, 1.0} and labels.sum(axis=1).tolist() == [1.0] * 7


def test_validation_batches_are_the_faces_unchanged_and_in_order(seven_faces: Split) -> None:
    from moodlens.training.pipeline import make_dataset

    x, y = epoch(make_dataset(seven_faces, 4, training=False))
    np.testing.assert_array_equal(x, seven_faces.x)
    np.testing.assert_array_equal(y, np.eye(7, dtype=np.float32))


def test_training_batches_are_augmented(seven_faces: Split) -> None:
    from moodlens.training.pipeline import make_dataset

    x, y = epoch(make_dataset(seven_faces, 4, training=True, seed=1))
    originals = seven_faces.x[y.argmax(axis=1)]
    change = np.abs(x - originals).mean(axis=(1, 2, 3))
    assert (change > 0.01).all(), f"mean absolute change per face {change}"
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_training_batches_are_reshuffled_each_epoch(seven_faces: Split) -> None:
    from moodlens.training.pipeline import make_dataset

    dataset = make_dataset(seven_faces, 4, training=True, seed=1)
    orders = [tuple(epoch(dataset)[1].argmax(axis=1)) for _ in range(3)]
    assert all(sorted(order) == list(range(7)) for order in orders)  # every face once per epoch
    assert len(set(orders)) > 1, f"the same order every epoch: {orders[0]}"


def test_augmentations_draw_independent_random_numbers(seven_faces: Split) -> None:
    """Each layer has its own random stream: flip is not tied to the angle's sign, nor zoom to the angle."""
    from moodlens.training.pipeline import augmenter

    flip, rotate, zoom = augmenter(seed=1337).layers[:3]
    batch = np.repeat(seven_faces.x, 40, axis=0)  # 280 faces
    flips = np.asarray(flip.get_random_transformation(batch, training=True)["flips"]).ravel()
    angles = np.asarray(rotate.get_random_transformation(batch, training=True)["angle"]).ravel()
    zooms = np.asarray(zoom.get_random_transformation(batch, training=True)["height_zoom"]).ravel()
    flip_vs_sign = np.corrcoef(flips.astype(float), np.sign(angles))[0, 1]
    zoom_vs_angle = np.corrcoef(zooms, angles)[0, 1]
    assert abs(flip_vs_sign) < 0.2, f"flip follows the angle's sign (r = {flip_vs_sign:.2f})"
    assert abs(zoom_vs_angle) < 0.2, f"zoom follows the angle (r = {zoom_vs_angle:.2f})"
