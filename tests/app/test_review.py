"""The Review page, driven headless: signing in, recording (with the inventory stored), the board's
workflow through to a signed decision, the ledger's refusals shown with what was typed kept, and
the history of versions with their diff. Each test has its own ledger (REVIEW_BOARD_DB) with a
board of local accounts (``tests.reports.ledger.board``: ds submits, bob and carol review, alice
chairs); members sign in through the page's form or are seeded as signed in."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reports.context_files import normalise_inventory
from reports.ledger import open_ledger
from reports.report import summarise
from reports.review_session import submission_report
from tests.reports.ledger.board import PASSWORD, board_template, copy_board, dispose_all
from views import state

ROOT = Path(__file__).resolve().parents[2]
FID = "fairness.disparate_impact.ethnicity"  # planted: fails on churn


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory):
    """The board, set up once: copied into each test's ledger."""
    d = tmp_path_factory.mktemp("board")
    return d, board_template(d)


@pytest.fixture(autouse=True)
def ledger_url(board_dir, tmp_path, monkeypatch):
    """A fresh ledger per test holding only the board: the page reads REVIEW_BOARD_DB (and the
    anchor and key variables) on every run (in-process)."""
    return copy_board(board_dir[0], tmp_path, monkeypatch)


@pytest.fixture
def members(board_dir):
    """The board's members, signed in (their sessions, as the page keeps them)."""
    return board_dir[1]


def signed_in(session) -> dict:
    return {state.SIGNED_IN: session, state.REVIEWER: session.name}


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    if [b for b in at.button if b.key == "sign_out"]:
        click(at, "sign_out")
    at.text_input(key="review_name").input(name)
    at.text_input(key="review_password").input(password)
    return click(at, "sign_in_btn")


@pytest.fixture(scope="module")
def churn(sample_report):
    return sample_report("churn", light=True)


def churn_inventory(report) -> dict:
    """Every input with a purpose and basis; postcode_region bought from a broker."""
    entries = {f: {"origin": "first-party", "purpose": "retention offers",
                   "legal_basis": "legitimate interest", "retention": "2 years"}
               for f in report.subject["feature_columns"]}
    entries["postcode_region"]["origin"] = "third-party broker"
    return normalise_inventory(entries)


def open_review(report, **seed) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[state.REPORT] = report.to_json()
    at.session_state[state.SOURCE] = {"kind": "sample", "name": "churn"}
    for key, value in seed.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(state.PAGES["review"]).run()
    assert not at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_record_stores_the_inventory_with_the_report_and_reuses_the_run(churn, members):
    inv = churn_inventory(churn)
    at = open_review(churn, **{state.INVENTORY: inv})
    assert "inventory filled in on the Load page is stored" in " ".join(texts(at.caption))
    click(at, "record_run")  # not signed in: refused, nothing written
    assert any("Sign in at the top of the page first" in e for e in texts(at.error))
    assert open_ledger().runs() == []

    sign_in(at, "ds", "not the password")
    assert texts(at.error) == ["The name or the password is wrong."]
    assert at.text_input(key="review_name").value == "ds"  # what was typed is kept
    sign_in(at, "ds")
    assert at.session_state[state.REVIEWER] == "ds"
    assert any(m.startswith("Signed in as **ds** (submitter)") for m in texts(at.markdown))
    click(at, "record_run")
    runs = open_ledger().runs()
    expected = submission_report(churn, inv)
    assert len(runs) == 1 and runs[0]["report_id"] == expected.report_id != churn.report_id
    assert runs[0]["recorded_by"] == "ds" and runs[0]["status"] == "draft"
    stored = open_ledger().report(runs[0]["id"])
    assert stored.subject["inventory"] == inv
    gap = {f.id: f.severity.value for f in stored.findings}
    assert gap["data.inventory.postcode_region"] == "attention"  # the broker input, profiled
    assert at.session_state[state.RUN_ID] == runs[0]["id"]
    assert any(f"Recorded as run {runs[0]['id']}" in s for s in texts(at.success))
    assert any("Inventory gap: postcode_region" in e.label for e in at.expander)
    assert [b.label for b in at.button if b.key == "submit_run"] == ["Submit to the board"]

    again = open_review(churn, **{state.INVENTORY: inv})  # a new session: the run is reused
    assert again.session_state[state.RUN_ID] == runs[0]["id"]
    assert not [b for b in again.button if b.key == "record_run"]
    assert len(open_ledger().runs()) == 1


