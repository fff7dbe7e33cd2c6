"""Writing a file whole or not at all (into a hidden sibling, renamed over the target when complete),
durably where it must survive a power loss, and a file's content digest."""

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


def temporary_name(path: Path) -> Path:
    """A hidden sibling name for writing `path` before the rename; keeps the suffix (codecs, h5py need it)."""
    return path.with_name(f".{path.stem}.part{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """`with replaced(path) as tmp:` write tmp; on success it becomes `path`, on any error it is removed."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_synced(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, and durably: the bytes reach the disk before the rename makes them
    the file, and the rename before this returns (after a power loss the file is whole, or absent)."""
    with replaced(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
