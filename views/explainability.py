"""Explainability page: what drives the model, for the customer base and for one customer.

Reads the explainability probe's tables from the report. A customer the report did not explain
can be explained on demand, named by pseudonym, with the probe's own recipe and seeds
(:func:`reports.drilldown.explain_customer`, cached per report and customer).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from audits.core.errors import InputError
from audits.core.results import Threshold
from reports.drilldown import example_customers, explain_customer
from views import state
from views.explain_charts import (
    contribution_bars,
    dependence_plot,
    feature_label,
    group_importance_bars,
    importance_bars,
)
from views.plot_style import show
from views.texts import badge, esc, md, show_html, show_table

N_BY_GROUP = 8  # inputs shown in the by-group chart (the strongest drivers)


def _scale_words(scale: str, pos: str) -> str:
    return (f"log-odds of {pos}" if scale == "margin" else
            f"probability of {pos}" if scale == "probability" else
            pos if scale == "prediction" else scale)


def _interval(v, lo, hi, digits: int = 3) -> str:
    if v is None:
        return "—"
    if lo is None or hi is None:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"


def _grade(value, bound: float) -> str:
    """yes / mostly / no for a 0-1 agreement measure against the stability bound."""
    if value is None or math.isnan(value):
        return "cannot tell"
    return "yes" if value >= 0.9 else "mostly" if value >= bound else "no"


@st.cache_data(show_spinner=False, max_entries=32)
def _explain_other(report_id: str, record: str, explainer: str, n_seeds: int, n_samples: int,
                   top_k: int, _report_subject: dict, _config: dict, label=None):
    """One customer's SHAP and LIME, computed once per (report, customer, class)."""
    return explain_customer(state.subject(), _report_subject, _config, record,
                            explainer=explainer, n_lime_seeds=n_seeds, lime_samples=n_samples,
                            top_k=top_k, label=label)


@st.cache_data(show_spinner=False, max_entries=8)
def _examples(report_id: str, _report_subject: dict) -> list[str]:
    return example_customers(state.subject(), _report_subject, n=8)


report = state.require_report()
probe = report.probes.get("explainability")
st.title("Explainability")
if probe is None or probe.status != "ok":
    st.info("The explainability probe did not run in this audit, so the model's drivers are "
            "unknown. " + md(" ".join(probe.notes if probe else ())))
    st.stop()

subj, cfg, params = report.subject, report.config, probe.params
task = params.get("task", "binary")
explained = params.get("explained_class", subj.get("positive_label"))
pos = (f"the predicted {subj.get('target')}" if task == "regression" else
       f"{subj.get('target')} = {explained}")
scale = _scale_words(params.get("scale", ""), pos)
suppress_below = int(cfg.get("suppress_below", 10))
conf = f"{float(cfg.get('confidence', 0.95)):.0%}"  # the intervals' level
stab = Threshold.from_dict(cfg["thresholds"]["explainability.stability"])
st.caption(f"What drives the model's score (the {md(scale)}), measured with SHAP values: how "
           "much each input moved each customer's score away from the average. Method: "
           f"{md(params.get('method', ''))}.")

# -- global importance --------------------------------------------------------------------------
st.subheader("What drives the model")
imp = probe.table("importance").to_frame()
flags = {r.feature: (r.flag or None) for r in imp.itertuples(index=False)}
rows = [{"feature": r.feature, "flag": r.flag or None, "value": r.mean_abs_shap,
         "low": r.ci_low, "high": r.ci_high, "share": r.share}
        for r in imp.itertuples(index=False)]
show(importance_bars(rows, title="Average effect of each input on the score",
                     x_title=f"Average size of the effect (mean |SHAP|, {scale})"),
     key="explain_importance_chart")
st.caption(f"Whiskers: {conf} bootstrap interval over the explained customers. Percentages: the "
           "input's share of all effects. Inputs tagged sensitive, proxy or personal are "
           "patterned and named with their tag. A sensitive or proxy input needs attention when "
           "its whole rank interval lies within the top 10; when the interval reaches across "
           "no. 10 the rows cannot tell (inconclusive).")
rank_ci = {d["feature"]: d.get("rank_ci") for d in params.get("sensitive_inputs", [])}
show_table(pd.DataFrame({
    "Rank": imp["rank"], "Input": [feature_label(f, flags[f]) for f in imp["feature"]],
    f"Rank, {conf} interval (sensitive and proxy inputs)": [
        f"{rank_ci[f][0]:g} to {rank_ci[f][1]:g}" if rank_ci.get(f) else ""
        for f in imp["feature"]],
    f"Average effect on the score (mean |SHAP|, {conf} interval)": [
        _interval(v, lo, hi, 4) for v, lo, hi in zip(imp["mean_abs_shap"], imp["ci_low"],
                                                      imp["ci_high"])],
    "Share of all effects": [f"{s:.0%}" for s in imp["share"]],
}))

