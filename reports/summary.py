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

import math
import re

from audits.core.results import Finding, Severity
from reports.render.names import RATES, attack_name, field_name, group_phrase
from reports.report import DECISIONS, AuditReport, current_summary

__all__ = ["board_summary", "compute_board_summary", "summary_lines", "MAX_REASONS",
           "MIN_REASONS"]

MAX_REASONS, MIN_REASONS = 5, 3
_RIGHTS = ("data.consent", "data.retention", "data.shadow_profiles", "data.opt_out",
           "data.erasure", "privacy.erasure_exposure")
_AREA_ORDER = {"fairness": 0, "privacy": 1, "data": 2, "explainability": 3, "performance": 4}
_HEADLINES = ("fairness.disparate_impact", "privacy.membership_inference",
              "performance.generalisation_gap", "fairness.error_rate_parity",
              "privacy.memorisation")
_VERB = {"fail": "fails", "attention": "needs attention", "pass": "passes",
         "inconclusive": "is inconclusive", "not_assessed": "could not be assessed"}


# -- numbers as the summary prints them --------------------------------------------------------

def _num(x, digits: int = 2) -> str:
    """A plain number: two decimals by default; a large one with thousands separators."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if float(x).is_integer() and abs(x) >= 1:
        return f"{int(x)}"
    if 0 < abs(x) < 10 ** -digits:
        return f"{x:.2g}"
    return f"{x:.{digits}f}"


def _share(x) -> str:
    """A share in per cent: whole per cent from 10%, one decimal from 1%, two significant digits
    below ("19%", "2.4%", "0.18%")."""
    if x is None:
        return "n/a"
    p = 100 * float(x)
    if p == 0 or p == 100:
        return f"{p:.0f}%"
    if abs(p) >= 10:
        return f"{p:.0f}%"
    if abs(p) >= 1:
        return f"{p:.1f}%".replace(".0%", "%")
    return f"{p:.2g}%"


def _conf(report: AuditReport) -> str:
    return f"{float(report.config.get('confidence', 0.95)):.0%}"


def _auc(x) -> str:
    """An AUC or a difference of AUCs: three decimals (0.807; 0.011)."""
    return _num(x, 3)


def _between(report: AuditReport, m, fmt=_num) -> str:
    """"; with 95% confidence between a and b", from the interval the finding was judged on."""
    if m is None or not m.ci or m.ci[0] is None or m.ci[1] is None:
        return ""
    lo, hi = fmt(m.ci[0]), fmt(m.ci[1])
    if lo == hi and fmt is _num:
        lo, hi = _num(m.ci[0], 3), _num(m.ci[1], 3)
    return f"; with {_conf(report)} confidence between {lo} and {hi}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _uncap(text: str) -> str:
    """A title inside a sentence: "The model ..." -> "the model ..." (an acronym stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _is_share(f: Finding) -> bool:
    """Whether a finding's statistic is a share or a relative drop (printed in per cent)."""
    m = f.metric
    text = ((m.label + " " + m.name) if m is not None else "").lower()
    return "share" in text or "relative drop" in text or f.id.startswith(_RIGHTS)


def _bound(t, fmt=None) -> str:
    """A threshold's bounds in a few words (printed beside a reason, not in its sentence)."""
    if t is None:
        return ""
    if t.band:
        return f"acceptable band {_num(t.band[0])} to {_num(t.band[1])}"
    if t.name.endswith("_rank") and t.direction == "below":
        return " or ".join(f"{k} within the top {int(getattr(t, k))}"
                           for k in ("attention", "fail") if getattr(t, k) is not None)
    side = {"above": "above", "below": "below"}.get(t.direction, t.direction or "")
    fmt = fmt or (lambda x: _num(x, 3))
    parts = [f"{k} {side} {fmt(getattr(t, k))}" for k in ("attention", "fail")
             if getattr(t, k) is not None]
    return "; ".join(parts)


# -- lookups in the probes' own data ------------------------------------------------------------

def _table(report: AuditReport, probe: str, name: str) -> list[dict]:
    p = report.probes.get(probe)
    if p is None:
        return []
    for t in p.tables:
        if t.name == name:
            return [dict(zip(t.columns, r)) for r in t.rows]
    return []


def _metric(report: AuditReport, probe: str, name: str):
    p = report.probes.get(probe)
    return next((m for m in p.metrics if m.name == name), None) if p else None


def _subject_of(f: Finding) -> str:
    return f.id.split(".", 2)[2]


def _pair(report: AuditReport, f: Finding, metrics: tuple[str, ...]) -> dict | None:
    """The row of ``fairness.disparities`` the finding was judged on: same field, one of
    ``metrics``, the ratio equal to the finding's value."""
    if f.metric is None or f.metric.value is None:
        return None
    field = _subject_of(f)
    best, gap = None, 1e-9
    for r in _table(report, "fairness", "fairness.disparities"):
        if r.get("field") != field or r.get("metric") not in metrics or r.get("ratio") is None:
            continue
        d = abs(float(r["ratio"]) - f.metric.value)
        if d <= gap * max(1.0, abs(f.metric.value)):
            best, gap = r, d
    return best


# -- one sentence per check ------------------------------------------------------------------

def _disparate_impact(report, f) -> str | None:
    r = _pair(report, f, ("selection_rate",))
    if r is None:
        return None
    field = _subject_of(f)
    action = report.subject.get("favourable_action") or "given the favourable decision"
    return (f"{_cap(group_phrase(field, r['group']))} are {action} "
            f"{_num(float(r['ratio']))} times as often as "
            f"{group_phrase(field, r['reference'])}, {_share(r['value'])} against "
            f"{_share(r['reference_value'])}{_between(report, f.metric)}.")


def _error_rates(report, f) -> str | None:
    r = _pair(report, f, ("fpr", "fnr", "precision"))
    if r is None:
        return None
    field = _subject_of(f)
    name, meaning = RATES[r["metric"]]
    return (f"The {name} of {group_phrase(field, r['group'])} ({meaning}) is "
            f"{_num(float(r['ratio']))} times that of {group_phrase(field, r['reference'])}, "
            f"{_share(r['value'])} against {_share(r['reference_value'])}"
            f"{_between(report, f.metric)}.")


def _proxy(report, f) -> str | None:
    feature, _, field = _subject_of(f).partition("__")
    if f.metric is None or not field:
        return None
    return (f"The input {feature} stands in for {field_name(field)}: their association is "
            f"{_num(f.metric.value)} on a scale from 0 (unrelated) to 1 (one determines the "
            f"other){_between(report, f.metric)}.")


def _driver(report, f) -> str | None:
    feature = _subject_of(f)
    drivers = (report.probes.get("explainability").params or {}).get("sensitive_drivers", []) \
        if report.probes.get("explainability") else []
    d = next((x for x in drivers if x.get("feature") == feature), None)
    if d is None or f.metric is None:
        return None
    n = len(_table(report, "explainability", "importance")) or None
    what = ("a sensitive field" if feature in (report.subject.get("sensitive_fields") or [])
            else f"which stands in for {', '.join(field_name(x) for x in d.get('fields', []))}")
    rank = int(d["rank"])
    of = f" of {n}" if n else ""
    lo, hi = (d.get("rank_ci") or [rank, rank])
    spread = (f" (with {_conf(report)} confidence between no. {int(lo)} and no. {int(hi)})"
              if lo is not None and hi is not None and int(lo) != int(hi) else "")
    text = f"The input {feature}, {what}, is the model's no. {rank} driver{of}{spread}."
    failed = [x for x in report.findings if x.severity is Severity.FAIL
              and x.id.split(".")[1] in ("disparate_impact", "error_rate_parity")
              and set(_subject_of(x).split("*")) & set(d.get("fields", []))]
    if failed and f.severity is Severity.FAIL:
        text += (" A fairness check on that field fails, so this input is a likely channel of "
                 "the gap.")
    return text


def _sensitive_input(report, f) -> str | None:
    field = _subject_of(f)
    return (f"The sensitive field {field_name(field)} is itself an input of the model, so its "
            "decisions can depend on it directly.")


def _membership(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    p = report.probes.get("membership")
    strongest = (p.params or {}).get("strongest") if p else None
    name = attack_name(strongest) if strongest else "the strongest attack"
    return (f"The strongest membership attack, {name}, tells the customers the model was "
            f"trained on from others with AUC {_auc(m.value)} (0.5 is guessing, 1 is certain)"
            f"{_between(report, m, _auc)}.")


def _attribute(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    field = _subject_of(f)
    return (f"An attacker with the model guesses the {field_name(field)} of training customers "
            f"better than one without it, by {_auc(m.value)} of AUC{_between(report, m, _auc)}.")


def _gap(report, f) -> str | None:
    m = f.metric
    a, b = _metric(report, "performance", "auc.members"), \
        _metric(report, "performance", "auc.nonmembers")
    if m is None or a is None or b is None:
        return None
    return (f"The model ranks the customers it was trained on better than customers it never "
            f"saw: AUC {_auc(a.value)} against {_auc(b.value)}, a gap of {_auc(m.value)}"
            f"{_between(report, m, _auc)}.")


def _memorisation(report, f) -> str | None:
    m = f.metric
    floor = _metric(report, "memorisation", "memorisation.noise_floor")
    if m is None or m.value is None:
        return None
    base = f", against {_share(floor.value)} by chance" if floor and floor.value is not None \
        else ""
    return (f"{_cap(_share(m.value))} of the customers are highly memorised (the model's answer "
            f"on them depends on their having been in its training data){base}"
            f"{_between(report, m, _share)}.")


def _minimisation(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    feature = _subject_of(f)
    return (f"Removing the input {feature} and retraining changes the holdout AUC by "
            f"{-m.value:+.3f} (a cost of {_num(m.value, 3)})"
            f"{_between(report, m, _auc)}.")


def _generic(report, f) -> str:
    """A finding without its own sentence: its title, then its judged value and interval."""
    text = f.title.rstrip(".") + "."
    m = f.metric
    if m is not None and m.value is not None and m.label:
        fmt = _share if _is_share(f) else _num
        text += f" {_cap(m.label)}: {fmt(m.value)}{_between(report, m, fmt)}."
    return text


_SENTENCES = {
    "fairness.disparate_impact": _disparate_impact, "fairness.error_rate_parity": _error_rates,
    "fairness.proxy": _proxy, "explainability.sensitive_driver": _driver,
    "fairness.sensitive_input": _sensitive_input, "privacy.membership_inference": _membership,
    "privacy.attribute_inference": _attribute, "performance.generalisation_gap": _gap,
    "privacy.memorisation": _memorisation, "explainability.minimisation": _minimisation,
}


def _sentence(report: AuditReport, f: Finding) -> str:
    fn = _SENTENCES.get(_check(f))
    return (fn(report, f) if fn else None) or _generic(report, f)


# -- topics and reasons -------------------------------------------------------------------------

def _check(f: Finding) -> str:
    return ".".join(f.id.split(".")[:2])


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
