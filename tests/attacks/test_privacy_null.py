"""Null and monotonicity tests of the membership probe on small synthetic models.

Null: the audited model is trained on separate data, and the "members" and "non-members" it is
audited with are two other disjoint samples, both unseen. Every attack's AUC must then be
chance: over 20 seeds each attack's 95% interval must contain 0.5 in at least 17 runs. A correct
95% interval misses in 20 independent runs a number of times distributed Binomial(20, 0.05), and
P(4 or more misses) = 1.6%, so allowing 3 misses keeps the test from failing by chance while a
leak (an interval shifted by 2 standard errors misses about half the time) fails it. The mean
AUC over the 20 runs must also lie within 0.025 of 0.5 (about 3 standard errors of that mean),
which catches a small systematic bias that coverage alone would not. No run may raise a fail.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from attacks.membership import ATTACKS
from attacks.privacy_probe import run_membership
from audits.core.config import AuditConfig
from audits.core.results import Severity
from tests.attacks.privacy_data import FEATURES, make_frame, make_subject

SEEDS = range(20)
NULL_CONFIG = AuditConfig(n_reference_models=4, n_bootstrap=200, n_jobs=1)


@contextlib.contextmanager
def _home(path):
    """A temporary REVIEW_BOARD_HOME (the pools' disk cache) for a module-scoped fixture."""
    old = os.environ.get("REVIEW_BOARD_HOME")
    os.environ["REVIEW_BOARD_HOME"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("REVIEW_BOARD_HOME", None)
        else:
            os.environ["REVIEW_BOARD_HOME"] = old


@pytest.fixture(scope="module")
def null_runs(tmp_path_factory):
    runs = []
    with _home(tmp_path_factory.mktemp("null-home")):
        for seed in SEEDS:
            rng = np.random.default_rng([seed, 77])
            train = make_frame(600, rng, flip=0.1)
            model = LogisticRegression() if seed % 2 == 0 else \
                DecisionTreeClassifier(max_depth=4, random_state=seed)
            model.fit(train[list(FEATURES)], train["y"])
            subject = make_subject(model, make_frame(300, rng, flip=0.1),
                                   make_frame(300, rng, flip=0.1), seed=seed)
            runs.append(run_membership(subject, NULL_CONFIG))
    return runs


def _model_mode(run):
    table = run.table("attacks").to_frame()
    return table[table["mode"] == "this model"].set_index("attack")


@pytest.mark.parametrize("attack", ATTACKS)
def test_null_every_attack_is_at_chance(null_runs, attack):
    rows = [_model_mode(r).loc[attack] for r in null_runs]
    misses = [i for i, row in zip(SEEDS, rows) if not row.auc_low <= 0.5 <= row.auc_high]
    assert len(misses) <= 3, f"{attack}: interval misses 0.5 for seeds {misses}"
    assert abs(np.mean([row.auc for row in rows]) - 0.5) < 0.025


def test_null_raises_no_fail(null_runs):
    for run in null_runs:
        for finding in run.findings:
            assert finding.severity is not Severity.FAIL, (finding.id, finding.statement)
        assert run.params["risk_level"] in ("not detected", "low", "medium", "not assessed")


def test_null_holdouts_are_exchangeable(null_runs):
    """Members and non-members drawn alike: the distinguisher never fires, and the strongest
    attack's interval lies wholly below 0.5 by chance alone in about 2.5% of runs (more than 2
    of 20 has probability 1.3%), so nearly every null run is assessed."""
    pre = [r.params["precondition"] for r in null_runs]
    assert not any(p["cause"] == "distinguisher" for p in pre)
    assert sum(not p["met"] for p in pre) <= 2


@pytest.fixture(scope="module")
def leaf_runs(tmp_path_factory):
    rng = np.random.default_rng(11)
    members, nonmembers = make_frame(800, rng, flip=0.2), make_frame(800, rng, flip=0.2)
    out = {}
    with _home(tmp_path_factory.mktemp("leaf-home")):
        for leaf in (1, 10, 50):
            model = RandomForestClassifier(n_estimators=30, min_samples_leaf=leaf,
                                           random_state=0)
            subject = make_subject(model, members, nonmembers, fit=True)
            out[leaf] = run_membership(subject, NULL_CONFIG)
    return out


def test_more_regularisation_means_less_leakage(leaf_runs):
    aucs = {leaf: r.metric("strongest.auc") for leaf, r in leaf_runs.items()}
    assert aucs[1].value > aucs[10].value > aucs[50].value
    assert aucs[1].ci[0] > aucs[50].ci[1]  # clearly separated, not noise
    for attack in ("loss", "lira_offline", "rmia_online"):
        per = [_model_mode(leaf_runs[leaf]).loc[attack].auc for leaf in (1, 50)]
        assert per[0] > per[1], attack
    sev = {leaf: {f.id: f.severity for f in r.findings} for leaf, r in leaf_runs.items()}
    assert sev[1]["privacy.small_leaves.model"] is Severity.ATTENTION
    assert sev[50]["privacy.small_leaves.model"] is Severity.PASS
