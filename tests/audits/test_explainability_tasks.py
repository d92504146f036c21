"""SHAP and the explainability probe for the other tasks and formats: a regression on its
prediction's scale, a multiclass model per class (the favourable class in the report), native
TreeSHAP of XGBoost/LightGBM files against shap's own TreeExplainer (the oracle), a linear
regression's closed form, and ONNX through the permutation explainer with its budget."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from audits.core.config import AuditConfig
from audits.shap_values import explain
from tests.task_models import subject, write_task_files


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_task_files(tmp_path_factory.mktemp("explain-tasks"))


def _numeric(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    y3 = np.select([X["a"] > 0.5, X["b"] > 0], ["high", "mid"], "low")
    return X, y3, 3 * X["a"] - 2 * X["b"] + rng.normal(0, 0.1, n)


@pytest.fixture(scope="module")
def lgbm_multiclass(tmp_path_factory):
    """A LightGBM multiclass model fitted once, and the same model loaded from its text file."""
    import lightgbm as lgb

    from audits.core.formats import load_native

    X, y3, _ = _numeric(600, 0)
    est = lgb.LGBMClassifier(n_estimators=15, num_leaves=7, verbose=-1, n_jobs=1).fit(X, y3)
    path = tmp_path_factory.mktemp("lgbm") / "offer.txt"
    est.booster_.save_model(str(path))
    return est, load_native(path), X


def _native_oracle(est, X, k):
    import shap

    sv = shap.TreeExplainer(est).shap_values(X)
    sv = np.stack(sv, axis=-1) if isinstance(sv, list) else np.asarray(sv)
    return sv[:, :, k]


def _check_native_multiclass(lgbm_multiclass, label):
    est, adapter, X = lgbm_multiclass
    k = list(est.classes_).index(label)
    adapter_label = adapter.classes_[k]
    e = explain(adapter, X.iloc[:40], positive_label=adapter_label)
    assert e.explainer == "tree" and "native booster" in e.method and "before the softmax" in \
        e.method
    np.testing.assert_allclose(e.values, _native_oracle(est, X.iloc[:40], k), atol=1e-6)
    raw = est.predict(X.iloc[:40], raw_score=True)[:, k]
    np.testing.assert_allclose(e.base_value + e.values.sum(axis=1), raw, atol=1e-6)
    assert e.additivity_error < 1e-6


def test_native_treeshap_of_a_multiclass_booster_matches_shap(lgbm_multiclass):
    for label in ("low", "mid", "high"):
        _check_native_multiclass(lgbm_multiclass, label)


@pytest.mark.xfail(strict=True, reason="explaining the first class whatever the label asked "
                                       "for disagrees with shap on the others")
def test_native_oracle_catches_a_wrong_class(lgbm_multiclass, monkeypatch):
    from audits import shap_values

    monkeypatch.setattr(shap_values, "output_index", lambda model, label: 0)
    _check_native_multiclass(lgbm_multiclass, "mid")


def test_regression_native_treeshap_on_the_prediction_scale(files):
    s = subject(files, "value.txt", "value")
    X = s.X("nonmembers").iloc[:100]
    e = explain(s.model, X)
    assert e.scale == "prediction" and e.explainer == "tree"
    np.testing.assert_allclose(e.base_value + e.values.sum(axis=1), s.model.predict(X),
                               rtol=1e-6, atol=1e-6)
    # region matters (the planted -40 for South), tenure never entered the target
    imp = dict(zip(e.features, np.abs(e.values).mean(axis=0)))
    assert imp["spend"] > imp["region"] > imp["tenure"]


def test_linear_regression_closed_form():
    from sklearn.linear_model import LinearRegression

    X, _, y = _numeric(400, 1)
    est = LinearRegression().fit(X, y)
    e = explain(est, X.iloc[:20], background=X)
    assert e.explainer == "linear" and e.scale == "prediction"
    expected = (X.iloc[:20] - X.mean()).to_numpy() * est.coef_
    np.testing.assert_allclose(e.values, expected, atol=1e-8)


def test_forest_regression_and_multiclass_forest_per_class():
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    X, y3, y = _numeric(400, 2)
    reg = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    e = explain(reg, X.iloc[:30])
    assert e.scale == "prediction"
    np.testing.assert_allclose(e.output, reg.predict(X.iloc[:30]))
    assert e.additivity_error < 1e-8
    clf = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(X, y3)
    for label in clf.classes_:
        e = explain(clf, X.iloc[:30], positive_label=label)
        k = list(clf.classes_).index(label)
        np.testing.assert_allclose(e.output, clf.predict_proba(X.iloc[:30])[:, k])
        assert e.scale == "probability" and e.additivity_error < 1e-8


def test_onnx_multiclass_uses_the_permutation_explainer_with_its_budget(files):
    s = subject(files, "offer.onnx", "offer", favourable="premium")
    X = s.X("nonmembers").iloc[:5]
    e = explain(s.model, X, positive_label="premium", background=s.X("members").iloc[:30],
                max_evals=40, n_background=20)
    assert e.explainer == "permutation"
    assert "40 model evaluations per row" in e.method and "20 background" in e.method
    assert "ONNX" in e.method
    k = list(s.model.classes_).index("premium")
    np.testing.assert_allclose(e.output, s.model.predict_proba(X)[:, k], atol=1e-6)
    assert e.additivity_error < 1e-6


def _light(**kw):
    return dataclasses.replace(AuditConfig.light(), n_explain=200, n_agnostic=20,
                               n_lime_customers=30, n_lime_seeds=2, lime_samples=200,
                               minimise=False, n_jobs=1, **kw)


def test_probe_on_a_regression_explains_the_prediction(files):
    from audits.explainability import run_explainability

    s = subject(files, "value.txt", "value", favourable="higher")
    r = run_explainability(s, _light())
    assert r.status == "ok" and r.params["task"] == "regression"
    assert r.params["scale"] == "prediction" and r.params["explained_class"] is None
    importance = dict(zip(r.table("importance").to_frame()["feature"].tolist(),
                          r.table("importance").to_frame()["mean_abs_shap"].tolist()))
    assert importance["spend"] == max(importance.values())
    reasons = set(r.table("local_summary").to_frame()["reason"].tolist())
    assert reasons == {"highest prediction", "lowest prediction", "prediction nearest the median"}


def test_probe_on_a_multiclass_model_explains_the_favourable_class(files):
    from audits.explainability import run_explainability

    s = subject(files, "offer.onnx", "offer", favourable="premium")
    r = run_explainability(s, _light())
    assert r.status == "ok" and r.params["explained_class"] == "premium"
    assert any("'premium', the favourable class" in n for n in r.notes)
    # premium is decided by spend alone in the planted labels
    top = r.table("importance").to_frame()["feature"].tolist()[0]
    assert top == "spend"


def test_drilldown_explains_any_class(files):
    from audits.record_explanation import example_records, explain_record

    s = subject(files, "offer.onnx", "offer", favourable="premium")
    pid = example_records(s, n=1)[0]
    scores = {}
    for label in ("basic", "plus", "premium"):
        _, summary = explain_record(s, _light(), pid, explainer="permutation", n_lime_seeds=2,
                                    lime_samples=100, label=label)
        scores[label] = summary.to_frame()["score"].iloc[0]
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-6)
    from audits.core.errors import InputError

    with pytest.raises(InputError, match="not one of the model's classes"):
        explain_record(s, _light(), pid, label="gold")

