"""The Findings page, driven headless with streamlit.testing (report and source seeded).

Planted truth (sample_models): churn's model fails the four-fifths rule on ethnicity, so the
fairness area fails and the recommendation is reject (any fail: reject,
``reports.report.recommended_decision``); a combine rule raises postcode_region, a proxy of
ethnicity among the top drivers, to fail. lead_scoring is the control: nothing fails.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reports.report import AREAS, recommended_decision
from tests.app import pages
from views import state
from views.plot_style import SEVERITY

ROOT = Path(__file__).resolve().parents[2]
RANK = {"✗ Fail": 4, "! Needs attention": 3, "? Inconclusive": 2, "– Not assessed": 1,
        "✓ Pass": 0}


def open_page(report, name: str) -> AppTest:
    return pages.open_page(report, name, "findings", "Findings")


def severity_of(label: str) -> int:
    return RANK[label.split(" | ", 1)[0]]


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [s.value for s in at.subheader])


def findings_shown(at: AppTest) -> list:
    """The expanders of the findings list ("<symbol> <severity> | <title>")."""
    return [e for e in at.expander if " | " in e.label]


def finding_id(exp) -> str:
    """A listed finding's id, from its "Finding id:" caption."""
    cap = next(c.value for c in exp.caption if c.value.startswith("Finding id: "))
    return pages.plain(cap[len("Finding id: "):])


def scorecard(at: AppTest) -> dict[str, tuple[str, str, str]]:
    """area -> (symbol, words, text colour) of the scorecard's tiles."""
    out = {}
    for m in at.markdown:
        hit = re.search(r'font-size:0.9rem;color:#1F2328">([^<]+)</div>.*?color:(#[0-9A-F]{6})">'
                        r"([^<]+)</div><div[^>]*>([^<]+)</div>", m.value)
        if hit:
            out[hit.group(1)] = (hit.group(3), hit.group(4), hit.group(2))
    return out


def decision_box(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "Recommended decision:" in m.value)


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
    assert list(scorecard(at)) == ["Data", "Performance", "Explainability", "Fairness", "Privacy"]
    assert "Recommended decision" in texts(at)
    shown = findings_shown(at)
    assert "performance.generalisation_gap.auc" in [finding_id(e) for e in shown]
    assert len(shown) == len(report.findings)


def test_scorecard_has_the_five_areas_in_symbols_and_words(churn):
    at = open_page(churn, "churn")
    card = scorecard(at)
    assert list(card) == [a.capitalize() for a in AREAS]
    for area in AREAS:  # a symbol, words and the severity's colour for each area
        sev = churn.summary["scorecard"][area]
        symbol, words = {"fail": ("✗", "Fails"), "attention": ("!", "Needs attention"),
                         "inconclusive": ("?", "Inconclusive"), "pass": ("✓", "Passes"),
                         "not_assessed": ("–", "Not assessed")}[sev]
        assert card[area.capitalize()] == (symbol, words, SEVERITY[sev]["fg"])
    assert card["Fairness"][:2] == ("✗", "Fails")


def test_churn_recommends_reject_with_the_reason(churn):
    assert churn.summary["recommended_decision"] == recommended_decision(churn.findings) \
        == "reject"
    at = open_page(churn, "churn")
    box = decision_box(at)  # in the fail red, with its symbol: never a success colour
    assert f"✗ Recommended decision: {churn.summary['recommendation']}" in box
    assert SEVERITY["fail"]["fg"] in box and SEVERITY["pass"]["fg"] not in box
    assert churn.summary["recommendation"].startswith("Reject")
    n_fail = sum(f.severity.value == "fail" for f in churn.findings)
    assert f"{n_fail} findings fail, and any failing finding means reject" in box
    assert f"✗ {n_fail} fail" in texts(at)


