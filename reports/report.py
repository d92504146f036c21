"""The audit report: one frozen, schema-versioned, JSON-serialisable record of an audit.

Renderers (HTML, PDF, Markdown) and the app read this record alone, so a report stored today can be
re-rendered years later. ``to_json``/``from_json`` round-trip exactly. The report id is the SHA-256
of the deterministic content (everything but the creation time), so the same audit of the same
files with the same seed and versions has the same id. Ledger data (who, when, which version of a
submission) never enters the report.

Schema versions. 1.1 (this tool) added the severity ``inconclusive``; the summary's
``incomplete`` reasons, ``could_not_establish`` (the inconclusive and not-assessed checks) and
``recommendation`` (the decision beside those counts, "approve; 2 checks inconclusive");
thresholds' ``no_effect``; and, in the fairness probe, every pair of groups in
``fairness.disparities`` and the ``fairness.subgroup_performance`` table and findings. A stored
report is never rewritten (its id is the hash of its content): :func:`current_summary` is the
migration step, which derives what a later schema added from the stored findings, so a 1.0
report renders and diffs beside a 1.1 one. Its recommendation stays the one it recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from audits.core.results import Finding, ProbeResult, Severity

__all__ = ["AuditReport", "SCHEMA_VERSION", "READABLE_SCHEMAS", "AREAS", "recommended_decision",
           "summarise", "incomplete_reasons", "HEADLINE_CHECKS", "DECISIONS", "current_summary",
           "recommendation_words"]

SCHEMA_VERSION = "1.1"
#: the schema versions this tool reads (older ones through :func:`current_summary`)
READABLE_SCHEMAS = ("1.0", "1.1")
AREAS = ("data", "performance", "explainability", "fairness", "privacy")
DECISIONS = {"reject": "Reject", "incomplete": "Incomplete: no approval recommended yet",
             "approve_with_conditions": "Approve with conditions", "approve": "Approve"}

#: A probe's headline check (a finding id prefix): when none of its findings is assessed, the
#: audit is incomplete (THRESHOLDS.md's decision rule).
HEADLINE_CHECKS = {"membership": "privacy.membership_inference.",
                   "fairness": "fairness.disparate_impact."}


def incomplete_reasons(findings, probes: dict[str, ProbeResult],
                       requested: tuple[str, ...] | None = None) -> list[str]:
    """Why the audit is incomplete: a requested probe that did not run, or a probe whose headline
    check was not assessed (membership's strongest attack; fairness with no assessable field).
    A missing context or inventory and too-small groups are listed elsewhere and do not count."""
    reasons = [f"the {name} probe could not run" for name, p in sorted(probes.items())
               if p.status != "ok" and (requested is None or name in requested)]
    for name, prefix in HEADLINE_CHECKS.items():
        p = probes.get(name)
        if p is None or p.status != "ok":
            continue
        assessed = [f for f in findings if f.id.startswith(prefix)
                    and f.severity is not Severity.NOT_ASSESSED]
        if not assessed:
            reasons.append(f"the {name} probe's headline check ({prefix.rstrip('.')}) could not "
                           "be assessed")
    return reasons


def recommended_decision(findings, incomplete: list[str] | None = None) -> str:
    """Any fail: reject; else incomplete when a requested probe did not run or its headline check
    is not assessed (no approval is recommended until it runs or the board records why it accepts
    the absence); else any attention: approve with conditions; otherwise approve (THRESHOLDS.md).
    Inconclusive and not-assessed checks never move it. The board may overrule it, with a recorded
    reason."""
    severities = {f.severity for f in findings}
    if Severity.FAIL in severities:
        return "reject"
    if incomplete:
        return "incomplete"
    if Severity.ATTENTION in severities:
        return "approve_with_conditions"
    return "approve"


def summarise(findings, probes: dict[str, ProbeResult]) -> dict:
    """Counts by severity, the scorecard (worst severity per area), what the audit could not
    establish and the recommendation."""
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    scorecard = {}
    for area in AREAS:
        in_area = [f for f in findings if f.area == area]
        assessed = [f for f in in_area if f.severity is not Severity.NOT_ASSESSED]
        if not assessed:
            scorecard[area] = Severity.NOT_ASSESSED.value
        else:
            scorecard[area] = max(assessed, key=lambda f: f.severity.rank).severity.value
    not_run = sorted(name for name, p in probes.items() if p.status != "ok")
    incomplete = incomplete_reasons(findings, probes)
    out = {"counts": counts, "scorecard": scorecard,
           "recommended_decision": recommended_decision(findings, incomplete),
           "probes_not_run": not_run, "incomplete": incomplete,
           "could_not_establish": [f.id for f in findings if f.severity in (
               Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]}
    out["recommendation"] = recommendation_words(out)
    return out


def recommendation_words(summary: dict) -> str:
    """The recommendation beside what the audit could not establish, as a board reads it:
    "Approve; 2 checks inconclusive, 1 not assessed", or "Incomplete: no approval recommended
    yet (the membership probe could not run)"."""
    rec = summary.get("recommended_decision", "")
    words = DECISIONS.get(rec, rec)
    if rec == "incomplete" and summary.get("incomplete"):
        words += f" ({'; '.join(summary['incomplete'])})"
    counts = summary.get("counts", {})
    parts = []
    n_inc, n_na = counts.get("inconclusive", 0), counts.get("not_assessed", 0)
    if n_inc:
        parts.append(f"{n_inc} check{'s' if n_inc != 1 else ''} inconclusive")
    if n_na:
        parts.append(f"{n_na} not assessed")
    return words + ("; " + ", ".join(parts) if parts else "")


def current_summary(report: "AuditReport") -> dict:
    """The report's summary in the current schema: the migration step for stored reports.

    A 1.0 summary gains what 1.1 added, derived from its own findings: ``counts["inconclusive"]``
    (0: the severity did not exist), ``incomplete`` (empty: the rule did not exist, and the
    recorded recommendation stands), ``could_not_establish`` and ``recommendation``; and
    ``migrated_from``. A 1.1 summary is returned as stored.
    """
    s = dict(report.summary)
    if report.schema_version == SCHEMA_VERSION:
        return s
    s["counts"] = {k.value: 0 for k in Severity} | dict(s.get("counts", {}))
    s.setdefault("incomplete", [])
    s.setdefault("could_not_establish", [f.id for f in report.findings if f.severity in (
        Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)])
    s.setdefault("recommendation", recommendation_words(s))
    s["migrated_from"] = report.schema_version
    return s


@dataclass(frozen=True)
class AuditReport:
    """Everything an audit found, as plain data.

    ``findings`` is the final list after the runner's combine rules; each probe's own findings
    stay in its ``ProbeResult``.
    """

    subject: dict
    config: dict
    probes: dict[str, ProbeResult]
    findings: tuple[Finding, ...]
    summary: dict
    environment: dict
    requested_probes: tuple[str, ...]
    combine_notes: tuple[str, ...] = ()
    created_at: str = ""
    schema_version: str = SCHEMA_VERSION
    tool_version: str = ""
    report_id: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "requested_probes", tuple(self.requested_probes))
        object.__setattr__(self, "combine_notes", tuple(self.combine_notes))
        if not self.report_id:
            object.__setattr__(self, "report_id", self.content_hash())

    def _content(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "tool_version": self.tool_version,
            "subject": self.subject,
            "config": self.config,
            "environment": self.environment,
            "requested_probes": list(self.requested_probes),
            "probes": {k: v.to_dict() for k, v in self.probes.items()},
            "findings": [f.to_dict() for f in self.findings],
            "combine_notes": list(self.combine_notes),
            "summary": self.summary,
        }

    def content_hash(self) -> str:
        blob = json.dumps(self._content(), sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def to_dict(self) -> dict:
        return {"report_id": self.report_id, "created_at": self.created_at} | self._content()

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict) -> "AuditReport":
        if d.get("schema_version") not in READABLE_SCHEMAS:
            raise ValueError(f"Report schema version {d.get('schema_version')!r} is not "
                             f"supported; this tool reads {' and '.join(READABLE_SCHEMAS)}.")
        return cls(subject=d["subject"], config=d["config"],
                   probes={k: ProbeResult.from_dict(v) for k, v in d["probes"].items()},
                   findings=tuple(Finding.from_dict(f) for f in d["findings"]),
                   summary=d["summary"], environment=d["environment"],
                   requested_probes=tuple(d["requested_probes"]),
                   combine_notes=tuple(d["combine_notes"]), created_at=d["created_at"],
                   schema_version=d["schema_version"], tool_version=d["tool_version"],
                   report_id=d["report_id"])

    @classmethod
    def from_json(cls, text: str) -> "AuditReport":
        return cls.from_dict(json.loads(text))

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> "AuditReport":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def verify(self) -> bool:
        """True when the stored id matches the content (nothing edited since)."""
        return self.report_id == self.content_hash()
