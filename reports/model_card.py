"""A model card in Markdown (Mitchell et al. 2019, "Model Cards for Model Reporting"), from a
stored report alone: one of the export formats (``model-card``).

The card has the paper's nine sections: model details, intended use, factors, metrics,
evaluation data, training data, quantitative analyses (per group and per intersection),
ethical considerations, caveats and recommendations. What the audit measured fills them; what
only the submitter can say (intended use, how the data was obtained, ethical considerations) comes
from the context file when it was supplied, and otherwise the section says so and names the
context key that answers it. Every value from the data is escaped as Markdown text (an
intersection's ``*`` stays an asterisk); counts under the suppression limit are not printed.
"""

from __future__ import annotations

from audits.core.numbers import fmt, fmt_ci
from audits.core.results import Severity
from reports.render.names import field_name
from reports.render.to_markdown import md_code as c
from reports.render.to_markdown import md_escape as e
from reports.report import AuditReport
from reports.standards import CONTEXT_QUESTIONS
from reports.summary import board_summary

__all__ = ["render_model_card"]

_PERF = (("auc", "ROC AUC"), ("accuracy", "accuracy"), ("log_loss", "log loss"),
         ("brier", "Brier score"))
_GROUP_COLS = (("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"),
               ("accuracy", "accuracy"))


def _missing(key: str) -> str:
    return (f"_Not supplied._ The submitter's context answers it: `{key}` in the context file "
            f"({e(CONTEXT_QUESTIONS[key])}; `review-board template context`).")


def _ctx(report: AuditReport, key: str) -> str | None:
    c = report.subject.get("context") or {}
    v = c.get(key)
    if isinstance(v, list):
        return "; ".join(str(x) for x in v) or None
    return v or None


def _value_ci(m) -> str:
    if m is None or m.value is None:
        return "—"
    ci = fmt_ci(m.ci)
    return e(fmt(m.value)) + (f" {e(ci)}" if ci else "")


def _rows(report: AuditReport, probe: str, name: str) -> tuple[list[str], list[list]]:
    p = report.probes.get(probe)
    for t in (p.tables if p else ()):
        if t.name == name:
            return list(t.columns), [list(r) for r in t.rows]
    return [], []


def _metric(report, probe, name):
    p = report.probes.get(probe)
    return next((m for m in p.metrics if m.name == name), None) if p else None


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def _groups(report: AuditReport, suppress: int) -> list[str]:
    cols, rows = _rows(report, "fairness", "fairness.groups")
    if not rows:
        return ["No group metrics: the fairness probe did not run or had no sensitive field.", ""]
    i = {c: k for k, c in enumerate(cols)}
    body = []
    for r in rows:
        n = r[i["n"]] if "n" in i else None
        size = f"<{suppress}" if n is None or n < suppress else fmt(n)
        cells = [e(field_name(r[i["field"]])), e(r[i["group"]]), size]
        for col, _ in _GROUP_COLS:
            if col in i:
                lo, hi = i.get(f"{col}_low"), i.get(f"{col}_high")
                ci = fmt_ci((r[lo], r[hi])) if lo is not None and hi is not None else ""
                cells.append(e(fmt(r[i[col]])) + (f" {e(ci)}" if ci else ""))
        status = r[i["status"]] if "status" in i else ""
        cells.append(e(status))
        body.append(cells)
    header = ["field", "group", "rows"] + [w for col, w in _GROUP_COLS if col in i] + ["status"]
    return _table(header, body)