def test_findings_are_sorted_worst_first(churn):
    at = open_page(churn, "churn")
    shown = findings_shown(at)
    assert len(shown) == len(churn.findings)
    ranks = [severity_of(e.label) for e in shown]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == 4 and ranks[-1] == 0 and 3 in ranks  # fail ... attention ... pass
    # each finding once: its plain title in the label, its id only in the detail
    assert sorted(finding_id(e) for e in shown) == sorted(f.id for f in churn.findings)
    assert not any(f.id in e.label for e in shown for f in churn.findings)


def test_a_finding_shows_statement_metric_threshold_and_action(churn):
    at = open_page(churn, "churn")
    f = next(f for f in churn.findings if f.id == "fairness.disparate_impact.ethnicity")
    exp = next(e for e in findings_shown(at) if finding_id(e) == f.id)
    body = " ".join(m.value for m in exp.markdown)
    assert "Black" in body and "Recommended action:" in body
    assert f"{f.metric.value:.3f}" in body and "95% interval" in body
    assert "**Threshold:** pass when the whole interval lies inside \\[0.800, 1.250\\]" in body
    assert any("REG" in c.value and "1607.4" in c.value for c in exp.caption)


def test_combine_rule_is_shown_as_a_rule_applied(churn):
    assert churn.combine_notes  # planted: postcode_region raised to fail by rule 1
    at = open_page(churn, "churn")
    assert "Rules applied" in [s.value for s in at.subheader]
    raised = next(e for e in findings_shown(at)
                  if finding_id(e) == "explainability.sensitive_driver.postcode_region")
    assert raised.label.startswith("✗ Fail")
    assert any(m.value.startswith("**Raised by a rule:**") for m in raised.markdown)


def test_filter_by_area_and_severity(churn):
    at = open_page(churn, "churn")
    at.multiselect(key="findings_severity_filter").set_value(["Fail"]).run()
    labels = [e.label for e in findings_shown(at)]
    assert labels and all(t.startswith("✗ Fail") for t in labels)
    assert len(labels) == sum(f.severity.value == "fail" for f in churn.findings)
    at.multiselect(key="findings_area_filter").set_value(["Fairness"]).run()
    ids = [finding_id(e) for e in findings_shown(at)]
    assert ids and all(i.startswith("fairness.") for i in ids)
    # churn's data fails now (its planted data-rights violations); its performance does not
    at.multiselect(key="findings_area_filter").set_value(["Performance"]).run()
    assert not findings_shown(at)
    assert "No finding matches this filter." in [i.value for i in at.info]


def test_control_sample_has_no_fail(lead):
    at = open_page(lead, "lead_scoring")
    assert all(symbol != "✗" for symbol, _, _ in scorecard(at).values())
    assert not any(e.label.startswith("✗") for e in at.expander)
    assert f"Recommended decision: {lead.summary['recommendation']}" in decision_box(at)
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
    detail = next(e for e in at.expander if e.label.startswith("Method, sources and ids"))
    ids = pages.plain(" ".join(m.value for m in detail.markdown))
    for f in lead.findings:
        if f.severity.value == "inconclusive":  # listed in words, its id in the detail view
            assert html.escape(f.title, quote=False) in text and f"({f.id})" in ids
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
            f"probe could not run); {n_na} not assessed") in decision_box(at)
    assert any(w.value.startswith("Incomplete: the performance probe could not run")
               for w in at.warning)
    assert "The audit is incomplete" in texts(at)


def test_without_a_report_the_page_points_to_the_run_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(state.PAGES["findings"]).run()
    assert not at.exception
    assert any("No audit yet" in i.value for i in at.info)
    assert not at.expander and not scorecard(at)


def test_what_could_not_be_established_counts_as_the_headline_does(churn):
    """The summary's "Not assessed (N)" counts the findings not assessed, as the headline does;
    the submitter's missing context is listed under its own word, "Not supplied"."""
    n_na = sum(f.severity.value == "not_assessed" for f in churn.findings)
    at = open_page(churn, "churn")
    shown = texts(at)
    assert f"{n_na} not assessed" in churn.summary["recommendation"]
    assert f"**Not assessed ({n_na})**" in shown
    assert "**Not supplied (1)**" in shown  # the churn sample has no context file
