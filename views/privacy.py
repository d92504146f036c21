"""Privacy page: what the model, and the data it was built from, give away about customers.

Reads the report alone (``state.require_report``): the membership, memorisation,
attribute-inference and data-exposure probes' tables and metrics. Every number carries its mode
("this model", which decides the finding; "this training recipe", the same recipe retrained,
shown beside it). Record ids are the report's pseudonyms (a keyed hash); an id that does not look
like one is withheld rather than shown.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from audits.core.numbers import pct
from reports.render.tables import fmt
from reports.report import current_summary
from views import privacy_charts as charts
from views import state
from views.plot_style import SEVERITY, show
from views.privacy_charts import short_label
from views.rights import show_rights
from views.texts import badge, esc, md, show_html, show_table

#: The form of a pseudonymised record id (``audits.core.subject.pseudonymise``: "p-" and 12 hex
#: digits).
PSEUDONYM = re.compile(r"^p-[0-9a-f]{12}$")
THIS_MODEL, RECIPE = "this model", "this training recipe"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_NUMBER = re.compile(r"\+?\d[\d\s().-]{6,}\d")
def mask(text) -> str:
    """Evidence text with anything that looks like an email address or a long number withheld
    (the probe's evidence describes values and never quotes one; this is a second guard)."""
    return _NUMBER.sub("[number withheld]", _EMAIL.sub("[email withheld]", str(text or "")))


def pseudonym(record) -> str:
    return record if isinstance(record, str) and PSEUDONYM.match(record) else \
        "(withheld: not a pseudonymised id)"


def ci_text(lo, hi, as_pct: bool = False) -> str:
    if lo is None or hi is None:
        return "no interval"
    f = pct if as_pct else fmt
    return f"{f(lo)} to {f(hi)}"


def rows(table) -> list[dict]:
    return [dict(zip(table.columns, r)) for r in table.rows]


def table_of(probe, name):
    try:
        return probe.table(name)
    except KeyError:
        return None


def probe_ok(report, name: str):
    """The probe's result when it ran, else a note on the page and None."""
    p = report.probes.get(name)
    if p is None:
        st.info(f"The {name.replace('_', ' ')} probe was not run in this audit, so this part is "
                "not assessed (which is not a pass).")
        return None
    if p.status != "ok":
        st.warning(f"The {name.replace('_', ' ')} probe could not run: "
                   + md(" ".join(p.notes or ("no reason recorded",))))
        return None
    return p


report = state.require_report()
st.title("Privacy")
st.caption("Attacks are run as an outsider with the model's scores would run them: they give a "
           "lower bound on what the model reveals about individual customers. Record ids are "
           "pseudonymised (a keyed hash); no personal value is shown.")

privacy_probes = [n for n, p in report.probes.items() if p.area == "privacy"]
incomplete = [r for r in current_summary(report).get("incomplete", [])
              if any(f"the {n} probe" in r for n in privacy_probes)]
if incomplete:
    st.warning("Incomplete: " + "; ".join(incomplete) + ". No approval is recommended until "
               "it runs, or the board records why it accepts the absence.")
privacy_findings = sorted((f for f in report.findings if f.area == "privacy"),
                          key=lambda f: -f.severity.rank)
n_inconclusive = sum(f.severity.value == "inconclusive" for f in privacy_findings)
if n_inconclusive:
    st.info(f"{n_inconclusive} privacy check{'s are' if n_inconclusive != 1 else ' is'} "
            "inconclusive: these rows cannot tell whether "
            f"{'they are' if n_inconclusive != 1 else 'it is'} met; the Findings page lists "
            "what would settle them under 'What this audit could not establish'.")
if privacy_findings:
    with st.container(border=True):
        show_html("<p><b>Privacy findings</b> (details on the Findings page)</p>"
                  "<ul style='list-style:none;padding-left:0'>" + "".join(
                      f"<li style='margin-bottom:0.3rem'>{badge(f.severity.value)} "
                      f"{esc(f.title)}</li>" for f in privacy_findings) + "</ul>")

# -- membership inference -----------------------------------------------------------------
st.header("Can an attacker tell who was in the training data?")
mem = probe_ok(report, "membership")
if mem is not None:
    attacks = rows(mem.table("attacks"))
    best = next((a for a in attacks if a["mode"] == THIS_MODEL and a["strongest"]), None)
    recipe = next((a for a in attacks if a["mode"] == RECIPE and a["strongest"]), None)
    level = mem.params.get("risk_level", "")
    finding = next((f for f in mem.findings
                    if f.id.startswith("privacy.membership_inference")), None)
    st.subheader(f"Membership risk: {md(level.capitalize()) or 'not assessed'}")
    if finding is not None:
        show_html(f"<p>Finding: {badge(finding.severity.value)}</p>")
    pre = mem.params.get("precondition") or {}
    if pre and not pre.get("met", True):
        st.warning(f"**Not assessed: the holdout is not drawn like the training rows.** "
                   f"{md(pre.get('reason') or '')}\n\n**Remedy:** {md(pre.get('remedy') or '')}")
    st.markdown(md(mem.params.get("risk_meaning", "")))  # the probe's own words
    if best is not None:
        alpha = best["low_fpr_used"]
        resolved = alpha <= 0.001 + 1e-12
        at = (f"at {pct(alpha)} false alarms" if resolved else
              f"at {pct(alpha)} false alarms (the smallest rate these records resolve)")
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Strongest attack's AUC ({THIS_MODEL})", fmt(best["auc"]),
                  help="0.5 means guessing, 1 means certainty. Technical name: area under the "
                       "ROC curve of the membership-inference attack.")
        c1.caption(f"{best['label']}; 95% interval {ci_text(best['auc_low'], best['auc_high'])}")
        c2.metric(f"Found {at} ({THIS_MODEL})", pct(best["tpr_low_fpr"]),
                  help="True-positive rate at a low false-positive rate (Carlini et al. 2022): "
                       "the share of training customers the attacker picks out while wrongly "
                       "accusing only that share of customers the model never saw.")
        low_ci = ci_text(best["tpr_low_fpr_low"], best["tpr_low_fpr_high"], True)
        ratio = best.get("tpr_fpr_ratio")
        r_lo, r_hi = best.get("tpr_fpr_ratio_low"), best.get("tpr_fpr_ratio_high")
        ratio_text = ("" if ratio is None else
                      f"; {ratio:.1f} times the false-alarm rate (interval "
                      + ("—" if r_lo is None or r_hi is None else f"{r_lo:.1f} to {r_hi:.1f}")
                      + "; judged on this ratio: 5 attention, 20 fail, 100 critical)")
        c2.caption(f"Share of the training customers picked out; 95% interval {low_ci}"
                   f"{ratio_text}; false alarms reached on the reporting records "
                   f"{pct(best['fpr_reached'])}; at 1% false alarms: {pct(best['tpr_1pct'])} "
                   f"({ci_text(best['tpr_1pct_low'], best['tpr_1pct_high'], True)})")
        if not resolved:
            c2.caption("Fewer than 1,000 holdout customers in a split: 1 false alarm in 1,000 "
                       "cannot be measured, so the check is judged at the smallest rate the "
                       "rows resolve.")
        if recipe is not None:
            c3.metric(f"Strongest attack's AUC ({RECIPE})", fmt(recipe["auc"]),
                      help="The same training recipe retrained on other customers and attacked "
                           "in turn: whether the leak comes from the recipe, not this one fit.")
            c3.caption(f"{recipe['label']}; 95% interval "
                       f"{ci_text(recipe['auc_low'], recipe['auc_high'])}; found {at}: "
                       f"{pct(recipe['tpr_low_fpr'])}")
    meaning = mem.params.get("interpretation")
    if meaning:
        st.markdown(f"**What it means:** {md(meaning)}")
    checks = []
    if pre.get("distinguisher_auc") is not None:
        lo, hi = pre.get("distinguisher_ci") or (None, None)
        checks.append(f"Holdout drawn like the training rows? A classifier without the model "
                      f"tells the files apart with AUC {fmt(pre['distinguisher_auc'])} (interval "
                      f"{ci_text(lo, hi)}; the attacks are not judged above "
                      f"{fmt(pre.get('bound'))}): "
                      + ("yes." if pre.get("met", True) else "no."))
    replica = mem.params.get("reference_models") or {}
    if replica.get("text"):
        checks.append(replica["text"])
    if checks:
        st.caption(" ".join(md(c) for c in checks))
    if finding is not None:
        with st.expander("The finding in full"):
            st.markdown(md(finding.statement))
            st.markdown(f"**Recommended action:** {md(finding.action)}")

    st.subheader("ROC curves of the attacks")
    m1, m2 = st.columns([2, 1])
    mode = m1.radio("Which model is attacked", [THIS_MODEL, RECIPE], horizontal=True,
                    key="privacy_mode",
                    help="'this model': the audited model (decides the finding). 'this training "
                         "recipe': each retrained reference model attacked in turn.")
    log_y = m2.toggle("Log scale for the true-positive rate", value=True, key="privacy_log_y",
                      help="Log on both axes, as Carlini et al. 2022 recommend, shows the rate "
                           "at very few false alarms.")
    show(charts.roc_figure(mem.table("roc"), mem.table("attacks"), mode, log_y=log_y),
         key="privacy_roc")
    st.caption("Each attack has its own dash and marker; the dashed black line is guessing. "
               "Curves high on the left are attacks that find training customers with very few "
               "false alarms." + (" On a log scale a curve at zero (an attack that finds no "
                                  "training customer there) is not drawn." if log_y else ""))
    frame = pd.DataFrame([{
        "Attack": a["label"], "Mode": a["mode"],
        "AUC": f"{fmt(a['auc'])} ({ci_text(a['auc_low'], a['auc_high'])})",
        "Found at 0.1% false alarms": f"{pct(a['tpr_low_fpr'])} "
        f"({ci_text(a['tpr_low_fpr_low'], a['tpr_low_fpr_high'], True)})",
        "Found at 1% false alarms": f"{pct(a['tpr_1pct'])} "
        f"({ci_text(a['tpr_1pct_low'], a['tpr_1pct_high'], True)})",
        "Advantage (found minus false alarms)": fmt(a["advantage"]),
        "Strongest": "yes" if a["strongest"] else ""} for a in attacks if a["mode"] == mode])
    show_table(frame)
    st.caption(md(mem.table("attacks").note))

    st.subheader("How much privacy could the training have had?")
    eps = table_of(mem, "epsilon")
    e1, e2 = st.columns(2)
    with e1:
        if eps is not None and eps.rows:
            e = rows(eps)[0]
            st.metric(f"Privacy loss ε, at least ({THIS_MODEL})", fmt(e["epsilon_lower_bound"]),
                      help="An empirical lower bound on the differential-privacy epsilon "
                           "(Jagielski et al. 2020): smaller is more private.")
            st.metric("Ceiling: the most this number of guesses could show",
                      fmt(e["ceiling"]))
            labels = {a["attack"]: a["label"] for a in attacks}
            name = short_label(labels.get(e["attack"], e["attack"]))
            st.caption(f"Method: {e['method']} on {name} at "
                       f"{pct(e['fpr_level'])} false alarms; {fmt(e['tp'])} of "
                       f"{fmt(e['n_members'])} training customers and {fmt(e['fp'])} of "
                       f"{fmt(e['n_nonmembers'])} holdout customers flagged. {md(eps.note)}")
            if not e["epsilon_lower_bound"]:
                st.markdown("No privacy loss could be demonstrated, which is not a proof of "
                            "privacy.")
            elif e["ceiling"] and e["epsilon_lower_bound"] >= 0.9 * e["ceiling"]:
                st.markdown("The bound is close to its ceiling: these records cannot show "
                            "more, and the true loss may be larger.")
    with e2:
        canaries = None
        memo = report.probes.get("memorisation")
        if memo is not None and memo.status == "ok":
            canaries = table_of(memo, "canaries")
        if canaries is not None and canaries.rows:
            c = rows(canaries)[0]
            st.metric("One-run bound from canaries, at least", fmt(c["epsilon_one_run"]),
                      help="Steinke, Nasr & Jagielski 2023: synthetic customers slipped into "
                           "a retraining at random, then guessed.")
            st.metric("Ceiling: the most these guesses could show", fmt(c["epsilon_ceiling"]))
            st.caption(f"{fmt(c['correct'])} of {fmt(c['guesses'])} guesses right on "
                       f"{fmt(c['n_canaries'])} synthetic customers ({fmt(c['n_inserted'])} "
                       f"inserted); AUC {fmt(c['auc'])} "
                       f"({ci_text(c['auc_low'], c['auc_high'])}).")
        else:
            st.caption("The canary experiment did not run in this audit.")

