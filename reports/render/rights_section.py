"""The "Consent and data rights" section of the report: what the submitter declared about the
customers' rows (consent and its purposes, collection date, source, opt-out, erasure requests),
the data-rights and erasure findings, and the two probes' tables (counts under the suppression
bound shown empty). Built from the report alone, like every other section."""

from __future__ import annotations

from reports.render.tables import to_view
from reports.report import AuditReport

__all__ = ["rights_view", "is_rights_finding", "RIGHTS_TITLE"]

RIGHTS_TITLE = "Consent and data rights"
_PREFIXES = ("data.consent.", "data.retention.", "data.shadow_profiles.", "data.opt_out.",
             "data.erasure.", "data.rights.", "privacy.erasure_exposure.")


def is_rights_finding(finding_id: str) -> bool:
    """True for the findings of the data-rights probe and of erasure verification."""
    return finding_id.startswith(_PREFIXES)


def _declared(d: dict) -> list[dict]:
    rows = []
    for c in d.get("consent") or []:
        rows.append({"what": "consent column", "value": f"{c['column']}: covers "
                                                         f"{', '.join(c['purposes'])}"})
    if d.get("purposes"):
        rows.append({"what": "model's purposes", "value": ", ".join(d["purposes"])})
    for key, what in (("collected_at", "collection date"), ("data_source", "data source")):
        if d.get(key):
            rows.append({"what": what, "value": d[key]})
    if d.get("opt_out"):
        o = d["opt_out"]
        rows.append({"what": "opt-out", "value": o["column"] + (
            " (automated decisions and training)" if o["covers_training"]
            else " (automated decisions)")})
    if d.get("erasure"):
        e = d["erasure"]
        count = "fewer than 10" if e["requests"] is None else f"{e['requests']:,}"
        rows.append({"what": "erasure requests", "value": f"{count} in {e['file']} "
                                                          "(ids never printed)"})
    if d.get("trained_at"):
        rows.append({"what": "model trained on", "value": d["trained_at"]})
    return rows


def rights_view(report: AuditReport, findings: list[dict], suppress: int, *,
                max_rows: int) -> dict:
    """``{"title", "declared", "findings", "tables", "assessed"}`` of the section."""
    declared = report.subject.get("rights") or {}
    tables = [to_view(t, suppress_below=suppress, max_rows=max_rows)
              for name in ("data_rights", "erasure") if name in report.probes
              for t in report.probes[name].tables]
    return {"title": RIGHTS_TITLE, "declared": _declared(declared),
            "findings": [f for f in findings if is_rights_finding(f["id"])], "tables": tables,
            "assessed": bool(declared)}
