"""The view of a report: everything the HTML, PDF and Markdown templates print, as plain data.

:func:`build_view` reads the stored report and, when the report is in a ledger, the board's record
of it (``reports.ledger.Ledger.board_record``: status, votes, decision, dispositions, signatures,
the chain head). Nothing else is read: no clock, no installed versions, so a report stored a year
ago renders to the same page. The areas' own sections (performance to privacy) are built by
:mod:`reports.render.sections`.
"""

from __future__ import annotations

from audits.core.results import Severity
from reports.context import art22_screen, dpia_screen, feature_risk
from reports.render.rights_section import is_rights_finding, rights_view
from reports.render.sections import area_view, finding_view, threshold_text
from reports.render.tables import MAX_ROWS, fmt
from reports.render.texts import (
    ATTESTATION,
    GLOSSARY,
    LIMITATIONS,
    METHOD_NOTES,
    SEVERITY_MEANING,
    SEVERITY_MEANING_RULE,
    THRESHOLD_CAVEAT,
)
from reports.report import AREAS, DECISIONS, AuditReport, current_summary
from reports.standards import standards_map
from reports.summary import board_summary

__all__ = ["build_view", "summary_view", "unestablished_view", "watermark", "SECTIONS",
           "DECISION_LABELS", "WATERMARK_SELF_CHECK", "UNESTABLISHED_NOTE"]

SECTIONS = (("board", "Board summary"), ("cover", "0. Cover and traceability"),
            ("summary", "1. Executive summary"),
            ("unestablished", "2. What this audit could not establish"),
            ("context", "3. Context"), ("data", "4. Data"), ("performance", "5. Performance"),
            ("explainability", "6. Explainability"), ("fairness", "7. Fairness"),
            ("privacy", "8. Privacy"), ("risk", "9. Risk register"),
            ("decision", "10. Decision and sign-off"), ("appendix", "11. Appendix"))
UNESTABLISHED_NOTE = (
    "Inconclusive checks neither pass nor show a harm: their intervals reach across a bound, so "
    "these rows cannot tell. Each says the smallest effect these rows could have detected and "
    "roughly how many more rows would settle it. They do not move the recommendation, and a "
    "release gate at 'attention' does not count them. Checks that were not assessed could not "
    "be judged at all; a check that was not assessed is not a pass.")
DECISION_LABELS = DECISIONS | {"changes_requested": "Changes requested"}
WATERMARK_SELF_CHECK = "SELF-CHECK: NOT A BOARD DECISION"
WATERMARK_REVIEW = "UNDER REVIEW: NOT A BOARD DECISION"
NP = "not provided"
ICON = {"pass": "✓", "attention": "!", "fail": "✗", "inconclusive": "?", "not_assessed": "–"}


def _sev(value: str) -> dict:
    s = Severity(value)
    return {"key": s.value, "label": s.label, "icon": ICON[s.value]}


def watermark(board: dict | None) -> str | None:
    """The watermark a rendered report carries: none once the board has decided; "under review"
    while the run is submitted or under review; otherwise "self-check" (not a board decision)."""
    board = board or {}
    if board.get("decision"):
        return None
    status = (board.get("run") or {}).get("status", "draft")
    return WATERMARK_REVIEW if status in ("submitted", "under_review") else WATERMARK_SELF_CHECK


def build_view(report: AuditReport, board: dict | None = None, *,
               max_rows: int = MAX_ROWS) -> dict:
    """Everything a template prints, from the report and the board's record (or None).

    Parameters
    ----------
    report : the stored report.
    board : ``Ledger.board_record(run)`` when the report is in a ledger, else None (a report
        outside the ledger is a self-check).
    max_rows : rows printed of each probe table (the PDF prints fewer than the HTML).

    Returns
    -------
    dict
        One entry per section of :data:`SECTIONS`, plus ``title``, ``watermark`` and ``toc``.
    """
    board = board or {}
    suppress = int(report.config.get("suppress_below", 10))
    findings = [finding_view(f, board.get("dispositions", {})) for f in report.findings]
    return {
        "title": f"Model review: {report.subject.get('name', 'model')}",
        "subject_name": report.subject.get("name", "model"),
        "report_id": report.report_id,
        "watermark": watermark(board),
        "toc": [{"key": k, "title": t} for k, t in SECTIONS],
        "headings": dict(SECTIONS),
        "board": board_summary(report), "icons": ICON,
        # paper (the PDF) prints a finding's method and threshold source in the appendix only
        "paper": max_rows < MAX_ROWS,
        "cover": _cover(report, board),
        "summary": summary_view(report, board),
        "unestablished": unestablished_view(report, findings),
        "context": _context(report),
        "data": _data(report, findings, suppress),
        "areas": [area_view(report, area, findings, suppress, max_rows=max_rows)
                  for area in ("performance", "explainability", "fairness", "privacy")],
        "risk": [f for f in findings if f["severity"]["key"] != "pass"],
        "decision": _decision(report, board),
        "appendix": _appendix(report),
        "standards": standards_map(report),
    }


