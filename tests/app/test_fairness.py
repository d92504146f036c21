"""The Fairness page, driven headless with streamlit.testing (report and source seeded).

Planted truth (sample_models): churn's model gives the retention discount to Black customers at
about half the rate of the others (four-fifths rule fails, ratio about 0.47), through
postcode_region, a proxy of ethnicity (Cramér's V about 0.64); lead_scoring is the control
(nothing fails; its small intersections leave some checks inconclusive). The audit compares
every pair of groups, so any reference group is a view of the report; a report stored before
that (schema 1.0) is recomputed.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from audits.core.results import Table
from tests.app import pages
from views.plot_style import SEVERITY

ROOT = Path(__file__).resolve().parents[2]


def open_page(report, name: str) -> AppTest:
    return pages.open_page(report, name, "fairness", "Fairness")


def charts(at: AppTest) -> dict[str, dict]:
    return pages.charts(at)


def group_chart(at: AppTest) -> dict:
    return next(s for t, s in charts(at).items() if ", by " in t)


def table_with(at: AppTest, first_column: str):
    """The table on the page whose first column is ``first_column``."""
    return next(t for t in pages.tables(at) if str(t.columns[0]) == first_column)


def group_rate(report, field: str, group: str, metric: str = "selection_rate") -> float:
    g = report.probes["fairness"].table("fairness.groups").to_frame()
    return float(g[(g["field"] == field) & (g["group"] == group)][metric].iloc[0])


def reference_of(report, field: str) -> str:
    """The group the page first shows the others against (the largest), read from the report."""
    return str(report.probes["fairness"].params["reference_groups"][field])


def other_than(report, field: str, *excluded: str) -> str:
    """A group of ``field`` that is neither the reference nor one of ``excluded``."""
    g = report.probes["fairness"].table("fairness.groups").to_frame()
    groups = sorted(g[g["field"] == field]["group"].astype(str))
    return next(x for x in groups if x not in {reference_of(report, field), *excluded})


@pytest.fixture(scope="module")
def churn(sample_report):
    return sample_report("churn", light=True)


def test_field_picker_lists_fields_and_their_intersection(churn):
    at = open_page(churn, "churn")
    picker = at.selectbox(key="fairness_field")
    assert picker.options == ["ethnicity", "gender", "ethnicity × gender (both together)"]
    picker.select("ethnicity*gender").run()
    assert not at.exception
    ref = at.selectbox(key="fairness_reference_ethnicity*gender")
    assert len(ref.options) == 8 and "Black & female" in ref.options
    bars = [t for t in group_chart(at)["data"] if t["type"] == "bar"]
    assert sum(len(t["x"]) for t in bars) == 8


def test_selection_rate_chart_bars_whiskers_and_four_fifths_line(churn):
    at = open_page(churn, "churn")
    assert at.selectbox(key="fairness_metric").value == "selection_rate"
    spec = group_chart(at)
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    xs = [x for t in bars for x in t["x"]]
    assert sorted(xs) == ["Asian", "Black", "Mixed/Other", "White"]  # one bar per group
    for t in bars:
        assert t["error_y"]["visible"] and not t["error_y"]["symmetric"]
        assert all(v is not None and v > 0 for v in t["error_y"]["array"])
    by_name = {t["name"]: t for t in bars}
    assert by_name["fails"]["x"] == ["Black"]
    patterns = {t["name"]: t["marker"]["pattern"]["shape"] for t in bars}
    assert len(set(patterns.values())) == len(patterns)  # told apart without colour
    # the band of the four-fifths rule, read both ways, around the reference (the largest group)
    ref = reference_of(churn, "ethnicity")
    assert ref == "White"
    lines = sorted(s["y0"] for s in spec["layout"]["shapes"] if s["y0"] == s["y1"])
    assert lines == pytest.approx([0.8 * group_rate(churn, "ethnicity", ref),
                                   1.25 * group_rate(churn, "ethnicity", ref)])
    texts = [t.get("name") or "" for t in spec["data"]]  # each line named in the legend
    assert any(t.startswith(f"four-fifths of {ref}") for t in texts)
    assert any(t.startswith(f"1.25 × {ref}") for t in texts)
    labels = next(t for t in spec["data"] if t["type"] == "scatter")["text"]
    n_black = int(group_rate(churn, "ethnicity", "Black", "n"))
    assert any(f"n={n_black:,}" in t and "fails" in t for t in labels)


def test_black_customers_fail_the_four_fifths_rule(churn):
    at = open_page(churn, "churn")
    ref, other = reference_of(churn, "ethnicity"), other_than(churn, "ethnicity", "Black")
    table = table_with(at, "Group").set_index("Group")
    ratio = float(table.filter(like=f"Ratio to {ref}").loc["Black"].iloc[0].split()[0])
    assert ratio == pytest.approx(0.47, abs=0.05)
    assert table.loc["Black", "Verdict"].startswith("fails")
    assert table.loc[other, "Verdict"].startswith("ok")
    assert table.loc[ref, "Verdict"] == "reference group"


def test_changing_the_reference_reads_the_audited_pairs_against_it(churn):
    at = open_page(churn, "churn")
    ref = reference_of(churn, "ethnicity")
    new = other_than(churn, "ethnicity", "Black")  # another group: a view, not a recomputation
    at.selectbox(key="fairness_reference_ethnicity").select(new).run()
    assert not at.exception
    assert not any("Recomputed" in i.value for i in at.info)
    table = table_with(at, "Group").set_index("Group")
    col = next(c for c in table.columns if c.startswith(f"Ratio to {new}"))
    assert table.loc[new, col] == "1 (reference)"
    black = table.loc["Black", col]
    point, low, high = float(black.split()[0]), float(black.split()[1][1:]), \
        float(black.split()[3][:-1])
    # the ratio is the two groups' rates (which do not depend on the reference) divided
    expected = group_rate(churn, "ethnicity", "Black") / group_rate(churn, "ethnicity", new)
    assert point == pytest.approx(expected, abs=6e-4)
    assert low < point < high < 0.8  # the whole interval below four-fifths: fails
    assert table.loc["Black", "Verdict"].startswith("fails")
    assert table.loc[ref, "Verdict"].startswith("ok")
    spec = group_chart(at)
    texts = [t.get("name") or "" for t in spec["data"]]
    assert any(t.startswith(f"four-fifths of {new}") for t in texts)
    line = min(s["y0"] for s in spec["layout"]["shapes"] if s["y0"] == s["y1"])
    assert line == pytest.approx(0.8 * group_rate(churn, "ethnicity", new))
    # the pair read against the new reference is the stored pair, inverted where it must be
    d = churn.probes["fairness"].table("fairness.disparities").to_frame()
    stored = d[(d["field"] == "ethnicity") & (d["metric"] == "selection_rate")
               & (d["group"] == "Black") & (d["reference"] == new)].iloc[0]
    assert (low, high) == pytest.approx((stored["ratio_low"], stored["ratio_high"]), abs=6e-4)


def test_a_schema_1_0_report_recomputes_against_another_reference(churn):
    """A report stored when the audit compared each group with the most favoured one holds only
    those pairs: another reference is recomputed with the probe's own code."""
    probe = churn.probes["fairness"]
    d = probe.table("fairness.disparities").to_frame()
    d = d[(d["field"] != "ethnicity") | (d[["group", "reference"]] == "White").any(axis=1)]
    params = {k: v for k, v in probe.params.items() if k != "comparisons"}
    old_probe = dataclasses.replace(probe, params=params, tables=tuple(
        Table.from_frame(t.name, d, title=t.title, note=t.note) if t.name ==
        "fairness.disparities" else t for t in probe.tables))
    old = dataclasses.replace(churn, probes=churn.probes | {"fairness": old_probe},
                              report_id="")
    at = open_page(old, "churn")
    new = other_than(churn, "ethnicity", "Black")
    at.selectbox(key="fairness_reference_ethnicity").select(new).run()
    assert not at.exception
    assert any(f"Recomputed against '{new}'" in i.value for i in at.info)
    table = table_with(at, "Group").set_index("Group")
    assert table.loc["Black", "Verdict"].startswith("fails")

