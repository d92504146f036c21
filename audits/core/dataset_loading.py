"""Reading members and non-members of any size: in memory, or partition by partition.

:func:`read_parts` is the loader's data step for Parquet inputs (one file, a folder, a glob).
It opens the datasets from their metadata and checks every file's schema before reading a row
(:func:`audits.core.partitions.open_dataset`). Then the path is chosen by size: up to
``partition_rows`` rows in all, the files are read whole (the in-memory path, as for a CSV);
above it, one scan over the partitions (through the parallel layer) draws the keyed-hash sample
(:func:`audits.core.counts.row_keys`), keeps each row's key for the members/holdout overlap
check and counts what must be checked over every row (empty and unknown target values,
infinite values), naming the file of each problem. The rest of the checks run on the sample.

:func:`sample_frames` is the in-memory path's twin: a part with more than ``sample_rows`` rows
keeps the same keyed-hash sample in the subject's frames and all its rows in a
:class:`~audits.core.partitions.Population` for the counts, so both paths draw the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core.counts import key_threshold, row_keys
from audits.core.errors import InputError
from audits.core.numbers import pct
from audits.core.partitions import (
    PARQUET_SUFFIXES,
    Chunk,
    Dataset,
    Population,
    is_dataset,
    open_dataset,
)

__all__ = ["read_parts", "sample_frames", "is_partitioned_input", "check_scan", "scan_target_map",
           "DEFAULT_PARTITION_ROWS", "DEFAULT_SAMPLE_ROWS", "Parts"]

#: Inputs with more rows than this (members and holdout together) are read partition by
#: partition (``AuditConfig.partition_rows``).
DEFAULT_PARTITION_ROWS = 2_000_000
#: Most rows per part the sampled parts of the audit read (``AuditConfig.sample_rows``).
DEFAULT_SAMPLE_ROWS = 400_000

_FIELD = {"members": "train", "nonmembers": "holdout"}


def is_partitioned_input(train_path, holdout_path, *, partition_rows: int) -> bool:
    """Read through :func:`read_parts`: a folder or a glob, or Parquet files with more than
    ``partition_rows`` rows in all (other files are read whole by the loader)."""
    paths = [p for p in (train_path, holdout_path) if p is not None]
    if any(is_dataset(p) for p in paths):
        return True
    if not all(Path(str(p)).suffix.lower() in PARQUET_SUFFIXES and Path(str(p)).is_file()
               for p in paths):
        return False
    import pyarrow.parquet as pq

    try:
        return sum(pq.read_metadata(p).num_rows for p in paths) > partition_rows
    except Exception:  # the loader names the unreadable file
        return False


@dataclass(frozen=True, eq=False)
class Parts:
    """The data step's result: the frames (all rows or the sample), file names and hashes,
    the population (None when the frames hold every row) and the scan's whole-data counts."""

    members: pd.DataFrame
    nonmembers: pd.DataFrame
    names: dict
    files: dict
    hashes: dict | None
    population: Population | None
    scan: dict | None


def _scan(item) -> dict:
    """One partition: its sampled rows, every row's key, and the counts checked on all rows."""
    chunk, threshold, id_column, seed, target, split = item
    frame = chunk.read()
    out: dict[str, Any] = {"file": Path(chunk.path).name if chunk.path else "memory"}
    if split is not None:
        from audits.core.loading import split_unknown

        raw = pd.read_parquet(chunk.path, columns=[split])[split]
        out["split_unknown"] = split_unknown(raw)[:5]
    keys = row_keys(frame, id_column=id_column, seed=seed)
    out["keys"] = keys
    out["sample"] = frame if threshold is None else frame.loc[keys < threshold]
    out["rows"] = len(frame)
    if target in frame.columns:
        out["target"] = frame[target].value_counts(dropna=False)
    inf = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            n = int(np.isinf(s.to_numpy(dtype=float, na_value=np.nan)).sum())
            if n:
                inf[col] = n
    out["inf"] = inf
    return out