def test_comment_disposition_vote_and_decision_reach_the_ledger(churn, members):
    at = open_review(churn, **signed_in(members["ds"]))
    click(at, "record_run")
    assert not [b for b in at.button if b.key == f"comment_btn_{FID}"]  # a draft: no forms
    click(at, "submit_run")
    assert any("submitted as churn v1; it is frozen" in s for s in texts(at.success))
    run = at.session_state[state.RUN_ID]

    sign_in(at, "bob")
    at.text_area(key=f"comment_{FID}_0").input("Region stands in for ethnicity here.")
    click(at, f"comment_btn_{FID}")
    at.selectbox(key=f"dispose_{FID}").set_value("mitigate")
    at.text_input(key=f"owner_{FID}").input("DS team")
    at.date_input(key=f"due_{FID}").set_value(datetime.date(2027, 1, 31))
    at.selectbox(key=f"residual_{FID}").set_value("medium")
    at.text_area(key=f"dnote_{FID}").input("Retrain without postcode_region.")
    click(at, f"dispose_btn_{FID}")
    led = open_ledger()
    others = [f.id for f in led.report(run).findings
              if f.severity.value in ("fail", "attention") and f.id != FID]
    for fid in others:  # the rest of the register, through the engine
        led.dispose(run, fid, "accept", by=members["bob"], owner="DS", due="2027-01-31")
    at.selectbox(key="vote_0").set_value("reject")
    at.checkbox(key="vote_independent_0").check()
    at.text_input(key="vote_declaration_0").input("No part in the model.")
    click(at, "vote_btn")
    assert any("signed by bob" in s for s in texts(at.success))
    led.record_vote(run, "reject", by=members["carol"], independent=True)

    sign_in(at, "alice")
    assert at.selectbox(key="decision_choice").value is None  # nothing chosen for the board
    click(at, "decide_btn")
    assert texts(at.error) == ["Choose the board's decision first."]
    at.selectbox(key="decision_choice").set_value("reject")
    click(at, "decide_btn")
    assert not at.error

    board = led.board_record(run)
    assert board["run"]["status"] == "rejected"
    assert (board["decision"]["decision"], board["decision"]["by"],
            board["decision"]["role"]) == ("reject", "alice", "chair")
    assert [(v["reviewer"], v["decision"]) for v in board["votes"]] == [("bob", "reject"),
                                                                        ("carol", "reject")]
    bob = next(r for r in board["reviewers"] if r["name"] == "bob")
    assert bob["independent"] and bob["declaration"] == "No part in the model."
    assert board["comments"] == [{"by": "bob", "at": board["comments"][0]["at"],
                                  "text": "Region stands in for ethnicity here.", "finding": FID}]
    d = board["dispositions"][FID]
    assert (d["disposition"], d["owner"], d["due"], d["residual"], d["by"]) == \
        ("mitigate", "DS team", "2027-01-31", "medium", "bob")
    assert [(g["name"], g["act"], g["verification"]) for g in board["signatures"]] == [
        ("bob", "vote", "verified"), ("carol", "vote", "verified"),
        ("alice", "decision", "verified")]
    assert all(g["report_id"] == churn.report_id for g in board["signatures"])

    # the page shows it as recorded, the decision and vote forms closed
    assert any(s.startswith("Decision recorded: **Reject**, by alice (chair)")
               for s in texts(at.success))
    assert at.button(key="decide_btn").disabled and at.button(key="vote_btn").disabled
    assert at.selectbox(key="decided_choice").value == "reject"
    votes = next(df.value for df in at.dataframe if "Reviewer" in df.value.columns)
    assert list(votes["Reviewer"]) == ["bob", "carol"]
    assert list(votes["Independent"]) == ["yes", "yes"]
    shown = " ".join(texts(at.markdown))
    assert "Region stands in for ethnicity here." in shown
    assert "Mitigate: reduce the risk before release" in shown and "owner DS team" in shown
    sigs = next(df.value for df in at.dataframe if "Key fingerprint" in df.value.columns)
    assert list(sigs["Name"]) == ["bob", "carol", "alice"]
    assert list(sigs["Key fingerprint"]) == [members[n].key_fingerprint
                                             for n in ("bob", "carol", "alice")]
    assert set(sigs["Signature"]) == {"verified (Ed25519)"}


