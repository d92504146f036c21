"""The runner: run the registered probes on a subject and assemble the AuditReport.

Probes never read each other's results; the one place results meet is :func:`combine`, whose rules
are listed there. Before a probe runs, its declared needs (:data:`reports.registry.NEEDS`) are
checked; a probe whose needs the subject does not meet, or that raises, is recorded as not
assessed (with the reason), never dropped: a release gate must not pass because a check silently
did nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import platform
from importlib import metadata
from typing import Callable, Sequence

from audits.core import messages as msg
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.engine_dask import ClusterError
from audits.core.errors import InputError
from audits.core.results import Finding, ProbeResult, Severity, Threshold
from audits.core.subject import AuditSubject
from reports.registry import PROBES, unmet_needs
from reports.report import AuditReport, summarise

__all__ = ["run_audit", "assemble_report", "attach_context", "run_probe", "combine", "check_probes",
           "check_rows", "TOOL_VERSION"]

try:
    TOOL_VERSION = metadata.version("model-review-board")
except metadata.PackageNotFoundError:  # running from a source tree
    TOOL_VERSION = "0.1.0"

_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops", "fairlearn", "shap", "lime",
             "lightgbm", "xgboost-cpu", "onnxruntime", "onnx", "pyarrow", "dask", "distributed")

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

    Raises
    ------
    InputError : an unknown probe name, or no requested probe with the rows it needs.
    """
    config = config or AuditConfig()
    names = check_probes(probes)
    check_rows(subject, config, names)
    results: dict[str, ProbeResult] = {}
    cache = RunCache()  # what several probes share, computed once in this run
    for name in PROBES:
        if name not in names:
            continue
        callback = (lambda stage, frac, _n=name: progress(_n, stage, frac)) if progress else None
        results[name] = run_probe(name, subject, config, progress=callback, cache=cache)
        if progress:
            progress(name, "done", 1.0)
    return assemble_report(
        subject=subject.summary(), config=config.to_dict() | {"profile_hash": config.profile_hash},
        probes=results, requested=names, environment=environment(), tool_version=TOOL_VERSION,
        created_at=created_at or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def assemble_report(*, subject: dict, config: dict, probes: dict[str, ProbeResult],
                    requested: Sequence[str], environment: dict, tool_version: str,
                    created_at: str) -> AuditReport:
    """The one place a report is put together, from the probes' results and the subject's
    description (with the submitter's context and inventory when they were attached).

    The probes' findings go through the combine rules (:func:`combine`); the ``data.inventory.*``
    findings come from the subject's inventory (:func:`reports.context.inventory_findings`, with
    the profile's threshold); then the findings are sorted worst first, the summary is computed
    and the report id is the hash of the content. :func:`run_audit` and :func:`attach_context`
    both call it, so a report reads the same however it was made.
    """
    from reports.context import inventory_findings
    from reports.summary import compute_board_summary

    combined, notes = combine(probes)
    stored = (config.get("thresholds") or {}).get("data.inventory")
    threshold = Threshold.from_dict(stored) if stored else None
    findings = [f for f in combined if not f.id.startswith("data.inventory.")]
    findings += inventory_findings(subject, subject.get("inventory"), threshold=threshold)
    findings.sort(key=lambda f: (-f.severity.rank, f.id))
    report = AuditReport(
        subject=subject, config=config, probes=dict(probes), findings=tuple(findings),
        summary=summarise(findings, probes), environment=environment,
        requested_probes=tuple(requested), combine_notes=tuple(notes), created_at=created_at,
        tool_version=tool_version)
    # the board summary's words travel with the report (its JSON carries them), so every
    # rendering, the app and a re-rendering years later print the same sentences
    summary = dict(report.summary) | {"board": compute_board_summary(report)}
    return dataclasses.replace(report, summary=summary, report_id="")


def attach_context(report: AuditReport, context: dict | None,
                   inventory: dict | None) -> AuditReport:
    """The report with the submitter's context and inventory stored in it, put together again.

    Parameters
    ----------
    report : a report (from :func:`run_audit`, or stored).
    context : the normalised context (``reports.context_files.load_context``), or None when none
        was supplied (any context stored before is removed).
    inventory : the normalised inventory, or None (likewise).

    Returns
    -------
    AuditReport
        A new report (:func:`assemble_report` on the same probes): ``subject["context"]`` and
        ``subject["inventory"]`` set, the ``data.inventory.*`` findings from this inventory, the
        summary and the id recomputed. The input report is not changed; attaching the same files
        again gives the same id.
    """
    subject = {k: v for k, v in report.subject.items() if k not in ("context", "inventory")}
    if context is not None:
        subject["context"] = context
    if inventory is not None:
        subject["inventory"] = inventory
    return assemble_report(subject=subject, config=report.config, probes=report.probes,
                           requested=report.requested_probes, environment=report.environment,
                           tool_version=report.tool_version, created_at=report.created_at)


def check_probes(probes: Sequence[str] | None) -> list[str]:
    """The probes to run (all registered when None); raises InputError for an unknown name or
    an empty list."""
    names = list(PROBES) if probes is None else list(probes)
    if not names:
        raise InputError(msg.PROBES_NONE, valid=list(PROBES))
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        raise InputError(msg.PROBES_UNKNOWN, bad=unknown, valid=list(PROBES))
    return names


def check_rows(subject: AuditSubject, config: AuditConfig, names: Sequence[str]) -> None:
    """Raise InputError when no probe of ``names`` has the rows it needs: fewer rows than any
    of them can use is bad input, not an audit whose every check is not assessed."""
    blocked = [n for n in names
               if any(u.kind.startswith("rows_") for u in unmet_needs(n, subject, config))]
    if names and len(blocked) == len(names):
        raise InputError(msg.ROWS_TOO_FEW, members=len(subject.members),
                         nonmembers=len(subject.nonmembers), need=config.min_group_size)


def run_probe(name: str, subject: AuditSubject, config: AuditConfig, *,
              progress: Callable[[str, float], None] | None = None,
              cache: RunCache | None = None) -> ProbeResult:
    """Run one registered probe after checking its declared needs.

    A need the subject does not meet (:func:`reports.registry.unmet_needs`) gives a
    ``not_assessed`` result with one finding ``<probe>.needs.<need>`` per missing need, its
    reason in the statement; a probe that raises gives ``<probe>.run.error``. Either way the
    probe is listed among those that could not run, so a release gate counts it. ``cache`` is
    the run's cache (:class:`audits.core.cache.RunCache`), shared by the probes of one audit.
    """
    fn, area = PROBES[name]
    unmet = unmet_needs(name, subject, config)
    if unmet:
        return ProbeResult(
            probe=name, area=area, status="not_assessed", notes=tuple(u.statement for u in unmet),
            params={"unmet_needs": [u.kind for u in unmet]},
            findings=tuple(Finding(
                id=f"{name}.needs.{u.kind}", severity=Severity.NOT_ASSESSED, area=area,
                title=f"The {name} probe could not judge this data", statement=u.statement,
                action=msg.NEED_ACTION.render(what=u.supply)) for u in unmet))
    try:
        return fn(subject, config, progress=progress, cache=cache)
    except ClusterError:  # the cluster failed, not the probe: stop, record nothing half-done
        raise
    except Exception as e:  # recorded, not hidden: the gate counts it
        reason = f"{type(e).__name__}: {e}"
        return ProbeResult(probe=name, area=area, status="not_assessed", notes=(reason,),
                           findings=(Finding(
                               id=f"{name}.run.error", severity=Severity.NOT_ASSESSED, area=area,
                               title=f"The {name} probe could not run",
                               statement=f"The {name} probe stopped with an error, so its checks "
                                         f"were not assessed: {reason}",
                               action="Fix the cause and re-run the audit."),))


_FAIRNESS_CHECKS = frozenset({"disparate_impact", "error_rate_parity", "subgroup_performance",
                              "mean_prediction_ratio", "mae_ratio"})


def failed_fields(findings) -> set[str]:
    """The sensitive fields with a failing fairness check (rule 1 below): a field whose own
    check fails, and every field of an intersection ``a*b`` whose check fails."""
    return {field for f in findings if f.severity is Severity.FAIL
            and f.id.split(".")[1] in _FAIRNESS_CHECKS
            for field in f.id.split(".", 2)[2].split("*")}


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
        failed = failed_fields(fair.findings)
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
