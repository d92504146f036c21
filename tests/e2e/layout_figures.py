"""Every variant of the Fairness, Explainability and Privacy charts a page can show.

The browser tour (``layout_flow.py``) sees each page in its first state; a board member can also
pick another field, rates or ratios, another input, another customer, the other attacked model
or a linear scale. These figures are drawn from the report's tables with the same chart
functions the pages call (``views/*_charts.py``), one per widget choice, for the layout test
to check outside the app (``test_layout.py``): a few seconds, where clicking through every
choice in the app would take minutes.
"""

from __future__ import annotations

import pandas as pd

from views import privacy_charts as pc
from views.explain_charts import (
    contribution_bars,
    dependence_plot,
    group_importance_bars,
    importance_bars,
)

#: The width of a chart across the page at the test's 1400 px viewport (Streamlit's wide
#: layout with its sidebar), in pixels.
PAGE_WIDTH = 940


def _explain(report) -> list[tuple[str, object]]:
    probe = report.probes.get("explainability")
    if probe is None or probe.status != "ok":
        return []
    out = []
    imp = probe.table("importance").to_frame()
    out.append(("importance", importance_bars(
        [{"feature": r.feature, "flag": r.flag or None, "value": r.mean_abs_shap,
          "low": r.ci_low, "high": r.ci_high, "share": r.share}
         for r in imp.itertuples(index=False)],
        title="Average effect of each input on the score",
        x_title="Average size of the effect (mean |SHAP|, log-odds of the positive class)")))
    dep = probe.table("dependence").to_frame()
    for f in dict.fromkeys(dep["feature"]):
        d = dep[dep["feature"] == f]
        out.append((f"dependence {f}", dependence_plot(
            d["value"].tolist(), d["shap"].tolist(), feature=f,
            categorical=bool(d["categorical"].iloc[0]), y_title="Effect on the score (SHAP)")))
    byg = probe.table("importance_by_group").to_frame()
    top = list(imp["feature"][:8])
    for field in dict.fromkeys(byg["field"]) if not byg.empty else ():
        sel = byg[(byg["field"] == field) & (byg["feature"].isin(top))]
        out.append((f"by group {field}", group_importance_bars(
            [{"group": r.group, "n": None if pd.isna(r.n) else int(r.n),
              "too_small": bool(r.too_small), "feature": r.feature,
              "value": None if pd.isna(r.mean_abs_shap) else r.mean_abs_shap}
             for r in sel.itertuples(index=False)],
            features=top, title=f"Average effect of the top {len(top)} inputs, by {field}",
            x_title="Mean |SHAP| (log-odds of the positive class)")))
    local = probe.table("local_explanations").to_frame()
    for record in dict.fromkeys(local["record"]) if not local.empty else ():
        rl = local[local["record"] == record].sort_values("shap_rank", kind="stable")
        bars = [{"label": f"{r.feature} = {r.value}", "shap": r.shap,
                 "lime": None if pd.isna(r.lime_weight) else r.lime_weight,
                 "sd": None if pd.isna(r.lime_sd) else r.lime_sd}
                for r in rl.itertuples(index=False)]
        out.append((f"SHAP {record}", contribution_bars(
            bars, key="shap", title="SHAP: what moved this score",
            x_title="Contribution (log-odds of the positive class)")))
        if any(b["lime"] is not None for b in bars):
            out.append((f"LIME {record}", contribution_bars(
                bars, key="lime", sd_key="sd", title="LIME: what moved this score",
                x_title="Weight (probability of the positive class); whiskers ±1 sd")))
    return out


def _privacy(report) -> list[tuple[str, object]]:
    out = []
    mem = report.probes.get("membership")
    if mem is not None and mem.status == "ok":
        for mode in ("this model", "this training recipe"):
            for log_y in (True, False):
                out.append((f"ROC {mode} log={log_y}", pc.roc_figure(
                    mem.table("roc"), mem.table("attacks"), mode, log_y=log_y)))
        try:
            out.append(("AUC per group", pc.group_auc_figure(mem.table("groups"))))
        except KeyError:
            pass
    ai = report.probes.get("attribute_inference")
    if ai is not None and ai.status == "ok":
        points = pc.attribute_points(ai)
        if points:
            out.append(("attribute inference", pc.attribute_figure(points)))
    return out


def _fairness(report) -> list[tuple[str, object]]:
    """Each field's selection rates and ratios (the page's default measure), against the
    audit's reference, and the proxy and scenario charts."""
    from reports.drilldown import metric_view
    from views.fairness_charts import (
        group_bars,
        proxy_bars,
        ratio_dots,
        verdict_key,
        whatif_scatter,
    )

    probe = report.probes.get("fairness")
    if probe is None or probe.status != "ok":
        return []
    out = []
    groups, disp = probe.table("fairness.groups"), probe.table("fairness.disparities")
    refs = probe.params.get("reference_groups", {})
    for field in probe.params.get("fields") or dict.fromkeys(groups.to_frame()["field"]):
        if refs.get(field) is None:
            continue
        view = metric_view(groups, disp, field, "selection_rate", reference=refs[field])
        rows = [dict(r, group=str(r["group"]), verdict=verdict_key(r, judged=True))
                for r in view.to_dict("records")]
        ref = next(r for r in rows if r["is_reference"])
        label = f"How often the favourable outcome is given, by {field}"
        lines = [(b * ref["value"], f"{b:g} × {ref['group']}: {b * ref['value']:.1%}")
                 for b in (0.8, 1.25)] if ref["value"] else []
        out.append((f"rates {field}", group_bars(rows, title=label, y_title="Selection rate",
                                                 percent=True, lines=lines)))
        out.append((f"ratios {field}", ratio_dots(
            rows, title=f"{label}: ratio to {ref['group']}", reference=ref["group"],
            lines=[(0.8, "four-fifths rule (0.8)"), (1.25, "bound 1.25")])))
    prox = probe.table("fairness.proxies").to_frame().sort_values("cramers_v", ascending=False)
    p_rows = [{"label": f"{r.feature} → {r.field}", "value": float(r.cramers_v),
               "low": r.cramers_v_low, "high": r.cramers_v_high,
               "verdict": r.severity if r.severity in ("fail", "attention", "pass")
               else "not_compared"} for r in prox.head(20).itertuples(index=False)]
    if p_rows:
        out.append(("proxies", proxy_bars(
            p_rows, title="How strongly each input predicts a sensitive field", bound=0.5)))
    try:
        w = probe.table("fairness.whatif").to_frame()
    except KeyError:
        w = pd.DataFrame()
    if not w.empty:
        out.append(("scenario", whatif_scatter(
            [{"label": s, "short": s, "accuracy": a, "dp_ratio": d}
             for s, a, d in zip(w["scenario"], w["accuracy"], w["dp_ratio"])],
            title=f"Scenario for {w['field'].iloc[0]}: accuracy against equal treatment",
            bound=0.8)))
    return out


def figures(report) -> list[tuple[str, object]]:
    """(name, Plotly figure) for every chart variant of the three chart pages, and the Run
    page's results by area."""
    from views.overview_chart import results_by_area

    overview = [("results by area", results_by_area(report.findings))] if report.findings \
        else []
    return overview + _fairness(report) + _explain(report) + _privacy(report)
