"""Running `moodlens analyze` from the repository, and reading back the tables it writes."""

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq

MAIN = "from moodlens.commands import main; main()"  # `python -c MAIN analyze ...` is `moodlens analyze ...`


def analyze_args(*args: object) -> tuple:
    """The arguments for run_script / start_script that run `moodlens analyze ARGS...`."""
    return ("-c", MAIN, "analyze", *args)


def read_table(path: Path) -> list[dict]:
    """The rows of a Parquet, CSV (values as text) or JSON-lines output."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    return [json.loads(line) for line in path.read_text().splitlines()]
