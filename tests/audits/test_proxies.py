"""The proxy screen: Cramér's V against closed forms and scipy, and a planted proxy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association
from sklearn.linear_model import LogisticRegression

from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.subject import AuditSubject
from audits.proxies import band_feature, chance_adjusted_power, cramers_v, proxy_screen

# -- Cramér's V ------------------------------------------------------------------------------

def test_v_is_zero_at_exact_independence_and_near_zero_on_independent_samples():
    table = np.outer([10, 20, 30], [5, 15]) / 5  # rows and columns exactly independent
    assert cramers_v(table) == 0 and np.isclose(cramers_v(table, corrected=False), 0)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 5000), rng.integers(0, 3, 5000)
    t = np.bincount(a * 3 + b, minlength=15).reshape(5, 3)
    assert cramers_v(t) < 0.03
    assert cramers_v(t) <= cramers_v(t, corrected=False)  # the correction removes the bias


@pytest.mark.parametrize("k", [2, 3, 6])
def test_v_is_exactly_one_for_a_perfect_proxy(k):
    rng = np.random.default_rng(k)
    g = rng.integers(0, k, 400)
    mapping = rng.permutation(k)  # a one-to-one relabelling
    t = np.bincount(mapping[g] * k + g, minlength=k * k).reshape(k, k)
    assert cramers_v(t) == pytest.approx(1.0, abs=1e-12)
    assert cramers_v(t, corrected=False) == pytest.approx(1.0, abs=1e-12)


def test_uncorrected_v_matches_scipy_and_corrected_matches_bergsma_closed_form():
    t = np.array([[30, 10, 5], [12, 25, 8], [4, 9, 20], [7, 6, 11]])
    assert np.isclose(cramers_v(t, corrected=False), association(t, method="cramer"))
    n, (r, c) = t.sum(), t.shape
    expected = np.outer(t.sum(1), t.sum(0)) / n
    phi2 = ((t - expected) ** 2 / expected).sum() / n
    phi2c = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    rc, cc = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    assert np.isclose(cramers_v(t), np.sqrt(phi2c / min(rc - 1, cc - 1)))


def test_v_is_vectorised_over_replicates_and_ignores_empty_rows():
    rng = np.random.default_rng(1)
    tables = rng.integers(0, 30, size=(7, 4, 3))
    tables[2, 1, :] = 0  # an empty row: the table is 3 x 3
    one_by_one = [cramers_v(t) for t in tables]
    assert np.allclose(cramers_v(tables), one_by_one)
    assert np.isclose(one_by_one[2], cramers_v(np.delete(tables[2], 1, axis=0)))
    assert cramers_v(np.array([[5, 7]])) == 0  # one row: no association defined


def test_numeric_inputs_are_banded_into_quantile_bins_and_categories_capped():
    rng = np.random.default_rng(2)
    codes, n = band_feature(np.r_[rng.normal(size=999), np.nan])
    assert n == 11 and codes[-1] == 10  # ten quantile bins and one for missing
    assert np.bincount(codes[:-1]).min() >= 90
    codes, n = band_feature(pd.Series([f"v{i}" for i in rng.integers(0, 60, 3000)]),
                            max_levels=20)
    assert n == 21  # 20 most frequent values and "other"
    codes, n = band_feature(pd.Series([1, 2, 2, 3]))
    assert n == 3


def test_chance_adjusted_power_is_zero_for_chance_and_one_for_perfect():
    g = np.repeat([0, 1, 2], 100)
    assert chance_adjusted_power(g, np.eye(3)[g]) == 1.0
    assert chance_adjusted_power(g, np.full((300, 3), 1 / 3)) == pytest.approx(0.0)
    g2 = g % 2
    assert chance_adjusted_power(g2, np.eye(2)[g2]) == 1.0


# -- the screen on a subject -----------------------------------------------------------------

def _subject(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    h = rng.choice(["u", "v"], n)
    district = np.where(rng.random(n) < 0.9, np.char.add("d-", g), rng.choice(["d-a", "d-b",
                                                                               "d-c"], n))
    perfect = pd.Series(g).map({"a": 10, "b": 20, "c": 30}).to_numpy()
    noise = rng.normal(size=n)
    y = (rng.random(n) < 0.4).astype(int)
    df = pd.DataFrame({"noise": noise, "perfect": perfect, "district": district, "g": g,
                       "h": h, "y": y})
    X = np.column_stack([noise, perfect])
    model = LogisticRegression().fit(X, y)

    class OnTwo:  # the model reads two of the columns; the screen only needs the frame
        classes_ = model.classes_

        def predict_proba(self, frame):
            return model.predict_proba(frame[["noise", "perfect"]].to_numpy())

        def predict(self, frame):
            return model.predict(frame[["noise", "perfect"]].to_numpy())

    half = n // 2
    return AuditSubject(model=OnTwo(), members=df.iloc[:half], nonmembers=df.iloc[half:]
                        .reset_index(drop=True), target="y", positive_label=1,
                        feature_columns=("noise", "perfect", "district", "g"),
                        sensitive_fields=("g", "h"), seed=seed)


CACHE = RunCache()


@pytest.fixture(scope="module")
def screened():
    subject = _subject()
    return subject, proxy_screen(subject, AuditConfig.light(), cache=CACHE)


def test_screen_has_one_row_per_input_and_field_except_the_field_itself(screened):
    _, screen = screened
    pairs = set(zip(screen["feature"], screen["field"]))
    assert pairs == {(f, s) for f in ("noise", "perfect", "district", "g") for s in ("g", "h")
                     if f != s}
    assert (screen["n"] == 2000).all()


def test_planted_proxies_are_flagged_and_independent_inputs_pass(screened):
    _, screen = screened
    row = screen.set_index(["feature", "field"])
    assert row.loc[("perfect", "g"), "cramers_v"] == pytest.approx(1.0)
    assert row.loc[("perfect", "g"), "feature_power"] == pytest.approx(1.0)
    assert row.loc[("district", "g"), "cramers_v_low"] > 0.5
    assert row.loc[("district", "g"), "severity"] == "attention"
    for f in ("noise", "district", "perfect"):
        assert row.loc[(f, "h"), "severity"] == "pass"
        assert row.loc[(f, "h"), "cramers_v"] < 0.1
        assert abs(row.loc[(f, "h"), "feature_power"]) < 0.1
    assert row.loc[("noise", "g"), "cramers_v_high"] < 0.2
    lo, v, hi = (screen[c].to_numpy() for c in ("cramers_v_low", "cramers_v", "cramers_v_high"))
    assert (lo <= v).all() and (v <= hi).all() and (lo >= 0).all() and (hi <= 1).all()
    # all inputs together predict g at least as well as the best single input, and h not at all
    assert row.loc[("noise", "g"), "all_inputs_power"] > 0.6
    assert abs(row.loc[("noise", "h"), "all_inputs_power"]) < 0.1


NO_MODELS = dataclasses.replace(AuditConfig.light(), proxy_models=False)


def test_screen_is_shared_per_run_and_models_can_be_skipped(screened):
    subject, screen = screened
    assert proxy_screen(subject, AuditConfig.light(), cache=CACHE) is screen
    light = proxy_screen(subject, NO_MODELS, cache=CACHE)
    assert light["all_inputs_power"].isna().all()
    pd.testing.assert_series_equal(light["cramers_v"], screen["cramers_v"])


def test_the_same_subject_under_two_profiles_gets_two_screens(screened):
    """Regression: the screen was memoised on the subject under a key that ignored the profile,
    so a second audit of the same subject under another profile reused the first screen (and the
    app shares one subject across sessions)."""
    subject, screen = screened
    lenient = dataclasses.replace(AuditConfig.light(), name="lenient", thresholds={
        **AuditConfig.light().thresholds,
        "fairness.proxy_association": dataclasses.replace(
            AuditConfig.light().threshold("fairness.proxy_association"), attention=0.95)})
    other = proxy_screen(subject, lenient, cache=CACHE)
    assert other is not screen
    row = other.set_index(["feature", "field"])
    assert screen.set_index(["feature", "field"]).loc[("district", "g"), "severity"] == "attention"
    assert row.loc[("district", "g"), "severity"] == "pass"


def test_screen_is_reproducible_from_the_seed():
    a = proxy_screen(_subject(seed=3, n=1000), NO_MODELS)
    b = proxy_screen(_subject(seed=3, n=1000), NO_MODELS)
    pd.testing.assert_frame_equal(a, b)
