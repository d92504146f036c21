"""Performance probe: planted truth on the samples, a closed form on a null model, and support
for a model outside scikit-learn (LightGBM)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import roc_auc_score

from audits.core.config import AuditConfig
from audits.core.results import Severity
from audits.core.subject import AuditSubject
from audits.performance import run_performance


def test_gap_planted_on_purchase_propensity_not_on_lead_scoring(sample_report):
    """Done when: the gap intervals do not overlap, purchase_propensity's the larger."""
    pp = sample_report("purchase_propensity").probes["performance"].metric("auc_gap")
    ls = sample_report("lead_scoring").probes["performance"].metric("auc_gap")
    assert pp.ci[0] > ls.ci[1]
    assert pp.value > 0.2 and abs(ls.value) < 0.03
    finding = {f.id: f for f in sample_report("purchase_propensity").findings}
    assert finding["performance.generalisation_gap.auc"].severity is Severity.ATTENTION
    finding = {f.id: f for f in sample_report("lead_scoring").findings}
    assert finding["performance.generalisation_gap.auc"].severity is Severity.PASS


def test_point_values_match_sklearn(sample_subject):
    subject = sample_subject("lead_scoring")
    result = run_performance(subject, AuditConfig.light())
    for part in ("members", "nonmembers"):
        auc = roc_auc_score(subject.y(part), subject.scores(part))
        m = result.metric(f"auc.{part}")
        assert m.value == pytest.approx(auc)
        assert m.ci[0] < auc < m.ci[1]


def frame(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    return pd.DataFrame(x, columns=["a", "b", "c"]).assign(y=y)


def test_dummy_model_has_chance_auc_and_no_gap():
    tr, te = frame(2000, 1), frame(2000, 2)
    model = DummyClassifier(strategy="prior").fit(tr[["a", "b", "c"]], tr["y"])
    subject = AuditSubject(model=model, members=tr, nonmembers=te, target="y", positive_label=1,
                           feature_columns=("a", "b", "c"))
    result = run_performance(subject, AuditConfig.light())
    assert result.metric("auc.members").value == 0.5
    assert result.metric("auc_gap").value == 0.0
    assert result.findings[0].severity is Severity.PASS
    assert "within the bound" in result.findings[0].statement


def test_straddling_gap_passes_but_says_it_is_not_shown():
    from audits.core.results import Metric
    from audits.performance import _gap_statement

    text = _gap_statement(Metric("auc_gap", 0.05, ci=(0.03, 0.08)), 0.05, Severity.PASS)
    assert "not shown" in text and "within the bound" not in text


def test_lightgbm_model_through_the_loader(tmp_path):
    """A non-scikit-learn model (LightGBM's scikit-learn wrapper), saved as a trusted pickle."""
    import joblib
    from lightgbm import LGBMClassifier

    from audits.core.loading import load_subject

    tr, te = frame(1500, 3), frame(1500, 4)
    model = LGBMClassifier(n_estimators=30, verbose=-1, random_state=0).fit(
        tr[["a", "b", "c"]], tr["y"])
    joblib.dump(model, tmp_path / "lgbm.joblib")
    tr.to_csv(tmp_path / "tr.csv", index=False)
    te.to_parquet(tmp_path / "te.parquet")
    subject = load_subject(tmp_path / "lgbm.joblib", tmp_path / "tr.csv", tmp_path / "te.parquet",
                           target="y", trust_pickle=True)
    assert subject.feature_columns == ("a", "b", "c")
    result = run_performance(subject, AuditConfig.light())
    assert result.metric("auc.nonmembers").value > 0.75
