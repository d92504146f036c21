"""One sensitive field (or intersection) of the fairness probe: its groups' rates and intervals.

Pure computation on arrays; :mod:`audits.fairness_pairs` compares the groups and
:mod:`audits.fairness` turns both into tables and findings.

- Rates from the confusion cells (base rate, selection rate of the favourable decision, TPR, FPR,
  FNR, precision, accuracy): point values from the counts, replicates from the probe's joint
  counts bootstrap (:func:`audits.group_metrics.joint_bootstrap`: one row resample for every
  field at once). A rate resting on fewer than 10 events or non-events takes Jeffreys draws
  instead of resamples (:func:`audits.group_metrics.jeffreys_draws`; Brown, Cai & DasGupta
  2001), so a zero count never gives a confident [0, 0].
- AUC and calibration error with the within-group binned bootstrap of
  :mod:`audits.fairness_scores`.
- Each rate's interval in the group table is the percentile interval of its replicates (as
  fairlearn's ``MetricFrame``): a marginal interval, for reading one group; the comparisons are
  judged on simultaneous bands (:mod:`audits.fairness_pairs`).
- A group smaller than ``min_group_size`` is not assessed (kept, with its size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audits.core.bootstrap import percentile_interval
from audits.fairness_scores import group_score_bootstrap
from audits.group_metrics import (
    CELL_METRICS,
    MIN_EVENTS,
    cell_metrics,
    denominators,
    jeffreys_draws,
    numerators,
)

__all__ = ["FieldAudit", "audit_field", "RATE_METRICS", "DISPARITY_METRICS", "ERROR_METRICS"]

RATE_METRICS = CELL_METRICS + ("auc", "calibration_error")
DISPARITY_METRICS = ("selection_rate", "tpr", "fpr", "fnr", "precision", "auc",
                     "calibration_error")
ERROR_METRICS = ("fpr", "fnr", "precision")


@dataclass(frozen=True)
class FieldAudit:
    """Everything computed for one field's groups. Arrays are indexed by group (``levels``
    order); ``reps[m]`` has shape (n_boot, G).

    ``den[m]`` is the number of rows rate ``m`` rests on (AUC: the smaller of the positives and
    negatives) and ``jeffreys[m]`` marks the groups whose replicates of ``m`` are Jeffreys draws.
    For the cell metrics, ``trials[m] = (events, trials)`` are the counts a judged comparison's
    standard error uses (continuity-corrected, ``x + 1/2`` of ``n + 1``, where the rate takes
    Jeffreys draws), and ``trials_reps[m]`` the same per replicate, arrays (B, G).
    """

    field: str
    levels: tuple[str, ...]
    counts: np.ndarray
    n: np.ndarray
    assessed: np.ndarray
    rates: dict
    reps: dict
    rate_low: dict
    rate_high: dict
    den: dict
    jeffreys: dict
    n_boot: int
    trials: dict
    trials_reps: dict


def audit_field(field: str, codes: np.ndarray, levels, y: np.ndarray, scores: np.ndarray,
                counts: np.ndarray, cell_reps: np.ndarray, *, favourable_positive: bool,
                confidence: float, min_group_size: int, random_state: int) -> FieldAudit:
    """Group rates of one field, their replicates and percentile intervals.

    Parameters
    ----------
    field : the field's name (``a*b`` for an intersection).
    codes : each row's group index into ``levels``.
    levels : group names.
    y : 1 for the positive label.
    scores : the model's probability of the positive class.
    counts : the groups' confusion counts, shape (G, 4).
    cell_reps : their bootstrap replicates, shape (B, G, 4), from the probe's joint bootstrap.
    favourable_positive : the favourable decision is the positive one.
    confidence : the intervals' level.
    min_group_size : smaller groups are not assessed.
    random_state : integer seed of the Jeffreys draws and the score bootstrap.

    Returns
    -------
    FieldAudit
    """
    G = len(levels)
    n_boot = cell_reps.shape[0]
    jeff_rng, score_rng = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(random_state).spawn(2))
    counts = np.asarray(counts)
    n = counts.sum(axis=1)
    assessed = n >= min_group_size
    rates = cell_metrics(counts, favourable_positive=favourable_positive)
    raw = cell_metrics(cell_reps, favourable_positive=favourable_positive)
    den = {k: np.asarray(v) for k, v in denominators(counts).items()}
    events = numerators(counts, favourable_positive=favourable_positive)
    ev_reps = numerators(cell_reps, favourable_positive=favourable_positive)
    den_reps = denominators(cell_reps)
    reps, jeffreys, trials, trials_reps = {}, {}, {}, {}
    for m in CELL_METRICS:  # one generator, metrics in a fixed order: reproducible draws
        reps[m] = jeffreys_draws(events[m], den[m], raw[m], random_state=jeff_rng)
        jeff = (den[m] > 0) & (np.minimum(events[m], den[m] - events[m]) < MIN_EVENTS)
        jeffreys[m] = jeff
        x, n_ = events[m].astype(float), den[m].astype(float)
        x[jeff], n_[jeff] = x[jeff] + 0.5, n_[jeff] + 1
        xr, nr = ev_reps[m].astype(float), den_reps[m].astype(float)
        xr[:, jeff], nr[:, jeff] = reps[m][:, jeff] * n_[jeff], n_[jeff]
        trials[m], trials_reps[m] = (x, n_), (xr, nr)
    sc = group_score_bootstrap(y, scores, codes, n_groups=G, n_boot=n_boot,
                               random_state=score_rng, groups=np.flatnonzero(assessed))
    for name, (pt, rp) in sc.items():
        rates[name], reps[name] = pt, rp
        jeffreys[name] = np.zeros(G, dtype=bool)
    pos, neg = counts[:, 0] + counts[:, 2], counts[:, 1] + counts[:, 3]
    den["auc"], den["calibration_error"] = np.minimum(pos, neg), n
    low, high = {}, {}
    for m in RATE_METRICS:
        low[m], high[m] = percentile_interval(reps[m], confidence=confidence)
    return FieldAudit(field=field, levels=tuple(str(g) for g in levels), counts=counts, n=n,
                      assessed=assessed, rates=rates, reps=reps, rate_low=low, rate_high=high,
                      den=den, jeffreys=jeffreys, n_boot=n_boot, trials=trials,
                      trials_reps=trials_reps)
