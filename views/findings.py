"""Findings page: the recommended decision beside what the audit could not establish, the
scorecard, and every finding worst first.

Shown right after the run, so it only reads the report (``state.require_report``) and reuses the
report renderers' plain-data view (``reports.render.document.summary_view``,
``reports.render.sections.finding_view``) for its words: the same scorecard, statements,
thresholds and
actions as the PDF.
"""

from __future__ import annotations

import streamlit as st

from audits.core.results import Severity
from reports.render.document import UNESTABLISHED_NOTE, summary_view
from reports.render.sections import finding_view
from reports.render.texts import SEVERITY_MEANING, THRESHOLD_CAVEAT
from reports.report import AREAS, DECISIONS, current_summary
from views import state

#: The scorecard per severity: a symbol (the metric's value) and words (under it, in a grey
#: badge: the metric's delta with its colour and arrow off), never colour alone. Words in the
#: value itself would be cut off in five columns.
ICON = {"fail": "✗", "attention": "!", "pass": "✓", "inconclusive": "?", "not_assessed": "–"}
VERDICT = {"fail": "Fails", "attention": "Needs attention", "pass": "Passes",
           "inconclusive": "Inconclusive", "not_assessed": "Not assessed"}
KIND = {"REG": "a regulation or official guideline", "TOOL": "the default of a widely used tool",
        "HEUR": "this tool's own heuristic"}
_AREA_PAGE = {"fairness": "Fairness", "explainability": "Explainability", "privacy": "Privacy"}
_MD_SPECIAL = "\\`*_{}[]<>()#+!|$~"


def md(text: str) -> str:
    """Escape Markdown (and Streamlit's ``$`` maths) so a statement prints as written."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))


def decision_reason(counts: dict, incomplete: list[str] | None = None) -> str:
    """Why the recommendation is what it is, in words (the rule of
    ``reports.report.recommended_decision``)."""
    n_fail, n_att = counts.get("fail", 0), counts.get("attention", 0)
    n_na, n_inc = counts.get("not_assessed", 0), counts.get("inconclusive", 0)
    if n_fail:
        why = (f"{n_fail} finding{'s' if n_fail != 1 else ''} fail{'s' if n_fail == 1 else ''}, "
               "and any failing finding means reject.")
    elif incomplete:
        why = ("The audit is incomplete (" + "; ".join(incomplete) + "), so no approval is "
               "recommended until it runs, or the board records why it accepts the absence.")
    elif n_att:
        why = (f"No finding fails, but {n_att} need{'s' if n_att == 1 else ''} attention: the "
               "board should set a condition for each, or accept it with a reason.")
    else:
        why = "No finding fails or needs attention."
    if n_inc:
        why += (f" {n_inc} check{'s are' if n_inc != 1 else ' is'} inconclusive: these rows "
                "cannot tell, and more rows would settle "
                f"{'them' if n_inc != 1 else 'it'}; inconclusive checks do not move the "
                "recommendation.")
    if n_na:
        why += (f" {n_na} check{'s' if n_na != 1 else ''} could not be assessed; a check that "
                "was not assessed is not a pass.")
    return why + " The board may overrule the recommendation, with a recorded reason."


report = state.require_report()
summary = current_summary(report)
view = summary_view(report, {})

st.title("Findings")
st.caption(f"Model: {report.subject.get('name', 'model')} · report {report.report_id[:12]} · "
           f"threshold profile {report.config.get('name', 'default')}")

rec = summary.get("recommended_decision", "")
with st.container(border=True):
    st.subheader(f"Recommended decision: {summary.get('recommendation', DECISIONS.get(rec, rec))}")
    st.markdown(md(decision_reason(summary.get("counts", {}), summary.get("incomplete"))))
    if summary.get("incomplete"):
        st.warning("Incomplete: " + "; ".join(summary["incomplete"]) + ". No approval is "
                   "recommended until it runs, or the board records why it accepts the absence.")
    if summary.get("probes_not_run"):
        st.warning("Probes that could not run: " + ", ".join(summary["probes_not_run"])
                   + ". Their checks are not assessed.")

unsettled = [f for f in report.findings
             if f.severity in (Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]
with st.container(border=True):
    st.markdown(f"**What this audit could not establish ({len(unsettled)})**")
    st.caption(UNESTABLISHED_NOTE)
    for sev in (Severity.INCONCLUSIVE, Severity.NOT_ASSESSED):
        group = [f for f in unsettled if f.severity is sev]
        if group:
            st.markdown(f"**{sev.label} ({len(group)})**")
        for f in group:
            st.markdown(f"- {ICON[sev.value]} {md(f.title)} ({md(f.id)}): {md(f.action)}")
    if not unsettled:
        st.markdown("Nothing: every check could be judged, and each passes or shows its finding.")

st.subheader("Scorecard")
st.caption("The worst finding of each area. Every severity is judged on the whole confidence "
           "interval of its statistic, so chance alone never raises one.")
cols = st.columns(len(AREAS))
for col, row in zip(cols, view["scorecard"]):
    sev = row["severity"]["key"]
    with col:
        st.metric(row["area"], ICON[sev], delta=VERDICT[sev], delta_color="off",
                  delta_arrow="off", border=True, help=SEVERITY_MEANING[sev])
        st.caption(md(row["headline"]))

counts = summary.get("counts", {})
_COUNTED = {"fail": "fail", "attention": "need attention", "inconclusive": "inconclusive",
            "not_assessed": "not assessed", "pass": "pass"}
st.markdown("**Findings by severity:** " + " · ".join(
    f"{ICON[k]} {counts.get(k, 0)} {_COUNTED[k]}"
    for k in ("fail", "attention", "inconclusive", "not_assessed", "pass")))

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
    # an intersection's '*' (ethnicity*gender) would pair up as emphasis in the label
    with st.expander(f"{sev['icon']} {sev['label']} | {f.title} ({f.id})".replace("*", r"\*"),
                     expanded=f.severity is Severity.FAIL):
        st.markdown(md(v["statement"]))
        st.caption(f"{f.area.capitalize()} · what this checks: {v['meaning']}")
        m, t = v["metric"], v["threshold"]
        if m:
            line = f"**{md(m['label'])}:** {m['value']}"
            if m["ci"]:
                line += f" (95% interval {m['ci']})"
            if m["n"]:
                line += f", on {m['n']} records"
            st.markdown(line)
            if m["method"] or m["reference"]:
                st.caption("Method: " + md(m["method"])
                           + (f" ({md(m['reference'])})" if m["reference"] else ""))
        if t:
            st.markdown(f"**Threshold:** {md(t['bounds'])}")
            st.caption(f"{t['kind']} ({KIND.get(t['kind'], 'kind not stated')}): "
                       f"{md(t['source'] or 'source not stated')}")
        st.caption(md(v["severity_meaning"]))
        for note in notes:
            if f.id in note:
                st.markdown(f"**Raised by a rule:** {md(note)}")
        st.markdown(f"**Recommended action:** {md(v['action'])}")
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
