"""Fairness page: how each group of customers is treated, against a reference group.

Reads the fairness probe's tables from the report. Choosing another reference group than the
audit's recomputes that field's comparisons on demand with the probe's own code
(:func:`reports.drilldown.fairness_against`, cached per report, field and reference); the
audit's findings are never changed here.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from audits.core.errors import InputError
from audits.core.results import Severity, Threshold
from reports.drilldown import fairness_against, metric_view
from views import state
from views.fairness_charts import (
    VERDICTS,
    fmt_value,
    group_bars,
    proxy_bars,
    ratio_dots,
    verdict_key,
    whatif_scatter,
)
from views.plot_style import show

#: metric -> (plain words, technical name and definition; {pos} and {action} are filled in)
METRICS = {
    "selection_rate": ("How often the favourable outcome is given ({action})",
                       "Selection rate: the share of the group's customers who are {action}."),
    "tpr": ("How often customers with the outcome ({pos}) are caught",
            "True-positive rate (TPR): of the customers whose actual outcome is {pos}, the "
            "share the model flags."),
    "fpr": ("False alarms: customers flagged without the outcome ({pos})",
            "False-positive rate (FPR): of the customers whose actual outcome is not {pos}, the "
            "share the model flags anyway."),
    "fnr": ("Missed customers: those with the outcome ({pos}) not flagged",
            "False-negative rate (FNR): of the customers whose actual outcome is {pos}, the "
            "share the model misses."),
    "precision": ("How often a flag is right",
                  "Precision: of the customers the model flags, the share whose actual outcome "
                  "is {pos}."),
    "auc": ("How well the scores rank the group's customers",
            "ROC AUC within the group: 0.5 is chance, 1 a perfect ranking."),
    "calibration_error": ("How far the scores are from what actually happens",
                          "Expected calibration error over 10 score bins: 0 means the scores "
                          "match the observed rates."),
}
AXIS = {"selection_rate": "Selection rate", "tpr": "True-positive rate (TPR)",
        "fpr": "False-positive rate (FPR)", "fnr": "False-negative rate (FNR)",
        "precision": "Precision", "auc": "AUC within the group",
        "calibration_error": "Calibration error"}
SHORT = {"before: audited decisions": "audited model",
         "after: demographic parity thresholds": "equal selection rates",
         "after: equalized odds thresholds": "equal error rates"}
PERCENT = {"selection_rate", "tpr", "fpr", "fnr", "precision"}
ERROR_METRICS = {"fpr", "fnr", "precision"}
SCENARIOS = {"before: audited decisions": "The audited model (before)",
             "after: demographic parity thresholds":
                 "Per-group thresholds for equal selection rates (demographic parity)",
             "after: equalized odds thresholds":
                 "Per-group thresholds for equal error rates (equalised odds)"}


def _field_label(field: str) -> str:
    return f"{' × '.join(field.split('*'))} (both together)" if "*" in field else field


def _group_label(field: str, group: str) -> str:
    """A group as shown: a bare number (a 0/1 field) gets its field's name, e.g. 'x = 1'."""
    return f"{field} = {group}" if "*" not in field and group.replace(".", "", 1).isdigit() \
        else group


def _interval(v, lo, hi, *, percent: bool) -> str:
    if v is None:
        return "—"
    text = fmt_value(v, percent=percent)
    if lo is None or hi is None:
        return f"{text} (no interval: too few rows)"
    return f"{text} ({fmt_value(lo, percent=percent)} to {fmt_value(hi, percent=percent)})"


@st.cache_data(show_spinner=False, max_entries=64)
def _against(report_id: str, field: str, reference: str, part: str, _report_subject: dict,
             _config: dict):
    """The field's tables against ``reference``, recomputed once per (report, field, ref)."""
    return fairness_against(state.subject(), _report_subject, _config, field,
                            reference=reference, part=part)


