"""Findings page: the board summary first, then the scorecard and every finding worst first.

Shown right after the run, so it only reads the report (``state.require_report``). The board
summary (``views.board_summary``) opens the page: the recommendation in its colour, the reasons in
plain words with their numbers, what the board must decide and what the audit could not
establish; methods, sources and ids sit in its detail view. The rest reuses the report renderers'
plain-data view (``reports.render.document.summary_view``, ``reports.render.sections.finding_view``)
for its words: the same scorecard, statements, thresholds and actions as the PDF. Severities are
shown in their colours with their symbols and words (``views.plot_style.SEVERITY``).
"""

from __future__ import annotations

import streamlit as st

from audits.core.results import Severity
from reports.render.document import summary_view
from reports.render.sections import finding_view
from reports.render.texts import SEVERITY_MEANING, THRESHOLD_CAVEAT
from reports.report import AREAS, current_summary
from views import state
from views.board_summary import show_board_summary
from views.plot_style import SEVERITY
from views.texts import badge, esc, md, show_html

#: The scorecard's words per severity, under the symbol (never colour alone).
VERDICT = {"fail": "Fails", "attention": "Needs attention", "pass": "Passes",
           "inconclusive": "Inconclusive", "not_assessed": "Not assessed"}
KIND = {"REG": "a regulation or official guideline", "TOOL": "the default of a widely used tool",
        "HEUR": "this tool's own heuristic"}
_AREA_PAGE = {"fairness": "Fairness", "explainability": "Explainability", "privacy": "Privacy"}


def tile(area: str, severity: str, headline: str) -> str:
    """A scorecard tile: the area, its worst severity's symbol large in the severity's colour
    and its word, on the severity's tint, and the headline finding under it."""
    s = SEVERITY[severity]
    return (f'<div title="{esc(SEVERITY_MEANING[severity])}" style="border:1px solid {s["fg"]};'
            f'border-radius:0.5rem;background:{s["bg"]};padding:0.6rem 0.8rem;'
            f'min-height:7.5rem"><div style="font-size:0.9rem;color:#1F2328">{esc(area)}</div>'
            f'<div style="font-size:2rem;line-height:1.2;font-weight:700;color:{s["fg"]}">'
            f'{s["icon"]}</div><div style="font-weight:600;color:{s["fg"]}">'
            f'{VERDICT[severity]}</div><div style="font-size:0.85rem;color:#1F2328;'
            f'margin-top:0.3rem">{esc(headline)}</div></div>')


report = state.require_report()
summary = current_summary(report)
view = summary_view(report, {})

st.title("Findings")
st.caption(f"Model: {md(report.subject.get('name', 'model'))} · report "
           f"{report.report_id[:12]} · threshold profile "
           f"{md(report.config.get('name', 'default'))}")

show_board_summary(report)

st.subheader("Scorecard")
st.caption("The worst finding of each area. Every severity is judged on the whole confidence "
           "interval of its statistic, so chance alone never raises one.")
cols = st.columns(len(AREAS))
for col, row in zip(cols, view["scorecard"]):
    with col:
        show_html(tile(row["area"], row["severity"]["key"], row["headline"]))

counts = summary.get("counts", {})
_COUNTED = {"fail": "fail", "attention": "need attention", "inconclusive": "inconclusive",
            "not_assessed": "not assessed", "pass": "pass"}
show_html("<p><b>Findings by severity:</b> " + " ".join(
    badge(k, f"{counts.get(k, 0)} {_COUNTED[k]}")
    for k in ("fail", "attention", "inconclusive", "not_assessed", "pass")) + "</p>")

st.subheader("Findings, worst first")
f1, f2 = st.columns(2)
areas = f1.multiselect("Area", [a.capitalize() for a in AREAS],
                       default=[a.capitalize() for a in AREAS], key="findings_area_filter")
sev_order = ("fail", "attention", "inconclusive", "not_assessed", "pass")
severities = f2.multiselect("Severity", [Severity(s).label for s in sev_order],
                            default=[Severity(s).label for s in sev_order],
                            key="findings_severity_filter")

findings = sorted(report.findings, key=lambda f: -f.severity.rank)  # stable: keeps report order
shown = [f for f in findings if f.area.capitalize() in areas and f.severity.label in severities]
if not shown:
    st.info("No finding matches this filter.")
notes = list(report.combine_notes)
for f in shown:
    v = finding_view(f, {})
    sev = v["severity"]
    with st.expander(f"{sev['icon']} {sev['label']} | {md(f.title)}",
                     expanded=f.severity is Severity.FAIL):
        show_html(f"<p>{badge(f.severity.value)} {esc(v['statement'])}</p>")
        st.caption(f"{f.area.capitalize()} · what this checks: {md(v['meaning'])}")
        m, t = v["metric"], v["threshold"]
        if m:
            line = f"**{md(m['label'])}:** {md(m['value'])}"
            if m["ci"]:
                line += f" (95% interval {md(m['ci'])})"
            if m["n"]:
                line += f", on {md(m['n'])} records"
            st.markdown(line)
            if m["method"] or m["reference"]:
                st.caption("Method: " + md(m["method"])
                           + (f" ({md(m['reference'])})" if m["reference"] else ""))
        if t:
            st.markdown(f"**Threshold:** {md(t['bounds'])}")
            st.caption(f"{md(t['kind'])} ({KIND.get(t['kind'], 'kind not stated')}): "
                       f"{md(t['source'] or 'source not stated')}")
        st.caption(md(v["severity_meaning"]))
        for note in notes:
            if f.id in note:
                st.markdown(f"**Raised by a rule:** {md(note)}")
        st.markdown(f"**Recommended action:** {md(v['action'])}")
        st.caption(f"Finding id: {md(f.id)}")
        if f.area in _AREA_PAGE:
            st.page_link(state.PAGES[f.area], label=f"See the {_AREA_PAGE[f.area]} page")

st.subheader("Rules applied")
if notes:
    st.caption("Where the results of two probes meet, the runner's combine step applies "
               "documented rules; these changed a finding's severity in this audit.")
    for note in notes:
        st.markdown(f"- {md(note)}")
else:
    st.caption("No combine rule changed a finding in this audit.")
st.caption(THRESHOLD_CAVEAT)