# -- dependence -------------------------------------------------------------------------------
st.subheader("How an input's value moves the score")
dep = probe.table("dependence").to_frame()
if dep.empty:
    st.info("No dependence data in this report.")
else:
    dep_features = list(dict.fromkeys(dep["feature"]))
    feat = st.selectbox("Input", dep_features, key="explain_dependence_feature",
                        format_func=lambda f: feature_label(f, flags.get(f)))
    d = dep[dep["feature"] == feat]
    categorical = bool(d["categorical"].iloc[0])
    show(dependence_plot(d["value"].tolist(), d["shap"].tolist(), feature=feat,
                         categorical=categorical, y_title="Effect on the score (SHAP)"),
         key="explain_dependence_chart")
    st.caption(f"Each point is one holdout customer ({len(d)} shown), its effect on the "
               f"{md(scale)}. Above the dotted line the value raises the score, below it lowers "
               "it. " + md(probe.table("dependence").note))

# -- by group ---------------------------------------------------------------------------------
st.subheader("Do the drivers differ between groups of customers?")
byg = probe.table("importance_by_group").to_frame()
if byg.empty:
    st.info("No sensitive field was given, so drivers were not compared between groups.")
else:
    g_field = st.selectbox("Sensitive field", list(dict.fromkeys(byg["field"])),
                           key="explain_group_field")
    top = list(imp["feature"][:N_BY_GROUP])
    sel = byg[(byg["field"] == g_field) & (byg["feature"].isin(top))]
    show(group_importance_bars(
        [{"group": r.group, "n": None if pd.isna(r.n) else int(r.n),
          "too_small": bool(r.too_small), "feature": r.feature,
          "value": None if pd.isna(r.mean_abs_shap) else r.mean_abs_shap}
         for r in sel.itertuples(index=False)],
        features=top, title=f"Average effect of the top {len(top)} inputs, by {g_field}",
        x_title=f"Mean |SHAP| ({scale})", suppress_below=suppress_below),
        key="explain_group_chart")
    small = sorted({str(g) for g, t in zip(sel["group"], sel["too_small"]) if t})
    st.caption("One bar pattern per group. " + (
        f"Too few customers to judge: {md(', '.join(small))} (drawn faint). " if small else "")
        + md(probe.table("importance_by_group").note))

# -- one customer -----------------------------------------------------------------------------
st.subheader("One customer: why this score?")
local = probe.table("local_explanations").to_frame()
lsum = probe.table("local_summary").to_frame()
st.caption("Customers are named by pseudonyms only. The audit explained a few customers chosen "
           "for a reason; you can explain another one by its pseudonymised id.")
source = st.radio("Customer", ["report", "other"], horizontal=True, key="explain_source",
                  format_func=lambda v: {"report": "one the audit explained",
                                         "other": "another customer (pseudonymised id)"}[v])
summary_row, rows_local = None, None
if source == "report":
    if lsum.empty:
        st.info("The audit explained no single customer.")
    else:
        labels = {r.record: f"{r.record} ({r.reason}, score {r.score:.2f})"
                  for r in lsum.itertuples(index=False)}
        record = st.selectbox("Explained customer", list(labels), format_func=labels.get,
                              key="explain_record")
        summary_row = lsum[lsum["record"] == record].iloc[0].to_dict()
        rows_local = local[local["record"] == record]
else:
    try:
        with st.spinner("Loading the audited model and data (once)..."):
            examples = _examples(report.report_id, report.subject)
        st.caption("For example: " + md(", ".join(examples)))
    except InputError as e:
        st.error(md(e))
        examples = []
    record = st.text_input("Pseudonymised id", key="explain_other_id",
                           placeholder="p-1a2b3c4d5e6f").strip()
    label = None
    if task == "multiclass":  # any class can be explained; the report's is the favourable one
        classes = list(subj.get("classes") or [])
        label = st.selectbox("Class explained", classes, key="explain_other_class",
                             index=classes.index(explained) if explained in classes else 0)
        pos = f"{subj.get('target')} = {label}"
    if record:
        try:
            with st.spinner(f"Explaining {record} with SHAP and LIME ({params.get('lime_seeds')}"
                            " LIME runs)..."):
                t_local, t_sum = _explain_other(
                    report.report_id, record, params.get("explainer", "tree"),
                    int(params.get("lime_seeds", 10)), int(params.get("lime_samples", 1000)),
                    int(params.get("top_k", 5)), report.subject, cfg, label)
        except InputError as e:
            st.error(md(e))
        else:
            summary_row = t_sum.to_frame().iloc[0].to_dict()
            rows_local = t_local.to_frame()
            where = "training" if summary_row.get("part") == "members" else "holdout"
            st.info(f"Explained on demand ({where} customer) with the audit's own method and "
                    "seeds; not part of the audited report.")

