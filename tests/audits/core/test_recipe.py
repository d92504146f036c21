"""Training recipes: rebuilt from the model file where it records its parameters (scikit-learn,
LightGBM text, XGBoost files whose scikit_learn attribute holds them), named by the user
otherwise, and refused with the file and the fix when unusable."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from audits.core.errors import InputError
from audits.core.loading import load_model
from audits.core.recipe import (
    NAMED_RECIPES,
    CategoricalBooster,
    TrainingRecipe,
    load_recipe,
    recipe_from_model,
    reseed,
)

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def rows(n: int = 1500, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"tenure": rng.gamma(2, 10, n), "spend": rng.gamma(2, 30, n).round(2),
                      "plan": rng.choice(["basic", "plus", "premium"], n)})
    value = 3 * X["spend"] + 30 * (X["plan"] == "premium") + rng.normal(0, 15, n)
    labels = {"regression": value.to_numpy(), "binary": (value > value.median()).astype(int),
              "multiclass": np.select([X["spend"] > 70, X["plan"] == "plus"], [2, 1], 0)}
    return X, labels


def test_lightgbm_file_recipe_retrains_the_same_model(tmp_path):
    """LightGBM is deterministic: the recipe rebuilt from the text file's parameters, fitted on
    the same rows, gives the model in the file back, prediction for prediction."""
    X, y = rows()
    for task in ("regression", "binary", "multiclass"):
        cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
        model = cls(n_estimators=25, num_leaves=9, learning_rate=0.08, min_child_samples=30,
                    reg_lambda=2.0, subsample=0.8, subsample_freq=1, colsample_bytree=0.9,
                    random_state=5, verbose=-1, n_jobs=1)
        model.fit(X.assign(plan=X["plan"].astype("category")), y[task])
        model.booster_.save_model(str(tmp_path / "m.txt"))
        adapter = load_model(tmp_path / "m.txt")
        recipe, note = recipe_from_model(adapter)
        assert recipe.origin == "file" and "25 boosting rounds" in note
        inner = recipe.estimator.estimator
        assert (inner.num_leaves, inner.learning_rate, inner.min_child_samples,
                inner.reg_lambda, inner.subsample, inner.n_estimators) == (9, 0.08, 30, 2.0, 0.8,
                                                                           25)
        refit = recipe.new(random_state=5).fit(X, y[task])  # the rows as read from CSV
        out = refit.predict(X) if task == "regression" else refit.predict_proba(X)
        ref = adapter.predict(X) if task == "regression" else adapter.predict_proba(X)
        np.testing.assert_array_equal(out, ref)
        if task != "regression":
            np.testing.assert_array_equal(refit.classes_, adapter.classes_)


def test_xgboost_recipe_only_where_the_file_records_parameters(tmp_path):
    X, y = rows()
    Xc = X.assign(plan=X["plan"].astype("category"))
    model = xgb.XGBClassifier(n_estimators=15, max_depth=3, learning_rate=0.2, n_jobs=1,
                              enable_categorical=True, random_state=0).fit(Xc, y["binary"])
    model.save_model(tmp_path / "bare.json")
    adapter = load_model(tmp_path / "bare.json")
    assert adapter.recipe is None and "records no training parameters" in adapter.recipe_note
    assert recipe_from_model(adapter) == (None, adapter.recipe_note)
    # the scikit-learn wrapper of XGBoost before 2.0 wrote its parameters into this attribute
    booster = model.get_booster()
    params = {k: v for k, v in model.get_params().items() if v is not None and k != "missing"}
    booster.set_attr(scikit_learn=json.dumps({"_estimator_type": "classifier", **params}))
    booster.save_model(str(tmp_path / "wrapped.json"))
    adapter = load_model(tmp_path / "wrapped.json")
    assert adapter.recipe is not None and adapter.recipe.origin == "file"
    inner = adapter.recipe.estimator.estimator
    assert (inner.max_depth, inner.learning_rate, inner.n_estimators) == (3, 0.2, 15)
    assert adapter.training_params["max_depth"] == 3
    refit = adapter.recipe.fit(X, y["binary"], random_state=0)
    np.testing.assert_allclose(refit.predict_proba(X), adapter.predict_proba(X), atol=1e-6)


def test_scikit_learn_recipe_is_a_clone(tmp_path):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=0.3).fit(rows()[0][["tenure", "spend"]], rows()[1]["binary"])
    recipe, _ = recipe_from_model(model)
    assert recipe.origin == "model" and recipe.estimator.C == 0.3
    assert not hasattr(recipe.estimator, "coef_")

    class Opaque:  # predicts, but is no estimator
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    recipe, note = recipe_from_model(Opaque())
    assert recipe is None and "cannot be cloned" in note and "name a training recipe" in note


@pytest.mark.parametrize("name", NAMED_RECIPES)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_named_recipes_fit_rows_with_text_columns(name, task):
    X, y = rows(300)
    recipe = load_recipe(name, task=task)
    assert recipe.origin == "named" and "not the audited model's own" in recipe.description
    fitted = recipe.fit(X, y[task], random_state=3)
    again = recipe.fit(X, y[task], random_state=3)
    if task == "regression":
        assert not hasattr(fitted, "predict_proba")
        np.testing.assert_array_equal(fitted.predict(X), again.predict(X))
    else:
        p = fitted.predict_proba(X)
        assert p.shape == (len(X), 2 if task == "binary" else 3)
        np.testing.assert_array_equal(p, again.predict_proba(X))  # seeded: reproducible


def test_recipe_file_from_the_user(tmp_path):
    import skops.io as sio
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = tmp_path / "recipe.skops"
    sio.dump(make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=5)), path)
    trusted = sio.get_untrusted_types(file=path)
    recipe = load_recipe(path, task="regression", trusted=trusted)
    assert recipe.origin == "user" and "recipe.skops" in recipe.description
    X, y = rows(300)
    recipe.fit(X[["tenure", "spend"]], y["regression"], random_state=1)
    if trusted:
        with pytest.raises(InputError, match="does not trust.*--trust"):
            load_recipe(path, task="regression")
    with pytest.raises(InputError, match="a regressor.*task is binary"):
        load_recipe(path, task="binary", trusted=trusted)
    sio.dump({"not": "an estimator"}, tmp_path / "dict.skops")
    with pytest.raises(InputError, match="not a scikit-learn estimator"):
        load_recipe(tmp_path / "dict.skops", task="binary")
    with pytest.raises(InputError, match="neither a file nor one of the named recipes"):
        load_recipe("gradient_magic", task="binary")
    (tmp_path / "junk.skops").write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.skops.*not a readable skops file"):
        load_recipe(tmp_path / "junk.skops", task="binary")


def test_recipe_on_load_subject(tmp_path):
    from audits.core.loading import load_subject

    X, y = rows(800)
    frame = X.assign(value=y["regression"])
    frame.iloc[:500].to_csv(tmp_path / "members.csv", index=False)
    frame.iloc[500:].to_csv(tmp_path / "holdout.csv", index=False)
    model = lgb.LGBMRegressor(n_estimators=10, verbose=-1, n_jobs=1)
    model.fit(X.iloc[:500].assign(plan=X["plan"].iloc[:500].astype("category")),
              y["regression"][:500])
    model.booster_.save_model(str(tmp_path / "m.txt"))
    args = (tmp_path / "m.txt", tmp_path / "members.csv", tmp_path / "holdout.csv")
    s = load_subject(*args, target="value")
    assert s.recipe.origin == "file"
    s = load_subject(*args, target="value", recipe="random_forest")
    assert s.recipe.origin == "named" and s.summary()["recipe"]["estimator"].startswith(
        "Pipeline(")
    with pytest.raises(InputError, match="Check the training recipe"):
        load_subject(*args, target="value", recipe="nope")


def test_reseed_and_single_thread():
    est = CategoricalBooster(lgb.LGBMClassifier(random_state=1, n_jobs=4))
    reseed(est, 7, single_thread=True)
    assert est.estimator.random_state == 7 and est.estimator.n_jobs == 1
    recipe = TrainingRecipe(est, "named", "test")
    a, b = recipe.new(random_state=11), recipe.new(random_state=12)
    assert a.estimator.random_state == 11 and b.estimator.random_state == 12
    assert est.estimator.random_state == 7  # the recipe's own estimator is never changed
