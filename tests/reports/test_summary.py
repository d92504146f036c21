"""The board summary: chosen and worded from the report's fields, never per sample.

Synthetic reports check the rules (fail before attention, at most five reasons, intersections
folded into their check, data rights as one reason, passes fill an approval to three); the three
binary samples check the exact sentences a board reads, and that the interval beside each reason
is the one its finding was judged on.
"""

from __future__ import annotations

import re

import pytest

from audits.core.config import AuditConfig
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table
from reports.report import AuditReport, summarise
from reports.summary import MAX_REASONS, board_summary, summary_lines

TH = AuditConfig.light().thresholds


def _report(findings, probes=None, subject=None) -> AuditReport:
    probes = probes or {}
    return AuditReport(subject=subject or {"name": "m", "model_type": "LogisticRegression",
                                           "rows": {"members": 1000, "nonmembers": 500},
                                           "favourable_action": "offered a discount"},
                       config={"confidence": 0.95}, probes=probes, findings=tuple(findings),
                       summary=summarise(findings, probes), environment={},
                       requested_probes=tuple(probes))


def _f(fid, sev, area, value=None, ci=None, label="a statistic", threshold=None, title=None):
    m = Metric(fid.split(".", 1)[1], value, ci, label=label) if value is not None else None
    return Finding(fid, Severity(sev), title or f"Title of {fid}", "Statement. More.",
                   action="Act.", metric=m, threshold=threshold, area=area)


def _disparities(rows):
    cols = ("field", "group", "reference", "metric", "value", "reference_value", "ratio",
            "ratio_low", "ratio_high")
    return ProbeResult("fairness", "fairness", tables=(Table("fairness.disparities", cols,
                                                             tuple(rows)),))


def test_disparate_impact_reads_as_the_issue_asks():
    f = _f("fairness.disparate_impact.ethnicity", "fail", "fairness", 0.4852, (0.4425, 0.5338),
           threshold=TH["fairness.selection_rate_ratio"])
    fair = _disparities([("ethnicity", "Black", "White", "selection_rate", 0.194, 0.399, 0.4852,
                          0.45, 0.52),
                         ("ethnicity", "White", "Black", "selection_rate", 0.399, 0.194, 2.06,
                          1.9, 2.2)])
    s = board_summary(_report([f], {"fairness": fair}))
    assert s["reasons"][0]["text"] == (
        "Black customers are offered a discount 0.49 times as often as White customers, 19% "
        "against 40%; with 95% confidence between 0.44 and 0.53.")
    # the interval is the finding's (judged on), not the table row's marginal one
    assert "0.45" not in s["reasons"][0]["text"]


def test_fail_before_attention_at_most_five_and_the_rest_listed():
    fs = [_f(f"privacy.check{i}.x", "attention", "privacy") for i in range(4)]
    fs += [_f(f"performance.check{i}.x", "fail", "performance") for i in range(3)]
    s = board_summary(_report(fs))
    sev = [r["severity"] for r in s["reasons"]]
    assert len(s["reasons"]) == MAX_REASONS
    assert sev == ["fail"] * 3 + ["attention"] * 2
    assert len(s["also"]) == 2 and {a["severity"] for a in s["also"]} == {"attention"}


def test_a_field_and_its_intersection_make_one_reason():
    fs = [_f("fairness.error_rate_parity.ethnicity*gender", "fail", "fairness"),
          _f("fairness.error_rate_parity.ethnicity", "fail", "fairness")]
    s = board_summary(_report(fs))
    assert len(s["reasons"]) == 1
    r = s["reasons"][0]
    assert r["finding_ids"][0] == "fairness.error_rate_parity.ethnicity"
    assert r["text"].endswith("The same check fails for ethnicity and gender combined.")
    assert "*" not in r["text"]


def test_data_rights_make_one_reason():
    fs = [_f("data.consent.x", "fail", "data", title="3 customers never consented"),
          _f("data.erasure.in_data", "fail", "data", title="2 erased customers are still here"),
          _f("privacy.erasure_exposure.all", "attention", "privacy",
             title="The model still exposes erased customers")]
    s = board_summary(_report(fs))
    assert [r["topic"] for r in s["reasons"]] == ["data_rights"]
    assert s["reasons"][0]["text"] == (
        "The data breaks the customers' data rights: 3 customers never consented; 2 erased "
        "customers are still here; the model still exposes erased customers.")