def _verdict_words(key: str, metric: str, sr: Threshold, er: Threshold, min_size: int) -> str:
    if key == "fail":
        return (f"fails: the whole interval lies below {sr.fail:g} (four-fifths rule)"
                if metric == "selection_rate" else
                f"fails: the whole interval lies outside {er.band[0]:g} to {er.band[1]:g}")
    if key == "attention":
        return (f"needs attention: the interval includes {sr.fail:g}, so a breach cannot be "
                "ruled out" if metric == "selection_rate" else
                f"needs attention: the interval crosses {er.band[0]:g} or {er.band[1]:g}")
    if key == "pass":
        return (f"ok: the whole interval lies at or above {sr.fail:g}"
                if metric == "selection_rate" else
                f"ok: the whole interval lies inside {er.band[0]:g} to {er.band[1]:g}")
    if key == "small":
        return f"too few customers to judge (under {min_size})"
    return VERDICTS[key][0]


report = state.require_report()
probe = report.probes.get("fairness")
st.title("Fairness")
if probe is None or probe.status != "ok":
    st.info("The fairness probe did not run in this audit, so groups were not compared. "
            + " ".join(probe.notes if probe else ()))
    st.stop()

subj, cfg = report.subject, report.config
action = subj.get("favourable_action") or f"given the decision {subj.get('favourable_label')!r}"
pos = f"{subj.get('target')} = {subj.get('positive_label')}"
suppress_below = int(cfg.get("suppress_below", 10))
conf = f"{float(cfg.get('confidence', 0.95)):.0%}"  # the intervals' level
min_size = int(probe.params.get("min_group_size", cfg.get("min_group_size", 30)))
sr = Threshold.from_dict(cfg["thresholds"]["fairness.selection_rate_ratio"])
er = Threshold.from_dict(cfg["thresholds"]["fairness.error_rate_ratio"])
part_words = {"nonmembers": "holdout customers (never used in training)",
              "members": "training customers"}.get(probe.params.get("part"), "audited rows")
st.caption(f"Favourable outcome: a customer is {action}. Rates are measured on the "
           f"{part_words}; "
           f"every number comes with its {conf} interval, and checks are judged on the whole "
           "interval. Thresholds are screening heuristics, not legal verdicts.")

summary = probe.table("fairness.summary").to_frame()
st.subheader("What the audit found, by field")
st.dataframe(pd.DataFrame({
    "Customers compared by": [_field_label(f) for f in summary["field"]],
    "Groups judged": [f"{a} of {g}" for a, g in zip(summary["assessed"], summary["groups"])],
    "Most favoured group (the audit's reference)": summary["reference"],
    f"Lowest group's rate / highest group's ({conf} interval)": [
        _interval(v, lo, hi, percent=False) for v, lo, hi in zip(
            summary["demographic_parity_ratio"], summary["demographic_parity_ratio_low"],
            summary["demographic_parity_ratio_high"])],
    "Four-fifths rule (disparate impact)": [Severity(s).label if s else "—"
                                            for s in summary["disparate_impact"]],
    "Error rates alike (error-rate parity)": [Severity(s).label if s else "—"
                                              for s in summary["error_rate_parity"]],
}), hide_index=True)

# -- group metrics against a reference --------------------------------------------------------
st.subheader("How each group is treated")
groups_t, disp_t = probe.table("fairness.groups"), probe.table("fairness.disparities")
fields = list(probe.params.get("fields") or dict.fromkeys(groups_t.to_frame()["field"]))
audit_refs = probe.params.get("reference_groups", {})
c1, c2, c3 = st.columns(3)
field = c1.selectbox("Compare customers by", fields, format_func=_field_label,
                     key="fairness_field", help="A sensitive field, or two of them together "
                     "(an intersection: e.g. Black women as one group).")
metric = c2.selectbox("What to compare", list(METRICS), key="fairness_metric",
                      format_func=lambda m: METRICS[m][0].format(pos=pos, action=action),
                      help=" ".join(METRICS[m][1].format(pos=pos, action=action)
                                    for m in METRICS))
g_field = groups_t.to_frame()
g_field = g_field[g_field["field"] == field]
candidates = [str(g) for g, s in zip(g_field["group"], g_field["status"])
              if s in ("reference", "assessed")]
audit_ref = audit_refs.get(field)
if not candidates or audit_ref is None:
    st.info(f"Fewer than two groups of {_field_label(field)} have at least {min_size} "
            "customers, so no group can be compared with another.")
    st.stop()
reference = c3.selectbox(
    "Compare with (reference group)", candidates,
    index=candidates.index(audit_ref) if audit_ref in candidates else 0,
    key=f"fairness_reference_{field}",
    format_func=lambda g: _group_label(field, g) + (" (the audit's reference)"
                                                    if g == audit_ref else ""),
    help="The audit compares every group with the most favoured group. Pick another group to "
         "read the same comparisons against it.")
