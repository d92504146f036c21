"""The proxy screen: which model inputs stand in for a sensitive field (shared by probes).

A sales model rarely takes a protected attribute as input, yet it can treat groups differently
through inputs that encode it (postcode, name, device). For every model input x sensitive field
(the field itself excluded), on the non-members (holdout rows), :func:`proxy_screen` reports:

- Association: bias-corrected Cramér's V (Bergsma 2013, J. Korean Stat. Soc. 42:323-328),
  0 at independence and 1 for a perfect proxy, beside the uncorrected V (which small groups
  inflate). A numeric input with more than 10 distinct values is cut into 10 quantile bins
  (fewer when quantiles coincide); a categorical input keeps its 20 most frequent values and
  lumps the rest into one "other" level; a missing value is its own level. The sensitive field
  is grouped as in the fairness probe (:func:`audits.core.groups.group_codes`). The interval
  is a counts bootstrap (a multinomial draw over the contingency cells is a row resample, Efron
  1979), made simultaneous over all (input, field) pairs of the screen with the max-rank band
  of :func:`audits.group_metrics.simultaneous_band` (Westfall & Young 1993). The pairs'
  replicates are drawn independently, which by Šidák's inequality (1967) can only widen the
  band. Because V is bounded at 0 its bootstrap distribution is skewed upwards near 0, so the
  band is widened where needed to contain the point estimate. The threshold
  (``fairness.proxy_association``) is judged on this interval.
- Over every row: when the subject's frame holds a sample of the holdout (a large or
  partitioned input, :mod:`audits.core.counts`), the contingency tables are counted partition by
  partition, banded as the sample bands them (the bins' edges and the kept levels come from the
  sample; the sample is every row when the holdout is small, so both paths agree); the
  predictive powers below are computed on the sample.
- Predictive power of the input alone, chance-adjusted (0 = chance, 1 = perfect): a naive
  per-level model (the field's distribution within each level of the binned input, Laplace
  smoothing, uniform prior over groups), 5-fold cross-validated; ``2 x AUC - 1`` for a field
  with two groups, balanced accuracy adjusted for chance, ``(BA - 1/k) / (1 - 1/k)``, for k > 2.
- Predictive power of all model inputs together (redundant encoding, as Credo Lens reports):
  scikit-learn's HistGradientBoostingClassifier (30 iterations, 15 leaves, balanced class
  weights, native categorical splits), 3-fold cross-validated on a random subsample of at most
  5,000 rows, with groups under 10 rows in the subsample left out; same chance-adjusted
  measure. Skipped (NaN) when ``models=False``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.bootstrap import simultaneous_band
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.counts import add_series, map_reduce
from audits.core.groups import group_codes
from audits.core.results import judge
from audits.core.seeds import derive_seed as _seed
from audits.core.subject import AuditSubject
from audits.fairness_scores import group_auc

__all__ = ["proxy_screen", "cramers_v", "band_feature", "band_spec", "band_raw",
           "chance_adjusted_power"]

N_BINS, MAX_LEVELS, SUBSAMPLE, N_FOLDS = 10, 20, 5000, 5
COLUMNS = ["feature", "field", "n", "feature_levels", "field_groups", "cramers_v",
           "cramers_v_low", "cramers_v_high", "cramers_v_uncorrected", "feature_power",
           "all_inputs_power", "power_measure", "severity"]


def cramers_v(table, *, corrected: bool = True) -> np.ndarray:
    """Cramér's V of contingency tables of shape (..., R, C), vectorised over leading axes.

    ``V = sqrt(phi2 / min(R - 1, C - 1))`` with ``phi2 = chi2 / n`` (Pearson's chi-squared, no
    continuity correction), R and C counting the non-empty rows and columns. The bias-corrected
    form (Bergsma 2013) uses ``max(0, phi2 - (R-1)(C-1)/(n-1))`` and ``R~ = R - (R-1)^2/(n-1)``,
    ``C~`` alike, in place of phi2, R and C. A table with fewer than two non-empty rows or
    columns has V = 0. The result lies in [0, 1]; a one-to-one mapping gives exactly 1 in both
    forms (up to rounding).
    """
    t = np.asarray(table, dtype=float)
    n = t.sum(axis=(-2, -1))
    row, col = t.sum(axis=-1), t.sum(axis=-2)
    R, C = (row > 0).sum(axis=-1), (col > 0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = row[..., :, None] * col[..., None, :] / n[..., None, None]
        chi2 = np.where(expected > 0, (t - expected) ** 2 / np.where(expected > 0, expected, 1),
                        0.0).sum(axis=(-2, -1))
        phi2 = chi2 / n
        if corrected:
            nm1 = n - 1
            phi2 = np.maximum(0.0, phi2 - (R - 1) * (C - 1) / nm1)
            R, C = R - (R - 1) ** 2 / nm1, C - (C - 1) ** 2 / nm1
        v = np.sqrt(phi2 / np.minimum(R - 1, C - 1))
    degenerate = (np.minimum((row > 0).sum(-1), (col > 0).sum(-1)) < 2) | ~np.isfinite(v)
    return np.clip(np.where(degenerate, 0.0, v), 0.0, 1.0)


def band_feature(values, *, n_bins: int = N_BINS, max_levels: int = MAX_LEVELS
                 ) -> tuple[np.ndarray, int]:
    """Integer level of each row of one model input (numeric: quantile bins; else values, the
    most frequent ``max_levels`` kept and the rest lumped; missing: its own level)."""
    s = pd.Series(values).reset_index(drop=True)
    raw = band_raw(band_spec(s, n_bins=n_bins, max_levels=max_levels), s)
    _, codes = np.unique(raw, return_inverse=True)
    return codes.astype(np.intp), int(codes.max()) + 1 if codes.size else 0


def band_spec(values, *, n_bins: int = N_BINS, max_levels: int = MAX_LEVELS) -> tuple:
    """How :func:`band_feature` bands one input, learnt from ``values`` and applicable to other
    rows (:func:`band_raw`): ``("bins", edges)`` or ``("levels", top values, max_levels)``."""
    s = pd.Series(values).reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and s.nunique(dropna=True) > n_bins:
        x = s.to_numpy(dtype=float, na_value=np.nan)
        return ("bins", np.unique(np.nanquantile(x, np.linspace(0, 1, n_bins + 1)[1:-1])))
    raw, uniques = pd.factorize(s, use_na_sentinel=True)
    freq = np.bincount(raw[raw >= 0], minlength=len(uniques))
    top = np.argsort(-freq, kind="stable")[:max_levels]
    return ("levels", pd.Index(uniques[top]), max_levels)


def band_raw(spec: tuple, values) -> np.ndarray:
    """The level of each row under ``spec`` before compaction: a bin, a top value's rank, the
    "other" level or the missing level."""
    s = pd.Series(values).reset_index(drop=True)
    if spec[0] == "bins":
        edges = spec[1]
        x = s.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(x), edges.size + 1, np.searchsorted(edges, x, side="right"))
    top, max_levels = spec[1], spec[2]
    idx = top.get_indexer(s)
    return np.where(s.isna().to_numpy(), max_levels + 1,
                    np.where(idx < 0, max_levels, idx)).astype(np.intp)


def chance_adjusted_power(field_codes: np.ndarray, proba: np.ndarray) -> float:
    """Chance-adjusted power of predicted group probabilities (n, k): 2 AUC - 1 for k = 2,
    adjusted balanced accuracy of the argmax for k > 2."""
    k = proba.shape[1]
    if k < 2:
        return float("nan")
    if k == 2:
        return 2 * group_auc(field_codes == 1, proba[:, 1]) - 1
    pred = proba.argmax(axis=1)
    size = np.bincount(field_codes, minlength=k)
    hit = np.bincount(field_codes[pred == field_codes], minlength=k)
    present = size > 0
    ba = np.mean(hit[present] / size[present])
    kk = present.sum()
    return float((ba - 1 / kk) / (1 - 1 / kk))


def _naive_power(fcodes, n_levels, gcodes, n_groups, folds) -> float:
    """Cross-validated naive per-level model: P(level | group) with Laplace smoothing."""
    proba = np.zeros((fcodes.size, n_groups))
    total = np.bincount(fcodes * n_groups + gcodes, minlength=n_levels * n_groups)
    for k in range(folds.max() + 1):
        test = folds == k
        held = np.bincount(fcodes[test] * n_groups + gcodes[test],
                           minlength=n_levels * n_groups)
        train = (total - held).reshape(n_levels, n_groups) + 1.0
        like = train / train.sum(axis=0, keepdims=True)  # P(level | group)
        p = like[fcodes[test]]
        proba[test] = p / p.sum(axis=1, keepdims=True)
    return chance_adjusted_power(gcodes, proba)


def _all_inputs_power(X: pd.DataFrame, gcodes: np.ndarray, seed: int) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), min(len(X), SUBSAMPLE), replace=False))
    g = gcodes[rows]
    big = np.bincount(g) >= 10
    keep = big[g]
    if big.sum() < 2 or X.shape[1] == 0:
        return float("nan")
    _, g = np.unique(g[keep], return_inverse=True)
    cols, cat = {}, []
    for c in X.columns:
        s = X[c].iloc[rows[keep]].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols[c] = s.to_numpy(dtype=float, na_value=np.nan)
            cat.append(False)
        else:
            codes, _ = band_feature(s, max_levels=250)
            cols[c] = codes.astype(float)
            cat.append(True)
    Xn = np.column_stack(list(cols.values()))
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, early_stopping=False,
                                           class_weight="balanced", categorical_features=cat,
                                           random_state=seed)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1, user_api="openmp"):  # small data: threads only cost here
        proba = cross_val_predict(model, Xn, g, cv=cv, method="predict_proba")
    return chance_adjusted_power(g, proba)


def _proxy_map(item) -> dict:
    """One partition's (feature level, group) counts of every (input, field) pair."""
    chunk, pairs, age_bands = item
    columns = sorted({c for f, g, _ in pairs for c in (f, g)})
    frame = chunk.read(columns)
    names = {}
    out = {}
    for feature, field, spec in pairs:
        if field not in names:
            codes, levels = group_codes(frame[field], age_bands=age_bands)
            names[field] = np.asarray(levels, dtype=object)[codes]
        pair = pd.DataFrame({"level": band_raw(spec, frame[feature]), "group": names[field]})
        out[(feature, field)] = pair.groupby(["level", "group"], sort=False).size()
    return out


