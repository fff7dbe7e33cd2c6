"""Running a batch: skip the files an interrupted run finished, analyse the rest on an engine with a
progress bar, then write the records, the per-file summary and a plot per video."""

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from moodlens.analyze import FileResult, WorkFolder, frames_in
from moodlens.errors import MoodlensError
from moodlens.plots import plot_emotions_over_time
from moodlens.tables import summary_path, summary_row, write_csv, write_records


class Engine(Protocol):
    description: str  # what runs the batch, said once at the start

    def results(self, files: list[str], on_progress: Callable[[str, int], None]) -> Iterator[FileResult]: ...

    def close(self) -> None: ...


@dataclass
class Batch:
    results: list[FileResult]  # in the order the files were given
    resumed: int  # files an earlier, interrupted run had finished
    seconds: float  # wall time of this run's analysis

    @property
    def bad(self) -> list[FileResult]:
        return [r for r in self.results if r.error]

    def line(self) -> str:
        """What the batch did and how fast: video-seconds analysed per second of wall time."""
        good = [r for r in self.results if not r.error]
        video = sum(r.duration for r in good)
        rate = f", {video / self.seconds:.1f} video-seconds/s" if self.seconds and video else ""
        resumed = f" ({self.resumed} finished by an earlier run)" if self.resumed else ""
        return (f"{len(good)} of {len(self.results)} files analysed{resumed}: {sum(r.frames for r in good)} frames, "
                f"{sum(len(r.records) for r in good)} faces, {video:.1f} s of video in {self.seconds:.1f} s{rate}")


class FrameProgress:
    """A bar over the frames of all files, counted from each file's header, with files done alongside."""

    def __init__(self, files: list[str]):
        self.expected = {f: max(frames_in(Path(f)), 1) for f in files}
        self.read = dict.fromkeys(files, 0)
        self.files, self.done = len(files), 0
        self.bar = tqdm(total=sum(self.expected.values()), unit="frame", file=sys.stderr, dynamic_ncols=True,
                        mininterval=0.5, desc=self.description())

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


def run_batch(files: list[str], work: WorkFolder, start_engine: Callable[[], Engine]) -> Batch:
    """Analyse `files`, skipping those with a part in `work`; each result is saved as it arrives."""
    done = {f: r for f in files if (r := work.load(f)) is not None}
    todo = [f for f in files if f not in done]
    if done:
        print(f"resuming: {len(done)} of {len(files)} files already done in {work.path}", file=sys.stderr)
    start = time.perf_counter()
    if todo:
        progress = FrameProgress(todo)
        engine = start_engine()
        progress.say(engine.description)
        try:
            for result in engine.results(todo, progress.advance):
                if result.error:
                    progress.say(f"skipped: {result.error}")
                else:
                    work.save(result)
                done[result.path] = result
                progress.finish(result.path)
        finally:
            engine.close()
            progress.close()
    return Batch([done[f] for f in files], len(files) - len(todo), time.perf_counter() - start)


def plot_name(result: FileResult, work: WorkFolder) -> str:
    """The plot's file name: the part's, so two videos of the same name in different folders do not clash."""
    return work.part(result.path).with_suffix(".png").name


def write_outputs(batch: Batch, labels: tuple[str, ...], output: Path, work: WorkFolder) -> list[Path]:
    """The records, the summary and a plot per video; returns what was written."""
    good = [r for r in batch.results if not r.error]
    if not good:
        raise MoodlensError(f"none of the {len(batch.results)} files could be analysed")
    write_records([rec for r in good for rec in r.records], labels, output)
    summary = summary_path(output)
    rows = [summary_row(r.path, r.kind, r.frames, r.duration, r.records, r.error, labels) for r in batch.results]
    write_csv(rows, list(rows[0]), summary)
    written = [output, summary]
    videos = [r for r in good if r.kind == "video"]
    if videos:
        plots = output.with_name(f"{output.stem}.plots")
        plots.mkdir(exist_ok=True)
        for r in videos:
            plot_emotions_over_time(r.records, labels, r.path, plots / plot_name(r, work))
        written.append(plots)
    return written
