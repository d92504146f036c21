"""The board summary: one page a review board reads first, generated from the report alone.

:func:`board_summary` returns plain data (no markup), so the app's Findings page and every report
format (HTML, PDF, Markdown, JSON) print the same words: the recommended decision with its
counts, three to five reasons in plain words with their key numbers (the interval each severity
was judged on), what the board must decide, and what this audit could not establish. Every
sentence is built from the fields of the report (findings' metrics and thresholds, the probes'
tables and parameters, the subject's description); nothing is written per sample. Methods,
threshold sources and finding ids stay in the detail sections and the appendix: the summary
carries the ids only as data, for links.

How the reasons are chosen (a product rule, stated so a board can check it):

1. Findings are grouped by topic: a check (``fairness.disparate_impact``), so that a field and its
   intersections make one reason; and the customers' data rights (consent, retention, third-party
   profiles, opt-outs, erasure) make one reason together.
2. Topics that fail come first, then those that need attention; within a severity, fairness,
   privacy, data rights and data, explainability, then performance (the order of harm to the
   customers); at most five.
3. When fewer than three topics fail or need attention, the headline checks that pass fill the
   summary to three (disparate impact, membership inference, the generalisation gap, error-rate
   parity, memorisation), so an approval also says what it rests on.
"""

from __future__ import annotations

import re

from audits.core.results import Finding, Severity
from reports.render.names import field_name
from reports.report import DECISIONS, AuditReport, current_summary
from reports.summary_sentences import RIGHTS as _RIGHTS
from reports.summary_sentences import auc as _auc
from reports.summary_sentences import between as _between
from reports.summary_sentences import bound as _bound
from reports.summary_sentences import check_of
from reports.summary_sentences import is_share as _is_share
from reports.summary_sentences import sentence as _sentence
from reports.summary_sentences import share as _share
from reports.summary_sentences import subject_of as _subject_of
from reports.summary_sentences import uncap as _uncap

__all__ = ["board_summary", "compute_board_summary", "summary_lines", "MAX_REASONS",
           "MIN_REASONS"]

MAX_REASONS, MIN_REASONS = 5, 3
_AREA_ORDER = {"fairness": 0, "privacy": 1, "data": 2, "explainability": 3, "performance": 4}
_HEADLINES = ("fairness.disparate_impact", "privacy.membership_inference",
              "performance.generalisation_gap", "fairness.error_rate_parity",
              "privacy.memorisation")
_VERB = {"fail": "fails", "attention": "needs attention", "pass": "passes",
         "inconclusive": "is inconclusive", "not_assessed": "could not be assessed"}


# -- topics and reasons -------------------------------------------------------------------------

_check = check_of


def _topic(f: Finding) -> str:
    return "data_rights" if _check(f).startswith(_RIGHTS) else _check(f)


def _lead_key(f: Finding):
    return (-f.severity.rank, _subject_of(f).count("*"), f.id)


def _reason(report: AuditReport, topic: str, fs: list[Finding]) -> dict:
    fs = sorted(fs, key=_lead_key)
    lead = fs[0]
    sev = lead.severity
    if topic == "data_rights":
        bad = [f for f in fs if f.severity.rank >= Severity.ATTENTION.rank]
        items = [_uncap(f.title.rstrip(".")) for f in bad[:3]]
        more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
        text = ("The data breaks the customers' data rights: " + "; ".join(items) + more + ".")
        headline = "Customers' data rights"
        shown = bad
    else:
        text = _sentence(report, lead)
        same = [f for f in fs[1:] if f.severity is sev]
        if same:
            text += (f" The same check {_VERB[sev.value]} for "
                     f"{', '.join(field_name(_subject_of(f)) for f in same)}.")
        headline = lead.title
        shown = [lead] + same
    return {"topic": topic, "severity": sev.value, "severity_label": sev.label,
            "area": lead.area, "headline": headline, "text": text,
            "bound": _bound(lead.threshold) if topic != "data_rights" and lead.metric is not None
            and lead.metric.ci else "",
            "finding_ids": [f.id for f in shown]}


