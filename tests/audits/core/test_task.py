"""The subject knows its task (binary, multiclass, regression): inferred from the model, checked
against the target and any declaration, stated in the summary; the accessors the probes will use
per task."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from audits.core.errors import InputError
from audits.core.task import infer_task, model_task, parse_direction
from tests.task_models import subject, write_task_files

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_task_files(tmp_path_factory.mktemp("task"))


# -- inference rules ---------------------------------------------------------------------------

def test_model_task_from_scikit_learn_and_adapters(files):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    X, y3 = np.zeros((6, 1)), np.array([0, 1, 2, 0, 1, 2])
    assert model_task(DummyRegressor().fit(X, y3)) == "regression"
    assert model_task(DummyClassifier().fit(X, y3)) == "multiclass"
    assert model_task(DummyClassifier().fit(X, y3 % 2)) == "binary"
    assert model_task(object()) is None
    _, pipe = files
    assert model_task(pipe) == "multiclass"


def test_declared_task_must_match_the_model(files):
    with pytest.raises(InputError, match="declared as 'binary'.*regressor"):
        subject(files, "value.txt", "value", task="binary")
    with pytest.raises(InputError, match="not one of"):
        infer_task(object(), declared="ranking")
    assert subject(files, "value.txt", "value", task="regression").task == "regression"


def test_regression_target_must_be_numbers(files):
    with pytest.raises(InputError, match="'offer'.*text values.*regressor"):
        subject(files, "value.txt", "offer")
    with pytest.raises(InputError, match="positive label does not apply"):
        subject(files, "value.txt", "value", positive_label=1)
    with pytest.raises(InputError, match="'higher' or 'lower'"):
        subject(files, "value.txt", "value", favourable="more")


def test_binary_model_refuses_a_three_valued_target(files):
    with pytest.raises(InputError, match="3 distinct values.*binary classifier"):
        subject(files, "churn.json", "offer")


def test_scikit_learn_regressor_from_skops(files, tmp_path):
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from audits.core.loading import load_model

    d, _ = files
    members = pd.read_csv(d / "members.csv")
    pipe = Pipeline([("pre", ColumnTransformer([("region", OneHotEncoder(), ["region"])],
                                               remainder="passthrough")), ("model", Ridge())])
    pipe.fit(members[["tenure", "spend", "region"]], members["value"])
    sio.dump(pipe, d / "ridge.skops")
    trusted = sio.get_untrusted_types(file=d / "ridge.skops")
    s = subject(files, "ridge.skops", "value", trusted=trusted, favourable="lower")
    assert s.task == "regression" and s.model_format == "skops"
    assert s.recipe.origin == "model" and s.favourable_direction == "lower"
    np.testing.assert_allclose(s.predictions("members"),
                               pipe.predict(members[["tenure", "spend", "region"]]))
    sio.dump(Ridge(), tmp_path / "unfitted.skops")
    with pytest.raises(InputError, match="not fitted"):
        load_model(tmp_path / "unfitted.skops",
                   trusted=sio.get_untrusted_types(file=tmp_path / "unfitted.skops"))


def test_directions():
    assert parse_direction(" Higher ") == "higher" and parse_direction(None) is None
    assert parse_direction("") is None


# -- the accessors, per task ----------------------------------------------------------------------

def test_regression_subject(files):
    s = subject(files, "value.txt", "value", favourable="higher", decision_threshold=150.0)
    assert s.task == "regression" and s.positive_label is None and s.classes == ()
    summary = s.summary()
    assert summary["task"] == "regression" and summary["favourable_direction"] == "higher"
    assert summary["model_format"] == "lightgbm-text"
    assert summary["model_type"].startswith("LightGBM Booster (regression")
    assert summary["decision_rule"] == "prediction >= 150"
    assert summary["recipe"]["origin"] == "file"
    frame = s.frame("nonmembers")
    np.testing.assert_array_equal(s.y("nonmembers"), frame["value"].to_numpy(float))
    pred = s.model.predict(s.X("nonmembers"))
    np.testing.assert_array_equal(s.predictions("nonmembers"), pred)
    np.testing.assert_array_equal(s.scores("nonmembers"), pred)
    np.testing.assert_allclose(s.residuals("nonmembers"), frame["value"] - pred)
    np.testing.assert_array_equal(s.decisions("nonmembers"), (pred >= 150).astype(int))
    np.testing.assert_array_equal(s.favourable("nonmembers"), (pred >= 150).astype(int))
    lower = dataclasses.replace(s, favourable_direction="lower")
    np.testing.assert_array_equal(lower.favourable("nonmembers"), (pred < 150).astype(int))
    with pytest.raises(ValueError, match="no class probabilities"):
        s.proba("members")
    no_threshold = dataclasses.replace(s, decision_threshold=None)
    assert no_threshold.decision_rule.startswith("none declared")
    with pytest.raises(ValueError, match="--decision-threshold"):
        no_threshold.decisions("members")


def test_multiclass_subject_from_onnx(files):
    _, pipe = files
    s = subject(files, "offer.onnx", "offer", favourable="premium")
    assert s.task == "multiclass" and s.classes == ("basic", "plus", "premium")
    assert s.positive_label == "premium" and s.favourable_label == "premium"
    summary = s.summary()
    assert summary["classes"] == ["basic", "plus", "premium"]
    assert summary["model_format"] == "onnx" and summary["recipe"] is None
    assert "records no training recipe" in summary["recipe_note"]
    X = s.X("nonmembers")
    p = s.proba("nonmembers")
    np.testing.assert_allclose(p, pipe.predict_proba(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(s.scores("nonmembers"), p[:, 2])
    predicted = np.array(s.classes)[p.argmax(axis=1)]
    np.testing.assert_array_equal(s.predictions("nonmembers"), predicted)
    np.testing.assert_array_equal(s.favourable("nonmembers"), predicted == "premium")
    np.testing.assert_array_equal(s.y("nonmembers"),
                                  (s.frame("nonmembers")["offer"] == "premium").astype(int))
    undeclared = subject(files, "offer.onnx", "offer")
    assert undeclared.positive_label is None and undeclared.favourable_label is None
    with pytest.raises(ValueError, match="--favourable"):
        undeclared.favourable("members")
    with pytest.raises(ValueError, match="--positive-label"):
        undeclared.scores("members")
    with pytest.raises(InputError, match="multiclass classifier.*decision threshold"):
        subject(files, "offer.onnx", "offer", decision_threshold=0.5)
    with pytest.raises(InputError, match="'gold' is not one of the model's classes"):
        subject(files, "offer.onnx", "offer", favourable="gold")


def test_binary_subject_from_xgboost_keeps_the_binary_path(files):
    s = subject(files, "churn.json", "churned")
    assert s.task == "binary" and s.positive_label == 1 and s.favourable_label == 1
    X = s.X("nonmembers")
    p = s.model.predict_proba(X)
    np.testing.assert_array_equal(s.scores("nonmembers"), p[:, 1])
    np.testing.assert_array_equal(s.decisions("nonmembers"), s.model.predict(X) == 1)
    np.testing.assert_array_equal(s.predictions("nonmembers"), s.model.predict(X))
    assert s.summary()["decision_rule"] == "the model's predict()"
    assert s.summary()["classes"] == [0, 1] and s.recipe is None
    assert "XGBoost 2.0 and later" in s.recipe_note


def test_binary_scikit_learn_subject_is_unchanged(sample_subject):
    s = sample_subject("lead_scoring")
    assert s.task == "binary" and s.model_format == "skops"
    X = s.X("nonmembers")
    np.testing.assert_array_equal(s.scores("nonmembers"), s.model.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(s.decisions("nonmembers"), s.model.predict(X) == 1)
    assert s.recipe.origin == "model" and s.summary()["recipe"]["estimator"].startswith(
        "Pipeline(")
