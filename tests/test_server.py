"""serve.py for real: uvicorn on a free loopback port, the committed model, real photos and videos.

The API must give what detect.py gives, refuse every kind of bad request with a 4xx JSON error while
it keeps serving everyone else, and leave nothing behind in its temporary folder.
"""

import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from errors_helpers import radiance_claiming
from server_helpers import MODEL, Server, jpeg
from video_helpers import read_frames
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from moodlens.detector import DEFAULT_THRESHOLD, EmotionDetector
from moodlens.labels import EMOTIONS
from moodlens.serving.server import MAX_FRAME_BYTES, SERVER_FOLDER

PHOTOS = ["fr_obama.jpg", "fr_two_people.jpg", "fr_kit_with_rose.jpg", "deepface_img5.jpg", "fer_justin.jpg",
          "deepface_selfie-many-people.jpg", "fer_no-faces.jpg"]
VIDEO, CLIP = "fer_woman2.mp4", "huimiang_1543684773.avi"
MAX_UPLOAD_MB, MAX_CONNECTIONS, UPLOAD_TIMEOUT_S = 4, 4, 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("serve-tmp"), "--max-upload-mb", MAX_UPLOAD_MB,
                     "--max-connections", MAX_CONNECTIONS, "--upload-timeout", UPLOAD_TIMEOUT_S)
    yield running
    assert running.stop() == 130, running.output()  # Ctrl-C: cli.run's interrupted exit
    assert not list(running.tmp.glob(f"{SERVER_FOLDER}*"))  # its folder went with it


def server_files(server: Server) -> list[str]:
    """Every file in the server's temporary folder (TensorFlow's own temporary files aside)."""
    return sorted(str(p.relative_to(server.tmp)) for p in server.tmp.glob(f"{SERVER_FOLDER}*/**/*") if p.is_file())


def post_photo(server: Server, data: bytes, name: str = "photo.jpg", field: str = "image") -> httpx.Response:
    return httpx.post(f"{server.url}/api/detect", files={field: (name, data)}, timeout=60)


def test_health_page_and_openapi_docs(server: Server) -> None:
    assert httpx.get(f"{server.url}/api/health").json() == {"status": "ok", "labels": list(EMOTIONS), "max_fps": 30}
    page = httpx.get(server.url)
    assert page.status_code == 200 and 'id="faces"' in page.text and "playsinline" in page.text
    assert httpx.get(f"{server.url}/static/app.js").status_code == 200
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/api/detect", "/api/video", "/api/health"} <= set(paths)


