"""Findings page: the scorecard and the findings, worst first, with their plain statements."""

from __future__ import annotations

import streamlit as st

from audits.errors import InputError
from reports.report import DECISIONS, AuditReport
from views import state

_ICON = {"fail": "FAIL", "attention": "NEEDS ATTENTION", "not_assessed": "NOT ASSESSED",
         "pass": "PASS"}

st.title("Model Review Board")
name = st.session_state.setdefault(state.SAMPLE, state.DEFAULT_SAMPLE)
st.caption(f"Sample model under review: {name}. Uploading your own model arrives with the app "
           "issue; until then use `review-board audit` on the command line.")

try:
    with st.spinner("Running the audit (once; cached afterwards)..."):
        text = st.session_state.get(state.REPORT) or state.sample_report(name)
    st.session_state[state.REPORT] = text
    report = AuditReport.from_json(text)
except InputError as e:
    st.error(str(e))
    st.stop()

summary = report.summary
st.subheader("Scorecard")
cols = st.columns(len(summary["scorecard"]))
for col, (area, sev) in zip(cols, summary["scorecard"].items()):
    col.metric(area.capitalize(), _ICON[sev])
st.markdown(f"**Recommended decision:** {DECISIONS[summary['recommended_decision']]}")

st.subheader("Findings, worst first")
for f in report.findings:
    with st.expander(f"{_ICON[f.severity.value]} | {f.title} ({f.id})",
                     expanded=f.severity.value in {"fail", "attention"}):
        st.write(f.statement)
        if f.metric and f.metric.ci:
            lo, hi = f.metric.ci
            bound = f.threshold.fail if f.threshold and f.threshold.fail is not None else (
                f.threshold.attention if f.threshold else None)
            st.caption(f"{f.metric.label}: {f.metric.value:.3f} (interval {lo:.3f} to {hi:.3f})"
                       + (f"; threshold {bound} ({f.threshold.kind}: {f.threshold.source})"
                          if bound is not None else ""))
        if f.action:
            st.markdown(f"**Recommended action:** {f.action}")
