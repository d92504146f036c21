"""Bootstrap confidence intervals for score metrics (AUC, accuracy, log loss, Brier score).

Resampling n rows with replacement is the same as weighting each row by a multinomial count
(Efron 1979). The rows are sorted by score once; each replicate's AUC is then a weighted
Mann-Whitney statistic computed in O(n) from cumulative sums, with ties counted one half, so a
thousand replicates on tens of thousands of rows take well under a second. Intervals are
percentile intervals (Efron and Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["bootstrap_weights", "weighted_auc", "percentile_interval", "simultaneous_band",
           "score_metrics", "SCORE_METRICS"]

_EPS = 1e-15


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator,
                      chunk: int = 64):
    """Yield chunks of bootstrap count vectors, each of shape (k, n), summing to n per row."""
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(k, n)) + (np.arange(k) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=k * n).reshape(k, n).astype(float)
        done += k


def weighted_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC for each row of ``weights`` (shape (k, n)); ties count one half.

    AUC = sum over positives i, negatives j of w_i w_j [s_i > s_j] + 0.5 [s_i = s_j],
    divided by (sum of positive weights)(sum of negative weights) (Mann-Whitney U).
    """
    weights = np.atleast_2d(weights)
    order = np.argsort(score, kind="mergesort")
    s, yy, w = score[order], y[order].astype(bool), weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # blocks of tied scores
    wp = np.add.reduceat(np.where(yy, w, 0.0), starts, axis=1)
    wn = np.add.reduceat(np.where(yy, 0.0, w), starts, axis=1)
    neg_below = np.cumsum(wn, axis=1) - wn
    u = (wp * (neg_below + 0.5 * wn)).sum(axis=1)
    denom = wp.sum(axis=1) * wn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, u / denom, np.nan)


def _accuracy(y, p, decision):
    return (decision == y).astype(float)


def _log_loss(y, p, decision):
    p = np.clip(p, _EPS, 1 - _EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _brier(y, p, decision):
    return (p - y) ** 2


# name -> (per-row loss for weighted means, or None for AUC; plain label; reference)
SCORE_METRICS: dict[str, tuple[Callable | None, str, str]] = {
    "auc": (None, "ROC AUC (ranking quality, 0.5 = chance)", "Hanley & McNeil 1982"),
    "accuracy": (_accuracy, "Accuracy of the decisions", ""),
    "log_loss": (_log_loss, "Log loss (lower is better)", "Good 1952"),
    "brier": (_brier, "Brier score (lower is better)", "Brier 1950"),
}


def percentile_interval(reps: np.ndarray, *, confidence: float):
    """Percentile interval of bootstrap replicates (Efron and Tibshirani 1993, ch. 13), NaN
    replicates ignored (infinite ones are kept: a ratio over a zero rate is a real replicate).

    ``reps`` of shape (B,) gives two floats; of shape (B, ...) two arrays of shape
    ``reps.shape[1:]``, one interval per column. A column with no non-NaN replicate is NaN. The
    quantiles are NumPy's default (linear), as in fairlearn's ``MetricFrame``.
    """
    reps = np.asarray(reps, dtype=float)
    a = (1 - confidence) / 2
    flat = reps.reshape(reps.shape[0], -1)
    lo = np.full(flat.shape[1], np.nan)
    hi = np.full(flat.shape[1], np.nan)
    has_nan = np.isnan(flat).any(axis=0)
    full = ~has_nan  # the common case, vectorised; columns with NaN one by one
    if full.any():
        lo[full], hi[full] = np.quantile(flat[:, full], [a, 1 - a], axis=0)
    for j in np.flatnonzero(has_nan):
        col = flat[:, j][~np.isnan(flat[:, j])]
        if col.size:
            lo[j], hi[j] = np.quantile(col, [a, 1 - a])
    if reps.ndim == 1:
        return float(lo[0]), float(hi[0])
    return lo.reshape(reps.shape[1:]), hi.reshape(reps.shape[1:])



def simultaneous_band(reps: np.ndarray, *, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous percentile band over the K comparisons of a check (columns of ``reps``).

    Max-statistic bootstrap (Westfall & Young 1993) on the rank scale (Mandel & Betensky
    2008): rank each column's B replicates, take each replicate's depth ``min(rank,
    B + 1 - rank)`` minimised over the K columns, and find the depth d* that at most
    ``(1 - confidence) * B`` replicates fall below. Each column's interval runs from its d*-th
    smallest to its d*-th largest replicate, so at least ``confidence`` of the replicates lie
    inside all K intervals at once. With K = 1 it is the plain percentile interval. Being rank
    based, it is invariant to monotone transforms (a ratio's band is the exponential of its
    log's band) and it needs no standard errors. A NaN replicate counts as outside; if too many
    are NaN the band is unbounded (NaN ends, i.e. not assessed).

    Parameters
    ----------
    reps : array (B, K) of bootstrap replicates (column k: comparison k).
    confidence : family-wise confidence level.

    Returns
    -------
    lo, hi : arrays of shape (K,).
    """
    reps = np.asarray(reps, dtype=float)
    if reps.ndim == 1:
        reps = reps[:, None]
    B, K = reps.shape
    if K == 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(reps, axis=0, kind="stable")  # NaN sorts last
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, B + 1)[:, None], axis=0)
    depth = np.minimum(ranks, B + 1 - ranks)
    depth[np.isnan(reps)] = 0
    worst = np.sort(depth.min(axis=1))
    d = int(worst[int(np.floor((1 - confidence) * B))])
    if d < 1:
        return np.full(K, np.nan), np.full(K, np.nan)
    srt = np.take_along_axis(reps, order, axis=0)
    return srt[d - 1], srt[B - d]


def score_metrics(y: np.ndarray, p: np.ndarray, decision: np.ndarray, *, n_boot: int,
                  random_state: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point values and bootstrap replicates of every metric in SCORE_METRICS.

    Returns ``(points, replicates)``, replicates of shape (n_boot,) per metric, computed from the
    same bootstrap draws so that differences between metrics are coherent.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    decision = np.asarray(decision, dtype=float)
    n = y.size
    ones = np.ones((1, n))
    losses = {k: f(y, p, decision) for k, (f, _, _) in SCORE_METRICS.items() if f is not None}
    points = {"auc": float(weighted_auc(y, p, ones)[0])}
    points.update({k: float(v.mean()) for k, v in losses.items()})
    reps: dict[str, list] = {k: [] for k in SCORE_METRICS}
    rng = np.random.default_rng(random_state)
    for w in bootstrap_weights(n, n_boot, rng):
        reps["auc"].append(weighted_auc(y, p, w))
        for k, v in losses.items():
            reps[k].append(w @ v / n)
    return points, {k: np.concatenate(v) for k, v in reps.items()}
