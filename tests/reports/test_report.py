"""The report: JSON round trip, deterministic id, the recommendation rule and its words, the
schema versions it reads (the migration step), the gate."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import review_board
from audits.core.results import Finding, Severity
from cli.audit import gate_reached
from reports.report import (
    SCHEMA_VERSION,
    AuditReport,
    current_summary,
    recommendation_words,
    recommended_decision,
    summarise,
)

FIXTURE = Path(__file__).parent / "render" / "fixtures" / "report_v1.json"


def f(sev):
    return Finding(id=f"p.c.{sev}", severity=sev, title="t", statement="s")


@pytest.mark.parametrize("sevs, decision", [
    (["pass", "attention", "fail"], "reject"),
    (["pass", "attention", "not_assessed"], "approve_with_conditions"),
    (["pass", "not_assessed"], "approve"),
    (["pass", "inconclusive", "inconclusive"], "approve"),  # noise alone never moves it
    (["pass", "attention", "inconclusive"], "approve_with_conditions"),
    ([], "approve"),
])
def test_recommended_decision(sevs, decision):
    assert recommended_decision([f(s) for s in sevs]) == decision


@pytest.mark.parametrize("sevs, decision", [
    (["pass"], "incomplete"),
    (["pass", "attention"], "incomplete"),  # no approval, not even with conditions
    (["fail"], "reject"),                   # a shown harm still rejects
])
def test_an_incomplete_audit_recommends_no_approval(sevs, decision):
    reasons = ["the membership probe could not run"]
    assert recommended_decision([f(s) for s in sevs], reasons) == decision


def test_a_headline_check_not_assessed_makes_the_audit_incomplete():
    from audits.core.results import ProbeResult
    from reports.report import incomplete_reasons

    probes = {"membership": ProbeResult("membership", "privacy"),
              "fairness": ProbeResult("fairness", "fairness")}
    mia = Finding(id="privacy.membership_inference.strongest", severity="not_assessed",
                  title="t", statement="s")
    fair = Finding(id="fairness.disparate_impact.gender", severity="inconclusive", title="t",
                   statement="s")
    reasons = incomplete_reasons([mia, fair], probes)
    assert len(reasons) == 1 and "membership" in reasons[0]
    fair_na = Finding(id="fairness.disparate_impact.gender", severity="not_assessed", title="t",
                      statement="s")
    assert len(incomplete_reasons([mia, fair_na], probes)) == 2
    not_run = {"membership": ProbeResult("membership", "privacy", status="not_assessed")}
    assert incomplete_reasons([], not_run) == ["the membership probe could not run"]


def test_report_round_trips_exactly(sample_report):
    report = sample_report("lead_scoring", light=True)
    text = report.to_json()
    again = AuditReport.from_json(text)
    assert again == report
    assert again.to_json() == text
    assert again.verify()


def test_report_id_changes_when_content_is_edited(sample_report):
    d = json.loads(sample_report("lead_scoring", light=True).to_json())
    d["findings"][0]["severity"] = "pass" if d["findings"][0]["severity"] != "pass" else "fail"
    assert not AuditReport.from_dict(d).verify()


def test_report_holds_what_the_issue_lists(sample_report):
    d = json.loads(sample_report("lead_scoring", light=True).to_json())
    assert d["schema_version"] and d["tool_version"]
    subject = d["subject"]
    assert {"model", "members", "nonmembers"} <= set(subject["files"])
    assert all(len(v["sha256"]) == 64 for v in subject["files"].values())
    assert subject["rows"]["members"] > 0 and subject["target"] == "converted"
    assert subject["seed"] == 0 and "sensitive_fields" in subject
    assert d["config"]["thresholds"]["performance.generalisation_gap"]["source"]
    assert set(d["summary"]["counts"]) == {"pass", "attention", "fail", "inconclusive",
                                           "not_assessed"}
    assert d["summary"]["recommended_decision"] in {"approve", "approve_with_conditions", "reject",
                                                     "incomplete"}
    assert "performance" in d["probes"]


def test_schema_version_is_checked(sample_report):
    d = json.loads(sample_report("lead_scoring", light=True).to_json())
    assert d["schema_version"] == SCHEMA_VERSION == "1.1"
    d["schema_version"] = "0.1"
    with pytest.raises(ValueError, match="schema version '0.1'.*reads 1.0 and 1.1"):
        AuditReport.from_dict(d)


@pytest.mark.parametrize("summary, words", [
    ({"recommended_decision": "approve", "counts": {"inconclusive": 2}},
     "Approve; 2 checks inconclusive"),
    ({"recommended_decision": "reject", "counts": {"inconclusive": 1, "not_assessed": 3}},
     "Reject; 1 check inconclusive, 3 not assessed"),
    ({"recommended_decision": "approve_with_conditions", "counts": {}},
     "Approve with conditions"),
    ({"recommended_decision": "incomplete", "incomplete": ["the membership probe could not run"],
      "counts": {"not_assessed": 1}},
     "Incomplete: no approval recommended yet (the membership probe could not run); "
     "1 not assessed"),
])
def test_recommendation_sits_beside_what_could_not_be_established(summary, words):
    assert recommendation_words(summary) == words


def test_summary_lists_what_could_not_be_established():
    findings = [f("pass"), f("inconclusive"), f("not_assessed")]
    s = summarise(findings, {})
    assert s["could_not_establish"] == ["p.c.inconclusive", "p.c.not_assessed"]
    assert s["recommendation"] == "Approve; 1 check inconclusive, 1 not assessed"


def test_a_schema_1_0_report_is_read_unchanged_and_migrated_on_reading():
    """The stored report keeps its id (never rewritten); what 1.1 added is derived from its
    findings, and its recorded recommendation stands."""
    old = AuditReport.read(FIXTURE)
    assert old.schema_version == "1.0" and old.verify()
    assert "incomplete" not in old.summary and "inconclusive" not in old.summary["counts"]
    s = current_summary(old)
    assert s["migrated_from"] == "1.0" and s["counts"]["inconclusive"] == 0
    assert s["incomplete"] == [] and s["recommended_decision"] == "reject"
    assert s["could_not_establish"] == ["fairness.groups.region"]
    assert s["recommendation"] == "Reject; 1 not assessed"
    assert old.summary == json.loads(FIXTURE.read_text())["summary"]  # nothing written back


def test_reports_of_both_schemas_diff():
    """A 1.0 report against a 1.1 one of the same model: a severity that became inconclusive is
    a change, a check added since appeared, and each side's words are its own."""
    from reports.diff import diff_reports, format_diff

    old = AuditReport.read(FIXTURE)
    gap = next(x for x in old.findings if x.id == "performance.generalisation_gap.auc")
    added = Finding(id="fairness.subgroup_performance.region", severity="inconclusive",
                    title="Subgroup performance: region", statement="s", area="fairness")
    findings = [dataclasses.replace(gap, severity=Severity.INCONCLUSIVE) if x is gap else x
                for x in old.findings] + [added]
    new = AuditReport(subject=old.subject, config=old.config, probes=old.probes,
                      findings=tuple(findings), summary=summarise(findings, old.probes),
                      environment=old.environment, requested_probes=old.requested_probes)
    d = diff_reports(old, new)
    assert (d["old_schema"], d["new_schema"]) == ("1.0", "1.1")
    assert [x["id"] for x in d["appeared"]] == ["fairness.subgroup_performance.region"]
    changed = {x["id"]: x["change"] for x in d["changed"]}
    assert changed == {"performance.generalisation_gap.auc": "Needs attention → Inconclusive"}
    assert d["old_recommendation"] == "Reject; 1 not assessed"
    assert d["new_recommendation"] == "Reject; 2 checks inconclusive, 1 not assessed"
    assert "(Reject; 1 not assessed -> Reject; 2 checks inconclusive" in format_diff(d)


