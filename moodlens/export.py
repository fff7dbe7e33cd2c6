"""The model for a phone or any LiteRT runtime: one self-contained .tflite, int8 weights, labels inside.

The conversion is detect.py's own (`tflite.convert`: the model loaded in safe mode, weights stored
as int8), so the exported file scores faces exactly as detect.py's TFLite path does.

    input   float32 [N, 48, 48, 1]: a face, gray, 48x48, values in [0, 1] (`preprocess.to_model_input`)
    output  float32 [N, labels]: one probability per label, in the label order

The label order is stored twice: in the file's metadata under LABELS_METADATA (a JSON list), and in
a text file beside it, one label a line, as Android's and MediaPipe's samples expect.
"""

import json
from pathlib import Path

from moodlens.emotions.modelio import read_labels
from moodlens.emotions.tflite import NamedBytes, convert, read_model_bytes
from moodlens.errors import MoodlensError
from moodlens.media.files import replaced
from moodlens.media.outputs import check_writable, named

LABELS_METADATA = "moodlens_labels"


def labels_path(output: Path) -> Path:
    """The labels file written beside an exported model: model.tflite -> model.labels.txt."""
    return output.with_suffix(".labels.txt")


def with_labels(tflite: bytes, labels: tuple[str, ...]) -> bytes:
    """The TFLite flatbuffer with the label order added as a metadata entry named LABELS_METADATA."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(list(labels)).encode())
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = LABELS_METADATA, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def stored_labels(tflite: bytes) -> tuple[str, ...]:
    """The label order stored in an exported file's metadata; read with LiteRT's schema, no TensorFlow."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(tflite, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name().decode() == LABELS_METADATA:
            return tuple(json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()))
    raise MoodlensError(f"no {LABELS_METADATA} metadata in this TFLite file (not exported by export.py?)")


def export_tflite(model_path: Path, output: Path) -> tuple[Path, tuple[str, ...]]:
    """Write `output` (.tflite) and its labels file; returns the labels file and the labels.

    Both files are written whole or not at all; earlier ones stay until the new ones are complete."""
    if output.suffix.lower() != ".tflite":
        raise MoodlensError(f"--output {output}: expected a name ending in .tflite")
    check_writable(output, "model")
    data = read_model_bytes(model_path)
    labels = read_labels(NamedBytes(data, model_path))
    tflite = with_labels(convert(data, model_path), labels)
    text = labels_path(output)
    try:
        with replaced(output) as tmp_model, replaced(text) as tmp_labels:
            tmp_model.write_bytes(tflite)
            tmp_labels.write_text("\n".join(labels) + "\n")
    except OSError as exc:
        raise named(exc, output) from None
    return text, labels
