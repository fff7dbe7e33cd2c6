"""Load benchmark of the web server (issue 11): serve.py on loopback, real frames, bounded in time.

    python benchmarks/bench_serve.py                       # 3 phases of 30 s; benchmarks/results/serve.json
    python benchmarks/bench_serve.py --duration 3 --json /tmp/serve.json   # a smoke run

Starts `serve.py --port 0` (detect.py's defaults, one detector) and measures, one phase after another:
  stream   1, then 4 WebSocket clients, each sending fer_woman2's frames resized to 640x480 as JPEG
           (encoded beforehand) and waiting for each answer, as the page does: frames/s per client,
           the server's time per frame (decode + wait for the detector + detect: `server_ms` of each
           answer) p50/p99, and the round trip p50/p99;
  upload   8 clients posting the same frames to /api/detect: requests/s, latency p50/p99.
Errors (an error answer, a non-200 status, a dropped connection) are counted: they must be 0. The
server's resident memory is read before the first phase and after the last. The server's frame rate
limit is lifted (--max-fps) so that it does not cap the figures.
"""

import argparse
import datetime
import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository is not on the path
    sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import httpx  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from moodlens.media.outputs import write_json  # noqa: E402

VIDEO = ROOT.parent / "shared" / "media" / "fer_woman2.mp4"
RESULTS = ROOT / "benchmarks" / "results" / "serve.json"
SIZE = (640, 480)
FRAMES = 150  # 5 s of the clip, looped
STREAM_CLIENTS = (1, 4)
UPLOAD_CLIENTS = 8
START_TIMEOUT_S = 180
# The targets of issue 11.
TARGET_ONE_FPS, TARGET_ONE_P99_MS, TARGET_FOUR_FPS = 25.0, 100.0, 10.0


@dataclass
class Client:
    """What one client saw."""

    answers: int = 0
    errors: list[str] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    round_trip_ms: list[float] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def frames_as_jpeg() -> list[bytes]:
    capture, frames = cv2.VideoCapture(str(VIDEO)), []
    while len(frames) < FRAMES:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", cv2.resize(frame, SIZE), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    capture.release()
    if not frames:
        sys.exit(f"error: cannot read {VIDEO} (the benchmark needs ../shared/media)")
    return frames


def start_server(model: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    log = open(tmp / "serve.log", "w+")
    env = {**os.environ, "TMPDIR": str(tmp)}
    process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", "0", "--model", str(model),
                                "--max-fps", "1000", "--max-connections", "64"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=log, text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        log.seek(0)
        found = re.search(r"serving on (http://[^/]+)/", log.read())
        if found:
            return process, found.group(1)
        time.sleep(0.2)
    process.kill()
    log.seek(0)
    sys.exit(f"error: serve.py did not start:\n{log.read()}")


def stream_client(url: str, frames: list[bytes], stop: float, client: Client, offset: int) -> None:
    try:
        with connect(url, max_size=None) as ws:
            index = offset
            while time.monotonic() < stop:
                sent = time.perf_counter()
                ws.send(frames[index % len(frames)])
                answer = json.loads(ws.recv(timeout=30))
                client.round_trip_ms.append((time.perf_counter() - sent) * 1000)
                if "error" in answer:
                    client.errors.append(answer["error"])
                else:
                    client.answers += 1
                    client.server_ms.append(answer["server_ms"])
                index += 1
    except Exception as exc:  # a dropped connection is an error of the run, counted, not a crash
        client.errors.append(repr(exc))


def upload_client(url: str, frames: list[bytes], stop: float, client: Client, offset: int) -> None:
    with httpx.Client(timeout=60) as http:
        index = offset * 7  # clients start at different frames
        while time.monotonic() < stop:
            sent = time.perf_counter()
            try:
                answer = http.post(url, files={"image": ("frame.jpg", frames[index % len(frames)])})
                ok = answer.status_code == 200
            except httpx.HTTPError as exc:
                ok, answer = False, exc
            client.round_trip_ms.append((time.perf_counter() - sent) * 1000)
            if ok:
                client.answers += 1
            else:
                client.errors.append(str(getattr(answer, "text", answer))[:200])
            index += 1


def run_clients(work: Callable[[float, Client, int], None], count: int, duration: float) -> tuple[list[Client], float]:
    """`work(stop, client, index)` in `count` threads until the clock reaches stop."""
    clients = [Client() for _ in range(count)]
    stop = time.monotonic() + duration
    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(stop, client, i)) for i, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients, time.perf_counter() - start


