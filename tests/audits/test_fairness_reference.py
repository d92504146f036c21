"""Comparisons read against a chosen reference group: a view of the probe's pairs, and the
recomputation for reports stored before every pair was compared; the probe's own output is the
oracle."""

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
from audits.core.results import Table
from audits.core.subject import AuditSubject
from audits.fairness import run_fairness
from audits.fairness_reference import VIEW_COLUMNS, against, metric_view, reference_tables
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


@pytest.mark.parametrize("configured", [None, {"ethnicity": "B"}, {"ethnicity*gender": "C & m"}])
def test_recomputation_reproduces_the_probe_against_any_reference(small, configured):
    """The recomputation gives the probe's own rows to the bit, read against each group."""
    cfg = dataclasses.replace(CFG, reference_groups=configured or {}, whatif=False,
                              proxy_models=False)
    result = run_fairness(small, cfg)
    disp = result.table("fairness.disparities").to_frame()
    for field in result.params["fields"]:
        levels = [r[1] for r in _rows(result.table("fairness.groups"), field)]
        for ref in levels[:3]:
            groups, mine = reference_tables(small, cfg, field, reference=ref)
            assert groups.rows == tuple(_rows(result.table("fairness.groups"), field))
            assert mine.rows == Table.from_frame("x", against(disp, field, ref)).rows
            assert groups.columns == result.table("fairness.groups").columns
            assert mine.columns == result.table("fairness.disparities").columns


def test_every_pair_is_in_the_report_so_any_reference_is_a_view(small):
    result = run_fairness(small, dataclasses.replace(CFG, whatif=False, proxy_models=False))
    assert result.params["comparisons"] == "all_pairs"
    assert result.params["reference_groups"]["ethnicity"] == "A"  # the largest group
    groups, disp = result.table("fairness.groups"), result.table("fairness.disparities")
    before = metric_view(groups, disp, "ethnicity", "selection_rate").set_index("group")
    after = metric_view(groups, disp, "ethnicity", "selection_rate",
                        reference="C").set_index("group")
    assert list(after.columns) == list(VIEW_COLUMNS[1:])
    assert before.loc["A", "is_reference"] and after.loc["C", "is_reference"]
    assert after.loc["C", "ratio"] == 1.0 and after.loc["C", "ratio_low"] is None
    # the group rates and their intervals do not depend on the reference
    for col in ("value", "low", "high", "n"):
        assert list(after[col]) == list(before[col])
    # a pair read the other way: the reciprocal ratio and band, the same severity
    assert after.loc["A", "ratio"] == pytest.approx(1 / before.loc["C", "ratio"])
    assert after.loc["A", "ratio_low"] == pytest.approx(1 / before.loc["C", "ratio_high"])
    assert after.loc["A", "ratio_high"] == pytest.approx(1 / before.loc["C", "ratio_low"])
    assert after.loc["A", "severity"] == before.loc["C", "severity"]
    assert after.loc["A", "difference"] == pytest.approx(-before.loc["C", "difference"])
    for g in ("A", "B"):
        assert after.loc[g, "ratio"] == pytest.approx(after.loc[g, "value"]
                                                      / after.loc["C", "value"])
        assert after.loc[g, "ratio_low"] < after.loc[g, "ratio"] < after.loc[g, "ratio_high"]
        assert after.loc[g, "severity"] in ("pass", "attention", "inconclusive", "fail")
    assert after.loc["A", "ratio"] > 1 > before.loc["C", "ratio"]


def test_a_schema_1_0_table_reads_against_its_own_reference():
    """Reports stored before every pair was compared mark their reference in the group table
    and hold only its pairs."""
    groups = Table("fairness.groups", ("field", "group", "n", "status", "selection_rate",
                                       "selection_rate_low", "selection_rate_high"),
                   ((("f", "x", 100, "reference", 0.5, 0.4, 0.6)),
                    ("f", "y", 90, "assessed", 0.25, 0.2, 0.3)))
    disp = Table("fairness.disparities", ("field", "group", "reference", "metric", "value",
                                          "reference_value", "difference", "difference_low",
                                          "difference_high", "ratio", "ratio_low",
                                          "ratio_high", "family", "family_size", "severity"),
                 (("f", "y", "x", "selection_rate", 0.25, 0.5, -0.25, -0.35, -0.15, 0.5, 0.4,
                   0.62, "disparate_impact", 1, "fail"),))
    view = metric_view(groups, disp, "f", "selection_rate").set_index("group")
    assert view.loc["x", "is_reference"] and view.loc["y", "severity"] == "fail"
    assert view.loc["y", "ratio"] == 0.5


def test_metric_view_marks_small_groups_and_uncompared_rates(small):
    frame = small.nonmembers.copy()
    frame.loc[frame.index[:12], "ethnicity"] = "D"  # a group of 12: too small to judge
    sub = dataclasses.replace(small, nonmembers=frame)
    groups, disp = reference_tables(sub, CFG, "ethnicity", reference="A")
    view = metric_view(groups, disp, "ethnicity", "fpr", reference="A").set_index("group")
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
    """The recomputation gives the stored report's numbers, every field; Black customers fail
    against White customers read either way."""
    report = sample_report("churn", light=True)
    subject = sample_subject("churn")
    ensure_same_subject(subject, report.subject)
    cfg = config_from_report(report.config)
    probe = report.probes["fairness"]
    disp = probe.table("fairness.disparities").to_frame()
    for field, ref in probe.params["reference_groups"].items():
        groups, mine = reference_tables(subject, cfg, field, reference=ref,
                                        part=probe.params["part"])
        assert groups.rows == tuple(_rows(probe.table("fairness.groups"), field))
        assert mine.rows == Table.from_frame("x", against(disp, field, ref)).rows
    view = metric_view(probe.table("fairness.groups"), probe.table("fairness.disparities"),
                       "ethnicity", "selection_rate", reference="White").set_index("group")
    assert view.loc["Black", "severity"] == "fail" and view.loc["Black", "ratio_high"] < 0.8


def test_a_different_subject_is_refused(small):
    summary = small.summary()
    ensure_same_subject(small, summary)
    changed = dict(summary, files={"model": {"path": "m.skops", "sha256": "0" * 64}})
    with pytest.raises(InputError, match="not the ones this report audited"):
        ensure_same_subject(small, changed)
    with pytest.raises(InputError, match="seed"):
        ensure_same_subject(small, dict(summary, seed=99))
