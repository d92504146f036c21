"""Fairness page: how each group of customers is treated, read against any group.

Reads the fairness probe's tables from the report. The audit compares every pair of groups, so
reading the groups against another reference is a view of the stored pairs
(:func:`reports.drilldown.metric_view`); only a report stored before every pair was compared
(schema 1.0) is recomputed on demand with the probe's own code
(:func:`reports.drilldown.fairness_against`, cached per report, field and reference). The audit's
findings are never changed here. What the rows could not establish (inconclusive checks) and an
incomplete audit are shown in words.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from audits.core.errors import InputError
from audits.core.results import Severity, Threshold
from reports.drilldown import fairness_against, has_all_pairs, metric_view
from reports.report import current_summary
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
from views.plot_style import SEVERITY, show
from views.texts import badge, esc, md, show_html, show_table

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
    a, b = (sr if metric == "selection_rate" else er).band or (sr.fail, 1 / sr.fail)
    rule = "four-fifths rule, read both ways" if metric == "selection_rate" else "tolerance"
    if key == "fail":
        return f"fails: the whole interval lies outside {a:g} to {b:g} ({rule})"
    if key == "attention":
        return (f"needs attention: the whole interval lies on one side of 1 and the estimate "
                f"outside {a:g} to {b:g}")
    if key == "inconclusive":
        return (f"inconclusive: the interval reaches across {a:g} or {b:g}; these rows cannot "
                "tell")
    if key == "pass":
        return f"ok: the whole interval lies inside {a:g} to {b:g} ({rule})"
    if key == "small":
        return f"too few customers to judge (under {min_size})"
    return VERDICTS[key][0]


def _band_lines(metric: str, ref_label: str, ref_value, sr: Threshold, er: Threshold):
    """The threshold lines of a rate chart, relative to the reference group's rate."""
    if ref_value is None:
        return []
    if metric == "selection_rate":
        a, b = sr.band or (sr.fail, None)
        name = "four-fifths" if abs(a - 0.8) < 1e-12 else f"{a:g} ×"
        out = [(a * ref_value, f"{name} of {ref_label}: {fmt_value(a * ref_value, percent=True)}")]
        if b is not None:
            out.append((b * ref_value, f"{b:g} × {ref_label}: "
                                       f"{fmt_value(b * ref_value, percent=True)}"))
        return out
    if metric in ERROR_METRICS:
        return [(b * ref_value, f"{b:g} × {ref_label}: {fmt_value(b * ref_value, percent=True)}")
                for b in er.band]
    return [(ref_value, f"{ref_label} (reference level; not a judged check)")]


def _severity_words(severity) -> str:
    """A severity in a table cell: its symbol and its word ("✗ Fail"), or a dash."""
    if not severity or (isinstance(severity, float) and severity != severity):
        return "—"
    return f"{SEVERITY[str(severity)]['icon']} {Severity(severity).label}"


report = state.require_report()
probe = report.probes.get("fairness")
st.title("Fairness")
incomplete = [r for r in current_summary(report).get("incomplete", []) if "fairness" in r]
if incomplete:
    st.warning("Incomplete: " + md("; ".join(incomplete)) + ". No approval is recommended until "
               "the fairness checks can be judged, or the board records why it accepts the "
               "absence.")
if probe is None or probe.status != "ok":
    st.info("The fairness probe did not run in this audit, so groups were not compared. "
            + md(" ".join(probe.notes if probe else ())))
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
all_pairs = has_all_pairs(probe.params)
st.subheader("What the audit found, by field")
columns = {
    "Customers compared by": [_field_label(f) for f in summary["field"]],
    "Groups judged": [f"{a} of {g}" for a, g in zip(summary["assessed"], summary["groups"])],
    f"Lowest group's rate / highest group's ({conf} interval)": [
        _interval(v, lo, hi, percent=False) for v, lo, hi in zip(
            summary["demographic_parity_ratio"], summary["demographic_parity_ratio_low"],
            summary["demographic_parity_ratio_high"])],
    "Four-fifths rule (disparate impact)": [_severity_words(s)
                                            for s in summary["disparate_impact"]],
    "Error rates alike (error-rate parity)": [_severity_words(s)
                                              for s in summary["error_rate_parity"]],
}
if "subgroup_performance" in summary:
    columns["Accuracy alike (subgroup performance)"] = [
        _severity_words(s) for s in summary["subgroup_performance"]]
