"""Export the model for a mobile app: a self-contained .tflite with int8 weights and its label order.

    python export.py --format tflite                          # model_file.tflite + model_file.labels.txt
    python export.py --format tflite --model my.h5 --output app/emotions.tflite

The file takes float32 [N, 48, 48, 1]: gray faces, 48x48, in [0, 1]; it gives float32 [N, 7]: one
probability per emotion, in the order of the labels file (also in the file's metadata).
"""

import argparse
from pathlib import Path

from moodlens.commands.options import MODEL_NAME, default_model


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", choices=("tflite",), default="tflite", help="what to write (default tflite)")
    p.add_argument("--model", type=Path, default=None,
                   help=f"model file (default: {MODEL_NAME} in the current folder, else the one shipped with moodlens)")
    p.add_argument("--output", type=Path, help="file to write (default: model_file.tflite in the current folder)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    from moodlens.export import export_tflite

    model = args.model or default_model()
    output = args.output or Path(model.with_suffix(".tflite").name)
    labels_file, labels = export_tflite(model, output)
    print(f"wrote {output} ({output.stat().st_size / 2**20:.1f} MiB, int8 weights) and {labels_file}: "
          f"input float32 [N, 48, 48, 1] gray in [0, 1], output float32 [N, {len(labels)}] "
          f"probabilities of {', '.join(labels)}")
