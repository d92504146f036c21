"""The Explainability page, driven headless with streamlit.testing (report and source seeded).

Planted truth (sample_models): churn's postcode_region is a proxy of ethnicity and a top driver;
purchase_propensity takes the sensitive field expecting_parent as an input.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app import pages
from views.plot_style import SEVERITY

ROOT = Path(__file__).resolve().parents[2]


def open_page(report, name: str) -> AppTest:
    return pages.open_page(report, name, "explainability", "Explainability")


def charts(at: AppTest) -> dict[str, dict]:
    return pages.charts(at)


def bars(spec: dict) -> list[dict]:
    return [t for t in spec["data"] if t["type"] == "bar"]


def grade(value: float) -> str:
    return "yes" if value >= 0.9 else "mostly" if value >= 0.7 else "no"


@pytest.fixture(scope="module")
def churn(sample_report):
    return sample_report("churn", light=True)


def test_importance_chart_tags_the_proxy(churn):
    at = open_page(churn, "churn")
    spec = charts(at)["Average effect of each input on the score"]
    traces = {t["name"]: t for t in bars(spec)}
    flagged = traces["flagged input (sensitive, proxy or personal)"]
    assert flagged["y"] == ["postcode_region (proxy for ethnicity)"]
    assert "contract_type" in traces["other inputs"]["y"]
    assert flagged["marker"]["pattern"]["shape"] != traces["other inputs"]["marker"]["pattern"][
        "shape"]
    for t in traces.values():  # interval whiskers on every bar
        assert all(v is not None and v >= 0 for v in t["error_x"]["array"])
    order = spec["layout"]["yaxis"]["categoryarray"][::-1]  # strongest first
    imp = churn.probes["explainability"].table("importance").to_frame()
    assert [o.split(" (")[0] for o in order] == list(imp["feature"])


def test_purchase_propensity_tags_the_sensitive_input(sample_report):
    at = open_page(sample_report("purchase_propensity", light=True), "purchase_propensity")
    spec = charts(at)["Average effect of each input on the score"]
    flagged = {t["name"]: t for t in bars(spec)}["flagged input (sensitive, proxy or personal)"]
    assert "expecting_parent (sensitive)" in flagged["y"]
    picker = at.selectbox(key="explain_group_field")
    assert picker.options == ["expecting_parent"]


def test_dependence_and_group_charts(churn):
    at = open_page(churn, "churn")
    feature = at.selectbox(key="explain_dependence_feature")
    assert "postcode_region (proxy for ethnicity)" in feature.options
    assert [t["type"] for t in charts(at)["How the value of contract_type moves the score"][
        "data"]] == ["box"]
    feature.select("tenure_months").run()
    assert [t["type"] for t in charts(at)["How the value of tenure_months moves the score"][
        "data"]] == ["scatter"]
    group = next(s for t, s in charts(at).items() if t.endswith("by ethnicity"))
    names = [t["name"] for t in bars(group)]
    assert [n.split(" (")[0] for n in names] == ["Asian", "Black", "Mixed/Other", "White"]
    shapes = [t["marker"]["pattern"]["shape"] for t in bars(group)]
    assert len(set(shapes)) == len(shapes)


def test_drill_down_shows_shap_and_lime_side_by_side_with_stability(churn):
    at = open_page(churn, "churn")
    summary = churn.probes["explainability"].table("local_summary").to_frame().iloc[0]
    assert at.selectbox(key="explain_record").value == summary["record"]
    got = charts(at)
    shap, lime = got["SHAP: what moved this score"], got["LIME: what moved this score"]
    assert shap["layout"]["yaxis"]["categoryarray"] == lime["layout"]["yaxis"]["categoryarray"]
    assert any(t.get("error_x", {}).get("array") for t in bars(lime))  # spread over LIME runs
    local = churn.probes["explainability"].table("local_explanations").to_frame()
    local = local[local["record"] == summary["record"]]
    shown = {y: x for t in bars(shap) for y, x in zip(t["y"], t["x"])}
    for r in local.itertuples(index=False):
        assert shown[f"{r.feature} = {r.value}"] == pytest.approx(r.shap)
    text = " ".join(m.value for m in at.markdown)
    assert (f"LIME gives the same reasons each time: {grade(summary['lime_stability'])}."
            in text)
    assert (f"SHAP and LIME agree on what matters: "
            f"{grade(summary['lime_shap_feature_agreement'])}; and on which way it pushes: "
            f"{grade(summary['lime_shap_sign_agreement'])}" in text)
    assert "shown, not judged" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["LIME gives the same reasons each time"] == grade(
        summary["lime_stability"]).capitalize()


def test_lime_is_judged_on_the_random_sample_with_its_intervals(churn):
    at = open_page(churn, "churn")
    probe = churn.probes["explainability"]
    sample = probe.table("lime_sample").to_frame()
    table = next(t for t in pages.tables(at) if "Measure" in t.columns)
    assert len(table) == 3 and (sample["n_customers"] >= 30).all()
    column = next(c for c in table.columns if c.startswith("Mean over"))
    for shown, (mean, lo, hi) in zip(table[column], sample[["mean", "ci_low", "ci_high"]]
                                     .itertuples(index=False)):
        assert shown == f"{mean:.2f} ({lo:.2f} to {hi:.2f})"
    finding = next(f for f in probe.findings if f.id == "explainability.local_stability.lime")
    text = " ".join(m.value for m in at.markdown)
    # the verdict in its severity's colour, with its symbol and word, then the statement
    badge = f"{SEVERITY[finding.severity.value]['icon']} {finding.severity.label}</span>"
    assert badge in text and SEVERITY[finding.severity.value]["fg"] in text
    assert html.escape(finding.statement, quote=False) in text


def test_explain_another_customer_on_demand(churn):
    at = open_page(churn, "churn")
    at.radio(key="explain_source").set_value("other").run()
    assert not at.exception
    assert any(c.value.startswith("For example: p-") for c in at.caption)
    target = churn.probes["explainability"].table("local_summary").to_frame().iloc[1]
    at.text_input(key="explain_other_id").input(target["record"]).run()
    assert not at.exception and not at.error
    assert any("Explained on demand" in i.value for i in at.info)
    shap = charts(at)["SHAP: what moved this score"]
    shown = {y.split(" = ")[0]: x for t in bars(shap) for y, x in zip(t["y"], t["x"])}
    local = churn.probes["explainability"].table("local_explanations").to_frame()
    want = local[local["record"] == target["record"]].set_index("feature")["shap"]
    np.testing.assert_allclose([shown[f] for f in want.index], want.to_numpy(), atol=1e-9)
    assert "LIME: what moved this score" in charts(at)
    at.text_input(key="explain_other_id").input("p-000000000000").run()
    assert not at.exception
    assert any("No customer has the pseudonymised id" in e.value for e in at.error)


def test_minimisation_table_in_plain_words(churn):
    at = open_page(churn, "churn")
    table = next(t for t in pages.tables(at) if "Why it was checked" in t.columns)
    row = table.set_index("Input").loc["postcode_region"]
    assert row["Why it was checked"] == "proxy for ethnicity"
    assert row["Recommendation"].startswith(("keep only", "remove it", "undecided"))
    cost = churn.probes["explainability"].table("minimisation").to_frame()
    probe_row = cost.set_index("feature").loc["postcode_region"]
    shown = row["Accuracy lost when removed (AUC, 95% interval, refits included)"]
    assert shown == (f"{probe_row['cost']:.4f} ({probe_row['ci_low']:.4f} to "
                     f"{probe_row['ci_high']:.4f})")


def _as_stored_before(report):
    """The report as the probe wrote it before LIME's sample check and the refit costs: the
    old local_summary and minimisation columns, no lime_sample table."""
    from reports.report import AuditReport

    d = json.loads(report.to_json())  # a copy: the session's report must stay intact
    probe = d["probes"]["explainability"]
    probe["tables"] = [t for t in probe["tables"] if t["name"] != "lime_sample"]
    for t in probe["tables"]:
        if t["name"] == "minimisation":
            cols = t["columns"]
            i, lo, hi, seeds = (cols.index(c) for c in ("cost", "ci_low", "ci_high", "seeds"))
            for r in t["rows"]:
                r[i], r[lo], r[hi] = -r[i], -r[hi], -r[lo]
                del r[seeds]
            cols[i] = "change"
            del cols[seeds]
        if t["name"] == "local_summary":
            t["columns"] = [{"lime_shap_feature_agreement": "lime_shap_topk_jaccard",
                             "lime_shap_sign_agreement": "show_to_customer"}.get(c, c)
                            for c in t["columns"]]
    probe["params"].pop("lime_verdict", None)
    return AuditReport.from_dict(d)


def test_a_report_stored_before_the_sample_check_still_opens(churn):
    at = open_page(_as_stored_before(churn), "churn")
    assert not at.exception
    table = next(t for t in pages.tables(at) if "Why it was checked" in t.columns)
    want = churn.probes["explainability"].table("minimisation").to_frame().iloc[0]
    shown = table["Accuracy lost when removed (AUC, 95% interval, refits included)"].iloc[0]
    assert shown.startswith(f"{want['cost']:.4f}")
    assert any("LIME was not judged in this audit" in i.value for i in at.info)
