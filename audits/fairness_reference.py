"""Group metrics and comparisons read against a reference group chosen by the board.

The fairness probe (:mod:`audits.fairness`) compares every pair of groups of every field, so the
report's ``fairness.disparities`` table already holds each group against any other: reading the
groups against a chosen reference is a view of the pairs that involve it
(:func:`against`, :func:`metric_view`), each turned to read "group / reference" (a ratio's band
is inverted with it: the band of ``b / a`` is the reciprocal of the band of ``a / b``). Nothing is
recomputed and nothing is re-judged: every pair was judged in the audit, both ways.

A report stored before every pair was compared (schema 1.0) holds only the pairs with its own
reference. :func:`reference_tables` recomputes a field's tables with the probe's own code
(:func:`audits.fairness.fairness_comparisons`: the same groups, the same seeds, the same joint
bootstrap and the same family), so it gives exactly the rows a current audit of the same files
would hold; nothing statistical is reimplemented here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Table
from audits.core.subject import PARTS, AuditSubject
from audits.fairness import disparity_table, fairness_comparisons, group_table
from audits.fairness_field import DISPARITY_METRICS

__all__ = ["VIEW_COLUMNS", "against", "metric_view", "reference_tables", "has_all_pairs"]

VIEW_COLUMNS = ("group", "n", "status", "assessed", "is_reference", "value", "low", "high",
                "ratio", "ratio_low", "ratio_high", "difference", "difference_low",
                "difference_high", "family_size", "severity")


def has_all_pairs(params: dict) -> bool:
    """Whether a fairness probe's tables hold every pair of groups (current reports)."""
    return params.get("comparisons") == "all_pairs"


def against(disparities: pd.DataFrame, field: str, reference: str) -> pd.DataFrame:
    """The pairs of ``field`` that involve ``reference``, each turned to read ``group /
    reference`` (ratios, their bands and the severities of pairs judged both ways are
    unchanged in meaning; differences change sign)."""
    d = disparities[disparities["field"] == field]
    keep = d[d["reference"].astype(str) == str(reference)]
    flip = d[d["group"].astype(str) == str(reference)].copy()
    if not flip.empty:
        flip["group"], flip["reference"] = flip["reference"], flip["group"]
        flip["value"], flip["reference_value"] = flip["reference_value"], flip["value"]
        with np.errstate(divide="ignore"):
            inv = {c: 1 / flip[c].astype(float) for c in ("ratio", "ratio_low", "ratio_high")}
        flip["ratio"], flip["ratio_low"], flip["ratio_high"] = (inv["ratio"], inv["ratio_high"],
                                                                 inv["ratio_low"])
        flip["difference"] = -flip["difference"].astype(float)
        lo, hi = flip["difference_low"].astype(float), flip["difference_high"].astype(float)
        flip["difference_low"], flip["difference_high"] = -hi, -lo
        for c in ("detectable",):
            if c in flip:
                with np.errstate(divide="ignore"):
                    flip[c] = 1 / flip[c].astype(float)
    return pd.concat([keep, flip], ignore_index=True) if len(flip) else keep.reset_index(
        drop=True)


def reference_tables(subject: AuditSubject, config: AuditConfig, field: str, *, reference: str,
                     part: str = "nonmembers") -> tuple[Table, Table]:
    """The group table and the comparisons against ``reference`` of one field, recomputed.

    Parameters
    ----------
    subject : the audited subject (the same files as the report's; see
        :func:`reports.drilldown.ensure_same_subject`).
    config : the audit's configuration (:func:`reports.drilldown.config_from_report`), for
        the same replicates, confidence, minimum group size, thresholds and suppression.
    field : a sensitive field, or an intersection ``"a*b"`` as the report names it.
    reference : the reference group's name (as in the report's group table).
    part : the rows the probe audited (``report.probes["fairness"].params["part"]``).

    Returns
    -------
    (groups, disparities) : Tables ``fairness.groups`` and ``fairness.disparities`` with the
    current report's columns, restricted to ``field``; the disparities read against
    ``reference`` (:func:`against`).

    Raises
    ------
    InputError : an unknown field, part or group.
    """
    if part not in PARTS:
        raise InputError(f"part is {part!r}; it must be one of {list(PARTS)}.")
    audits, comp = fairness_comparisons(subject, config, part)
    by_field = {fa.field: fa for fa in audits}
    if field not in by_field:
        raise InputError(f"{field!r} is not a field the fairness probe audits; valid: "
                         f"{list(by_field)}.")
    fa = by_field[field]
    if str(reference) not in fa.levels:
        raise InputError(f"The reference group {reference!r} is not a group of {field!r}; its "
                         f"groups: {list(fa.levels)}.")
    groups, _ = group_table([fa], config)
    note = (f"Recomputed with the audit's own method and bootstrap replicates "
            f"({config.n_bootstrap}, same seed) and read against '{reference}'; the audit's "
            "findings are unchanged.")
    disp = against(disparity_table(comp, [field]), field, reference)
    return (Table.from_frame("fairness.groups", groups, title=f"Group metrics ({part})",
                             note=note),
            Table.from_frame("fairness.disparities", disp,
                             title=f"Comparisons against '{reference}'", note=note))


def _default_reference(g: pd.DataFrame) -> str | None:
    ref = g[g["status"] == "reference"]
    if len(ref):
        return str(ref["group"].iloc[0])
    ok = g[g["status"] == "assessed"]
    if ok.empty:
        return None
    return str(ok.loc[ok["n"].astype(float).idxmax(), "group"])


def metric_view(groups: Table, disparities: Table, field: str, metric: str, *,
                reference: str | None = None) -> pd.DataFrame:
    """One row per group of ``field`` for ``metric``: size, status, rate with its interval, and
    its ratio and difference to ``reference`` with their simultaneous intervals and severity.

    ``reference`` defaults to the group the table marks as reference (reports of schema 1.0),
    else the largest assessed group. The reference group has ratio 1 and difference 0 without an
    interval; a group too small to judge, or a comparison the probe did not make (a rate resting
    on too few rows), has None.

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
    reference = _default_reference(g) if reference is None else str(reference)
    d = against(disparities.to_frame(), field, reference) if reference is not None else \
        disparities.to_frame().iloc[0:0]
    d = d[d["metric"] == metric].set_index("group")
    rows = []
    for r in g.itertuples(index=False):
        r = r._asdict()
        is_ref = str(r["group"]) == reference
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