def test_a_decision_waits_for_the_dispositions_and_the_quorum(churn, members):
    led = open_ledger()
    run = led.record_run(churn, by="ds")
    led.submit(run, by=members["ds"])
    at = open_review(churn, **signed_in(members["alice"]))
    warning = " ".join(texts(at.warning))
    assert "Before the chair can record a decision:" in warning
    assert "have no disposition yet" in warning and "0 of the 2 votes" in warning
    at.selectbox(key="decision_choice").set_value("reject")
    click(at, "decide_btn")
    assert texts(at.error)[0].startswith("The decision cannot be recorded yet.")
    assert led.board_record(run)["decision"] is None


def test_overruling_without_a_note_is_refused_and_the_form_keeps_what_was_typed(churn, members):
    assert churn.summary["recommended_decision"] == "reject"
    led = open_ledger()
    run = led.record_run(churn, by="ds")
    led.submit(run, by=members["ds"])
    dispose_all(led, run, members["bob"])
    for name in ("bob", "carol"):
        led.record_vote(run, "conditions", by=members[name], independent=True)
    at = open_review(churn, **signed_in(members["alice"]))
    assert at.session_state[state.RUN_ID] == run
    assert not at.warning  # nothing missing

    at.selectbox(key="decision_choice").set_value("approve")
    click(at, "decide_btn")
    assert texts(at.error) == [("The decision 'approve' overrules the recommended 'reject'; "
                                "give the reason in the note (--note on the command line).")]
    board = led.board_record(run)
    assert board["decision"] is None and len(board["votes"]) == 2
    assert at.selectbox(key="decision_choice").value == "approve"
    assert not at.button(key="decide_btn").disabled

    # with the reason and a condition (typed into the table), the same overrule is recorded
    at.selectbox(key="decision_choice").set_value("conditions")
    at.session_state["decision_conditions"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"text": "Remove postcode_region", "owner": "DS", "due": "2027-02-01"},
                       {}]}  # an empty row is ignored
    at.text_area(key="decision_note").input("Acceptable once the proxy input is removed.")
    click(at, "decide_btn")
    board = led.board_record(run)
    assert board["decision"]["decision"] == "approve_with_conditions"
    assert board["decision"]["note"] == "Acceptable once the proxy input is removed."
    assert board["conditions"] == [{"text": "Remove postcode_region", "owner": "DS",
                                    "due": "2027-02-01"}]
    assert "This decision overrules the recommendation (Reject)." in texts(at.markdown)


def mitigated(report, finding_id: str):
    """A second version of the same model: one failing finding now passes (as a re-audit after
    the team's mitigation would show); summary and report id recomputed."""
    findings = [dataclasses.replace(f, severity="pass") if f.id == finding_id else f
                for f in report.findings]
    return dataclasses.replace(report, findings=tuple(findings), report_id="",
                               summary=summarise(findings, report.probes))


def test_history_lists_both_versions_and_the_diff_shows_the_changed_finding(churn, members):
    led = open_ledger()
    first = led.record_run(churn, by="ds")
    led.submit(first, by=members["ds"])
    second = mitigated(churn, FID)
    assert second.report_id != churn.report_id
    at = open_review(second, **signed_in(members["ds"]))
    click(at, "record_run")
    click(at, "submit_run")  # version 1 is still under review: the ledger refuses
    assert any("is still under review; decide it first" in e for e in texts(at.error))
    dispose_all(led, first, members["bob"])
    for name in ("bob", "carol"):
        led.record_vote(first, "changes", by=members[name], independent=True)
    led.decide(first, "changes", by=members["alice"])
    at.run()
    click(at, "submit_run")
    assert any("submitted as churn v2, parent run 1" in s for s in texts(at.success))

    history = next(df.value for df in at.dataframe if "Version" in df.value.columns)
    assert list(history["Run"]) == [1, 2] and list(history["Version"]) == ["v1", "v2"]
    assert list(history["Board decision"]) == ["Changes requested (alice)", "none yet"]
    assert list(history["Report id"]) == [churn.report_id[:12], second.report_id[:12]]
    assert at.selectbox(key="diff_old").value == 1 and at.selectbox(key="diff_new").value == 2
    diff = next(df.value for df in at.dataframe if "Change" in df.value.columns)
    assert diff.to_dict("records") == [{"Change": "Severity changed",
                                        "Finding": "Disparate impact: ethnicity",
                                        "Before": "Fail", "After": "Pass", "Finding id": FID}]
    assert any("Recommended decision: **Reject → Reject**" in m and "1 changed severity" in m
               for m in texts(at.markdown))
