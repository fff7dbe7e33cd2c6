"""Tables of face records by the output's extension: Parquet (pyarrow), CSV or JSON lines; and the
per-file summary (how often each emotion was seen in each file).

JSON lines keep detect.py's nested record (box as a list, scores, pose and landmarks nested); CSV and
Parquet are flat like detect.py's CSV log: x, y, w, h, one column per emotion's score, the pose and the
landmarks' coordinates. Every file is
written under a temporary name and renamed when complete.
"""

import contextlib
import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from moodlens.batch.analyze import FileResult
from moodlens.detector import UNCERTAIN
from moodlens.errors import MoodlensError
from moodlens.media.files import replaced
from moodlens.media.outputs import LANDMARK_COLUMNS, flat_columns, flat_record

if TYPE_CHECKING:
    import pyarrow

FORMATS = (".parquet", ".csv", ".jsonl")


def check_format(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise MoodlensError(f"--output {path}: expected a name ending in {', '.join(FORMATS)}")


def table_columns(labels: tuple[str, ...]) -> tuple[str, ...]:
    """A flat table's columns: the file's path, then detect.py's CSV log's."""
    return ("path", *flat_columns(labels))


def flat(record: dict, labels: tuple[str, ...]) -> dict:
    """A nested face record as one flat row, as detect.py's CSV log has it, with the file's path."""
    return {"path": record["path"], **flat_record(record, labels)}


def write_csv(rows: list[dict], columns: list[str], path: Path) -> None:
    """Flat rows as CSV with a header, written whole or not at all."""
    with replaced(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def parquet_schema(labels: tuple[str, ...]) -> "pyarrow.Schema":
    import pyarrow as pa

    types = {c: pa.int64() for c in ("frame", "track", "x", "y", "w", "h")}
    types.update((c, pa.float64()) for c in ("time", "confidence", *labels, "roll", "yaw", *LANDMARK_COLUMNS))
    types["turned"] = pa.bool_()
    return pa.schema([(c, types.get(c, pa.string())) for c in table_columns(labels)])


@contextlib.contextmanager
def record_table(path: Path, labels: tuple[str, ...]) -> Iterator[Callable[[list[dict]], None]]:
    """`with record_table(path, labels) as append:` append(records) file by file, so only one file's
    records are ever in memory; in the format `path`'s extension names, renamed into place at the end."""
    suffix = path.suffix.lower()
    with replaced(path) as tmp:
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = parquet_schema(labels)
            with pq.ParquetWriter(tmp, schema) as writer:
                yield lambda records: writer.write_table(
                    pa.Table.from_pylist([flat(r, labels) for r in records], schema=schema))
            return
        with open(tmp, "w", newline="") as f:
            if suffix == ".jsonl":
                yield lambda records: f.writelines(json.dumps(r) + "\n" for r in records)
            else:
                writer = csv.DictWriter(f, table_columns(labels))
                writer.writeheader()
                yield lambda records: writer.writerows(flat(r, labels) for r in records)


def summary_row(result: FileResult, labels: tuple[str, ...]) -> dict:
    """One file at a glance: frames analysed, faces, the share of its faces showing each emotion, or its error."""
    counts = Counter(r["emotion"] for r in result.records)
    faces = len(result.records)
    shares = {f"share_{e}": round(counts[e] / faces, 4) if faces else 0.0 for e in (*labels, UNCERTAIN)}
    return {"path": result.path, "kind": result.kind, "frames": result.frames,
            "frames_with_face": len({r["frame"] for r in result.records}), "faces": faces,
            "duration_s": round(result.duration, 3), **shares, "error": result.error}


def summary_path(output: Path) -> Path:
    """faces.parquet -> faces.summary.csv: one row per file, readable anywhere."""
    return output.with_name(f"{output.stem}.summary.csv")