def _pct(v) -> str:
    return "(unknown)" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"


if summary_row is not None and rows_local is not None and not rows_local.empty:
    s = summary_row
    rl = rows_local.sort_values("shap_rank", kind="stable")
    stab_v = s.get("lime_stability")
    fa, sa = s.get("lime_shap_feature_agreement"), s.get("lime_shap_sign_agreement")
    c1, c2, c3 = st.columns(3)
    if task == "regression":
        c1.metric(f"Prediction ({pos})", f"{s['score']:.4g}")
    else:
        c1.metric("Score (probability)", f"{s['score']:.1%}",  # a long label would be cut
                  help=f"The model's probability of {pos} for this customer.")
    c2.metric("LIME gives the same reasons each time", _grade(stab_v, stab.attention).capitalize())
    known = [v for v in (fa, sa) if v is not None and not math.isnan(v)]
    c3.metric("SHAP and LIME agree",  # a longer label would be cut: the rest in its help
              _grade(min(known) if len(known) == 2 else None, stab.attention).capitalize(),
              help="On what matters and on which way it pushes the score (both measures "
                   "below).")
    bars = [{"label": f"{r.feature} = {r.value}", "shap": r.shap,
             "lime": None if pd.isna(r.lime_weight) else r.lime_weight,
             "sd": None if pd.isna(r.lime_sd) else r.lime_sd}
            for r in rl.itertuples(index=False)]
    # one under the other, each across the page: room for the inputs' names and the values
    show(contribution_bars(bars, key="shap", title="SHAP: what moved this score",
                           x_title=f"Contribution ({scale})"),
         key="explain_shap_chart")
    if all(b["lime"] is None for b in bars):
        st.info("LIME could not run on this model; only SHAP is shown.")
    else:
        show(contribution_bars(bars, key="lime", sd_key="sd",
                               title="LIME: what moved this score",
                               x_title=(f"Weight ({pos})" if task == "regression" else
                                        f"Weight (probability of {pos})") + "; whiskers ±1 sd"),
             key="explain_lime_chart")
    n_seeds = params.get("lime_seeds", 10)
    k = params.get("top_k", 5)
    verdict = params.get("lime_verdict")
    verdict_text = {
        "pass": "**LIME's explanations of this model can be given to customers as reasons**: "
                f"judged on {params.get('lime_customers', 30)} customers drawn at random, its "
                "stability and its agreement with SHAP all lie above the bound.",
        "attention": "**Do not give LIME's explanations of this model to customers as the "
                     f"reason**: judged on {params.get('lime_customers', 30)} customers drawn at "
                     "random, LIME is unstable or disagrees with SHAP (see below).",
        "inconclusive": "**Whether LIME's explanations can be given as reasons is not "
                        f"established**: on {params.get('lime_customers', 30)} customers drawn "
                        "at random an interval reaches across the bound.",
    }.get(verdict, "**LIME's reliability on this model was not assessed**; do not give its "
                   "explanations as reasons.")
    st.markdown(
        f"**LIME gives the same reasons each time: {_grade(stab_v, stab.attention)}.** Run "
        f"{n_seeds} times with different random seeds, its top {k} reasons overlap "
        f"{_pct(stab_v)} on average (1 = always the same).\n\n"
        f"**SHAP and LIME agree on what matters: {_grade(fa, stab.attention)}; and on which way "
        f"it pushes: {_grade(sa, stab.attention)}.** {_pct(fa)} of SHAP's top {k} reasons are "
        f"among LIME's top {k}; {_pct(sa)} of the top {k} are shared and push the score the same "
        "way in both (Krishna et al. 2022).\n\n"
        "These describe this one customer, shown, not judged. " + verdict_text
        + f" Rule: each measure's interval over the customers at least {stab.attention:g} "
          f"({md(stab.source)}).")
    st.caption(f"SHAP starts from the average {s['shap_base']:.3f} and its contributions add up "
               f"to this customer's {s['shap_output']:.3f} ({md(scale)}). LIME's weights are on "
               "the probability scale, so compare the order and direction of the two charts, not "
               "the sizes. Personal values are redacted.")
    show_table(pd.DataFrame({
        "Input": rl["feature"], "Value": rl["value"],
        f"SHAP contribution ({scale})": [f"{v:+.3f}" for v in rl["shap"]],
        "LIME weight (± sd over runs)": ["—" if pd.isna(w) else f"{w:+.3f} ± {sd:.3f}"
                                         for w, sd in zip(rl["lime_weight"], rl["lime_sd"])],
        "SHAP rank": rl["shap_rank"], "LIME rank": rl["lime_rank"],
    }))