def _reasons(report: AuditReport) -> tuple[list[dict], list[dict]]:
    topics: dict[str, list[Finding]] = {}
    for f in report.findings:
        topics.setdefault(_topic(f), []).append(f)

    def worst(fs):
        return max(fs, key=lambda f: f.severity.rank)

    harmful = [(t, fs) for t, fs in topics.items()
               if worst(fs).severity in (Severity.FAIL, Severity.ATTENTION)]
    harmful.sort(key=lambda tf: (-worst(tf[1]).severity.rank,
                                 _AREA_ORDER.get(worst(tf[1]).area, 9), tf[0]))
    reasons = [_reason(report, t, fs) for t, fs in harmful[:MAX_REASONS]]
    also = [{"severity": worst(fs).severity.value, "severity_label": worst(fs).severity.label,
             "title": sorted(fs, key=_lead_key)[0].title, "topic": t}
            for t, fs in harmful[MAX_REASONS:]]
    for check in _HEADLINES:
        if len(reasons) >= MIN_REASONS:
            break
        fs = [f for f in topics.get(check, []) if f.severity is Severity.PASS]
        if fs and not any(r["topic"] == check for r in reasons):
            reasons.append(_reason(report, check, fs))
    return reasons, also


# -- the decision, and what could not be established --------------------------------------------

def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _recommendation(report: AuditReport) -> dict:
    s = current_summary(report)
    rec = s.get("recommended_decision", "")
    c = {k: int(v) for k, v in (s.get("counts") or {}).items()}
    total = sum(c.values())
    parts = [f"{c.get('fail', 0)} fail", f"{c.get('attention', 0)} need attention",
             f"{c.get('pass', 0)} pass"]
    rest = [f"{c[k]} {w}" for k, w in (("inconclusive", "inconclusive"),
                                        ("not_assessed", "not assessed")) if c.get(k)]
    counts = f"Of {_plural(total, 'check')}, {', '.join(parts)}"
    # the recommendation's words (schema 1.1) already say how many are inconclusive
    counts += (f"; {' and '.join(rest)}." if rest and not s.get("recommendation") else ".")
    return {"key": rec, "label": DECISIONS.get(rec, rec), "counts": c,
            "words": s.get("recommendation") or DECISIONS.get(rec, rec),
            "sentence": counts}


def _decide(report: AuditReport) -> list[str]:
    s = current_summary(report)
    rec = s.get("recommended_decision", "")
    c = s.get("counts") or {}
    out = {
        "reject": "Whether to reject the model as recommended, or to overrule the "
                  "recommendation with a recorded reason.",
        "approve_with_conditions": "Which conditions to set before release, each with an owner "
                                   "and a due date, or whether to overrule the recommendation "
                                   "with a recorded reason.",
        "approve": "Whether to approve the model as recommended, or to overrule the "
                   "recommendation with a recorded reason.",
        "incomplete": "Whether to wait until the missing checks have run ("
                      + "; ".join(s.get("incomplete") or ["see below"])
                      + "), or to record why the board accepts their absence.",
    }.get(rec, "The board's decision, with a recorded reason.")
    lines = [out]
    n = int(c.get("fail", 0)) + int(c.get("attention", 0))
    if n:
        lines.append(f"A disposition (mitigate, accept, transfer or avoid, with an owner) for "
                     f"each of the {_plural(n, 'finding')} that fail or need attention: a "
                     "decision cannot be recorded without them.")
    k = int(c.get("inconclusive", 0))
    if k:
        lines.append(f"Whether the {_plural(k, 'inconclusive check')} must be settled with more "
                     "holdout rows before release, or the uncertainty accepted with a reason.")
    return lines


#: the end of a statement's first sentence (not after an abbreviation such as "Art." or "e.g.")
_FIRST_SENTENCE = re.compile(
    r"^(.+?(?<!\bArt)(?<!\be\.g)(?<!\bi\.e)(?<!\bno)[.!?])(\s+(?=[A-Z])|$)")