def test_detect_gives_what_detect_py_logs_for_every_photo(server: Server, media: Path, run_script,
                                                          tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in PHOTOS:
        shutil.copy(media / name, photos / name)
    run = run_script("detect.py", "--source", photos, "--no-window", "--log", tmp_path / "faces.jsonl")
    assert run.returncode == 0, run.stderr
    logged = [json.loads(line) for line in (tmp_path / "faces.jsonl").read_text().splitlines()]
    found = 0
    for name in PHOTOS:
        answer = post_photo(server, (media / name).read_bytes(), name)
        assert answer.status_code == 200, answer.text
        body, image = answer.json(), cv2.imread(str(media / name))
        assert (body["width"], body["height"]) == (image.shape[1], image.shape[0])
        expected = [r for r in logged if r["source"] == name]
        assert [f["box"] for f in body["faces"]] == [r["box"] for r in expected], name
        assert [f["emotion"] for f in body["faces"]] == [r["emotion"] for r in expected], name
        for face, record in zip(body["faces"], expected):
            assert face["confidence"] == pytest.approx(record["confidence"], abs=1e-4)
            assert list(face["scores"]) == list(EMOTIONS)
            assert face["scores"] == pytest.approx(record["scores"], abs=1e-4)
        found += len(body["faces"])
    assert found >= 6  # obama 1, two people 2, kit and rose 2, img5 1, justin 1, the selfie some: real faces found
    assert server_files(server) == []  # uploads are never kept


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height gray pixels: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def bad_requests(media: Path) -> dict[str, tuple[dict, int, str]]:
    """name -> (httpx.post keyword arguments, expected status, words the error must hold)."""
    photo = (media / "fr_obama.jpg").read_bytes()
    return {
        "not an image": ({"files": {"image": ("notes.txt", b"just some text\n" * 50)}}, 400, "cannot decode image"),
        "empty file": ({"files": {"image": ("empty.jpg", b"")}}, 400, "empty"),
        "truncated jpeg": ({"files": {"image": ("cut.jpg", photo[: len(photo) // 3])}}, 400, "cannot decode"),
        "corrupt bytes": ({"files": {"image": ("noise.jpg", bytes(range(256)) * 40)}}, 400, "cannot decode"),
        "pixel bomb": ({"files": {"image": ("bomb.png", png_claiming(30000, 30000))}}, 400, "megapixels"),
        "missing field": ({"data": {"other": "x"}}, 422, "missing form field image"),
        "misnamed field": ({"files": {"photo": ("a.jpg", photo)}}, 422, "missing form field image"),
        "text in the file field": ({"data": {"image": "not a file"}}, 422, "image"),
        "json body": ({"json": {"image": "x"}}, 422, "missing form field image"),
    }


def test_every_bad_upload_is_a_4xx_json_error_and_the_server_goes_on(server: Server, media: Path) -> None:
    for name, (request, status, words) in bad_requests(media).items():
        answer = httpx.post(f"{server.url}/api/detect", timeout=60, **request)
        assert answer.status_code == status, (name, answer.text)
        assert words in answer.json()["error"], (name, answer.text)
    photo = (media / "fer_justin.jpg").read_bytes()
    rng = np.random.default_rng(11)
    for _ in range(20):  # a real photo with bytes overwritten at random places: decoded or refused, never a 5xx
        damaged = bytearray(photo)
        for place in rng.integers(0, len(photo), 30):
            damaged[place] = int(rng.integers(0, 256))
        assert post_photo(server, bytes(damaged)).status_code in (200, 400)
    assert httpx.get(f"{server.url}/api/detect").status_code == 405
    assert httpx.get(f"{server.url}/api/nothing").json() == {"error": "Not Found"}
    assert post_photo(server, (media / "fr_obama.jpg").read_bytes()).json()["faces"]  # still serving
    assert server_files(server) == []


def test_an_image_bomb_whose_header_pillow_cannot_read_is_refused_unread(server: Server) -> None:
    """A Radiance HDR file claiming 7100x7100 (OpenCV decodes it into 600 MB of floats), whatever it is
    called, as a photo, a live frame or a video: refused before decoding. A small real HDR photo is answered."""
    bomb = radiance_claiming(7100, 7100)
    for name in ("bomb.hdr", "bomb.jpg"):
        answer = post_photo(server, bomb, name)
        assert answer.status_code == 400, answer.text
        assert "larger than 50 megapixels (it claims 7100x7100" in answer.json()["error"]
    assert "larger than 50 megapixels" in stream_replies(server, [bomb])[0]["error"]
    video = httpx.post(f"{server.url}/api/video", files={"video": ("bomb.mp4", bomb)}, timeout=60)
    assert video.status_code == 400 and video.json()["error"] == "video bomb.mp4 is a photo: send photos to /api/detect"
    small = cv2.imencode(".hdr", np.full((40, 60, 3), 0.5, np.float32))[1].tobytes()
    answer = post_photo(server, small, "small.hdr")
    assert answer.status_code == 200 and (answer.json()["width"], answer.json()["height"]) == (60, 40)
    assert server_files(server) == []


def raw_post(server: Server, length: int, sent: bytes) -> socket.socket:
    """A client that announces `length` bytes of body and sends only `sent`: slow, or about to vanish."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /api/detect HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                 f"Content-Length: {length}\r\n\r\n".encode() + sent)
    return sock


def test_an_upload_over_the_limit_is_turned_away_on_its_content_length(server: Server) -> None:
    """Said before any of the body is sent (a client sending it all may find the connection closed under it)."""
    client = raw_post(server, MAX_UPLOAD_MB * 2**20 + 1, b"")
    client.settimeout(30)
    reply = b"".join(iter(lambda: client.recv(4096), b"")).decode()  # until the server closes the connection
    client.close()
    head, _, body = reply.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413"), reply
    assert "too large" in json.loads(body)["error"]
    assert server.alive()


def test_slow_and_vanished_clients_do_not_hold_up_the_others(server: Server, media: Path) -> None:
    photo = (media / "fr_obama.jpg").read_bytes()
    slow = raw_post(server, 100_000, b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n')
    vanished = raw_post(server, 100_000, b"--b\r\n")
    vanished.close()
    start = time.monotonic()
    assert post_photo(server, photo).status_code == 200  # served while the slow upload trickles
    assert time.monotonic() - start < UPLOAD_TIMEOUT_S
    slow.settimeout(UPLOAD_TIMEOUT_S + 30)
    reply = b"".join(iter(lambda: slow.recv(4096), b"")).decode()  # until the server closes the connection
    slow.close()
    assert reply.startswith("HTTP/1.1 408"), reply
    assert "upload too slow" in reply
    assert server.alive() and server_files(server) == []


def stream_replies(server: Server, frames: list[bytes], **connect_args) -> list[dict]:
    """Send each frame and wait for its answer, as the page does."""
    with connect(server.ws_url, max_size=None, **connect_args) as ws:
        replies = []
        for data in frames:
            ws.send(data)
            replies.append(json.loads(ws.recv(timeout=60)))
    return replies


def test_stream_tracks_and_smooths_faces_exactly_as_detect_py(server: Server, media: Path) -> None:
    frames = [jpeg(f) for f in read_frames(media / VIDEO, 25)]
    replies = stream_replies(server, frames)
    stream = EmotionDetector(MODEL, threshold=DEFAULT_THRESHOLD).stream()  # detect.py's defaults
    for index, (reply, data) in enumerate(zip(replies, frames)):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        expected = stream.process(image)
        assert reply["frame"] == index and reply["server_ms"] > 0
        assert [(f["box"], f["emotion"], f["track"]) for f in reply["faces"]] == \
            [(list(d.box), d.emotion, d.track) for d in expected]
    tracks = {f["track"] for r in replies for f in r["faces"]}
    assert len(tracks) == 1 and sum(bool(r["faces"]) for r in replies) >= 20  # one woman, one track


def test_stream_answers_bad_frames_with_errors_and_outlives_vanished_clients(server: Server, media: Path) -> None:
    good = jpeg(read_frames(media / VIDEO, 1)[0])
    with connect(server.ws_url) as ws:
        for message, words in ((b"\x00garbage", "cannot decode image frame 0"), ("hello", "binary message"),
                               (png_claiming(20000, 20000), "megapixels")):
            ws.send(message)
            assert words in json.loads(ws.recv(timeout=30))["error"]
        ws.send(good)
        assert json.loads(ws.recv(timeout=30))["faces"]
    with connect(server.ws_url, max_size=None) as ws:
        ws.send(b"\xff" * (MAX_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd.code == 1009  # message too big
    for _ in range(3):  # clients that vanish with their frame's answer on the way
        with connect(server.ws_url) as ws:
            ws.send(good)
    assert stream_replies(server, [good])[0]["faces"] and server.alive()


def test_more_connections_than_allowed_are_503_until_one_closes(server: Server, media: Path) -> None:
    sockets = [connect(server.ws_url) for _ in range(MAX_CONNECTIONS)]
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url)
        assert refused.value.response.status_code == 503
        assert "server busy" in json.loads(refused.value.response.body)["error"]
        busy = post_photo(server, (media / "fr_obama.jpg").read_bytes())
        assert busy.status_code == 503 and "server busy" in busy.json()["error"]
        assert httpx.get(f"{server.url}/api/health").status_code == 200  # health is never refused
    finally:
        for ws in sockets:
            ws.close()
    time.sleep(0.5)
    assert post_photo(server, (media / "fr_obama.jpg").read_bytes()).status_code == 200


def wait_for_job(server: Server, job: dict, timeout: float = 600) -> list[dict]:
    """Poll a video job until it ends; every status seen."""
    seen, deadline = [job], time.monotonic() + timeout
    while seen[-1]["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
        seen.append(httpx.get(f"{server.url}/api/video/{job['job']}").json())
    return seen


def test_video_upload_shows_progress_then_gives_the_annotated_video_and_records(
        server: Server, media: Path, run_script, tmp_path: Path) -> None:
    clip = media / CLIP
    started = httpx.post(f"{server.url}/api/video", files={"video": (clip.name, clip.read_bytes())},
                         data={"format": "csv"}, timeout=60)
    assert started.status_code == 202, started.text
    seen = wait_for_job(server, started.json())
    done = seen[-1]
    assert done["state"] == "done", done
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0 and any(0 < p < 1 for p in progress)
    assert done["frames"] == done["total"] == 67
    assert sorted(Path(name).name for name in server_files(server)) == ["annotated.webm", "faces.csv"]  # no upload

    video = httpx.get(server.url + done["video"], timeout=60)
    assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
    (tmp_path / "annotated.webm").write_bytes(video.content)
    assert len(read_frames(tmp_path / "annotated.webm")) == 67

    records = httpx.get(server.url + done["records"], timeout=60)
    assert records.headers["content-type"].startswith("text/csv")
    run = run_script("detect.py", "--source", clip, "--no-window", "--log", tmp_path / "faces.csv")
    assert run.returncode == 0, run.stderr
    assert records.content == (tmp_path / "faces.csv").read_bytes()  # detect.py's very records, byte for byte


def test_bad_video_uploads_are_4xx_json(server: Server) -> None:
    for files, data, status, words in (
            ({"video": ("clip.mp4", b"not a video at all" * 100)}, {}, 400, "cannot open video clip.mp4"),
            ({"video": ("clip.mp4", b"")}, {}, 400, "clip.mp4"),
            ({"clip": ("clip.mp4", b"x")}, {}, 422, "missing form field video"),
            ({"video": ("clip.mp4", b"x")}, {"format": "xml"}, 422, "format")):
        answer = httpx.post(f"{server.url}/api/video", files=files, data=data, timeout=60)
        assert answer.status_code == status, answer.text
        assert words in answer.json()["error"], answer.text
    assert httpx.get(f"{server.url}/api/video/nosuchjob").status_code == 404
    assert not any("clip" in name for name in server_files(server))


def test_a_playlist_uploaded_as_a_video_is_refused(server: Server, media: Path) -> None:
    """An HLS playlist or an ffconcat list names other files: FFmpeg would read a video of the server's own
    (the job would hand its frames back). Refused by its content, whatever the upload is called."""
    target = media / CLIP
    hls = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{target}\n#EXT-X-ENDLIST\n".encode()
    concat = f"ffconcat version 1.0\nfile {target}\n".encode()
    for name, data in (("list.m3u8", hls), ("list.mp4", hls), ("list.ffconcat", concat), ("list.mp4", concat)):
        answer = httpx.post(f"{server.url}/api/video", files={"video": (name, data)}, timeout=60)
        assert answer.status_code == 400, (name, answer.text)
        assert answer.json()["error"].startswith(f"cannot open video {name}: not a video file (MP4/MOV, "), name
    assert not any("list" in name for name in server_files(server))


def test_finished_video_jobs_are_deleted_on_time_without_another_request(tmp_path: Path, media: Path) -> None:
    running = Server(tmp_path, "--keep-minutes", 0.1)  # 6 s
    try:
        clip = media / CLIP
        started = httpx.post(f"{running.url}/api/video", files={"video": (clip.name, clip.read_bytes())}, timeout=60)
        assert started.status_code == 202, started.text
        done = wait_for_job(running, started.json())[-1]
        assert done["state"] == "done" and len(server_files(running)) == 2  # the annotated video and the records
        deadline = time.monotonic() + 60
        while server_files(running) and time.monotonic() < deadline:  # no request meanwhile
            time.sleep(0.5)
        assert server_files(running) == []
        assert httpx.get(f"{running.url}/api/video/{done['job']}").status_code == 404
    finally:
        assert running.stop() == 130


def test_ctrl_c_stops_it_with_130_also_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    """`python serve.py &` in a script ignores SIGINT from the start; uvicorn stops on it all the same, and
    the exit status must say that it was stopped, not that it finished."""
    running = Server(tmp_path, sigint_ignored=True)
    assert running.stop() == 130, running.output()
    assert running.output().splitlines()[-1] == "interrupted"


GUARDED_AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Iterator[Server]:
    """A server with a token and a low frame rate limit."""
    running = Server(tmp_path_factory.mktemp("guarded-tmp"), "--token", "s3cret", "--max-fps", 3)
    yield running
    running.stop()


def test_with_a_token_every_route_but_the_page_needs_it(guarded: Server, media: Path) -> None:
    photo = {"image": ("a.jpg", (media / "fr_obama.jpg").read_bytes())}
    url = f"{guarded.url}/api/detect"
    assert httpx.post(url, files=photo).status_code == 401
    assert "token" in httpx.post(url, files=photo, headers={"Authorization": "Bearer wrong"}).json()["error"]
    assert httpx.post(url, files=photo, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert httpx.post(url + "?token=s3cret", files=photo).status_code == 200
    for path in ("/api/health", "/docs", "/openapi.json", "/redoc", "/api/video/nosuchjob", "/nothing"):
        answer = httpx.get(guarded.url + path)
        assert answer.status_code == 401 and "token" in answer.json()["error"], path
    assert httpx.get(f"{guarded.url}/api/health?token=s3cret").status_code == 200
    assert "/api/detect" in httpx.get(f"{guarded.url}/openapi.json?token=s3cret").json()["paths"]
    docs = httpx.get(f"{guarded.url}/docs?token=s3cret")
    assert docs.status_code == 200 and "/openapi.json?token=s3cret" in docs.text  # the page fetches it so
    assert httpx.get(guarded.url).status_code == 200 and httpx.get(f"{guarded.url}/static/app.js").status_code == 200
    other_name = {"Host": "moodlens.lan:8000"}  # other machines reach it by its name: the token is the check
    assert httpx.get(f"{guarded.url}/api/health?token=s3cret", headers=other_name).status_code == 200
    with pytest.raises(InvalidStatus) as refused:
        connect(guarded.ws_url)
    assert refused.value.response.status_code == 401


def raw_get(server: Server, path: str, host: str, *headers: str) -> str:
    """The status line and headers of a GET sent with the given Host header."""
    address, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((address, int(port))) as sock:
        sock.sendall("\r\n".join([f"GET {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]).encode())
        sock.settimeout(30)
        return sock.recv(65536).decode(errors="replace")


def test_without_a_token_only_requests_to_a_loopback_name_are_answered(server: Server) -> None:
    """DNS rebinding: a page from evil.example that points its own name at 127.0.0.1 reaches this server,
    but its requests say Host: evil.example. Only localhost, 127.0.0.1 or [::1] (any port) are answered."""
    port = server.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "127.0.0.2"):
        assert httpx.get(f"{server.url}/api/health", headers={"Host": host}).status_code == 200, host
    for host in (f"evil.example:{port}", "evil.example", f"192.168.1.5:{port}", "localhost.evil.example", "[::2]"):
        for path in ("/", "/static/app.js", "/api/health", "/docs", "/openapi.json"):
            answer = httpx.get(server.url + path, headers={"Host": host})
            assert answer.status_code == 400, (host, path)
            assert f"Host {host} is not this machine: without --token" in answer.json()["error"], (host, path)
    upgrade = ("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
    assert raw_get(server, "/api/stream", "evil.example", *upgrade).startswith("HTTP/1.1 400")
    assert raw_get(server, "/api/stream", f"localhost:{port}", *upgrade).startswith("HTTP/1.1 101")
    assert raw_get(server, "/", "").startswith("HTTP/1.1 400")  # an empty Host


def test_concurrent_requests_leave_the_servers_error_stream_where_it_was(guarded: Server) -> None:
    """Decoding once pointed the whole process's stderr at /dev/null and back: threads decoding at once
    restored each other's copies and left it at /dev/null, and no error was ever logged again. A large PNG
    cut short keeps each decode going a while (and ends in an error, not in a detection)."""
    stderr = Path(f"/proc/{guarded.process.pid}/fd/2")
    before = os.readlink(stderr), stderr.stat()
    gradient = (np.add.outer(np.arange(3000), np.arange(4000)) % 256).astype(np.uint8)
    png = cv2.imencode(".png", cv2.merge([gradient] * 3))[1].tobytes()
    cut = {"image": ("big.png", png[: len(png) * 9 // 10])}

    def client(index: int) -> int:
        return httpx.post(f"{guarded.url}/api/detect", files=cut, headers=GUARDED_AUTH, timeout=120).status_code

    with ThreadPoolExecutor(8) as clients:
        assert set(clients.map(client, range(48))) == {400}
    assert os.readlink(stderr) == before[0] and os.path.samestat(stderr.stat(), before[1])
    host, port = guarded.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:  # something uvicorn logs: a request it cannot parse
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        sock.settimeout(30)
        sock.recv(4096)
    deadline = time.monotonic() + 10
    while "Invalid HTTP request received" not in guarded.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Invalid HTTP request received" in guarded.output()


def test_frames_over_the_rate_limit_are_dropped_with_an_error(guarded: Server, media: Path) -> None:
    frame = jpeg(read_frames(media / VIDEO, 1)[0])
    replies = stream_replies(guarded, [frame] * 8, additional_headers={"Authorization": "Bearer s3cret"})
    dropped = [r for r in replies if "error" in r]
    assert len(replies) - len(dropped) == 3  # 8 frames within a second: 3 answered
    assert all("too many frames: at most 3 a second" in r["error"] for r in dropped)
    time.sleep(1.1)
    assert stream_replies(guarded, [frame], additional_headers={"Authorization": "Bearer s3cret"})[0]["faces"]


def test_serve_py_refuses_a_network_host_without_token_a_taken_port_and_a_missing_model(
        run_script, server: Server) -> None:
    network = run_script("serve.py", "--host", "0.0.0.0")
    assert network.returncode == 2 and "give --token" in network.stderr
    port = server.url.rsplit(":", 1)[1]
    taken = run_script("serve.py", "--port", port)
    assert taken.returncode == 2 and taken.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: " \
                                                            "Address already in use"
    missing = run_script("serve.py", "--model", "nothing.h5", "--port", 0)
    assert missing.returncode == 2 and missing.stderr.startswith("error: model file ")
    assert "nothing.h5 not found" in missing.stderr and len(missing.stderr.splitlines()) == 1


def test_https_with_a_self_signed_certificate_made_as_the_readme_says(tmp_path: Path) -> None:
    openssl = shutil.which("openssl") or pytest.skip("openssl not found (apt-get install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key,
                    "-out", cert, "-subj", "/CN=moodlens", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    running = Server(tmp_path, "--certfile", cert, "--keyfile", key)
    try:
        assert running.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=cert)
        assert httpx.get(f"{running.url}/api/health", verify=trusted).json()["status"] == "ok"
        with connect(running.ws_url, ssl=trusted) as ws:
            ws.send(png_claiming(10, 10))  # a real 10x10 black PNG
            assert json.loads(ws.recv(timeout=30))["width"] == 10
    finally:
        running.stop()
