"""One sensitive field (or intersection) of the fairness probe: group metrics, disparities and
their simultaneous intervals, and the two judged checks.

Pure computation on arrays; :mod:`audits.fairness` turns the result into tables and findings.

- Group metrics: confusion-cell rates with the counts bootstrap of :mod:`audits.group_metrics`
  (percentile intervals, as fairlearn's ``MetricFrame``), AUC and calibration error with the
  within-group binned bootstrap of :mod:`audits.fairness_scores`.
- Reference group: the configured one, else the most favoured assessed group (highest
  selection rate of the favourable decision; ties go to the larger group, then by the
  confusion cells). Every disparity is a group's metric against the reference's: difference
  ``g - ref`` and ratio ``g / ref`` (0 / 0 = 1).
- A group smaller than ``min_group_size`` is not assessed (kept, with its size). A comparison is
  made only when the group and the reference are assessed and the metric rests on at least
  ``min_group_size`` rows in both (TPR, FNR: positives; FPR: negatives; precision: positive
  predictions; AUC: positives and negatives).
- Simultaneous intervals: within a field, each family of comparisons gets a max-statistic
  bootstrap band (Westfall & Young 1993; :func:`audits.group_metrics.simultaneous_band`). The
  families: the selection-rate ratios (disparate-impact check, 29 CFR 1607.4(D)); the FPR, FNR
  and precision ratios together (error-rate parity check, Aequitas, Saleiro et al. 2018); and,
  for the other displayed disparities, each metric's ratios and each metric's differences.
- Aggregates, as fairlearn defines them over the assessed groups: demographic-parity difference
  and ratio, equalised-odds difference, with percentile intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.core.bootstrap import percentile_interval, simultaneous_band
from audits.core.errors import InputError
from audits.core.results import Severity, Threshold, judge
from audits.fairness_scores import group_score_bootstrap
from audits.group_metrics import (
    CELL_METRICS,
    bootstrap_cells,
    cell_metrics,
    confusion_counts,
    denominators,
    parity_summary,
    safe_ratio,
)

__all__ = ["FieldAudit", "audit_field", "worst", "RATE_METRICS", "DISPARITY_METRICS",
           "ERROR_METRICS"]

RATE_METRICS = CELL_METRICS + ("auc", "calibration_error")
DISPARITY_METRICS = ("selection_rate", "tpr", "fpr", "fnr", "precision", "auc",
                     "calibration_error")
ERROR_METRICS = ("fpr", "fnr", "precision")


@dataclass(frozen=True)
class FieldAudit:
    """Everything computed for one field. Arrays are indexed by group (``levels`` order).

    ``disparities`` has one row per (group, metric) compared with the reference, with columns
    group, metric, value, reference_value, difference(+_low/_high), ratio(+_low/_high),
    family, family_size, severity (for the judged ratios, else None).
    """

    field: str
    levels: tuple[str, ...]
    counts: np.ndarray
    n: np.ndarray
    assessed: np.ndarray
    reference: int | None
    rates: dict
    rate_low: dict
    rate_high: dict
    disparities: pd.DataFrame
    summary: dict
    n_boot: int

    def judged(self, family: str) -> pd.DataFrame:
        """The judged comparisons of a check family (``disparate_impact``,
        ``error_rate_parity``)."""
        d = self.disparities
        return d[(d["family"] == family) & d["severity"].notna()]


def _pick_reference(levels, rates, n, counts, assessed, reference) -> int | None:
    if reference is not None:
        names = [str(g) for g in levels]
        if str(reference) not in names:
            raise InputError(f"The reference group {reference!r} is not a group of this field; "
                             f"its groups: {names}. Check reference_groups.")
        return names.index(str(reference))
    idx = np.flatnonzero(assessed & ~np.isnan(rates["selection_rate"]))
    if idx.size == 0:
        return None
    # ties: the larger group, then by the cells, so that renaming groups never changes a
    # cell metric's disparities (groups equal in every cell are interchangeable)
    key = [(-rates["selection_rate"][i], -n[i], *(-counts[i]), i) for i in idx]
    return int(min(key)[-1])


def _ends(lo, hi) -> tuple[float | None, float | None]:
    def f(x):
        x = float(x)
        return None if np.isnan(x) else x
    return f(lo), f(hi)


def audit_field(field: str, codes: np.ndarray, levels, y: np.ndarray, decisions: np.ndarray,
                scores: np.ndarray, *, favourable_positive: bool, n_boot: int, confidence: float,
                min_group_size: int, sr_threshold: Threshold, error_threshold: Threshold,
                reference=None, random_state: int) -> FieldAudit:
    """Group metrics, disparities and judged checks of one field.

    Parameters
    ----------
    field : the field's name (``a*b`` for an intersection).
    codes : each row's group index into ``levels``.
    levels : group names.
    y : 1 for the positive label.
    decisions : 1 for a positive decision.
    scores : the model's probability of the positive class.
    favourable_positive : the favourable decision is the positive one.
    n_boot, confidence : bootstrap replicates and (family-wise) confidence level.
    min_group_size : smaller groups, and rates resting on fewer rows, are not judged.
    sr_threshold, error_threshold : thresholds of the two checks.
    reference : the reference group's name, or None for the most favoured group.
    random_state : integer seed of this field's bootstrap.

    Returns
    -------
    FieldAudit

    Raises
    ------
    InputError : when ``reference`` is not a group of the field.
    """
    G = len(levels)
    ss = np.random.SeedSequence(random_state)
    cell_rng, score_rng = (np.random.default_rng(s) for s in ss.spawn(2))
    counts = confusion_counts(y, decisions, codes, n_groups=G)
    n = counts.sum(axis=1)
    assessed = n >= min_group_size
    rates = cell_metrics(counts, favourable_positive=favourable_positive)
    reps = cell_metrics(bootstrap_cells(counts, n_boot=n_boot, random_state=cell_rng),
                        favourable_positive=favourable_positive)
    sc = group_score_bootstrap(y, scores, codes, n_groups=G, n_boot=n_boot,
                               random_state=score_rng, groups=np.flatnonzero(assessed))
    for name, (pt, rp) in sc.items():
        rates[name], reps[name] = pt, rp
    low, high = {}, {}
    for m in RATE_METRICS:
        low[m], high[m] = percentile_interval(reps[m], confidence=confidence)

    ref = _pick_reference(levels, rates, n, counts, assessed, reference)
    den = denominators(counts)
    pos, neg = counts[:, 0] + counts[:, 2], counts[:, 1] + counts[:, 3]
    den["auc"], den["calibration_error"] = np.minimum(pos, neg), n

    rows = []
    if ref is not None and assessed[ref]:
        for m in DISPARITY_METRICS:
            ok = assessed & (den[m] >= min_group_size) & (np.arange(G) != ref)
            if den[m][ref] < min_group_size:
                ok[:] = False
            for g in np.flatnonzero(ok):
                rows.append({"g": int(g), "metric": m})
    comp = pd.DataFrame(rows, columns=["g", "metric"])
    disp = _disparities(comp, rates, reps, ref, levels, confidence, sr_threshold,
                        error_threshold)

    summary = {}
    pts = parity_summary(rates, assessed)
    boot = parity_summary(reps, assessed)
    n_assessed = int(assessed.sum())
    for k in pts:
        lo, hi = percentile_interval(boot[k][:, None], confidence=confidence)
        summary[k] = (float(pts[k]) if n_assessed >= 2 else np.nan,
                      *(_ends(lo[0], hi[0]) if n_assessed >= 2 else (None, None)))
    return FieldAudit(field=field, levels=tuple(str(g) for g in levels), counts=counts, n=n,
                      assessed=assessed, reference=ref, rates=rates, rate_low=low,
                      rate_high=high, disparities=disp, summary=summary, n_boot=n_boot)


def _family(metric: str, kind: str) -> str:
    if kind == "ratio" and metric == "selection_rate":
        return "disparate_impact"
    if kind == "ratio" and metric in ERROR_METRICS:
        return "error_rate_parity"
    return f"{metric}.{kind}"


def _disparities(comp, rates, reps, ref, levels, confidence, sr_thr, err_thr) -> pd.DataFrame:
    cols = ["group", "metric", "value", "reference_value", "difference", "difference_low",
            "difference_high", "ratio", "ratio_low", "ratio_high", "family", "family_size",
            "severity", "ratio_family"]
    if comp.empty:
        return pd.DataFrame(columns=cols[:-1])
    out = comp.copy()
    out["group"] = [str(levels[g]) for g in out["g"]]
    out["value"] = [rates[m][g] for g, m in zip(out["g"], out["metric"])]
    out["reference_value"] = [rates[m][ref] for m in out["metric"]]
    out["difference"] = out["value"] - out["reference_value"]
    out["ratio"] = safe_ratio(out["value"].to_numpy(float), out["reference_value"].to_numpy(float))
    diff_reps = np.column_stack([reps[m][:, g] - reps[m][:, ref]
                                 for g, m in zip(out["g"], out["metric"])])
    ratio_reps = np.column_stack([safe_ratio(reps[m][:, g], reps[m][:, ref])
                                  for g, m in zip(out["g"], out["metric"])])
    out["ratio_family"] = [_family(m, "ratio") for m in out["metric"]]
    out["family"] = out["ratio_family"]
    for kind, rp in (("difference", diff_reps), ("ratio", ratio_reps)):
        fam = np.asarray([_family(m, kind) for m in out["metric"]])
        lo, hi = np.full(len(out), np.nan), np.full(len(out), np.nan)
        size = np.zeros(len(out), dtype=int)
        for f in dict.fromkeys(fam):
            sel = fam == f
            lo[sel], hi[sel] = simultaneous_band(rp[:, sel], confidence=confidence)
            size[sel] = sel.sum()
        out[f"{kind}_low"], out[f"{kind}_high"] = lo, hi
        if kind == "ratio":
            out["family_size"] = size
    sev = []
    for fam, lo, hi, r in zip(out["family"], out["ratio_low"], out["ratio_high"], out["ratio"]):
        thr = {"disparate_impact": sr_thr, "error_rate_parity": err_thr}.get(fam)
        sev.append(None if thr is None else judge(_ends(lo, hi), thr, value=r).value)
    out["severity"] = sev
    return out[cols[:-1]].reset_index(drop=True)


def worst(judged: pd.DataFrame) -> pd.Series | None:
    """The most severe judged comparison (ties: the furthest ratio from parity)."""
    if judged.empty:
        return None
    rank = judged["severity"].map(lambda s: Severity(s).rank)
    far = np.abs(np.log(np.clip(judged["ratio"].astype(float), 1e-12, None)))
    key = pd.DataFrame({"rank": rank, "far": far}).sort_values(["rank", "far"], ascending=False,
                                                               kind="stable")
    return judged.loc[key.index[0]]
