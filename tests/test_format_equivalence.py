"""The same fitted model saved as skops, as its native booster file and as ONNX gives the same
audit (issue 14, Done when): the same fairness and privacy severities and the same top three
drivers. Predictions agree within float32 precision (tests/audits/core/test_formats.py); this
checks that the findings a board reads do too."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from audits.core.config import AuditConfig
from tests.audits.core.test_formats import _onnx_numeric

FEATURES = ["spend", "tenure", "visits", "noise"]
STRUCTURAL = ("privacy.small_leaves", "privacy.stores_training_rows")
CONFIG = dataclasses.replace(AuditConfig.light(), n_jobs=1, minimise=False, n_explain=300,
                             n_agnostic=100, n_lime_customers=30, n_lime_seeds=2,
                             lime_samples=100, proxy_models=False)


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    with threadpool_limits(1):
        yield


def rows(n, seed):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n)
    spend = rng.gamma(2, 30, n) - 15 * (group == "b")  # a proxy: group b spends less
    df = pd.DataFrame({"spend": spend.round(2), "tenure": rng.integers(1, 60, n).astype(float),
                       "visits": rng.poisson(4, n).astype(float),
                       "noise": rng.normal(size=n).round(3), "group": group,
                       "colour": rng.choice(["red", "blue"], n)})
    value = 4 * df["spend"] + 2 * df["tenure"] + 5 * df["visits"] + rng.normal(0, 20, n)
    df["value"] = value.round(2)
    df["churned"] = (value < np.median(value)).astype(int)
    return df


def three_subjects(tmp_path, library, task):
    import lightgbm as lgb
    import skops.io as sio
    import xgboost as xgb

    from audits.core.loading import load_subject
    from audits.core.recipe import TrainingRecipe

    rows(2000, 1).to_csv(tmp_path / "members.csv", index=False)
    rows(2000, 2).to_csv(tmp_path / "nonmembers.csv", index=False)
    members = pd.read_csv(tmp_path / "members.csv")
    target = "value" if task == "regression" else "churned"
    X, y = members[FEATURES], members[target]
    kw = dict(n_estimators=40, random_state=0, n_jobs=1)
    if library == "lightgbm":
        cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
        model = cls(num_leaves=15, verbose=-1, **kw).fit(X, y)
        model.booster_.save_model(str(tmp_path / "m.txt"))
        native = tmp_path / "m.txt"
    else:
        cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
        model = cls(max_depth=4, **kw).fit(X, y)
        model.save_model(tmp_path / "m.json")
        native = tmp_path / "m.json"
    sio.dump(model, tmp_path / "m.skops")
    (tmp_path / "m.onnx").write_bytes(
        _onnx_numeric(model, len(FEATURES), FEATURES, library).SerializeToString())
    from sklearn.base import clone

    recipe = TrainingRecipe(clone(model), "user", "the model's own estimator")
    out = {}
    for name, path in (("skops", tmp_path / "m.skops"), ("native", native),
                       ("onnx", tmp_path / "m.onnx")):
        s = load_subject(path, tmp_path / "members.csv", tmp_path / "nonmembers.csv",
                         target=target, sensitive=["group", "colour"],
                         trusted=sio.get_untrusted_types(file=tmp_path / "m.skops"),
                         favourable="higher" if task == "regression" else 1,
                         decision_threshold=300.0 if task == "regression" else None)
        # one recipe for all three (an ONNX graph records none): the refits are the same
        out[name] = dataclasses.replace(s, recipe=recipe, recipe_note=recipe.description)
    return out


def _audit(subject):
    from reports.build import run_audit

    report = run_audit(subject, CONFIG, probes=["fairness", "explainability", "membership"])
    # the structural checks read the model's trees (leaf sizes): an ONNX graph does not keep
    # them, so they are compared between skops and the native file only
    severities = {f.id: f.severity.value for f in report.findings
                  if f.id.startswith(("fairness.", "privacy.")) and not
                  f.id.startswith(STRUCTURAL)}
    structural = {f.id: f.severity.value for f in report.findings if f.id.startswith(STRUCTURAL)}
    imp = report.probes["explainability"].table("importance").to_frame()
    return severities, list(imp["feature"][:3]), report, structural


@pytest.mark.parametrize("library, task", [("lightgbm", "regression"), ("xgboost", "binary")])
def test_three_formats_give_the_same_audit(tmp_path, library, task):
    subjects = three_subjects(tmp_path, library, task)
    results = {name: _audit(s) for name, s in subjects.items()}
    sev, top, _, structural = results["skops"]
    assert any(v in ("fail", "attention") for k, v in sev.items() if "group" in k)
    for name in ("native", "onnx"):
        other_sev, other_top, report, other_structural = results[name]
        assert other_sev == sev, name
        assert other_top == top, name
    assert results["native"][3] == structural
    assert results["native"][2].probes["explainability"].params["explainer"] == "tree"
    assert results["onnx"][2].probes["explainability"].params["explainer"] == "permutation"