def render_model_card(report: AuditReport) -> str:
    """The report as a model card in Markdown (Mitchell et al. 2019)."""
    s, cfg = report.subject, report.config
    suppress = int(cfg.get("suppress_below", 10))
    conf = f"{float(cfg.get('confidence', 0.95)):.0%}"
    summary = board_summary(report)
    files = s.get("files") or {}
    rows = s.get("rows") or {}
    out = [f"# Model card: {e(s.get('name', 'model'))}", "",
           f"After Mitchell et al. 2019, \"Model Cards for Model Reporting\". Generated from audit "
           f"report `{report.report_id}` of {e(report.created_at or 'an unknown date')} by "
           f"Model Review Board {e(report.tool_version or '')}; intervals are {conf} confidence "
           "intervals. Recommended decision: "
           f"**{e(summary['recommendation']['words'])}**.", ""]

    out += ["## Model details", "",
            f"- Model: {e(s.get('model_type', 'not recorded'))}"
            + (f", format {e(s.get('model_format'))}" if s.get("model_format") else ""),
            f"- Model file: `{c(files.get('model', {}).get('path', '—'))}`, SHA-256 "
            f"`{files.get('model', {}).get('sha256', '—')}`",
            f"- Task: {e(s.get('task', 'binary classification'))}; target `{c(s.get('target'))}`"
            f", positive label {e(fmt(s.get('positive_label')))}",
            f"- Decision rule: {e(s.get('decision_rule') or 'the model predict')}"]
    sub = (s.get("context") or {}).get("submitter") or {}
    who = ", ".join(v for v in (sub.get("name"), sub.get("role"), sub.get("team")) if v)
    out += [f"- Submitted by: {e(who)}" if who else f"- Submitted by: {_missing('submitter')}",
            ""]

    out += ["## Intended use", ""]
    use = _ctx(report, "intended_use")
    out.append(e(use) if use else _missing("intended_use"))
    scope = _ctx(report, "out_of_scope_uses")
    out += ["", "Out of scope: " + (e(scope) if scope else _missing("out_of_scope_uses")), ""]
    if s.get("favourable_action"):
        out += [f"The favourable decision for a customer: {e(s['favourable_label'])} "
                f"({e(s['favourable_action'])}).", ""]

    fields = s.get("sensitive_fields") or []
    inter = (report.probes.get("fairness").params or {}).get("intersections") \
        if report.probes.get("fairness") else None
    out += ["## Factors", "",
            "Sensitive fields audited: " + (", ".join(f"`{c(f)}`" for f in fields) or "none")
            + (". Their intersections are audited too." if inter else "."),
            "Quasi-identifiers: " + (", ".join(f"`{c(f)}`" for f in s.get("quasi_identifiers")
                                              or []) or "none declared") + ".", ""]

    out += ["## Metrics", "",
            "Performance: ROC AUC, accuracy, log loss and Brier score on the training rows and "
            "on the holdout rows, with percentile bootstrap intervals. Fairness: selection "
            "rates, error rates and their ratios between groups, judged on simultaneous "
            "intervals. Privacy: membership-inference AUC and TPR at low FPR, attribute "
            "inference against a no-model baseline, memorisation. Each threshold and its "
            "source are in the audit report's appendix.", ""]
    body = []
    for key, label in _PERF:
        a, b = _metric(report, "performance", f"{key}.members"), \
            _metric(report, "performance", f"{key}.nonmembers")
        if a or b:
            body.append([label, _value_ci(a), _value_ci(b)])
    if body:
        out += _table(["metric", "training rows", "holdout rows"], body)

    out += ["## Evaluation data", "",
            f"{e(fmt(rows.get('nonmembers')))} holdout rows the model never saw "
            f"(`{c(files.get('nonmembers', {}).get('path', '—'))}`, SHA-256 "
            f"`{files.get('nonmembers', {}).get('sha256', '—')}`). Group metrics and attacks "
            "are measured on them.", ""]
    out += ["## Training data", "",
            f"{e(fmt(rows.get('members')))} training rows "
            f"(`{c(files.get('members', {}).get('path', '—'))}`, SHA-256 "
            f"`{files.get('members', {}).get('sha256', '—')}`); "
            f"{len(s.get('feature_columns') or [])} model inputs.", ""]
    td = _ctx(report, "training_data")
    out += [e(td) if td else _missing("training_data"), ""]

    out += ["## Quantitative analyses", "", "### Per group and per intersection", ""]
    out += _groups(report, suppress)
    checks = [f for f in report.findings if f.area in ("fairness", "privacy", "performance")
              and f.metric is not None and f.metric.value is not None]
    if checks:
        out += ["### Judged checks", ""]
        out += _table(["check", "severity", "value", "bound"],
                      [[e(f.title), e(f.severity.label), _value_ci(f.metric),
                        e(_bound(f))] for f in checks])

    out += ["## Ethical considerations", ""]
    ethical = [f for f in report.findings if f.severity in (Severity.FAIL, Severity.ATTENTION)
               and (f.area in ("data", "privacy") or f.id.startswith(
                   ("fairness.sensitive_input", "fairness.proxy",
                    "explainability.sensitive_driver")))]
    out += [f"- {e(f.severity.label)}: {e(f.title)}" for f in ethical] or \
        ["- No sensitive input, proxy, privacy or data-rights check fails or needs attention."]
    eth = _ctx(report, "ethical_considerations")
    out += ["", "The team's account: " + (e(eth) if eth else _missing("ethical_considerations")),
            ""]

    out += ["## Caveats and recommendations", ""]
    out += [f"- {e(r['severity_label'])}: {e(r['text'])}" for r in summary["reasons"]]
    out += [f"- Not established: {e(x['text'])}" for x in summary["not_established"]]
    out += ["- The audit describes the model on the data supplied; it does not cover other "
            "populations, later data or drift. No threshold is a legal verdict.", ""]
    return "\n".join(out)


def _bound(f) -> str:
    t = f.threshold
    if t is None:
        return ""
    if t.band:
        return f"band {fmt(t.band[0])} to {fmt(t.band[1])}"
    parts = [f"{k} {t.direction} {fmt(getattr(t, k))}" for k in ("attention", "fail")
             if getattr(t, k) is not None]
    return "; ".join(parts)
