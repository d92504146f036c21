"""The Streamlit app, driven headless with streamlit.testing (session state seeded)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from views import state

ROOT = Path(__file__).resolve().parents[1]


def test_findings_page_shows_scorecard_and_findings(sample_report):
    report = sample_report("purchase_propensity", light=True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[state.SAMPLE] = "purchase_propensity"
    at.session_state[state.REPORT] = report.to_json()
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Data", "Performance", "Explainability", "Fairness", "Privacy"]
    text = " ".join(m.value for m in at.markdown)
    assert "Recommended decision" in text
    titles = [e.label for e in at.expander]
    assert any("performance.generalisation_gap.auc" in t for t in titles)
    assert len(titles) == len(report.findings)
