"""Analyse many videos and photos: one record per face per analysed frame, in one table.

    moodlens analyze interviews/ --output faces.parquet          # folders are walked recursively
    moodlens analyze files.txt clip.mp4 --output faces.csv --every 5
    moodlens analyze interviews/ --output faces.jsonl --engine ray --address auto

Writes the records (Parquet, CSV or JSON lines, by the extension), a per-file summary beside them
(faces.summary.csv: the share of each emotion) and a plot of the emotions over time for each video
(faces.plots/). Files that cannot be read are reported and skipped; a file reached by two paths (a
link, `..`) is analysed once. Interrupted, a run keeps the files it finished in faces.parquet.parts/,
and the same command goes on from there; a second run with the same --output while one runs is refused.
"""

import argparse
import os
import sys
from pathlib import Path

from moodlens import cli
from moodlens.commands.options import add_detector_options, check_detector_options, detector_spec

ENGINES = ("local", "ray")


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="video, image, folder (walked recursively) or .txt file listing one path a line")
    p.add_argument("--output", type=Path, required=True, help="the records: .parquet, .csv or .jsonl")
    p.add_argument("--every", type=cli.positive_int, default=1, help="analyse every N-th frame of a video (default 1)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: worker processes on this machine (default); ray: actors on a Ray cluster")
    p.add_argument("--workers", type=cli.positive_int, default=None,
                   help="worker processes or Ray actors (default: this machine's CPUs; with --address, the cluster's)")
    p.add_argument("--address", help="Ray cluster to join (for instance auto, or HEAD_IP:6379); default: start "
                                     "a local Ray (--engine ray only)")
    add_detector_options(p)
    args = p.parse_args(argv)
    check_detector_options(p, args)
    if args.address and args.engine != "ray":
        p.error("--address: only with --engine ray")
    return args


def start_engine(args: argparse.Namespace, spec, choice, files: int):
    """The engine the options ask for, with no more workers than `files` to analyse."""
    from moodlens.batch.engines import LocalEngine, RayEngine

    if args.engine == "ray":
        return RayEngine(spec, choice, args.workers, args.address, files)
    return LocalEngine(spec, choice, min(args.workers or os.cpu_count() or 1, files))


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    from moodlens.batch.analyze import FrameChoice, find_files, settings_of
    from moodlens.batch.parts import WorkFolder
    from moodlens.batch.runner import plots_path, run_batch, write_outputs
    from moodlens.batch.tables import check_format, summary_path
    from moodlens.errors import MoodlensError
    from moodlens.media.outputs import check_writable

    check_format(args.output)
    check_writable(args.output, "records")
    spec = detector_spec(args, threads=1).absolute()  # one thread per worker: the workers are the parallelism
    labels = spec.build().labels  # a bad model or cascade is refused here, once; the TFLite cache is filled
    plots = plots_path(args.output).absolute()  # a re-run in the same folder does not analyse its own plots
    files = [str(f) for f in find_files(args.sources) if not f.is_relative_to(plots)]
    if not files:
        raise MoodlensError(f"no videos or images in {' '.join(args.sources)}")
    choice = FrameChoice(args.every, args.smooth, args.redetect)
    with WorkFolder(args.output, settings_of(spec, choice)) as work:  # locked: one run per output at a time
        batch = run_batch(files, work, lambda todo: start_engine(args, spec, choice, todo))
        summary = write_outputs(batch, labels, args.output, work)
        work.remove()
    if batch.bad:
        print(f"{len(batch.bad)} file(s) could not be analysed (also in the summary):", file=sys.stderr)
        for result in batch.bad:
            print(f"  {result.error}", file=sys.stderr)
    print(batch.line(summary))
    written = [args.output, summary_path(args.output)]
    if any(row["kind"] == "video" for row in summary):
        written.append(plots_path(args.output))
    print(f"wrote {', '.join(map(str, written))}")