st.caption(METRICS[metric][1].format(pos=pos, action=action))

if reference != audit_ref:
    try:
        with st.spinner(f"Recomputing the comparisons against '{reference}' with the audit's "
                        "own method..."):
            groups_t, disp_t = _against(report.report_id, field, reference,
                                        probe.params.get("part", "nonmembers"),
                                        report.subject, cfg)
    except InputError as e:
        st.error(str(e))
        st.stop()
    st.info(f"Recomputed against '{reference}': same groups, same bootstrap replicates "
            f"({cfg.get('n_bootstrap')}) and the same rules as the audit, only the reference "
            f"changes. The audit's findings were judged against '{audit_ref}' and are "
            "unchanged.")

view = metric_view(groups_t, disp_t, field, metric)
judged = metric in ERROR_METRICS or metric == "selection_rate"
rows = [dict(r, group=_group_label(field, r["group"]), verdict=verdict_key(r, judged=judged))
        for r in view.to_dict("records")]
ref_label = _group_label(field, reference)
ref_row = next(r for r in rows if r["is_reference"])
percent = metric in PERCENT
ref_value = ref_row["value"]
if ref_value is None:
    lines = []
elif metric == "selection_rate":
    name = "four-fifths" if abs(sr.fail - 0.8) < 1e-12 else f"{sr.fail:g} ×"
    lines = [(sr.fail * ref_value, f"{name} of {ref_label}: "
                                   f"{fmt_value(sr.fail * ref_value, percent=True)}")]
elif metric in ERROR_METRICS:
    lines = [(b * ref_value, f"{b:g} × {ref_label}: {fmt_value(b * ref_value, percent=True)}")
             for b in er.band]
else:
    lines = [(ref_value, f"{ref_label} (reference level; not a judged check)")]

shown = st.radio("Show", ["rates", "ratios"], horizontal=True, key="fairness_view",
                 format_func=lambda v: {"rates": "each group's rate",
                                        "ratios": f"each group's ratio to {ref_label}"}[v])
label = METRICS[metric][0].format(pos=pos, action=action)
if shown == "rates":
    show(group_bars(rows, title=f"{label}, by {_field_label(field)}", y_title=AXIS[metric],
                    percent=percent, lines=lines, suppress_below=suppress_below),
         key="fairness_groups_chart")
    st.caption(f"Bars: each group's rate, whiskers its {conf} interval; the pattern and the label "
               "give the verdict. Dashed lines: the threshold relative to the reference group. "
               "The verdict is judged on the ratio's simultaneous interval (table below), not "
               "on whether a whisker crosses the line.")
else:
    ratio_lines = ([(sr.fail, f"four-fifths rule ({sr.fail:g})")] if metric == "selection_rate"
                   else [(b, f"tolerance {b:g}") for b in er.band] if metric in ERROR_METRICS
                   else [])
    show(ratio_dots(rows, title=f"{label}: ratio to {ref_label}", reference=ref_label,
                    lines=ratio_lines), key="fairness_ratio_chart")
    st.caption(f"Markers: each group's rate divided by the reference group's, whiskers the {conf} "
               "interval, simultaneous over the groups compared (max-statistic bootstrap band, "
               "Westfall & Young 1993).")

st.dataframe(pd.DataFrame({
    "Group": [r["group"] for r in rows],
    "Customers": [f"<{suppress_below}" if r["n"] is None else f"{r['n']:,}" for r in rows],
    f"{label} ({conf} interval)": [_interval(r["value"], r["low"], r["high"], percent=percent)
                                for r in rows],
    f"Ratio to {ref_label} ({conf} simultaneous interval)": [
        "1 (reference)" if r["is_reference"] else
        _interval(r["ratio"], r["ratio_low"], r["ratio_high"], percent=False) for r in rows],
    "Verdict": [_verdict_words(r["verdict"], metric, sr, er, min_size) for r in rows],
}), hide_index=True)
if not judged:
    st.caption("The audit judges the selection rate (four-fifths rule) and the false alarms, "
               "missed customers and precision (error-rate parity); this measure is shown for "
               "information, with its intervals, and is not judged.")

