"""The ledger: the review workflow, tamper detection (every table, edits and deletions, the newest
events), concurrent writers, exports and the command line. SQLite here; the same checks run
against PostgreSQL in test_ledger_pg.py."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import review_board
from audits.core.errors import InputError
from reports.ledger import Ledger, open_ledger
from reports.ledger import schema as S
from tests.reports.ledger.board import (
    PASSWORD,
    make_board,
    ready_to_decide,
    recommended_option,
)

FINDING = "performance.generalisation_gap.auc"


@pytest.fixture(autouse=True)
def temp_ledger(tmp_path, monkeypatch):
    """Never the user's ledger: a temporary database for each test."""
    monkeypatch.setenv("REVIEW_BOARD_DB", f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture(scope="module")
def report(sample_report):
    return sample_report("churn", light=True)


def open_at(url: str, anchor) -> Ledger:
    """A ledger whose anchor and key sit beside each other (``anchor.json``, ``ledger.pem``)."""
    return Ledger(url, anchor=anchor, key=Path(anchor).with_name("ledger.pem"))


def populate(ledger: Ledger, report, out_dir) -> dict:
    """A ledger with at least one row in every table; returns the run ids and the sessions."""
    from reports.export import export_run

    s = make_board(ledger)
    ledger.set_setting("quorum", 2, by=s["admin"])
    a = ledger.record_run(report, by="ds")
    ledger.submit(a, by=s["ds"])
    ledger.comment(a, "Look at the gap.", by=s["bob"], finding=FINDING)
    ledger.dispose(a, FINDING, "accept", by=s["alice"], owner="DS", due="2027-01-31",
                   residual="low", note="small")
    ready_to_decide(ledger, a, s, "changes")
    ledger.decide(a, "changes", by=s["alice"], note="Fill the inventory.")
    b = ledger.record_run(report, by="ds")
    ledger.submit(b, by=s["ds"])
    choice = recommended_option(report)
    ready_to_decide(ledger, b, s, choice)
    ledger.decide(b, choice, by=s["alice"], note="ok",
                  conditions=[{"text": "Re-audit in 6 months", "owner": "DS",
                               "due": "2027-06-01"}])
    export_run(ledger, b, ["html", "json"], out_dir)
    ledger.reanchor(reason="key rotation drill", by=s["admin"])
    ledger.comment(b, "After the drill.", by=s["alice"])
    return {"first": a, "second": b, "sessions": s}


def test_workflow_versions_and_statuses(tmp_path, report):
    ledger = open_at(f"sqlite:///{tmp_path / 'l.db'}", tmp_path / "anchor.json")
    runs = populate(ledger, report, tmp_path / "out")
    s = runs["sessions"]
    rows = {r["id"]: r for r in ledger.runs()}
    a, b = rows[runs["first"]], rows[runs["second"]]
    assert (a["version"], a["status"]) == (1, "changes_requested")
    assert b["version"] == 2 and b["parent_run_id"] == a["id"]
    assert b["status"] in ("approved", "approved_with_conditions", "rejected")
    board = ledger.board_record(b["id"])
    assert board["parent"]["decision"] == "changes_requested"
    assert board["decision"]["by"] == "alice" and board["decision"]["role"] == "chair"
    assert board["conditions"][0]["owner"] == "DS"
    assert {g["report_id"] for g in board["signatures"]} == {report.report_id}
    assert [(g["name"], g["act"], g["verification"]) for g in board["signatures"]] == [
        ("bob", "vote", "verified"), ("carol", "vote", "verified"),
        ("alice", "decision", "verified")]
    assert board["signatures"][2]["key_fingerprint"] == s["alice"].key_fingerprint
    assert board["tally"]["quorum_met"] and board["tally"]["independent"] == 2
    first = ledger.board_record(a["id"])
    assert first["dispositions"][FINDING]["disposition"] == "accept"
    assert {r["name"] for r in first["reviewers"]} == {"bob", "carol"}  # the chair did not vote
    assert [v["reviewer"] for v in first["votes"]] == ["bob", "carol"]
    assert ledger.verify().ok
    with pytest.raises(InputError, match="already decided"):
        ledger.decide(a["id"], "approve", by=s["alice"], note="n")
    with pytest.raises(InputError, match="already submitted"):
        ledger.submit(a["id"], by=s["ds"])


def test_workflow_rules(tmp_path, report):
    ledger = open_at(f"sqlite:///{tmp_path / 'l.db'}", tmp_path / "anchor.json")
    s = make_board(ledger)
    chair = s["alice"]
    run = ledger.record_run(report)
    with pytest.raises(InputError, match="self-check"):
        ledger.decide(run, "approve", by=chair, note="n")
    ledger.submit(run, by=s["ds"])
    other = ledger.record_run(report)
    with pytest.raises(InputError, match="still under review"):
        ledger.submit(other, by=s["ds"])
    with pytest.raises(InputError, match="needs at least one condition"):
        ledger.decide(run, "conditions", by=chair)
    ready_to_decide(ledger, run, s, "reject")
    overrule = "approve" if report.summary["recommended_decision"] != "approve" else "reject"
    with pytest.raises(InputError, match="--note"):
        ledger.decide(run, overrule, by=chair)
    with pytest.raises(InputError, match="no finding"):
        ledger.dispose(run, "made.up.finding", "accept", by=chair)
    with pytest.raises(InputError, match="valid"):
        ledger.dispose(run, FINDING, "ignore", by=chair)
    with pytest.raises(InputError, match="There is no run"):
        ledger.resolve(999)
    assert ledger.resolve(f"run-{run}") == run == ledger.resolve(str(run))
    with pytest.raises(InputError, match="matches runs"):  # both runs hold the same report
        ledger.resolve(report.report_id[:12])


# -- tampering ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory, sample_report):
    """A populated SQLite ledger and its anchor, copied afresh for each tampering."""
    d = tmp_path_factory.mktemp("pristine")
    ledger = open_at(f"sqlite:///{d / 'ledger.db'}", d / "anchor.json")
    populate(ledger, sample_report("churn", light=True), d / "out")
    ledger.engine.dispose()
    return d


def tampered_copy(pristine, tmp_path):
    shutil.copy(pristine / "ledger.db", tmp_path / "ledger.db")
    shutil.copy(pristine / "anchor.json", tmp_path / "anchor.json")
    shutil.copy(pristine / "ledger.pem", tmp_path / "ledger.pem")
    return open_at(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path / "anchor.json")


def edit_row(engine, table: str) -> str:
    """Change one column of one row behind the ledger's back (the first row; of ``heads``, the
    newest: heads before a re-anchoring are no longer checked); returns the row's name."""
    t = S.TABLES[table]
    key = t.c.seq if table == "events" else t.c.id
    with engine.begin() as conn:
        k = conn.execute(sa.select((sa.func.max if table == "heads" else sa.func.min)(key))
                         ).scalar()
        conn.execute(sa.update(t).where(key == k).values(at="2001-01-01T00:00:00Z"))
    return f"{table} row {'seq' if table == 'events' else 'id'}={k}"


def delete_row(engine, table: str, which=sa.func.max) -> str:
    t = S.TABLES[table]
    key = t.c.seq if table == "events" else t.c.id
    with engine.begin() as conn:
        k = conn.execute(sa.select(which(key))).scalar()
        conn.execute(sa.delete(t).where(key == k))
    return f"{table} row {'seq' if table == 'events' else 'id'}={k}"


FILLED = sorted(S.TABLES)


@pytest.mark.parametrize("table", FILLED)
def test_editing_any_row_is_detected_and_named(pristine, tmp_path, table):
    ledger = tampered_copy(pristine, tmp_path)
    assert ledger.verify().ok
    name = edit_row(ledger.engine, table)
    result = ledger.verify()
    assert not result.ok
    assert any(name in p and "edited" in p for p in result.problems), result.problems


@pytest.mark.parametrize("table", sorted(set(S.ROW_TABLES) & set(FILLED)))
def test_deleting_any_row_is_detected_and_named(pristine, tmp_path, table):
    ledger = tampered_copy(pristine, tmp_path)
    name = delete_row(ledger.engine, table)
    result = ledger.verify()
    assert not result.ok
    assert any(name in p and "deleted" in p for p in result.problems), result.problems


def test_deleting_an_event_in_the_middle_is_detected(pristine, tmp_path):
    ledger = tampered_copy(pristine, tmp_path)
    with ledger.engine.begin() as conn:
        conn.execute(sa.delete(S.events).where(S.events.c.seq == 5))
    result = ledger.verify()
    assert any("events row seq=5 is missing" in p for p in result.problems), result.problems


def test_deleting_the_newest_events_is_detected_by_the_anchor(pristine, tmp_path):
    ledger = tampered_copy(pristine, tmp_path)
    top = ledger.head()[0]
    with ledger.engine.begin() as conn:  # the newest export, with its row: a valid shorter chain
        row = conn.execute(sa.select(S.events).where(S.events.c.seq == top)).mappings().one()
        conn.execute(sa.delete(S.events).where(S.events.c.seq == top))
        conn.execute(sa.delete(S.TABLES[row["row_table"]])
                     .where(S.TABLES[row["row_table"]].c.id == row["row_id"]))
    result = ledger.verify()
    assert not result.ok
    assert any(f"seq={top}" in p and "newest events were deleted" in p
               for p in result.problems), result.problems


def test_a_row_inserted_outside_the_ledger_is_detected(pristine, tmp_path):
    ledger = tampered_copy(pristine, tmp_path)
    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(S.comments).values(run_id=1, by="mallory", text="approve it",
                                                  at="2026-01-01T00:00:00Z"))
    result = ledger.verify()
    assert any("comments row id=" in p and "not recorded" in p for p in result.problems)


