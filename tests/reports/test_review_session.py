"""reports.review_session: the Review page's plain-data helpers around the ledger."""

from __future__ import annotations

import dataclasses
import datetime

import pandas as pd
import pytest

from reports import review_session as rs
from reports.context_files import normalise_inventory
from reports.ledger import DISPOSITIONS, Ledger
from reports.ledger.read import DECISION_CHOICES
from tests.reports.ledger.board import make_board, ready_to_decide


@pytest.fixture(scope="module")
def report(sample_report):
    return sample_report("churn", light=True)


def test_conditions_from_editor_rows():
    rows = pd.DataFrame({"text": [" Drop the proxy ", None, "", "Re-audit"],
                         "owner": ["DS", None, "Legal", None],
                         "due": pd.to_datetime(["2027-01-31", None, None, "2027-06-01"])})
    assert rs.conditions_from_rows(rows.to_dict("records")) == [
        {"text": "Drop the proxy", "owner": "DS", "due": "2027-01-31"},
        {"text": "", "owner": "Legal", "due": None},  # kept: the ledger names the missing text
        {"text": "Re-audit", "owner": None, "due": "2027-06-01"}]
    assert rs.conditions_from_rows([{}]) == []


def test_iso_date():
    assert rs.iso_date(datetime.date(2027, 1, 2)) == "2027-01-02"
    assert rs.iso_date(datetime.datetime(2027, 1, 2, 13, 5)) == "2027-01-02"
    assert rs.iso_date(pd.Timestamp("2027-01-02")) == "2027-01-02"
    assert rs.iso_date(" end of Q1 ") == "end of Q1"
    for blank in (None, pd.NaT, float("nan"), "  "):
        assert rs.iso_date(blank) is None


def test_vocabularies_match_the_ledger():
    assert set(rs.DECISION_OPTIONS) == set(DECISION_CHOICES)
    assert set(rs.DISPOSITION_LABELS) == set(DISPOSITIONS)
    assert rs.option_of("approve_with_conditions") == "conditions"
    assert rs.option_of("changes_requested") == "changes" and rs.option_of("reject") == "reject"


def test_submission_report_keeps_the_context_and_is_stable(report):
    assert rs.submission_report(report, None) is report
    ctx = {"intended_use": "retention offers"}
    with_ctx = dataclasses.replace(report, subject={**report.subject, "context": ctx},
                                   report_id="")
    inv = normalise_inventory({f: {"purpose": "p", "legal_basis": "contract"}
                               for f in report.subject["feature_columns"]})
    a = rs.submission_report(with_ctx, inv)
    assert a.subject["context"] == ctx and a.subject["inventory"] == inv and a.verify()
    assert rs.submission_report(a, inv).report_id == a.report_id  # attaching again: same id
    assert "data.inventory.all" in {f.id for f in a.findings}


def test_find_run_prefers_the_sessions_run_else_the_newest(report, tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'l.db'}", anchor=tmp_path / "anchor.json")
    assert rs.find_run(led, report) is None
    one, two = led.record_run(report), led.record_run(report)
    assert rs.find_run(led, report)["id"] == two
    assert rs.find_run(led, report, prefer=one)["id"] == one
    other = dataclasses.replace(report, findings=report.findings[1:], report_id="")
    assert rs.find_run(led, other) is None


def test_history_and_diff_rows(report, tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'l.db'}", anchor=tmp_path / "anchor.json")
    s = make_board(led)
    run = led.record_run(report, by="ds")
    led.submit(run, by=s["ds"])
    ready_to_decide(led, run, s, "changes")
    led.decide(run, "changes", by=s["alice"])
    rows = rs.history_rows(led, "churn")
    assert rows == [{"Run": run, "Version": "v1", "Recorded (UTC)": rows[0]["Recorded (UTC)"],
                     "Status": "Changes requested", "Board decision": "Changes requested (alice)",
                     "Report id": report.report_id[:12]}]
    diff = {"appeared": [{"id": "a.b.c", "title": "New", "before": None, "after": "fail"}],
            "resolved": [], "changed": [{"id": "d.e.f", "title": "Old", "before": "fail",
                                         "after": "attention"}]}
    assert [(r["Change"], r["Before"], r["After"]) for r in rs.diff_rows(diff)] == [
        ("New finding", "absent", "Fail"), ("Severity changed", "Fail", "Needs attention")]
