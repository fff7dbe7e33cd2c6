"""Uploaded videos processed in the background: progress while they run, then the annotated video and the log.

A job runs `live.detect_source`, exactly what `detect.py --source clip --no-window --output ... --log ...` does,
in its own folder under the server's temporary folder. Only a file that starts as a video container
does is opened (`containers`). The upload is deleted as soon as the job ends; the annotated video
(WebM/VP8, which every browser plays) and the records (JSON lines or CSV, as detect.py's --log writes
them) are kept for download for `keep_s` seconds (KEEP_S unless the server says), then deleted on a timer.
"""

import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from moodlens.errors import MoodlensError
from moodlens.live import detect_source
from moodlens.media.containers import CONTAINERS, video_container
from moodlens.media.headers import HEAD_BYTES, image_formats
from moodlens.media.sources import Frame, Source
from moodlens.serving.shared import SharedDetector

ANNOTATED = "annotated.webm"
LOGS = {"jsonl": "faces.jsonl", "csv": "faces.csv"}
MAX_FRAMES = 18_000  # 10 minutes at 30 frames/s: a small file can hold hours of still frames
MAX_FRAME_PIXELS = 3840 * 2160
KEEP_S = 900.0  # a finished job's files wait this long for their download (docs/serving.md: 15 minutes)
MAX_ACTIVE = 2  # jobs queued or running at once; more are refused (the server is busy)
MAX_KEPT = 20  # finished jobs kept at once; the oldest go first


class Busy(Exception):
    """Too many videos in progress: the caller answers 503."""


@dataclass
class VideoJob:
    id: str
    folder: Path
    name: str  # the uploaded file's name, for messages
    log: str  # LOGS' file name
    total: int  # frames, as the video's header says (an estimate for some containers)
    state: str = "running"  # running, done or failed
    frames: int = 0
    error: str | None = None
    faces: int = 0
    frames_with_face: int = 0
    ended: float | None = None  # time.monotonic() when it ended
    cancelled: threading.Event = field(default_factory=threading.Event)

    def status(self, prefix: str) -> dict:
        """The job as the API shows it; download addresses start with `prefix` (/api/video/<id>)."""
        done = self.state == "done"
        return {"job": self.id, "state": self.state, "frames": self.frames, "total": self.total,
                "progress": 1.0 if done else round(min(self.frames / self.total, 0.99), 3) if self.total else 0.0,
                "error": self.error, "faces": self.faces, "frames_with_face": self.frames_with_face,
                "video": f"{prefix}/{ANNOTATED}" if done else None,
                "records": f"{prefix}/{self.log}" if done else None}


class ProgressSource(Source):
    """A video file whose frames count the job's progress, and stop at MAX_FRAMES or when cancelled."""

    def __init__(self, path: Path, job: VideoJob):
        super().__init__(str(path))
        self.job = job

    def frames(self) -> Iterator[Frame]:
        for frame in super().frames():
            if self.job.cancelled.is_set() or self.job.frames >= MAX_FRAMES:
                return
            yield frame
            self.job.frames += 1


def check_container(upload: Path, name: str) -> None:
    """Refuse, before FFmpeg probes it, an upload that does not start as a video container does: a
    playlist would make FFmpeg read other files of this machine, a photo would be decoded whole."""
    with open(upload, "rb") as f:
        head = f.read(HEAD_BYTES)
    if image_formats(head):
        raise MoodlensError(f"video {name} is a photo: send photos to /api/detect")
    if video_container(head) is None:
        raise MoodlensError(f"cannot open video {name}: not a video file ({', '.join(CONTAINERS)})")


def public(message: str, path: Path, name: str) -> str:
    """A message about a file in the server's folder, naming it as the client did."""
    return message.replace(str(path), name)


