"""Empirical epsilon: the one-run audit's published reference values and the threshold bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attacks.epsilon import (
    attack_epsilon,
    one_run_ceiling,
    one_run_epsilon,
    one_run_p_value,
    threshold_ceiling,
    threshold_epsilon,
)
from attacks.membership import ModeScores
from attacks.pool import REPORTING, SELECTION


@pytest.mark.parametrize("m, r, v, delta, expected", [
    (1000, 1000, 1000, 0.0, 5.8091),
    (100, 100, 90, 0.0, 1.6308),
    (1000, 1000, 750, 0.0, 0.9767),
    (1000, 1000, 1000, 1e-5, 5.7823),
    (10000, 10000, 6000, 0.0, 0.3717),
])
def test_one_run_reference_values(m, r, v, delta, expected):
    # Steinke, Nasr & Jagielski 2023 (values in METHODS.md), 95% confidence
    assert one_run_epsilon(m, r, v, delta=delta) == pytest.approx(expected, abs=5e-4)


def test_one_run_bound_is_where_the_p_value_crosses_the_level():
    eps = one_run_epsilon(500, 400, 330)
    assert one_run_p_value(500, 400, 330, eps - 1e-6) < 0.05 <= \
        one_run_p_value(500, 400, 330, eps + 1e-6)


def test_one_run_monotone_and_capped_by_its_ceiling():
    bounds = [one_run_epsilon(200, 200, v) for v in range(100, 201, 10)]
    assert all(a <= b for a, b in zip(bounds, bounds[1:]))
    assert bounds[-1] == pytest.approx(one_run_ceiling(200, 200))
    assert one_run_epsilon(200, 200, 100) == 0.0  # chance-level guesses certify nothing
    assert one_run_epsilon(200, 200, 150, delta=1e-3) < one_run_epsilon(200, 200, 150)


def test_one_run_rejects_impossible_counts():
    with pytest.raises(ValueError):
        one_run_p_value(10, 20, 5, 1.0)


def test_threshold_bound():
    # a test no better than chance certifies nothing
    assert threshold_epsilon(10, 1000, 10, 1000) == 0.0
    # a perfect test certifies exactly the ceiling: log(TPR_low / FPR_high), one-sided 97.5%
    n = 2000
    expected = math.log((0.025 ** (1 / n)) / (1 - 0.025 ** (1 / n)))
    assert threshold_ceiling(n, n) == pytest.approx(expected, rel=1e-9)
    assert threshold_epsilon(500, 1000, 5, 1000) < threshold_ceiling(1000, 1000)


def test_attack_epsilon_fixes_the_threshold_on_the_selection_records():
    rng = np.random.default_rng(0)
    n = 4000
    labels = rng.random(n) < 0.5
    role = np.where(np.arange(n) % 2 == 0, SELECTION, REPORTING)
    scores = rng.normal(size=n) + 2.0 * labels
    ms = ModeScores("model", {"a": scores[None, :]}, labels[None, :], role, labels.astype(int), {})
    got = attack_epsilon(ms, "a")
    assert 0 < got["epsilon"] < got["ceiling"]
    # recompute from the chosen threshold on the reporting half alone
    rep = role == REPORTING
    tp = int((scores[rep & labels] > got["threshold"]).sum())
    fp = int((scores[rep & ~labels] > got["threshold"]).sum())
    assert (tp, fp) == (got["tp"], got["fp"])
    assert got["epsilon"] == pytest.approx(
        threshold_epsilon(tp, int((rep & labels).sum()), fp, int((rep & ~labels).sum())))
