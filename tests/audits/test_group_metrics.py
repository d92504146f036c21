"""The counts-based bootstrap engine: fairlearn's MetricFrame as the oracle, closed forms, the
simultaneous band's family-wise coverage, and the score bootstrap (AUC, calibration)."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, precision_score, roc_auc_score

from audits.core.bootstrap import percentile_interval, simultaneous_band
from audits.core.groups import group_codes, intersect_codes
from audits.core.seeds import derive_seed
from audits.fairness_scores import expected_calibration_error, group_auc, group_score_bootstrap
from audits.group_metrics import (
    bootstrap_cells,
    cell_metrics,
    confusion_counts,
    jeffreys_draws,
    joint_bootstrap,
    joint_cells,
    log_rate_var,
    max_statistic_band,
    parity_summary,
    safe_ratio,
    studentised_band,
)


def _data(n=2000, seed=0, probs=(0.5, 0.3, 0.2)):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"][:len(probs)], n, p=probs)
    y = rng.integers(0, 2, n)
    shift = {"a": 0.0, "b": 0.1, "c": -0.1}
    p = 0.25 + 0.35 * y + np.vectorize(shift.get)(g)
    d = (rng.random(n) < p).astype(int)
    return y, d, g


# -- groups ----------------------------------------------------------------------------------

def test_numeric_field_is_banded_with_documented_labels():
    codes, levels = group_codes(pd.Series([17, 18, 24, 25, 64, 65, 90, np.nan, 30, 40, 50, 60]))
    assert levels == ["<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "missing"]
    labels = [levels[c] for c in codes]
    assert labels[:8] == ["<18", "18-24", "18-24", "25-34", "55-64", "65+", "65+", "missing"]


def test_numeric_field_with_few_values_is_categorical_and_non_integer_bands():
    codes, levels = group_codes(pd.Series([0, 1, 1, 0, 2.0]))
    assert levels == ["0", "1", "2"] and list(codes) == [0, 1, 1, 0, 2]
    _, levels = group_codes(np.linspace(0, 1, 50), age_bands=(0.25, 0.5))
    assert levels == ["<0.25", "[0.25, 0.5)", "0.5+"]


def test_categorical_groups_sorted_missing_last_and_intersections():
    ca, la = group_codes(pd.Series(["b", None, "a", "b"], dtype="str"))
    assert la == ["a", "b", "missing"] and list(ca) == [1, 2, 0, 1]
    cb, lb = group_codes(pd.Series(["x", "y", "x", "x"]))
    codes, levels = intersect_codes(ca, la, cb, lb)
    assert levels == ["a & x", "b & x", "missing & y"]
    assert [levels[c] for c in codes] == ["b & x", "missing & y", "a & x", "b & x"]


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "fair", "g") == derive_seed(0, "fair", "g")
    assert len({derive_seed(0, "fair", f) for f in "abcdef"} | {derive_seed(1, "fair", "a")}) == 7


# -- cells and rates -------------------------------------------------------------------------

def test_confusion_counts_match_sklearn_per_group():
    y, d, g = _data(500)
    codes, levels = group_codes(g)
    counts = confusion_counts(y, d, codes, n_groups=len(levels))
    for i, name in enumerate(levels):
        tn, fp, fn, tp = confusion_matrix(y[g == name], d[g == name], labels=[0, 1]).ravel()
        assert list(counts[i]) == [tp, fp, fn, tn]


def test_unfavourable_positive_selection_rate_counts_negative_decisions():
    counts = np.array([[3, 2, 4, 1]])  # tp fp fn tn
    assert cell_metrics(counts, favourable_positive=False)["selection_rate"][0] == 0.5
    assert cell_metrics(counts)["selection_rate"][0] == 0.5
    counts = np.array([[3, 3, 4, 0]])
    assert cell_metrics(counts, favourable_positive=False)["selection_rate"][0] == 0.4


def test_safe_ratio_conventions():
    assert list(safe_ratio([0.0, 1.0, 2.0], [0.0, 0.0, 4.0])) == [1.0, np.inf, 0.5]


def test_bootstrap_cells_are_row_resamples():
    """A multinomial over the cells has the distribution of a row resample: same mean, same
    spread of the selection rate as resampling rows (Efron 1979)."""
    y, d, g = _data(1500, seed=4)
    codes, levels = group_codes(g)
    counts = confusion_counts(y, d, codes, n_groups=3)
    reps = bootstrap_cells(counts, n_boot=3000, random_state=1)
    assert reps.shape == (3000, 3, 4) and (reps.sum(axis=(1, 2)) == 1500).all()
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 1500, size=(3000, 1500))
    by_rows = np.stack([confusion_counts(y[r], d[r], codes[r], n_groups=3) for r in rows[:600]])
    sr_cells = cell_metrics(reps)["selection_rate"]
    sr_rows = cell_metrics(by_rows)["selection_rate"]
    assert np.allclose(sr_cells.mean(0), cell_metrics(counts)["selection_rate"], atol=0.004)
    assert np.allclose(sr_cells.std(0), sr_rows.std(0), rtol=0.12)


# -- fairlearn's MetricFrame: the oracle -----------------------------------------------------

def test_point_values_equal_fairlearn_metricframe():
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    y, d, g = _data(3000, seed=1)
    codes, levels = group_codes(g)
    ours = cell_metrics(confusion_counts(y, d, codes, n_groups=3))
    mf = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                              "fpr": false_positive_rate, "fnr": false_negative_rate,
                              "precision": precision_score},
                     y_true=y, y_pred=d, sensitive_features=g)
    by = mf.by_group.loc[levels]
    for m in ("selection_rate", "tpr", "fpr", "fnr", "precision"):
        np.testing.assert_allclose(ours[m], by[m].to_numpy(), rtol=0, atol=1e-12)
    agg = parity_summary(ours)
    assert np.isclose(agg["demographic_parity_difference"],
                      demographic_parity_difference(y, d, sensitive_features=g))
    assert np.isclose(agg["demographic_parity_ratio"],
                      demographic_parity_ratio(y, d, sensitive_features=g))
    assert np.isclose(agg["equalized_odds_difference"],
                      equalized_odds_difference(y, d, sensitive_features=g))


def test_intervals_agree_with_fairlearn_bootstrap():
    """fairlearn resamples rows (100 replicates here, ~25 ms per metric each); we draw 4,000
    multinomial count vectors. Each bootstrap quantile q of B replicates has a Monte Carlo
    standard error of about sqrt(q(1 - q) / B) / phi(z_q) bootstrap SDs; the quantiles must
    agree within four combined standard errors."""
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
    from scipy.stats import norm

    y, d, g = _data(2000, seed=2)
    codes, levels = group_codes(g)
    qs = np.array([0.025, 0.16, 0.5, 0.84, 0.975])
    b_fl, b_ours = 100, 4000
    mf = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate},
                     y_true=y, y_pred=d, sensitive_features=g, n_boot=b_fl,
                     ci_quantiles=list(qs), random_state=7)
    mc_se = np.sqrt(qs * (1 - qs) * (1 / b_fl + 1 / b_ours)) / norm.pdf(norm.ppf(qs))
    counts = confusion_counts(y, d, codes, n_groups=3)
    reps = cell_metrics(bootstrap_cells(counts, n_boot=b_ours, random_state=3))
    for m in ("selection_rate", "tpr"):
        ours = np.quantile(reps[m], qs, axis=0)
        theirs = np.array([mf.by_group_ci[i][m].loc[levels].to_numpy() for i in range(qs.size)])
        gap_in_sd = np.abs(ours - theirs) / reps[m].std(axis=0)
        assert (gap_in_sd < 4 * mc_se[:, None]).all(), gap_in_sd
    lo, hi = percentile_interval(reps["selection_rate"], confidence=0.95)
    np.testing.assert_allclose([lo, hi], np.quantile(reps["selection_rate"], [0.025, 0.975],
                                                     axis=0))
    dp = parity_summary(reps)["demographic_parity_difference"]
    ours = np.quantile(dp, qs)
    theirs = np.array([c["selection_rate"] for c in mf.difference_ci()])
    np.testing.assert_array_less(np.abs(ours - theirs) / dp.std(), 4 * mc_se)


# -- the simultaneous band -------------------------------------------------------------------

def test_simultaneous_band_covers_all_columns_jointly():
    rng = np.random.default_rng(0)
    reps = rng.standard_normal((2000, 12)) @ np.diag(np.linspace(0.5, 3, 12))
    lo, hi = simultaneous_band(reps, confidence=0.95)
    joint = ((reps >= lo) & (reps <= hi)).all(axis=1).mean()
    assert 0.95 <= joint <= 0.96
    plo, phi = percentile_interval(reps, confidence=0.95)
    assert ((reps >= plo) & (reps <= phi)).all(axis=1).mean() < 0.7  # 0.95^12 = 0.54
    assert (lo <= plo).all() and (hi >= phi).all()


def test_simultaneous_band_of_one_column_is_the_percentile_interval():
    reps = np.random.default_rng(1).standard_normal((1000, 1))
    lo, hi = simultaneous_band(reps, confidence=0.95)
    plo, phi = percentile_interval(reps, confidence=0.95)
    srt = np.sort(reps[:, 0])  # at most 50 of 1,000 outside: 25 on each side
    assert lo[0] == srt[25] and hi[0] == srt[-26]
    assert srt[24] <= plo[0] <= lo[0] and hi[0] <= phi[0] <= srt[-25]


def test_simultaneous_band_is_invariant_to_monotone_transforms_and_handles_nan():
    reps = np.random.default_rng(2).lognormal(size=(500, 4))
    lo, hi = simultaneous_band(reps, confidence=0.9)
    llo, lhi = simultaneous_band(np.log(reps), confidence=0.9)
    assert np.allclose(np.log(lo), llo) and np.allclose(np.log(hi), lhi)
    reps[:200, 0] = np.nan  # 40% undefined: no band can be given
    lo, hi = simultaneous_band(reps, confidence=0.9)
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_simultaneous_bands_keep_familywise_error_on_null_data():
    """Eight groups with equal selection rates: in 200 data sets the simultaneous bands of the 7
    ratios to a fixed reference exclude the true ratio 1 in at most 5% (+ Monte Carlo
    tolerance), while plain 95% intervals do so far more often."""
    rng = np.random.default_rng(11)
    miss_band = miss_plain = 0
    runs = 200
    for _ in range(runs):
        g = rng.integers(0, 8, 4000)
        d = (rng.random(4000) < 0.4).astype(int)
        counts = confusion_counts(d, d, g, n_groups=8)
        sr = cell_metrics(bootstrap_cells(counts, n_boot=400, random_state=rng))["selection_rate"]
        ratios = safe_ratio(sr[:, 1:], sr[:, :1])
        lo, hi = simultaneous_band(ratios, confidence=0.95)
        miss_band += bool(((lo > 1) | (hi < 1)).any())
        plo, phi = percentile_interval(ratios, confidence=0.95)
        miss_plain += bool(((plo > 1) | (phi < 1)).any())
    assert miss_band / runs <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / runs)
    assert miss_plain / runs > 0.12


def test_joint_bootstrap_is_one_row_resample_for_every_grouping():
    """Fields and their intersection drawn together: each grouping's replicate counts add up to
    the same total, the intersection's cells add up to each field's (the same resampled rows),
    and a grouping's replicates spread like a resample of its rows alone."""
    y, d, g = _data(3000, seed=7)
    rng = np.random.default_rng(8)
    h = rng.choice(["x", "y"], g.size)
    ca, la = group_codes(g)
    cb, lb = group_codes(h)
    ci, li = intersect_codes(ca, la, cb, lb)
    fine, maps = joint_cells(y, d, [ca, cb, ci])
    assert fine.sum() == 3000 and len(fine) == len(li)
    per, total = joint_bootstrap(fine, maps, [len(la), len(lb), len(li)], n_boot=2000,
                                 random_state=1)
    a, b, inter = per
    assert (total.sum(axis=1) == 3000).all()
    assert (a.sum(axis=1) == total).all() and (b.sum(axis=1) == total).all()
    # the intersection's groups 'a & x' and 'a & y' add up to field a's group 'a', per replicate
    for k, name in enumerate(la):
        parts = [i for i, lv in enumerate(li) if lv.startswith(f"{name} &")]
        assert (inter[:, parts].sum(axis=1) == a[:, k]).all()
    counts = confusion_counts(y, d, ca, n_groups=3)  # the mean: within 4 standard errors
    se = np.sqrt(counts * (1 - counts / 3000) / 2000)
    assert (np.abs(a.mean(axis=0) - counts) < 4 * se + 1e-9).all()
    alone = bootstrap_cells(confusion_counts(y, d, ca, n_groups=3), n_boot=2000, random_state=2)
    sr_joint = cell_metrics(a)["selection_rate"]
    sr_alone = cell_metrics(alone)["selection_rate"]
    assert np.allclose(sr_joint.std(axis=0), sr_alone.std(axis=0), rtol=0.1)


