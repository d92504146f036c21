"""The board summary that opens the Findings page: what a committee member reads first.

The recommendation; the three to five reasons in plain words with their numbers; what the board
must decide; what the audit could not establish. The method, the thresholds' sources and the
finding ids move into a detail view under it.

The words come from the engine (issue 16: "every statement is generated from the result"):
:func:`summary_data` takes the reasons, the decisions and what could not be established from
``reports.summary.board_summary`` (the sentences every report format prints) and adds the rule
behind the recommendation, the warnings and the detail view from ``report.summary`` and the
findings (:func:`_adapter`, which also served before the engine's summary existed).
"""

from __future__ import annotations

import re

import streamlit as st

from audits.core.results import Severity
from reports.render.document import UNESTABLISHED_NOTE
from reports.report import DECISIONS, current_summary
from views.texts import badge, decision_box, esc, md, show_html

__all__ = ["summary_data", "show_board_summary", "decision_reason", "MAX_REASONS"]

MAX_REASONS = 5
_RANKED = ("fail", "attention")
#: Among reasons of one severity, the harm to customers first (this tool's choice).
_AREA_ORDER = {"fairness": 0, "privacy": 1, "explainability": 2, "data": 3, "performance": 4}


def _first_sentences(text: str, limit: int = 320) -> str:
    """The statement's opening sentence (or two, while under ``limit`` characters)."""
    parts = re.split(r"(?<=[.;])\s+(?=[A-Z])", str(text).strip())
    out = parts[0]
    for p in parts[1:]:
        if len(out) + 1 + len(p) > limit:
            break
        out += " " + p
    return out


def _spread(ranked: list) -> list:
    """Worst first, but one finding of each area before a second of any: the board reads the
    fairness, privacy and data reasons side by side, not five of one area."""
    first, rest, seen = [], [], set()
    for f in ranked:
        (rest if f.area in seen else first).append(f)
        seen.add(f.area)
    return sorted(first, key=lambda f: (-f.severity.rank, _AREA_ORDER.get(f.area, 9))) + rest


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


def _detail(f) -> dict:
    return {"finding": f.id, "title": f.title, "severity": f.severity.value,
            "method": f.metric.method if f.metric is not None else "",
            "threshold_kind": f.threshold.kind if f.threshold is not None else "",
            "threshold_source": f.threshold.source if f.threshold is not None else ""}


