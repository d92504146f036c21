"""Per-group AUC and calibration error with a within-group binned bootstrap.

AUC and calibration are not functions of the confusion cells, so the counts trick of
:mod:`audits.group_metrics` does not apply as such. Instead the scores are cut once into fine
cells: ``n_bins`` (30) quantile bins of the scores, refined by the 10 calibration bins so
that no cell straddles a calibration edge. A group's rows are then summarised by counts per
(cell, label) and the mean score of each (cell, label); resampling the group's rows with
replacement (a stratified bootstrap, Efron 1979; group sizes fixed) is a multinomial draw over its
non-empty cells. Each replicate's AUC is the Mann-Whitney statistic on the cells (ties within a
cell count one half, like tied scores) and its calibration error is exact given the cells. The
cost is about (cells x replicates) binomial draws per group, whatever the group's size; with 30
bins the replicates' spread came within 3% of resampling rows (our tests).

- AUC: point value exact (tie-aware Mann-Whitney on the raw scores, equal to scikit-learn's
  ``roc_auc_score``); the replicates are shifted by (exact - binned) point value, a binning
  correction, so the interval is centred like the exact statistic (clipped to [0, 1]). NaN
  for a group with one class only.
- Calibration error: expected calibration error (Naeini et al. 2015; Guo et al. 2017),
  ``ECE = sum_b (n_b / n) |mean label_b - mean score_b|`` over 10 equal-width score bins
  [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]. The binned value equals the exact one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ECE_EDGES", "expected_calibration_error", "group_auc", "group_score_bootstrap"]

#: inner edges of the 10 equal-width calibration bins
ECE_EDGES = np.linspace(0.0, 1.0, 11)[1:-1]


def expected_calibration_error(y, scores) -> float:
    """Expected calibration error over 10 equal-width bins of the scores (NaN when empty)."""
    y, s = np.asarray(y, dtype=float), np.asarray(scores, dtype=float)
    if s.size == 0:
        return float("nan")
    b = np.searchsorted(ECE_EDGES, s, side="right")
    n = np.bincount(b, minlength=10)
    gap = np.bincount(b, weights=y, minlength=10) - np.bincount(b, weights=s, minlength=10)
    return float(np.abs(gap).sum() / n.sum())


def _mann_whitney(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC from counts of positives and negatives per ordered score cell (last axis)."""
    neg_below = np.cumsum(neg, axis=-1) - neg
    u = (pos * (neg_below + 0.5 * neg)).sum(axis=-1)
    denom = pos.sum(axis=-1) * neg.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, u / np.where(denom > 0, denom, 1), np.nan)


def _sorted_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Exact AUC of rows already sorted by score (ties count one half), in O(n)."""
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(y.astype(float), starts)
    neg = np.diff(np.r_[starts, s.size]) - pos
    return float(_mann_whitney(pos, neg))


def group_auc(y, scores) -> float:
    """Exact ROC AUC with ties counted one half (NaN with one class only)."""
    y, s = np.asarray(y).astype(bool), np.asarray(scores, dtype=float)
    uniq, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=uniq.size)
    neg = np.bincount(inv, weights=~y, minlength=uniq.size)
    return float(_mann_whitney(pos, neg))


def group_score_bootstrap(y, scores, codes, *, n_groups: int, n_boot: int,
                          random_state: np.random.Generator | int | None,
                          n_bins: int = 30, groups=None) -> dict[str, tuple[np.ndarray,
                                                                             np.ndarray]]:
    """Per-group AUC and ECE, with bootstrap replicates resampled within each group.

    Parameters
    ----------
    y : 1 for the positive label.
    scores : probability of the positive class.
    codes : group index of each row (0 .. n_groups - 1).
    n_groups : number of groups.
    n_boot : number of replicates.
    random_state : seed or generator.
    n_bins : number of quantile bins of the scores before refinement by the calibration bins.
    groups : indices of the groups to bootstrap (default all); the others get NaN replicates.

    Returns
    -------
    dict ``{"auc": (point (G,), replicates (n_boot, G)), "calibration_error": (...)}``.
    """
    rng = np.random.default_rng(random_state)
    y = np.asarray(y).astype(np.intp)
    s = np.asarray(scores, dtype=float)
    codes = np.asarray(codes, dtype=np.intp)
    order = np.lexsort((y, s, codes))  # a canonical order: sums do not depend on row order
    y, s, codes = y[order], s[order], codes[order]
    inner = np.quantile(s, np.linspace(0, 1, n_bins + 1)[1:-1]) if s.size else np.empty(0)
    inner = np.unique(np.concatenate([inner, ECE_EDGES]))
    n_cells = inner.size + 1
    cell = np.searchsorted(inner, s, side="right")
    lower = np.concatenate([[-np.inf], inner])
    ece_bin = np.searchsorted(ECE_EDGES, lower, side="right")  # calibration bin of each cell
    onehot = np.zeros((n_cells, 10))
    onehot[np.arange(n_cells), ece_bin] = 1.0
    key = codes * (2 * n_cells) + cell * 2 + y
    size = 2 * n_cells * n_groups
    counts = np.bincount(key, minlength=size).reshape(n_groups, 2 * n_cells)
    sums = np.bincount(key, weights=s, minlength=size).reshape(n_groups, 2 * n_cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_score = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)

    auc_pt = np.full(n_groups, np.nan)
    ece_pt = np.full(n_groups, np.nan)
    auc_reps = np.full((n_boot, n_groups), np.nan)
    ece_reps = np.full((n_boot, n_groups), np.nan)
    todo = range(n_groups) if groups is None else groups
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    for g in range(n_groups):  # each group is a slice, sorted by score
        lo, hi = bounds[g], bounds[g + 1]
        if hi > lo:
            auc_pt[g] = _sorted_auc(y[lo:hi], s[lo:hi])
            ece_pt[g] = expected_calibration_error(y[lo:hi], s[lo:hi])
    for g in todo:
        c = counts[g]
        n = int(c.sum())
        if n == 0:
            continue
        nz = np.flatnonzero(c)
        draws = np.zeros((n_boot, c.size))
        draws[:, nz] = rng.multinomial(n, c[nz] / n, size=n_boot)
        neg, pos = draws[:, 0::2], draws[:, 1::2]
        binned_pt = _mann_whitney(c[1::2].astype(float), c[0::2].astype(float))
        auc_reps[:, g] = np.clip(_mann_whitney(pos, neg) + (auc_pt[g] - binned_pt), 0.0, 1.0)
        ssum = (draws * mean_score[g]).reshape(n_boot, n_cells, 2).sum(axis=2)
        gap = (pos - ssum) @ onehot
        ece_reps[:, g] = np.abs(gap).sum(axis=1) / n
    return {"auc": (auc_pt, auc_reps), "calibration_error": (ece_pt, ece_reps)}
