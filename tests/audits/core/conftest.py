"""Fixtures shared by the partitioned-input and Dask tests: the same ~50,000 rows written as
uneven Parquet partitions, and each way of loading them, loaded and audited once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.source import sample_files
from tests.audits.core.scale_data import CUTS, ROWS, _grow, _load, _results


@pytest.fixture(scope="session")
def churn_parts(tmp_path_factory):
    files = sample_files("churn")
    root = tmp_path_factory.mktemp("scale")
    parts = {"members": _grow(pd.read_csv(files["train"]), ROWS, 1, "M"),
             "nonmembers": _grow(pd.read_csv(files["holdout"]), ROWS, 2, "N")}
    dirs = {}
    for part, frame in parts.items():
        d = root / part
        d.mkdir()
        for i, (a, b) in enumerate(zip(CUTS[:-1], CUTS[1:])):
            frame.iloc[a:b].to_parquet(d / f"part-{i:02d}.parquet", index=False)
        dirs[part] = d
    return {"dirs": dirs, "frames": parts, "root": root, "model": files["model"]}


_WAYS = {"in-memory": dict(partition_rows=10**9),
         "partitioned": dict(partition_rows=0),
         "in-memory sampled": dict(partition_rows=10**9, sample_rows=8_000),
         "partitioned sampled": dict(partition_rows=0, sample_rows=8_000)}


@pytest.fixture(scope="session")
def audited(churn_parts):
    """Each way of loading the same rows, loaded and run once: name -> (subject, results)."""
    done = {}

    def get(way):
        if way not in done:
            subject = _load(churn_parts, n_jobs=1, **_WAYS[way])
            done[way] = (subject, _results(subject))
        return done[way]
    return get


