"""One customer's explanation on demand: the report's own local explanations are the oracle, and
the probe and the drill-down share one function for it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from audits.core.errors import InputError
from audits.record_explanation import REDACTED, example_records, explain_record, find_record
from reports.drilldown import config_from_report


def _frame(table, record=None):
    f = table.to_frame()
    return f if record is None else f[f["record"] == record].reset_index(drop=True)


@pytest.fixture(scope="module")
def churn(sample_report, sample_subject):
    report = sample_report("churn", light=True)
    return report, sample_subject("churn"), config_from_report(report.config)


def _explain(report, subject, cfg, record):
    p = report.probes["explainability"].params
    return explain_record(subject, cfg, record, explainer=p["explainer"],
                          n_lime_seeds=p["lime_seeds"], lime_samples=p["lime_samples"],
                          top_k=p["top_k"])


def test_reproduces_the_reports_local_explanation(churn):
    report, subject, cfg = churn
    probe = report.probes["explainability"]
    record = probe.table("local_summary").rows[0][0]
    local, summary = _explain(report, subject, cfg, record)
    want = _frame(probe.table("local_explanations"), record)
    got = _frame(local)
    assert list(got["feature"]) == list(want["feature"]) == list(subject.feature_columns)
    assert list(got["value"]) == list(want["value"])
    np.testing.assert_allclose(got["shap"], want["shap"], atol=1e-9)
    np.testing.assert_allclose(got["lime_weight"], want["lime_weight"], atol=1e-9)
    assert list(got["shap_rank"]) == list(want["shap_rank"])
    s, w = _frame(summary).iloc[0], _frame(probe.table("local_summary"), record).iloc[0]
    for col in ("score", "shap_base", "shap_output", "lime_stability",
                "lime_shap_feature_agreement", "lime_shap_sign_agreement", "lime_shap_spearman"):
        assert s[col] == pytest.approx(w[col], abs=1e-9), col
    assert s["part"] == "nonmembers" and s["reason"] == "requested"


def test_shap_adds_up_to_this_customers_own_score(churn):
    """base + sum(SHAP) = output, and the output is this customer's score on the margin scale,
    for a training customer the report never explained."""
    report, subject, cfg = churn
    record = subject.record_ids("members")[7]
    local, summary = _explain(report, subject, cfg, record)
    s = _frame(summary).iloc[0]
    assert s["part"] == "members" and s["scale"] == "margin"
    shap = _frame(local)["shap"].to_numpy()
    assert s["shap_base"] + shap.sum() == pytest.approx(s["shap_output"], abs=1e-9)
    assert 1 / (1 + np.exp(-s["shap_output"])) == pytest.approx(subject.scores("members")[7],
                                                                abs=1e-9)
    assert s["score"] == pytest.approx(subject.scores("members")[7])
    assert 0 <= s["lime_stability"] <= 1


def test_personal_inputs_are_redacted(churn):
    _, subject, cfg = churn
    masked = dataclasses.replace(subject, personal_columns=subject.personal_columns + ("age",))
    local, _ = explain_record(masked, cfg, subject.record_ids("nonmembers")[3], n_lime_seeds=2,
                              lime_samples=200)
    values = dict(zip(_frame(local)["feature"], _frame(local)["value"]))
    assert values["age"] == REDACTED and values["plan"] != REDACTED


def test_unknown_pseudonym_and_examples(churn):
    _, subject, _ = churn
    with pytest.raises(InputError, match="No customer has the pseudonymised id"):
        find_record(subject, "p-000000000000")
    ids = example_records(subject, "nonmembers", n=5, random_state=0)
    assert len(set(ids)) == 5 and all(i.startswith("p-") for i in ids)
    assert ids == example_records(subject, "nonmembers", n=5, random_state=0)
    assert [find_record(subject, i)[0] for i in ids] == ["nonmembers"] * 5


def test_the_probe_and_the_drill_down_call_the_same_function(monkeypatch, churn):
    """The report's example customers and an on-demand explanation both go through
    explain_row: a change there reaches both (no second copy of the loop to drift)."""
    import audits.explainability as probe_module
    import audits.record_explanation as module

    calls = []
    real = module.explain_row

    def spy(*args, **kwargs):
        calls.append(kwargs["reason"])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "explain_row", spy)
    monkeypatch.setattr(probe_module, "explain_row", spy)
    report, subject, cfg = churn
    _explain(report, subject, cfg, subject.record_ids("nonmembers")[0])
    assert calls == ["requested"]


def test_a_model_lime_cannot_run_on_keeps_its_shap_side(churn, monkeypatch):
    """LIME failing leaves LIME's columns missing (NaN), never a crash and never a number."""
    import audits.lime_local as lime_local

    def broken(*args, **kwargs):
        raise ValueError("no LIME for this model")

    monkeypatch.setattr(lime_local, "explain_local", broken)
    _, subject, cfg = churn
    local, summary = explain_record(subject, cfg, subject.record_ids("nonmembers")[2],
                                    n_lime_seeds=2, lime_samples=200)
    frame = _frame(local)
    assert frame["lime_weight"].isna().all() and frame["lime_rank"].isna().all()
    assert np.isfinite(frame["shap"]).all()
    s = _frame(summary).iloc[0]
    assert pd.isna(s["lime_stability"]) and "no LIME for this model" in summary.note


@pytest.mark.parametrize("id_column", [True, False], ids=["id column", "row position"])
def test_pseudonyms_of_chosen_rows_are_those_of_every_row(sample_subject, id_column):
    """``record_ids(part, rows=...)`` names only the rows asked for (the probes pseudonymise
    only what they show), each as the whole list names it, in the order asked."""
    subject = sample_subject("churn")
    if not id_column:
        subject = dataclasses.replace(subject, id_column=None)
    every = subject.record_ids("nonmembers")
    rows = [17, 3, len(every) - 1, 3]
    assert subject.record_ids("nonmembers", rows=rows) == [every[i] for i in rows]
    assert subject.record_ids("nonmembers", rows=np.array([], dtype=int)) == []
    assert example_records(subject, n=5, random_state=2) == [
        every[i] for i in np.sort(np.random.default_rng(2).choice(len(every), 5,
                                                                   replace=False))]
