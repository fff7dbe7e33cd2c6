"""The web server behind serve.py: the page, the HTTP API and the live WebSocket, around one detector.

    GET  /                 the page (moodlens/serving/web/): camera, live boxes and bars, photo and video upload
    GET  /api/health       {"status": "ok", "labels": [...]}
    POST /api/detect       a photo (form field `image`) -> its faces, as detect.py finds them
    WS   /api/stream       JPEG frames in, one JSON message of tracked, smoothed faces per frame out
    POST /api/video        a video (form field `video`) -> a job: progress, then the annotated video and log
    GET  /docs             the API described by OpenAPI (/openapi.json)

One EmotionDetector, loaded once, serves every client (see `shared.SharedDetector`). Bad input of any
kind is answered 4xx with `{"error": "..."}`; `gate.Gate` refuses what should not reach a route (a
foreign Host, a missing token, too many connections, too large an upload).
"""

import contextlib
import re
import shutil
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

import numpy as np
from anyio import to_thread
from fastapi import FastAPI, File, Form, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from moodlens.detector import DEFAULT_REDETECT, DEFAULT_SMOOTH, Detection, EmotionDetector
from moodlens.errors import MoodlensError
from moodlens.media.images import IMAGE_SUFFIXES, decode_image
from moodlens.serving.gate import Gate, GateSettings
from moodlens.serving.shared import SharedDetector, SharedStream
from moodlens.serving.video_jobs import ANNOTATED, KEEP_S, Busy, VideoJob, VideoJobs

WEB = Path(__file__).with_name("web")
MAX_PIXELS = 50_000_000  # a photo or frame claiming more is refused before decoding: 50 MP is a big phone photo
SERVER_FOLDER = "moodlens-serve-"  # the temporary folder's name starts so
MAX_FRAME_BYTES = 4 * 2**20  # one WebSocket message; uvicorn closes the socket (1009) on a larger one


@dataclass
class ServerSettings:
    """How the server treats its clients; serve.py's options."""

    token: str | None = None
    max_connections: int = 16
    max_upload_mb: float = 100.0
    upload_timeout: float = 120.0  # seconds for a whole upload to arrive
    max_fps: float = 30.0  # frames a second one WebSocket may send; more are answered with an error
    smooth: float = DEFAULT_SMOOTH
    redetect: int = DEFAULT_REDETECT
    keep_minutes: float = KEEP_S / 60  # a finished video job's files are deleted this long after it ends


class Face(BaseModel):
    box: list[int]  # x, y, width, height in image pixels
    emotion: str  # the top emotion, or "uncertain" below the threshold
    confidence: float
    scores: dict[str, float]
    track: int | None = None  # the same number on every frame of one face (stream only)
    landmarks: list[list[float]] | None = None  # YuNet's 5 points (eyes, nose tip, mouth corners); None with haar
    pose: dict[str, float] | None = None  # {"roll", "yaw"} in degrees
    turned: bool | None = None  # turned further than the faces the model learned from: a less reliable emotion


class Faces(BaseModel):
    faces: list[Face]  # largest first
    width: int
    height: int


class Problem(BaseModel):
    error: str


def faces_json(detections: list[Detection], image: np.ndarray) -> dict:
    return {"faces": [d.record() for d in detections],
            "width": int(image.shape[1]), "height": int(image.shape[0])}


def upload_name(upload: UploadFile, fallback: str) -> str:
    """The client's file name, safe to name a file with and to quote in a message."""
    name = re.sub(r"[^\w.-]", "_", Path(upload.filename or "").name)[:100].lstrip(".")
    return name or fallback


class RateLimit:
    """At most `per_second` events in any one-second window."""

    def __init__(self, per_second: float):
        self.per_second, self.times = per_second, deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= 1.0:
            self.times.popleft()
        if len(self.times) >= self.per_second:
            return False
        self.times.append(now)
        return True


def stream_frame(stream: SharedStream, data: bytes, index: int) -> dict:
    """One camera frame's faces, tracked and smoothed over the connection's earlier frames."""
    image = decode_image(np.frombuffer(data, np.uint8), f"frame {index}", max_pixels=MAX_PIXELS)
    return {"frame": index, **faces_json(stream.process(image), image)}


