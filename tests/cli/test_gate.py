"""The release gate on the samples' planted truth: churn fails (planted proxy bias), the
lead_scoring control passes (issue: exits 1 on churn and 0 on lead_scoring)."""

from __future__ import annotations

from cli.audit import gate_reached


def test_churn_reaches_the_gate_and_lead_scoring_does_not(sample_report):
    churn, control = sample_report("churn"), sample_report("lead_scoring")
    assert gate_reached(churn, "fail", allow_not_assessed=False)
    assert churn.summary["recommended_decision"] == "reject"
    assert not control.summary["probes_not_run"]
    assert not gate_reached(control, "fail", allow_not_assessed=False), [
        f.id for f in control.findings if f.severity.value == "fail"]


def test_every_manifest_fail_is_raised_and_no_not_fail_is(sample_report):
    from sample_models.generate import load_manifest

    for name in ("churn", "lead_scoring"):
        by_id = {f.id: f.severity.value for f in sample_report(name).findings}
        for expected in load_manifest(name)["expected_findings"]:
            got = by_id.get(expected["finding_id"])
            if expected["severity"] == "fail":
                assert got == "fail", (name, expected)
            elif expected["severity"] == "not fail" and got is not None:
                assert got != "fail", (name, expected)