def _datasets(train_path, holdout_path, split_column) -> dict[str, Dataset]:
    if holdout_path is None:
        return {"data": open_dataset(train_path, what="data file", field="train")}
    specs = {"members": (train_path, "training (members) file", "train"),
             "nonmembers": (holdout_path, "holdout (non-members) file", "holdout")}
    # the folder or glob first: its own problem (no Parquet in it) is the one to name, before a
    # single file beside it that is not Parquet
    order = sorted(specs, key=lambda p: not is_dataset(specs[p][0]))
    opened = {p: open_dataset(specs[p][0], what=specs[p][1], field=specs[p][2]) for p in order}
    return {p: opened[p] for p in ("members", "nonmembers")}


def _chunks(ds: dict[str, Dataset], split_column: str | None) -> dict[str, tuple[Chunk, ...]]:
    if "data" in ds:
        if split_column is None:
            raise InputError(msg.HOLDOUT_MISSING)
        return {p: tuple(Chunk(path=f, split=(split_column, p == "members"))
                         for f in ds["data"].files) for p in ("members", "nonmembers")}
    return {p: tuple(Chunk(path=f) for f in ds[p].files) for p in ("members", "nonmembers")}


def read_parts(train_path, holdout_path, *, split_column: str | None, id_column: str | None,
               seed: int, target: str, personal: Sequence[str] = (),
               sample_rows: int = DEFAULT_SAMPLE_ROWS,
               partition_rows: int = DEFAULT_PARTITION_ROWS,
               n_jobs: int | None = None) -> Parts:
    """Read Parquet members and holdout (files, folders or globs) by the path their size picks.

    Raises
    ------
    InputError : a file that does not fit the dataset's schema (before any row is read), a
        split column with values that name neither part, empty target values (naming the file).
    """
    from audits.core.loading import _split
    from audits.core.parallel import parallel_map

    ds = _datasets(train_path, holdout_path, split_column)
    names = ({"members": Path(str(train_path)).name, "nonmembers": Path(str(train_path)).name}
             if "data" in ds else {p: Path(str(d.name)).name for p, d in ds.items()})
    files = {("data" if p == "data" else p): {"path": Path(d.name).name, "sha256": d.sha256(),
                                              "files": len(d.files), "rows": d.n_rows}
             for p, d in ds.items()}
    hashes = None if "data" in ds else {p: files[p]["sha256"] for p in ds}
    total = sum(d.n_rows for d in ds.values())
    chunks = _chunks(ds, split_column)
    if total <= partition_rows:  # the in-memory path: read whole
        if "data" in ds:
            both = pd.concat([Chunk(path=f).read() for f in ds["data"].files], ignore_index=True)
            members, nonmembers = _split(both, split_column, Path(str(train_path)), personal)
        else:
            members, nonmembers = (pd.concat([c.read() for c in chunks[p]], ignore_index=True)
                                   for p in ("members", "nonmembers"))
        return Parts(members, nonmembers, names, files, hashes, None, None)
    if "data" in ds and split_column not in ds["data"].columns:
        raise InputError(msg.SPLIT_COLUMN_MISSING, column=split_column, file=names["members"],
                         columns=list(ds["data"].columns))
    if "data" in ds:  # one file holds both parts: count them from the split column alone
        from audits.core.loading import member_mask

        n_members = sum(int(member_mask(pd.read_parquet(f, columns=[split_column])[
            split_column]).sum()) for f in ds["data"].files)
        rows = {"members": n_members, "nonmembers": ds["data"].n_rows - n_members}
    else:
        rows = {p: ds[p].n_rows for p in chunks}
    scans = {}
    for part, part_chunks in chunks.items():
        thr = key_threshold(rows[part], sample_rows)
        items = [(c, thr, id_column, seed, target, split_column) for c in part_chunks]
        scans[part] = parallel_map(_scan, items, n_jobs=n_jobs)
    for s in scans["members"]:
        if s.get("split_unknown"):
            raise InputError(msg.SPLIT_VALUES_UNKNOWN, column=split_column, file=s["file"],
                             values=s["split_unknown"])
    frames = {p: pd.concat([s["sample"] for s in scans[p]], ignore_index=True) for p in scans}
    scan = {p: {"files": [s["file"] for s in scans[p]], "target": [s.get("target")
                                                                    for s in scans[p]],
                "inf": [s["inf"] for s in scans[p]],
                "keys": np.concatenate([s["keys"] for s in scans[p]])} for p in scans}
    population = Population(chunks=chunks, rows=rows, path="partitioned",
                            sample_rows=sample_rows)
    return Parts(frames["members"], frames["nonmembers"], names, files, hashes, population,
                 scan)