def _cover(report: AuditReport, board: dict) -> dict:
    s, cfg, env = report.subject, report.config, report.environment
    run, parent, ledger = board.get("run") or {}, board.get("parent"), board.get("ledger") or {}
    files = [{"role": role, "name": f.get("path", ""), "sha256": f.get("sha256", "")}
             for role, f in sorted(s.get("files", {}).items())]
    for key in ("context", "inventory"):
        src = (s.get(key) or {}).get("source")
        if src:
            files.append({"role": f"{key} file", "name": src["file"], "sha256": src["sha256"]})
    packages = [{"name": "python", "version": env.get("python") or NP}] + [
        {"name": k, "version": v or "not installed"}
        for k, v in sorted((env.get("packages") or {}).items())]
    return {
        "name": s.get("name", "model"), "model_type": s.get("model_type", NP),
        "report_id": report.report_id, "schema_version": report.schema_version,
        "tool_version": report.tool_version or NP, "created_at": report.created_at or NP,
        "seed": s.get("seed"), "files": files, "packages": packages,
        "profile": {"name": cfg.get("name", NP), "hash": cfg.get("profile_hash", NP)},
        "version": run.get("version"), "run_id": run.get("id"),
        "status": (run.get("status_label") or run.get("status")) if run else
        "Self-check (not recorded in a ledger)",
        "parent": parent, "ledger_url": ledger.get("url"), "head": ledger.get("head"),
        "key_fingerprint": ledger.get("key_fingerprint"),
        "requested_probes": list(report.requested_probes),
    }


def summary_view(report: AuditReport, board: dict) -> dict:
    """The executive summary: the scorecard by area, the recommendation and the board's state."""
    summary = current_summary(report)
    sc = summary.get("scorecard", {})
    rows = []
    for area in AREAS:
        in_area = [f for f in report.findings if f.area == area]
        counts = {k: sum(f.severity.value == k for f in in_area)
                  for k in ("fail", "attention", "inconclusive", "not_assessed", "pass")}
        worst = next((f for f in in_area if f.severity.value == sc.get(area)), None)
        rows.append({"area": area.capitalize(), "severity": _sev(sc.get(area, "not_assessed")),
                     "counts": counts,
                     "headline": worst.title if worst and worst.severity is not Severity.PASS
                     else ("No finding needs attention" if in_area and sc.get(area) == "pass"
                           else "No probe of this area ran" if not in_area else
                           "Nothing could be judged")})
    decision = board.get("decision")
    rec = summary.get("recommended_decision", "")
    key = [{"severity": _sev(f.severity.value), "title": f.title, "id": f.id}
           for f in report.findings if f.severity in (Severity.FAIL, Severity.ATTENTION)]
    return {
        "scorecard": rows, "counts": summary.get("counts", {}),
        "recommended": DECISION_LABELS.get(rec, rec),
        "recommendation": summary.get("recommendation", DECISION_LABELS.get(rec, rec)),
        "incomplete": list(summary.get("incomplete", [])),
        "migrated_from": summary.get("migrated_from"),
        "board_decision": DECISION_LABELS.get(decision["decision"], decision["decision"])
        if decision else None,
        "pending": "Under review: no decision yet" if (board.get("run") or {}).get("status")
        in ("submitted", "under_review") else "None: this is a self-check",
        "conditions": board.get("conditions", []), "key_findings": key,
        "probes_not_run": summary.get("probes_not_run", []),
        "diff": board.get("diff"),
        "legend": [{"severity": _sev(k), "text": SEVERITY_MEANING[k],
                    "rule": SEVERITY_MEANING_RULE[k].split(": ", 1)[1]
                    if k not in ("not_assessed", "inconclusive") else ""}
                   for k in ("fail", "attention", "inconclusive", "pass", "not_assessed")],
    }


def unestablished_view(report: AuditReport, findings: list[dict]) -> dict:
    """Section 2: why the audit is incomplete (when it is), the inconclusive checks with what
    would settle them, and the checks that were not assessed, with their reasons and remedies."""
    summary = current_summary(report)
    return {
        "recommendation": summary.get("recommendation", ""),
        "incomplete": list(summary.get("incomplete", [])),
        "inconclusive": [f for f in findings if f["severity"]["key"] == "inconclusive"],
        "not_assessed": [f for f in findings if f["severity"]["key"] == "not_assessed"],
        "probes_not_run": summary.get("probes_not_run", []),
        "note": UNESTABLISHED_NOTE,
        "migrated_from": summary.get("migrated_from"),
    }


