"""The Findings page, driven headless with streamlit.testing (report and source seeded).

Planted truth (sample_models): churn's model fails the four-fifths rule on ethnicity, so the
fairness area fails and the recommendation is reject (any fail: reject,
``reports.report.recommended_decision``); a combine rule raises postcode_region, a proxy of
ethnicity among the top drivers, to fail. lead_scoring is the control: nothing fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reports.report import AREAS, recommended_decision
from tests.app import pages
from views import state

ROOT = Path(__file__).resolve().parents[2]
RANK = {"✗ Fail": 4, "! Needs attention": 3, "? Inconclusive": 2, "– Not assessed": 1,
        "✓ Pass": 0}


def open_page(report, name: str) -> AppTest:
    return pages.open_page(report, name, "findings", "Findings")


def severity_of(label: str) -> int:
    return RANK[label.split(" | ", 1)[0]]


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [s.value for s in at.subheader])


@pytest.fixture(scope="module")
def churn(sample_report):
    return sample_report("churn", light=True)


@pytest.fixture(scope="module")
def lead(sample_report):
    return sample_report("lead_scoring", light=True)


def test_findings_page_shows_scorecard_and_findings(sample_report):
    """The first test of the app (moved from tests/test_app.py), its assertions kept."""
    report = sample_report("purchase_propensity", light=True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[state.SOURCE] = {"kind": "sample", "name": "purchase_propensity"}
    at.session_state[state.REPORT] = report.to_json()
    at.switch_page(state.PAGES["findings"]).run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Data", "Performance", "Explainability", "Fairness", "Privacy"]
    assert "Recommended decision" in texts(at)
    titles = [e.label for e in at.expander]
    assert any("performance.generalisation_gap.auc" in t for t in titles)
    assert len(titles) == len(report.findings)


def test_scorecard_has_the_five_areas_in_symbols_and_words(churn):
    at = open_page(churn, "churn")
    assert [m.label for m in at.metric] == [a.capitalize() for a in AREAS]
    card = {m.label: (m.value, m.delta) for m in at.metric}
    for area in AREAS:  # a symbol and words for each area, from the report's scorecard
        sev = churn.summary["scorecard"][area]
        symbol, words = {"fail": ("✗", "Fails"), "attention": ("!", "Needs attention"),
                         "inconclusive": ("?", "Inconclusive"), "pass": ("✓", "Passes"),
                         "not_assessed": ("–", "Not assessed")}[sev]
        assert card[area.capitalize()] == (symbol, words)
    assert card["Fairness"] == ("✗", "Fails")


def test_churn_recommends_reject_with_the_reason(churn):
    assert churn.summary["recommended_decision"] == recommended_decision(churn.findings) \
        == "reject"
    at = open_page(churn, "churn")
    heads = [s.value for s in at.subheader]
    assert f"Recommended decision: {churn.summary['recommendation']}" in heads
    assert churn.summary["recommendation"].startswith("Reject")
    n_fail = sum(f.severity.value == "fail" for f in churn.findings)
    assert f"{n_fail} findings fail, and any failing finding means reject" in texts(at)
    assert f"✗ {n_fail} fail" in texts(at)


def test_findings_are_sorted_worst_first(churn):
    at = open_page(churn, "churn")
    labels = [e.label for e in at.expander]
    assert len(labels) == len(churn.findings)
    ranks = [severity_of(t) for t in labels]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == 4 and ranks[-1] == 0 and 3 in ranks  # fail ... attention ... pass
    # each finding once, with its id in its title
    assert sorted(t.rsplit("(", 1)[1].rstrip(")").replace("\\*", "*") for t in labels) == \
        sorted(f.id for f in churn.findings)


def test_a_finding_shows_statement_metric_threshold_and_action(churn):
    at = open_page(churn, "churn")
    f = next(f for f in churn.findings if f.id == "fairness.disparate_impact.ethnicity")
    exp = next(e for e in at.expander if e.label.endswith(f"({f.id})"))
    body = " ".join(m.value for m in exp.markdown)
    assert "Black" in body and "Recommended action:" in body
    assert f"{f.metric.value:.3f}" in body and "95% interval" in body
    assert "**Threshold:** pass when the whole interval lies inside \\[0.800, 1.250\\]" in body
    assert any("REG" in c.value and "1607.4" in c.value for c in exp.caption)


def test_combine_rule_is_shown_as_a_rule_applied(churn):
    assert churn.combine_notes  # planted: postcode_region raised to fail by rule 1
    at = open_page(churn, "churn")
    assert "Rules applied" in [s.value for s in at.subheader]
    raised = next(e for e in at.expander
                  if "explainability.sensitive_driver.postcode_region" in e.label)
    assert raised.label.startswith("✗ Fail")
    assert any(m.value.startswith("**Raised by a rule:**") for m in raised.markdown)


def test_filter_by_area_and_severity(churn):
    at = open_page(churn, "churn")
    at.multiselect(key="findings_severity_filter").set_value(["Fail"]).run()
    labels = [e.label for e in at.expander]
    assert labels and all(t.startswith("✗ Fail") for t in labels)
    assert len(labels) == sum(f.severity.value == "fail" for f in churn.findings)
    at.multiselect(key="findings_area_filter").set_value(["Fairness"]).run()
    labels = [e.label for e in at.expander]
    assert labels and all("(fairness." in t for t in labels)
    # churn's data fails now (its planted data-rights violations); its performance does not
    at.multiselect(key="findings_area_filter").set_value(["Performance"]).run()
    assert not at.expander and "No finding matches this filter." in [i.value for i in at.info]


def test_control_sample_has_no_fail(lead):
    at = open_page(lead, "lead_scoring")
    assert all(m.value != "✗" for m in at.metric)
    assert not any(e.label.startswith("✗") for e in at.expander)
    assert f"Recommended decision: {lead.summary['recommendation']}" in \
        [s.value for s in at.subheader]
    assert lead.summary["recommended_decision"] == "approve"
    assert "No finding fails" in texts(at)


def test_inconclusive_checks_are_listed_with_what_would_settle_them(lead):
    """The control's intersections are too small to settle every pair: the recommendation
    carries the count, and each inconclusive check is listed in words."""
    n = lead.summary["counts"]["inconclusive"]
    n_na = lead.summary["counts"]["not_assessed"]  # no inventory supplied: not assessed
    assert n > 0 and lead.summary["recommendation"] == (
        f"Approve; {n} checks inconclusive" + (f", {n_na} not assessed" if n_na else ""))
    at = open_page(lead, "lead_scoring")
    text = texts(at)
    assert f"{n} checks are inconclusive: these rows cannot tell" in text
    assert "What this audit could not establish" in text and f"**Inconclusive ({n})**" in text
    for f in lead.findings:
        if f.severity.value == "inconclusive":
            assert f"({f.id.replace('_', chr(92) + '_').replace('*', chr(92) + '*')})" in text
    assert "Inconclusive" in at.multiselect(key="findings_severity_filter").value
    labels = [e.label for e in at.expander]
    assert sum(t.startswith("? Inconclusive") for t in labels) == n


def test_an_incomplete_audit_recommends_no_approval_and_says_why(sample_subject, monkeypatch):
    from audits.core.config import AuditConfig
    from reports import build

    def broken(subject, config, *, progress=None, cache=None):
        raise RuntimeError("no pool")
    monkeypatch.setitem(build.PROBES, "performance", (broken, "performance"))
    report = build.run_audit(sample_subject("lead_scoring"), AuditConfig.light(),
                             probes=["performance"])
    at = open_page(report, "lead_scoring")
    n_na = report.summary["counts"]["not_assessed"]  # the probe's, and the missing inventory
    assert ("Recommended decision: Incomplete: no approval recommended yet (the performance "
            f"probe could not run); {n_na} not assessed") in [s.value for s in at.subheader]
    assert any(w.value.startswith("Incomplete: the performance probe could not run")
               for w in at.warning)
    assert "The audit is incomplete" in texts(at)


def test_without_a_report_the_page_points_to_the_run_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(state.PAGES["findings"]).run()
    assert not at.exception
    assert any("No audit yet" in i.value for i in at.info)
    assert not at.metric and not at.expander