def check_scan(scan: dict, *, target: str, names: dict, max_shared: float) -> None:
    """The checks on every row of a partitioned input, from the scan's counts, before the
    checks on the sample: empty target values and infinite values (naming the file), and the
    holdout's rows that are also training rows (by key: the id, or the whole row)."""
    for s in scan.values():
        for file, counts, inf in zip(s["files"], s["target"], s["inf"]):
            n_na = 0 if counts is None else int(counts[counts.index.isna()].sum())
            if n_na:
                raise InputError(msg.DATASET_TARGET_VALUES, column=target, n=n_na, file=file)
            if inf:
                col = sorted(inf)[0]
                raise InputError(msg.DATASET_INFINITE, column=col, n=inf[col], file=file)
    members, holdout = scan["members"]["keys"], scan["nonmembers"]["keys"]
    shared = int(np.isin(holdout, members).sum())
    if holdout.size and shared > max_shared * holdout.size:
        raise InputError(msg.ROWS_SHARED, share=pct(shared / holdout.size), n=shared,
                         total=int(holdout.size), nonmembers=names["nonmembers"],
                         members=names["members"], how="keyed hashes of the id or whole row",
                         limit=pct(max_shared), field="holdout")


def scan_target_map(scan: dict, *, target: str, classes: Sequence[Any] | None) -> dict:
    """Target values the model does not know, in any file (a classifier), and the target map
    (file value -> model class) when their types differ."""
    if classes is None:
        return {}
    distinct = set()
    for s in scan.values():
        for file, counts in zip(s["files"], s["target"]):
            if counts is None:
                continue
            unknown = [v for v in counts.index if not any(v == c or str(v) == str(c)
                                                          for c in classes)]
            if unknown:
                raise InputError(msg.DATASET_TARGET_UNKNOWN, column=target, file=file,
                                 values=[_plain(v) for v in unknown[:5]],
                                 classes=[_plain(c) for c in classes])
            distinct.update(counts.index)
    if not distinct:
        return {}
    dtype = np.asarray(list(classes)).dtype
    if all(np.asarray([v]).dtype == dtype for v in distinct):
        return {}
    return {v: c for v in distinct for c in classes if str(v) == str(c)}


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def sample_frames(members: pd.DataFrame, nonmembers: pd.DataFrame, *, keys: dict,
                  sample_rows: int) -> tuple[pd.DataFrame, pd.DataFrame, Population | None]:
    """The in-memory path's sample: a part over ``sample_rows`` keeps its keyed-hash sample in
    the frames and every row in the returned population (None when both parts are small)."""
    frames = {"members": members, "nonmembers": nonmembers}
    rows = {p: len(f) for p, f in frames.items()}
    if all(n <= sample_rows for n in rows.values()):
        return members, nonmembers, None
    out = {}
    for p, f in frames.items():
        thr = key_threshold(len(f), sample_rows)
        out[p] = f if thr is None else f.loc[keys[p] < thr].reset_index(drop=True)
    chunks = {p: (Chunk(frame=f),) for p, f in frames.items()}
    return out["members"], out["nonmembers"], Population(chunks=chunks, rows=rows,
                                                         path="in-memory",
                                                         sample_rows=sample_rows)