def test_same_seed_same_report_apart_from_time(tmp_path):
    texts = []
    for i in range(2):
        out = tmp_path / str(i)
        assert review_board.main(["audit", "--sample", "lead_scoring", "--light", "--quiet",
                                  "--probes", "performance", "--out", str(out)]) == 0
        d = json.loads((out / "report.json").read_text())
        d.pop("created_at")
        texts.append(json.dumps(d, sort_keys=True))
    assert texts[0] == texts[1]
    out = tmp_path / "other-seed"
    review_board.main(["audit", "--sample", "lead_scoring", "--light", "--quiet", "--probes",
                       "performance", "--seed", "7", "--out", str(out)])
    other = json.loads((out / "report.json").read_text())
    assert other["report_id"] != json.loads(texts[0])["report_id"]


def test_probe_that_raises_is_not_assessed_and_reaches_the_gate(sample_subject, monkeypatch):
    from audits.core.config import AuditConfig
    from reports import build

    def broken(subject, config, *, progress=None, cache=None):
        raise RuntimeError("boom")
    monkeypatch.setitem(build.PROBES, "performance", (broken, "performance"))
    report = build.run_audit(sample_subject("lead_scoring"), AuditConfig.light(),
                             probes=["performance"])
    assert report.summary["probes_not_run"] == ["performance"]
    error = next(f for f in report.findings if f.id == "performance.run.error")
    assert error.severity is Severity.NOT_ASSESSED
    assert "boom" in error.statement
    assert gate_reached(report, "fail", allow_not_assessed=False)
    assert not gate_reached(report, "fail", allow_not_assessed=True)
    assert not gate_reached(report, "never", allow_not_assessed=False)
