"""The runner's combine rules, on hand-made results and on the churn sample's planted proxy."""

from __future__ import annotations

from audits.core.results import Finding, ProbeResult, Severity
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


def test_any_failing_fairness_check_on_the_field_or_its_intersection_escalates():
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


def test_findings_are_worst_first():
    findings, _ = combine(results(Severity.FAIL))
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
