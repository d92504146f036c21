"""Erasure verification: the memorising forest still exposes its erased customers (retrain), the
regularised churn model exposes them no more than its other members (no retraining), erased ids
are never printed; a broken comparison (erased against the other members instead of customers
never seen) must miss the forest's exposure (``xfail(strict=True)``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from attacks import erasure
from attacks.erasure import auc_with_interval, run_erasure
from audits.core.config import AuditConfig
from audits.core.results import Severity

CONFIG = AuditConfig.light()


def only_finding(result):
    (finding,) = result.findings
    assert finding.id == "privacy.erasure_exposure.all"
    return finding


def check_forest_exposes_them(subject):
    result = run_erasure(subject, CONFIG)
    finding = only_finding(result)
    assert finding.severity is Severity.FAIL, finding.statement
    assert finding.metric.ci[0] > 0.65
    assert result.params["retrain_needed"] is True
    assert "retrained without them" in finding.statement
    assert finding.metric.n == 40


def test_purchase_propensity_erased_members_are_exposed(sample_subject):
    check_forest_exposes_them(sample_subject("purchase_propensity"))


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: erased compared with the other members")
def test_exposure_is_missed_when_compared_with_members(sample_subject, monkeypatch):
    monkeypatch.setattr(erasure, "BASELINE", "members")
    check_forest_exposes_them(sample_subject("purchase_propensity"))


def test_churn_erased_members_are_no_more_exposed_than_the_others(sample_subject):
    subject = sample_subject("churn")
    result = run_erasure(subject, CONFIG)
    finding = only_finding(result)
    # 80 erased customers: no exposure is shown, and the interval is too wide to rule one out
    # reaching the attention bound (THRESHOLDS.md: inconclusive, not a pass)
    assert finding.severity in (Severity.PASS, Severity.INCONCLUSIVE), finding.statement
    assert result.metric("exposure_auc").ci[0] < 0.5 < result.metric("exposure_auc").ci[1]
    assert result.params["retrain_needed"] is False
    lo, hi = result.metric("exposure_auc_vs_members").ci
    assert lo < 0.5 < hi
    assert "no more exposed than the other training customers" in finding.statement
    assert ("retraining is not needed" in finding.statement
            or "no exposure is shown" in finding.statement)
    blob = json.dumps(result.to_dict())
    assert not any(i in blob for i in subject.rights.erasure.ids)


def test_no_erased_member_means_nothing_to_unlearn(sample_subject):
    finding = only_finding(run_erasure(sample_subject("lead_scoring"), CONFIG))
    assert finding.severity is Severity.PASS
    assert "not trained on them" in finding.statement


def test_auc_with_interval_matches_sklearn():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.4, 1, 60), rng.normal(0, 1, 3000)
    a[:5] = b[:5]                                               # ties count one half
    point, (lo, hi) = auc_with_interval(a, b, n_boot=300, confidence=0.95, random_state=1)
    assert point == pytest.approx(roc_auc_score(np.r_[np.ones(60), np.zeros(3000)], np.r_[a, b]))
    assert lo < point < hi and hi - lo < 0.25
    again = auc_with_interval(a, b, n_boot=300, confidence=0.95, random_state=1)
    assert again == (point, (lo, hi))