# -- LIME judged on a random sample -------------------------------------------------------------
st.subheader("Can LIME's explanations be given to customers as reasons?")
try:
    lime_sample = probe.table("lime_sample").to_frame()
except KeyError:
    lime_sample = pd.DataFrame()
lime_finding = next((f for f in probe.findings
                     if f.id == "explainability.local_stability.lime"), None)
if lime_sample.empty:
    st.info("LIME was not judged in this audit"
            + (f": {md(lime_finding.statement)}" if lime_finding is not None else "."))
else:
    words = {"stability": "Same reasons each time (stability over seeds)",
             "feature_agreement": f"Same top {params.get('top_k', 5)} reasons as SHAP",
             "sign_agreement": "Same reasons pushing the same way as SHAP"}
    show_table(pd.DataFrame({
        "Measure": [words.get(m, m) for m in lime_sample["measure"]],
        f"Mean over {int(lime_sample['n_customers'].iloc[0])} random customers ({conf} interval)":
            [_interval(v, lo, hi, 2) for v, lo, hi in zip(
                lime_sample["mean"], lime_sample["ci_low"], lime_sample["ci_high"])],
        "Bound": [f"{b:g}" for b in lime_sample["bound"]],
    }))
    if lime_finding is not None:
        show_html(f"<p>{badge(lime_finding.severity.value)} {esc(lime_finding.statement)}</p>")
    st.caption(md(probe.table("lime_sample").note) + " The example customers above are shown, "
               "not judged.")

# -- minimisation -----------------------------------------------------------------------------
st.subheader("Could personal, sensitive or proxy inputs be dropped?")
try:
    mini = probe.table("minimisation").to_frame()
except KeyError:
    mini = pd.DataFrame()
if mini.empty:
    st.info("No input needed a data-minimisation check (no personal, sensitive or proxy "
            "inputs), or the check did not run.")
else:
    st.caption("Each input was removed and the model retrained the same way; the table shows "
               "how well the model ranks holdout customers (AUC) with and without it "
               "(GDPR Art. 5(1)(c): keep only the data needed).")
    if "cost" not in mini:  # a report stored before the cost and its refits were recorded
        mini = mini.assign(cost=-mini["change"], ci_low=-mini["ci_high"],
                           ci_high=-mini["ci_low"], seeds=1)
    show_table(pd.DataFrame({
        "Input": mini["feature"], "Why it was checked": mini["why"],
        "Model quality with it (AUC)": [f"{v:.3f}" for v in mini["auc_with"]],
        "Without it (AUC)": ["—" if pd.isna(v) else f"{v:.3f}" for v in mini["auc_without"]],
        f"Accuracy lost when removed (AUC, {conf} interval, refits included)": [
            _interval(v, lo, hi, 4) if not pd.isna(v) else "—"
            for v, lo, hi in zip(mini["cost"], mini["ci_low"], mini["ci_high"])],
        "Refits per model (seeds)": mini["seeds"],
        "Recommendation": [
            "remove it: the model does not need it" if r == "remove" else
            "keep only with a recorded justification: removing it costs accuracy"
            if r.startswith("keep") else
            "undecided: these rows cannot tell whether it is needed" if r.startswith("undecided")
            else r for r in mini["recommendation"]],
    }))
    st.caption("Each model is refitted with several seeds when the training recipe is random "
               "(a forest), so the interval includes the refitting noise. The input can go when "
               "the whole interval of the accuracy lost lies below 0.005 AUC.")

with st.expander("Technical details"):
    for n in probe.notes:
        st.caption(md(n))
    st.caption(md(probe.table("importance").note))
    st.caption(md(probe.table("local_explanations").note))
