"""One preprocessing path: a face gets the same model input, and scores, in detection as in evaluation."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from moodlens.detector import EmotionDetector
from moodlens.emotions.classifier import EmotionClassifier
from moodlens.emotions.preprocess import crop_face, face_crop, square_box, to_gray, to_model_input
from moodlens.training.data import load_folder_split


def gray(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def classifier(tiny_model) -> EmotionClassifier:
    return EmotionClassifier(tiny_model.path)


def scores_from_folder(folder: Path, classifier: EmotionClassifier) -> np.ndarray:
    """The evaluation path: image files -> load_folder_split -> classifier.scores."""
    return classifier.scores(load_folder_split(folder, classifier.labels).x)


def test_48x48_gray_face_is_only_equalized_and_scaled_to_unit_range(fer2013: Path) -> None:
    face = gray(sorted((fer2013 / "test" / "happy").iterdir())[0])
    model_input = to_model_input(face)
    assert model_input.shape == (48, 48, 1) and model_input.dtype == np.float32
    np.testing.assert_array_equal(model_input[:, :, 0], cv2.equalizeHist(face).astype(np.float32) / 255)


def test_a_dim_low_contrast_face_reaches_the_model_like_the_original(fer2013: Path) -> None:
    face = gray(sorted((fer2013 / "test" / "angry").iterdir())[0])
    dim = (face * 0.4 + 20).astype(np.uint8)  # a badly lit camera crop of the same face
    assert np.abs(dim.astype(float) - face).mean() > 40
    assert np.abs(to_model_input(dim) - to_model_input(face)).mean() < 0.03


def test_gray_bgr_and_bgra_copies_of_a_face_give_the_same_input(fer2013: Path) -> None:
    face = gray(sorted((fer2013 / "test" / "sad").iterdir())[0])
    expected = to_model_input(face)
    for code in (cv2.COLOR_GRAY2BGR, cv2.COLOR_GRAY2BGRA):
        np.testing.assert_array_equal(to_model_input(cv2.cvtColor(face, code)), expected)


def test_square_box_grows_by_the_margin_and_stays_in_the_frame() -> None:
    assert square_box((40, 30, 50, 50), 0.1, (200, 300)) == (35, 25, 60, 60)
    assert square_box((0, 0, 50, 40), 0.1, (200, 300)) == (0, 0, 60, 60)  # shifted in, not cut
    assert square_box((250, 150, 50, 50), 0.25, (200, 300)) == (225, 125, 75, 75)
    assert square_box((10, 10, 90, 90), 1.0, (100, 300)) == (5, 0, 100, 100)  # never larger than the frame


def test_crop_face_cuts_the_square_box_out_of_the_frame() -> None:
    frame = np.arange(200 * 300, dtype=np.int32).reshape(200, 300)
    np.testing.assert_array_equal(crop_face(frame, (40, 30, 50, 50), 0.1), frame[25:85, 35:95])


def face_frame(fer2013: Path, detector: EmotionDetector) -> tuple[Path, np.ndarray]:
    """The first FER2013 test face that the cascade finds once when shown twice as large, in colour."""
    for path in sorted((fer2013 / "test" / "happy").iterdir())[:20]:
        frame = cv2.cvtColor(cv2.resize(gray(path), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST),
                             cv2.COLOR_GRAY2BGR)
        if len(detector.faces.find(to_gray(frame))) == 1:
            return path, frame
    pytest.fail("the cascade found none of the first 20 happy test faces at 96x96")


def test_fer_face_scores_the_same_through_detection_and_evaluation(fer2013: Path, tiny_model, classifier,
                                                                   tmp_path: Path) -> None:
    # the cascade's box with a margin that takes the crop to the whole frame
    detector = EmotionDetector(tiny_model.path, margin=0.5, detector="haar")
    path, frame = face_frame(fer2013, detector)
    (found,) = detector.detect(frame)
    assert square_box(found.box, detector.margin, frame.shape) == (0, 0, 96, 96)

    (tmp_path / "happy").mkdir()
    (tmp_path / "happy" / path.name).write_bytes(path.read_bytes())
    (expected,) = scores_from_folder(tmp_path, classifier)
    np.testing.assert_allclose([found.scores[k] for k in classifier.labels], expected, atol=1e-6)
    assert found.emotion == classifier.labels[int(np.argmax(expected))]


@pytest.mark.parametrize("finder, framing", [("yunet", "box"), ("yunet", "aligned"), ("haar", "box")])
def test_face_found_in_a_photo_scores_the_same_saved_as_an_image_file(media: Path, tiny_model, classifier,
                                                                      tmp_path: Path, finder: str,
                                                                      framing: str) -> None:
    """The crop the detector scores is the face as its model learned it: YuNet's face aligned on its eyes
    for a model trained aligned (train.py --align), else the box grown by the margin."""
    detector = EmotionDetector(tiny_model.path, detector=finder)
    detector.classifier.framing = framing  # as read from a model file trained that way
    frame = cv2.imread(str(media / "fr_obama.jpg"))
    (found,) = detector.detect(frame)
    crop = detector.crop(to_gray(frame), found.box)
    np.testing.assert_array_equal(crop, face_crop(to_gray(frame), found.box, detector.margin, framing == "aligned"))
    assert crop.shape == (48, 48) if framing == "aligned" else crop.shape[0] == crop.shape[1] > 48
    (tmp_path / "neutral").mkdir()
    assert cv2.imwrite(str(tmp_path / "neutral" / "face.png"), crop)
    (expected,) = scores_from_folder(tmp_path, classifier)
    np.testing.assert_allclose([found.scores[k] for k in classifier.labels], expected, atol=1e-6)


def test_classify_on_raw_crops_equals_scores_on_model_inputs(media: Path, classifier) -> None:
    photo = cv2.imread(str(media / "fr_two_people.jpg"))
    crops = [photo[100:300, 200:400], photo[50:98, 600:648], cv2.cvtColor(photo[0:30, 0:40], cv2.COLOR_BGR2GRAY)]
    expected = classifier.scores(np.stack([to_model_input(c) for c in crops]))
    np.testing.assert_allclose(classifier.classify(crops), expected, atol=1e-6)
    assert classifier.classify([]).shape == (0, 7)


def test_colour_image_file_loads_as_the_detector_sees_the_same_pixels(media: Path, tmp_path: Path) -> None:
    crop = cv2.imread(str(media / "fr_obama.jpg"))[300:600, 250:550]
    (tmp_path / "happy").mkdir()
    assert cv2.imwrite(str(tmp_path / "happy" / "face.png"), crop)  # lossless: the same BGR pixels
    np.testing.assert_array_equal(load_folder_split(tmp_path).x[0], to_model_input(crop))


def test_int8_tflite_path_agrees_with_the_float_model_on_real_faces(fer2013: Path) -> None:
    # The committed model: quantization is judged on a trained network, where it matters.
    model = Path(__file__).resolve().parents[1] / "model_file.h5"
    faces = np.stack([to_model_input(gray(path)) for emotion in ("angry", "fear", "happy", "sad", "surprise")
                      for path in sorted((fer2013 / "test" / emotion).iterdir())[:20]])
    quantized = EmotionClassifier(model, backend="tflite").scores(faces)
    exact = EmotionClassifier(model, backend="tf").scores(faces)
    assert np.abs(quantized - exact).max() < 0.05
    assert (quantized.argmax(axis=1) == exact.argmax(axis=1)).mean() >= 0.97


def test_default_scores_average_each_face_with_its_mirror_image(fer2013: Path, tiny_model) -> None:
    faces = np.stack([to_model_input(gray(path)) for path in sorted((fer2013 / "test" / "sad").iterdir())[:10]])
    plain = EmotionClassifier(tiny_model.path, tta=False)
    mirrored = plain.scores(faces[:, :, ::-1])
    np.testing.assert_allclose(EmotionClassifier(tiny_model.path).scores(faces), (plain.scores(faces) + mirrored) / 2,
                               atol=1e-6)
    assert np.abs(plain.scores(faces) - mirrored).max() > 1e-4  # the mirror really is another input
