"""The Run page, driven headless: a stored audit is loaded without recomputing, the progress bars
follow run_audit's callback (clamped and labelled in plain words), a probe that could not run is
shown as not assessed, bad input is an error message, and one real light audit of lead_scoring."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import reports.source as ac
from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Finding, ProbeResult, Severity
from reports.registry import PROBES
from reports.report import AuditReport, summarise
from reports.source import AuditSource
from views import state
from views.plot_style import SEVERITY

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "reports" / "render" / "fixtures" / "report_v1.json"
LEAD = {"kind": "sample", "name": "lead_scoring"}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Each test its own tool folder, so no test sees another's stored reports."""
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fixture_report() -> AuditReport:
    return AuditReport.from_json(FIXTURE.read_text(encoding="utf-8"))


def run_page(source: dict = LEAD, profile: str = "light", timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state[state.SOURCE] = source
    at.session_state[state.PROFILE] = profile
    at.run()
    at.switch_page(state.PAGES["run"]).run()
    assert not at.exception
    return at


def run_button(at: AppTest):
    (b,) = [b for b in at.button if b.label == "Run the audit"]
    return b


def decision_text(at: AppTest) -> str:
    """The recommended decision as the page shows it (its box in the severity's colours)."""
    return next(m.value for m in at.markdown if "Recommended decision:" in m.value)


def never_run(*args, **kwargs):
    raise AssertionError("run_audit must not be called: the report is cached")


def test_a_stored_report_is_loaded_without_recomputing(monkeypatch, fixture_report):
    key = AuditSource(sample="lead_scoring").key(AuditConfig.light())
    ac.store_report(key, fixture_report.to_json())
    monkeypatch.setattr(ac, "run_audit", never_run)
    at = run_page()
    assert [t.value for t in at.title] == ["Run the audit"]
    text = " ".join(m.value for m in at.markdown)
    assert "lead_scoring" in text and "Quick look" in text
    assert "already computed" in at.info[0].value
    run_button(at).click().run()
    assert not at.exception and not at.progress
    assert at.session_state[state.REPORT] == fixture_report.to_json()
    assert at.session_state[state.AUDIT_KEY] == key
    box = decision_text(at)  # in the fail red with its symbol, never a green success box
    assert "✗ Recommended decision: Reject; 1 not assessed" in box and not at.success
    assert SEVERITY["fail"]["fg"] in box and SEVERITY["pass"]["fg"] not in box
    assert not at.button  # neither the run button nor its busy stand-in
    assert "2 fail" in box
    assert "See the findings" in [link.value for link in at.page_link]

    at.run()  # coming back: the summary at once, no button
    assert not at.exception
    assert not [b for b in at.button if b.label == "Run the audit"]
    assert "Recommended decision" in decision_text(at)


def test_another_profile_is_another_audit(monkeypatch, fixture_report):
    key = AuditSource(sample="lead_scoring").key(AuditConfig.light())
    ac.store_report(key, fixture_report.to_json())
    monkeypatch.setattr(ac, "run_audit", never_run)
    at = run_page(profile="default")
    assert not at.info or "already computed" not in at.info[0].value
    assert "Full audit" in " ".join(m.value for m in at.markdown)


def test_progress_bars_follow_the_callback(monkeypatch, fixture_report):
    calls = []

    def fake_run(subject, config, *, progress=None):
        calls.append(config.name)
        progress("data_exposure", "detecting personal columns", 0.25)
        progress("membership", "training 8 reference models", 1.7)
        progress("fairness", None, "not a number")
        progress("fairness", "bootstrap", float("nan"))
        progress("performance", "scoring\n  members", -3)
        progress("explainability", "x" * 300, 0.5)
        progress("new_probe", "starting", 0.1)
        return fixture_report

    monkeypatch.setattr(ac, "run_audit", fake_run)
    at = run_page()
    run_button(at).click().run()
    assert not at.exception and calls == ["light"]
    bars = [(p.value, p.text) for p in at.progress]
    assert len(bars) == len(PROBES) + 1
    labels = [text.split(":")[0] for _, text in bars]
    assert labels == [state.PROBE_LABELS[n] for n in PROBES] + ["New probe"]
    by_label = dict((text.split(":")[0], (value, text)) for value, text in bars)
    assert by_label["Membership inference"] == \
        (100, "Membership inference: training 8 reference models")
    assert by_label["Personal data in the training data"][0] == 25
    assert by_label["Fairness across customer groups"] == \
        (0, "Fairness across customer groups: bootstrap")
    assert by_label["How well the model predicts"] == (0, "How well the model predicts: "
                                                          "scoring members")
    value, text = by_label["What drives the scores"]
    assert value == 50 and len(text) < 120 and text.endswith("...")
    assert by_label["Memorisation of individual customers"][1].endswith(": waiting")
    assert at.session_state[state.REPORT] == fixture_report.to_json()
    assert ac.cached_report(at.session_state[state.AUDIT_KEY]) == fixture_report.to_json()


def test_a_probe_that_could_not_run_is_shown_as_not_assessed(monkeypatch, fixture_report):
    broken = ProbeResult(probe="membership", area="privacy", status="not_assessed",
                         notes=("MemoryError: the reference pool did not fit",),
                         findings=(Finding("membership.run.error", Severity.NOT_ASSESSED,
                                           "The membership probe could not run", "It stopped.",
                                           area="privacy"),))
    probes = fixture_report.probes | {"membership": broken}
    report = dataclasses.replace(fixture_report, probes=probes, report_id="",
                                 summary=summarise(fixture_report.findings, probes))
    monkeypatch.setattr(ac, "run_audit", lambda subject, config, *, progress=None: report)
    at = run_page()
    run_button(at).click().run()
    assert not at.exception
    incomplete, warning = at.warning  # incomplete: said so, not a success
    assert not at.success
    assert "✗ Recommended decision: Reject" in decision_text(at)  # a fail still rejects
    assert "The audit is incomplete (the membership probe could not run)" in incomplete.value
    assert warning.value.startswith("Membership inference could not run")
    assert "not assessed" in warning.value and "MemoryError" in warning.value


def test_bad_input_during_the_run_is_an_error_message(monkeypatch):
    values = dict(column="converted", value=0, file="members.csv")

    def refuse(source):
        raise InputError(msg.TARGET_ONE_CLASS, **values)

    monkeypatch.setattr(AuditSource, "load", refuse)
    monkeypatch.setattr(ac, "run_audit", never_run)
    at = run_page()
    run_button(at).click().run()
    assert not at.exception
    (error,) = at.error
    # the engine's message, its fields named by the Load page's form labels
    assert error.value == msg.TARGET_ONE_CLASS.render(state.FIELD_LABELS, **values) + \
        " Fix it on the Load page, then run the audit again."
    assert "the target column (Target, on the Load page)" in error.value
    assert state.REPORT not in at.session_state
    assert not [b for b in at.button if b.label == "Running the audit..."]
    at.run()
    assert run_button(at)  # ready to try again


def test_gone_files_are_an_error_message(tmp_path):
    source = {"kind": "files", "model": str(tmp_path / "m.skops"),
              "train": str(tmp_path / "a.csv"), "holdout": None, "split_column": "s",
              "target": "y"}
    at = run_page(source=source)
    (error,) = at.error
    assert error.value == msg.SOURCE_FILES_GONE.render(
        state.FIELD_LABELS, missing=[str(tmp_path / "m.skops"), str(tmp_path / "a.csv")])
    assert "Load page" in error.value
    assert not [b for b in at.button if b.label == "Run the audit"]


def test_a_real_light_audit_of_lead_scoring(monkeypatch):
    at = run_page(timeout=900)
    run_button(at).click().run()
    assert not at.exception and not at.error
    bars = at.progress
    assert len(bars) == len(PROBES)
    assert all(p.value == 100 for p in bars), [(p.value, p.text) for p in bars]
    assert [p.text for p in bars] == [f"{state.PROBE_LABELS[n]}: done" for n in PROBES]
    report = AuditReport.from_json(at.session_state[state.REPORT])
    assert report.subject["name"] == "lead_scoring"
    assert report.config["name"] == "light"
    assert report.summary["recommended_decision"] != "reject"  # the control: nothing planted
    assert not report.summary["probes_not_run"]
    key = at.session_state[state.AUDIT_KEY]
    assert key == AuditSource.from_dict(LEAD).key(AuditConfig.light())
    assert json.loads(ac.cached_report(key))["report_id"] == report.report_id
    assert "Recommended decision" in decision_text(at)

    # a new session (a browser reload) reads the stored report: nothing is recomputed
    monkeypatch.setattr(ac, "run_audit", never_run)
    again = run_page()
    run_button(again).click().run()
    assert not again.exception
    assert again.session_state[state.REPORT] == at.session_state[state.REPORT]
