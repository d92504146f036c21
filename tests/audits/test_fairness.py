"""The fairness probe end to end: planted truth, a null model's false-alarm rate, invariance,
small groups and suppression, the what-if scenario, and its inputs."""

from __future__ import annotations

import dataclasses
import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import ProbeResult, Severity
from audits.core.subject import AuditSubject
from audits.fairness import run_fairness
from audits.mitigation import WHATIF_TITLE

FAST = AuditConfig(n_bootstrap=200)


def _sev(result: ProbeResult) -> dict[str, str]:
    return {f.id: f.severity.value for f in result.findings}


def _rows(table) -> list[dict]:
    """A table's rows as dicts of the stored values (None stays None, unlike a DataFrame)."""
    return [dict(zip(table.columns, r)) for r in table.rows]


# -- planted truth ---------------------------------------------------------------------------

def _planted_frame(rng, n, small=0):
    """Ethnicity A/B lives mostly in its own district; the label (and so the model) favours
    district d-A. Gender is random and a model input. ``small`` rows of a group C in d-B."""
    eth = rng.choice(["A", "B"], n)
    district = np.where(rng.random(n) < 0.9, np.char.add("d-", eth),
                        np.where(eth == "A", "d-B", "d-A")).astype(object)
    gender = rng.choice(["f", "m"], n).astype(object)
    tenure = rng.gamma(2.0, 10.0, n)
    y = (rng.random(n) < np.where(district == "d-A", 0.65, 0.2)).astype(int)
    df = pd.DataFrame({"district": district, "gender": gender, "tenure": tenure,
                       "ethnicity": eth.astype(object), "churned": y})
    if small:
        extra = pd.DataFrame({"district": ["d-B"] * small, "gender": ["f", "m"] * (small // 2),
                              "tenure": rng.gamma(2.0, 10.0, small), "ethnicity": ["C"] * small,
                              "churned": [1, 1, 1] + [0] * (small - 3)})
        df = pd.concat([df, extra], ignore_index=True)
    return df


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    members, nonmembers = _planted_frame(rng, 3000), _planted_frame(rng, 4000, small=12)
    features = ("district", "gender", "tenure")
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["district", "gender"]),
                                                  remainder="passthrough"),
                          LogisticRegression(max_iter=500))
    model.fit(members[list(features)], members["churned"])
    subject = AuditSubject(model=model, members=members, nonmembers=nonmembers,
                           target="churned", positive_label=1, feature_columns=features,
                           sensitive_fields=("ethnicity", "gender"), seed=0,
                           favourable_action="offered a retention discount")
    stages = []
    result = run_fairness(subject, AuditConfig(), progress=lambda s, f: stages.append((s, f)))
    return subject, result, stages


def test_planted_proxy_discrimination_fails_and_the_proxy_is_named(planted):
    _, result, _ = planted
    sev = _sev(result)
    assert sev["fairness.disparate_impact.ethnicity"] == "fail"
    assert sev["fairness.proxy.district__ethnicity"] == "attention"
    assert sev["fairness.disparate_impact.gender"] == "pass"
    assert "fairness.proxy.tenure__ethnicity" not in sev
    di = next(f for f in result.findings if f.id == "fairness.disparate_impact.ethnicity")
    assert "'B'" in di.statement and "'A'" in di.statement
    assert "offered a retention discount" in di.statement
    assert di.metric.ci[1] < 0.8 and di.threshold.name == "fairness.selection_rate_ratio"
    assert "simultaneous" in di.metric.method and "Westfall & Young" in di.metric.method
    assert f"{di.metric.value:.2f}" in di.statement


def test_sensitive_field_used_as_input_needs_a_justification(planted):
    _, result, _ = planted
    f = next(f for f in result.findings if f.id == "fairness.sensitive_input.gender")
    assert f.severity == Severity.ATTENTION and "GDPR Art. 9" in f.statement
    assert "fairness.sensitive_input.ethnicity" not in _sev(result)


