"""The reference-model pool: keep matrix, splits, reproducibility, parallelism, cache, and the
models it cannot retrain."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from attacks.pool import (
    POPULATION,
    REPORTING,
    SELECTION,
    PoolUnavailable,
    build_pool,
    keep_matrix,
    membership_records,
)
from attacks.pool_cache import get_pool
from attacks.privacy_probe import run_membership, run_memorisation
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.results import Severity
from tests.attacks.privacy_data import Unclonable, make_frame, make_subject

LIGHT = AuditConfig(n_reference_models=4, n_bootstrap=100, n_jobs=1)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path))
    return tmp_path


def _forest_subject(seed=0, n=300):
    rng = np.random.default_rng(seed)
    return make_subject(RandomForestClassifier(n_estimators=10, random_state=5, n_jobs=2),
                        make_frame(n, rng, flip=0.2), make_frame(n, rng, flip=0.2), fit=True,
                        seed=seed)


def test_keep_matrix_puts_every_record_in_exactly_half_the_models():
    keep = keep_matrix(8, 5000, np.random.default_rng(0))
    assert np.all(keep.sum(axis=0) == 4)
    assert abs(keep.sum(axis=1).mean() - 2500) < 1e-9
    assert np.all(np.abs(keep.sum(axis=1) - 2500) < 200)  # rows are random halves


def test_record_splits_are_disjoint_and_documented():
    subject = _forest_subject()
    rec = membership_records(subject, LIGHT)
    assert not rec.is_member[rec.role == POPULATION].any()  # population: non-members only
    for member in (True, False):
        rows = rec.row[rec.is_member == member]
        assert len(set(rows)) == rows.size  # each row once
    sizes = rec.params["sizes"]
    assert sizes["population"] == 75 and sizes["member_selection"] == 150
    assert {SELECTION, REPORTING, POPULATION} == set(np.unique(rec.role))


def test_pool_has_in_and_out_models_for_every_target_and_none_for_the_population(home):
    pool = build_pool(_forest_subject(), LIGHT, k=4)
    t = pool.records.targets
    assert np.all(pool.keep[:, t].sum(axis=0) == 2)
    assert not pool.keep[:, ~t].any()
    assert pool.ref_p.shape == (4, t.size) and np.all((pool.ref_p >= 0) & (pool.ref_p <= 1))


def test_same_seed_same_pool_and_scores(home):
    a = build_pool(_forest_subject(), LIGHT, k=4)
    b = build_pool(_forest_subject(), LIGHT, k=4)
    assert np.array_equal(a.ref_p, b.ref_p) and np.array_equal(a.keep, b.keep)
    subject = _forest_subject()
    other = build_pool(dataclasses.replace(subject, seed=1), LIGHT, k=4)
    assert not np.array_equal(a.keep, other.keep)
    r1 = run_membership(_forest_subject(), LIGHT).to_dict()
    r2 = run_membership(_forest_subject(), LIGHT).to_dict()  # second: from the disk cache
    assert r1 == r2


def test_sequential_equals_parallel(home):
    seq = build_pool(_forest_subject(), LIGHT, k=4)
    par = build_pool(_forest_subject(), dataclasses.replace(LIGHT, n_jobs=2), k=4)
    assert np.array_equal(seq.ref_p, par.ref_p) and np.array_equal(seq.keep, par.keep)


def test_the_audited_model_is_not_modified(home):
    subject = _forest_subject()
    before = subject.model.predict_proba(subject.X("nonmembers"))
    params = subject.model.get_params()
    build_pool(subject, LIGHT, k=4)
    assert np.array_equal(before, subject.model.predict_proba(subject.X("nonmembers")))
    assert subject.model.get_params() == params


def test_pool_is_built_once_per_audit_and_cached_on_disk(home):
    subject = _forest_subject()
    cache = RunCache()
    first = get_pool(subject, LIGHT, cache=cache)
    assert first is get_pool(subject, LIGHT, cache=cache)  # built once per run
    files = list((home / "cache" / "pools").glob("*.npz"))
    assert len(files) == 1
    again = get_pool(_forest_subject(), LIGHT)  # a new audit of the same model and data
    assert again.params["cache"] == "hit"
    assert np.array_equal(first.ref_p, again.ref_p) and np.array_equal(first.keep, again.keep)


def test_a_model_that_cannot_be_refitted_still_gets_loss_and_gap(home):
    rng = np.random.default_rng(2)
    members = make_frame(300, rng)
    inner = LogisticRegression().fit(members[["x0", "x1", "x2", "x3", "x4"]], members["y"])
    subject = make_subject(Unclonable(inner), members, make_frame(300, rng))
    with pytest.raises(PoolUnavailable, match="cannot be cloned"):
        get_pool(subject, LIGHT)
    result = run_membership(subject, LIGHT)
    attacks = set(result.table("attacks").to_frame()["attack"])
    assert attacks == {"loss", "gap"}
    ids = {f.id: f for f in result.findings}
    assert ids["privacy.reference_attacks.model"].severity is Severity.NOT_ASSESSED
    assert "cannot be cloned" in ids["privacy.reference_attacks.model"].statement
    assert ids["privacy.membership_inference.strongest"].severity is not Severity.NOT_ASSESSED
    mem = run_memorisation(subject, LIGHT)
    assert mem.status == "not_assessed"
    assert mem.findings[0].severity is Severity.NOT_ASSESSED


def test_a_model_that_stores_training_rows_fails(home):
    rng = np.random.default_rng(4)
    subject = make_subject(KNeighborsClassifier(n_neighbors=1), make_frame(300, rng),
                           make_frame(300, rng), fit=True)
    result = run_membership(subject, LIGHT)
    ids = {f.id: f for f in result.findings}
    assert ids["privacy.stores_training_rows.model"].severity is Severity.FAIL
    assert ids["privacy.membership_inference.strongest"].severity is Severity.FAIL
    assert result.params["risk_level"] == "critical"


def test_a_lightgbm_model_is_pooled_and_its_leaves_read(home):
    from lightgbm import LGBMClassifier

    rng = np.random.default_rng(6)
    model = LGBMClassifier(n_estimators=30, min_child_samples=2, verbose=-1, random_state=1)
    subject = make_subject(model, make_frame(300, rng), make_frame(300, rng), fit=True)
    result = run_membership(subject, LIGHT)
    assert "lira_online" in set(result.table("attacks").to_frame()["attack"])
    ids = {f.id: f for f in result.findings}
    assert ids["privacy.small_leaves.model"].severity is Severity.ATTENTION
    assert "min_child_samples = 2" in ids["privacy.small_leaves.model"].statement


def test_small_leaves_of_a_fully_grown_forest_need_attention(home):
    result = run_membership(_forest_subject(), LIGHT)
    ids = {f.id: f for f in result.findings}
    assert ids["privacy.small_leaves.model"].severity is Severity.ATTENTION
