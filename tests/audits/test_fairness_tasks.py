"""Fairness of a multiclass model and of a regression: group values against fairlearn's
MetricFrame (the oracle), planted disparities found, fair models left alone, and the favourable
class and direction taken from the declaration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_absolute_error
from threadpoolctl import threadpool_limits

from audits.core.config import AuditConfig
from audits.core.results import Severity
from audits.core.subject import AuditSubject
from audits.fairness_tasks import regression_comparisons, run_fairness_tasks

FEATURES = ("x0", "x1", "x2")
CONFIG = dataclasses.replace(AuditConfig.light(), n_jobs=1, proxy_models=False)


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def frame(n, rng, *, task, shift=0.0):
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=list(FEATURES))
    df["group"] = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    df["colour"] = rng.choice(np.array(["red", "blue"], dtype=object), n)
    b = (df["group"] == "b").to_numpy()
    if task == "regression":
        df["x2"] = df["x2"] - shift * b  # a proxy: group b has lower x2
        df["y"] = 100 + 20 * df["x0"] + 15 * df["x2"] + rng.normal(0, 5, n)
    else:
        df["x0"] = df["x0"] - shift * b  # a proxy: group b has lower x0, so fewer premium offers
        z = df["x0"].to_numpy()
        df["y"] = np.select([z > 0.6, z > -0.4], ["premium", "plus"], "basic").astype(object)
    return df


def subject(model, members, nonmembers, *, task, seed=0, threshold=None):
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="y",
                        positive_label="premium" if task == "multiclass" else None,
                        feature_columns=FEATURES, sensitive_fields=("group", "colour"),
                        seed=seed, secret=b"s", name="synthetic", task=task,
                        favourable_label="premium" if task == "multiclass" else None,
                        favourable_direction="higher" if task == "regression" else None,
                        decision_threshold=threshold)


def fitted(task, members):
    model = LinearRegression() if task == "regression" else LogisticRegression(max_iter=500)
    return model.fit(members[list(FEATURES)], members["y"])


def make(task, *, seed=0, shift=0.0, threshold=None, n=3000):
    rng = np.random.default_rng(seed)
    members, nonmembers = frame(n, rng, task=task, shift=shift), frame(n, rng, task=task,
                                                                          shift=shift)
    return subject(fitted(task, members), members, nonmembers, task=task, seed=seed,
                   threshold=threshold)


def _check_regression_oracle(s, oracle_subject=None):
    oracle_subject = oracle_subject or s
    _, groups, _ = regression_comparisons(s, CONFIG, "nonmembers")
    y, pred = oracle_subject.labels("nonmembers"), oracle_subject.predictions("nonmembers")
    mf = MetricFrame(metrics={"mean_prediction": lambda yt, yp: float(np.mean(yp)),
                              "mae": mean_absolute_error,
                              "residual": lambda yt, yp: float(np.mean(yt - yp))},
                     y_true=y, y_pred=pred,
                     sensitive_features=oracle_subject.frame("nonmembers")["group"])
    mine = groups[groups["field"] == "group"].set_index("group")
    for g, row in mf.by_group.iterrows():
        for m in ("mean_prediction", "mae", "residual"):
            assert mine.loc[g, m] == pytest.approx(row[m], rel=1e-9, abs=1e-9), (g, m)
        assert mine.loc[g, "residual_low"] <= row["residual"] <= mine.loc[g, "residual_high"]


def test_regression_group_values_match_fairlearn():
    _check_regression_oracle(make("regression", seed=1))


@pytest.mark.xfail(strict=True, reason="a residual taken as prediction minus target disagrees "
                                       "with the oracle")
def test_oracle_catches_a_flipped_residual():
    s = make("regression", seed=1)
    flipped = dataclasses.replace(s, members=s.members.assign(
        y=2 * s.predictions("members") - s.labels("members")), nonmembers=s.nonmembers.assign(
        y=2 * s.predictions("nonmembers") - s.labels("nonmembers")))
    _check_regression_oracle(flipped, oracle_subject=s)


def test_regression_planted_proxy_lowers_predictions_for_one_group():
    s = make("regression", seed=2, shift=2.5, threshold=110.0)
    r = run_fairness_tasks(s, CONFIG)
    f = {x.id: x for x in r.findings}
    assert f["fairness.mean_prediction_ratio.group"].severity is Severity.FAIL
    assert "group=b" in f["fairness.mean_prediction_ratio.group"].statement
    assert f["fairness.disparate_impact.group"].severity is Severity.FAIL
    assert f["fairness.mean_prediction_ratio.colour"].severity in (Severity.PASS,
                                                                 Severity.INCONCLUSIVE)
    pairs = r.table("fairness.regression_pairs").to_frame()
    mean = pairs[(pairs["metric"] == "mean_prediction") & (pairs["field"] == "group")]
    assert (mean["ratio"] <= 1).all()  # the disadvantaged group first ("higher" is favourable)
    mae = pairs[pairs["metric"] == "mae"]
    assert (mae["ratio"] >= 1).all()  # the less accurately predicted group first


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_fair_models_raise_no_ratio_alarm(task):
    """10 fair models (the groups independent of everything): at most one with any attention
    or fail (the probe's target is at least 95% of audits without one)."""
    alarms = 0
    for seed in range(10):
        s = make(task, seed=100 + seed, n=1500,
                 threshold=100.0 if task == "regression" else None)
        r = run_fairness_tasks(s, CONFIG)
        bad = [x.id for x in r.findings if x.severity in (Severity.FAIL, Severity.ATTENTION)
               and not x.id.startswith("fairness.proxy")]
        alarms += bool(bad)
    assert alarms <= 1


def test_multiclass_judges_the_favourable_class_and_shows_every_class():
    s = make("multiclass", seed=3, shift=1.0)
    r = run_fairness_tasks(s, CONFIG)
    f = {x.id: x for x in r.findings}
    assert r.params["favourable_class"] == "premium" and r.params["task"] == "multiclass"
    assert f["fairness.disparate_impact.group"].severity is Severity.FAIL
    assert "'b'" in f["fairness.disparate_impact.group"].statement
    assert f["fairness.disparate_impact.colour"].severity is not Severity.FAIL
    classes = r.table("fairness.classes").to_frame()
    assert set(classes["class"]) == {"basic", "plus", "premium"}
    pred = s.predictions("nonmembers")
    groups = s.frame("nonmembers")["group"]
    for c in ("basic", "plus", "premium"):
        mf = MetricFrame(metrics=selection_rate, y_true=pred == c, y_pred=(pred == c).astype(int),
                         sensitive_features=groups)
        mine = classes[(classes["class"] == c) & (classes["field"] == "group")].set_index(
            "group")["selection_rate"]
        for g, v in mf.by_group.items():
            assert mine[g] == pytest.approx(v)


def test_multiclass_without_a_favourable_class_is_not_assessed():
    s = dataclasses.replace(make("multiclass", seed=4), favourable_label=None,
                            positive_label=None)
    r = run_fairness_tasks(s, CONFIG)
    assert r.status == "not_assessed" and r.findings[0].id == "fairness.favourable.none"
