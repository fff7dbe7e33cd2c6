"""Split a labelled photo folder by person, so no performer is both trained on and measured.

    python -m moodlens.training.group_split ../shared/posed/taiwanese ../posed_split --hold-out 10

makes `../posed_split/train/<emotion>/` and `../posed_split/held_out/<emotion>/` of links to the
photos; the group of a photo is the start of its file name (two digits of performer id in the posed
set). The held-out groups are drawn at random with `--seed`, and listed in `held_out.txt`.
"""

import argparse
import random
from pathlib import Path

from moodlens.training.data import labelled_files


def group_split(source: Path, dest: Path, hold_out: int, group_chars: int = 2, seed: int = 0) -> list[str]:
    """Link each photo of `source/<emotion>/` into `dest/train` or `dest/held_out`; returns the held-out groups."""
    files, y, labels = labelled_files(source)
    held = held_out_groups(files, hold_out, group_chars, seed)
    for path, label in zip(files, y):
        part = "held_out" if path.name[:group_chars] in held else "train"
        link = dest / part / labels[label] / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(path.resolve())
    (dest / "held_out.txt").write_text("\n".join(held) + "\n")
    return held


def held_out_groups(files: list[Path], hold_out: int, group_chars: int = 2, seed: int = 0) -> list[str]:
    """The groups (file-name prefixes) drawn to be held out, sorted."""
    groups = sorted({f.name[:group_chars] for f in files})
    if not 0 < hold_out < len(groups):
        raise SystemExit(f"error: --hold-out must be between 1 and {len(groups) - 1} ({len(groups)} groups)")
    return sorted(random.Random(seed).sample(groups, hold_out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, help="folder of <emotion>/ photos")
    p.add_argument("dest", type=Path, help="folder to create train/ and held_out/ in")
    p.add_argument("--hold-out", type=int, default=10, help="groups (performers) to hold out (default 10)")
    p.add_argument("--group-chars", type=int, default=2, help="file-name characters naming the group (default 2)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    held = group_split(args.source, args.dest, args.hold_out, args.group_chars, args.seed)
    print(f"held out: {', '.join(held)}")


if __name__ == "__main__":
    main()
