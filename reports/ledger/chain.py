"""The ledger's hash chain: the write lock, appending rows with their events, and recomputing the
chain and its rows.

- **Write lock.** Every write is one transaction that first takes a database-level lock, so that
  concurrent writers (two reviewers, two processes) queue instead of forking the chain: SQLite
  opens the transaction with ``BEGIN IMMEDIATE`` (the database's single writer lock); PostgreSQL
  takes ``pg_advisory_xact_lock`` (released at commit). Under the lock a writer reads the head,
  inserts its rows and their events with consecutive sequence numbers, and commits.
- **Chain.** ``hash_n = SHA-256(canonical JSON of event n's fields, including hash_{n-1} and the
  SHA-256 of the row it records)``; ``hash_0`` is 64 zeros (``reports.ledger.schema``).

A chain that is valid by itself can still be a forged one (every hash recomputed) or a shortened
one: the signed heads and the anchor file (``reports.ledger.anchor``) catch those.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from reports.ledger.schema import GENESIS, ROW_TABLES, event_hash, events, row_hash

__all__ = ["make_engine", "write_lock", "append", "head", "VerifyResult", "event_rows",
           "chain_problems", "row_problems", "now"]

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


# -- verification ------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    """What ``ledger verify`` found: ``ok`` is False when any row was edited or deleted, or the
    anchor, the signed heads, the ledger's key or a user's signature does not check out.

    ``key_fingerprint`` is the ledger key's fingerprint (None when the key is missing);
    ``signatures`` one dict per user signature (``reports.ledger.signing``) with its result.
    """

    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_events: int = 0
    head: tuple[int, str] = (0, GENESIS)
    key_fingerprint: str | None = None
    signatures: list[dict] = field(default_factory=list)


def event_rows(conn, since: int = 0) -> list[dict]:
    """Every event with ``seq >= since``, in order."""
    q = sa.select(events).where(events.c.seq >= since).order_by(events.c.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def chain_problems(rows: list[dict], *, start_prev: str | None = GENESIS) -> list[str]:
    """Recompute a run of consecutive events: missing sequence numbers, an event whose hash does
    not match its content, a link to a previous hash that is not the previous event's.

    ``rows`` start at event 1 (``start_prev`` the genesis hash) or anywhere (``start_prev`` None:
    the first event's link is taken as given)."""
    problems: list[str] = []
    prev, expected = start_prev, rows[0]["seq"] if rows else 1
    for e in rows:
        if e["seq"] != expected:
            span = (f"seq={expected}" if e["seq"] == expected + 1 else
                    f"seq={expected} to seq={e['seq'] - 1}")
            problems.append(f"events row {span} is missing (deleted).")
        if event_hash(e) != e["hash"]:
            problems.append(f"events row seq={e['seq']} was edited (its hash does not match its "
                            "content).")
        elif prev is not None and e["prev_hash"] != prev and e["seq"] == expected:
            problems.append(f"events row seq={e['seq']}: the chain is broken before it (the "
                            "previous event was edited or deleted).")
        prev, expected = e["hash"], e["seq"] + 1
    return problems


def row_problems(conn, rows: list[dict], *, complete: bool = True) -> list[str]:
    """Check the rows the events record: edited (hash differs), deleted, and, when ``rows`` are
    all the events (``complete``), rows that no event records (inserted outside the ledger)."""
    problems: list[str] = []
    recorded: dict[tuple[str, int], tuple[int, str]] = {}
    for e in rows:
        if e["row_table"] is not None:
            recorded[(e["row_table"], e["row_id"])] = (e["seq"], e["row_hash"])
    for name, t in ROW_TABLES.items():
        q = sa.select(t).order_by(t.c.id)
        if not complete:
            ids = [rid for (tn, rid) in recorded if tn == name]
            if not ids:
                continue
            q = q.where(t.c.id.in_(ids))
        present = {r["id"]: dict(r) for r in conn.execute(q).mappings()}
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
    return problems
