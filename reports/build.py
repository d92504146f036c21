"""The runner: run the registered probes on a subject and assemble the AuditReport.

Probes never read each other's results; the one place results meet is :func:`combine`, whose rules
are listed there. A probe that raises is recorded as not assessed (with the reason), never
dropped: a release gate must not pass because a check silently did nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import platform
from importlib import metadata
from typing import Callable, Sequence

from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Finding, ProbeResult, Severity
from audits.core.subject import AuditSubject
from reports.registry import PROBES
from reports.report import AuditReport, summarise

__all__ = ["run_audit", "combine", "TOOL_VERSION"]

try:
    TOOL_VERSION = metadata.version("model-review-board")
except metadata.PackageNotFoundError:  # running from a source tree
    TOOL_VERSION = "0.1.0"

_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops", "fairlearn", "shap", "lime",
             "lightgbm")

Progress = Callable[[str, str, float], None]


def environment() -> dict:
    """Python and package versions, so a board can reproduce the audit."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "packages": versions}


def run_audit(subject: AuditSubject, config: AuditConfig | None = None, *,
              probes: Sequence[str] | None = None, progress: Progress | None = None,
              created_at: str | None = None) -> AuditReport:
    """Run the probes on ``subject`` and return the report.

    Parameters
    ----------
    subject : the validated subject (``audits.core.loading.load_subject``).
    config : thresholds and parameters (default profile when None).
    probes : names of the probes to run, in registry order (all registered when None).
    progress : called as ``progress(probe, stage, fraction)`` while probes run.
    created_at : the report's UTC time (now when None); the only non-deterministic field.
    """
    config = config or AuditConfig()
    names = list(PROBES) if probes is None else list(probes)
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        raise InputError(f"Unknown probe(s) {unknown}; available probes: {list(PROBES)}. "
                         "Check --probes.")
    results: dict[str, ProbeResult] = {}
    cache = RunCache()  # what several probes share, computed once in this run
    for name in PROBES:
        if name not in names:
            continue
        callback = (lambda stage, frac, _n=name: progress(_n, stage, frac)) if progress else None
        results[name] = _run_one(name, subject, config, callback, cache)
        if progress:
            progress(name, "done", 1.0)
    findings, notes = combine(results)
    return AuditReport(
        subject=subject.summary(), config=config.to_dict() | {"profile_hash": config.profile_hash},
        probes=results, findings=tuple(findings), summary=summarise(findings, results),
        environment=environment(), requested_probes=tuple(names), combine_notes=tuple(notes),
        created_at=created_at or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        tool_version=TOOL_VERSION)


def _run_one(name: str, subject: AuditSubject, config: AuditConfig, progress,
             cache: RunCache) -> ProbeResult:
    fn, area = PROBES[name]
    try:
        return fn(subject, config, progress=progress, cache=cache)
    except Exception as e:  # recorded, not hidden: the gate counts it
        reason = f"{type(e).__name__}: {e}"
        return ProbeResult(probe=name, area=area, status="not_assessed", notes=(reason,),
                           findings=(Finding(
                               id=f"{name}.run.error", severity=Severity.NOT_ASSESSED, area=area,
                               title=f"The {name} probe could not run",
                               statement=f"The {name} probe stopped with an error, so its checks "
                                         f"were not assessed: {reason}",
                               action="Fix the cause and re-run the audit."),))


_FAIRNESS_CHECKS = frozenset({"disparate_impact", "error_rate_parity", "subgroup_performance"})


def combine(results: dict[str, ProbeResult]) -> tuple[list[Finding], list[str]]:
    """Merge the probes' findings into the report's list, applying the combine rules.

    Rules (each applied only when every probe it needs ran):

    1. Proxy driver (THRESHOLDS.md, HEUR): an ``explainability.sensitive_driver.<feature>``
       finding (a sensitive field, or a proxy of one, among the model's top-10 drivers) becomes
       ``fail`` when a fairness check on one of its fields fails
       (``fairness.disparate_impact``, ``fairness.error_rate_parity`` or
       ``fairness.subgroup_performance`` of the field, or of an intersection ``a*b`` that
       includes it): the feature is then a likely channel of the disparity, not only a
       candidate.

    Findings are ordered by severity (fail first), then by id, so the report reads worst first.
    """
    findings = {f.id: f for r in results.values() for f in r.findings}
    notes: list[str] = []
    expl, fair = results.get("explainability"), results.get("fairness")
    if expl and fair and expl.status == "ok" and fair.status == "ok":
        failed = {field for f in fair.findings if f.severity is Severity.FAIL
                  and f.id.split(".")[1] in _FAIRNESS_CHECKS
                  for field in f.id.split(".", 2)[2].split("*")}
        for driver in expl.params.get("sensitive_drivers", []):
            fid = f"explainability.sensitive_driver.{driver['feature']}"
            hit = sorted(set(driver.get("fields", [])) & failed)
            if fid in findings and hit and findings[fid].severity is Severity.ATTENTION:
                old = findings[fid]
                findings[fid] = dataclasses.replace(
                    old, severity=Severity.FAIL,
                    statement=old.statement + f" A fairness check on {', '.join(hit)} fails, and "
                    f"this input is among the model's top drivers (rank {driver['rank']}): it is "
                    "a likely channel of that disparity.",
                    action="Remove or replace this input (see the data-minimisation finding), "
                           "retrain, and re-run the fairness audit.")
                notes.append(f"Rule 1 raised {fid} to fail: top-{driver['rank']} driver and a "
                             f"failing fairness check on {', '.join(hit)}.")
    ordered = sorted(findings.values(), key=lambda f: (-f.severity.rank, f.id))
    return ordered, notes