def test_error_rate_metric_draws_the_tolerance_band(churn):
    at = open_page(churn, "churn")
    at.selectbox(key="fairness_metric").select("fpr").run()
    spec = group_chart(at)
    ys = sorted(s["y0"] for s in spec["layout"]["shapes"] if s["y0"] == s["y1"])
    ref = group_rate(churn, "ethnicity", reference_of(churn, "ethnicity"), "fpr")
    assert ys == pytest.approx([0.8 * ref, 1.25 * ref])
    at.radio(key="fairness_view").set_value("ratios").run()
    ratio = next(s for t, s in charts(at).items() if "ratio to" in t)
    assert ratio["layout"]["yaxis"]["type"] == "log"
    symbols = {t["name"]: t["marker"]["symbol"] for t in ratio["data"]
               if t.get("mode") != "lines"}  # the threshold lines' legend entries have none
    assert len(set(symbols.values())) == len(symbols) >= 2


def test_proxy_table_shows_postcode_region_standing_in_for_ethnicity(churn):
    at = open_page(churn, "churn")
    table = table_with(at, "Model input")
    row = table[(table["Model input"] == "postcode_region")
                & (table["Sensitive field"] == "ethnicity")].iloc[0]
    strength = next(c for c in table.columns if c.startswith("How strongly the input predicts"))
    assert float(row[strength].split()[0]) == pytest.approx(0.64, abs=0.06)
    assert row["Verdict"].startswith("stands in")
    others = table[table["Model input"] != "postcode_region"]
    assert not others["Verdict"].str.startswith("stands in").any()


def test_whatif_is_labelled_as_a_scenario(churn):
    at = open_page(churn, "churn")
    heads = [s.value for s in at.subheader]
    assert any(h.startswith("Scenario (not the audited model)") for h in heads)
    assert any("does not change the audited model" in w.value for w in at.warning)
    scenario = table_with(at, "Scenario")
    assert len(scenario) == 3 and scenario["Scenario"].iloc[0] == "The audited model (before)"
    assert any("accuracy against equal treatment" in t for t in charts(at))


