"""The audit report: one frozen, schema-versioned, JSON-serialisable record of an audit.

Renderers (HTML, PDF, Markdown) and the app read this record alone, so a report stored today can be
re-rendered years later. ``to_json``/``from_json`` round-trip exactly. The report id is the SHA-256
of the deterministic content (everything but the creation time), so the same audit of the same
files with the same seed and versions has the same id. Ledger data (who, when, which version of a
submission) never enters the report.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from audits.core.results import Finding, ProbeResult, Severity

__all__ = ["AuditReport", "SCHEMA_VERSION", "AREAS", "recommended_decision", "summarise",
           "incomplete_reasons", "HEADLINE_CHECKS", "DECISIONS"]

SCHEMA_VERSION = "1.0"
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
    return {"counts": counts, "scorecard": scorecard,
            "recommended_decision": recommended_decision(findings, incomplete),
            "probes_not_run": not_run, "incomplete": incomplete,
            "could_not_establish": [f.id for f in findings if f.severity in (
                Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]}


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
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"Report schema version {d.get('schema_version')!r} is not "
                             f"supported; this tool reads {SCHEMA_VERSION!r}.")
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
