"""Planted-truth tests of the privacy probes on the sample models.

purchase_propensity (a fully grown forest on noisy labels, with 10 planted outlier customers)
uses the default profile (K = 8 reference models), the product's claim; its pool is built once
per session (one run cache shared by its probes). lead_scoring (the control) and churn
(regularised boosting) are checked on both the light and the default profile: at most a low risk
on each.
"""

from __future__ import annotations

import numpy as np
import pytest

from attacks.privacy_probe import run_membership, run_memorisation
from attacks.record_risk import record_risk
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.results import Severity
from audits.core.subject import pseudonymise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def propensity(sample_subject):
    subject = sample_subject("purchase_propensity")
    config, cache = AuditConfig(), RunCache()
    return (subject, config, cache, run_membership(subject, config, cache=cache),
            run_memorisation(subject, config, cache=cache))


def _findings(result):
    return {f.id: f for f in result.findings}


def test_planted_forest_leaks_membership(propensity):
    _, config, _, membership, _ = propensity
    assert config.n_reference_models == 8
    assert membership.metric("strongest.auc").value >= 0.9
    assert membership.metric("strongest.tpr_at_fpr_0p1pct").value >= 0.10
    finding = _findings(membership)["privacy.membership_inference.strongest"]
    assert finding.severity is Severity.FAIL
    assert membership.params["risk_level"] in ("high", "critical")
    assert membership.params["strongest"] in ("lira_online", "lira_offline", "rmia_online",
                                              "rmia_offline")
    # the reference attacks beat LOSS at low FPR (METHODS.md: members tie at p = 1)
    assert membership.metric("strongest.tpr_at_fpr_0p1pct").value > \
        membership.metric("model.loss.tpr_at_fpr_0p1pct").value
    assert _findings(membership)["privacy.small_leaves.model"].severity is Severity.ATTENTION
    eps = membership.metric("epsilon.lower_bound").value
    assert 0 < eps <= membership.metric("epsilon.ceiling").value


def test_planted_outliers_and_memorised_customers_are_exposed(propensity, sample_subject):
    from sample_models.generate import load_manifest

    subject, config, cache, membership, memorisation = propensity
    outliers = next(e for e in load_manifest("purchase_propensity")["planted_effects"]
                    if e["id"] == "outliers")["customer_ids"]
    risk = record_risk(subject, config, cache=cache)
    training = risk[risk["part"] == "training"]
    planted = training[training["record"].isin(pseudonymise(outliers, subject.secret))]
    assert len(planted) == len(outliers)  # every outlier is a target record
    # each planted outlier is called a member at a false-alarm rate under 1% ...
    assert (planted["false_alarm_share"] <= 0.01).all()
    assert planted["false_alarm_share"].median() <= 0.001
    # ... and they sit above the median training customer
    assert planted["member_percentile"].mean() > 0.5
    # the recipe memorises every one of them (Feldman-Zhang memorisation above 0.5)
    assert (planted["memorisation"] > 0.5).all()
    memorised = training[training["memorisation"] > 0.5]
    others = training[training["memorisation"] <= 0]
    assert memorised["member_percentile"].mean() > others["member_percentile"].mean() + 0.3
    assert memorised["false_alarm_share"].median() <= 0.001
    top = membership.table("exposed_records").to_frame()
    assert len(top) == 20 and (top["false_alarm_share"] <= 0.001).all()
    assert set(top["record"]) <= set(training["record"])
    assert all(r.startswith("p-") for r in top["record"])  # pseudonyms, never raw ids
    raw = set(subject.frame("members")[subject.id_column].astype(str))
    assert not raw & set(top["record"])
    # the planted outliers lead both top-20 tables. The bounds are what the generator gives: on
    # the default seed and on seeds 1, 2 and 3 all 10 are among the 20 most exposed, and 10, 9, 8
    # and 9 among the 20 most memorised. An outlier's memorisation score is capped near 0.63 (the
    # share of the forest's bootstrap samples that hold it) and a few of the 13,000 target
    # customers, mislabelled ones, reach that by chance.
    assert top["record"].isin(planted["record"]).sum() >= 9
    top_memorised = memorisation.table("memorised_records").to_frame()
    assert top_memorised["record"].isin(planted["record"]).sum() >= 8


def test_planted_forest_memorises(propensity):
    _, _, _, _, memorisation = propensity
    share = memorisation.metric("memorisation.share_high")
    assert share.ci[0] > 0.10
    assert _findings(memorisation)["privacy.memorisation.records"].severity is \
        Severity.ATTENTION
    assert memorisation.metric("canary.auc").ci[0] > 0.5
    assert 0 < memorisation.metric("canary.epsilon_one_run").value <= \
        memorisation.metric("canary.epsilon_ceiling").value


def test_groups_and_recipe_mode_are_reported(propensity):
    _, _, _, membership, _ = propensity
    groups = membership.table("groups").to_frame()
    assert set(groups["field"]) == {"expecting_parent"}
    assert (groups["status"] == "assessed").all() and (groups["auc_low"] > 0.9).all()
    modes = set(membership.table("attacks").to_frame()["mode"])
    assert modes == {"this model", "this training recipe"}
    roc = membership.table("roc").to_frame()
    assert roc.groupby(["mode", "attack"]).size().max() <= 200


@pytest.mark.parametrize("light", [True, False], ids=["light", "default"])
@pytest.mark.parametrize("name", ["lead_scoring", "churn"])
def test_regularised_samples_are_at_most_a_low_risk(sample_report, name, light):
    """Issue criteria: lead_scoring (the control) and churn (regularised boosting) are a low risk
    or not detected, on the light and on the default profile, and every privacy finding passes
    (lead_scoring: the AUC interval contains 0.5 or lies below 0.55). Read from the session's
    audit reports (the probes as the runner ran them; the reports are shared with other tests)."""
    report = sample_report(name, light=light)
    membership, memorisation = report.probes["membership"], report.probes["memorisation"]
    for result in (membership, memorisation):
        for finding in result.findings:
            assert finding.severity is Severity.PASS, (finding.id, finding.statement)
    assert membership.params["risk_level"] in ("not detected", "low")
    auc = membership.metric("strongest.auc")
    tpr = membership.metric("strongest.tpr_at_fpr_0p1pct")
    assert auc.ci[0] <= 0.55 and auc.ci[1] < 0.65 and tpr.ci[0] <= 0.005
    if name == "lead_scoring":  # the control: nothing planted
        assert auc.ci[0] <= 0.5 <= auc.ci[1] or auc.ci[1] < 0.55
    assert np.isfinite(memorisation.metric("memorisation.share_high").value)
