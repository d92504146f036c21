"""The Export page, driven headless with streamlit.testing (report seeded; a temporary ledger).

The page renders with ``reports.export.render``, so the bytes are checked by calling it (AppTest
runs without Streamlit's media server and does not expose a download's data). The watermark
status follows the ledger's run of this exact report: a self-check outside it, "under review"
once submitted, the board's record once decided; each download of a ledger run is recorded in
the ledger.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reports.export import render
from reports.ledger import open_ledger
from reports.render.document import WATERMARK_REVIEW, WATERMARK_SELF_CHECK
from reports.report import AuditReport
from tests.reports.ledger.board import board_template, copy_board, ready_to_decide
from views import state
from views.plot_style import SEVERITY

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["Download PDF", "Download HTML", "Download Markdown", "Download JSON",
          "Download model card", "Download standards map"]


@pytest.fixture(scope="module")
def lead(sample_report):
    return sample_report("lead_scoring", light=True)


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory):
    """The board (``tests.reports.ledger.board``: ds submits, bob and carol review, alice
    chairs), set up once and copied into each test's ledger."""
    d = tmp_path_factory.mktemp("board")
    return d, board_template(d)


@pytest.fixture
def ledger(board_dir, tmp_path, monkeypatch):
    """A fresh SQLite ledger holding only the board, which the page opens too
    (``open_ledger()`` reads the variables)."""
    copy_board(board_dir[0], tmp_path, monkeypatch)
    return open_ledger()


@pytest.fixture
def members(board_dir):
    return board_dir[1]


def open_page(report, run_id=None, reviewer=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[state.REPORT] = report.to_json()
    at.session_state[state.SOURCE] = {"kind": "sample", "name": "lead_scoring"}
    if run_id is not None:
        at.session_state[state.RUN_ID] = run_id
    if reviewer:
        at.session_state[state.REVIEWER] = reviewer
    at.switch_page(state.PAGES["export"]).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Export"]
    return at


def status(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_six_download_buttons_with_file_names(lead):
    at = open_page(lead)
    assert [b.label for b in at.download_button] == LABELS
    stem = f"lead_scoring-{lead.report_id[:12]}"
    assert [c.value for c in at.caption if c.value.startswith(stem)] == \
        [f"{stem}.{ext}" for ext in ("pdf", "html", "md", "json", "model-card.md",
                                     "standards.json")]
    assert not at.error


def test_the_engine_gives_a_pdf_and_a_json_that_round_trips(lead):
    assert render(lead, "pdf", None)[:5] == b"%PDF-"
    again = AuditReport.from_json(render(lead, "json", None).decode("utf-8"))
    assert again.report_id == lead.report_id and again.verify()


def test_exports_of_a_ledger_run_take_the_ledgers_file_names(lead, ledger, members):
    run = ledger.record_run(lead)
    ledger.submit(run, by=members["ds"])
    at = open_page(lead, run)
    stem = ledger.board_record(run)["run"]["file_stem"]
    assert stem == f"lead_scoring-v1-run{run}"
    assert [c.value for c in at.caption if c.value.startswith(stem)] == \
        [f"{stem}.{ext}" for ext in ("pdf", "html", "md", "json", "model-card.md",
                                     "standards.json")]


def test_outside_the_ledger_it_is_a_self_check(lead):
    text = status(open_page(lead))
    assert text.startswith("**Self-check.**") and WATERMARK_SELF_CHECK in text


def test_watermark_follows_the_ledger(lead, ledger, members):
    run = ledger.record_run(lead)
    text = status(open_page(lead, run))
    assert "Self-check, recorded in the ledger" in text and f"run {run}" in text
    assert WATERMARK_SELF_CHECK in text

    ledger.submit(run, by=members["ds"])
    text = status(open_page(lead, run))
    assert text.startswith("**Under review.**") and WATERMARK_REVIEW in text
    assert "Self-check" not in text

    ready_to_decide(ledger, run, members, "conditions")
    ledger.decide(run, "conditions", by=members["alice"],
                  note=None if lead.summary["recommended_decision"] ==
                  "approve_with_conditions" else "the board's reasons",
                  conditions=[{"text": "Review age_band error rates", "owner": "ds-team",
                               "due": "2027-01-31"}])
    at = open_page(lead, run)
    text = status(at)
    assert "**The board's record.**" in text
    box = next(m.value for m in at.markdown if "The board decided" in m.value)
    assert "! Approve with conditions" in box and SEVERITY["attention"]["fg"] in box
    assert "**Approve with conditions**" in text and "alice, chair" in text
    assert "Self-check" not in text and "SELF-CHECK" not in text
    assert "UNDER REVIEW" not in text and "carry no watermark" in text


def test_a_download_of_a_ledger_run_is_recorded(lead, ledger):
    run = ledger.record_run(lead)
    at = open_page(lead, run, reviewer="B. Member")
    assert ledger.show(run)["exports"] == []
    head = ledger.head()  # what the file printed: the head before the export's own event
    at.download_button(key="export_json").click().run()
    assert not at.exception and not at.error
    exports = ledger.show(run)["exports"]
    assert len(exports) == 1
    e = exports[0]
    name = f"lead_scoring-run{run}-selfcheck.json"  # the ledger's name for a draft's exports
    assert e["format"] == "json" and e["by"] == "B. Member"
    assert e["files"] == {name: hashlib.sha256(lead.to_json().encode("utf-8")).hexdigest()}
    assert (e["chain_seq"], e["chain_head"]) == head
    assert ledger.head()[0] == head[0] + 1
    assert any("Exports recorded in the ledger" == s.value for s in at.subheader)


def test_the_run_of_this_exact_report_is_used(lead, ledger, members):
    other = AuditReport.from_dict(lead.to_dict() | {"report_id": "0" * 64})
    other_run = ledger.record_run(other)
    # the session points at a run of another report: not this report's record
    assert status(open_page(lead, other_run)).startswith("**Self-check.**")
    run = ledger.record_run(lead)
    ledger.submit(run, by=members["ds"])
    # a new session (no run id in it) finds the run that holds this report
    assert status(open_page(lead)).startswith("**Under review.**")
    assert f"Run {run}, version 1 is with the board" in status(open_page(lead, other_run))