# -- attribute inference ------------------------------------------------------------------
st.header("Can the model reveal a customer's sensitive field?")
ai = probe_ok(report, "attribute_inference")
if ai is not None:
    points = charts.attribute_points(ai)
    if points:
        show(charts.attribute_figure(points), key="privacy_attribute")
        st.caption("Circles: an attacker with the model; squares: the same attacker without it "
                   "(an imputation baseline). Filled: training customers; open: customers the "
                   "model never saw. Only the difference from the baseline is leakage "
                   "(Jayaraman & Evans 2022).")
        bound = (report.config.get("thresholds", {}).get("privacy.attribute_inference", {})
                 .get("attention")) or 0.02
        adv = charts.advantage_rows(ai, bound=bound)
        show_table(pd.DataFrame([{
            "Sensitive field": r["field"], "Attack": r["attack"], "Compared on": r["compared"],
            "AUC gain over the baseline": f"{r['advantage']:+.3f} "
            f"({ci_text(r['low'], r['high'])})", "In words": r["verdict"]} for r in adv]))
        st.caption("Intervals: " + md(adv[0]["method"]) if adv else "")
    else:
        st.info("No sensitive field was audited for attribute inference.")
    for f in sorted(ai.findings, key=lambda f: -f.severity.rank):
        icon = SEVERITY[f.severity.value]["icon"]
        with st.expander(f"{icon} {f.severity.label} | {md(f.title)}"):
            st.markdown(md(f.statement))