def test_jeffreys_draws_give_the_jeffreys_interval_and_never_zero():
    """A rate with 0 of 40 events: the bootstrap can only say [0, 0]; the draws' percentile
    interval is the Jeffreys interval (Brown, Cai & DasGupta 2001), closed form by beta.ppf."""
    from scipy.stats import beta

    x, m = np.array([0, 3, 400]), np.array([40, 60, 1000])
    reps = np.tile(x / m, (20000, 1))  # a degenerate bootstrap
    out = jeffreys_draws(x, m, reps, random_state=0)
    assert (out[:, :2] > 0).all() and (out[:, 2] == 0.4).all()  # 400 events: untouched
    for j in (0, 1):
        lo, hi = percentile_interval(out[:, j], confidence=0.95)
        exact = beta.ppf([0.025, 0.975], x[j] + 0.5, m[j] - x[j] + 0.5)
        np.testing.assert_allclose([lo, hi], exact, rtol=0.05, atol=1e-4)
        assert hi > 0.03  # 0 of 40 is compatible with a rate of a few percent


def test_max_statistic_band_of_one_column_is_the_percentile_interval():
    reps = np.random.default_rng(1).gamma(2.0, size=(1000, 1))
    band = max_statistic_band(reps, confidence=0.95)
    plo, phi = percentile_interval(reps, confidence=0.95)
    assert abs(band["critical"] - 1.96) < 0.05
    np.testing.assert_allclose([band["lo"][0], band["hi"][0]], [plo[0], phi[0]], rtol=0.02)


