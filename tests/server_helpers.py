"""A real serve.py on a free loopback port, for the API, WebSocket and page tests."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "model_file.h5"
START_TIMEOUT_S = 180  # the first start converts the model to TFLite (TensorFlow's import, on a busy machine)


def ignore_sigint() -> None:
    """In the child before serve.py starts: SIGINT ignored, as a shell script's `cmd &` starts it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Server:
    """`python serve.py --port 0 ARGS...`; `url` is where it listens. Its temporary files go to `tmp`.
    With `sigint_ignored`, it starts as `python serve.py &` in a script would: SIGINT ignored."""

    def __init__(self, tmp: Path, *args: object, sigint_ignored: bool = False):
        self.tmp = tmp
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["TMPDIR"] = str(tmp)  # where the server keeps uploads and video jobs
        self.stderr = tempfile.TemporaryFile("w+")
        self.final_output = ""  # the stderr kept when stop() closes its file
        self.process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", "0", *map(str, args)],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.stderr, text=True,
                                        preexec_fn=ignore_sigint if sigint_ignored else None)
        self.url = self.wait_for_address()

    def output(self) -> str:
        """Its stderr so far (all of it, once stopped)."""
        if self.stderr.closed:
            return self.final_output
        self.stderr.seek(0)
        return self.stderr.read()

    def wait_for_address(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            found = re.search(r"serving on (https?://[^/]+)/", self.output())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"serve.py exited {self.process.returncode}:\n{self.output()}")
            time.sleep(0.2)
        self.process.kill()
        raise AssertionError(f"serve.py did not start in {START_TIMEOUT_S} s:\n{self.output()}")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/api/stream"

    def alive(self) -> bool:
        return self.process.poll() is None and httpx.get(f"{self.url}/api/health", timeout=10).status_code == 200

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.stderr.closed:
            self.final_output = self.output()
            self.stderr.close()
        return self.process.returncode


def jpeg(frame: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()
