"""Export the model for a mobile app: a self-contained .tflite with int8 weights and its label order.

    python export.py --format tflite                          # model_file.tflite + model_file.labels.txt
    python export.py --format tflite --model my.h5 --output app/emotions.tflite
"""

import argparse
from pathlib import Path

from moodlens import cli

cli.quiet_tensorflow()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", choices=("tflite",), default="tflite", help="what to write (default tflite)")
    p.add_argument("--model", type=Path, default=Path("model_file.h5"), help="model file (default: model_file.h5)")
    p.add_argument("--output", type=Path, help="file to write (default: the model's name with .tflite)")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    from moodlens.export import export_tflite

    output = args.output or args.model.with_suffix(".tflite")
    labels_file, labels = export_tflite(args.model, output)
    print(f"wrote {output} ({output.stat().st_size / 2**20:.1f} MiB, int8 weights) and {labels_file}: "
          f"input float32 [N, 48, 48, 1] gray in [0, 1], output float32 [N, {len(labels)}] "
          f"probabilities of {', '.join(labels)}")


if __name__ == "__main__":
    cli.run(main)
