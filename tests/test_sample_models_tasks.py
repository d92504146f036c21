"""Planted-truth tests for the samples of the other tasks and formats (customer_value: a LightGBM
regression; next_best_offer: a multiclass pipeline shipped as skops and ONNX), measured directly
on the built files, and the files loaded through the tool's own loader."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from threadpoolctl import threadpool_limits

from sample_models import _kinds, _offers, _value
from sample_models import generate as g

MANIFEST_KEYS = {
    "name", "description", "generator_version", "seed", "task", "target", "positive_label",
    "favourable_label", "favourable_direction", "decision_threshold", "favourable_action",
    "sensitive_fields", "personal_columns", "quasi_identifiers", "id_column", "feature_columns",
    "model_file", "model_files", "trusted_types", "rows", "planted_effects", "expected_findings"}


@pytest.fixture(scope="session")
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp("task-samples")
    g.build_samples(g.PHASE_B_SAMPLES, out_dir=out)
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


class Sample:
    def __init__(self, root, name):
        self.name, self.folder = name, root / name
        self.manifest = json.loads((self.folder / "manifest.json").read_text())
        self.members = pd.read_csv(self.folder / "members.csv")
        self.nonmembers = pd.read_csv(self.folder / "nonmembers.csv")
        self.features = self.manifest["feature_columns"]
        self.target = self.manifest["target"]

    def effect(self, effect_id):
        return next(e for e in self.manifest["planted_effects"] if e["id"] == effect_id)

    def expected(self):
        return {f["finding_id"]: f["severity"] for f in self.manifest["expected_findings"]}

    def subject(self, model_file=None, **kw):
        from audits.core.loading import load_subject

        m = self.manifest
        favourable = m["favourable_label"] if m["task"] != "regression" else \
            m["favourable_direction"]
        return load_subject(
            self.folder / (model_file or m["model_file"]), self.folder / "members.csv",
            self.folder / "nonmembers.csv", target=self.target,
            sensitive=m["sensitive_fields"], personal=m["personal_columns"],
            quasi_identifiers=m["quasi_identifiers"], trusted=m["trusted_types"],
            favourable=favourable, decision_threshold=m["decision_threshold"],
            favourable_action=m["favourable_action"], id_column=m["id_column"],
            name=self.name, **kw)


@pytest.fixture(scope="session")
def samples(root):
    return {name: Sample(root, name) for name in g.PHASE_B_SAMPLES}


def bootstrap_ratio(values, groups, group, reference, rng, n_boot=1000):
    """Mean of ``values`` in ``group`` over ``reference``, with a stratified bootstrap 95%
    interval."""
    a = np.asarray(values, dtype=float)[np.asarray(groups) == group]
    b = np.asarray(values, dtype=float)[np.asarray(groups) == reference]
    ratios = rng.choice(a, (n_boot, len(a))).mean(axis=1) / \
        rng.choice(b, (n_boot, len(b))).mean(axis=1)
    return a.mean() / b.mean(), np.percentile(ratios, [2.5, 97.5])


# -- registered apart from the binary samples ------------------------------------------------------

def test_phase_b_samples_are_in_the_audited_list(root, tmp_path, monkeypatch):
    from reports.source import SAMPLE_NAMES

    assert set(g.PHASE_B_SAMPLES) <= set(g.SAMPLE_NAMES)
    assert set(g.PHASE_B_SAMPLES) <= set(SAMPLE_NAMES)
    assert g.SAMPLE_NAMES == g.BINARY_SAMPLES + g.PHASE_B_SAMPLES
    assert g.sample_dir("customer_value").name == "customer_value"
    for name in g.PHASE_B_SAMPLES:
        assert g.is_built(name, out_dir=root)
        assert not g.is_built(name, out_dir=root, seed=g.DEFAULT_SEED + 1)
        assert not g.is_built(name, out_dir=tmp_path)
    built = []  # the default build (make install, the app) builds every sample
    monkeypatch.setattr(g, "build_sample", lambda n, **kw: built.append(n) or tmp_path / n)
    g.build_samples(out_dir=tmp_path, force=True)
    assert built == list(g.SAMPLE_NAMES)


@pytest.mark.parametrize("name", g.PHASE_B_SAMPLES)
def test_manifest_describes_the_files(samples, name):
    s = samples[name]
    m = s.manifest
    assert MANIFEST_KEYS <= set(m)
    assert m["name"] == name and m["seed"] == g.DEFAULT_SEED
    assert m["generator_version"] == _kinds.VERSION
    assert m["rows"] == {"members": len(s.members), "nonmembers": len(s.nonmembers)}
    for fmt, file in m["model_files"].items():
        assert (s.folder / file).is_file(), fmt
    assert m["model_file"] == next(iter(m["model_files"].values()))
    columns = set(s.members.columns)
    for key in ("sensitive_fields", "personal_columns", "quasi_identifiers", "feature_columns"):
        assert set(m[key]) <= columns, key
    assert not set(m["personal_columns"]) & set(m["feature_columns"])
    assert not set(m["sensitive_fields"]) & set(m["feature_columns"])
    ids = m["id_column"]
    assert s.members[ids].is_unique and not set(s.members[ids]) & set(s.nonmembers[ids])
    assert list(s.members.columns) == list(s.nonmembers.columns)
    assert not s.members.isna().any().any() and not s.nonmembers.isna().any().any()
    emails = pd.concat([s.members["email"], s.nonmembers["email"]])
    assert emails.is_unique
    assert emails.str.fullmatch(r"[a-z]+\.[a-z]+\d*@([a-z]+\.example|example\.(com|org|net))").all()
    for finding in m["expected_findings"]:
        assert finding["severity"] in {"fail", "attention", "pass", "not fail"}
        assert len(finding["finding_id"].split(".")) == 3 and finding["why"]
    for effect in m["planted_effects"]:
        assert {"id", "description", "measured"} <= set(effect)


@pytest.mark.parametrize("name", g.PHASE_B_SAMPLES)
def test_same_seed_same_files_and_predictions(samples, name):
    s = samples[name]
    members, nonmembers = g.generate_data(name, seed=g.DEFAULT_SEED)
    assert members.to_csv(index=False) == (s.folder / "members.csv").read_text()
    assert nonmembers.to_csv(index=False) == (s.folder / "nonmembers.csv").read_text()
    again = pd.read_csv(io.StringIO(s.members.to_csv(index=False)))
    pd.testing.assert_frame_equal(again[s.features], s.members[s.features])
    model = g.train_model(name, s.members, seed=g.DEFAULT_SEED)
    subject = s.subject()
    X = s.nonmembers[s.features]
    if name == "customer_value":
        expected = _kinds.predictor(name, model, s.members)(X)
        np.testing.assert_array_equal(subject.predictions("nonmembers"), expected)
    else:
        np.testing.assert_array_equal(subject.proba("nonmembers"), model.predict_proba(X))


# -- the files through the tool's loader -----------------------------------------------------------

def test_customer_value_is_a_native_lightgbm_regression(samples):
    s = samples["customer_value"]
    subject = s.subject()
    summary = subject.summary()
    assert summary["task"] == "regression" and summary["model_format"] == "lightgbm-text"
    assert summary["favourable_direction"] == "higher"
    assert summary["decision_rule"] == f"prediction >= {_value.THRESHOLD:g}"
    assert subject.model.booster is not None  # exact TreeSHAP stays reachable
    assert subject.recipe is not None and subject.recipe.origin == "file"
    assert set(subject.model.categories) == {"main_category", "acquisition_channel",
                                             "postcode_region"}


def test_next_best_offer_onnx_equals_the_skops_pipeline(samples):
    s = samples["next_best_offer"]
    skops, onnx = s.subject(), s.subject("model.onnx")
    assert skops.task == onnx.task == "multiclass"
    assert skops.classes == onnx.classes == ("basic_plan", "premium_bundle", "standard_plan")
    assert onnx.summary()["model_format"] == "onnx" and onnx.recipe is None
    for part in ("members", "nonmembers"):
        np.testing.assert_allclose(onnx.proba(part), skops.proba(part), rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(onnx.predictions(part), skops.predictions(part))
    agreement = s.manifest["onnx_agreement"]
    assert agreement["share_rows_beyond_relative_1e-5"] == 0.0
    assert agreement["share_predicted_class_changed"] == 0.0


# -- planted truth: customer_value ---------------------------------------------------------------

def test_customer_value_category_is_a_proxy_for_gender(samples):
    s = samples["customer_value"]
    both = pd.concat([s.members, s.nonmembers])
    v = g.cramers_v(both["main_category"], both["gender"])
    assert 0.5 < v < 0.9
    assert s.effect("category_proxy_for_gender")["measured"]["cramers_v_bias_corrected"] == \
        pytest.approx(v, abs=1e-4)
    assert "main_category" in s.features and not {"gender", "ethnicity"} & set(s.features)
    assert s.expected()["fairness.proxy.main_category__gender"] == "attention"


def test_customer_value_predicts_less_for_women(samples):
    s = samples["customer_value"]
    pred = s.subject().predictions("nonmembers")
    gender = s.nonmembers["gender"].to_numpy()
    ratio, (lo, hi) = bootstrap_ratio(pred, gender, "female", "male", np.random.default_rng(0))
    assert hi < 0.8  # the whole interval below the four-fifths band
    measured = s.effect("lower_predictions")["measured"]
    assert measured["mean_prediction_ratio"] == pytest.approx(ratio, abs=1e-4)
    chosen = pred >= s.manifest["decision_threshold"]
    rates = pd.Series(chosen).groupby(gender).mean()
    assert rates["female"] / rates["male"] < 0.7
    assert measured["selection_rate_ratio"] == pytest.approx(rates["female"] / rates["male"],
                                                             abs=1e-4)
    recorded = s.effect("under_recorded_value")["measured"]
    true = recorded["true_mean_value_by_gender"]
    assert abs(true["female"] / true["male"] - 1) < 0.05  # true value does not depend on gender
    rec = recorded["recorded_mean_value_by_gender"]
    assert rec["female"] / rec["male"] < 0.6
    assert s.expected()["fairness.mean_prediction_ratio.gender"] == "fail"


def test_customer_value_ethnicity_is_a_clean_control(samples):
    s = samples["customer_value"]
    pred = s.subject().predictions("nonmembers")
    ethnicity = s.nonmembers["ethnicity"]
    means = pd.Series(pred).groupby(ethnicity.to_numpy()).mean()
    assert means.min() / means.max() > 0.85
    both = pd.concat([s.members, s.nonmembers])
    for column in ("main_category", "acquisition_channel", "postcode_region", "newsletter"):
        assert g.cramers_v(both[column], both["ethnicity"]) < 0.05, column
    table = pd.crosstab(ethnicity, pred >= s.manifest["decision_threshold"]).to_numpy()
    assert chi2_contingency(table)[1] > 0.001
    assert s.expected()["fairness.mean_prediction_ratio.ethnicity"] == "not fail"


def test_customer_value_generalises(samples):
    measured = samples["customer_value"].effect("generalisation")["measured"]
    assert 0.4 < measured["r2_nonmembers"] < 0.8 and measured["r2_gap"] < 0.05
    assert measured["loss_attack_auc"] < 0.55


# -- planted truth: next_best_offer ---------------------------------------------------------------

def test_next_best_offer_steers_the_oldest_band_to_the_cheapest_plan(samples):
    s = samples["next_best_offer"]
    subject = s.subject()
    predicted = subject.predictions("nonmembers")
    bands = s.nonmembers["age_band"].to_numpy()
    cheapest = pd.Series(predicted == "basic_plan").groupby(bands).mean()
    assert cheapest["65+"] > 2 * cheapest.drop("65+").max()
    favourable = subject.favourable("nonmembers")
    rates = pd.Series(favourable).groupby(bands).mean()
    best = rates.drop("65+").idxmax()
    ratio, (lo, hi) = bootstrap_ratio(favourable, bands, "65+", best, np.random.default_rng(0))
    assert hi < 0.8
    assert (rates.drop("65+") / rates.max() > 0.85).all()  # the other bands are near parity
    measured = s.effect("age_steering")["measured"]
    assert measured["selection_rate_ratio"] == pytest.approx(rates["65+"] / rates.max(),
                                                             abs=1e-4)
    true = pd.DataFrame(s.effect("steered_labels")["measured"]["true_offer_share_by_age_band"])
    assert (true.max(axis=1) - true.min(axis=1) < 0.05).all()  # true needs do not vary with age
    assert "age" in s.features and "age_band" not in s.features
    assert s.expected()["fairness.disparate_impact.age_band"] == "fail"


def test_next_best_offer_gender_is_a_clean_control(samples):
    s = samples["next_best_offer"]
    subject = s.subject()
    gender = s.nonmembers["gender"].to_numpy()
    table = pd.crosstab(gender, subject.predictions("nonmembers")).to_numpy()
    assert chi2_contingency(table)[1] > 0.001
    rates = pd.Series(subject.favourable("nonmembers")).groupby(gender).mean()
    assert rates.min() / rates.max() > 0.85
    assert s.expected()["fairness.disparate_impact.gender"] == "not fail"


def test_next_best_offer_generalises(samples):
    measured = samples["next_best_offer"].effect("generalisation")["measured"]
    assert measured["accuracy_gap"] < 0.05 and measured["auc_ovr_gap"] < 0.05
    assert measured["auc_ovr_nonmembers"] > 0.75 and measured["loss_attack_auc"] < 0.56


# -- the effects are planted: without the historical bias they vanish -----------------------------

def test_without_under_recorded_labels_predictions_do_not_depend_on_gender(monkeypatch):
    monkeypatch.setattr(_value, "_SHARED_ACCOUNT", 0.0)
    members, nonmembers = g.generate_data("customer_value")
    members, nonmembers = (pd.read_csv(io.StringIO(f.to_csv(index=False)))
                           for f in (members, nonmembers))
    model = g.train_model("customer_value", members)
    pred = _kinds.predictor("customer_value", model, members)(
        nonmembers[list(_kinds.SPECS["customer_value"].feature_columns)])
    ratio, (lo, hi) = bootstrap_ratio(pred, nonmembers["gender"], "female", "male",
                                      np.random.default_rng(0))
    assert lo < 1 < hi or abs(ratio - 1) < 0.05


def test_without_steering_the_oldest_band_gets_the_same_offers(monkeypatch):
    monkeypatch.setattr(_offers, "_STEERING", 0.0)
    members, nonmembers = g.generate_data("next_best_offer")
    model = g.train_model("next_best_offer", members)
    features = list(_kinds.SPECS["next_best_offer"].feature_columns)
    predicted = model.predict(nonmembers[features])
    rates = pd.Series(predicted == _offers.FAVOURABLE).groupby(
        nonmembers["age_band"].to_numpy()).mean()
    assert rates["65+"] / rates.max() > 0.8
