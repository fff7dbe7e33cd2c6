"""Running a batch: skip the files an interrupted run finished, analyse the rest on an engine with a
progress bar, then write the records, the per-file summary and a plot per video."""

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from moodlens.batch.analyze import FileResult, frames_in
from moodlens.batch.parts import WorkFolder
from moodlens.batch.tables import record_table, summary_path, summary_row, write_csv
from moodlens.errors import MoodlensError
from moodlens.evaluation.plots import plot_emotions_over_time
from moodlens.progress import progress_bar


class Engine(Protocol):
    description: str  # what runs the batch, said once at the start

    def results(self, files: list[str], on_progress: Callable[[str, int], None]) -> Iterator[FileResult]: ...

    def close(self) -> None: ...


@dataclass
class Batch:
    """This run's share of a batch: the files it analysed and failed, and how fast it went."""

    files: list[str]  # every file of the batch, in the order given
    resumed: int = 0  # files an earlier, interrupted run had finished
    analysed: int = 0
    video_seconds: float = 0.0
    seconds: float = 0.0  # wall time of this run's analysis
    bad: list[FileResult] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        if result.error:
            self.bad.append(result)
        else:
            self.analysed += 1
            self.video_seconds += result.duration

    def line(self, summary: list[dict]) -> str:
        """What the batch holds, from its summary rows, and this run's speed in video-seconds per second."""
        done = f"{self.resumed + self.analysed} of {len(self.files)} files analysed"
        earlier = f" ({self.resumed} by an earlier run)" if self.resumed else ""
        found = f"{sum(r['frames'] for r in summary)} frames, {sum(r['faces'] for r in summary)} faces"
        rate = f", {self.video_seconds / self.seconds:.1f} video-seconds/s" if self.seconds else ""
        return f"{done}{earlier}: {found}; this run: {self.video_seconds:.1f} s of video in {self.seconds:.1f} s{rate}"


class FrameProgress:
    """A bar over the frames of all files, counted from each file's header, with files done alongside
    (on a terminal only, as every bar here)."""

    def __init__(self, files: list[str]):
        self.expected = {f: max(frames_in(Path(f)), 1) for f in files}
        self.read = dict.fromkeys(files, 0)
        self.files, self.done = len(files), 0
        self.bar = progress_bar(sum(self.expected.values()), "frame")
        self.bar.set_description(self.description(), refresh=False)

    def description(self) -> str:
        return f"files {self.done}/{self.files}"

    def advance(self, file: str, frames: int) -> None:
        frames = min(frames, self.expected[file])  # headers may undercount
        if frames > self.read[file]:
            self.bar.update(frames - self.read[file])
            self.read[file] = frames

    def finish(self, file: str) -> None:
        self.advance(file, self.expected[file])
        self.done += 1
        self.bar.set_description(self.description(), refresh=False)

    def say(self, line: str) -> None:
        self.bar.write(line, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def run_batch(files: list[str], work: WorkFolder, start_engine: Callable[[int], Engine]) -> Batch:
    """Analyse the `files` that have no readable part in (open) `work` yet, on an engine started for that
    many files; each result is saved as it arrives."""
    todo = [f for f in files if work.load(f) is None]
    batch = Batch(files, resumed=len(files) - len(todo))
    if batch.resumed:
        print(f"resuming: {batch.resumed} of {len(files)} files already done in {work.path}", file=sys.stderr)
    if not todo:
        return batch
    start = time.perf_counter()
    progress = FrameProgress(todo)
    try:
        engine = start_engine(len(todo))
        progress.say(engine.description)
        try:
            for result in engine.results(todo, progress.advance):
                if result.error:
                    progress.say(f"skipped: {result.error}")
                else:
                    work.save(result)
                batch.add(result)
                progress.finish(result.path)
        finally:
            engine.close()
    finally:
        progress.close()  # the bar is cleared, so an error after it reads cleanly
    batch.seconds = time.perf_counter() - start
    return batch


def write_outputs(batch: Batch, labels: tuple[str, ...], output: Path, work: WorkFolder) -> list[dict]:
    """Merge the parts into the records table one file at a time, and draw a plot per video in
    <output>.plots/; write the per-file summary (bad files too) and return its rows."""
    bad = {r.path: r for r in batch.bad}
    if len(bad) == len(batch.files):
        raise MoodlensError(f"none of the {len(batch.files)} files could be analysed")
    summary = []
    with record_table(output, labels) as append:
        for file in batch.files:
            result = bad.get(file) or work.load(file)
            if result is None:  # removed or damaged since the run began
                raise MoodlensError(f"the part of {file} in {work.path} is gone or damaged: the same command "
                                    "again analyses that file again")
            append(result.records)
            summary.append(summary_row(result, labels))
            if result.kind == "video":
                plots_path(output).mkdir(exist_ok=True)
                plot_emotions_over_time(result.records, labels, result.path,
                                        plots_path(output) / plot_name(result, work))
    write_csv(summary, list(summary[0]), summary_path(output))
    return summary


def plots_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.plots")


def plot_name(result: FileResult, work: WorkFolder) -> str:
    """The plot's file name: the part's, short whatever the video's name, and two videos of the same name in
    different folders do not clash."""
    return work.part(result.path).with_suffix(".png").name
