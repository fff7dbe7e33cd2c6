"""What the command lines share: quiet start-up, option types, and one-line errors."""

import argparse
import importlib.abc
import importlib.machinery
import os
import signal
import sys
from collections.abc import Callable
from types import ModuleType

from moodlens.errors import MoodlensError, one_line, os_error_text
from moodlens.interrupts import raise_interrupt
from moodlens.native import native_stderr_silenced

EXIT_ERROR = 2  # like argparse: the user's input is at fault
EXIT_INTERRUPTED = 130  # like a shell: 128 + SIGINT


class _SilentLoader(importlib.abc.Loader):
    """Runs a module's import with native stderr silenced; otherwise the module's own loader."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def __getattr__(self, name: str) -> object:
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with native_stderr_silenced():
            self.loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Imports TensorFlow with native stderr silenced, once.

    TensorFlow's shared libraries log a few lines while they load, before TF_CPP_MIN_LOG_LEVEL is
    read ("All log messages before absl::InitializeLog()...", oneDNN, CUDA): no variable hides them.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _SilentLoader(spec.loader)
        return spec


def quiet_tensorflow() -> None:
    """Hide TensorFlow's and OpenCV's native chatter; must run before either is imported.

    Each variable is only a default: set it to see the libraries' own logs again.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # also "failed call to cuInit" on machines without GPU
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")  # "can't open camera by index" and the like
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's "moov atom not found", corrupt frames
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


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


def run(main: Callable[[], None], interrupted_note: str = "") -> None:
    """Run a command's main: a user error -> `error: <one line>` and exit 2; Ctrl-C or SIGTERM -> exit 130,
    saying `interrupted: <note>` (the KeyboardInterrupt's own message, else `interrupted_note`).

    OSError and MemoryError count as the user's too: a full disk, a file that vanished, a huge input.
    """
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        main()
    except MoodlensError as exc:
        fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{os_error_text(exc)}")
    except MemoryError:
        fail("out of memory (is an input image or video frame huge?)")
    except KeyboardInterrupt as exc:
        note = str(exc) or interrupted_note  # the interrupted code may say what it kept
        print(f"interrupted{': ' + note if note else ''}", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


def fail(message: str) -> None:
    """Say `error: <message>` on one line of stderr and exit 2."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    sys.exit(EXIT_ERROR)
