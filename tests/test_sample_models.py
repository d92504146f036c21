"""Planted-truth tests for the sample models, measured directly on the built files (never through
the audit tool): the samples must carry the effects their manifests promise, reproducibly."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy.stats import chi2_contingency
from scipy.stats.contingency import association
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from sample_models import generate as g

MANIFEST_KEYS = {
    "name", "description", "generator_version", "seed", "target", "positive_label",
    "favourable_label", "favourable_action", "sensitive_fields", "personal_columns",
    "quasi_identifiers", "id_column", "feature_columns", "trusted_types", "rows",
    "planted_effects", "expected_findings"}
SEVERITIES = {"fail", "attention", "pass", "not fail"}


@pytest.fixture(scope="session")
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    g.build_samples(out_dir=out)
    return out


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    # HistGradientBoosting's predict spins two OpenMP threads; on a busy 2-core runner that is
    # ten times slower than one thread
    with threadpool_limits(1, user_api="openmp"):
        yield


class Sample:
    def __init__(self, root, name):
        self.folder = root / name
        self.manifest = json.loads((self.folder / "manifest.json").read_text())
        self.members = pd.read_csv(self.folder / "members.csv")
        self.nonmembers = pd.read_csv(self.folder / "nonmembers.csv")
        self.model = sio.load(self.folder / "model.skops", trusted=self.manifest["trusted_types"])
        self.features = self.manifest["feature_columns"]
        self.target = self.manifest["target"]

    def score(self, frame):
        positive = list(self.model.classes_).index(self.manifest["positive_label"])
        return self.model.predict_proba(frame[self.features])[:, positive]

    def auc(self, frame):
        return roc_auc_score(frame[self.target] == self.manifest["positive_label"],
                             self.score(frame))

    def effect(self, effect_id):
        return next(e for e in self.manifest["planted_effects"] if e["id"] == effect_id)

    def expected(self):
        return {f["finding_id"]: f["severity"] for f in self.manifest["expected_findings"]}


@pytest.fixture(scope="session")
def samples(root):
    return {name: Sample(root, name) for name in g.BINARY_SAMPLES}


def selection_rates(decisions, groups) -> pd.Series:
    return pd.Series(np.asarray(decisions)).groupby(np.asarray(groups)).mean()


# -- the API and the files -------------------------------------------------------------------

def test_paths_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(g.ENV_VAR, raising=False)
    assert g.samples_dir() == g.pathlib.Path(g.__file__).resolve().parent / "data"
    monkeypatch.setenv(g.ENV_VAR, str(tmp_path))
    assert g.samples_dir() == tmp_path
    assert g.sample_dir("churn") == tmp_path / "churn"
    assert not g.is_built("churn")
    with pytest.raises(ValueError, match="lead_scoring"):
        g.sample_dir("no_such_sample")


def test_is_built_checks_files_seed_and_version(root, tmp_path):
    for name in g.SAMPLE_NAMES:
        assert g.is_built(name, out_dir=root)
        assert not g.is_built(name, out_dir=root, seed=g.DEFAULT_SEED + 1)
        assert not g.is_built(name, out_dir=tmp_path)
    stale = tmp_path / "churn"
    stale.mkdir()
    for f in g.FILES:
        (stale / f).write_bytes((root / "churn" / f).read_bytes())
    assert g.is_built("churn", out_dir=tmp_path)
    manifest = json.loads((stale / "manifest.json").read_text())
    (stale / "manifest.json").write_text(json.dumps({**manifest, "generator_version": -1}))
    assert not g.is_built("churn", out_dir=tmp_path)
    (stale / "members.csv").unlink()
    assert not g.is_built("churn", out_dir=tmp_path)


def test_build_samples_skips_what_is_built(root):
    stamps = {n: (root / n / "manifest.json").stat().st_mtime_ns for n in g.SAMPLE_NAMES}
    assert g.build_samples(out_dir=root) == [root / n for n in g.SAMPLE_NAMES]
    assert stamps == {n: (root / n / "manifest.json").stat().st_mtime_ns for n in g.SAMPLE_NAMES}


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_manifest_describes_the_files(samples, name):
    s = samples[name]
    m = s.manifest
    assert MANIFEST_KEYS <= set(m)
    assert m["name"] == name and m["seed"] == g.DEFAULT_SEED
    assert m["generator_version"] == g.GENERATOR_VERSION
    assert m["rows"] == {"members": len(s.members), "nonmembers": len(s.nonmembers)}
    assert list(s.model.feature_names_in_) == m["feature_columns"]
    assert m["trusted_types"] == sio.get_untrusted_types(file=s.folder / "model.skops")
    assert g.load_manifest(name, out_dir=s.folder.parent) == m
    columns = set(s.members.columns)
    for key in ("sensitive_fields", "personal_columns", "quasi_identifiers", "feature_columns"):
        assert set(m[key]) <= columns, key
    assert {m["target"], m["id_column"]} <= columns
    assert m["id_column"] in m["personal_columns"]
    assert not set(m["personal_columns"]) & set(m["feature_columns"])
    assert set(s.members[m["target"]]) == {0, 1} and m["positive_label"] in (0, 1)
    assert m["favourable_action"]
    for effect in m["planted_effects"]:
        assert {"id", "description", "measured"} <= set(effect)
    for finding in m["expected_findings"]:
        assert finding["severity"] in SEVERITIES and finding["why"]
        assert len(finding["finding_id"].split(".")) == 3


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_members_and_nonmembers_are_disjoint_with_the_same_columns(samples, name):
    s = samples[name]
    ids = s.manifest["id_column"]
    assert list(s.members.columns) == list(s.nonmembers.columns)
    assert s.members[ids].is_unique and s.nonmembers[ids].is_unique
    assert not set(s.members[ids]) & set(s.nonmembers[ids])
    assert not s.members.isna().any().any() and not s.nonmembers.isna().any().any()


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_model_inputs_survive_a_csv_round_trip(samples, name):
    s = samples[name]
    X = s.members[s.features]
    for column in s.features:
        assert X[column].dtype.kind in "iufO" or pd.api.types.is_string_dtype(X[column]), column
    again = pd.read_csv(io.StringIO(s.members.to_csv(index=False)))
    pd.testing.assert_frame_equal(again[s.features], X)
    np.testing.assert_array_equal(s.score(again.head(500)), s.score(X.head(500)))


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_same_seed_same_files_and_predictions(samples, name):
    s = samples[name]
    members, nonmembers = g.generate_data(name, seed=g.DEFAULT_SEED)
    assert members.to_csv(index=False) == (s.folder / "members.csv").read_text()
    assert nonmembers.to_csv(index=False) == (s.folder / "nonmembers.csv").read_text()
    # the in-memory model, refitted from the same seed, predicts as the skops file does
    model = g.train_model(name, s.members, seed=g.DEFAULT_SEED)
    X = s.nonmembers[s.features]
    np.testing.assert_array_equal(model.predict_proba(X), s.model.predict_proba(X))


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_another_seed_gives_other_data(samples, name):
    members, _ = g.generate_data(name, seed=g.DEFAULT_SEED + 1)
    ours = samples[name].members
    assert members.to_csv(index=False) != ours.to_csv(index=False)
    ids = samples[name].manifest["id_column"]
    assert len(set(members[ids]) & set(ours[ids])) < 0.01 * len(ours)


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_personal_columns_cannot_reach_anyone(samples, name):
    s = samples[name]
    emails = pd.concat([s.members["email"], s.nonmembers["email"]])
    assert emails.is_unique
    reserved = r"[a-z]+\.[a-z]+\d*@([a-z]+\.example|example\.(com|org|net))"   # RFC 2606
    assert emails.str.fullmatch(reserved).all()
    if "phone" in s.members:
        drama = r"\+44 (7700 900|20 7946 0|1[1-9]1 49[68] 0|11[3-8] 496 0|28 9649 6)\d{3}"
        assert s.members["phone"].str.fullmatch(drama).all()


# -- the statistics used to measure the planted effects ----------------------------------------

def test_cramers_v_oracles():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 20_000)
    assert g.cramers_v(x, x) == pytest.approx(1.0, abs=1e-3)
    assert g.cramers_v(x, rng.integers(0, 8, 20_000)) < 0.02   # independence: 0, up to noise
    y = np.where(rng.random(20_000) < 0.5, x, rng.integers(0, 4, 20_000))
    table = pd.crosstab(x, y).to_numpy()
    plain = association(table, method="cramer")
    assert g.cramers_v(x, y) <= plain
    assert g.cramers_v(x, y) == pytest.approx(plain, abs=0.01)  # the correction is tiny at n=20k
    small_x, small_y = rng.integers(0, 5, 40), rng.integers(0, 5, 40)
    chi2 = chi2_contingency(pd.crosstab(small_x, small_y).to_numpy(), correction=False)[0]
    assert g.cramers_v(small_x, small_y) < np.sqrt(chi2 / 40 / 4)  # plain V inflated on 40 rows


# -- planted truth, sample by sample ------------------------------------------------------------

def test_churn_region_is_a_strong_proxy_for_ethnicity(samples):
    s = samples["churn"]
    both = pd.concat([s.members, s.nonmembers])
    v = g.cramers_v(both["postcode_region"], both["ethnicity"])
    assert 0.5 < v < 0.8
    measured = s.effect("region_proxy_for_ethnicity")["measured"]
    assert measured["cramers_v_bias_corrected"] == pytest.approx(v, abs=1e-4)
    assert "postcode_region" in s.features
    assert not {"ethnicity", "gender"} & set(s.features)
    assert s.expected()["fairness.proxy.postcode_region__ethnicity"] == "attention"


def test_churn_model_disadvantages_one_ethnicity(samples):
    s = samples["churn"]
    decisions = s.model.predict(s.nonmembers[s.features])
    ratio = selection_rates(decisions, s.nonmembers["ethnicity"])
    ratio = ratio / ratio.max()
    group = s.effect("disparate_impact")["measured"]["group"]
    assert ratio[group] < 0.7
    assert (s.nonmembers["ethnicity"] == group).sum() > 2000      # large enough to be sure
    assert (ratio.drop(group) > 0.85).all()                        # the others are near parity
    gender = selection_rates(decisions, s.nonmembers["gender"])
    assert gender.min() / gender.max() > 0.9
    assert s.effect("disparate_impact")["measured"]["selection_rate_ratio"] == pytest.approx(
        ratio[group], abs=1e-4)
    assert s.expected()["fairness.disparate_impact.ethnicity"] == "fail"


def test_churn_labels_are_suppressed_but_true_churn_is_not(samples):
    measured = samples["churn"].effect("suppressed_churn_labels")["measured"]
    true, recorded = (pd.Series(measured[k]) for k in ("true_churn_rate_by_ethnicity",
                                                      "recorded_churn_rate_by_ethnicity"))
    assert true.max() - true.min() < 0.03
    assert recorded.idxmin() == samples["churn"].effect("disparate_impact")["measured"]["group"]


def test_churn_model_generalises(samples):
    s = samples["churn"]
    holdout = s.auc(s.nonmembers)
    assert 0.75 <= holdout <= 0.85
    assert s.auc(s.members) - holdout < 0.03
    assert s.expected()["performance.generalisation_gap.auc"] == "pass"
    # regularised enough that membership inference finds a low risk at most (checked through the
    # audit in tests/attacks/test_privacy_samples.py)
    assert s.expected()["privacy.membership_inference.strongest"] == "pass"


def test_lead_scoring_is_a_clean_control(samples):
    s = samples["lead_scoring"]
    assert s.auc(s.members) - s.auc(s.nonmembers) < 0.03
    assert 0.7 <= s.auc(s.nonmembers) <= 0.85
    assert not set(s.manifest["sensitive_fields"]) & set(s.features)
    decisions = s.model.predict(s.nonmembers[s.features])
    for field in s.manifest["sensitive_fields"]:
        table = pd.crosstab(s.nonmembers[field], decisions).to_numpy()
        assert chi2_contingency(table)[1] > 0.001, field              # no difference beyond noise
        rates = selection_rates(decisions, s.nonmembers[field])
        assert rates.min() / rates.max() > 0.85, field
        both = pd.concat([s.members, s.nonmembers])
        for column in ("lead_source", "job_level", "company_size", "country"):
            assert g.cramers_v(both[column], both[field]) < 0.05, (column, field)
    assert "fail" not in s.expected().values()


def test_purchase_propensity_memorises(samples):
    s = samples["purchase_propensity"]
    member_auc, holdout = s.auc(s.members), s.auc(s.nonmembers)
    assert member_auc > 0.99
    assert 0.6 <= holdout <= 0.8
    assert member_auc - holdout > 0.2
    assert s.manifest["rows"] == {"members": 4000, "nonmembers": 12000}
    expected = s.expected()
    assert expected["performance.generalisation_gap.auc"] == "attention"
    assert expected["privacy.membership_inference.strongest"] == "fail"


def test_purchase_propensity_uses_a_sensitive_input(samples):
    s = samples["purchase_propensity"]
    assert "expecting_parent" in s.features
    assert "expecting_parent" in s.manifest["sensitive_fields"]
    assert set(s.members["expecting_parent"]) == {0, 1}
    both = pd.concat([s.members, s.nonmembers])
    by_parent = both.groupby("expecting_parent")[["n_baby_products", "n_vitamins",
                                                   "n_unscented_lotion"]].mean()
    assert (by_parent.loc[1] > 1.5 * by_parent.loc[0]).all()        # the basket gives it away
    assert s.expected()["fairness.sensitive_input.expecting_parent"] == "attention"
    attack = s.effect("attribute_inference")["measured"]
    assert attack["attack_auc_members"] > attack["baseline_auc_members"] + 0.05
    assert attack["attack_auc_members"] > attack["attack_auc_nonmembers"] + 0.2


def test_purchase_propensity_outliers_are_unique_members_labelled_against_their_look_alikes(
        samples):
    """Each planted outlier is one card of a bulk-buying business: unique among the members, far
    beyond them, and its business's other cards (non-members, the customers most like it) all
    carry the opposite label. So the rest of the data implies the opposite of its label, and only
    memorisation lets the forest reproduce it."""
    s = samples["purchase_propensity"]
    effect = s.effect("outliers")
    outliers = effect["customer_ids"]
    assert len(outliers) == len(set(outliers)) == 10
    assert len(set(effect["businesses"])) == 10
    is_out = s.members["customer_id"].isin(outliers).to_numpy()
    assert is_out.sum() == 10
    assert not set(outliers) & set(s.nonmembers["customer_id"])
    numeric = [c for c in s.features if c != "postcode_region"]
    scale = pd.concat([s.members, s.nonmembers])[numeric].std().to_numpy()
    members, nonmembers = (f[numeric].to_numpy(float) for f in (s.members, s.nonmembers))
    households = members[~is_out].max(axis=0)
    for i in np.flatnonzero(is_out):
        x = members[i]
        others = np.delete(members, i, axis=0)
        # an extreme region: far beyond every ordinary member on at least two columns ...
        assert (x > 1.5 * households).sum() >= 2
        # ... unique among the members, its business's 15 other cards (non-members) nearer to
        # it than any other member and all with the other label
        to_members = np.sqrt((((others - x) / scale) ** 2).sum(axis=1))
        to_nonmembers = np.sqrt((((nonmembers - x) / scale) ** 2).sum(axis=1))
        look_alikes = np.argsort(to_nonmembers)[:15]
        assert to_nonmembers[look_alikes].max() < to_members.min()
        label = s.members[s.target].iloc[i]
        assert (s.nonmembers[s.target].to_numpy()[look_alikes] != label).all()
    # the recipe fitted on everyone else predicts the other label; the model reproduces theirs
    rows = s.members[is_out]
    rest = g.train_model("purchase_propensity",
                         pd.concat([s.members[~is_out], s.nonmembers], ignore_index=True))
    labels = rows[s.target].to_numpy()
    p_rest = rest.predict_proba(rows[s.features])[np.arange(10), labels]
    p = s.model.predict_proba(rows[s.features])[np.arange(10), labels]
    assert (p_rest < 0.1).all()
    assert (p > 0.5).all() and p.mean() > 0.7
    measured = effect["measured"]
    assert measured["mean_p_true_label"] == pytest.approx(p.mean(), abs=1e-4)
    assert measured["mean_p_true_label_refit_without_them"] == pytest.approx(p_rest.mean(),
                                                                             abs=1e-4)
    assert measured["other_business_cards"] == {"members": 0, "nonmembers": 150}


# -- data rights (issue 18): added columns, planted violations -----------------------------------

RIGHTS_COLUMNS = {"churn": ["consent_retention", "consent_marketing", "collected_at",
                            "data_source", "opt_out_automated"],
                  "lead_scoring": ["consent_sales_contact", "collected_at", "data_source",
                                   "opt_out_automated"],
                  "purchase_propensity": []}


@pytest.mark.parametrize("name", g.BINARY_SAMPLES)
def test_rights_columns_change_nothing_that_existed(samples, name):
    """The sample's own draws, written before the rights columns existed, are the files' other
    columns unchanged; the rights columns come last and are no model input."""
    from sample_models import _datasets

    s = samples[name]
    members, nonmembers, _ = _datasets.SPECS[name].make(g._rng(name, g.DEFAULT_SEED))
    for own, part in ((members, "members"), (nonmembers, "nonmembers")):
        on_file = pd.read_csv(s.folder / f"{part}.csv", dtype=str, keep_default_na=False)
        assert list(on_file.columns) == list(own.columns) + RIGHTS_COLUMNS[name]
        assert on_file[list(own.columns)].to_csv(index=False) == own.to_csv(index=False)
    assert not set(RIGHTS_COLUMNS[name]) & set(s.features)
    assert set(RIGHTS_COLUMNS[name]) == set(s.manifest["rights"].get("consent", {})) | {
        s.manifest["rights"][k] for k in ("collected_at", "data_source") if k in
        s.manifest["rights"]} | ({s.manifest["rights"]["opt_out"]["column"]}
                                 if "opt_out" in s.manifest["rights"] else set())


def _rights_counts(s) -> dict:
    """The violations measured on the files alone (no tool code)."""
    r = s.manifest["rights"]
    trained = pd.Timestamp(r["trained_at"])
    erased = set(pd.read_csv(s.folder / "erased.csv", dtype=str)[s.manifest["id_column"]])
    out = {}
    for part, frame in (("training", s.members), ("holdout", s.nonmembers)):
        covers = [c for c, p in r.get("consent", {}).items() if r["purposes"][0] in p]
        out[part] = {
            "consent_missing": int((frame[covers].sum(axis=1) == 0).sum()) if covers else 0,
            "retention_exceeded": int(((trained - pd.to_datetime(frame["collected_at"])).dt.days
                                       > 730).sum()) if "collected_at" in r else 0,
            "shadow_profiles": int((frame["data_source"] != "first party").sum())
            if "data_source" in r else 0,
            "opt_out": int(frame["opt_out_automated"].sum()) if "opt_out" in r else 0,
            "erased": int(frame[s.manifest["id_column"]].astype(str).isin(erased).sum())}
    out["requests"] = len(erased)
    return out


def test_churn_rights_violations_are_planted_as_the_manifest_says(samples):
    s = samples["churn"]
    got, planted = _rights_counts(s), s.manifest["planted_rights"]
    for check in ("consent_missing", "retention_exceeded", "shadow_profiles", "opt_out"):
        for part in ("training", "holdout"):
            assert got[part][check] == planted[check][part] > 100, (check, part)
    assert (got["training"]["erased"], got["holdout"]["erased"], got["requests"]) == (
        planted["erasure"]["in_training"], planted["erasure"]["in_holdout"],
        planted["erasure"]["requests"]) == (80, 12, 132)


def test_lead_scoring_rights_are_all_in_order(samples):
    got = _rights_counts(samples["lead_scoring"])
    assert got["requests"] == 30
    assert all(v == 0 for part in ("training", "holdout") for v in got[part].values())


def test_purchase_propensity_erased_customers_are_ordinary_members(samples):
    s = samples["purchase_propensity"]
    got = _rights_counts(s)
    assert (got["training"]["erased"], got["holdout"]["erased"], got["requests"]) == (40, 0, 40)
    outliers = set(s.effect("outliers")["customer_ids"])
    erased = set(pd.read_csv(s.folder / "erased.csv", dtype=str)["customer_id"])
    assert not erased & outliers
    dates = pd.to_datetime(pd.read_csv(s.folder / "erased.csv")["requested_at"])
    assert (dates > pd.Timestamp(s.manifest["rights"]["trained_at"])).all()
