"""Silencing native libraries (libpng, libjpeg, LiteRT, TensorFlow) that print straight to file
descriptor 2, past Python's sys.stderr."""

import contextlib
import os
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for a moment: for C libraries that print there directly.

    Only on the main thread (a command line's work): the descriptor is the whole process's, so in a
    server's worker thread the redirection would swallow every other thread's messages meanwhile, and
    two threads restoring each other's saved copies would leave it at /dev/null for good. There the
    libraries' own lines go to the log.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
