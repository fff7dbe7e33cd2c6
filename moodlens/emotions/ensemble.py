"""Several trained models as ONE model file: each face goes through every member and their
probabilities are averaged inside the graph, so detect.py, evaluate.py and the TFLite path load and
call it as they do any model file. It costs one member's time per member.

    python -m moodlens.emotions.ensemble runs/a/model_file.h5 runs/b/model_file.h5 --output ensemble.h5
"""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from moodlens import cli
from moodlens.errors import MoodlensError

if TYPE_CHECKING:
    import keras


def build_ensemble(paths: list[Path]) -> tuple["keras.Model", tuple[str, ...]]:
    """One model averaging the probabilities of the model files in `paths` (same labels, in the same order,
    and the same framing), with its labels and framing."""
    import keras

    from moodlens.emotions.modelio import load_model, read_framing, read_labels
    from moodlens.emotions.preprocess import INPUT_SHAPE

    if len(paths) < 2:
        raise MoodlensError(f"an ensemble needs at least 2 model files, received {len(paths)}")
    labels = read_labels(paths[0])
    for path in paths[1:]:  # before any model loads: a mismatch is said at once
        if (theirs := read_labels(path)) != labels:
            raise MoodlensError(f"model {path} has labels {', '.join(theirs)}; {paths[0]} has {', '.join(labels)}")
    framing = read_framing(paths[0])
    for path in paths[1:]:
        if (theirs := read_framing(path)) != framing:
            raise MoodlensError(f"model {path} learned {theirs} faces; {paths[0]} learned {framing} faces")
    faces = keras.Input(INPUT_SHAPE)
    outputs = []
    for i, path in enumerate(paths):
        model, _ = load_model(path)
        model.name = f"member_{i}"  # members trained with one recipe share a name; a model's layers may not
        outputs.append(model(faces))
    return keras.Model(faces, keras.layers.Average()(outputs), name="ensemble"), labels, framing


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", type=Path, nargs="+", help="model files written by train.py (.h5)")
    p.add_argument("--output", type=Path, required=True, help="the ensemble's model file to write (.h5)")
    args = p.parse_args(argv)
    from moodlens.emotions.modelio import save_model
    from moodlens.media.outputs import check_writable

    check_writable(args.output, "ensemble")
    model, labels, framing = build_ensemble(args.models)
    save_model(model, labels, args.output, framing)
    print(f"wrote {args.output}: the average of {len(args.models)} models ({model.count_params():,} parameters)")


if __name__ == "__main__":
    cli.quiet_tensorflow()
    cli.run(main)