def check_band_holds_jointly(band_fn):
    """Fresh data sets from 200 independent comparisons: the bands built from one bootstrap
    world cover all 200 true values at once in about 95% of data sets."""
    rng = np.random.default_rng(3)
    K, B, runs = 200, 400, 300
    sd = np.linspace(0.5, 2.0, K)
    misses = 0
    for _ in range(runs):
        est = rng.standard_normal(K) * sd  # estimates of true values 0
        reps = est + rng.standard_normal((B, K)) * sd  # their bootstrap
        lo, hi = band_fn(reps)
        misses += bool(((lo > 0) | (hi < 0)).any())
    assert misses / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs), misses


def _max_band(reps):
    b = max_statistic_band(reps, confidence=0.95)
    return b["lo"], b["hi"]


def test_max_statistic_band_holds_over_hundreds_of_comparisons():
    check_band_holds_jointly(_max_band)


def test_rank_band_is_too_narrow_when_comparisons_outnumber_replicates():
    """Why the fairness probe standardises: with 200 comparisons and 400 replicates the rank
    form's band can reach no further than the most extreme replicate of each column (about 2.9
    SDs), while 95% joint coverage of 200 independent columns needs about 3.7 SDs."""
    reps = np.random.default_rng(4).standard_normal((400, 200))
    lo, hi = simultaneous_band(reps, confidence=0.95)
    assert (hi == reps.max(axis=0)).all() and (lo == reps.min(axis=0)).all()
    band = max_statistic_band(reps, confidence=0.95)
    assert 3.4 < band["critical"] < 4.0
    assert (band["hi"] > hi).mean() > 0.9


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken: marginal 95% intervals instead of one simultaneous band")
def test_max_statistic_band_holds_fails_with_marginal_intervals():
    check_band_holds_jointly(lambda reps: percentile_interval(reps, confidence=0.95))