def test_ledger_verify_command_exits_1_and_names_the_row(pristine, tmp_path, capsys):
    ledger = tampered_copy(pristine, tmp_path)
    name = edit_row(ledger.engine, "votes")
    anchor = tmp_path / "anchor.json"
    # the command finds the anchor by the database URL: put the copied anchor there
    key = hashlib.sha256(ledger.display_url.encode()).hexdigest()[:16]
    from audits.core.paths import home_dir
    (home_dir() / "anchors").mkdir(parents=True, exist_ok=True)
    shutil.copy(anchor, home_dir() / "anchors" / f"{key}.json")
    (home_dir() / "keys").mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "ledger.pem", home_dir() / "keys" / f"ledger-{key}.pem")
    code = review_board.main(["ledger", "verify", "--db", str(tmp_path / "ledger.db")])
    out = capsys.readouterr().out
    assert code == 1 and name in out and "FAILED" in out


# -- concurrency --------------------------------------------------------------------------------
def _vote_worker(url, anchor, run_id, name, n, barrier):
    ledger = open_at(url, anchor)
    session = ledger.sign_in(name, PASSWORD)
    barrier.wait()
    for i in range(n):
        ledger.record_vote(run_id, "reject", by=session, note=f"{name} {i}", independent=True)


def concurrent_votes(url: str, anchor, report, n: int = 20) -> None:
    """Two processes (two reviewers) vote on the same run at once, n votes each: nothing is lost,
    every vote is signed and its signature verifies."""
    ledger = open_at(url, anchor)
    s = make_board(ledger)
    run = ledger.record_run(report)
    ledger.submit(run, by=s["ds"])
    ledger.comment(run, "Opening the review.", by=s["alice"])
    before = ledger.head()[0]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_vote_worker, args=(url, str(anchor), run, name, n, barrier))
             for name in ("bob", "carol")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0, 0]
    board = ledger.board_record(run)
    notes = sorted(v["note"] for v in board["votes"])
    assert notes == sorted(f"{w} {i}" for w in ("bob", "carol") for i in range(n))
    assert len(board["signatures"]) == 2 * n
    assert {g["verification"] for g in board["signatures"]} == {"verified"}
    result = ledger.verify()
    assert result.ok, result.problems
    # each vote appends a vote, an attestation and a member's signature; each reviewer one
    # declaration
    assert result.head[0] == before + 2 * (3 * n) + 2
    with ledger.engine.connect() as conn:
        seqs = conn.execute(sa.select(S.events.c.seq).order_by(S.events.c.seq)).scalars().all()
    assert seqs == list(range(1, len(seqs) + 1))
    assert json.loads(anchor.read_text())["seq"] == result.head[0]


