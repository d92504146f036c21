"""Group metrics and disparities against a reference group chosen by the board.

The fairness probe (:mod:`audits.fairness`) compares every group of a field with one reference
group: the most favoured group (highest selection rate of the favourable decision) unless the
audit configured another. A board often wants to read the same comparisons against another group
(the largest, say). :func:`reference_tables` re-runs the probe's own computation for one field
with the chosen reference; nothing statistical is reimplemented here:

- the same groups (:func:`audits.fairness.field_groupings`: sensitive fields, numeric ones banded,
  intersections of two fields);
- the same per-group counts bootstrap with the same seed (``derive_seed(seed, "fair", field)``),
  so the replicates are exactly the audit's and only the reference changes
  (:func:`audits.fairness_field.audit_field`);
- the same simultaneous max-statistic bands over each family of comparisons (Westfall & Young
  1993, on the rank scale, Mandel & Betensky 2008) and the same judgement on intervals
  (:func:`audits.core.results.judge`, four-fifths rule for selection rates, Aequitas' band for error
  rates);
- the same tables (:func:`audits.fairness.group_table`, ``disparity_table``), with small counts
  suppressed.

With the audit's own reference it reproduces the report's ``fairness.groups`` and
``fairness.disparities`` rows of that field exactly (a test checks it). The report's findings are
never re-judged: they stay as audited; the recomputed severities say how the same rules read
against the other reference.

:func:`metric_view` joins one metric's group rates and ratios into the rows a chart and a table
show, whether the tables come from the report or from :func:`reference_tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Table
from audits.core.seeds import derive_seed
from audits.core.subject import PARTS, AuditSubject
from audits.fairness import disparity_table, field_groupings, group_table
from audits.fairness_field import DISPARITY_METRICS, audit_field

__all__ = ["VIEW_COLUMNS", "metric_view", "reference_tables"]

VIEW_COLUMNS = ("group", "n", "status", "assessed", "is_reference", "value", "low", "high",
                "ratio", "ratio_low", "ratio_high", "difference", "difference_low",
                "difference_high", "family_size", "severity")


def reference_tables(subject: AuditSubject, config: AuditConfig, field: str, *, reference: str,
                     part: str = "nonmembers") -> tuple[Table, Table]:
    """The group table and the disparity table of one field against ``reference``.

    Parameters
    ----------
    subject : the audited subject (the same files as the report's; see
        :func:`reports.drilldown.ensure_same_subject`).
    config : the audit's configuration (:func:`reports.drilldown.config_from_report`), for
        the same replicates,
        confidence, minimum group size, thresholds and suppression.
    field : a sensitive field, or an intersection ``"a*b"`` as the report names it.
    reference : the reference group's name (as in the report's group table).
    part : the rows the probe audited (``report.probes["fairness"].params["part"]``).

    Returns
    -------
    (groups, disparities) : Tables ``fairness.groups`` and ``fairness.disparities`` with the
    report's columns, restricted to ``field``.

    Raises
    ------
    InputError : an unknown field, part or group.
    """
    if part not in PARTS:
        raise InputError(f"part is {part!r}; it must be one of {list(PARTS)}.")
    groupings = {name: (codes, levels) for name, codes, levels in
                 field_groupings(subject, config, part)}
    if field not in groupings:
        raise InputError(f"{field!r} is not a field the fairness probe audits; valid: "
                         f"{list(groupings)}.")
    codes, levels = groupings[field]
    fa = audit_field(
        field, codes, levels, subject.y(part), subject.decisions(part), subject.scores(part),
        favourable_positive=subject.favourable_label == subject.positive_label,
        n_boot=config.n_bootstrap, confidence=config.confidence,
        min_group_size=config.min_group_size,
        sr_threshold=config.threshold("fairness.selection_rate_ratio"),
        error_threshold=config.threshold("fairness.error_rate_ratio"),
        reference=reference, random_state=derive_seed(subject.seed, "fair", field))
    groups, _ = group_table([fa], config)
    note = (f"Recomputed against '{reference}' with the audit's own method and bootstrap "
            f"replicates ({config.n_bootstrap}, same seed); the audit's findings are unchanged.")
    return (Table.from_frame("fairness.groups", groups, title=f"Group metrics ({part})",
                             note=note),
            Table.from_frame("fairness.disparities", disparity_table([fa]),
                             title=f"Disparities against '{reference}'", note=note))


def metric_view(groups: Table, disparities: Table, field: str, metric: str) -> pd.DataFrame:
    """One row per group of ``field`` for ``metric``: size, status, rate with its interval, and
    its ratio and difference to the reference with their simultaneous intervals and severity.

    The reference group has ratio 1 and difference 0 without an interval; a group too small to
    judge, or a comparison the probe did not make (a rate resting on too few rows), has None.

    Returns
    -------
    DataFrame with columns :data:`VIEW_COLUMNS`, in the group table's order.
    """
    if metric not in DISPARITY_METRICS:
        raise InputError(f"Unknown metric {metric!r}; valid: {list(DISPARITY_METRICS)}.")
    g = groups.to_frame()
    g = g[g["field"] == field].reset_index(drop=True)
    if g.empty:
        raise InputError(f"No groups of {field!r} in the group table; fields there: "
                         f"{sorted(set(groups.to_frame()['field']))}.")
    d = disparities.to_frame()
    d = d[(d["field"] == field) & (d["metric"] == metric)].set_index("group")
    rows = []
    for r in g.itertuples(index=False):
        r = r._asdict()
        is_ref = r["status"] == "reference"
        assessed = r["status"] in ("reference", "assessed")
        row = {"group": str(r["group"]), "n": r["n"], "status": r["status"],
               "assessed": assessed, "is_reference": is_ref, "value": _num(r[metric]),
               "low": _num(r[f"{metric}_low"]), "high": _num(r[f"{metric}_high"])}
        if is_ref:
            row |= {"ratio": 1.0, "difference": 0.0}
        elif row["group"] in d.index:
            c = d.loc[row["group"]]
            row |= {k: _num(c[k]) for k in ("ratio", "ratio_low", "ratio_high", "difference",
                                             "difference_low", "difference_high")}
            row |= {"family_size": int(c["family_size"]), "severity": c["severity"]}
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(VIEW_COLUMNS)).astype(object)
    return out.where(pd.notna(out), None)


def _num(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if np.isnan(v) else v