def test_an_approval_says_what_it_rests_on():
    fs = [_f("fairness.disparate_impact.g", "pass", "fairness", 0.95, (0.9, 1.0),
             label="Selection-rate ratio"),
          _f("privacy.membership_inference.strongest", "pass", "privacy", 0.51, (0.5, 0.52)),
          _f("performance.generalisation_gap.auc", "pass", "performance", 0.01, (0.0, 0.02)),
          _f("privacy.memorisation.records", "pass", "privacy", 0.001, (0.0, 0.002))]
    s = board_summary(_report(fs))
    assert s["recommendation"]["key"] == "approve"
    assert [r["topic"] for r in s["reasons"]] == [
        "fairness.disparate_impact", "privacy.membership_inference",
        "performance.generalisation_gap"]


def test_what_could_not_be_established_lists_each_check_and_the_missing_context():
    fs = [_f("fairness.disparate_impact.g", "inconclusive", "fairness", 0.9, (0.7, 1.1),
             threshold=TH["fairness.selection_rate_ratio"], title="Disparate impact: g"),
          _f("data.inventory.all", "not_assessed", "data", title="Inventory not supplied")]
    s = board_summary(_report(fs))
    texts = [x["text"] for x in s["not_established"]]
    assert texts[0].startswith("Disparate impact: g: the rows cannot tell whether the bound is "
                               "crossed (estimate 0.900; with 95% confidence between 0.700 and "
                               "1.100;")
    assert texts[1] == "Inventory not supplied: Statement."
    assert "context" in texts[2] and "was not supplied" in texts[2]
    assert any("inconclusive" in d for d in s["decide"])


# -- the samples ------------------------------------------------------------------------------

SAMPLES = ("churn", "lead_scoring", "purchase_propensity")
FORBIDDEN = (r"HEUR", r"THRESHOLDS\.md", r"mean \|SHAP\|", r"\[\d\.\d+, \d\.\d+\]",
             r"margin scale", r"\b[a-z_]+\.[a-z_]+\.[a-z_*]+\b")


@pytest.mark.parametrize("name", SAMPLES)
def test_no_method_threshold_source_or_id_in_the_summary(sample_report, name):
    report = sample_report(name, light=True)
    text = "\n".join(summary_lines(board_summary(report)))
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text), (pattern, name)
    s = board_summary(report)
    assert 3 <= len(s["reasons"]) <= MAX_REASONS


@pytest.mark.parametrize("name", SAMPLES)
def test_each_reason_prints_the_interval_its_finding_was_judged_on(sample_report, name):
    report = sample_report(name, light=True)
    by_id = {f.id: f for f in report.findings}
    for r in board_summary(report)["reasons"]:
        m = by_id[r["finding_ids"][0]].metric
        if r["topic"] == "data_rights" or m is None or not m.ci or "confidence" not in r["text"]:
            continue
        lo, hi = re.search(r"confidence between (-?\d+(?:\.\d+)?)%? and (-?\d+(?:\.\d+)?)%?",
                           r["text"]).groups()
        scale = 100 if "%" in r["text"].split("confidence between")[1][:12] else 1
        for printed, judged in ((lo, m.ci[0]), (hi, m.ci[1])):
            places = len(printed.split(".")[1]) if "." in printed else 0
            assert abs(float(printed) - scale * judged) <= 0.5 * 10 ** -places + 1e-12, (
                name, r["text"], m.ci)


EXPECTED = {
    "churn": [
        "Recommended decision: Reject",
        "Black customers are offered a retention discount 0.49 times as often as White "
        "customers",
    ],
    "lead_scoring": [
        "Recommended decision: Approve",
    ],
    "purchase_propensity": [
        "Recommended decision: Reject",
    ],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_the_samples_exact_sentences(sample_report, name):
    lines = summary_lines(board_summary(sample_report(name, light=True)))
    text = "\n".join(lines)
    for sentence in EXPECTED[name]:
        assert sentence in text, (name, sentence, text)