def check_studentised_band_holds_on_counts(band_fn):
    """150 log ratios of two rates with about 40 events each (equal in truth), 300 data sets:
    the bands hold together in about 95% of them."""
    rng = np.random.default_rng(6)
    K, B, runs, n, p = 150, 300, 300, 200, 0.2
    misses = 0
    for _ in range(runs):
        x = rng.binomial(n, p, size=(2, K)).astype(float)
        xr = rng.binomial(n, x / n, size=(B, 2, K)).astype(float)
        with np.errstate(divide="ignore"):
            theta = np.log(x[0] / x[1])
            theta_r = np.log(xr[:, 0] / xr[:, 1])
        se = np.sqrt(log_rate_var(x[0], n) + log_rate_var(x[1], n))
        se_r = np.sqrt(log_rate_var(xr[:, 0], n) + log_rate_var(xr[:, 1], n))
        lo, hi = band_fn(theta, se, theta_r, se_r)
        misses += bool(((lo > 0) | (hi < 0)).any())
    assert misses / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs), misses


def _student(theta, se, theta_r, se_r):
    b = studentised_band(theta, se, theta_r, se_r, confidence=0.95)
    return b["lo"], b["hi"]


def test_studentised_band_holds_on_counts():
    check_studentised_band_holds_on_counts(_student)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken: each comparison's own 95% interval, no family")
