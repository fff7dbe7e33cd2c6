"""Ctrl-C and SIGTERM as one KeyboardInterrupt, and holding both while files are finished."""

import contextlib
import signal
import threading
from collections.abc import Iterator


def raise_interrupt(signum: int, frame: object) -> None:
    """A signal handler: SIGTERM (a service manager, `kill`) stops a run as Ctrl-C does."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then raise KeyboardInterrupt: raised inside C
    extensions (matplotlib's drawing), an interrupt can come out as an unrelated TypeError, and a
    file being renamed into place is finished either way.

    Off the main thread (the web server's video jobs) there is nothing to hold: Python delivers
    signals to the main thread only, and only it may set their handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    kept = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
            for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt
