"""Match a stored report to what is loaded now: the subject it audited, the configuration it used.

On-demand drill-downs (another reference group, another customer's explanation) recompute on the
subject; their numbers belong beside the report's only when the model and data files are the same
ones, byte for byte (the report records each file's SHA-256), with the same inputs, sensitive
fields and seed; and they are recomputed with the report's own configuration (replicates,
confidence, thresholds).
"""

from __future__ import annotations

from audits.config import AuditConfig
from audits.errors import InputError
from audits.subject import AuditSubject

__all__ = ["config_from_report", "ensure_same_subject"]


def config_from_report(config: dict) -> AuditConfig:
    """The :class:`AuditConfig` a report was audited with (from its ``config`` section, which is
    ``AuditConfig.to_dict()`` plus the profile's hash)."""
    return AuditConfig.from_dict({k: v for k, v in config.items() if k != "profile_hash"})


def ensure_same_subject(subject: AuditSubject, report_subject: dict) -> None:
    """Raise InputError unless ``subject`` is the subject described by ``report_subject``.

    Parameters
    ----------
    subject : the loaded subject.
    report_subject : the report's ``subject`` section (``AuditSubject.summary()`` at audit time).

    Raises
    ------
    InputError : naming what differs, with the fix.
    """
    here = subject.summary()
    diffs = []
    files_now = {r: f.get("sha256") for r, f in (here.get("files") or {}).items()}
    files_then = {r: f.get("sha256") for r, f in (report_subject.get("files") or {}).items()}
    if files_now != files_then:
        changed = sorted(r for r in set(files_now) | set(files_then)
                         if files_now.get(r) != files_then.get(r))
        diffs.append(f"the files {changed} differ (SHA-256)")
    for key in ("feature_columns", "sensitive_fields", "target", "seed"):
        if here.get(key) != report_subject.get(key):
            diffs.append(f"{key} is {here.get(key)!r} here but {report_subject.get(key)!r} in the "
                         "report")
    if diffs:
        raise InputError(
            f"The model and data loaded now ({here.get('name')!r}) are not the ones this report "
            f"audited ({report_subject.get('name')!r}): {'; '.join(diffs)}. Load the same files "
            "on the Load page, or run the audit again, before recomputing.")
