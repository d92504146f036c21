"""Disparities against a chosen reference group: the probe's own output is the oracle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.subject import AuditSubject
from audits.fairness import run_fairness
from audits.fairness_reference import VIEW_COLUMNS, metric_view, reference_tables
from reports.drilldown import config_from_report, ensure_same_subject

CFG = AuditConfig(n_bootstrap=100, intersections=True)


def _rows(table, field=None) -> list[tuple]:
    i = list(table.columns).index("field")
    return [r for r in table.rows if field is None or r[i] == field]


@pytest.fixture(scope="module")
def small():
    """Three groups (A favoured through the district input, B and C less), plus gender."""
    rng = np.random.default_rng(1)

    def frame(n):
        eth = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
        district = np.where(rng.random(n) < 0.85, eth, rng.choice(["A", "B", "C"], n))
        y = (rng.random(n) < np.where(district == "A", 0.6, 0.3)).astype(int)
        return pd.DataFrame({"district": district.astype(object), "tenure": rng.gamma(2, 10, n),
                             "ethnicity": eth.astype(object),
                             "gender": rng.choice(["f", "m"], n).astype(object), "y": y})

    members, nonmembers = frame(2000), frame(3000)
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["district"]),
                                                  remainder="passthrough"),
                          LogisticRegression(max_iter=500))
    model.fit(members[["district", "tenure"]], members["y"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="y",
                        positive_label=1, feature_columns=("district", "tenure"),
                        sensitive_fields=("ethnicity", "gender"), seed=3)


@pytest.mark.parametrize("reference", [None, {"ethnicity": "B"}, {"ethnicity*gender": "C & m"}])
def test_reproduces_the_probe_for_its_reference(small, reference):
    """The probe run with a (configured or default) reference gives the same rows, to the bit."""
    result = run_fairness(small, dataclasses.replace(CFG, reference_groups=reference or {},
                                                     whatif=False,
                                                     proxy_models=False))
    refs = result.params["reference_groups"]
    for field in result.params["fields"]:
        groups, disp = reference_tables(small, CFG, field, reference=refs[field])
        assert groups.rows == tuple(_rows(result.table("fairness.groups"), field))
        assert disp.rows == tuple(_rows(result.table("fairness.disparities"), field))
        assert groups.columns == result.table("fairness.groups").columns
        assert disp.columns == result.table("fairness.disparities").columns


def test_another_reference_changes_the_comparisons_not_the_rates(small):
    result = run_fairness(small, dataclasses.replace(CFG, whatif=False, proxy_models=False))
    assert result.params["reference_groups"]["ethnicity"] == "A"
    groups, disp = reference_tables(small, CFG, "ethnicity", reference="C")
    before = metric_view(result.table("fairness.groups"), result.table("fairness.disparities"),
                         "ethnicity", "selection_rate").set_index("group")
    after = metric_view(groups, disp, "ethnicity", "selection_rate").set_index("group")
    assert list(after.columns) == list(VIEW_COLUMNS[1:])
    assert after.loc["C", "is_reference"] and after.loc["C", "ratio"] == 1.0
    assert after.loc["C", "ratio_low"] is None and after.loc["C", "severity"] is None
    # the group rates and their intervals do not depend on the reference
    for col in ("value", "low", "high", "n"):
        assert list(after[col]) == list(before[col])
    # the ratios are the rates divided by the new reference's
    for g in ("A", "B"):
        assert after.loc[g, "ratio"] == pytest.approx(after.loc[g, "value"]
                                                      / after.loc["C", "value"])
        assert after.loc[g, "ratio_low"] < after.loc[g, "ratio"] < after.loc[g, "ratio_high"]
        assert after.loc[g, "severity"] in ("pass", "attention", "inconclusive", "fail")
    assert after.loc["A", "ratio"] > 1 > before.loc["C", "ratio"]
    assert set(pd.DataFrame(disp.rows, columns=disp.columns)["reference"]) == {"C"}


def test_metric_view_marks_small_groups_and_uncompared_rates(small):
    frame = small.nonmembers.copy()
    frame.loc[frame.index[:12], "ethnicity"] = "D"  # a group of 12: too small to judge
    sub = dataclasses.replace(small, nonmembers=frame)
    groups, disp = reference_tables(sub, CFG, "ethnicity", reference="A")
    view = metric_view(groups, disp, "ethnicity", "fpr").set_index("group")
    assert not view.loc["D", "assessed"] and view.loc["D", "value"] is None
    assert view.loc["D", "ratio"] is None
    assert view.loc["B", "assessed"] and view.loc["B", "family_size"] >= 1


def test_bad_input_is_named(small):
    with pytest.raises(InputError, match="valid"):
        reference_tables(small, CFG, "religion", reference="A")
    with pytest.raises(InputError, match="not a group"):
        reference_tables(small, CFG, "ethnicity", reference="Z")
    groups, disp = reference_tables(small, CFG, "ethnicity", reference="A")
    with pytest.raises(InputError, match="Unknown metric"):
        metric_view(groups, disp, "ethnicity", "accuracy_ratio")


def test_reproduces_the_churn_report(sample_report, sample_subject):
    """Same reference as the stored report: the same numbers as the report, every field."""
    report = sample_report("churn", light=True)
    subject = sample_subject("churn")
    ensure_same_subject(subject, report.subject)
    cfg = config_from_report(report.config)
    probe = report.probes["fairness"]
    for field, ref in probe.params["reference_groups"].items():
        groups, disp = reference_tables(subject, cfg, field, reference=ref,
                                        part=probe.params["part"])
        assert groups.rows == tuple(_rows(probe.table("fairness.groups"), field))
        assert disp.rows == tuple(_rows(probe.table("fairness.disparities"), field))
    view = metric_view(*reference_tables(subject, cfg, "ethnicity", reference="White"),
                       "ethnicity", "selection_rate").set_index("group")
    assert view.loc["Black", "severity"] == "fail" and view.loc["Black", "ratio_high"] < 0.8


def test_a_different_subject_is_refused(small):
    summary = small.summary()
    ensure_same_subject(small, summary)
    changed = dict(summary, files={"model": {"path": "m.skops", "sha256": "0" * 64}})
    with pytest.raises(InputError, match="not the ones this report audited"):
        ensure_same_subject(small, changed)
    with pytest.raises(InputError, match="seed"):
        ensure_same_subject(small, dict(summary, seed=99))