# -- exposed and memorised customers ------------------------------------------------------
st.header("Which customers are most exposed?")
if mem is not None:
    ex = table_of(mem, "exposed_records")
    if ex is not None:
        st.subheader("Most exposed by the strongest attack (this model)")
        show_table(pd.DataFrame([{
            "Rank": r["rank"], "Customer (pseudonymised id)": pseudonym(r["record"]),
            "Attack score": fmt(r["score"]),
            "Holdout customers scoring as high": pct(r["false_alarm_share"]),
            "Memorisation": fmt(r["memorisation"])} for r in rows(ex)]))
        st.caption(md(ex.note))
    groups = table_of(mem, "groups")
    if groups is not None and groups.rows:
        show(charts.group_auc_figure(groups), key="privacy_groups")
        st.caption(md(groups.note))
memo = probe_ok(report, "memorisation")
if memo is not None:
    st.subheader("Most memorised by the training recipe")
    share = next((m for m in memo.metrics if m.name == "memorisation.share_high"), None)
    floor = memo.params.get("noise_floor")
    m_pre = memo.params.get("precondition") or {}
    if m_pre and not m_pre.get("met", True):
        st.warning("**Memorisation not assessed: the holdout is not drawn like the training "
                   f"rows.** {md(m_pre.get('remedy') or '')}")
    if share is not None:
        s1, s2 = st.columns(2)
        s1.metric(share.label, pct(share.value),
                  help="Feldman & Zhang 2020: the recipe gets these customers right mostly only "
                       "when they are in its training data.")
        s1.caption(f"95% interval {ci_text(*(share.ci or (None, None)), True)}; "
                   f"{md(share.method)}")
        if floor is not None:
            s2.metric("Noise floor: the same share by chance alone", pct(floor),
                      help="The share once the reference models' IN/OUT labels are shuffled: "
                           "what it would be if training on a customer changed nothing.")
            s2.caption(f"Judged against the floor: attention when the share lies above it and "
                       f"may reach {pct(memo.params.get('attention_bound'))} (the floor plus 1 "
                       "point).")
    if memo.params.get("interpretation"):
        st.markdown(f"**What it means:** {md(memo.params['interpretation'])}")
    mr = table_of(memo, "memorised_records")
    if mr is not None:
        show_table(pd.DataFrame([{
            "Rank": r["rank"], "Customer (pseudonymised id)": pseudonym(r["record"]),
            "In this model's training data": "yes" if r["part"] == "training"
            else "no (holdout)", "Memorisation": fmt(r["memorisation"]),
            "Soft score": fmt(r["soft"])} for r in rows(mr)]))
        st.caption(md(mr.note))

