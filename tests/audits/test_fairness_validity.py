"""The false-alarm table in small (the full table is ``bench/bench_validity.py``): fair models
raise no fairness attention or fail in at least 95% of audits, a planted gap is found, and a
rule judged on marginal intervals crosses the bound (strict xfail).

Cells: the two hardest of the bench (8 groups and a 16-group intersection on 2,000 rows at base
rate 0.1, the smallest counts; 2 groups on 10,000 rows at base rate 0.1, where the estimates of
noise still reach past 0.8), 15 seeds each, the default profile (1,000 replicates) as the
bench; about 20 s.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from audits import fairness_pairs
from audits.core.config import AuditConfig
from bench.bench_validity import audit_once, simulate

CFG = dataclasses.replace(AuditConfig(), whatif=False, proxy_models=False)
CELLS = ((8, 2000, 0.1), (2, 10000, 0.1))
SEEDS = 15


def count_alarms(limit: int = 4) -> int:
    """Audits with any fairness attention or fail, counted up to ``limit`` (then it stops)."""
    alarms = 0
    for g, n, b in CELLS:
        for seed in range(SEEDS):
            alarms += audit_once(simulate(g, n, b, seed), CFG)["alarm"]
            if alarms >= limit:
                return alarms
    return alarms


def check_false_alarms(alarms: int) -> None:
    """At most 3 of 30 (10%): a rule at the 5% design gives 1.5 on average; judged on marginal
    intervals over ~40 to ~550 comparisons, nearly every audit alarms."""
    assert alarms <= 3, alarms


def test_fair_models_raise_few_alarms():
    check_false_alarms(count_alarms())


def _marginal(theta, se, theta_reps, se_reps, *, confidence, max_bad=0.01):
    """The broken rule: each comparison's own 95% interval, theta +- 1.96 se, no family."""
    theta, se = np.asarray(theta, dtype=float), np.asarray(se, dtype=float)
    z = 1.959963984540054
    return {"lo": theta - z * se, "hi": theta + z * se, "se": se, "critical": z,
            "size": theta.size}


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken: marginal intervals instead of one simultaneous band")
def test_fair_models_raise_few_alarms_fails_when_broken(monkeypatch):
    monkeypatch.setattr(fairness_pairs, "studentised_band", _marginal)
    check_false_alarms(count_alarms())


def test_a_planted_gap_is_found():
    """4 groups on 10,000 rows at base rate 0.3, group a0 selected 0.6 times as often: the pair
    (a0, a1) is flagged in every run (the issue's target: at least 90%)."""
    flagged = [audit_once(simulate(4, 10000, 0.3, seed, ratio=0.6), CFG)["planted_flagged"]
               for seed in range(8)]
    assert all(flagged)
