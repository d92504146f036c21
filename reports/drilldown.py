"""The drill-down API: what a front end may recompute beside a stored report, and its guard.

The app's pages reach the probes only through here (``tests/test_layers.py``):

- :func:`metric_view` one metric of a report's fairness tables, one row per group, read against
  any reference group (the report holds every pair: :func:`has_all_pairs`);
- :func:`fairness_against` one field's group and disparity tables against any reference group,
  recomputed by the fairness probe's own code (:mod:`audits.fairness_reference`), for reports
  stored before every pair was compared;
- :func:`explain_customer` one customer's SHAP and LIME, by the explainability probe's own
  recipe and seeds (:mod:`audits.record_explanation`); :func:`example_customers` pseudonyms
  to offer.

On-demand drill-downs (another reference group, another customer's explanation) recompute on the
subject; their numbers belong beside the report's only when the model and data files are the same
ones, byte for byte (the report records each file's SHA-256), with the same inputs, sensitive
fields and seed; and they are recomputed with the report's own configuration (replicates,
confidence, thresholds).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Table
from audits.core.subject import AuditSubject

__all__ = ["config_from_report", "ensure_same_subject", "fairness_against", "metric_view",
           "has_all_pairs", "explain_customer", "example_customers"]


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
        raise InputError(msg.SUBJECT_CHANGED, now=here.get("name"),
                         then=report_subject.get("name"), diffs="; ".join(diffs))


def fairness_against(subject: AuditSubject, report_subject: dict, report_config: dict, field: str,
                     *, reference: str, part: str = "nonmembers") -> tuple[Table, Table]:
    """One field's ``(groups, disparities)`` tables against ``reference``, recomputed with the
    report's configuration on the report's own subject (raises InputError otherwise)."""
    from audits.fairness_reference import reference_tables

    ensure_same_subject(subject, report_subject)
    return reference_tables(subject, config_from_report(report_config), field,
                            reference=reference, part=part)


def metric_view(groups: Table, disparities: Table, field: str, metric: str, *,
                reference: str | None = None) -> pd.DataFrame:
    """One row per group of ``field`` for ``metric``, read against ``reference`` (see
    :func:`audits.fairness_reference.metric_view`); a pure function of the tables."""
    from audits.fairness_reference import metric_view as view

    return view(groups, disparities, field, metric, reference=reference)


def has_all_pairs(fairness_params: dict) -> bool:
    """Whether a report's fairness tables hold every pair of groups, so that any reference is a
    view of them (else :func:`fairness_against` recomputes)."""
    from audits.fairness_reference import has_all_pairs as check

    return check(fairness_params)


def explain_customer(subject: AuditSubject, report_subject: dict, report_config: dict,
                     record: str, **options: Any) -> tuple[Table, Table]:
    """One customer's SHAP and LIME explanation (pseudonym in, pseudonyms out), recomputed with
    the report's configuration on the report's own subject by the function the probe explains
    its example customers with (:func:`audits.record_explanation.explain_row`), so a customer
    the report explained gets the report's numbers back. Returns the ``(local_explanations,
    local_summary)`` tables."""
    from audits.record_explanation import explain_record

    ensure_same_subject(subject, report_subject)
    return explain_record(subject, config_from_report(report_config), record, **options)


def example_customers(subject: AuditSubject, report_subject: dict, *, n: int = 8) -> list[str]:
    """Pseudonyms of ``n`` holdout customers to offer for a drill-down (seeded)."""
    from audits.record_explanation import example_records

    ensure_same_subject(subject, report_subject)
    return example_records(subject, "nonmembers", n=n, random_state=subject.seed)
