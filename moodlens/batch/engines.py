"""Where a batch runs: worker processes on this machine (local), or actors on a Ray cluster (ray).

Both hand each worker whole files, one at a time, and every worker builds its detector once
(`FileAnalyzer`), so the two give the same records. Results come back as files finish; progress
within a file comes back as it goes.
"""

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

import cv2

from moodlens.batch.analyze import FileResult, FrameChoice, Progress, analyze_file
from moodlens.detector import DetectorSpec
from moodlens.errors import MoodlensError

OnProgress = Callable[[str, int], None]  # (file, frames read so far)
POLL_S = 0.25  # how often the Ray driver collects progress while it waits
LOCAL_RAY_OBJECT_STORE = 256 * 2**20  # bytes: results are a few MB at most; Ray's default takes 30 % of memory


class FileAnalyzer:
    """A worker's detector, built once, and the analysis of one file at a time."""

    def __init__(self, spec: DetectorSpec, choice: FrameChoice):
        cv2.setNumThreads(1)  # the workers are the parallelism; also keeps engines' results identical
        self.detector, self.choice = spec.build(), choice

    def analyze(self, path: str, progress: Progress = lambda frames: None) -> FileResult:
        return analyze_file(self.detector, path, self.choice, progress)


def serve_files(conn: Connection, spec: DetectorSpec, choice: FrameChoice) -> None:
    """A local worker process: paths in, ("progress", frames) and ("done", FileResult) out, until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the driver decides
    try:
        analyzer = FileAnalyzer(spec, choice)
    except MoodlensError as exc:
        conn.send(("fatal", str(exc)))
        return
    while (path := conn.recv()) is not None:
        conn.send(("done", analyzer.analyze(path, lambda frames: conn.send(("progress", frames)))))


@dataclass
class LocalWorker:
    process: BaseProcess
    conn: Connection
    file: str | None = None  # the file it is analysing


class LocalEngine:
    """`workers` processes on this machine (spawned: safe whatever threads the driver runs)."""

    def __init__(self, spec: DetectorSpec, choice: FrameChoice, workers: int):
        self.context = multiprocessing.get_context("spawn")
        self.spec, self.choice = spec, choice
        self.workers = [self.start_worker() for _ in range(workers)]
        self.description = f"local engine: {workers} worker process(es)"

    def start_worker(self) -> LocalWorker:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=serve_files, args=(theirs, self.spec, self.choice), daemon=True)
        process.start()
        theirs.close()
        return LocalWorker(process, ours)

    def results(self, files: list[str], on_progress: OnProgress) -> Iterator[FileResult]:
        todo = deque(files)
        while True:
            for worker in self.workers:
                if worker.file is None and todo:
                    worker.file = todo.popleft()
                    worker.conn.send(worker.file)
            busy = [w for w in self.workers if w.file is not None]
            if not busy:
                return
            ready = wait([w.conn for w in busy])
            for worker in busy:
                if worker.conn in ready:
                    yield from self.receive(worker, on_progress)

    def receive(self, worker: LocalWorker, on_progress: OnProgress) -> Iterator[FileResult]:
        """Handle one message of a busy worker; a worker that died is replaced, its file reported bad."""
        try:
            kind, value = worker.conn.recv()
        except EOFError:
            worker.process.join()
            yield FileResult(worker.file, error=f"{worker.file}: the worker process analysing it died "
                                                f"(exit code {worker.process.exitcode})")
            self.workers[self.workers.index(worker)] = self.start_worker()
            return
        if kind == "fatal":
            raise MoodlensError(value)
        if kind == "progress":
            on_progress(worker.file, value)
        else:
            worker.file = None
            yield value

    def close(self) -> None:
        """Stop the workers: idle ones when told, busy ones (after an interrupt) at once."""
        for worker in self.workers:
            if worker.file is None and worker.process.is_alive():
                worker.conn.send(None)
            else:
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(timeout=10)
            worker.conn.close()


class ReportingAnalyzer(FileAnalyzer):
    """A Ray actor's FileAnalyzer: progress goes to a Ray queue the driver reads."""

    def __init__(self, spec: DetectorSpec, choice: FrameChoice, queue: "ray.util.queue.Queue"):  # noqa: F821
        super().__init__(spec, choice)
        self.queue = queue

    def analyze_reporting(self, path: str) -> FileResult:
        return self.analyze(path, lambda frames: self.queue.put_nowait((path, frames)))


def start_ray(address: str | None, workers: int | None) -> int:
    """Connect to the cluster at `address`, or start a local Ray with `workers` CPUs; the worker count."""
    import ray

    if address:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        return workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
    workers = workers or os.cpu_count() or 1
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             object_store_memory=LOCAL_RAY_OBJECT_STORE)
    return workers


class RayEngine:
    """One actor per worker on a Ray cluster (or a local Ray); each actor loads the model once.

    The files must be readable at the same paths on every node (a shared file system), and the
    model too: moodlens installed in the same place everywhere, or --model on the shared storage.
    """

    def __init__(self, spec: DetectorSpec, choice: FrameChoice, workers: int | None, address: str | None,
                 files: int):
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # before Ray loads: Linux clusters only
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise MoodlensError("--engine ray needs Ray: pip install 'moodlens[ray]'") from None
        self.ray = ray
        count = min(start_ray(address, workers), files)
        self.queue = Queue(actor_options={"num_cpus": 0})
        actor = ray.remote(num_cpus=1)(ReportingAnalyzer)
        self.actors = [actor.remote(spec, choice, self.queue) for _ in range(count)]
        nodes = sum(node["Alive"] for node in ray.nodes())
        self.description = f"ray engine: {count} actor(s) on {nodes} node(s)"

    def results(self, files: list[str], on_progress: OnProgress) -> Iterator[FileResult]:
        todo, idle, running = deque(files), list(self.actors), {}
        while todo or running:
            while idle and todo:
                actor, path = idle.pop(), todo.popleft()
                running[actor.analyze_reporting.remote(path)] = (actor, path)
            ready, _ = self.ray.wait(list(running), num_returns=1, timeout=POLL_S)
            self.drain(on_progress)
            for ref in ready:
                actor, path = running.pop(ref)
                idle.append(actor)
                yield self.result(ref, path)

    def result(self, ref: "ray.ObjectRef", path: str) -> FileResult:  # noqa: F821
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayActorError as exc:
            raise MoodlensError(f"a Ray worker died while analysing {path} (is moodlens installed on every "
                                f"node?): {str(exc).splitlines()[0]}") from None
        except self.ray.exceptions.RayTaskError as exc:
            return FileResult(path, error=f"{path}: {str(exc).splitlines()[0]}")

    def drain(self, on_progress: OnProgress) -> None:
        for path, frames in self.queue.get_nowait_batch(self.queue.qsize()):
            on_progress(path, frames)

    def close(self) -> None:
        self.ray.shutdown()  # a local Ray stops; from a cluster the driver disconnects, its actors end
