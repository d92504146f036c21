"""Membership-inference attacks and their summaries: signs, closed forms, invariances."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from attacks.membership import (
    ATTACKS,
    ModeScores,
    attack_scores,
    gap_scores,
    lira_scores,
    logit_confidence,
    loss_scores,
    rmia_scores,
)
from attacks.mia_metrics import (
    clopper_pearson,
    record_auc,
    risk_level,
    summarise_attack,
    threshold_at_fpr,
)
from attacks.pool import REPORTING, SELECTION, build_pool, keep_matrix, membership_records
from audits.core.bootstrap import weighted_auc
from audits.core.config import AuditConfig
from tests.attacks.privacy_data import make_frame, make_subject


def _signals(n=200, k=8, seed=0):
    rng = np.random.default_rng(seed)
    keep = keep_matrix(k, n, rng)
    base = rng.uniform(0.2, 0.8, n)
    ref_p = np.clip(base + 0.15 * keep + rng.normal(0, 0.05, (k, n)), 0.01, 0.99)
    pop_ref = np.clip(rng.uniform(0.2, 0.8, 300) + rng.normal(0, 0.05, (k, 300)), 0.01, 0.99)
    pop_target = rng.uniform(0.2, 0.8, 300)
    return base, ref_p, keep, pop_target, pop_ref


SCORERS = {
    "loss": lambda tp, rp, rin, zt, zr: loss_scores(tp),
    "lira_online": lambda tp, rp, rin, zt, zr: lira_scores(tp, rp, rin, online=True),
    "lira_offline": lambda tp, rp, rin, zt, zr: lira_scores(tp, rp, rin, online=False),
    "lira_online_per_record_variance": lambda tp, rp, rin, zt, zr: lira_scores(
        tp, rp, rin, online=True, fixed_variance=False),
    "rmia_online": lambda tp, rp, rin, zt, zr: rmia_scores(tp, rp, rin, zt, zr, online=True),
    "rmia_offline": lambda tp, rp, rin, zt, zr: rmia_scores(tp, rp, rin, zt, zr, online=False,
                                                            a=0.5),
}


MONOTONE = [n for n in SCORERS if not n.startswith("lira_online")]


@pytest.mark.parametrize("name", MONOTONE)
def test_sign_a_more_confident_record_scores_as_more_likely_a_member(name):
    # the sign trap of METHODS.md: ML Privacy Meter v2's LOSS returns -p and inverts its AUC
    base, ref_p, keep, zt, zr = _signals()
    before = SCORERS[name](base, ref_p, keep, zt, zr)
    after = SCORERS[name](np.minimum(base + 0.1, 0.99), ref_p, keep, zt, zr)
    assert np.all(after > before)


@pytest.mark.parametrize("name", ["lira_online", "lira_online_per_record_variance"])
def test_sign_online_lira_rises_from_the_out_mean_to_the_in_mean(name):
    # online LiRA is a ratio of two Gaussians: monotone in phi only between their means (far
    # beyond the IN mean a narrower IN Gaussian makes "member" less likely again)
    base, ref_p, keep, zt, zr = _signals()
    phi = logit_confidence(ref_p)
    mu_in = np.where(keep, phi, 0).sum(0) / keep.sum(0)
    mu_out = np.where(~keep, phi, 0).sum(0) / (~keep).sum(0)
    assert np.all(mu_in > mu_out)
    expit = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    steps = [SCORERS[name](expit(mu_out + f * (mu_in - mu_out)), ref_p, keep, zt, zr)
             for f in (0.0, 0.5, 1.0)]
    assert np.all(steps[1] > steps[0]) and np.all(steps[2] > steps[1])


@pytest.mark.parametrize("name", ["lira_online", "lira_offline", "rmia_online", "rmia_offline"])
def test_reference_attacks_separate_planted_members(name):
    base, ref_p, keep, zt, zr = _signals(n=400)
    member = np.random.default_rng(1).random(400) < 0.5
    target = np.clip(base + 0.15 * member, 0.01, 0.99)  # the target gains what IN models gain
    s = SCORERS[name](target, ref_p, keep, zt, zr)
    assert roc_auc_score(member, s) > 0.9


def test_gap_scores_mean_correct():
    assert gap_scores([True, False, True]).tolist() == [1.0, 0.0, 1.0]


def test_lira_on_a_saturated_model_gives_finite_scores():
    # a fully grown forest outputs p = 0 and p = 1 exactly; phi must stay finite (clipped)
    rng = np.random.default_rng(0)
    k, n = 8, 300
    keep = keep_matrix(k, n, rng)
    ref_p = np.where(keep, 1.0, rng.choice([0.0, 0.5, 1.0], (k, n)))
    target = rng.choice([0.0, 1.0], n)
    assert np.isfinite(logit_confidence([0.0, 1.0])).all()
    for online in (True, False):
        for fixed in (True, False):
            s = lira_scores(target, ref_p, keep, online=online, fixed_variance=fixed)
            assert np.isfinite(s).all()
    z = rmia_scores(target, ref_p, keep, target[:50], ref_p[:, :50], online=True)
    assert np.isfinite(z).all()


def test_rmia_sort_based_equals_pairwise_definition():
    base, ref_p, keep, zt, zr = _signals(n=150)
    for online, a in ((True, 1.0), (False, 0.3)):
        s = rmia_scores(base, ref_p, keep, zt, zr, online=online, a=a, gamma=1.5)
        # pairwise O(n n_z): share of z with r(x) / r(z) >= gamma
        def ratio(tp, rp, rin):
            rp = np.clip(rp, 1e-4, 1 - 1e-4)
            out = np.where(~rin, rp, 0).sum(0) / (~rin).sum(0)
            if online:
                inn = np.where(rin, rp, 0).sum(0) / rin.sum(0)
                return tp / (0.5 * (inn + out))
            return tp / (0.5 * ((1 + a) * out + 1 - a))
        rx = ratio(base, ref_p, keep)
        rz = zt / (0.5 * ((1 + a) * zr.mean(0) + 1 - a))
        share = (rx[:, None] / rz[None, :] >= 1.5).mean(axis=1)
        assert np.array_equal(np.rint(s * zt.size), np.rint(share * zt.size))
        order = np.argsort(rx)
        assert np.all(np.diff(s[order]) > 0)  # ties broken by r(x): strictly increasing


def test_gap_attack_auc_is_its_balanced_accuracy():
    rng = np.random.default_rng(3)
    members, nonmembers = make_frame(400, rng, flip=0.2), make_frame(400, rng, flip=0.2)
    subject = make_subject(DecisionTreeClassifier(max_depth=6, random_state=0), members,
                           nonmembers, fit=True)
    records = membership_records(subject, AuditConfig.light())
    ms = attack_scores(records, None, "model")
    s = summarise_attack(ms, "gap", n_boot=50, confidence=0.95, random_state=0,
                         member_share=0.1)
    t, rep = records.targets, ms.role == REPORTING
    correct, member = records.target_correct[t][rep], records.is_member[t][rep]
    closed = 0.5 + (correct[member].mean() - correct[~member].mean()) / 2
    assert s.auc == pytest.approx(closed, abs=1e-12)


def _mode(scores, labels, role):
    return ModeScores("model", {"a": scores[None, :]}, labels[None, :], role,
                      labels.astype(int), {})


def test_summary_is_invariant_under_a_monotone_transform():
    rng = np.random.default_rng(5)
    n = 6000
    labels = rng.random(n) < 0.4
    role = np.where(rng.random(n) < 0.5, SELECTION, REPORTING)
    scores = rng.normal(size=n) + 0.8 * labels
    a = summarise_attack(_mode(scores, labels, role), "a", n_boot=100, confidence=0.95,
                         random_state=1, member_share=0.1)
    b = summarise_attack(_mode(np.exp(3 * scores) - 7, labels, role), "a", n_boot=100,
                         confidence=0.95, random_state=1, member_share=0.1)
    assert a.auc == pytest.approx(b.auc) and a.auc_ci == pytest.approx(b.auc_ci)
    for f in a.tpr:
        assert (a.tpr[f]["tp"], a.tpr[f]["fp"]) == (b.tpr[f]["tp"], b.tpr[f]["fp"])
    assert a.advantage == pytest.approx(b.advantage)
    rep = role == REPORTING
    assert a.auc == pytest.approx(roc_auc_score(labels[rep], scores[rep]))
    lo, hi = a.auc_ci
    assert lo < a.auc < hi


def test_threshold_is_chosen_on_the_selection_records_and_counted_on_the_reporting_ones():
    rng = np.random.default_rng(6)
    n = 8000
    labels = rng.random(n) < 0.5
    role = np.where(rng.random(n) < 0.5, SELECTION, REPORTING)
    scores = rng.normal(size=n) + labels
    s = summarise_attack(_mode(scores, labels, role), "a", n_boot=50, confidence=0.95,
                         random_state=0, member_share=0.1)
    sel_neg = scores[(role == SELECTION) & ~labels]
    tau = threshold_at_fpr(sel_neg, 0.01)
    assert (sel_neg > tau).mean() <= 0.01
    rep = role == REPORTING
    assert s.tpr[0.01]["tp"] == int((scores[rep & labels] > tau).sum())
    assert s.tpr[0.01]["ci"] == clopper_pearson(s.tpr[0.01]["tp"], int((rep & labels).sum()))
    assert s.tpr[0.001]["resolved"] and s.tpr[0.001]["alpha"] == 0.001
    assert len(s.roc) <= 200


def test_tpr_falls_back_to_the_smallest_resolvable_fpr():
    rng = np.random.default_rng(7)
    n = 600
    labels = rng.random(n) < 0.5
    role = np.where(rng.random(n) < 0.5, SELECTION, REPORTING)
    s = summarise_attack(_mode(rng.normal(size=n), labels, role), "a", n_boot=50,
                         confidence=0.95, random_state=0, member_share=0.1)
    low = s.tpr[0.001]
    n_neg = min(int(((role == SELECTION) & ~labels).sum()), int(((role == REPORTING)
                                                                 & ~labels).sum()))
    assert not low["resolved"] and low["alpha"] == pytest.approx(1 / n_neg)
    # judged there on the ratio TPR / FPR, its interval the TPR's Clopper-Pearson ends over it
    assert low["ratio"] == pytest.approx(low["value"] / low["alpha"])
    assert low["ratio_ci"] == pytest.approx((low["ci"][0] / low["alpha"],
                                             low["ci"][1] / low["alpha"]))
    assert risk_level(s) == "not detected"


def test_record_auc_matches_the_oracles():
    rng = np.random.default_rng(8)
    s = np.round(rng.normal(size=2000), 1)  # many ties
    y = rng.random(2000) < 0.3
    auc = record_auc(s, y, np.arange(2000), 2000)
    assert auc(np.ones((1, 2000)))[0] == pytest.approx(roc_auc_score(y, s))
    w = rng.integers(0, 3, (4, 2000)).astype(float)
    assert np.allclose(auc(w), weighted_auc(y, s, w))
    # elements grouped into records: a record weight counts all its elements
    k = 3
    rec = np.tile(np.arange(500), k)
    ss, yy = rng.normal(size=1500), rng.random(1500) < 0.5
    wr = rng.integers(0, 3, (2, 500)).astype(float)
    assert np.allclose(record_auc(ss, yy, rec, 500)(wr), weighted_auc(yy, ss, np.tile(wr, k)))


def test_all_six_attacks_score_every_target(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path))
    rng = np.random.default_rng(9)
    subject = make_subject(DecisionTreeClassifier(random_state=0), make_frame(300, rng),
                           make_frame(300, rng), fit=True)
    pool = build_pool(subject, dataclasses.replace(AuditConfig.light(), n_jobs=1), k=4)
    for mode in ("model", "recipe"):
        ms = attack_scores(pool.records, pool, mode)
        assert set(ms.scores) == set(ATTACKS)
        rows = 1 if mode == "model" else 4
        for s in ms.scores.values():
            assert s.shape == (rows, int(pool.records.targets.sum())) and np.isfinite(s).all()