def summary(clients: list[Client], seconds: float) -> dict:
    server = [ms for c in clients for ms in c.server_ms]
    trips = [ms for c in clients for ms in c.round_trip_ms]
    return {
        "clients": len(clients), "seconds": round(seconds, 2),
        "per_client_per_s": [round(c.answers / seconds, 2) for c in clients],
        "total_per_s": round(sum(c.answers for c in clients) / seconds, 2),
        "server_ms_p50": percentile(server, 0.5), "server_ms_p99": percentile(server, 0.99),
        "round_trip_ms_p50": percentile(trips, 0.5), "round_trip_ms_p99": percentile(trips, 0.99),
        "answers": sum(c.answers for c in clients), "errors": sum(len(c.errors) for c in clients),
        "first_errors": [e for c in clients for e in c.errors][:5],
    }


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "model_file.h5")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of each phase (default 30)")
    p.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS.relative_to(ROOT)})")
    args = p.parse_args()
    frames = frames_as_jpeg()
    load = os.getloadavg()[0]
    print(f"{len(frames)} frames of {VIDEO.name} at {SIZE[0]}x{SIZE[1]}; {os.cpu_count()} cores, load {load:.2f}"
          + ("  (busy machine: figures not reliable)" if load > 0.5 else ""))
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(args.model.resolve(), Path(tmp))
        try:
            ws_url, detect_url = url.replace("http", "ws", 1) + "/api/stream", f"{url}/api/detect"
            streaming = functools.partial(stream_client, ws_url, frames)
            run_clients(streaming, 1, 2.0)  # warm-up: allocations, first calls
            rss_before = rss_mb(process.pid)
            phases = {f"stream_{n}": summary(*run_clients(streaming, n, args.duration)) for n in STREAM_CLIENTS}
            uploading = functools.partial(upload_client, detect_url, frames)
            phases["upload_8"] = summary(*run_clients(uploading, UPLOAD_CLIENTS, args.duration))
            rss_after = rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    one, four = phases["stream_1"], phases["stream_4"]
    targets = {
        "one_stream_fps": min(one["per_client_per_s"]) >= TARGET_ONE_FPS,
        "one_stream_p99_ms": (one["server_ms_p99"] or 1e9) <= TARGET_ONE_P99_MS,
        "four_streams_fps_each": min(four["per_client_per_s"]) >= TARGET_FOUR_FPS,
        "no_errors": all(phase["errors"] == 0 for phase in phases.values()),
    }
    print(f"\n{'phase':10} {'clients':>7} {'per client/s':>16} {'total/s':>8} {'server p50/p99 ms':>18} "
          f"{'round trip p50/p99 ms':>22} {'errors':>6}")
    for name, r in phases.items():
        each = "/".join(f"{v:.1f}" for v in r["per_client_per_s"][:4]) + ("/..." if r["clients"] > 4 else "")
        print(f"{name:10} {r['clients']:>7} {each:>16} {r['total_per_s']:>8.1f} "
              f"{fmt(r['server_ms_p50']) + ' / ' + fmt(r['server_ms_p99']):>18} "
              f"{fmt(r['round_trip_ms_p50']) + ' / ' + fmt(r['round_trip_ms_p99']):>22} {r['errors']:>6}")
    print(f"server memory (RSS): {rss_before:.1f} MiB before, {rss_after:.1f} MiB after")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    results = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "duration_s": args.duration,
               "frame_size": list(SIZE), "cores": os.cpu_count(), "load_average_at_start": load,
               "load_average_at_end": os.getloadavg()[0], "phases": phases,
               "rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)}, "targets": targets}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(results, args.json)
    print(f"figures in {args.json}")


if __name__ == "__main__":
    main()