def _context(report: AuditReport) -> dict:
    c = report.subject.get("context")
    if not c:
        return {"provided": False}
    d, sub = c.get("decisions") or {}, c.get("submitter") or {}
    return {
        "provided": True, "source": c.get("source"),
        "submitter": ", ".join(v for v in (sub.get("name"), sub.get("role"), sub.get("team"))
                               if v) or NP,
        "intended_use": c.get("intended_use") or NP,
        "out_of_scope_uses": c.get("out_of_scope_uses") or [],
        "affected_people": c.get("affected_people") or NP,
        "mode": {"automated": "Solely automated", "advisory": "Advisory (a person decides)"}
        .get(d.get("mode"), NP),
        "legal_effect": d.get("legal_or_similar_effect") or NP,
        "human_review": d.get("human_review") or NP, "profiling": d.get("profiling") or NP,
        "art22": art22_screen(c) or NP, "dpia": dpia_screen(c),
    }


def _data(report: AuditReport, findings: list[dict], suppress: int) -> dict:
    s = report.subject
    groups = []
    for p in report.probes.values():
        for t in p.tables:
            cols = list(t.columns)
            if {"field", "group", "n"} <= set(cols) and not groups:
                i, j, k = cols.index("field"), cols.index("group"), cols.index("n")
                for r in t.rows:
                    n = r[k]
                    groups.append({"field": r[i], "group": r[j],
                                   "n": f"<{suppress} suppressed" if n is None or n < suppress
                                   else fmt(n)})
    risk = feature_risk(report)
    inv = (s.get("inventory") or {}).get("features") or {}
    inventory = []
    for f in s.get("feature_columns", []):
        e = inv.get(f) or {}
        r = risk.get(f, {"rating": "low", "reasons": []})
        inventory.append({"feature": f, "origin": e.get("origin") or NP,
                          "purpose": e.get("purpose") or NP,
                          "legal_basis": e.get("legal_basis") or NP,
                          "retention": e.get("retention") or NP, "rating": r["rating"],
                          "reasons": ", ".join(r["reasons"]) or "none found"})
    reid = [f for f in findings if f["id"].startswith("privacy.reidentification")]
    rows = s.get("rows", {})
    return {
        "members": fmt(rows.get("members")), "nonmembers": fmt(rows.get("nonmembers")),
        # a regression has no label: its target and decision rule say it all ("" prints none)
        "target": s.get("target", NP),
        "positive_label": "" if s.get("positive_label") is None else fmt(s["positive_label"]),
        "favourable_label": "" if s.get("favourable_label") is None
        else fmt(s["favourable_label"]),
        "favourable_action": s.get("favourable_action") or NP,
        "decision_rule": s.get("decision_rule", NP),
        "data_path": data_path_text(s.get("data_path"), s.get("task", "binary")),
        "n_features": len(s.get("feature_columns", [])),
        "sensitive_fields": s.get("sensitive_fields") or [],
        "personal_columns": s.get("personal_columns") or [],
        "quasi_identifiers": s.get("quasi_identifiers") or [],
        "id_column": s.get("id_column"), "groups": groups,
        "reidentification": reid, "inventory": inventory,
        "inventory_source": (s.get("inventory") or {}).get("source"),
        "inventory_supplied": bool(s.get("inventory")),
        "findings": [f for f in findings if f["area"] == "data"
                     and not is_rights_finding(f["id"])],
        "rights": rights_view(report, findings, suppress, max_rows=MAX_ROWS),
    }


def data_path_text(path: dict | None, task: str = "binary") -> str:
    """One sentence: how the rows were read (``subject.summary()["data_path"]``), and which
    parts of the audit counted every row and which read the keyed-hash sample ("" for a report
    stored before the field existed)."""
    if not path:
        return ""
    rows, sampled = path.get("rows") or {}, path.get("sampled_rows") or {}
    files = path.get("partitions") or {}
    how = (f"Read partition by partition ({fmt(files.get('members'))} training and "
           f"{fmt(files.get('nonmembers'))} holdout files)"
           if path.get("path") == "partitioned" else "Read whole, in memory")
    if rows == sampled:
        return f"{how}; every part of the audit used every row."
    counted = ("performance, fairness, re-identification and the proxy screen"
               if task == "binary" else "re-identification and the proxy screen")
    return (f"{how}. Counts over all {fmt(rows.get('members'))} training and "
            f"{fmt(rows.get('nonmembers'))} holdout rows: {counted}; the other parts read a "
            f"keyed-hash sample of {fmt(sampled.get('members'))} training and "
            f"{fmt(sampled.get('nonmembers'))} holdout rows.")