def test_lead_scoring_control_shows_nothing_failing(sample_report):
    report = sample_report("lead_scoring", light=True)
    at = open_page(report, "lead_scoring")
    summary = table_with(at, "Customers compared by")
    verdicts = set(summary.iloc[:, -3:].to_numpy().ravel())
    assert "✗ Fail" not in verdicts and "! Needs attention" not in verdicts
    assert "? Inconclusive" in verdicts  # the symbol and the word
    fields = at.selectbox(key="fairness_field")
    for field in ["gender", "age_band", "gender*age_band"]:
        at.selectbox(key="fairness_field").select(field).run()
        for metric in ["selection_rate", "fpr", "fnr", "precision"]:
            at.selectbox(key="fairness_metric").select(metric).run()
            assert not at.exception
            verdicts = table_with(at, "Group")["Verdict"]
            assert not verdicts.str.startswith("fails").any(), (field, metric)
            assert not any(t.get("name") == "fails" for t in group_chart(at)["data"])
    assert fields.options[0] == "gender"


def test_what_the_rows_could_not_establish_is_said_in_words(sample_report):
    report = sample_report("lead_scoring", light=True)
    unsettled = [f for f in report.findings if f.area == "fairness"
                 and f.severity.value in ("inconclusive", "not_assessed")]
    assert unsettled
    at = open_page(report, "lead_scoring")
    text = " ".join(m.value for m in at.markdown)
    assert f"What these rows could not establish** ({len(unsettled)})" in text
    captions = pages.plain(" ".join(c.value for c in at.caption))
    for f in unsettled:  # the title as written ("gender*age_band" keeps its asterisk)
        icon = SEVERITY[f.severity.value]["icon"]
        assert f"{icon} {f.severity.label}</span>: <b>{html.escape(f.title, quote=False)}</b>" \
            in text
        assert f.statement in captions
    assert any("These rows cannot establish" in c.value for c in at.caption)
    heads = [s.value for s in at.subheader]
    assert "Is the model as accurate for each group?" in heads
    drops = next(t for t in pages.tables(at)
                 if any(str(c).startswith("Drop against overall") for c in t.columns))
    expected = report.probes["fairness"].table("fairness.subgroup_performance").to_frame()
    expected = expected[expected["field"] == "gender"]
    assert list(drops["Verdict"]) == [{"pass": "✓ Pass", "inconclusive": "? Inconclusive"}.get(
        s, s) for s in expected["severity"]]


def test_small_groups_are_marked_in_words_and_pattern():
    from views.fairness_charts import group_bars, ratio_dots

    rows = [{"group": "A", "n": 500, "value": 0.4, "low": 0.35, "high": 0.45, "ratio": 1.0,
             "verdict": "reference"},
            {"group": "B", "n": None, "value": None, "low": None, "high": None, "ratio": None,
             "verdict": "small"},
            {"group": "C", "n": 300, "value": 0.2, "low": 0.15, "high": 0.25, "ratio": 0.5,
             "ratio_low": 0.4, "ratio_high": 0.62, "verdict": "fail"}]
    spec = group_bars(rows, title="t", y_title="y", percent=True,
                      lines=[(0.32, "four-fifths of A")]).to_plotly_json()
    bars = {t["name"]: t for t in spec["data"] if t["type"] == "bar"}
    assert list(bars["too few customers to judge"]["x"]) == ["B"]
    assert list(bars["too few customers to judge"]["y"]) == [0.0]
    assert len({t["marker"]["pattern"]["shape"] for t in bars.values()}) == 3
    labels = next(t for t in spec["data"] if t["type"] == "scatter")["text"]
    assert labels[1] == "n<10<br>too few customers to judge"
    assert labels[2].startswith("20.0%<br>n=300<br>fails")
    dots = ratio_dots(rows, title="t", reference="A", lines=[(0.8, "four-fifths")])
    assert sorted(x for t in dots.data if t.mode != "lines" for x in t.x) == ["A", "C"]


def test_a_regression_reads_its_groups_against_the_largest(sample_report):
    """customer_value (a regression): its fairness probe compares every pair of groups but names
    no reference group, and the page stopped at "fewer than two groups" (issue 16's tour of
    every sample found it). It now reads the groups against the largest, as for a classifier."""
    report = sample_report("customer_value", light=True)
    assert "reference_groups" not in report.probes["fairness"].params
    at = pages.open_page(report, "customer_value", "fairness", "Fairness")
    assert not any("Fewer than two groups" in i.value for i in at.info)
    g = report.probes["fairness"].table("fairness.groups").to_frame()
    sizes = g[g["field"] == "gender"].set_index("group")["n"]
    assert at.selectbox(key="fairness_reference_gender").value == str(sizes.idxmax())
    chart = group_chart(at)  # every group's rate, with the threshold lines around the largest
    assert {str(x) for t in chart["data"] if t.get("type") == "bar" for x in t["x"]} == \
        {str(x) for x in sizes.index}