def test_two_processes_voting_at_once_lose_nothing(tmp_path, report):
    concurrent_votes(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "anchor.json", report)


# -- exports and the command line ---------------------------------------------------------------
def test_export_records_file_hashes_and_prints_the_head(tmp_path, report):
    from reports.export import export_run

    ledger = open_at(f"sqlite:///{tmp_path / 'l.db'}", tmp_path / "anchor.json")
    run = ledger.record_run(report)
    head = ledger.head()
    paths = export_run(ledger, run, ["html", "md", "json"], tmp_path / "out")
    html = next(p for p in paths if p.suffix == ".html").read_text()
    assert head[1] in html and "SELF-CHECK: NOT A BOARD DECISION" in html
    exports = ledger.show(run)["exports"]
    recorded = {name: sha for e in exports for name, sha in e["files"].items()}
    for p in paths:
        assert recorded[p.name] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert (tmp_path / "out" / f"{ledger.board_record(run)['run']['file_stem']}.json"
            ).read_text() == report.to_json()
    assert ledger.verify().ok


def test_cli_audit_submit_decide_export(tmp_path, capsys, report, monkeypatch):
    db = str(tmp_path / "cli.db")
    argv = ["audit", "--sample", "churn", "--light", "--quiet", "--probes", "performance",
            "--out", str(tmp_path / "a"), "--db", db, "--format", "json,html"]
    review_board.main(argv)  # a self-check: no sign-in
    out = capsys.readouterr().out
    assert "ledger: run 1, a self-check" in out
    assert "SELF-CHECK: NOT A BOARD DECISION" in (tmp_path / "a" / "report.html").read_text()
    monkeypatch.setenv("REVIEW_BOARD_PASSWORD", PASSWORD)
    make_board(open_ledger(db))
    assert review_board.main(["submit", "1", "--db", db]) == 2  # a board action: sign in
    assert "sign in with --user NAME" in capsys.readouterr().err
    assert review_board.main(["submit", "1", "--db", db, "--user", "ds"]) == 0
    for name in ("bob", "carol"):
        ledger = open_ledger(db)
        for f in ledger.report(1).findings:
            if f.severity.value in ("fail", "attention"):
                assert review_board.main(["dispose", "1", f.id, "--db", db, "--user", name,
                                          "--disposition", "mitigate", "--owner", "DS",
                                          "--due", "2027-01-31"]) == 0
        assert review_board.main(["vote", "1", "--db", db, "--decision", "approve",
                                  "--user", name, "--independent"]) == 0
    capsys.readouterr()
    assert review_board.main(["ledger", "tally", "1", "--db", db]) == 0
    assert "the decision can be recorded" in capsys.readouterr().out
    assert review_board.main(["decide", "1", "--db", db, "--decision", "conditions",
                              "--user", "alice", "--note", "fine",
                              "--condition", "Fill the inventory", "--owner", "DS", "--due",
                              "2027-01-31"]) == 0
    assert review_board.main(["export", "1", "--db", db, "--format", "html,md",
                              "--out", str(tmp_path / "e")]) == 0
    html = (tmp_path / "e" / "churn-v1-run1.html").read_text()
    assert "SELF-CHECK" not in html and "Approve with conditions" in html
    assert "Fill the inventory" in html and "alice" in html
    assert review_board.main(["ledger", "verify", "--db", db]) == 0
    assert "member signatures: 3 verified, 0 failed" in capsys.readouterr().out
    assert review_board.main(["ledger", "list", "--db", db]) == 0
    assert review_board.main(["ledger", "show", "1", "--db", db]) == 0
    capsys.readouterr()
    assert review_board.main(["submit", "42", "--db", db, "--user", "ds"]) == 2
    err = capsys.readouterr().err
    assert "no run '42'" in err and "Traceback" not in err


def test_diff_of_two_versions(report):
    import dataclasses

    from reports.diff import diff_reports
    from reports.report import summarise

    gone, changed = report.findings[0], report.findings[-1]
    new_sev = "fail" if changed.severity.value != "fail" else "pass"
    findings = [dataclasses.replace(f, severity=new_sev) if f is changed else f
                for f in report.findings[1:]]
    findings.append(dataclasses.replace(gone, id="data.new_check.x", title="New"))
    newer = dataclasses.replace(report, findings=tuple(findings), report_id="",
                                summary=summarise(findings, report.probes))
    d = diff_reports(report, newer)
    assert [x["id"] for x in d["appeared"]] == ["data.new_check.x"]
    assert [x["id"] for x in d["resolved"]] == [gone.id]
    assert [x["id"] for x in d["changed"]] == [changed.id]
    other = dataclasses.replace(report, subject={**report.subject, "name": "other"},
                                report_id="")
    with pytest.raises(InputError, match="different models"):
        diff_reports(report, other)
