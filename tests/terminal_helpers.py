"""Running a script with stderr on a pseudo-terminal, as in a shell, to see what it draws there
(progress bars show only on a terminal)."""

import contextlib
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios

from conftest import ROOT, python_command, script_env


def run_on_terminal(script: str, *args: object, timeout: float = 300) -> tuple[subprocess.CompletedProcess, str]:
    """`python <script> args...` (or `python -c CODE args...`) with stderr on a 24x100 terminal: the
    finished run (stdout captured) and everything it drew on the terminal."""
    reader, writer = pty.openpty()
    fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # rows, columns
    command = python_command(script, *args)
    process = subprocess.Popen(command, cwd=ROOT, env=script_env(), stdout=subprocess.PIPE, stderr=writer, text=True)
    os.close(writer)
    drawn = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(reader, 4096):
            drawn += chunk
    os.close(reader)
    stdout, _ = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(command, process.returncode, stdout, ""), drawn.decode(errors="replace")


def drew_a_bar(drawn: str, total: int) -> bool:
    """Whether a progress bar over `total` with the time left was drawn."""
    return re.search(rf"\d+/{total} \[[0-9:]+, ETA [0-9:?]+", drawn) is not None

