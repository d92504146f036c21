"""The fairness probe's comparisons: every pair of groups, fixed before resampling, and every
group against the overall, judged on one simultaneous band per probe.

Which groups a ratio compares is fixed before the resampling: all pairs of assessed groups of
each field and intersection (or, for a field whose reference group the audit configures, each
group against that reference), never "the most favoured group" picked on the same rows, which
biases every ratio below 1 under a fair model (METHODS.md; a percentile bootstrap of a minimum
or maximum is not valid either). A pair is stored once, in the orientation that reads naturally
(the group a gap harms first: the lower selection rate, TPR, precision or AUC, the higher FPR,
FNR or calibration error); the band of the other orientation is its reciprocal, and a pair is
judged both ways (the worse severity counts), which matters only for an asymmetric band.

Judged comparisons (THRESHOLDS.md), all in ONE family per probe, so that many groups, metrics,
fields and intersections do not raise false alarms by chance:

- ``disparate_impact``: selection-rate ratios against the band [0.8, 1.25] (29 CFR 1607.4(D),
  the four-fifths rule read both ways; a screening heuristic, not a legal verdict);
- ``error_rate_parity``: FPR, FNR and precision ratios against [0.8, 1.25] (Aequitas, tau = 0.8;
  Saleiro et al. 2018);
- ``subgroup_performance``: each group's relative drop of accuracy against the overall accuracy,
  ``1 - acc_group / acc_all``, attention above 5%, fail above 10% (Giskard's performance-bias
  defaults).

The family's band is :func:`audits.group_metrics.studentised_band` (Westfall & Young 1993's
max statistic, studentised as in Romano & Wolf 2005): each comparison is a log ratio (two groups'
rates; a group's accuracy over the overall accuracy, whose rows include the group's) with its
delta-method standard error, recomputed in every replicate; a rate on fewer than 10 events
enters continuity-corrected, ``(x + 1/2) / (n + 1)``, with Jeffreys draws as replicates. The band
is symmetric on the log scale around that estimate. The other comparisons shown (differences,
TPR, AUC and calibration ratios, pairs not judged) form a second family, "shown", with its own
band (:func:`audits.group_metrics.max_statistic_band`); they decide nothing.

What an inconclusive comparison could not establish (THRESHOLDS.md) comes from a power
calculation on the band's bootstrap spread s (normal approximation, 80% power, z = 0.84):
these rows detect a ratio below ``min(0.8, exp(-(c + z) s))`` (or a drop above
``0.05 + (c + z) s``), c the family's critical value; and about ``((c + z) s / d)^2`` times
the rows would settle it, d the distance from the estimate to the bound it must clear, if the
estimate stays as it is (intervals shrink as one over the square root of the rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from audits.core.errors import InputError
from audits.core.results import Severity, Threshold, judge
from audits.fairness_field import DISPARITY_METRICS, FieldAudit
from audits.group_metrics import (
    jeffreys_draws,
    log_rate_var,
    max_statistic_band,
    safe_ratio,
    studentised_band,
)

__all__ = ["Comparisons", "compare_groups", "JUDGED", "HARM_HIGHER", "PAIR_COLUMNS",
           "DROP_COLUMNS", "Z_POWER"]

#: metric -> the check that judges its ratio
JUDGED = {"selection_rate": "disparate_impact", "fpr": "error_rate_parity",
          "fnr": "error_rate_parity", "precision": "error_rate_parity"}
#: metrics where a higher value harms the group (the others: a lower value)
HARM_HIGHER = frozenset({"fpr", "fnr", "calibration_error"})
#: the normal quantile of 80% power
Z_POWER = 0.8416212335729143
PAIR_COLUMNS = ("field", "group", "reference", "metric", "value", "reference_value",
                "difference", "difference_low", "difference_high", "ratio", "ratio_low",
                "ratio_high", "family", "family_size", "severity", "evidence", "detectable",
                "rows_factor")
DROP_COLUMNS = ("field", "group", "n", "accuracy", "accuracy_low", "accuracy_high",
                "overall_accuracy", "drop", "drop_low", "drop_high", "family_size", "severity",
                "evidence", "detectable", "rows_factor")


@dataclass(frozen=True)
class Comparisons:
    """The probe's comparisons: ``pairs`` (one row per field, pair of groups and metric, columns
    :data:`PAIR_COLUMNS`) and ``drops`` (one row per field and assessed group,
    :data:`DROP_COLUMNS`); the judged family's size and critical value, and the shown family's.
    """

    pairs: pd.DataFrame
    drops: pd.DataFrame
    family_size: int
    critical: float
    shown_size: int
    shown_critical: float


def _log(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


def _pair_rows(audits: list[FieldAudit], min_group_size: int,
               reference_groups: dict) -> list[dict]:
    rows = []
    for k, fa in enumerate(audits):
        ref = reference_groups.get(fa.field)
        ref_idx = None
        if ref is not None:
            if str(ref) not in fa.levels:
                raise InputError(f"The reference group {ref!r} is not a group of {fa.field!r}; "
                                 f"its groups: {list(fa.levels)}. Check reference_groups.")
            ref_idx = fa.levels.index(str(ref))
        for m in DISPARITY_METRICS:
            ok = fa.assessed & (fa.den[m] >= min_group_size) & ~np.isnan(fa.rates[m])
            # orient on the estimates a judged comparison is centred on (continuity-corrected
            # where a rate rests on fewer than 10 events)
            with np.errstate(divide="ignore", invalid="ignore"):
                est = fa.trials[m][0] / fa.trials[m][1] if m in fa.trials else fa.rates[m]
            for i, j in combinations(np.flatnonzero(ok), 2):
                a, b = est[i], est[j]
                num, den = (i, j) if (a >= b) == (m in HARM_HIGHER) else (j, i)
                if a == b:
                    num, den = i, j
                judged = m in JUDGED and (ref_idx is None or ref_idx in (i, j))
                rows.append({"k": k, "m": m, "num": int(num), "den": int(den), "judged": judged})
    return rows


def _judge_both_ways(lo, hi, value, thr: Threshold) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return Severity.NOT_ASSESSED.value
    one = judge((lo, hi), thr, value=value)
    inv = judge((1 / hi if hi else np.inf, 1 / lo if lo else np.inf), thr,
                value=1 / value if value else np.inf)
    return max(one, inv, key=lambda s: s.rank).value


def _settle_ratio(r, s, c, band) -> tuple[float, float]:
    """(detectable ratio on the harmful side below 1, rows factor to settle) on the log scale."""
    a, b = band
    k = c + Z_POWER
    detect = min(a, float(np.exp(-k * s))) if np.isfinite(s) else np.nan
    if not (np.isfinite(r) and r > 0 and np.isfinite(s)):
        return detect, np.nan
    lr = np.log(r)
    d = min(lr - np.log(a), np.log(b) - lr) if a <= r <= b else abs(lr)
    return detect, (float((k * s / d) ** 2) if d > 0 else np.inf)


def compare_groups(audits: list[FieldAudit], overall_counts: np.ndarray,
                   overall_reps: np.ndarray, *, confidence: float, min_group_size: int,
                   thresholds: dict[str, Threshold], reference_groups: dict | None = None,
                   jeffreys_seed: int = 0) -> Comparisons:
    """Every pair of groups of every field, and every group against the overall, with bands.

    Parameters
    ----------
    audits : the fields' group rates (:func:`audits.fairness_field.audit_field`), all from
        the same joint bootstrap.
    overall_counts : the confusion counts of all rows, shape (4,).
    overall_reps : their replicates, shape (B, 4), from the same bootstrap.
    confidence : family-wise confidence of the bands.
    min_group_size : a rate resting on fewer rows is not compared.
    thresholds : ``{"selection_rate": ..., "error_rate": ..., "subgroup_drop": ...}``.
    reference_groups : field -> a reference group fixed by the audit's configuration; that
        field's judged pairs are then the groups against it (the others are shown, not judged).
    jeffreys_seed : seed of the Jeffreys draws of the overall accuracy (used only when it rests
        on fewer than 10 right or wrong decisions).

    Returns
    -------
    Comparisons

    Raises
    ------
    InputError : a configured reference that is not a group of its field.
    """
    reference_groups = dict(reference_groups or {})
    rows = _pair_rows(audits, min_group_size, reference_groups)
    B = overall_reps.shape[0]
    log_reps = np.empty((B, len(rows)))
    diff_reps = np.empty((B, len(rows)))
    with np.errstate(invalid="ignore"):  # inf - inf: a replicate with two zero rates, NaN
        for c, r in enumerate(rows):
            rep = audits[r["k"]].reps[r["m"]]
            log_reps[:, c] = _log(rep[:, r["num"]]) - _log(rep[:, r["den"]])
            diff_reps[:, c] = rep[:, r["num"]] - rep[:, r["den"]]
    judged = np.array([r["judged"] for r in rows], dtype=bool)

    # the judged family: log ratios with their standard errors, on the data and per replicate
    theta, se, theta_r, se_r = [], [], [], []
    for r in (r for r in rows if r["judged"]):
        fa, m = audits[r["k"]], r["m"]
        (x, n), (xr, nr) = fa.trials[m], fa.trials_reps[m]
        a, b = r["num"], r["den"]
        theta.append(_log(x[a] / n[a]) - _log(x[b] / n[b]))
        se.append(np.sqrt(log_rate_var(x[a], n[a]) + log_rate_var(x[b], n[b])))
        with np.errstate(divide="ignore", invalid="ignore"):
            theta_r.append(_log(xr[:, a] / nr[:, a]) - _log(xr[:, b] / nr[:, b]))
        se_r.append(np.sqrt(log_rate_var(xr[:, a], nr[:, a]) + log_rate_var(xr[:, b],
                                                                            nr[:, b])))

    # subgroup performance: each assessed group's accuracy over the overall accuracy
    c0 = np.asarray(overall_counts, dtype=float)
    xa, na = c0[0] + c0[3], c0.sum()
    acc_all = xa / na if na else np.nan
    o = np.asarray(overall_reps, dtype=float)
    xa_r, na_r = o[:, 0] + o[:, 3], o.sum(axis=1)
    if na and min(xa, na - xa) < 10:  # continuity-corrected, with Jeffreys draws
        draws = jeffreys_draws(np.array([xa]), np.array([na]), (xa_r / na_r)[:, None],
                               random_state=jeffreys_seed)[:, 0]
        xa, na = xa + 0.5, na + 1
        xa_r, na_r = draws * na, np.full(B, na)
    drop_rows = []
    for k, fa in enumerate(audits):
        if fa.assessed.sum() < 2:
            continue
        (x, n), (xr, nr) = fa.trials["accuracy"], fa.trials_reps["accuracy"]
        for g in np.flatnonzero(fa.assessed):
            drop_rows.append((k, int(g)))
            theta.append(_log(x[g] / n[g]) - _log(xa / na))
            se.append(np.sqrt(max(0.0, float(_drop_var(x[g], n[g], xa, na)))))
            with np.errstate(divide="ignore", invalid="ignore"):
                theta_r.append(_log(xr[:, g] / nr[:, g]) - _log(xa_r / na_r))
            se_r.append(np.sqrt(np.maximum(0.0, _drop_var(xr[:, g], nr[:, g], xa_r, na_r))))
    nj = int(judged.sum())
    family = studentised_band(np.array(theta), np.array(se),
                              np.column_stack(theta_r) if theta_r else np.empty((B, 0)),
                              np.column_stack(se_r) if se_r else np.empty((B, 0)),
                              confidence=confidence)
    shown = max_statistic_band(np.column_stack([log_reps[:, ~judged], diff_reps]),
                               confidence=confidence)
    n_shown_ratios = int((~judged).sum())
    d_lo, d_hi = shown["lo"][n_shown_ratios:], shown["hi"][n_shown_ratios:]
    crit = family["critical"]
    k_ = crit + Z_POWER

    pairs, jc, sc = [], 0, 0
    for c, r in enumerate(rows):
        fa, m = audits[r["k"]], r["m"]
        v, rv = float(fa.rates[m][r["num"]]), float(fa.rates[m][r["den"]])
        row = {"field": fa.field, "group": fa.levels[r["num"]],
               "reference": fa.levels[r["den"]], "metric": m, "value": v,
               "reference_value": rv, "difference": v - rv, "difference_low": float(d_lo[c]),
               "difference_high": float(d_hi[c]), "ratio": float(safe_ratio(v, rv)),
               "family": JUDGED[m] if r["judged"] else "shown", "severity": None,
               "evidence": np.nan, "detectable": np.nan, "rows_factor": np.nan}
        if r["judged"]:
            t, s_ = float(theta[jc]), float(se[jc])
            lo, hi = float(np.exp(family["lo"][jc])), float(np.exp(family["hi"][jc]))
            ratio = float(np.exp(t)) if np.isfinite(t) else row["ratio"]
            thr = thresholds["selection_rate" if m == "selection_rate" else "error_rate"]
            sev = _judge_both_ways(lo, hi, ratio, thr)
            det, factor = _settle_ratio(min(ratio, 1 / ratio) if ratio > 0 else ratio, s_,
                                        crit, thr.band)
            row |= {"ratio": ratio, "ratio_low": lo, "ratio_high": hi,
                    "family_size": family["size"], "severity": sev,
                    "evidence": abs(t) / s_ if s_ > 0 else np.nan,
                    "detectable": det if m not in HARM_HIGHER else (1 / det if det else np.inf),
                    "rows_factor": factor if sev == Severity.INCONCLUSIVE.value else np.nan}
            jc += 1
        else:
            row |= {"ratio_low": float(np.exp(shown["lo"][sc])),
                    "ratio_high": float(np.exp(shown["hi"][sc])), "family_size": shown["size"]}
            sc += 1
        pairs.append(row)

    thr = thresholds["subgroup_drop"]
    drops = []
    for c, (k, g) in enumerate(drop_rows):
        fa, col = audits[k], nj + c
        t, s_ = float(theta[col]), float(se[col])
        drop = 1 - float(np.exp(t))
        lo, hi = 1 - float(np.exp(family["hi"][col])), 1 - float(np.exp(family["lo"][col]))
        sev = judge((lo, hi), thr, value=drop).value
        s_drop = float(np.exp(t)) * s_  # the drop's standard error (delta method)
        dist = abs(drop - thr.attention)
        drops.append({
            "field": fa.field, "group": fa.levels[g], "n": int(fa.n[g]),
            "accuracy": float(fa.rates["accuracy"][g]),
            "accuracy_low": float(fa.rate_low["accuracy"][g]),
            "accuracy_high": float(fa.rate_high["accuracy"][g]), "overall_accuracy": acc_all,
            "drop": drop, "drop_low": lo, "drop_high": hi, "family_size": family["size"],
            "severity": sev, "evidence": -t / s_ if s_ > 0 else np.nan,
            "detectable": thr.attention + k_ * s_drop,
            "rows_factor": (float((k_ * s_drop / dist) ** 2) if dist > 0 else np.inf)
            if sev == Severity.INCONCLUSIVE.value else np.nan})
    return Comparisons(pairs=pd.DataFrame(pairs, columns=list(PAIR_COLUMNS)),
                       drops=pd.DataFrame(drops, columns=list(DROP_COLUMNS)),
                       family_size=family["size"], critical=crit,
                       shown_size=shown["size"], shown_critical=shown["critical"])


def _drop_var(x, n, xa, na):
    """Delta-method variance of log(group accuracy / overall accuracy), the overall being the
    group's rows (share w) plus the rest's: ``a_all = w a + (1 - w) a_rest``, so
    ``var = (1/a - w/a_all)^2 var(a) + ((1 - w)/a_all)^2 var(a_rest)``, never negative (the
    rest's rate taken as ``(x + 1/2) / (n + 1)``)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    xa, na = np.asarray(xa, dtype=float), np.asarray(na, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a, aa, w = x / n, xa / na, n / na
        nr = na - n
        # the rest's accuracy continuity-corrected, so a rest of few rows all right or all
        # wrong still carries its uncertainty
        ar = np.clip((xa - x + 0.5) / (np.where(nr > 0, nr, 0) + 1), 0.0, 1.0)
        var_r = np.where(nr > 0, ar * (1 - ar) / np.where(nr > 0, nr + 1, 1), 0.0)
        return ((1 / a - w / aa) ** 2 * a * (1 - a) / n
                + ((1 - w) / aa) ** 2 * np.clip(var_r, 0, None))