def _adapter(report) -> dict:
    """The board summary from the report's summary and findings (see the module's note)."""
    s = current_summary(report)
    rec = s.get("recommended_decision", "")
    counts = s.get("counts", {})
    ranked = _spread(sorted((f for f in report.findings if f.severity.value in _RANKED),
                            key=lambda f: -f.severity.rank))  # stable: keeps the report's order
    reasons = [{"severity": f.severity.value, "title": f.title,
                "text": _first_sentences(f.statement), "finding": f.id, "area": f.area}
               for f in ranked[:MAX_REASONS]]
    if not reasons:
        reasons = [{"severity": "pass", "title": "No finding fails or needs attention",
                    "text": f"{counts.get('pass', 0)} checks pass.", "finding": "",
                    "area": ""}]
    n_fail, n_att = counts.get("fail", 0), counts.get("attention", 0)
    decide = []
    if rec == "reject":
        decide.append(f"Whether to reject the model as recommended ({n_fail} "
                      f"finding{'s' if n_fail != 1 else ''} fail), or to overrule the "
                      "recommendation with a recorded reason.")
    elif rec == "approve_with_conditions":
        decide.append("Whether to approve with conditions, as recommended, or to reject.")
    elif rec == "approve":
        decide.append("Whether to approve, as recommended.")
    else:
        decide.append("No approval can be recommended yet: which checks must be completed "
                      "before the board decides, or why it accepts their absence.")
    if n_att:
        decide.append(f"For each of the {n_att} finding{'s' if n_att != 1 else ''} that "
                      f"need{'s' if n_att == 1 else ''} attention: a condition with an owner "
                      "and a date, or an accepted risk with its reason.")
    if n_fail:
        decide.append(f"For each of the {n_fail} failing finding{'s' if n_fail != 1 else ''}: "
                      "the fix the submitter must make before the model comes back.")
    unsettled = [f for f in report.findings
                 if f.severity in (Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]
    unknown = [{"severity": f.severity.value, "severity_label": f.severity.label,
                "title": f.title, "text": f.action or "", "finding": f.id} for f in unsettled]
    return {"recommendation": {"decision": rec,
                               "label": s.get("recommendation", DECISIONS.get(rec, rec)),
                               "why": decision_reason(counts, s.get("incomplete"))},
            "incomplete": list(s.get("incomplete", [])),
            "probes_not_run": list(s.get("probes_not_run", [])),
            "reasons": reasons, "decide": decide, "not_established": unknown,
            "detail": [_detail(f) for f in ranked[:MAX_REASONS] + unsettled],
            "counts": counts}


def summary_data(report) -> dict:
    """The board summary as plain data: ``recommendation`` (decision, label, why),
    ``incomplete``, ``probes_not_run``, ``reasons``, ``decide``, ``not_established`` (each with
    what would settle it) and ``detail`` (method, sources, ids).

    The words are the engine's (``reports.summary.board_summary``: the same sentences as every
    report format); the page adds the rule behind the recommendation and the detail view.
    """
    from reports.summary import board_summary

    engine = board_summary(report)
    own = _adapter(report)  # the rule's words, the warnings and the detail view
    by_id = {f.id: f for f in report.findings}
    rec = engine["recommendation"]
    reasons = [{"severity": r["severity"], "title": r["headline"],
                "text": r["text"] + (f" (Bound: {r['bound']}.)" if r.get("bound") else ""),
                "finding": ", ".join(r["finding_ids"]), "area": r["area"]}
               for r in engine["reasons"]]
    reasons += [{"severity": a["severity"], "title": a["title"], "text": "", "finding": "",
                 "area": ""} for a in engine.get("also", [])]
    unknown = [{"severity": u["severity"], "title": "",  # the engine's text names the check
                "severity_label": u.get("severity_label") or Severity(u["severity"]).label,
                "text": f"{u['text']} {u.get('action') or ''}".strip(),
                "finding": u.get("finding_id", "")} for u in engine["not_established"]]
    ids = [i for r in engine["reasons"] for i in r["finding_ids"]] + [
        u["finding"] for u in unknown]
    return own | {
        "recommendation": {"decision": rec["key"], "label": rec["words"],
                           "why": f"{rec['sentence']} {own['recommendation']['why']}"},
        "audited": engine["audited"], "reasons": reasons, "decide": engine["decide"],
        "not_established": unknown,
        "detail": [_detail(by_id[i]) for i in dict.fromkeys(ids) if i in by_id]}


def _lead(title: str) -> str:
    """A reason's headline in bold before its text (nothing when the text names it itself)."""
    if not title:
        return ""
    end = "" if title.rstrip()[-1:] in ".?!" else "."  # "…in the training data?" keeps its "?"
    return f"<b>{esc(title)}{end}</b> "


def show_board_summary(report) -> None:
    """Draw the board summary (the top of the Findings page)."""
    data = summary_data(report)
    rec = data["recommendation"]
    st.subheader("Board summary")
    if data.get("audited"):
        st.caption(md(data["audited"]))
    show_html(decision_box(rec["decision"], f"Recommended decision: {rec['label']}",
                           f"<br>{esc(rec['why'])}"))
    if data["incomplete"]:
        st.warning("Incomplete: " + md("; ".join(data["incomplete"])) + ". No approval is "
                   "recommended until it runs, or the board records why it accepts the absence.")
    if data["probes_not_run"]:
        st.warning("Probes that could not run: " + md(", ".join(data["probes_not_run"]))
                   + ". Their checks are not assessed.")
    st.markdown("**Why**")
    show_html("<ol style='padding-left:1.4rem'>" + "".join(
        f"<li style='margin-bottom:0.45rem'>{badge(r['severity'])} {_lead(r['title'])}"
        f"{esc(r['text'])}</li>" for r in data["reasons"]) + "</ol>")
    st.markdown("**What the board must decide**")
    st.markdown("\n".join(f"- {md(d)}" for d in data["decide"]))
    unknown = data["not_established"]
    st.markdown(f"**What this audit could not establish ({len(unknown)})**")
    st.caption(UNESTABLISHED_NOTE)
    # grouped by their own word, so that "Not assessed (N)" counts what the headline counts and
    # the missing context reads "Not supplied", an audit left incomplete "Incomplete"
    labels = ["Incomplete", Severity("inconclusive").label, Severity("not_assessed").label]
    for label in dict.fromkeys([*labels, *(u["severity_label"] for u in unknown)]):
        group = [u for u in unknown if u["severity_label"] == label]
        if group:
            st.markdown(f"**{label} ({len(group)})**")
            show_html("<ul style='list-style:none;padding-left:0'>" + "".join(
                f"<li style='margin-bottom:0.45rem'>{badge(u['severity'], label)} "
                f"{_lead(u['title'])}{esc(u['text'])}</li>" for u in group) + "</ul>")
    if not unknown:
        st.markdown("Nothing: every check could be judged, and each passes or shows its finding.")
    with st.expander("Method, sources and ids of these findings"):
        for d in data["detail"]:
            st.markdown(f"**{md(d['title'])}** ({md(d['finding'])})")
            if d["method"]:
                st.caption("Method: " + md(d["method"]))
            if d["threshold_source"]:
                st.caption(f"Threshold ({md(d['threshold_kind'])}): "
                           f"{md(d['threshold_source'])}")