def _add_tables(a: dict, b: dict) -> dict:
    return {k: add_series(a[k], b[k]) for k in a}


def _population_tables(subject: AuditSubject, config: AuditConfig, frame: pd.DataFrame
                       ) -> dict:
    """(input, field) -> (table, input levels, field groups) over every non-member row, banded
    as the sample bands them (the sample's levels first, levels only other rows have after)."""
    pairs = [(f, g, band_spec(frame[f])) for g in subject.sensitive_fields
             for f in subject.feature_columns if f != g]
    items = [(c, pairs, config.age_bands) for c in subject.population.chunks["nonmembers"]]
    counts = map_reduce(_proxy_map, items, _add_tables, n_jobs=config.n_jobs)
    out = {}
    for feature, field, _ in pairs:
        series = counts[(feature, field)]
        _, sample_groups = group_codes(frame[field], age_bands=config.age_bands)
        seen = set(series.index.get_level_values("group"))
        groups = [g for g in sample_groups if g in seen] + sorted(
            seen - set(sample_groups))
        levels = np.unique(series.index.get_level_values("level").to_numpy())
        li = np.searchsorted(levels, series.index.get_level_values("level").to_numpy())
        gi = pd.Index(groups).get_indexer(series.index.get_level_values("group"))
        table = np.zeros(len(levels) * len(groups), dtype=np.int64)
        np.add.at(table, li * len(groups) + gi, series.to_numpy(dtype=np.int64))
        out[(feature, field)] = (table, len(levels), len(groups))
    return out


