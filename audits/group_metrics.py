"""The counts-based bootstrap engine of the fairness probe.

Every metric that is a function of a group's confusion cells (selection rate, TPR, FPR, FNR,
precision, accuracy, base rate, and their differences and ratios between groups) depends on the
data only through the 4 x G cell counts. Resampling the n rows with replacement (Efron 1979)
draws those counts from a multinomial(n, cell shares), so one bootstrap replicate is one
multinomial vector and 1,000 replicates of every metric for every group are a few array
operations, whatever the number of rows. The draw is over all 4 x G cells together, so group
sizes vary between replicates exactly as they do when rows are resampled (fairlearn's
``MetricFrame(..., n_boot=...)`` bootstrap, the oracle of the tests).

Intervals are percentile intervals, widened into simultaneous bands where a check compares
several groups or metrics (:func:`audits.core.bootstrap.simultaneous_band`). The groups
themselves are defined in :mod:`audits.core.groups`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CELLS", "CELL_METRICS", "confusion_counts", "cell_metrics", "denominators",
           "bootstrap_cells", "safe_ratio", "parity_summary"]

CELLS = ("tp", "fp", "fn", "tn")
#: metrics computed from the confusion cells, in the order of the group table
CELL_METRICS = ("base_rate", "selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy")


# -- confusion cells -------------------------------------------------------------------------

def confusion_counts(y_true, y_pred, codes, *, n_groups: int) -> np.ndarray:
    """Per-group confusion counts, shape (G, 4), cells ``(tp, fp, fn, tn)``.

    ``y_true`` and ``y_pred`` are 1 for the positive class; ``codes`` are group indices.
    """
    y = np.asarray(y_true).astype(bool)
    d = np.asarray(y_pred).astype(bool)
    cell = 2 * (~d) + (~y)  # tp 0, fp 1, fn 2, tn 3
    idx = np.asarray(codes, dtype=np.intp) * 4 + cell
    return np.bincount(idx, minlength=4 * n_groups).reshape(n_groups, 4)


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def cell_metrics(counts: np.ndarray, *, favourable_positive: bool = True) -> dict[str, np.ndarray]:
    """Every cell metric from counts of shape (..., G, 4); each result has shape (..., G).

    ``selection_rate`` is the share of *favourable* decisions: the positive predictions when
    ``favourable_positive``, else the negative ones. TPR, FPR, FNR and precision refer to the
    positive class. A rate whose denominator is 0 is NaN.
    """
    c = np.asarray(counts, dtype=float)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = tp + fp + fn + tn
    pos_pred = tp + fp
    sel = pos_pred if favourable_positive else fn + tn
    return {"base_rate": _div(tp + fn, n), "selection_rate": _div(sel, n),
            "tpr": _div(tp, tp + fn), "fpr": _div(fp, fp + tn), "fnr": _div(fn, tp + fn),
            "precision": _div(tp, pos_pred), "accuracy": _div(tp + tn, n)}


def denominators(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The number of rows each cell metric rests on, per group (shape (..., G))."""
    c = np.asarray(counts)
    n = c.sum(axis=-1)
    pos, neg, pp = c[..., 0] + c[..., 2], c[..., 1] + c[..., 3], c[..., 0] + c[..., 1]
    return {"base_rate": n, "selection_rate": n, "tpr": pos, "fpr": neg, "fnr": pos,
            "precision": pp, "accuracy": n}


def bootstrap_cells(counts: np.ndarray, *, n_boot: int,
                    random_state: np.random.Generator | int | None) -> np.ndarray:
    """Bootstrap replicates of the confusion counts, shape (n_boot, G, 4).

    One multinomial(n, counts / n) draw over all 4 x G cells is exactly the cell counts of one
    row-resampling bootstrap replicate (Efron 1979), at a cost independent of n.
    """
    rng = np.random.default_rng(random_state)
    c = np.asarray(counts, dtype=np.int64)
    n = int(c.sum())
    if n == 0:
        return np.zeros((n_boot,) + c.shape, dtype=np.int64)
    flat = c.ravel()
    nz = np.flatnonzero(flat)
    draws = rng.multinomial(n, flat[nz] / n, size=n_boot)
    out = np.zeros((n_boot, flat.size), dtype=np.int64)
    out[:, nz] = draws
    return out.reshape((n_boot,) + c.shape)


def safe_ratio(num, den) -> np.ndarray:
    """``num / den`` elementwise, with 0 / 0 = 1 (equal zero rates are parity) and x / 0 = inf."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where((num == 0) & (den == 0), 1.0, r)


# -- intervals -------------------------------------------------------------------------------

# -- summaries across groups -----------------------------------------------------------------

def parity_summary(rates: dict[str, np.ndarray], mask: np.ndarray | None = None
                   ) -> dict[str, np.ndarray]:
    """Demographic-parity difference and ratio and equalised-odds difference.

    fairlearn's definitions (``between_groups``): DP difference = max - min of the selection
    rates, DP ratio = min / max, EO difference = the larger of the TPR range and the FPR range
    (Hardt et al. 2016). Computed over the groups in ``mask`` (the assessed groups), along the
    last axis, so replicates of shape (B, G) give arrays of shape (B,).
    """
    def sub(a):
        a = np.asarray(a, dtype=float)
        return a if mask is None else a[..., np.asarray(mask, dtype=bool)]

    def rng_(a):
        return _nanmax(a) - _nanmin(a)

    sel = sub(rates["selection_rate"])
    ratio = safe_ratio(_nanmin(sel), _nanmax(sel))
    return {"demographic_parity_difference": rng_(sel), "demographic_parity_ratio": ratio,
            "equalized_odds_difference": np.fmax(rng_(sub(rates["tpr"])),
                                                 rng_(sub(rates["fpr"])))}


def _nanmax(a: np.ndarray) -> np.ndarray:
    """Maximum over the last axis ignoring NaN (NaN where all are NaN), without warnings."""
    a = np.asarray(a, dtype=float)
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan)
    out = np.max(np.where(np.isnan(a), -np.inf, a), axis=-1)
    return np.where(np.isneginf(out) & np.isnan(a).all(axis=-1), np.nan, out)


def _nanmin(a: np.ndarray) -> np.ndarray:
    return -_nanmax(-np.asarray(a, dtype=float))