# -- proxies ----------------------------------------------------------------------------------
st.subheader("Inputs that stand in for a sensitive field")
st.caption("A model that never sees a sensitive field can still treat its groups differently "
           "through an input that encodes it (a postcode, say). The strength of the link is "
           "the bias-corrected Cramér's V (Bergsma 2013): 0 = unrelated, 1 = the input gives the "
           "field away. Intervals are simultaneous over all pairs screened.")
prox = probe.table("fairness.proxies").to_frame().sort_values("cramers_v", ascending=False,
                                                                kind="stable")
p_thr = Threshold.from_dict(cfg["thresholds"]["fairness.proxy_association"])
p_rows = [{"label": f"{r.feature} → {r.field}", "value": float(r.cramers_v),
           "low": r.cramers_v_low, "high": r.cramers_v_high,
           "verdict": r.severity if r.severity in ("fail", "attention", "pass")
           else "not_compared"} for r in prox.head(20).itertuples(index=False)]
if p_rows:
    show(proxy_bars(p_rows, title="How strongly each input predicts a sensitive field",
                    bound=p_thr.attention), key="fairness_proxy_chart")
st.dataframe(pd.DataFrame({
    "Model input": prox["feature"], "Sensitive field": prox["field"],
    f"How strongly the input predicts the sensitive field (Cramér's V, {conf} interval)": [
        _interval(v, lo, hi, percent=False) for v, lo, hi in zip(
            prox["cramers_v"], prox["cramers_v_low"], prox["cramers_v_high"])],
    "How well the input alone guesses the field (0 = chance, 1 = perfect)": [
        fmt_value(v, percent=False) for v in prox["feature_power"]],
    "Verdict": [{"attention": f"stands in for the field (above {p_thr.attention:g})",
                 "fail": "stands in for the field", "pass": "ok"}.get(s, Severity(s).label)
                for s in prox["severity"]],
}), hide_index=True)

# -- what-if ----------------------------------------------------------------------------------
st.subheader("Scenario (not the audited model): what if the decision threshold were adjusted "
             "per group")
try:
    whatif = probe.table("fairness.whatif").to_frame()
except KeyError:
    whatif = None
if whatif is None or whatif.empty:
    st.info(" ".join(n for n in probe.notes if "what-if" in n.lower())
            or "The what-if scenario did not run in this audit.")
else:
    st.warning("A scenario, not the audited model: it shows what per-group decision "
               "thresholds (fairlearn's ThresholdOptimizer, Hardt et al. 2016) would do. It "
               "does not change the audited model, its results or any finding.")
    groups_w = [c[len("selection_rate["):-1] for c in whatif.columns
                if c.startswith("selection_rate[")]
    w_field = str(whatif["field"].iloc[0])
    table = pd.DataFrame({
        "Scenario": [SCENARIOS.get(s, s) for s in whatif["scenario"]],
        "Accuracy of the decisions": [fmt_value(v, percent=True) for v in whatif["accuracy"]],
        "Lowest group's rate / highest group's": [fmt_value(v, percent=False)
                                                  for v in whatif["dp_ratio"]]})
    for g in groups_w:
        table[f"How often {g} customers are {action}"] = [
            fmt_value(v, percent=True) for v in whatif[f"selection_rate[{g}]"]]
    st.dataframe(table, hide_index=True)
    show(whatif_scatter([{"label": SCENARIOS.get(s, s), "short": SHORT.get(s, s), "accuracy": a,
                          "dp_ratio": d} for s, a, d in zip(whatif["scenario"],
                                                            whatif["accuracy"],
                                                            whatif["dp_ratio"])],
                        title=f"Scenario for {w_field}: accuracy against equal treatment",
                        bound=sr.fail), key="fairness_whatif_chart")
    st.caption(f"Field: {w_field}. Point estimates on {int(whatif['rows'].iloc[0]):,} "
               "evaluation rows (the optimiser was fitted on the other half); no intervals "
               "were computed for the scenario, so small differences may be chance.")

with st.expander("Technical details"):
    st.caption(probe.table("fairness.groups").note)
    st.caption(probe.table("fairness.disparities").note)
    st.caption(probe.table("fairness.proxies").note)
    for n in probe.notes:
        st.caption(n)
    st.code(json.dumps({k: v for k, v in probe.params.items() if k != "age_bands"}, indent=1),
            language="json")