def test_studentised_band_holds_on_counts_fails_with_marginal_intervals():
    check_studentised_band_holds_on_counts(
        lambda theta, se, tr, sr: (theta - 1.96 * se, theta + 1.96 * se))


def test_studentised_band_is_centred_and_leaves_out_undefined_comparisons():
    theta, se = np.array([0.1, -0.2, 0.0]), np.array([0.05, 0.1, np.inf])
    scale = np.array([0.05, 0.1, 1.0])
    reps = np.random.default_rng(7).standard_normal((400, 3)) * scale + theta
    b = studentised_band(theta, se, reps, np.tile(scale, (400, 1)), confidence=0.95)
    assert b["size"] == 2 and np.isnan(b["lo"][2])
    np.testing.assert_allclose((b["lo"][:2] + b["hi"][:2]) / 2, theta[:2])
    assert 2.0 < b["critical"] < 2.6  # two comparisons: between 1.96 and Bonferroni's 2.24-ish
    assert log_rate_var(0, 10) == np.inf and log_rate_var(5, 10) == pytest.approx(0.1)


def test_max_statistic_band_leaves_out_undefined_columns():
    reps = np.random.default_rng(5).standard_normal((500, 3))
    reps[:100, 1] = -np.inf  # a rate that was 0 in a fifth of the replicates
    band = max_statistic_band(reps, confidence=0.95)
    assert np.isnan(band["lo"][1]) and band["size"] == 2
    assert np.isfinite(band["lo"][[0, 2]]).all()


# -- scores: AUC and calibration -------------------------------------------------------------

def test_group_auc_equals_sklearn_with_ties_and_ece_closed_form():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 7, 300) / 6
    assert np.isclose(group_auc(y, s), roc_auc_score(y, s))
    assert np.isnan(group_auc(np.ones(5), rng.random(5)))
    # two bins: [0.1, 0.2) holds scores 0.15, 0.15 with labels 0, 1; [0.9, 1] holds 0.95 with 1
    ece = expected_calibration_error([0, 1, 1], [0.15, 0.15, 0.95])
    assert np.isclose(ece, (2 * abs(0.5 - 0.15) + abs(1 - 0.95)) / 3)


def test_score_bootstrap_points_exact_and_spread_like_row_resampling():
    rng = np.random.default_rng(5)
    n = 3000
    g = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    s = np.clip(0.3 * y + 0.35 + 0.25 * rng.standard_normal(n), 0, 1)
    out = group_score_bootstrap(y, s, g, n_groups=2, n_boot=1500, random_state=0)
    pt, reps = out["auc"]
    ept, ereps = out["calibration_error"]
    for k in (0, 1):
        rows = g == k
        assert np.isclose(pt[k], roc_auc_score(y[rows], s[rows]))
        assert np.isclose(ept[k], expected_calibration_error(y[rows], s[rows]))
        idx = np.flatnonzero(rows)
        boot = [group_auc(y[r], s[r]) for r in (rng.choice(idx, idx.size) for _ in range(300))]
        assert abs(reps[:, k].mean() - pt[k]) < 0.004
        assert np.isclose(reps[:, k].std(), np.std(boot), rtol=0.15)
    assert (ereps >= 0).all()


def test_score_bootstrap_skips_unrequested_groups():
    rng = np.random.default_rng(6)
    out = group_score_bootstrap(rng.integers(0, 2, 200), rng.random(200),
                                rng.integers(0, 3, 200), n_groups=3, n_boot=50,
                                random_state=0, groups=[0, 2])
    assert np.isnan(out["auc"][1][:, 1]).all() and not np.isnan(out["auc"][1][:, 0]).any()
    assert not np.isnan(out["auc"][0]).any()


def test_precision_point_ignores_zero_division_warning():
    counts = np.array([[0, 0, 5, 5], [2, 2, 1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = cell_metrics(counts)
    assert np.isnan(m["precision"][0]) and m["precision"][1] == 0.5
    assert partial(precision_score, zero_division=0)([1, 0], [0, 0]) == 0  # fairlearn's default
