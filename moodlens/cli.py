"""What the three command lines share: quiet start-up, option types, and one-line errors."""

import argparse
import os
import signal
import sys
from collections.abc import Callable

from moodlens.errors import MoodlensError


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ start-up chatter; must run before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, received {value}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a value from 0 to 1, received {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, received {value}")
    return value


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(main: Callable[[], None], interrupted_note: str = "") -> None:
    """Run a command's main: MoodlensError -> one line and exit 2; Ctrl-C or SIGTERM -> exit 130."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        main()
    except MoodlensError as exc:
        sys.exit(f"error: {exc}")
    except KeyboardInterrupt:
        sys.exit(f"interrupted{': ' + interrupted_note if interrupted_note else ''}")