# -- data exposure ------------------------------------------------------------------------
st.header("What the data itself exposes")
dx = probe_ok(report, "data_exposure")
if dx is not None:
    pc = table_of(dx, "personal_columns")
    if pc is not None:
        st.subheader("Personal columns")
        st.table(pd.DataFrame([{
            "Column": r["column"], "Kind": str(r["kind"]).replace("_", " "),
            "Found by name": fmt(r["by_name"]), "Found by content": fmt(r["by_content"]),
            "Declared": fmt(r["declared"]), "Model input": fmt(r["model_input"]),
            "Evidence (describes values, never quotes one)": mask(r["evidence"])}
            for r in rows(pc)]), hide_index=True)
        st.caption(md(pc.note))
    st.subheader("Re-identification")
    metrics = {m.name: m for m in dx.metrics}
    r1, r2, r3 = st.columns(3)
    u = metrics.get("reidentification.unique_share")
    if u is not None:
        r1.metric("Unique on their quasi-identifiers", pct(u.value), help=u.method)
        r1.caption("Share of the training records that no other record shares "
                   + ("(an exact count on the rows held, so no interval)" if not u.ci else
                      f"(95% interval {ci_text(*u.ci, True)})"))
    k = metrics.get("reidentification.k_anonymity")
    if k is not None:
        r2.metric("k-anonymity", fmt(k.value), help=k.label)
        r2.caption("The smallest group of records sharing one combination of values")
    n = metrics.get("reidentification.n_classes")
    if n is not None:
        r3.metric("Distinct combinations", fmt(n.value), help=n.label)
        r3.caption("Combinations of the quasi-identifiers' values among the training records")
    st.caption(md(" ".join(dx.notes)))
    eq = table_of(dx, "equivalence_classes")
    if eq is not None:
        show_table(pd.DataFrame([{
            "Records sharing a combination": r["class_size"],
            "Combinations": fmt(r["classes"]) if r["classes"] is not None else "suppressed",
            "Records": fmt(r["records"]) if r["records"] is not None else "suppressed",
            "Share of records": pct(r["share_of_records"])} for r in rows(eq)]))
        st.caption(md(eq.note))
    qd = table_of(dx, "quasi_identifier_drivers")
    if qd is not None:
        show_table(pd.DataFrame([{
            "Quasi-identifier": r["quasi_identifier"], "Distinct values": fmt(r["distinct_values"]),
            "Unique share without it": pct(r["unique_share_without_it"])} for r in rows(qd)]))
        st.caption(md(qd.note))

show_rights(report)

with st.expander("How these numbers were computed"):
    for name in ("membership", "memorisation", "attribute_inference", "data_exposure"):
        p = report.probes.get(name)
        if p is not None:
            for note in p.notes:
                st.markdown(f"- **{name.replace('_', ' ')}:** {md(note)}")