def _not_established(report: AuditReport) -> list[dict]:
    s = current_summary(report)
    by_id = {f.id: f for f in report.findings}
    ids = s.get("could_not_establish")
    if ids is None:
        ids = [f.id for f in report.findings
               if f.severity in (Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]
    out = []
    for reason in s.get("incomplete") or []:
        out.append({"severity": "not_assessed", "severity_label": "Incomplete",
                    "text": f"The audit is incomplete: {reason}.", "finding_id": None})
    for fid in ids:
        f = by_id.get(fid)
        if f is None:
            continue
        if f.severity is Severity.INCONCLUSIVE:
            m = f.metric
            fmt = _share if _is_share(f) else _auc
            title = f.title.rstrip(".")
            text = title + (" The rows" if title.endswith("?") else ": the rows") + \
                " cannot tell whether the bound is crossed"
            if m is not None and m.value is not None and m.ci and None not in m.ci:
                text += (f" (estimate {fmt(m.value)}{_between(report, m, fmt)}; "
                         f"{_bound(f.threshold, fmt if fmt is _share else None)})")
            text += "."
        else:
            first = _FIRST_SENTENCE.match(f.statement or "")
            text = f.title.rstrip(".") + ": " + (first.group(1) if first else "not assessed.")
        out.append({"severity": f.severity.value, "severity_label": f.severity.label,
                    "text": text, "action": f.action, "finding_id": f.id})
    if not report.subject.get("context"):
        out.append({"severity": "not_assessed", "severity_label": "Not supplied",
                    "text": "The submitter's context (intended use, affected people, how "
                            "decisions are made and reviewed) was not supplied, so this audit "
                            "cannot say whether the model fits its purpose.",
                    "action": "Ask the submitter for the context file "
                              "(review-board template context).", "finding_id": None})
    return out


def board_summary(report: AuditReport) -> dict:
    """The board summary a report carries (``report.summary["board"]``, stored by
    :func:`reports.build.assemble_report`), or, for a report stored before it existed, the one
    :func:`compute_board_summary` builds from its fields. The app, every rendering and the
    model card call this, so they print the same words."""
    stored = report.summary.get("board")
    return stored if isinstance(stored, dict) else compute_board_summary(report)


def compute_board_summary(report: AuditReport) -> dict:
    """The one-page board summary of a report, as plain data.

    Parameters
    ----------
    report : the stored report (any readable schema).

    Returns
    -------
    dict
        ``audited`` (one sentence: the model, its rows, the favourable decision),
        ``recommendation`` (``key``, ``label``, ``words``, ``sentence``, ``counts``),
        ``reasons`` (three to five dicts: ``severity``, ``severity_label``, ``area``,
        ``headline``, ``text``, ``bound``, ``finding_ids``), ``also`` (further topics that fail
        or need attention: ``severity``, ``title``), ``decide`` (sentences),
        ``not_established`` (dicts: ``severity``, ``severity_label``, ``text``, ``action``,
        ``finding_id``). The same report always gives the same summary.
    """
    s = report.subject
    rows = s.get("rows") or {}
    members, holdout = rows.get("members"), rows.get("nonmembers")
    audited = (f"{s.get('name', 'The model')} ({s.get('model_type', 'model')})")
    if members is not None and holdout is not None:
        audited += (f", trained on {int(members):,} customers and checked on {int(holdout):,} "
                    "customers it never saw")
    if s.get("favourable_action"):
        audited += f"; its favourable decision: {s['favourable_action']}"
    reasons, also = _reasons(report)
    return {"audited": audited + ".", "recommendation": _recommendation(report),
            "reasons": reasons, "also": also, "decide": _decide(report),
            "not_established": _not_established(report)}


def summary_lines(summary: dict) -> list[str]:
    """The summary as plain text lines (the command line, a test's exact strings)."""
    r = summary["recommendation"]
    lines = [f"Recommended decision: {r['words']}", r["sentence"], summary["audited"],
             "Why:"]
    lines += [f"- {x['severity_label']}: {x['text']}" for x in summary["reasons"]]
    if summary["also"]:
        lines.append("Also: " + "; ".join(f"{a['title']} ({a['severity_label'].lower()})"
                                          for a in summary["also"]) + ".")
    lines.append("The board must decide:")
    lines += [f"- {d}" for d in summary["decide"]]
    lines.append("What this audit could not establish:")
    lines += [f"- {x['text']}" for x in summary["not_established"]] or ["- Nothing: every "
                                                                        "check was judged."]
    return lines