class VideoJobs:
    """The jobs of one server; every job's files live under `root`."""

    def __init__(self, root: Path, detector: SharedDetector, smooth: float, redetect: int, keep_s: float = KEEP_S):
        self.root, self.detector, self.smooth, self.redetect = root, detector, smooth, redetect
        self.keep_s = keep_s
        self.jobs: dict[str, VideoJob] = {}
        self.lock = threading.Lock()

    def active(self) -> int:
        return sum(job.state == "running" for job in self.jobs.values())

    def start(self, upload: Path, name: str, log_format: str) -> VideoJob:
        """Start a job on `upload` (a file in its own folder under root, which the job takes over).

        Raises Busy when MAX_ACTIVE jobs run, MoodlensError (naming the file as `name`) when it is not
        a video OpenCV can read, or its frames are too large."""
        with self.lock:
            self.drop_oldest()
            if self.active() >= MAX_ACTIVE:
                raise Busy(f"{MAX_ACTIVE} videos are being processed; try again when one is done")
            job = VideoJob(secrets.token_urlsafe(12), upload.parent, name, LOGS[log_format], 0)
            try:
                source = self.open(upload, job)
            except MoodlensError:
                shutil.rmtree(job.folder, ignore_errors=True)
                raise
            self.jobs[job.id] = job
        threading.Thread(target=self.work, args=(job, source, upload), name=f"video-{job.id}", daemon=True).start()
        return job

    def open(self, upload: Path, job: VideoJob) -> ProgressSource:
        check_container(upload, job.name)
        try:
            source = ProgressSource(upload, job)
        except MoodlensError as exc:
            raise MoodlensError(public(str(exc), upload, job.name)) from None
        width, height = (int(source.capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > MAX_FRAME_PIXELS:
            source.close()
            raise MoodlensError(f"video {job.name}: frames of {width}x{height} are larger than 3840x2160")
        job.total = min(int(source.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0), MAX_FRAMES)
        return source

    def work(self, job: VideoJob, source: ProgressSource, upload: Path) -> None:
        """The job's thread: detect.py's loop over the video, then the upload is deleted."""
        try:
            summary = detect_source(self.detector, source, False, job.folder / ANNOTATED, job.folder / job.log,
                                    self.smooth, self.redetect)
            job.faces, job.frames_with_face = summary.faces, summary.frames_with_face
            job.state = "done" if summary.frames_read else "failed"
            job.error = None if summary.frames_read else f"video {job.name}: no frames"
        except MoodlensError as exc:
            job.state, job.error = "failed", public(str(exc), upload, job.name)
        except Exception as exc:  # a bug, not the client's input: said in the server's log, not to the client
            print(f"video job {job.id} failed: {exc!r}", file=sys.stderr)
            job.state, job.error = "failed", "internal error while processing the video"
        finally:
            source.close()
            upload.unlink(missing_ok=True)
            job.ended = time.monotonic()
            self.expire_later(job)

    def expire_later(self, job: VideoJob) -> None:
        """Delete the job `keep_s` from now, whether or not anyone asks for it again."""
        timer = threading.Timer(self.keep_s, self.delete, (job,))
        timer.daemon = True  # a server stopping does not wait for it: it removes every job's folder itself
        timer.start()

    def get(self, job_id: str) -> VideoJob | None:
        with self.lock:
            return self.jobs.get(job_id)

    def delete(self, job: VideoJob) -> None:
        with self.lock:
            self.jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def drop_oldest(self) -> None:
        """Delete the oldest finished jobs beyond MAX_KEPT, before their time (a burst of uploads)."""
        ended = sorted((j for j in self.jobs.values() if j.ended is not None), key=lambda j: j.ended)
        for job in ended[: max(len(ended) - MAX_KEPT, 0)]:
            del self.jobs[job.id]
            shutil.rmtree(job.folder, ignore_errors=True)

    def close(self) -> None:
        """Stop every job (each ends at its next frame) and wait a moment for them; the caller removes root."""
        for job in list(self.jobs.values()):
            job.cancelled.set()
        for thread in threading.enumerate():
            if thread.name.startswith("video-"):
                thread.join(timeout=5)
