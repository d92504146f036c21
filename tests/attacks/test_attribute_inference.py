"""Attribute inference / model inversion: oracles for the statistics, the attacker split, a null
case over seeded runs, invariance, and the samples' planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from attacks.attribute_inference import (
    OTHER,
    _candidates,
    _split,
    attack_signals,
    attack_statistics,
    run_attribute_inference,
)
from audits.core.config import AuditConfig
from audits.core.results import Severity
from audits.core.subject import AuditSubject

LIGHT = AuditConfig.light()


def _synthetic(seed: int, *, s_input: bool = False, numeric_s: bool = False, n_members=1200,
               n_nonmembers=2400, rare=0) -> AuditSubject:
    """Customers with three numeric inputs and one categorical; ``s`` independent of everything.
    The model is a fully grown forest (it memorises its members)."""
    rng = np.random.default_rng(seed)
    n = n_members + n_nonmembers
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                          "x3": rng.poisson(3, n), "plan": rng.choice(["basic", "plus", "pro"], n)})
    frame["s"] = rng.integers(18, 80, n) if numeric_s else rng.choice(["no", "yes"], n, p=[.7, .3])
    if rare:
        frame.loc[rng.choice(n, rare, replace=False), "s"] = "rare"
    logit = frame["x1"] + 0.5 * frame["x2"] + 0.3 * (frame["plan"] == "pro")
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    features = ["x1", "x2", "x3", "plan"] + (["s"] if s_input else [])
    members = frame.iloc[:n_members].reset_index(drop=True)
    nonmembers = frame.iloc[n_members:].reset_index(drop=True)
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = ["plan"] + (["s"] if s_input and not numeric_s else [])
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats),
                                remainder="passthrough"),
        RandomForestClassifier(n_estimators=30, random_state=seed, n_jobs=1))
    model.fit(members[features], members["y"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="y",
                        positive_label=1, feature_columns=tuple(features),
                        sensitive_fields=("s",), seed=seed)


# -- oracles ----------------------------------------------------------------------------------

def _signals(codes, probas, prior):
    return {"codes": {"members": codes, "nonmembers": codes}, "prior": np.asarray(prior),
            "levels": [str(g) for g in range(len(prior))],
            "proba": {a: {"members": P, "nonmembers": P} for a, P in probas.items()}}


@pytest.mark.parametrize("n_groups", [2, 4])
def test_statistics_match_sklearn(n_groups):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, n_groups, 600)
    P = rng.dirichlet(np.ones(n_groups), 600)
    P[np.arange(600), codes] += rng.random(600) * 0.3  # some skill
    P /= P.sum(axis=1, keepdims=True)
    prior = np.bincount(codes, minlength=n_groups) / 600
    stats = attack_statistics(_signals(codes, {"a": P}, prior), n_boot=100, seed=1)
    auc = roc_auc_score(codes, P[:, 1]) if n_groups == 2 else \
        roc_auc_score(codes, P, multi_class="ovr", average="macro")
    ba = balanced_accuracy_score(codes, np.argmax(P / prior, axis=1))
    for part in ("members", "nonmembers"):
        assert stats["a"][part]["auc"][0] == pytest.approx(auc)
        assert stats["a"][part]["balanced_accuracy"][0] == pytest.approx(ba)
        assert stats["a"][part]["auc"][1].shape == (100,)


def test_paired_bootstrap_cancels_identical_attacks():
    """Attack == baseline: every paired replicate of the difference is exactly 0, while each
    AUC has its own spread; an unpaired bootstrap would give a wide difference."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2, 400)
    P = rng.dirichlet([1, 1], 400)
    stats = attack_statistics(_signals(codes, {"baseline": P, "learned": P.copy()}, [.5, .5]),
                              n_boot=200, seed=3)
    diff = stats["learned"]["members"]["auc"][1] - stats["baseline"]["members"]["auc"][1]
    assert np.all(diff == 0) and np.std(stats["learned"]["members"]["auc"][1]) > 0.01


def test_attacker_rows_never_evaluated():
    subject = _synthetic(0)
    split = _split(subject, 5, 5000)
    assert not set(split["attacker"]) & set(split["nonmembers"])
    assert len(split["attacker"]) == len(subject.nonmembers) // 2
    assert len(split["members"]) == len(subject.members)
    again = _split(subject, 5, 5000)
    assert all(np.array_equal(split[k], again[k]) for k in split)


