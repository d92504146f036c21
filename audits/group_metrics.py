"""Group definitions and the counts-based bootstrap engine of the fairness probe.

Every metric that is a function of a group's confusion cells (selection rate, TPR, FPR, FNR,
precision, accuracy, base rate, and their differences and ratios between groups) depends on the
data only through the 4 x G cell counts. Resampling the n rows with replacement (Efron 1979)
draws those counts from a multinomial(n, cell shares), so one bootstrap replicate is one
multinomial vector and 1,000 replicates of every metric for every group are a few array
operations, whatever the number of rows. The draw is over all 4 x G cells together, so group
sizes vary between replicates exactly as they do when rows are resampled (fairlearn's
``MetricFrame(..., n_boot=...)`` bootstrap, the oracle of the tests).

Intervals are percentile intervals (Efron & Tibshirani 1993, ch. 13). Where a check compares
several groups or metrics, :func:`simultaneous_band` widens them into a simultaneous band: the
max-statistic bootstrap of Westfall & Young (1993) on the rank scale (the simultaneous percentile
intervals of Mandel & Betensky 2008), so that a fair model stays clean however many groups it has.

Groups (:func:`group_codes`): a categorical field, or a numeric field with at most
``max_distinct`` (10) distinct values, keeps its values as groups. Other numeric fields are banded
with the audit's ``age_bands`` edges ``e0 < e1 < ... < ek``: ``<e0``, ``[e0, e1)``, ...,
``ek+``, written ``18-24`` when the edges are whole numbers (default edges 18, 25, 35, 45, 55,
65 give <18, 18-24, 25-34, 35-44, 45-54, 55-64, 65+). A missing value is its own group,
``missing``.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["CELLS", "CELL_METRICS", "group_codes", "intersect_codes",
           "confusion_counts", "cell_metrics", "denominators", "bootstrap_cells", "safe_ratio",
           "percentile_interval", "simultaneous_band", "parity_summary", "derive_seed"]

CELLS = ("tp", "fp", "fn", "tn")
#: metrics computed from the confusion cells, in the order of the group table
CELL_METRICS = ("base_rate", "selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy")
MISSING = "missing"


def derive_seed(seed: int, *keys: str) -> int:
    """An integer seed for one named purpose (e.g. a field's bootstrap), derived from the
    audit's seed with NumPy's SeedSequence; the global NumPy seed is never touched."""
    entropy = [int(seed) & 0xFFFFFFFF, *(zlib.crc32(str(k).encode()) for k in keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


# -- groups ----------------------------------------------------------------------------------

def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _band_names(edges: Sequence[float]) -> list[str]:
    whole = all(float(e).is_integer() for e in edges)
    e = [_fmt(x) for x in edges]
    names = [f"<{e[0]}"]
    for a, b, bf in zip(e[:-1], e[1:], edges[1:]):
        names.append(f"{a}-{_fmt(bf - 1)}" if whole else f"[{a}, {b})")
    return names + [f"{e[-1]}+"]


def group_codes(values, *, age_bands: Sequence[float] = (18, 25, 35, 45, 55, 65),
                max_distinct: int = 10) -> tuple[np.ndarray, list[str]]:
    """Group of each row as an integer code, and the group names in their natural order.

    Parameters
    ----------
    values : array-like of one sensitive field.
    age_bands : band edges for a numeric field with more than ``max_distinct`` values.
    max_distinct : a numeric field with at most this many distinct values is categorical.

    Returns
    -------
    codes : ndarray of int, one per row: the index of the row's group in ``levels``.
    levels : the groups present (values sorted, bands in band order, ``missing`` last).
    """
    s = pd.Series(values).reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and s.nunique(dropna=True) > max_distinct:
        edges = np.asarray(sorted(age_bands), dtype=float)
        names = _band_names(edges)
        x = s.to_numpy(dtype=float, na_value=np.nan)
        raw = np.where(np.isnan(x), len(names), np.searchsorted(edges, x, side="right"))
        names = names + [MISSING]
    else:
        raw, uniques = pd.factorize(s, use_na_sentinel=True)
        uniq = list(uniques)
        try:
            order = sorted(range(len(uniq)), key=lambda i: uniq[i])
        except TypeError:  # mixed types: sort by their text
            order = sorted(range(len(uniq)), key=lambda i: str(uniq[i]))
        rank = np.empty(len(uniq) + 1, dtype=np.intp)
        rank[order] = np.arange(len(uniq))
        rank[-1] = len(uniq)  # the NA sentinel -1
        raw = rank[raw]
        names = [_fmt(uniq[i]) for i in order] + [MISSING]
    present = np.bincount(raw, minlength=len(names)) > 0
    remap = np.cumsum(present) - 1
    return remap[raw].astype(np.intp), [n for n, p in zip(names, present) if p]


def intersect_codes(codes_a: np.ndarray, levels_a: Sequence[str], codes_b: np.ndarray,
                    levels_b: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Groups of the intersection of two fields (e.g. ``female & 25-34``), in product order;
    combinations with no rows are left out."""
    raw = np.asarray(codes_a, dtype=np.intp) * len(levels_b) + np.asarray(codes_b, dtype=np.intp)
    names = [f"{x} & {y}" for x in levels_a for y in levels_b]
    present = np.bincount(raw, minlength=len(names)) > 0
    remap = np.cumsum(present) - 1
    return remap[raw].astype(np.intp), [n for n, p in zip(names, present) if p]


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

def percentile_interval(reps: np.ndarray, *, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column percentile interval of bootstrap replicates (rows), NaN replicates ignored.

    Returns two arrays of shape ``reps.shape[1:]``; a column with no finite replicate is NaN.
    The quantiles are NumPy's default (linear), as in fairlearn's ``MetricFrame``.
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