def _decision(report: AuditReport, board: dict) -> dict:
    d = board.get("decision")
    summary = current_summary(report)
    rec = summary.get("recommended_decision", "")
    overruled = bool(d) and d["decision"] not in (rec, "changes_requested")
    return {
        "recorded": bool(d),
        "recommended": summary.get("recommendation", DECISION_LABELS.get(rec, rec)),
        "decision": ({**d, "label": DECISION_LABELS.get(d["decision"], d["decision"])}
                     if d else None),
        "overruled": overruled,
        "status": (board.get("run") or {}).get("status_label") or "Self-check",
        "reviewers": board.get("reviewers", []), "votes": [
            {**v, "label": DECISION_LABELS.get(v["decision"], v["decision"])}
            for v in board.get("votes", [])],
        "conditions": board.get("conditions", []),
        "signatures": [_signer(g) for g in board.get("signatures", [])],
        "tally": _tally(board.get("tally")),
        "comments": board.get("comments", []), "report_id": report.report_id,
        "attestation": ATTESTATION, "signature_note": SIGNATURE_NOTE, "in_ledger": bool(board),
    }


#: What a member's signature is, printed above the sign-off table.
SIGNATURE_NOTE = (
    "Each vote and the decision is signed with its member's Ed25519 key, over the report's hash "
    "and the ledger entries it recorded: a local account's key is kept under the member's own "
    "password; with single sign-on the app's host signs for the member the identity provider "
    "vouched for (its issuer and subject are recorded). \"Verified\" means that, when this "
    "document was made, the signature checked out against the public key the board's roster "
    "held for that member at the time of signing. Entries recorded before signing began are "
    "unsigned attestations.")
_VERIFICATION = {"verified": "verified", "failed": "FAILED",
                 "unsigned": "unsigned (recorded before signing began)"}


def _signer(g: dict) -> dict:
    """A signer as the sign-off page prints them (a board record stored before signatures were
    checked has no verification: it prints as unsigned)."""
    state = g.get("verification") or "unsigned"
    label = _VERIFICATION.get(state, state)
    if state == "failed" and g.get("verification_reason"):
        label += f": {g['verification_reason']}"
    act = {"vote": "Vote", "decision": "Decision"}.get(g.get("act"), "Vote")
    return {**g, "act_label": f"{act}: {g.get('vote_label') or 'not recorded'}",
            "verification_label": label, "state": state,
            "key_fingerprint": g.get("key_fingerprint"), "issuer": g.get("issuer"),
            "subject": g.get("subject")}


def _tally(t: dict | None) -> dict | None:
    if not t:
        return None
    counts = ", ".join(f"{DECISION_LABELS.get(k, k)} {n}" for k, n in t["counts"].items())
    return {"text": f"{counts or 'no votes'}; {t['independent']} independent vote"
                    f"{'s' if t['independent'] != 1 else ''} of the quorum of {t['quorum']} "
                    f"({'met' if t['quorum_met'] else 'not met'})."}


def _appendix(report: AuditReport) -> dict:
    cfg = report.config
    thresholds = [{"name": name, "description": t.get("description", ""),
                   "bounds": threshold_text(t), "kind": t.get("kind", ""),
                   "source": t.get("source", "")}
                  for name, t in sorted((cfg.get("thresholds") or {}).items())]
    params = [{"name": k, "value": fmt(cfg.get(k))}
              for k in ("n_bootstrap", "confidence", "min_group_size", "suppress_below",
                        "n_reference_models", "intersections") if k in cfg]
    refs = sorted({m.reference for p in report.probes.values() for m in p.metrics
                   if m.reference} | {f.metric.reference for f in report.findings
                                      if f.metric and f.metric.reference})
    areas_run = {p.area for p in report.probes.values()} | {f.area for f in report.findings}
    limits = list(LIMITATIONS)
    missing = [a for a in AREAS if report.summary.get("scorecard", {}).get(a) == "not_assessed"]
    if missing:
        limits.append(f"Not assessed in this audit: {', '.join(missing)}. A missing area is "
                      "not a pass.")
    if report.summary.get("probes_not_run"):
        limits.append("Probes that could not run: "
                      f"{', '.join(report.summary['probes_not_run'])}.")
    return {
        "profile": {"name": cfg.get("name", NP), "hash": cfg.get("profile_hash", NP)},
        "thresholds": thresholds, "params": params,
        "methods": [{"area": a.capitalize(), "text": METHOD_NOTES[a]} for a in AREAS
                    if a in areas_run and a in METHOD_NOTES],
        "references": refs, "glossary": [{"term": t, "text": x} for t, x in GLOSSARY],
        "limitations": limits, "caveat": THRESHOLD_CAVEAT,
        "combine_notes": list(report.combine_notes),
    }