if not all_pairs:  # a report of schema 1.0 judged every group against one reference
    columns["Most favoured group (the audit's reference)"] = list(summary["reference"])
show_table(pd.DataFrame(columns))
st.caption("Every pair of groups of a field is compared, both ways, and all the comparisons of "
           f"the audit share one simultaneous {conf} interval (a max-statistic band), so that "
           "comparing many groups does not raise alarms by chance." if all_pairs else
           "A report stored before every pair of groups was compared: each group was judged "
           "against the most favoured group.")

unsettled = [f for f in report.findings if f.area == "fairness"
             and f.severity in (Severity.INCONCLUSIVE, Severity.NOT_ASSESSED)]
with st.container(border=True):
    st.markdown(f"**What these rows could not establish** ({len(unsettled)})")
    if not unsettled:
        st.caption("Every fairness check could be judged: each passes or shows its finding.")
    for f in unsettled:  # titles name intersections ("ethnicity*gender"): escaped
        show_html(f"<p>{badge(f.severity.value)}: <b>{esc(f.title)}</b></p>")
        st.caption(md(f.statement + " " + f.action))

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
if audit_ref is None and all_pairs and candidates:
    # a probe that names no reference (a regression's) compared every pair: the page reads the
    # groups against the largest one, as it offers by default
    sizes = dict(zip((str(g) for g in g_field["group"]), g_field["n"]))
    audit_ref = max(candidates, key=lambda g: (sizes.get(g) or 0, g))
if not candidates or audit_ref is None:
    st.info(f"Fewer than two groups of {_field_label(field)} have at least {min_size} "
            "customers, so no group can be compared with another.")
    st.stop()
reference = c3.selectbox(
    "Compare with (reference group)", candidates,
    index=candidates.index(audit_ref) if audit_ref in candidates else 0,
    key=f"fairness_reference_{field}",
    format_func=lambda g: _group_label(field, g) + (
        (" (the largest group)" if g == audit_ref else "") if all_pairs else
        (" (the audit's reference)" if g == audit_ref else "")),
    help=("The audit compares every pair of groups. Pick a group to read the others against "
          "it: the same comparisons, judged in the audit." if all_pairs else
          "This report compared every group with the most favoured group. Pick another group "
          "to recompute the same comparisons against it."))
st.caption(METRICS[metric][1].format(pos=pos, action=action))

if reference != audit_ref and not all_pairs:
    try:
        with st.spinner(f"Recomputing the comparisons against '{reference}' with the audit's "
                        "own method..."):
            groups_t, disp_t = _against(report.report_id, field, reference,
                                        probe.params.get("part", "nonmembers"),
                                        report.subject, cfg)
    except InputError as e:
        st.error(md(e))
        st.stop()
    st.info(f"Recomputed against '{md(reference)}': same groups, same bootstrap replicates "
            f"({cfg.get('n_bootstrap')}) and the same rules as the audit, only the reference "
            f"changes. The audit's findings were judged against '{md(audit_ref)}' and are "
            "unchanged.")

view = metric_view(groups_t, disp_t, field, metric, reference=reference)
judged = metric in ERROR_METRICS or metric == "selection_rate"
rows = [dict(r, group=_group_label(field, r["group"]), verdict=verdict_key(r, judged=judged))
        for r in view.to_dict("records")]
ref_label = _group_label(field, reference)
ref_row = next(r for r in rows if r["is_reference"])
percent = metric in PERCENT
ref_value = ref_row["value"]
lines = _band_lines(metric, ref_label, ref_value, sr, er)

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
    band = (sr.band or (sr.fail,)) if metric == "selection_rate" else er.band
    ratio_lines = ([(b, f"four-fifths rule ({b:g})" if abs(b - 0.8) < 1e-12 else f"bound {b:g}")
                    for b in band] if metric == "selection_rate"
                   else [(b, f"tolerance {b:g}") for b in er.band] if metric in ERROR_METRICS
                   else [])
    show(ratio_dots(rows, title=f"{label}: ratio to {ref_label}", reference=ref_label,
                    lines=ratio_lines), key="fairness_ratio_chart")
    st.caption(f"Markers: each group's rate divided by the reference group's, whiskers the {conf} "
               "interval, simultaneous over all the comparisons of the audit (max-statistic "
               "bootstrap band, Westfall & Young 1993).")

