"""--engine ray on a local Ray instance with 2 actors gives the same records as the local engine."""

from pathlib import Path

import pytest
from analyze_helpers import analyze_args, read_table

pytest.importorskip("ray")

SOURCES = ("huimiang_1543684773.avi", "fr_two_people.jpg", "fer_no-faces.jpg")


def test_ray_engine_gives_the_local_engines_records_and_summary(run_script, media: Path, tmp_path: Path):
    sources = [media / name for name in SOURCES]
    runs = {engine: run_script(*analyze_args(*sources, "--output", tmp_path / f"{engine}.parquet", "--every", 5,
                                             "--engine", engine, "--workers", 2))
            for engine in ("local", "ray")}
    for engine, run in runs.items():
        assert run.returncode == 0, f"{engine}: {run.stderr[-3000:]}"
    assert "ray engine: 2 actor(s) on 1 node(s)" in runs["ray"].stderr
    assert "local engine: 2 worker process(es)" in runs["local"].stderr
    local, ray = read_table(tmp_path / "local.parquet"), read_table(tmp_path / "ray.parquet")
    assert len(local) == 16  # the clip's 14 analysed frames with one face each, the two people
    assert ray == local
    assert read_table(tmp_path / "ray.summary.csv") == read_table(tmp_path / "local.summary.csv")
