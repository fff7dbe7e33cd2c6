"""Train the emotion CNN on 48x48 grayscale faces and save the best epoch to model_file.h5.

    python train.py                                # data/train/<emotion>/, data/test/<emotion>/
    python train.py --data ../shared/fer2013 --epochs 60 --batch-size 64
    python train.py --data fer2013.csv             # FER2013's original CSV
    python train.py --arch seed                    # the classic tutorial CNN
    python train.py --resume                       # continue an interrupted run
    python train.py --holdout 0.1                  # pick the epoch and fit a temperature on 10 % of train/
    python train.py --init model_file.h5 --lr 5e-4 --output more.h5
                                                   # a new schedule from a trained model's weights
    python train.py --init model_file.h5 --schedule constant --lr 1e-4 --ema 0.999 --output avg.h5
                                                   # then average the weights (validated and saved)
    python train.py --init model_file.h5 --teacher ensemble.h5 --output distilled.h5
                                                   # learn from a teacher's scores too (distillation)
"""

import argparse
import dataclasses
from pathlib import Path

from moodlens import cli


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data"),
                   help="folder with train/ and test/ emotion folders, or FER2013's CSV (default: data)")
    p.add_argument("--output", type=Path, default=Path("model_file.h5"), help="model file to write (.h5)")
    p.add_argument("--arch", choices=("bn", "bn-half", "vgg", "seed"), default="bn",
                   help="bn: two BN convs per block (default); bn-half: the same at half the width (a quarter "
                        "of the work, e.g. for a --teacher's student); vgg: 10 BN convs, a slower teacher to distil; "
                        "seed: the classic tutorial CNN")
    p.add_argument("--epochs", type=cli.positive_int, default=30)
    p.add_argument("--batch-size", type=cli.positive_int, default=32)
    p.add_argument("--lr", type=cli.positive_float, default=1e-3, help="peak learning rate")
    p.add_argument("--schedule", choices=("cosine", "constant"), default=None,
                   help="learning-rate schedule (default: cosine for bn, constant for seed)")
    p.add_argument("--weight-decay", type=float, default=None, help="AdamW decay (default: 1e-4 for bn, 0 for seed)")
    p.add_argument("--label-smoothing", type=cli.fraction, default=None, help="(default: 0.1 for bn, 0 for seed)")
    p.add_argument("--class-weight", choices=("none", "sqrt", "balanced"), default=None,
                   help="lift rare classes in the loss (default: sqrt for bn, none for seed)")
    p.add_argument("--ema", type=cli.fraction, default=0.0, metavar="MOMENTUM",
                   help="validate and save a moving average of the weights (for instance 0.999 with a "
                        "constant --lr 1e-4 after a first run); 0: off (default)")
    p.add_argument("--votes", type=Path, default=None, metavar="CSV",
                   help="annotators' votes per training image (FER+'s ferplus_votes.csv): training targets mix "
                        "each face's label with its vote shares, faces voted 'not a face' are dropped")
    p.add_argument("--votes-weight", type=cli.fraction, default=0.5,
                   help="the votes' share of each target (default 0.5; 1 trains on the votes alone)")
    p.add_argument("--extra", type=Path, action="append", default=[], metavar="FOLDER",
                   help="also train on the largest face of each photo in FOLDER/<emotion>/, found and cropped "
                        "as detect.py does (repeatable)")
    p.add_argument("--extra-repeat", type=cli.positive_int, default=1,
                   help="add each --extra face this many times (default 1)")
    p.add_argument("--extra-width", type=cli.positive_float, default=1.0, metavar="SHARE",
                   help="narrow each --extra photo to this share of its width before its face is found, to undo "
                        "a stretch (default 1; docs/training.md says what 0.96 and 0.8 gave on the posed photos)")
    p.add_argument("--align", action="store_true",
                   help="frame the data's faces by their landmarks (YuNet's, found on each face enlarged), as "
                        "detect.py frames the faces YuNet finds; --extra photos are framed so in any case")
    p.add_argument("--teacher", type=Path, default=None, metavar="MODEL",
                   help="distil: each augmented face's target mixes its own with this model's (or ensemble's, "
                        "see moodlens.emotions.ensemble) probabilities for the same face")
    p.add_argument("--teacher-weight", type=cli.fraction, default=0.5,
                   help="the teacher's share of each target (default 0.5)")
    p.add_argument("--holdout", type=cli.fraction, default=0.0, metavar="FRACTION",
                   help="validate on this share of each class of the training faces (drawn with --seed), not on "
                        "test/, and fit the saved model's temperature on them after the last epoch (e.g. 0.1)")
    p.add_argument("--seed", type=int, default=1337, help="random seed for repeatable runs")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="continue from the checkpoint of an interrupted run")
    start.add_argument("--init", type=Path, default=None,
                       help="start from this model's weights with a new schedule (a warm restart); its "
                            "network and labels are kept (--arch then only picks the recipe's defaults); "
                            "--output holds the new schedule's best epoch")
    p.add_argument("--distribute", choices=("none", "mirrored", "multiworker"), default="none",
                   help="mirrored: tf.distribute.MirroredStrategy over every GPU; multiworker: one model trained "
                        "on several machines, each told its place by TF_CONFIG (docs/batch.md)")
    args = p.parse_args(argv)
    if args.output.suffix != ".h5":
        p.error(f"--output: expected a .h5 file name, received {args.output}")
    if not args.output.absolute().parent.is_dir():  # said now, not after the first epoch
        p.error(f"--output: folder {args.output.absolute().parent} does not exist")
    if args.init is not None and not args.init.is_file():
        p.error(f"--init: model file {args.init} not found")
    for option, model in (("--init", args.init), ("--teacher", args.teacher)):
        if model is not None and model.resolve() == args.output.resolve():
            p.error(f"{option}: {model} is also the output; choose another --output so that model is kept")
    if args.teacher is not None and not args.teacher.is_file():
        p.error(f"--teacher: model file {args.teacher} not found")
    for path, what in [(args.votes, "--votes: file"), *((f, "--extra: folder") for f in args.extra)]:
        if path is not None and not path.exists():
            p.error(f"{what} {path} not found")
    if args.resume and args.distribute == "multiworker":
        p.error("--resume: not with --distribute multiworker (only the chief worker keeps a checkpoint)")
    if args.extra_width > 1:
        p.error(f"--extra-width: expected a share of 1 or less, received {args.extra_width}")
    if args.holdout >= 1:
        p.error(f"--holdout: expected a share below 1, received {args.holdout} (nothing would be left to train on)")
    if args.ema >= 1:
        p.error(f"--ema: expected a momentum below 1, received {args.ema}")
    if args.weight_decay is not None and args.weight_decay < 0:
        p.error(f"--weight-decay: expected 0 or more, received {args.weight_decay}")
    return args


