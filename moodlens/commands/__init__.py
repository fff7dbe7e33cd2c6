"""The `moodlens` command: one subcommand per task, each a module of this package with a `main(argv)`.

    moodlens detect --source clip.mp4 --log faces.jsonl
    moodlens analyze videos/ --output faces.parquet
    moodlens train --data ../shared/fer2013

A subcommand's module is imported only when it runs, so an optional extra that is not installed
(Ray, the server's libraries) costs nothing to the others. The top-level scripts (detect.py,
train.py, evaluate.py) call the same modules.
"""

import importlib
import sys
from dataclasses import dataclass

from moodlens import cli


@dataclass(frozen=True)
class Command:
    module: str
    summary: str
    interrupted_note: str = ""
    extra: str = ""  # the pip extra its imports need, named when they are missing


COMMANDS = {
    "detect": Command("moodlens.commands.detect", "emotions on a webcam, video, photo or folder, live or headless"),
    "analyze": Command("moodlens.commands.analyze",
                       "batch analysis of many videos and photos into one Parquet, CSV or JSONL table",
                       "the files finished so far are kept; the same command again goes on from there"),
    "train": Command("moodlens.commands.train", "train the emotion CNN on 48x48 faces",
                     "the best epoch so far is in the output model; continue with --resume"),
    "evaluate": Command("moodlens.commands.evaluate", "accuracy, per-class figures and confusion matrix of a model"),
    "serve": Command("moodlens.commands.serve", "the web page and HTTP API: emotions from a browser's camera",
                     extra="serve"),
    "export": Command("moodlens.commands.export", "the model as a .tflite with its labels, for mobile apps"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return ("usage: moodlens COMMAND [options]   (moodlens COMMAND --help for its options)\n\ncommands:\n"
            + "\n".join(lines))


def run_command(name: str, argv: list[str] | None = None, prog: str | None = None) -> None:
    """Run one command as its script or `moodlens NAME` does: quiet start-up, its module imported (a
    missing extra said in one line), its main under cli.run (one-line errors, exit codes)."""
    command = COMMANDS[name]
    cli.quiet_tensorflow()
    try:
        module = importlib.import_module(command.module)
    except ImportError as exc:
        if not command.extra or (exc.name or "").startswith("moodlens"):
            raise
        cli.fail(f"moodlens {name} needs {exc.name}: pip install 'moodlens[{command.extra}]'")
    cli.run(lambda: module.main(argv, prog=prog), command.interrupted_note)


def main(argv: list[str] | None = None) -> None:
    """`moodlens COMMAND ARGS...`: the command's own parser reads ARGS."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        sys.exit(0 if argv else cli.EXIT_ERROR)
    name, args = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"{usage()}\n\nerror: unknown command {name!r}", file=sys.stderr)
        sys.exit(cli.EXIT_ERROR)
    run_command(name, args, prog=f"moodlens {name}")
