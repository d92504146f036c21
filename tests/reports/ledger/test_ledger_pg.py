"""The ledger on a real PostgreSQL server (a shared board's database): the workflow, tamper
detection and two concurrent writers, as on SQLite.

A throwaway cluster is started with ``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` on a
free loopback port (as the ``postgres`` user when the tests run as root) and removed afterwards.
Under CI (``CI=true``, where ``.ci/run`` installs PostgreSQL) a missing server or driver is a
failure, not a skip; elsewhere the tests skip with the reason.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from reports.ledger import keys
from reports.ledger import schema as S
from tests.reports.ledger.board import make_board
from tests.reports.ledger.test_ledger import (
    concurrent_votes,
    delete_row,
    edit_row,
    open_at,
    populate,
)
from tests.reports.ledger.test_tamper import forge, row_event, truncate

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    """A fresh PostgreSQL cluster for this module; yields its SQLAlchemy URL."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        _unavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
                     "(apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="rb-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        if shutil.which("runuser") is None:
            _unavailable("running as root without runuser to start PostgreSQL as another user")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, user="postgres")
    data, port = root / "data", _free_port()
    run = lambda *cmd: subprocess.run(as_user + [str(c) for c in cmd],  # noqa: E731
                                      capture_output=True, text=True, timeout=120)
    init = run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "rb", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    start = run(bindir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "60", "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    if start.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"the server did not start: {start.stderr.strip()[-300:]} {log[-300:]}")
    url = f"postgresql+psycopg://rb@127.0.0.1:{port}/postgres"
    try:
        for _ in range(50):
            try:
                sa.create_engine(url).connect().close()
                break
            except sa.exc.OperationalError:
                time.sleep(0.2)
        yield url
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _fresh_database(pg_url: str, name: str) -> str:
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return pg_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(autouse=True)
def temp_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_DB", f"sqlite:///{tmp_path / 'unused.db'}")


def test_postgresql_workflow_and_tamper_detection(pg_url, tmp_path, sample_report):
    url = _fresh_database(pg_url, "workflow")
    ledger = open_at(url, tmp_path / "anchor.json")
    assert ledger.engine.dialect.name == "postgresql"
    runs = populate(ledger, sample_report("churn", light=True), tmp_path / "out")
    assert ledger.board_record(runs["second"])["parent"]["run_id"] == runs["first"]
    result = ledger.verify()
    assert result.ok, result.problems
    assert len(result.signatures) == 6 and {c["status"] for c in result.signatures} == \
        {"verified"}
    # a signature altered, then a signer's public key swapped: each named
    with ledger.engine.begin() as conn:
        sig = conn.execute(sa.select(S.user_signatures).order_by(S.user_signatures.c.id)
                           .limit(1)).mappings().one()
        conn.execute(sa.update(S.user_signatures).where(S.user_signatures.c.id == sig["id"])
                     .values(signature=sig["signature"][::-1]))
    assert any(f"user_signatures row id={sig['id']} " in p and "fails" in p
               for p in ledger.verify().problems)
    with ledger.engine.begin() as conn:
        conn.execute(sa.update(S.user_signatures).where(S.user_signatures.c.id == sig["id"])
                     .values(signature=sig["signature"]))
        key = conn.execute(sa.select(S.roster).where(
            (S.roster.c.name == "carol") & (S.roster.c.action == "key_registered"))
        ).mappings().one()
        data = key["data"].replace(json.loads(key["data"])["public_key"],
                                   keys.public_b64(keys.new_key()))
        conn.execute(sa.update(S.roster).where(S.roster.c.id == key["id"]).values(data=data))
    problems = ledger.verify().problems
    assert any(f"roster row id={key['id']} was edited" in p for p in problems)
    assert any("carol's signature of the vote" in p and "public key" in p for p in problems)
    for table in ("votes", "runs", "events"):
        name = edit_row(ledger.engine, table)
        result = ledger.verify()
        assert any(name in p and "edited" in p for p in result.problems), result.problems
    name = delete_row(ledger.engine, "comments")
    assert any(name in p and "deleted" in p for p in ledger.verify().problems)


def test_postgresql_newest_events_deleted(pg_url, tmp_path, sample_report):
    url = _fresh_database(pg_url, "tail")
    ledger = open_at(url, tmp_path / "anchor.json")
    s = make_board(ledger, {"ds": ("submitter",)})
    run = ledger.record_run(sample_report("churn", light=True))
    ledger.submit(run, by=s["ds"])
    top = ledger.head()[0]
    with ledger.engine.begin() as conn:
        conn.execute(sa.delete(S.status_changes))
        conn.execute(sa.delete(S.submissions))
        conn.execute(sa.delete(S.events).where(S.events.c.seq > top - 2))
    result = ledger.verify()
    assert not result.ok and any("newest events were deleted" in p for p in result.problems)


def test_postgresql_forged_and_truncated_chains_refuse_writes(pg_url, tmp_path, sample_report):
    from reports.ledger.anchor import LedgerRefused

    report = sample_report("churn", light=True)
    url = _fresh_database(pg_url, "forged")
    ledger = open_at(url, tmp_path / "anchor.json")
    populate(ledger, report, tmp_path / "out")
    rid, _ = row_event(ledger, "decisions", sa.func.min)
    seq = forge(ledger, "decisions", rid, decision="approve")
    with pytest.raises(LedgerRefused, match=f"events row seq={seq} was rewritten"):
        ledger.record_run(report)
    assert any(f"events row seq={seq} was rewritten" in p for p in ledger.verify().problems)

    url = _fresh_database(pg_url, "truncated")
    ledger = open_at(url, tmp_path / "t" / "anchor.json")
    populate(ledger, report, tmp_path / "out")
    top = ledger.head()[0]
    truncate(ledger, top - 3)
    with pytest.raises(LedgerRefused, match=f"seq={top - 2} to seq={top} are missing"):
        ledger.record_run(report)
    assert any("newest events were deleted" in p for p in ledger.verify().problems)


def test_postgresql_two_processes_voting_at_once(pg_url, tmp_path, sample_report):
    url = _fresh_database(pg_url, "concurrent")
    concurrent_votes(url, tmp_path / "anchor.json", sample_report("churn", light=True))
