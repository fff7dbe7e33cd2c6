"""Export the model for a mobile app: a self-contained .tflite with int8 weights and its label order.

    python export.py --format tflite                          # model_file.tflite + model_file.labels.txt
    python export.py --format tflite --model my.h5 --output app/emotions.tflite

The same as `moodlens export`; `python export.py --help` lists the options.
"""

from moodlens import cli

cli.quiet_tensorflow()

from moodlens.commands.export import main  # noqa: E402  (after quiet_tensorflow)

if __name__ == "__main__":
    cli.run(main)