def test_candidates_are_quartiles_or_frequent_values():
    raw = pd.Series(np.arange(100))
    codes = (raw >= 50).astype(int).to_numpy()
    cands = _candidates(raw, codes, 2, 10)
    assert [v for v, _ in cands[0]] == [12, 24, 37] and all(w == pytest.approx(1 / 3)
                                                            for _, w in cands[0])
    cat = pd.Series(["a"] * 6 + ["b"] * 2 + ["c"] * 2)
    cands = _candidates(cat, np.array([0] * 8 + [1] * 2), 2, 10)
    assert cands[0] == [("a", 0.75), ("b", 0.25)] and cands[1] == [("c", 1.0)]


# -- the probe --------------------------------------------------------------------------------

def test_null_case_advantage_contains_zero():
    """s independent of everything and not a model input, on a memorising forest: the attack's
    advantage over the baseline and its member gap are both 0 in truth. Each interval misses
    with probability about 2.5% (97.5% Bonferroni level); over 10 runs two or more misses have
    probability about 2.5% (binomial), so one miss is allowed (measured: 1 miss in 40 intervals
    over 20 runs). Evaluating the non-members on the attacker's own rows misses in every run."""
    misses = 0
    for seed in range(10):
        result = run_attribute_inference(_synthetic(seed, n_members=800, n_nonmembers=1600),
                                         LIGHT)
        for name in ("s.learned.advantage.members", "s.learned.member_gap"):
            lo, hi = result.metric(name).ci
            misses += not (lo <= 0 <= hi)
        assert result.findings[0].severity is not Severity.FAIL
    assert misses <= 1


def test_sensitive_input_is_inverted_and_seeded_runs_match():
    subject = _synthetic(3, s_input=True, n_members=600, n_nonmembers=1200)
    a = run_attribute_inference(subject, LIGHT)
    b = run_attribute_inference(subject, LIGHT)
    assert a.to_dict() == b.to_dict()
    names = {m.name for m in a.metrics}
    assert {"s.inversion.auc.members", "s.inversion.advantage.members",
            "s.inversion.member_gap", "s.learned.advantage.nonmembers",
            "s.baseline.balanced_accuracy.nonmembers"} <= names
    finding = a.findings[0]
    assert finding.id == "privacy.attribute_inference.s" and "%" in finding.statement
    assert finding.metric.name.startswith("s.")
    assert a.probe == "attribute_inference" and a.area == "privacy"


def test_numeric_sensitive_field_is_banded():
    subject = _synthetic(4, s_input=True, numeric_s=True, n_members=600, n_nonmembers=1200)
    signals = attack_signals(subject, "s", config=LIGHT, seed=1)
    assert signals["levels"][0] == "18-24" and len(signals["levels"]) == 6
    assert signals["is_input"] and "inversion" in signals["proba"]
    P = signals["proba"]["inversion"]["members"]
    assert P.shape == (len(subject.members), 6) and np.allclose(P.sum(axis=1), 1)


def test_rare_groups_are_merged_not_dropped():
    subject = _synthetic(5, rare=12, n_members=400, n_nonmembers=800)
    signals = attack_signals(subject, "s", config=LIGHT, seed=1)
    assert signals["levels"] == ["no", "yes", OTHER]
    total = sum(len(signals["codes"][p]) for p in ("members", "nonmembers"))
    assert total == len(subject.members) + len(subject.nonmembers) // 2


def test_no_sensitive_fields_is_not_assessed():
    subject = _synthetic(0, n_members=100, n_nonmembers=200)
    subject = AuditSubject(model=subject.model, members=subject.members,
                           nonmembers=subject.nonmembers, target="y", positive_label=1,
                           feature_columns=subject.feature_columns)
    result = run_attribute_inference(subject, LIGHT)
    assert result.status == "not_assessed"
    assert result.findings[0].severity is Severity.NOT_ASSESSED


# -- planted truth -----------------------------------------------------------------------------

def test_purchase_propensity_inversion_leaks_expecting_parent(sample_subject):
    result = run_attribute_inference(sample_subject("purchase_propensity"), AuditConfig())
    adv = result.metric("expecting_parent.inversion.advantage.members")
    gap = result.metric("expecting_parent.inversion.member_gap")
    assert adv.ci[0] > 0 and gap.ci[0] > 0
    assert result.metric("expecting_parent.inversion.auc.members").value > 0.9
    finding = {f.id: f for f in result.findings}["privacy.attribute_inference.expecting_parent"]
    assert finding.severity in (Severity.ATTENTION, Severity.FAIL)
    assert finding.severity is Severity.FAIL  # both significant (THRESHOLDS.md)


def test_lead_scoring_has_no_attribute_inference_fail(sample_subject):
    result = run_attribute_inference(sample_subject("lead_scoring"), AuditConfig())
    assert {f.id for f in result.findings} == {"privacy.attribute_inference.gender",
                                               "privacy.attribute_inference.age_band"}
    assert all(f.severity is not Severity.FAIL for f in result.findings)