def config_from(args):
    from moodlens.training.loop import TrainConfig

    seed_recipe = args.arch == "seed"  # the classic recipe: plain Adam at a constant rate
    defaults = {
        "schedule": "constant" if seed_recipe else "cosine",
        "weight_decay": 0.0 if seed_recipe else 1e-4,
        "label_smoothing": 0.0 if seed_recipe else 0.1,
        "class_weight": "none" if seed_recipe else "sqrt",
    }
    chosen = {k: defaults[k] if getattr(args, k) is None else getattr(args, k) for k in defaults}
    return TrainConfig(
        data=args.data, output=args.output, arch=args.arch, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed, resume=args.resume, init=args.init,
        ema=args.ema, distribute=args.distribute, votes=args.votes, votes_weight=args.votes_weight,
        extra=tuple(args.extra), extra_repeat=args.extra_repeat, extra_width=args.extra_width,
        holdout=args.holdout, teacher=args.teacher,
        teacher_weight=args.teacher_weight, align=args.align, **chosen,
    )


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    from moodlens.training.trainset import load_training_set

    # Loaded before TensorFlow: bad data is reported in seconds.
    splits = load_training_set(args.data, args.votes, args.votes_weight, tuple(args.extra), args.extra_repeat,
                               args.holdout, args.seed, args.align, args.extra_width)
    from moodlens.training.loop import train

    config = config_from(args)
    if args.distribute == "multiworker":
        from moodlens.training.distribute import worker_output

        with worker_output(config.output) as output:  # only the chief writes where asked
            best = train(dataclasses.replace(config, output=output), splits)
    else:
        best = train(config, splits)
    print(f"best validation accuracy {best:.4f}, model in {args.output}")

