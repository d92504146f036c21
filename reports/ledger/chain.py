"""The ledger's hash chain: the write lock, appending rows with their events, the anchor file and
verification.

- **Write lock.** Every write is one transaction that first takes a database-level lock, so that
  concurrent writers (two reviewers, two processes) queue instead of forking the chain: SQLite
  opens the transaction with ``BEGIN IMMEDIATE`` (the database's single writer lock); PostgreSQL
  takes ``pg_advisory_xact_lock`` (released at commit). Under the lock a writer reads the head,
  inserts its rows and their events with consecutive sequence numbers, and commits.
- **Chain.** ``hash_n = SHA-256(canonical JSON of event n's fields, including hash_{n-1} and the
  SHA-256 of the row it records)``; ``hash_0`` is 64 zeros (``reports.ledger.schema``).
- **Anchor.** After each commit the head (sequence number and hash, and the first event's hash)
  is written to an anchor file outside the database (default ``home_dir()/anchors/<key>.json``).
  Deleting the newest events leaves a chain that is valid by itself, but shorter than the anchor:
  :func:`verify` detects it. The anchor only moves forward (a file lock guards it).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from reports.ledger.schema import GENESIS, ROW_TABLES, event_hash, events, row_hash

__all__ = ["make_engine", "write_lock", "append", "head", "verify", "VerifyResult",
           "read_anchor", "write_anchor", "now"]

_PG_LOCK_KEY = 0x52657669657742  # "ReviewB"


def now() -> str:
    """UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_engine(url: str) -> sa.Engine:
    """An engine whose transactions take the database's write lock when they begin (SQLite)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 120})

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):  # the driver must not BEGIN on its own
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@contextlib.contextmanager
def write_lock(engine: sa.Engine):
    """A transaction holding the ledger's write lock (SQLite: BEGIN IMMEDIATE, taken by the
    engine; PostgreSQL: a transaction-level advisory lock)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        yield conn


def head(conn) -> tuple[int, str]:
    """(sequence number, hash) of the newest event, or (0, 64 zeros) for an empty ledger."""
    row = conn.execute(sa.select(events.c.seq, events.c.hash)
                       .order_by(events.c.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def append(conn, table: str | None, values: dict | None, *, kind: str, run_id: int | None,
           actor: str | None, at: str | None = None) -> tuple[int | None, int]:
    """Insert a row (or none) and the event that records it, under the caller's write lock.

    Returns
    -------
    (row id, event sequence number)
    """
    at = at or now()
    row_id, rhash = None, None
    if table is not None:
        t = ROW_TABLES[table]
        result = conn.execute(sa.insert(t).values(**values).returning(t.c.id))
        row_id = result.scalar_one()
        stored = conn.execute(sa.select(t).where(t.c.id == row_id)).mappings().one()
        rhash = row_hash(table, dict(stored))
    seq, prev = head(conn)
    event = {"seq": seq + 1, "at": at, "kind": kind, "run_id": run_id, "actor": actor,
             "row_table": table, "row_id": row_id, "row_hash": rhash, "prev_hash": prev}
    event["hash"] = event_hash(event)
    conn.execute(sa.insert(events).values(**event))
    return row_id, seq + 1


# -- anchor ------------------------------------------------------------------------------------
def read_anchor(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"corrupt": True}


def write_anchor(path: Path, *, seq: int, hash_: str, first: str, url: str) -> None:
    """Move the anchor forward to (seq, hash); never backwards (a slower writer that committed
    earlier must not roll it back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_anchor(path)
        if current and not current.get("corrupt") and current.get("first") == first \
                and current.get("seq", 0) >= seq:
            return
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"url": url, "seq": seq, "hash": hash_, "first": first,
                                   "updated_at": now()}, indent=1), encoding="utf-8")
        os.replace(tmp, path)


# -- verification ------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    """What ``ledger verify`` found: ``ok`` is False when any row was edited or deleted."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_events: int = 0
    head: tuple[int, str] = (0, GENESIS)


def verify(conn, anchor_path: Path | None) -> VerifyResult:
    """Recompute the chain and every row's hash; compare the head with the anchor.

    Names each problem: an edited or missing event (by sequence number), an edited or deleted
    row (by table and id), a row that no event records (inserted outside the ledger), and newest
    events deleted (the chain is shorter than the anchor, or differs from it).
    """
    problems: list[str] = []
    rows = [dict(r) for r in conn.execute(sa.select(events).order_by(events.c.seq)).mappings()]
    prev, expected = GENESIS, 1
    recorded: dict[tuple[str, int], tuple[int, str]] = {}
    for e in rows:
        if e["seq"] != expected:
            span = (f"seq={expected}" if e["seq"] == expected + 1 else
                    f"seq={expected} to seq={e['seq'] - 1}")
            problems.append(f"events row {span} is missing (deleted).")
        if event_hash(e) != e["hash"]:
            problems.append(f"events row seq={e['seq']} was edited (its hash does not match its "
                            "content).")
        elif e["prev_hash"] != prev and e["seq"] == expected:
            problems.append(f"events row seq={e['seq']}: the chain is broken before it (the "
                            "previous event was edited or deleted).")
        if e["row_table"] is not None:
            recorded[(e["row_table"], e["row_id"])] = (e["seq"], e["row_hash"])
        prev, expected = e["hash"], e["seq"] + 1
    for name, t in ROW_TABLES.items():
        present = {}
        for r in conn.execute(sa.select(t).order_by(t.c.id)).mappings():
            present[r["id"]] = dict(r)
        for rid, r in present.items():
            rec = recorded.get((name, rid))
            if rec is None:
                problems.append(f"{name} row id={rid} is not recorded by any event (inserted or "
                                "re-inserted outside the ledger).")
            elif row_hash(name, r) != rec[1]:
                problems.append(f"{name} row id={rid} was edited (event seq={rec[0]} recorded "
                                "different content).")
        for (tname, rid), (seq, _) in recorded.items():
            if tname == name and rid not in present:
                problems.append(f"{name} row id={rid} was deleted (recorded by event "
                                f"seq={seq}).")
    top = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (0, GENESIS)
    notes = []
    anchor = read_anchor(anchor_path) if anchor_path else None
    if anchor is None:
        notes.append(f"No anchor file at {anchor_path}: deleting the newest events could not be "
                     "detected on this machine." if anchor_path else "No anchor file given.")
    elif anchor.get("corrupt"):
        problems.append(f"The anchor file {anchor_path} is unreadable.")
    else:
        first = rows[0]["hash"] if rows else None
        if anchor.get("first") and first and anchor["first"] != first:
            problems.append(f"events row seq=1 differs from the anchor {anchor_path}: this is "
                            "not the ledger the anchor records (replaced or rewritten).")
        elif anchor["seq"] > top[0]:
            problems.append(f"events rows seq={top[0] + 1} to seq={anchor['seq']} are missing: "
                            f"the anchor {anchor_path} records event {anchor['seq']}, the ledger "
                            f"ends at {top[0]} (the newest events were deleted).")
        else:
            at = next((e for e in rows if e["seq"] == anchor["seq"]), None)
            if at is not None and at["hash"] != anchor["hash"]:
                problems.append(f"events row seq={anchor['seq']} differs from the anchor "
                                f"{anchor_path} (the chain was rewritten).")
    return VerifyResult(ok=not problems, problems=problems, notes=notes, n_events=len(rows),
                        head=top)
