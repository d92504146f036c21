"""What changed between two versions of the same model's audit: findings that appeared, were
resolved, or changed severity. Findings are matched by their stable id (``probe.check.subject``).

Reports of different schema versions compare as they are: a 1.0 report is read through
:func:`reports.report.current_summary` (the migration step), so a check judged "attention" then
and "inconclusive" now reads as a change of severity, and a check added since (e.g.
``fairness.subgroup_performance``) as one that appeared.
"""

from __future__ import annotations

from audits.core.errors import InputError
from reports.report import AuditReport, current_summary

__all__ = ["diff_reports", "format_diff"]


def diff_reports(old: AuditReport, new: AuditReport, *, same_model: bool = True) -> dict:
    """Compare the findings of two reports.

    Parameters
    ----------
    old, new : the earlier and the later report.
    same_model : raise InputError when the two reports audit differently named models.

    Returns
    -------
    dict
        ``appeared`` (ids only in ``new``), ``resolved`` (ids only in ``old``) and ``changed``
        (ids in both with a different severity), each a list of ``{"id", "title", "before",
        "after", "change"}`` sorted by id; ``unchanged`` (a count), the two report ids and
        schema versions, the two recommended decisions and their words beside what each audit
        could not establish.
    """
    a, b = old.subject.get("name"), new.subject.get("name")
    if same_model and a != b:
        raise InputError(f"The reports audit different models ({a!r} and {b!r}); a diff compares "
                         "two versions of the same model.")
    before = {f.id: f for f in old.findings}
    after = {f.id: f for f in new.findings}

    def item(fid, x, y):
        sx = x.severity.label if x else "absent"
        sy = y.severity.label if y else "absent"
        return {"id": fid, "title": (y or x).title,
                "before": x.severity.value if x else None,
                "after": y.severity.value if y else None,
                "change": f"{sx} → {sy}"}

    appeared = [item(i, None, after[i]) for i in sorted(set(after) - set(before))]
    resolved = [item(i, before[i], None) for i in sorted(set(before) - set(after))]
    both = sorted(set(before) & set(after))
    changed = [item(i, before[i], after[i]) for i in both
               if before[i].severity is not after[i].severity]
    s_old, s_new = current_summary(old), current_summary(new)
    return {"old_report_id": old.report_id, "new_report_id": new.report_id,
            "old_schema": old.schema_version, "new_schema": new.schema_version,
            "old_recommended": s_old.get("recommended_decision"),
            "new_recommended": s_new.get("recommended_decision"),
            "old_recommendation": s_old.get("recommendation"),
            "new_recommendation": s_new.get("recommendation"),
            "appeared": appeared, "resolved": resolved, "changed": changed,
            "unchanged": len(both) - len(changed)}


def format_diff(diff: dict) -> str:
    """The diff as plain text, for the command line."""
    lines = [f"from report {diff['old_report_id'][:16]} to {diff['new_report_id'][:16]}",
             f"recommended decision: {diff['old_recommended']} -> {diff['new_recommended']}"]
    if diff.get("old_recommendation") and diff.get("new_recommendation"):
        lines.append(f"  ({diff['old_recommendation']} -> {diff['new_recommendation']})")
    for key in ("appeared", "resolved", "changed"):
        lines.append(f"{key} ({len(diff[key])}):")
        lines += [f"  {d['id']:<50} {d['change']}" for d in diff[key]] or ["  none"]
    lines.append(f"unchanged: {diff['unchanged']}")
    return "\n".join(lines)