show_table(pd.DataFrame({
    "Group": [r["group"] for r in rows],
    "Customers": [f"<{suppress_below}" if r["n"] is None else f"{r['n']:,}" for r in rows],
    f"{label} ({conf} interval)": [_interval(r["value"], r["low"], r["high"], percent=percent)
                                for r in rows],
    f"Ratio to {ref_label} ({conf} simultaneous interval)": [
        "1 (reference)" if r["is_reference"] else
        _interval(r["ratio"], r["ratio_low"], r["ratio_high"], percent=False) for r in rows],
    "Verdict": [_verdict_words(r["verdict"], metric, sr, er, min_size) for r in rows],
}))
if not judged:
    st.caption("The audit judges the selection rate (four-fifths rule) and the false alarms, "
               "missed customers and precision (error-rate parity); this measure is shown for "
               "information, with its intervals, and is not judged.")

try:
    drops = probe.table("fairness.subgroup_performance").to_frame()
except KeyError:  # a report stored before the check existed
    drops = None
if drops is not None:
    drops = drops[drops["field"] == field]
    st.subheader("Is the model as accurate for each group?")
    st.caption("The share of right decisions in each group against all customers; the drop is "
               "relative (1 - group / overall), judged on its simultaneous interval: attention "
               "when it lies wholly above 5%, fail above 10% (Giskard's defaults).")
    if drops.empty:
        st.info(f"Fewer than two groups of {_field_label(field)} have at least {min_size} "
                "customers, so no group's accuracy is judged.")
    else:
        show_table(pd.DataFrame({
            "Group": [_group_label(field, str(g)) for g in drops["group"]],
            f"Right decisions ({conf} interval)": [
                _interval(v, lo, hi, percent=True) for v, lo, hi in zip(
                    drops["accuracy"], drops["accuracy_low"], drops["accuracy_high"])],
            "Overall": [fmt_value(v, percent=True) for v in drops["overall_accuracy"]],
            f"Drop against overall ({conf} simultaneous interval)": [
                _interval(v, lo, hi, percent=True) for v, lo, hi in zip(
                    drops["drop"], drops["drop_low"], drops["drop_high"])],
            "Verdict": [_severity_words(s) for s in drops["severity"]],
        }))

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
show_table(pd.DataFrame({
    "Model input": prox["feature"], "Sensitive field": prox["field"],
    f"How strongly the input predicts the sensitive field (Cramér's V, {conf} interval)": [
        _interval(v, lo, hi, percent=False) for v, lo, hi in zip(
            prox["cramers_v"], prox["cramers_v_low"], prox["cramers_v_high"])],
    "How well the input alone guesses the field (0 = chance, 1 = perfect)": [
        fmt_value(v, percent=False) for v in prox["feature_power"]],
    "Verdict": [{"attention": f"stands in for the field (above {p_thr.attention:g})",
                 "fail": "stands in for the field", "pass": "ok"}.get(s, Severity(s).label)
                for s in prox["severity"]],
}))

# -- what-if ----------------------------------------------------------------------------------
st.subheader("Scenario (not the audited model): what if the decision threshold were adjusted "
             "per group")
try:
    whatif = probe.table("fairness.whatif").to_frame()
except KeyError:
    whatif = None
if whatif is None or whatif.empty:
    st.info(md(" ".join(n for n in probe.notes if "what-if" in n.lower()))
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
    show_table(table)
    show(whatif_scatter([{"label": SCENARIOS.get(s, s), "short": SHORT.get(s, s), "accuracy": a,
                          "dp_ratio": d} for s, a, d in zip(whatif["scenario"],
                                                            whatif["accuracy"],
                                                            whatif["dp_ratio"])],
                        title=f"Scenario for {w_field}: accuracy against equal treatment",
                        bound=sr.band[0] if sr.band else sr.fail), key="fairness_whatif_chart")
    st.caption(f"Field: {md(w_field)}. Point estimates on {int(whatif['rows'].iloc[0]):,} "
               "evaluation rows (the optimiser was fitted on the other half); no intervals "
               "were computed for the scenario, so small differences may be chance.")

with st.expander("Technical details"):
    st.caption(md(probe.table("fairness.groups").note))
    st.caption(md(probe.table("fairness.disparities").note))
    st.caption(md(probe.table("fairness.proxies").note))
    for n in probe.notes:
        st.caption(md(n))
    st.code(json.dumps({k: v for k, v in probe.params.items() if k != "age_bands"}, indent=1),
            language="json")