def _screen(subject: AuditSubject, config: AuditConfig, models: bool) -> pd.DataFrame:
    frame = subject.frame("nonmembers")
    features = list(subject.feature_columns)
    n_boot, rows, reps = config.n_bootstrap, [], []
    threshold = config.threshold("fairness.proxy_association")
    population = None if subject.population is None else \
        _population_tables(subject, config, frame)
    for field in subject.sensitive_fields:
        gcodes, glevels = group_codes(frame[field], age_bands=config.age_bands)
        G = len(glevels)
        folds = np.random.default_rng(_seed(subject.seed, "folds", field)).permutation(
            len(frame)) % N_FOLDS
        others = [f for f in features if f != field]
        if models and others:
            power_all = _all_inputs_power(frame[others], gcodes, _seed(subject.seed, "all", field))
        else:
            power_all = float("nan")
        for feature in others:
            fcodes, L = band_feature(frame[feature])
            if population is None:
                table, levels, groups = np.bincount(fcodes * G + gcodes, minlength=L * G), L, G
            else:  # counted over every row, banded as the sample is
                table, levels, groups = population[(feature, field)]
            n = int(table.sum())
            rng = np.random.default_rng(_seed(subject.seed, "proxy", feature, field))
            nz = np.flatnonzero(table)
            boot = np.zeros((n_boot, table.size))
            if n:
                boot[:, nz] = rng.multinomial(n, table[nz] / n, size=n_boot)
            reps.append(cramers_v(boot.reshape(n_boot, levels, groups)))
            rows.append({
                "feature": feature, "field": field, "n": n, "feature_levels": levels,
                "field_groups": groups,
                "cramers_v": float(cramers_v(table.reshape(levels, groups))),
                "cramers_v_uncorrected": float(cramers_v(table.reshape(levels, groups),
                                                         corrected=False)),
                "feature_power": (_naive_power(fcodes, L, gcodes, G, folds) if G >= 2
                                  else float("nan")),
                "all_inputs_power": power_all,
                "power_measure": "2 x AUC - 1" if G == 2 else "adjusted balanced accuracy"})
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                      ("cramers_v_low", "cramers_v_high", "severity")])
    if rows:
        lo, hi = simultaneous_band(np.column_stack(reps), confidence=config.confidence)
        v = out["cramers_v"].to_numpy(float)
        lo, hi = np.fmin(lo, v), np.fmax(hi, v)  # V is bounded at 0: keep the point inside
    else:
        lo = hi = np.empty(0)
    out["cramers_v_low"], out["cramers_v_high"] = lo, hi
    out["severity"] = [judge((None if np.isnan(a) else float(a), None if np.isnan(b)
                              else float(b)), threshold, value=float(pt)).value
                       for a, b, pt in zip(lo, hi, out["cramers_v"].to_numpy(float))]
    return out[COLUMNS]


def proxy_screen(subject: AuditSubject, config: AuditConfig, *, cache: RunCache | None = None
                 ) -> pd.DataFrame:
    """Association and predictive power of each model input for each sensitive field.

    Runs once per audit (shared through the run's cache, keyed by the profile) on the
    non-members.

    Parameters
    ----------
    subject : the audit subject.
    config : the audit configuration (bootstrap replicates, confidence, age bands, threshold).
    cache : the run's cache (:class:`audits.core.cache.RunCache`), or None to compute afresh.

    ``config.proxy_models`` says whether to fit the all-inputs model (the costly part); without
    it that column is NaN.

    Returns
    -------
    DataFrame with one row per (feature, field), columns ``feature, field, n,
    feature_levels, field_groups, cramers_v, cramers_v_low, cramers_v_high,
    cramers_v_uncorrected, feature_power, all_inputs_power, power_measure, severity``
    (severity of the ``fairness.proxy_association`` threshold judged on V's interval).
    """
    return shared(cache, ("proxy_screen", config.profile_hash),
                  lambda: _screen(subject, config, config.proxy_models))