def test_group_of_twelve_is_not_assessed_shown_and_small_counts_suppressed(planted):
    _, result, _ = planted
    groups = _rows(result.table("fairness.groups"))
    c = next(r for r in groups if r["field"] == "ethnicity" and r["group"] == "C")
    assert c["n"] == 12 and c["status"].startswith("too small to judge")
    assert c["n_positive_label"] is None and c["n_favourable"] is None  # 3 and few: suppressed
    assert c["selection_rate"] is None
    assert "suppressed" in result.table("fairness.groups").note
    f = next(f for f in result.findings if f.id == "fairness.groups.ethnicity")
    assert f.severity == Severity.NOT_ASSESSED and "'C' (12 rows)" in f.statement
    for t in result.tables:  # no count under 10 is printed anywhere
        for row in _rows(t):
            for col in ("n", "n_positive_label", "n_favourable", "rows"):
                assert row.get(col) is None or row[col] >= 10, (t.name, col)
    inter = {r["group"]: r for r in groups if r["field"] == "ethnicity*gender"}
    assert inter["C & f"]["n"] is None and inter["C & m"]["n"] is None  # 6 rows each
    assert inter["C & f"]["status"].startswith("too small to judge")


def test_tables_metrics_params_and_json(planted):
    _, result, stages = planted
    assert result.probe == "fairness" and result.area == "fairness" and result.status == "ok"
    names = {t.name for t in result.tables}
    assert names == {"fairness.summary", "fairness.groups", "fairness.disparities",
                     "fairness.subgroup_performance", "fairness.proxies", "fairness.whatif"}
    assert result.params["part"] == "nonmembers"
    assert result.params["fields"] == ["ethnicity", "gender", "ethnicity*gender"]
    assert result.metric("demographic_parity_ratio.ethnicity").ci is not None
    assert result.metric("disparate_impact.ethnicity").value < 0.8
    ids = [f.id for f in result.findings]
    assert len(ids) == len(set(ids))
    assert ProbeResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert stages[0][1] == 0.0 and stages[-1] == ("done", 1.0)
    assert all(0 <= f <= 1 for _, f in stages)
    disp = result.table("fairness.disparities").to_frame()
    assert set(disp["metric"]) == {"selection_rate", "tpr", "fpr", "fnr", "precision", "auc",
                                   "calibration_error"}
    ok = disp.dropna(subset=["ratio_low"])
    assert (ok["ratio_low"] <= ok["ratio"]).all() and (ok["ratio"] <= ok["ratio_high"]).all()


def test_group_table_equals_fairlearn_metricframe(planted):
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import precision_score

    subject, result, _ = planted
    y, d = subject.y("nonmembers"), subject.decisions("nonmembers")
    sf = subject.nonmembers["ethnicity"].to_numpy()
    mf = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                              "fpr": false_positive_rate, "fnr": false_negative_rate,
                              "precision": partial(precision_score, zero_division=0)},
                     y_true=y, y_pred=d, sensitive_features=sf)
    ours = {r["group"]: r for r in _rows(result.table("fairness.groups"))
            if r["field"] == "ethnicity" and r["status"] in ("assessed", "reference")}
    assert set(ours) == {"A", "B"}
    for g in ("A", "B"):
        for m in ("selection_rate", "tpr", "fpr", "fnr", "precision"):
            assert ours[g][m] == pytest.approx(mf.by_group.loc[g, m], abs=1e-12)
    big = sf != "C"  # the probe's aggregates are over the assessed groups
    assert result.metric("demographic_parity_difference.ethnicity").value == pytest.approx(
        demographic_parity_difference(y[big], d[big], sensitive_features=sf[big]))
    assert result.metric("equalized_odds_difference.ethnicity").value == pytest.approx(
        equalized_odds_difference(y[big], d[big], sensitive_features=sf[big]))


def test_whatif_is_a_labelled_scenario_that_changes_no_finding(planted):
    subject, result, _ = planted
    t = result.table("fairness.whatif")
    assert t.title.startswith(WHATIF_TITLE)
    frame = t.to_frame()
    assert list(frame["scenario"]) == ["before: audited decisions",
                                       "after: demographic parity thresholds",
                                       "after: equalized odds thresholds"]
    assert frame.loc[1, "dp_ratio"] > frame.loc[0, "dp_ratio"]
    assert {"selection_rate[A]", "selection_rate[B]"} <= set(frame.columns)
    assert "selection_rate[C]" not in frame.columns  # too small to judge: not used
    without = run_fairness(subject, dataclasses.replace(AuditConfig(), whatif=False))
    assert without.findings == result.findings


def test_whatif_failure_is_skipped_with_a_note(planted, monkeypatch):
    import audits.mitigation

    def boom(*a, **k):
        raise ValueError("cannot fit")
    monkeypatch.setattr(audits.mitigation, "mitigation_whatif", boom)
    subject, result, _ = planted
    again = run_fairness(subject, dataclasses.replace(FAST, proxy_models=False))
    assert "fairness.whatif" not in {t.name for t in again.tables}
    assert any("skipped" in n and "cannot fit" in n for n in again.notes)