def create_app(detector: EmotionDetector, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application; serve.py runs it with uvicorn."""
    settings = settings or ServerSettings()
    shared = SharedDetector(detector)
    root = Path(tempfile.mkdtemp(prefix=SERVER_FOLDER))  # every upload and job file, removed at shutdown
    jobs = VideoJobs(root, shared, settings.smooth, settings.redetect, settings.keep_minutes * 60)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            jobs.close()
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="moodlens", summary="Faces and their emotions in photos, videos and a live camera",
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  responses={400: {"model": Problem}, 413: {"model": Problem}})
    gate = GateSettings(settings.token, settings.max_connections, round(settings.max_upload_mb * 2**20),
                        settings.upload_timeout)
    app.add_middleware(Gate, settings=gate)
    app.mount("/static", StaticFiles(directory=WEB), name="static")
    add_error_handlers(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return (WEB / "index.html").read_text()

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        """Swagger UI, which fetches /openapi.json with the token this page was given (the Gate wants it)."""
        token = request.query_params.get("token")
        return get_swagger_ui_html(openapi_url=app.openapi_url + (f"?token={quote(token)}" if token else ""),
                                   title="moodlens API")

    @app.get("/api/health")
    def health() -> dict:
        """The server is up; the labels its model names, in score order; the frames a second one live
        connection may send."""
        return {"status": "ok", "labels": list(shared.labels), "max_fps": settings.max_fps}

    @app.post("/api/detect", response_model=Faces)
    async def detect(image: Annotated[UploadFile, File(description="a photo: JPEG, PNG, WebP, BMP, TIFF")]) -> dict:
        """Every face in a photo, largest first: the same faces and labels as `detect.py --source <photo>`."""
        raw, name = np.frombuffer(await image.read(), np.uint8), upload_name(image, "image")
        decoded = await to_thread.run_sync(lambda: decode_image(raw, name, max_pixels=MAX_PIXELS))
        return faces_json(await to_thread.run_sync(shared.detect, decoded), decoded)

    @app.websocket("/api/stream")
    async def stream(ws: WebSocket) -> None:
        """Send each camera frame as one binary message (JPEG or PNG); each is answered with its faces
        (`faces`, `width`, `height`, `frame`, `server_ms`), or `{"error": ...}` and the connection stays."""
        await ws.accept()
        faces, limit, index = shared.stream(settings.smooth, settings.redetect), RateLimit(settings.max_fps), 0
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await ws.send_json(await stream_reply(faces, message.get("bytes"), limit, index))
                index += 1

    async def stream_reply(faces: SharedStream, data: bytes | None, limit: RateLimit, index: int) -> dict:
        if data is None:
            return {"error": "send each frame as a binary message holding a JPEG or PNG"}
        if not limit.allow():
            return {"error": f"too many frames: at most {settings.max_fps:g} a second on one connection; "
                             f"frame {index} dropped"}
        start = time.perf_counter()
        try:
            reply = await to_thread.run_sync(stream_frame, faces, data, index)
        except MoodlensError as exc:
            return {"error": str(exc)}
        return {**reply, "server_ms": round((time.perf_counter() - start) * 1000, 2)}

    @app.post("/api/video", status_code=202)
    async def video(video: Annotated[UploadFile, File(description="a video file OpenCV can read (mp4, avi, ...)")],
                    log_format: Annotated[Literal["jsonl", "csv"], Form(alias="format")] = "jsonl") -> dict:
        """Start detect.py's loop on a video; poll the job's address for progress, then download
        `video` (annotated, WebM) and `records` (one per face per frame, JSON lines or CSV)."""
        folder = Path(tempfile.mkdtemp(dir=root))
        upload = folder / upload_name(video, "video")
        if upload.suffix.lower() in IMAGE_SUFFIXES:  # a video by content, whatever its name says
            upload = upload.with_name(upload.name + ".video")
        job: VideoJob | None = None
        try:
            await to_thread.run_sync(copy_upload, video, upload)
            job = await to_thread.run_sync(jobs.start, upload, upload.name, log_format)
        except Busy as exc:
            return JSONResponse({"error": f"server busy: {exc}"}, 503)
        finally:
            if job is None:  # refused, or the copy failed: nothing will use the upload
                shutil.rmtree(folder, ignore_errors=True)
        return job.status(f"/api/video/{job.id}")

    @app.get("/api/video/{job_id}")
    def video_status(job_id: str) -> dict:
        """Progress (`frames` of `total`), then `video` and `records` to download, or `error`."""
        return find_job(job_id).status(f"/api/video/{job_id}")

    @app.get("/api/video/{job_id}/{name}")
    def video_file(job_id: str, name: str) -> FileResponse:
        """The annotated video or the records of a finished job."""
        job = find_job(job_id)
        if job.state != "done" or name not in (ANNOTATED, job.log):
            raise HTTPException(404, f"no file {name} for job {job_id} (is it done?)")
        media = {"webm": "video/webm", "jsonl": "application/x-ndjson", "csv": "text/csv"}[name.rsplit(".", 1)[1]]
        return FileResponse(job.folder / name, media_type=media, filename=name)

    def find_job(job_id: str) -> VideoJob:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no video job {job_id} (finished jobs are kept for a while, then deleted)")
        return job

    return app


def copy_upload(upload: UploadFile, path: Path) -> None:
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


def add_error_handlers(app: FastAPI) -> None:
    """Every error as `{"error": "..."}`: the client's mistakes 4xx with what to fix, never a traceback."""

    @app.exception_handler(MoodlensError)
    async def bad_input(request: Request, exc: MoodlensError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:  # logged by uvicorn; the client learns no more
        return JSONResponse({"error": "internal error"}, 500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "; ".join(validation_message(e) for e in exc.errors())}, 422)


def validation_message(error: dict) -> str:
    """FastAPI's validation error, in words: `missing form field image (multipart/form-data)`."""
    field = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    if error.get("type") == "missing":
        return f"missing form field {field} (send multipart/form-data)"
    return f"form field {field}: {error.get('msg', 'invalid')}"
