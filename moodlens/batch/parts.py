"""A batch's work folder, `<output>.parts/`: the settings its parts were made with, and one part (JSON)
per finished file, so that an interrupted run's work is kept for the next.

One run at a time has it: the folder is locked while a run uses it, so a second run with the same
output is a one-line error rather than each deleting or overwriting the other's parts. Each part
reaches the disk before it is renamed into place (after a power loss it is whole, or absent), and
one that cannot be read back is analysed again.
"""

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

from moodlens.batch.analyze import FileResult
from moodlens.errors import MoodlensError
from moodlens.interrupts import interrupts_deferred
from moodlens.media.files import write_synced

READABLE_BYTES = 80  # of a part's name taken from the file's own: with the hash, far under any file system's 255


def part_stem(file: str) -> str:
    """A file's part name without its suffix: the file's own name, with only letters, digits, `.`, `_`
    and `-` and cut short, then a hash of its resolved path (one file, one part; two files of one name
    in different folders, two parts)."""
    digest = hashlib.sha1(str(Path(file).resolve()).encode()).hexdigest()[:12]
    readable = re.sub(r"[^\w.-]", "_", Path(file).name).encode()[:READABLE_BYTES].decode(errors="ignore")
    return f"{readable}-{digest}"


class WorkFolder:
    """`with WorkFolder(output, settings) as work:` the folder, locked, with an earlier run's parts kept
    if they were made with the same settings."""

    def __init__(self, output: Path, settings: dict):
        self.path = output.with_name(output.name + ".parts")
        self.settings = settings
        self.lock: int | None = None  # the folder's descriptor, holding the lock

    def __enter__(self) -> "WorkFolder":
        self.take()
        try:
            if not self.made_with_same_settings() and any(self.path.iterdir()):
                print(f"note: {self.path} holds an earlier run made with other settings: starting afresh",
                      file=sys.stderr)
                self.clear()
            write_synced(self.path / "settings.json", json.dumps(self.settings).encode())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.lock is not None:
            os.close(self.lock)  # which releases the lock
            self.lock = None

    def take(self) -> None:
        """Create the folder if need be and lock it; MoodlensError when another run holds it."""
        while self.lock is None:
            self.path.mkdir(exist_ok=True)
            folder = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(folder)
                raise MoodlensError(f"{self.path} is in use by another run writing the same --output: wait for "
                                    "it to end, or choose another --output") from None
            if self.still_there(folder):
                self.lock = folder
            else:  # a run that just ended removed it under us: make it again
                os.close(folder)

    def still_there(self, folder: int) -> bool:
        try:
            return os.path.samestat(os.fstat(folder), os.stat(self.path))
        except FileNotFoundError:
            return False

    def made_with_same_settings(self) -> bool:
        try:
            return json.loads((self.path / "settings.json").read_text()) == self.settings
        except (OSError, ValueError):
            return False

    def clear(self) -> None:
        for entry in self.path.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def part(self, file: str) -> Path:
        return self.path / f"{part_stem(file)}.json"

    def load(self, file: str) -> FileResult | None:
        """The file's saved result; None when it has none, or a damaged one (it is analysed again)."""
        try:
            return FileResult(**json.loads(self.part(file).read_bytes()))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, result: FileResult) -> None:
        """Write one finished file's part; a Ctrl-C meanwhile waits for it (the file's work is done)."""
        with interrupts_deferred():
            write_synced(self.part(result.path), json.dumps(dataclasses.asdict(result)).encode())

    def remove(self) -> None:
        """Delete the folder once the batch is written (the lock goes when the run leaves the `with`)."""
        shutil.rmtree(self.path, ignore_errors=True)