# -- null model: false alarms ----------------------------------------------------------------

def _null_frame(rng, n):
    x = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * x[:, 0] - 0.4 * x[:, 1])))).astype(int)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "region": rng.choice(list("NESW"), n),
                         "segment": rng.choice(["retail", "business"], n), "y": y})


@pytest.fixture(scope="module")
def null_model():
    train = _null_frame(np.random.default_rng(99), 2000)
    return LogisticRegression().fit(train[["x1", "x2"]].to_numpy(), train["y"]), train


class _OnX:
    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(X[["x1", "x2"]].to_numpy())

    def predict(self, X):
        return self.model.predict(X[["x1", "x2"]].to_numpy())


def test_fair_model_raises_no_false_alarms(null_model):
    """Decisions independent of two random fields (4 groups, 2 groups, 8 intersections): over 24
    seeds the share of audits with a fail or an attention stays near 5% (at most 2 of 24: one
    simultaneous band per probe keeps the family-wise rate at 5%, and attention needs the
    estimate beyond a bound too). 24 light runs take a few seconds; the full table is
    bench/bench_validity.py."""
    model, train = null_model
    fails = attentions = 0
    for seed in range(24):
        rng = np.random.default_rng(seed)
        subject = AuditSubject(model=_OnX(model), members=train, nonmembers=_null_frame(rng,
                                                                                        50_000),
                               target="y", positive_label=1, feature_columns=("x1", "x2"),
                               sensitive_fields=("region", "segment"), seed=seed)
        sev = _sev(run_fairness(subject, dataclasses.replace(FAST, whatif=False,
                                                             proxy_models=False)))
        checks = ("disparate_impact", "error_rate_parity", "subgroup_performance")
        assert set(sev) >= {f"fairness.{c}.{f}" for c in checks
                            for f in ("region", "segment", "region*segment")}
        fails += "fail" in sev.values()
        attentions += "attention" in sev.values()
    assert fails <= 2
    assert attentions <= 2


# -- invariance and inputs -------------------------------------------------------------------

def _small_subject(seed=0, order=None, part_rows=2500, **kw):
    rng = np.random.default_rng(42)
    members, nonmembers = _planted_frame(rng, 1500), _planted_frame(rng, part_rows)
    if order is not None:
        nonmembers = nonmembers.iloc[order(len(nonmembers))].reset_index(drop=True)
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["district"]),
                                                  remainder="passthrough"),
                          LogisticRegression(max_iter=500))
    model.fit(members[["district", "tenure"]], members["churned"])
    args = dict(model=model, members=members, nonmembers=nonmembers, target="churned",
                positive_label=1, feature_columns=("district", "tenure"),
                sensitive_fields=("ethnicity", "gender"), seed=seed)
    return AuditSubject(**(args | kw))


def _comparable(result):
    """Everything but the proxy screen's cross-validated powers (and the statements that
    quote them)."""
    d = result.to_dict()
    d["tables"] = [t for t in d["tables"] if t["name"] != "fairness.proxies"]
    for f in d["findings"]:
        if f["id"].startswith("fairness.proxy."):
            f["statement"] = None
    return d


def test_row_order_changes_nothing():
    """Every group table, disparity, interval and finding is a function of counts; only the
    proxy screen's cross-validated powers depend on the split of rows into folds."""
    a = run_fairness(_small_subject(), dataclasses.replace(FAST, whatif=False, proxy_models=False))
    shuffled = _small_subject(order=lambda n: np.random.default_rng(5).permutation(n))
    b = run_fairness(shuffled, dataclasses.replace(FAST, whatif=False, proxy_models=False))
    assert _comparable(a) == _comparable(b)
    pa, pb = a.table("fairness.proxies").to_frame(), b.table("fairness.proxies").to_frame()
    pd.testing.assert_frame_equal(pa.drop(columns="feature_power"),
                                  pb.drop(columns="feature_power"))


