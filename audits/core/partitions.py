"""Partitioned input: a Parquet dataset (a folder of files, or a glob) read file by file.

A dataset is opened from its metadata alone (:func:`open_dataset`): the files, their rows and
their schema. Every file's schema is checked against the first file's before any work starts
(a column missing from one file, a column only one file has, a column whose type differs), and
each problem raises :class:`~audits.core.errors.InputError` naming the file, the column and the
fix. Rows are then read one file at a time (:meth:`Chunk.read`), so memory follows the size of
a file, not of the dataset.

A :class:`Population` is what the counting parts of an audit map over: for each part (members,
non-members) a tuple of chunks, each a Parquet file or a frame already in memory. The in-memory
path and the partitioned path give the same chunks' rows, so their counts are equal
(:mod:`audits.core.counts`).
"""

from __future__ import annotations

import glob as _glob
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from audits.core import messages as msg
from audits.core.errors import InputError

__all__ = ["Dataset", "Chunk", "Population", "open_dataset", "is_dataset", "PARQUET_SUFFIXES"]

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Dataset:
    """A Parquet dataset: its files in order, their rows, and the schema they share.

    Parameters
    ----------
    name : how messages and the report name it (the folder or the glob as given).
    files : the files, sorted by path.
    rows : rows of each file (from the Parquet footers).
    columns : column name -> Arrow type, as text.
    """

    name: str
    files: tuple[str, ...]
    rows: tuple[int, ...]
    columns: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(sum(self.rows))

    def sha256(self) -> str:
        """SHA-256 over the files' names and contents, in order (the dataset's fingerprint)."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(Path(f).name.encode() + b"\0")
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        return h.hexdigest()


def is_dataset(path: str | Path) -> bool:
    """True for a folder or a glob pattern (a partitioned input); False for one file."""
    text = str(path)
    return Path(text).is_dir() or any(ch in text for ch in "*?[")


def _files_of(path: str | Path, what: str, field_: str) -> list[Path]:
    text = str(path)
    if Path(text).is_dir():
        files = sorted(p for p in Path(text).rglob("*") if p.is_file()
                       and p.suffix.lower() in PARQUET_SUFFIXES)
    else:
        files = sorted(Path(p) for p in _glob.glob(text, recursive=True) if Path(p).is_file())
    if not files:
        raise InputError(msg.DATASET_NO_FILES, what=what, path=text, field=field_)
    others = [p.name for p in files if p.suffix.lower() not in PARQUET_SUFFIXES]
    if others:
        raise InputError(msg.DATASET_NOT_PARQUET, what=what, path=text, files=others[:5],
                         field=field_)
    return files


def open_dataset(path: str | Path, *, what: str = "data file", field: str = "train") -> Dataset:
    """Open a Parquet dataset from its files' metadata and check that every file fits.

    Parameters
    ----------
    path : a folder (its ``.parquet``/``.pq`` files, recursively) or a glob pattern.
    what : how messages name it ("training (members) file").
    field : the input field that gave it (keys of :data:`audits.core.messages.FIELDS`).

    Raises
    ------
    InputError : no file; a file that is not Parquet or cannot be read; a file with no rows;
        a file whose columns or column types differ from the first file's (naming both files
        and the column).
    """
    import pyarrow.parquet as pq

    files = _files_of(path, what, field)
    schemas, rows = [], []
    for f in files:
        try:
            meta = pq.read_metadata(f)
            schema = pq.read_schema(f)
        except Exception as e:
            raise InputError(msg.TABLE_UNREADABLE, what=what, path=f, kind="Parquet",
                             field=field, error=f"{type(e).__name__}: {str(e)[:200]}") from e
        schemas.append({str(n): str(t) for n, t in zip(schema.names, schema.types)
                        if not str(n).startswith("__index_level_")})
        rows.append(int(meta.num_rows))
    first = schemas[0]
    for f, s, n in zip(files, schemas, rows):
        if n == 0:
            raise InputError(msg.TABLE_NO_ROWS, what=what, path=f, field=field)
        missing = [c for c in first if c not in s]
        extra = [c for c in s if c not in first]
        if missing or extra:
            raise InputError(msg.DATASET_COLUMNS_DIFFER, what=what, file=f.name,
                             first=files[0].name, missing=missing, extra=extra, field=field)
        for c, t in s.items():
            if not _same_type(first[c], t):
                raise InputError(msg.DATASET_TYPE_DIFFERS, what=what, file=f.name, column=c,
                                 type=t, first=files[0].name, first_type=first[c],
                                 field=field)
    return Dataset(name=str(path), files=tuple(str(f) for f in files), rows=tuple(rows),
                   columns=dict(first))


def _same_type(a: str, b: str) -> bool:
    """Arrow types that read into the same pandas type (large_string and string are one)."""
    def norm(t: str) -> str:
        return t.replace("large_", "").replace("not null", "").strip()
    return norm(a) == norm(b)


@dataclass(frozen=True, eq=False)
class Chunk:
    """One partition of one part: a Parquet file, or a frame already in memory.

    ``split`` (column, keep members?) keeps the rows of one part when a file holds both.
    """

    path: str | None = None
    frame: Any = field(default=None, repr=False)
    split: tuple | None = None

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        if self.frame is not None:
            out = self.frame if columns is None else self.frame[columns]
        else:
            read_cols = columns if columns is None or self.split is None else \
                list(dict.fromkeys([*columns, self.split[0]]))
            out = pd.read_parquet(self.path, columns=read_cols)
            out.columns = [str(c) for c in out.columns]
        if self.split is not None:
            from audits.core.loading import member_mask

            keep = member_mask(out[self.split[0]])
            out = out.loc[keep if self.split[1] else ~keep].drop(columns=[self.split[0]])
            if columns is not None:
                out = out[columns]
        return out.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Population:
    """Every row of each part, as chunks to map over, and how the audit got them.

    Parameters
    ----------
    chunks : part -> tuple of :class:`Chunk`.
    rows : part -> rows in all its chunks.
    path : ``partitioned`` (read file by file) or ``in-memory`` (read whole).
    sample_rows : the most rows per part the sampled parts of the audit read (the subject's
        frames hold a keyed-hash sample of about this many rows when a part has more).
    target_map : file value -> model class, when the target's type differs from the classes'.
    memo : counts over every row already computed (by :mod:`audits.core.group_counts`), keyed
        by what they depend on: a pure function of the rows, kept so that one pass serves the
        performance and fairness probes and the drill-down.
    """

    chunks: dict
    rows: dict
    path: str
    sample_rows: int
    target_map: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        return {"path": self.path, "rows": dict(self.rows),
                "partitions": {p: len(c) for p, c in self.chunks.items()},
                "sample_rows": self.sample_rows}
