"""Data minimisation: retrain without an input, measure the AUC it costs (GDPR Art. 5(1)(c)).

Planted truth on synthetic data: a pure-noise sensitive input costs nothing and is recommended for
removal; a strongly predictive one costs accuracy and passes with its cost stated. The planted
checks on the samples live in test_explainability.py (they reuse the probe's run).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from audits.core.config import AuditConfig
from audits.core.results import Severity
from audits.core.subject import AuditSubject
from audits.minimisation import (
    assess_minimisation,
    candidates,
    drop_column_clone,
    proxy_map,
    retrain_scores,
)

FEATURES = ["signal", "region", "noise_flag", "customer_number"]


def make_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    region = rng.choice(["North", "South", "East"], n)
    signal = rng.normal(size=n)
    logit = 1.2 * signal + 1.5 * (region == "South") - 1.0 * (region == "East")
    return pd.DataFrame({
        "signal": signal, "region": region, "noise_flag": rng.choice(["a", "b"], n),
        "customer_number": rng.integers(10_000, 99_999, n),
        "bought": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)})


def make_model() -> Pipeline:
    pre = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         ["region", "noise_flag"]),
        ("num", "passthrough", ["signal", "customer_number"])])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000))])


def make_subject(model=None) -> AuditSubject:
    rng = np.random.default_rng(5)
    members, nonmembers = make_frame(2000, rng), make_frame(2000, rng)
    model = make_model() if model is None else model
    if not hasattr(model, "classes_"):
        model.fit(members[FEATURES], members["bought"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="bought",
                        positive_label=1, feature_columns=tuple(FEATURES),
                        sensitive_fields=("region", "noise_flag"),
                        personal_columns=("customer_number",), seed=11, secret=b"test-key")


@pytest.fixture(scope="module")
def subject():
    return make_subject()


@pytest.fixture(scope="module")
def assessed(subject):
    return assess_minimisation(subject, AuditConfig(n_bootstrap=200, n_jobs=1), proxies={},
                               random_state=3)


def test_every_personal_and_sensitive_input_gets_a_measured_cost(subject, assessed):
    metrics, table, findings, notes = assessed
    assert set(candidates(subject, {})) == {"region", "noise_flag", "customer_number"}
    by_name = {m.name: m for m in metrics}
    for f in ("region", "noise_flag", "customer_number"):
        m = by_name[f"minimisation.{f}"]
        assert m.value is not None and m.ci[0] <= m.value <= m.ci[1]
    assert {r[0] for r in table.rows} == {"region", "noise_flag", "customer_number"}
    assert not notes


def test_noise_inputs_are_recommended_for_removal_and_a_predictive_one_passes(assessed):
    findings = {f.id: f for f in assessed[2]}
    for noise in ("noise_flag", "customer_number"):
        f = findings[f"explainability.minimisation.{noise}"]
        assert f.severity is Severity.ATTENTION and "Remove" in f.action
    region = findings["explainability.minimisation.region"]
    assert region.severity is Severity.PASS
    assert region.metric.ci[0] > 0.005  # the model loses real accuracy without it
    assert "costs" in region.title


def test_the_baseline_is_a_retrain_with_the_same_seed(subject):
    item = (subject.model, None, subject.X("members"), subject.members["bought"],
            subject.X("nonmembers"), 1, 3, False)
    a, b = retrain_scores(item), retrain_scores(item)
    np.testing.assert_array_equal(a["scores"], b["scores"])
    np.testing.assert_allclose(a["scores"], subject.scores("nonmembers"), atol=1e-8)


@pytest.mark.parametrize("spec", ["names", "positions", "mask", "slice"])
def test_drop_column_clone_rewrites_every_kind_of_column_list(spec):
    rng = np.random.default_rng(0)
    frame = make_frame(300, rng)
    X = frame[["signal", "customer_number"]]
    cols = {"names": ["signal", "customer_number"], "positions": [0, 1],
            "mask": [True, True]}.get(spec, slice(0, 2))
    pre = ColumnTransformer([("num", "passthrough", cols)])
    model = Pipeline([("pre", pre), ("model", LogisticRegression())]).fit(X, frame["bought"])
    clone = drop_column_clone(model, "signal", seed=0)
    assert clone.named_steps["pre"].transformers[0][2] == ["customer_number"]
    clone.fit(X.drop(columns="signal"), frame["bought"])
    assert "signal" not in clone.named_steps["pre"].feature_names_in_


def _pick_two(frame):
    return frame[["signal", "customer_number"]].to_numpy(dtype=float)


def test_a_model_that_cannot_drop_the_column_gets_the_constant_fallback():
    subject = make_subject(Pipeline([("pick", FunctionTransformer(_pick_two)),
                                     ("model", LogisticRegression())]))
    metrics, table, findings, _ = assess_minimisation(
        subject, AuditConfig(n_bootstrap=100, n_jobs=1), proxies={}, features=["signal"])
    assert "constant" in table.rows[0][2]
    assert metrics[0].value > 0.05  # signal carries the model: removing it costs AUC


class _Frozen:
    """A fitted model that cannot be cloned (no get_params)."""

    def __init__(self, inner):
        self.inner, self.classes_ = inner, inner.classes_

    def predict(self, X):
        return self.inner.predict(X)

    def predict_proba(self, X):
        return self.inner.predict_proba(X)


def test_a_model_that_cannot_be_retrained_is_not_assessed(subject):
    frozen = make_subject(_Frozen(subject.model))
    _, table, findings, notes = assess_minimisation(frozen, AuditConfig(n_bootstrap=100, n_jobs=1),
                                                    proxies={})
    assert table is None and notes
    assert {f.severity for f in findings} == {Severity.NOT_ASSESSED}
    assert len(findings) == 3


def test_sequential_equals_parallel(subject):
    config = AuditConfig(n_bootstrap=100, n_jobs=1)
    seq = assess_minimisation(subject, config, proxies={}, features=["noise_flag"])
    par = assess_minimisation(subject, AuditConfig(n_bootstrap=100, n_jobs=2), proxies={},
                              features=["noise_flag"])
    assert [m.to_dict() for m in seq[0]] == [m.to_dict() for m in par[0]]


def test_proxies_come_from_the_shared_screen_or_a_note_says_why_not(subject, monkeypatch):
    monkeypatch.setitem(sys.modules, "audits.proxies", None)  # import fails
    mapping, note = proxy_map(subject, AuditConfig(n_bootstrap=100))
    assert mapping == {} and "not available" in note
    assert candidates(subject, {"signal": ["region"]})["signal"] == "proxy for region"


# -- refitting variability ------------------------------------------------------------------------

def _forest_subject(seed: int = 1) -> AuditSubject:
    """A small random forest (a randomised recipe: each seed grows other trees) on the planted
    data, with the pure-noise sensitive input noise_flag."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    members, nonmembers = make_frame(1000, rng), make_frame(1000, rng)
    pre = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         ["region", "noise_flag"]),
        ("num", "passthrough", ["signal", "customer_number"])])
    model = Pipeline([("pre", pre), ("model", RandomForestClassifier(
        n_estimators=10, min_samples_leaf=20, random_state=0))])
    model.fit(members[FEATURES], members["bought"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="bought",
                        positive_label=1, feature_columns=tuple(FEATURES),
                        sensitive_fields=("noise_flag",), seed=seed, secret=b"test-key")


def test_a_deterministic_recipe_is_refitted_once(assessed):
    _, table, _, _ = assessed
    assert set(table.to_frame()["seeds"]) == {1}  # logistic regression: identical refits
    assert "deterministic" in table.note


def check_another_seed_family_lands_inside_the_interval(assess):
    """The cost measured with other seeds (another audit seed) must lie inside this audit's
    interval: the interval has to carry the refitting noise of a randomised recipe, not only
    the holdout's sampling noise."""
    subject = _forest_subject()
    config = AuditConfig(n_bootstrap=200, n_jobs=1)
    runs = {rs: assess(subject, config, proxies={}, features=["noise_flag"],
                       random_state=rs)[0][0] for rs in (11, 22, 33)}
    assert all(m.n == 1000 for m in runs.values())
    for a, ma in runs.items():
        for b, mb in runs.items():
            assert a == b or ma.ci[0] <= mb.value <= ma.ci[1], (a, ma.ci, b, mb.value)


def test_another_seed_family_lands_inside_the_interval():
    check_another_seed_family_lands_inside_the_interval(assess_minimisation)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: one seed, refitting variability ignored")
def test_another_seed_family_lands_inside_the_interval_fails_when_broken():
    from unittest import mock

    from audits.core.seeds import seed_family

    with mock.patch("audits.minimisation.seed_family", lambda seed, n: seed_family(seed, 1)):
        check_another_seed_family_lands_inside_the_interval(assess_minimisation)


def test_removable_is_judged_on_the_interval():
    """attention only when the whole cost interval lies below 0.005 AUC; pass when it lies
    wholly above; inconclusive when it reaches across."""
    from audits.core.results import judge

    t = AuditConfig().threshold("explainability.minimisation_cost")
    assert judge((-0.004, 0.003), t, value=0.0) is Severity.ATTENTION
    assert judge((0.006, 0.02), t, value=0.01) is Severity.PASS
    assert judge((0.001, 0.012), t, value=0.004) is Severity.INCONCLUSIVE


def test_refits_are_capped_like_the_reference_models(subject, assessed, monkeypatch):
    """Past ``reference_max_rows`` the refits train on a seeded sample of that many members and
    are scored on as many non-members (their cost stays flat with the rows, issue 15); the
    planted verdicts hold on the sample, and under the cap nothing changes."""
    import audits.minimisation as mod

    seen = []
    real = mod.retrain_scores
    monkeypatch.setattr(mod, "retrain_scores", lambda item: seen.append(
        (len(item[2]), len(item[3]), len(item[4]))) or real(item))
    config = AuditConfig(n_bootstrap=200, n_jobs=1, reference_max_rows=1500)
    metrics, table, findings, _ = assess_minimisation(subject, config, proxies={},
                                                      random_state=3)
    assert seen and set(seen) == {(1500, 1500, 1500)}
    assert all(m.n == 1500 for m in metrics)
    assert "a seeded sample of 1,500 members, scored on a seeded sample of 1,500 non-members" \
        in metrics[0].method
    severity = {f.id.rsplit(".", 1)[1]: f.severity for f in findings}
    assert severity == {"region": Severity.PASS, "noise_flag": Severity.ATTENTION,
                        "customer_number": Severity.ATTENTION}
    uncapped = assess_minimisation(subject, AuditConfig(n_bootstrap=200, n_jobs=1,
                                                        reference_max_rows=2000),
                                   proxies={}, random_state=3)
    assert [(m.value, m.ci) for m in uncapped[0]] == [(m.value, m.ci) for m in assessed[0]]
