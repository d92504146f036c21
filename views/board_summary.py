"""The board summary that opens the Findings page: what a committee member reads first.

The recommendation; the three to five reasons in plain words with their numbers; what the board
must decide; what the audit could not establish. The method, the thresholds' sources and the
finding ids move into a detail view under it.

The words come from the engine (issue 16: "every statement is generated from the result"):
:func:`summary_data` is the one call that fetches them. Until the engine's own one-page summary
(``reports/summary.py``, built on the report-doc branch) is merged, it is a small adapter over
``report.summary`` and the findings, in the same plain-data shape; at the merge, the lead points
:func:`summary_data` at the engine's function and keeps :func:`show_board_summary` as it is.
"""

from __future__ import annotations

import re

import streamlit as st

from audits.core.results import Severity
from reports.report import DECISIONS
from views.texts import badge, decision_box, esc, md, show_html

__all__ = ["summary_data", "show_board_summary", "MAX_REASONS"]

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


def _adapter(report) -> dict:
    """The board summary from ``report.summary`` and the findings (see the module's note)."""
    s = report.summary
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
                      "before the board decides.")
    if n_att:
        decide.append(f"For each of the {n_att} finding{'s' if n_att != 1 else ''} that "
                      f"need{'s' if n_att == 1 else ''} attention: a condition with an owner "
                      "and a date, or an accepted risk with its reason.")
    if n_fail:
        decide.append(f"For each of the {n_fail} failing finding{'s' if n_fail != 1 else ''}: "
                      "the fix the submitter must make before the model comes back.")
    by_id = {f.id: f for f in report.findings}
    open_ids = list(dict.fromkeys(list(s.get("could_not_establish", []))
                                  + [f.id for f in report.findings
                                     if f.severity in (Severity.INCONCLUSIVE,
                                                       Severity.NOT_ASSESSED)]))
    unknown = [{"severity": by_id[i].severity.value, "title": by_id[i].title,
                "text": _first_sentences(by_id[i].statement), "finding": i}
               for i in open_ids if i in by_id]
    unknown += [{"severity": "not_assessed", "title": f"The {p.replace('_', ' ')} probe did "
                 "not run", "text": "Its checks are not assessed, which is not a pass.",
                 "finding": ""} for p in s.get("probes_not_run", [])]
    detail = [{"finding": f.id, "title": f.title, "severity": f.severity.value,
               "method": f.metric.method if f.metric is not None else "",
               "threshold_kind": f.threshold.kind if f.threshold is not None else "",
               "threshold_source": f.threshold.source if f.threshold is not None else ""}
              for f in ranked[:MAX_REASONS]]
    return {"recommendation": {"decision": rec, "label": DECISIONS.get(rec, rec)},
            "reasons": reasons, "decide": decide, "not_established": unknown,
            "detail": detail, "counts": counts}


def summary_data(report) -> dict:
    """The board summary as plain data: ``recommendation`` (decision, label), ``reasons``,
    ``decide``, ``not_established`` and ``detail`` (method, sources, ids).

    THE call to switch at the merge of the report-doc branch (the engine's one-page summary in
    ``reports/summary.py``): ``return <its function>(report)`` mapped to this shape.
    """
    return _adapter(report)


def show_board_summary(report) -> None:
    """Draw the board summary (the top of the Findings page)."""
    data = summary_data(report)
    rec = data["recommendation"]
    st.subheader("Board summary")
    show_html(decision_box(rec["decision"], f"Recommended decision: {rec['label']}"))
    st.markdown("**Why**")
    show_html("<ol style='padding-left:1.4rem'>" + "".join(
        f"<li style='margin-bottom:0.45rem'>{badge(r['severity'])} <b>{esc(r['title'])}.</b> "
        f"{esc(r['text'])}</li>" for r in data["reasons"]) + "</ol>")
    st.markdown("**What the board must decide**")
    st.markdown("\n".join(f"- {md(d)}" for d in data["decide"]))
    st.markdown("**What this audit could not establish**")
    if data["not_established"]:
        show_html("<ul style='list-style:none;padding-left:0'>" + "".join(
            f"<li style='margin-bottom:0.45rem'>{badge(u['severity'])} <b>{esc(u['title'])}."
            f"</b> {esc(u['text'])}</li>" for u in data["not_established"]) + "</ul>")
    else:
        st.markdown("Every check could be judged on these rows.")
    with st.expander("Method, sources and ids of these reasons"):
        for d in data["detail"]:
            st.markdown(f"**{md(d['title'])}** (`{d['finding']}`)")
            if d["method"]:
                st.caption("Method: " + md(d["method"]))
            if d["threshold_source"]:
                st.caption(f"Threshold ({md(d['threshold_kind'])}): "
                           f"{md(d['threshold_source'])}")
