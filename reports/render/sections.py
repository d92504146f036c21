"""The view of one finding and of one area's section (performance, explainability, fairness,
privacy): every finding with its metric beside its threshold and interval, what it means and the
recommended action; a chart of the judged statistics against their bounds; then each probe's
metrics and tables, whatever the probe. An area with no probe and no finding is "not assessed".
"""

from __future__ import annotations

from audits.core.results import Finding, Severity
from reports.render import charts
from reports.render.tables import fmt, fmt_ci, table_chart, to_view
from reports.render.texts import SEVERITY_MEANING, SEVERITY_MEANING_RULE, check_text
from reports.report import AuditReport

__all__ = ["finding_view", "threshold_text", "area_view", "findings_charts"]

ICON = {"pass": "✓", "attention": "!", "fail": "✗", "inconclusive": "?", "not_assessed": "–"}
_WORSE = {"above": "above", "below": "below"}


def threshold_text(t: dict | None) -> str:
    """A threshold's bounds in words, e.g. "fail below 0.8 (judged on the whole interval)"."""
    if not t:
        return ""
    if t.get("band"):
        a, b = t["band"]
        z = t.get("no_effect")
        if z is None:  # a stored report of schema 1.0 judged bands by the rule of its time
            return (f"acceptable inside [{fmt(a)}, {fmt(b)}]; attention when the interval "
                    "crosses an edge, fail when it lies wholly outside")
        return (f"pass when the whole interval lies inside [{fmt(a)}, {fmt(b)}]; fail when it "
                f"lies wholly outside; attention when it lies wholly on one side of {fmt(z)} "
                "with the estimate outside the band; otherwise inconclusive")
    side = _WORSE.get(t.get("direction"), t.get("direction", ""))
    parts = []
    if t.get("attention") is not None:
        parts.append(f"attention {side} {fmt(t['attention'])}")
    if t.get("fail") is not None:
        parts.append(f"fail {side} {fmt(t['fail'])}")
    return "; ".join(parts) + (" (judged on the whole interval)" if parts else "")


def finding_view(f: Finding, dispositions: dict) -> dict:
    """A finding as printed: severity, statement, what it means, action, metric and threshold,
    and the board's disposition of it (when recorded)."""
    m, t = f.metric, f.threshold
    metric = None
    if m is not None:
        metric = {"label": m.label or m.name, "value": fmt(m.value), "ci": fmt_ci(m.ci),
                  "method": m.method, "reference": m.reference,
                  "n": fmt(m.n) if m.n is not None else ""}
    threshold = None
    judged_on_value = m is not None and m.value is not None
    if t is not None:
        bounds = threshold_text(t.to_dict()) if judged_on_value else \
            f"rule: {t.description or t.name}"
        threshold = {"name": t.name, "bounds": bounds, "kind": t.kind, "source": t.source}
    meaning = check_text(f.id, f.area)
    return {
        "id": f.id, "title": f.title, "area": f.area,
        "severity": {"key": f.severity.value, "label": f.severity.label,
                     "icon": ICON[f.severity.value]},
        "statement": f.statement, "action": f.action or "None given.",
        "meaning": meaning, "severity_meaning": (SEVERITY_MEANING if judged_on_value else
                             SEVERITY_MEANING_RULE)[f.severity.value],
        "metric": metric, "threshold": threshold,
        "disposition": dispositions.get(f.id),
    }


def findings_charts(findings: list[Finding]) -> list[str]:
    """One chart per threshold: each judged statistic with its interval beside the bounds."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        if f.metric is not None and f.threshold is not None and f.metric.value is not None:
            groups.setdefault(f.threshold.name, []).append(f)
    out = []
    for name, fs in groups.items():
        t = fs[0].threshold
        rows = [{"label": f.title, "value": f.metric.value,
                 "lo": f.metric.ci[0] if f.metric.ci else None,
                 "hi": f.metric.ci[1] if f.metric.ci else None,
                 "severity": f.severity.value} for f in fs[:25]]
        title = (t.description or name)
        out.append(charts.forest(rows, t.to_dict(), title=_clip(title, 90)))
    return out


def _metrics(metrics) -> tuple[list[dict], list[dict]]:
    """Metric rows with a numbered reference to their method; each method printed once."""
    methods: dict[str, int] = {}
    rows = []
    for m in metrics:
        v = to_view(m)
        text = v["method"] + (f" ({v['reference']})" if v["reference"] else "")
        v["method_ref"] = methods.setdefault(text, len(methods) + 1) if text else ""
        rows.append(v)
    return rows, [{"ref": i, "text": t} for t, i in methods.items()]


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _header(report: AuditReport, area: str) -> str:
    s = report.subject
    if area == "fairness":
        action = s.get("favourable_action") or "not provided"
        label = s.get("favourable_label")  # a regression has none: its decision rule decides
        outcome = (f"the decision {fmt(label)!r} ({action})" if label is not None else
                   f"being {action}")
        return (f"Favourable outcome: {outcome}. Selection rates refer to it; every pair of "
                "groups is compared. "
                f"Sensitive fields audited: {', '.join(s.get('sensitive_fields') or []) or 'none'}"
                ". Decisions: " + (s.get("decision_rule") or "not provided") + ".")
    if area == "privacy":
        return ("Attacks are run as an outsider with the model's scores would; they give a "
                "lower bound on what the model reveals about individual customers.")
    if area == "explainability":
        return "What drives the model's scores, and how stable its explanations are."
    return "How well the model predicts, on the rows it was trained on and on rows it never saw."


def area_view(report: AuditReport, area: str, findings: list[dict], suppress: int, *,
              max_rows: int) -> dict:
    """The section of one area: header, findings, charts and each probe's details."""
    in_area = [f for f in report.findings if f.area == area]
    probes = []
    for p in report.probes.values():
        if p.area != area:
            continue
        tables = []
        for t in p.tables:
            v = to_view(t, suppress_below=suppress, max_rows=max_rows)
            v["chart"] = table_chart(t)
            tables.append(v)
        metrics, methods = _metrics(p.metrics[:max_rows])
        probes.append({"name": p.probe, "status": p.status,
                       "status_label": "ran" if p.status == "ok" else "could not run",
                       "interpretation": (p.params or {}).get("interpretation"),
                       "notes": list(p.notes), "metrics": metrics, "methods": methods,
                       "metrics_note": f"The first {max_rows} of {len(p.metrics)} metrics; every "
                       "metric is in the HTML report and the report JSON."
                       if len(p.metrics) > max_rows else "",
                       "tables": tables})
    status = report.summary.get("scorecard", {}).get(area, "not_assessed")
    assessed = bool(probes) or bool(in_area)
    return {
        "key": area, "title": area.capitalize(), "header": _header(report, area),
        "severity": {"key": status, "label": Severity(status).label, "icon": ICON[status]},
        "assessed": assessed,
        "not_assessed_note": None if assessed else (
            f"Not assessed: no {area} probe ran in this audit, so this area was not checked. "
            "A missing area is not a pass."),
        "findings": [f for f in findings if f["area"] == area],
        "charts": findings_charts(in_area), "probes": probes,
    }