def test_same_seed_same_result_and_seed_matters():
    a = run_fairness(_small_subject(seed=1), dataclasses.replace(FAST, proxy_models=False))
    b = run_fairness(_small_subject(seed=1), dataclasses.replace(FAST, proxy_models=False))
    c = run_fairness(_small_subject(seed=2), dataclasses.replace(FAST, proxy_models=False))
    assert a.to_dict() == b.to_dict()
    assert a.metric("disparate_impact.ethnicity").ci != c.metric("disparate_impact.ethnicity").ci
    assert a.metric("disparate_impact.ethnicity").value == \
        c.metric("disparate_impact.ethnicity").value


def test_no_sensitive_fields_is_not_assessed():
    result = run_fairness(_small_subject(sensitive_fields=()), FAST)
    assert result.status == "not_assessed"
    assert [(f.id, f.severity) for f in result.findings] == [
        ("fairness.sensitive_fields.none", Severity.NOT_ASSESSED)]
    assert "No sensitive fields were given" in result.findings[0].statement


def test_members_part_and_configured_reference():
    subject = _small_subject()
    result = run_fairness(subject, dataclasses.replace(FAST, fairness_part="members", whatif=False,
                                                       proxy_models=False,
                                                       reference_groups={"ethnicity": "B"}))
    assert result.params["part"] == "members"
    assert result.params["reference_groups"]["ethnicity"] == "B"
    assert result.params["configured_reference_groups"] == {"ethnicity": "B"}
    groups = result.table("fairness.groups").to_frame()
    assert groups.loc[groups["field"] == "ethnicity", "n"].sum() == len(subject.members)
    disp = result.table("fairness.disparities").to_frame()
    judged = disp[(disp["field"] == "ethnicity") & (disp["family"] != "shown")]
    assert len(judged) and (judged[["group", "reference"]] == "B").any(axis=1).all()
    f = next(f for f in result.findings if f.id == "fairness.disparate_impact.ethnicity")
    assert "'B'" in f.statement and f.metric.value < 1  # B is the less often selected
    with pytest.raises(InputError, match="valid"):
        run_fairness(subject, dataclasses.replace(FAST, reference_groups={"age": "x"}))
    with pytest.raises(InputError, match="its groups"):
        run_fairness(subject, dataclasses.replace(FAST, whatif=False,
                                                  reference_groups={"ethnicity": "Z"}))
    with pytest.raises(InputError, match="part"):
        run_fairness(subject, dataclasses.replace(FAST, fairness_part="holdout"))


def test_field_with_only_small_groups_is_not_assessed():
    subject = _small_subject(part_rows=50, sensitive_fields=("gender",))
    result = run_fairness(subject, dataclasses.replace(FAST, proxy_models=False))
    sev = _sev(result)
    assert sev["fairness.groups.gender"] == "not_assessed"
    assert sev["fairness.disparate_impact.gender"] == "not_assessed"
    assert sev["fairness.error_rate_parity.gender"] == "not_assessed"
    assert sev["fairness.subgroup_performance.gender"] == "not_assessed"
    assert any("skipped" in n for n in result.notes)  # the what-if has nothing to compare


def test_numeric_field_is_banded_and_unfavourable_positive_label():
    """A churn score whose favourable decision is 'not flagged' (label 0): selection rates are
    those of the negative decisions; age is banded with the configured bands."""
    rng = np.random.default_rng(3)
    members, nonmembers = _planted_frame(rng, 1500), _planted_frame(rng, 3000)
    for f in (members, nonmembers):
        f["age"] = rng.integers(18, 90, len(f))
    model = LogisticRegression().fit(members[["tenure"]], members["churned"])

    class OnTenure:
        classes_ = model.classes_

        def predict_proba(self, X):
            return model.predict_proba(X[["tenure"]])

        def predict(self, X):
            return model.predict(X[["tenure"]])

    subject = AuditSubject(model=OnTenure(), members=members, nonmembers=nonmembers,
                           target="churned", positive_label=1, favourable_label=0,
                           feature_columns=("tenure",), sensitive_fields=("age",), seed=0)
    result = run_fairness(subject, dataclasses.replace(FAST, proxy_models=False))
    groups = result.table("fairness.groups").to_frame()
    assert list(groups["group"]) == ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    fav = 1 - subject.decisions("nonmembers")
    banded = pd.cut(nonmembers["age"], [18, 25, 35, 45, 55, 65, np.inf], right=False)
    expected = pd.Series(fav).groupby(banded.to_numpy(), observed=True).mean().to_numpy()
    np.testing.assert_allclose(groups["selection_rate"].astype(float), expected)
    assert "fairness.whatif" in {t.name for t in result.tables}
