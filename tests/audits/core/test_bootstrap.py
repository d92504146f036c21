"""The weighted bootstrap against closed forms and scikit-learn."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from audits.core.bootstrap import bootstrap_weights, score_metrics, weighted_auc


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 200))
def test_unit_weight_auc_equals_sklearn_with_ties(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    score = rng.integers(0, 6, n) / 5  # many ties
    assert np.isclose(weighted_auc(y, score, np.ones((1, n)))[0], roc_auc_score(y, score))


def test_weighted_auc_equals_auc_of_repeated_rows():
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 300), rng.random(300)
    w = next(bootstrap_weights(300, 1, rng))
    rows = np.repeat(np.arange(300), w[0].astype(int))
    assert np.isclose(weighted_auc(y, s, w)[0], roc_auc_score(y[rows], s[rows]))


def test_auc_is_invariant_to_monotone_transform():
    rng = np.random.default_rng(2)
    y, s = rng.integers(0, 2, 500), rng.random(500)
    w = np.vstack(list(bootstrap_weights(500, 20, rng)))
    assert np.allclose(weighted_auc(y, s, w), weighted_auc(y, np.log(s) * 3 + 1, w))


def test_points_match_sklearn_and_interval_covers_truth():
    rng = np.random.default_rng(3)
    n = 4000
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, n), 0.01, 0.99)
    points, reps = score_metrics(y, p, (p >= 0.5).astype(int), n_boot=400, random_state=0)
    assert np.isclose(points["auc"], roc_auc_score(y, p))
    assert np.isclose(points["log_loss"], log_loss(y, p))
    assert np.isclose(points["brier"], brier_score_loss(y, p))
    # the bootstrap standard error of AUC agrees with Hanley & McNeil's closed form within 15%
    auc = points["auc"]
    n1, n0 = y.sum(), n - y.sum()
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n0 - 1) * (q2 - auc ** 2))
                 / (n1 * n0))
    assert abs(reps["auc"].std() / se - 1) < 0.15
