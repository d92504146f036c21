"""The runner's combine rules, on hand-made results and on the churn sample's planted proxy."""

from __future__ import annotations

import pytest

from audits.core.results import Finding, ProbeResult, Severity
from reports import build
from reports.build import combine


def results(fairness_severity, check="fairness.disparate_impact.ethnicity"):
    fair = ProbeResult("fairness", "fairness", findings=(
        Finding(check, fairness_severity, "t", "s"),))
    expl = ProbeResult("explainability", "explainability", findings=(
        Finding("explainability.sensitive_driver.postcode", Severity.ATTENTION, "t", "s"),),
        params={"sensitive_drivers": [{"feature": "postcode", "fields": ["ethnicity"],
                                       "rank": 3}]})
    return {"fairness": fair, "explainability": expl}


def test_proxy_driver_escalates_only_when_fairness_fails():
    findings, notes = combine(results(Severity.FAIL))
    by_id = {f.id: f for f in findings}
    assert by_id["explainability.sensitive_driver.postcode"].severity is Severity.FAIL
    assert notes and "Rule 1" in notes[0]
    findings, notes = combine(results(Severity.ATTENTION))
    by_id = {f.id: f for f in findings}
    assert by_id["explainability.sensitive_driver.postcode"].severity is Severity.ATTENTION
    assert not notes


def check_any_failing_check_on_the_field_or_its_intersection_escalates():
    for check in ("fairness.subgroup_performance.ethnicity",
                  "fairness.error_rate_parity.gender*ethnicity",
                  "fairness.disparate_impact.ethnicity*gender"):
        by_id = {f.id: f for f in combine(results(Severity.FAIL, check))[0]}
        assert by_id["explainability.sensitive_driver.postcode"].severity is Severity.FAIL
    # another field's failure, or an inconclusive check, does not
    for sev, check in ((Severity.FAIL, "fairness.disparate_impact.gender"),
                       (Severity.INCONCLUSIVE, "fairness.disparate_impact.ethnicity")):
        by_id = {f.id: f for f in combine(results(sev, check))[0]}
        assert by_id["explainability.sensitive_driver.postcode"].severity is Severity.ATTENTION


def test_any_failing_fairness_check_on_the_field_or_its_intersection_escalates():
    check_any_failing_check_on_the_field_or_its_intersection_escalates()


def _old_rule(findings) -> set[str]:
    """The broken rule: only disparate impact and error rates of the field itself."""
    return {f.id.split(".", 2)[2] for f in findings if f.severity is Severity.FAIL
            and f.id.split(".")[1] in {"disparate_impact", "error_rate_parity"}}


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken: subgroup performance and intersections do not escalate")
def test_any_failing_check_escalates_fails_when_broken(monkeypatch):
    monkeypatch.setattr(build, "failed_fields", _old_rule)
    check_any_failing_check_on_the_field_or_its_intersection_escalates()


def test_findings_are_worst_first():
    findings, _ = combine(results(Severity.FAIL))
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
