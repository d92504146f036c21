"""Findings and small-cell suppression of the fairness probe: plain language for a board.

Every statement names the pair of groups (or the group) with the strongest evidence among those
that set the finding's severity, in the orientation that reads naturally, with the number, the
interval it was judged on and what the threshold says. An inconclusive finding also says what
these rows could not establish: the smallest effect they could have detected and roughly how
many more rows per group would settle it (:mod:`audits.fairness_pairs`: a power calculation on
the band's bootstrap spread, 80% power).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.numbers import plain
from audits.core.results import Finding, Metric, Severity
from audits.core.subject import AuditSubject
from audits.fairness_field import FieldAudit
from audits.fairness_pairs import Comparisons

__all__ = ["field_findings", "proxy_findings", "sensitive_input_finding", "suppress",
           "strongest", "MAX_ROWS_FACTOR"]

#: beyond this many times the rows, an estimate is "too close to the bound to settle"
MAX_ROWS_FACTOR = 100.0

_ERROR_LABEL = {
    "fpr": ("false-positive rate", "share of actual negatives predicted positive"),
    "fnr": ("false-negative rate", "share of actual positives the model misses"),
    "precision": ("precision", "share of positive predictions that are right"),
}
_CHECKS = {"disparate_impact": "Disparate impact", "error_rate_parity": "Error-rate parity",
           "subgroup_performance": "Subgroup performance"}
_REFS = {"disparate_impact": "29 CFR 1607.4(D); Westfall & Young 1993",
         "error_rate_parity": "Aequitas (Saleiro et al. 2018); Westfall & Young 1993",
         "subgroup_performance": "Giskard performance-bias detector; Westfall & Young 1993"}


def suppress(frame: pd.DataFrame, columns, below: int) -> tuple[pd.DataFrame, bool]:
    """Blank (None) every count under ``below`` in ``columns``; say whether any was blanked."""
    frame = frame.copy()
    hit = False
    for c in columns:
        if c not in frame:
            continue
        vals = frame[c].astype(object)
        small = np.array([v is not None and not _nan(v) and v < below for v in vals], dtype=bool)
        hit |= bool(small.any())
        frame[c] = pd.Series([None if s else v for v, s in zip(vals, small)],
                             index=frame.index, dtype=object)
    return frame, hit


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _num(x, fmt: str = ".2f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "unknown"
    if math.isinf(x):
        return "unbounded"
    return format(x, fmt)


def _f(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _who(field: str, group: str) -> str:
    return f"'{group}' ({' × '.join(field.split('*'))})"


def _action(subject: AuditSubject) -> str:
    return subject.favourable_action or f"the decision {plain(subject.favourable_label)!r}"


def strongest(rows: pd.DataFrame) -> pd.Series | None:
    """The row that sets the check's severity with the strongest evidence: the most severe
    rows first, then the largest evidence (the estimate's distance from no effect in band
    half-spreads)."""
    if rows.empty:
        return None
    rank = rows["severity"].map(lambda s: Severity(s).rank)
    top = rows[rank == rank.max()]
    ev = top["evidence"].astype(float).fillna(-np.inf)
    return top.loc[ev.idxmax()]


def _tally(rows: pd.DataFrame, what: str) -> str:
    counts = rows["severity"].value_counts()
    words = {"fail": ("fails", "fail"), "attention": ("needs attention", "need attention"),
             "inconclusive": ("is inconclusive", "are inconclusive"), "pass": ("passes", "pass"),
             "not_assessed": ("could not be judged", "could not be judged")}
    parts = [f"{counts[s]} {words[s][int(counts[s] != 1)]}" for s in words if counts.get(s)]
    if len(rows) == 1:
        return ""
    return f" Of the {len(rows)} {what} compared, " + ", ".join(parts) + "."


def _more_rows(factor: float, sizes: list[tuple[str, int]], field: str) -> str:
    if not np.isfinite(factor) or factor > MAX_ROWS_FACTOR:
        return (f"the estimate lies so close to the bound that more than {MAX_ROWS_FACTOR:.0f} "
                "times these rows would be needed to settle it")
    factor = max(factor, 1.0)
    more = " and ".join(f"about {math.ceil((factor - 1) * n):,} more for {_who(field, g)}"
                        for g, n in sizes)
    return (f"roughly {factor:.1f} times these rows ({more}) would settle it, if the estimate "
            "is what these rows say")


def _not_established(w, sizes, field: str, detect_words: str) -> str:
    return (f" These rows cannot establish which side of the bound it lies on: they could "
            f"detect {detect_words} (80% power, from the band's bootstrap spread); "
            f"{_more_rows(float(w['rows_factor']), sizes, field)}.")


def _pair_finding(check: str, rows: pd.DataFrame, fa: FieldAudit, subject: AuditSubject,
                  config: AuditConfig, thr, family_size: int) -> Finding:
    w = strongest(rows)
    sev = Severity(w["severity"])
    lo, hi = _f(w["ratio_low"]), _f(w["ratio_high"])
    g, ref, m = str(w["group"]), str(w["reference"]), str(w["metric"])
    n_of = dict(zip(fa.levels, (int(x) for x in fa.n)))
    conf = f"{config.confidence:.0%}"
    a, b = thr.band
    within = (f"with {conf} confidence, simultaneously over the {family_size} comparisons of "
              f"this audit's fairness checks (each pair read both ways), between {_num(lo)} and "
              f"{_num(hi)}.")
    if check == "disparate_impact":
        label = f"Selection-rate ratio, '{g}' / '{ref}'"
        head = (f"Customers in {_who(fa.field, g)} get the favourable decision "
                f"({_action(subject)}) {_num(float(w['ratio']))} times as often as customers in "
                f"'{ref}' ({_num(float(w['value']), '.1%')} against "
                f"{_num(float(w['reference_value']), '.1%')}); {within}")
        rule = f"the four-fifths rule read both ways, band [{a:.2f}, {b:.2f}] (29 CFR 1607.4(D))"
    else:
        name, meaning = _ERROR_LABEL[m]
        label = f"{m.upper()} ratio, '{g}' / '{ref}'"
        head = (f"The {name} ({meaning}) of {_who(fa.field, g)} is {_num(float(w['ratio']))} "
                f"times that of '{ref}' ({_num(float(w['value']), '.1%')} against "
                f"{_num(float(w['reference_value']), '.1%')}); {within}")
        rule = f"Aequitas' tolerance, band [{a:.2f}, {b:.2f}]"
    verdict = {
        Severity.FAIL: f" The whole interval lies outside {rule}, so the gap is not explained "
                       "by chance.",
        Severity.ATTENTION: f" The whole interval lies on one side of 1, so a gap is shown, and "
                            f"the estimate lies outside {rule}: the gap may reach the bound.",
        Severity.PASS: f" Every pair's interval lies inside {rule}; this pair is the furthest "
                       "from parity.",
        Severity.INCONCLUSIVE: (f" The interval reaches across an edge of {rule}, so it neither "
                                "passes nor shows a harm." if a <= float(w["ratio"]) <= b else
                                f" The estimate lies outside {rule}, but the interval includes "
                                "1 (no difference), so no harm is shown."),
    }.get(sev, " The interval could not be computed.")
    statement = head + verdict
    action = {
        Severity.FAIL: ("Find out which inputs drive the gap (see the proxy screen), consider a "
                        "mitigation (see the what-if scenario), and record a business "
                        "justification or a fix before release.")
        if check == "disparate_impact" else
        ("Check whether the errors fall on the group's customers in a way the business can "
         "justify; consider equalised-odds thresholds (see the what-if scenario)."),
        Severity.ATTENTION: "Review the gap with the model owner and set a condition, or accept "
                            "it with a recorded reason.",
        Severity.PASS: "No action needed.",
    }.get(sev, "")
    if sev is Severity.INCONCLUSIVE:
        det = float(w["detectable"])
        side = "below" if det < 1 else "above"
        statement += _not_established(w, [(g, n_of[g]), (ref, n_of[ref])], fa.field,
                                      f"a ratio {side} {_num(det)}")
        action = ("Not a finding of harm. To settle it, audit again with more holdout rows for "
                  "these groups, or record why the board accepts the uncertainty.")
    statement += _tally(rows, "pairs of groups and rates" if check == "error_rate_parity"
                        else "pairs of groups")
    metric = Metric(f"{check}.{fa.field}", float(w["ratio"]), (lo, hi),
                    method=_method(config, family_size), label=label, reference=_REFS[check],
                    n=min(n_of[g], n_of[ref]))
    return Finding(f"fairness.{check}.{fa.field}", sev, f"{_CHECKS[check]}: {fa.field}",
                   statement, action=action, metric=metric, threshold=thr, area="fairness")


def _drop_finding(rows: pd.DataFrame, fa: FieldAudit, config: AuditConfig, thr,
                  family_size: int) -> Finding:
    w = strongest(rows)
    sev = Severity(w["severity"])
    lo, hi = _f(w["drop_low"]), _f(w["drop_high"])
    g = str(w["group"])
    conf = f"{config.confidence:.0%}"
    statement = (
        f"The decisions are right for {_num(float(w['accuracy']), '.1%')} of the customers in "
        f"{_who(fa.field, g)} against {_num(float(w['overall_accuracy']), '.1%')} overall: a "
        f"relative drop of {_num(float(w['drop']), '.1%')}; with {conf} confidence, "
        f"simultaneously over the {family_size} comparisons of this audit's fairness checks, "
        f"between {_num(lo, '.1%')} and {_num(hi, '.1%')}. Giskard's defaults: attention when the "
        f"whole interval lies above a {thr.attention:.0%} drop, fail above {thr.fail:.0%}.")
    statement += {
        Severity.FAIL: " The whole interval lies above the fail bound: the model is markedly "
                       "less accurate for this group.",
        Severity.ATTENTION: " The whole interval lies above the attention bound.",
        Severity.PASS: " Every group's interval lies below the attention bound; this group's "
                       "drop is the largest.",
    }.get(sev, "")
    action = {
        Severity.FAIL: "Find out why the model errs more for this group (its data, its inputs) "
                       "and fix it or record a justification before release.",
        Severity.ATTENTION: "Review the group's accuracy with the model owner and set a "
                            "condition, or accept it with a recorded reason.",
        Severity.PASS: "No action needed.",
    }.get(sev, "")
    if sev is Severity.INCONCLUSIVE:
        statement += _not_established(w, [(g, int(w["n"]))], fa.field,
                                      f"a drop above {_num(float(w['detectable']), '.1%')}")
        action = ("Not a finding of harm. To settle it, audit again with more holdout rows for "
                  "this group, or record why the board accepts the uncertainty.")
    statement += _tally(rows, "groups")
    metric = Metric(f"subgroup_performance.{fa.field}", float(w["drop"]), (lo, hi),
                    method=_method(config, family_size),
                    label=f"Relative drop of accuracy, '{g}' against overall",
                    reference=_REFS["subgroup_performance"], n=int(w["n"]))
    return Finding(f"fairness.subgroup_performance.{fa.field}", sev,
                   f"{_CHECKS['subgroup_performance']}: {fa.field}", statement, action=action,
                   metric=metric, threshold=thr, area="fairness")


def _method(config: AuditConfig, k: int) -> str:
    return (f"counts bootstrap, {config.n_bootstrap} replicates (Jeffreys draws for rates on "
            f"fewer than 10 events); simultaneous {config.confidence:.0%} max-statistic band "
            f"(Westfall & Young 1993) over the {k} comparisons of the fairness checks")


def _small_groups(fa: FieldAudit, config: AuditConfig) -> list[str]:
    out = []
    for i in np.flatnonzero(~fa.assessed):
        n = int(fa.n[i])
        size = f"{n} rows" if n >= config.suppress_below else f"under {config.suppress_below} rows"
        out.append(f"'{fa.levels[i]}' ({size})")
    return out


def field_findings(fa: FieldAudit, comp: Comparisons, subject: AuditSubject,
                   config: AuditConfig) -> list[Finding]:
    """The ``groups``, ``disparate_impact``, ``error_rate_parity`` and ``subgroup_performance``
    findings of one field."""
    out, small = [], _small_groups(fa, config)
    small_text = (f" Too small to judge (under {config.min_group_size} rows), shown but not "
                  f"judged: {', '.join(small)}." if small else "")
    if small:
        out.append(Finding(
            f"fairness.groups.{fa.field}", Severity.NOT_ASSESSED,
            f"Groups too small to judge: {fa.field}",
            f"{len(small)} of the {len(fa.levels)} groups of {fa.field} have fewer than "
            f"{config.min_group_size} rows in the audited data, too few to judge: "
            f"{', '.join(small)}. They are listed in the group table with their size.",
            action="Collect more holdout rows for these groups, or merge them with similar "
                   "groups in the audit configuration, to judge how they are treated.",
            area="fairness"))
    pairs = comp.pairs[comp.pairs["field"] == fa.field]
    drops = comp.drops[comp.drops["field"] == fa.field]
    thr = {"disparate_impact": config.threshold("fairness.selection_rate_ratio"),
           "error_rate_parity": config.threshold("fairness.error_rate_ratio"),
           "subgroup_performance": config.threshold("performance.subgroup_drop")}
    for check in ("disparate_impact", "error_rate_parity", "subgroup_performance"):
        rows = drops if check == "subgroup_performance" else pairs[pairs["family"] == check]
        if fa.assessed.sum() < 2 or rows.empty:
            reason = (f"Fewer than two groups of {fa.field} have at least "
                      f"{config.min_group_size} rows, so their treatment cannot be compared."
                      if fa.assessed.sum() < 2 else
                      f"No two groups of {fa.field} both have at least {config.min_group_size} "
                      "actual positives, actual negatives or positive predictions, so their "
                      "error rates cannot be compared.")
            out.append(Finding(f"fairness.{check}.{fa.field}", Severity.NOT_ASSESSED,
                               f"{_CHECKS[check]}: {fa.field}", reason + small_text,
                               action="Collect more holdout rows for the small groups.",
                               threshold=thr[check], area="fairness"))
            continue
        if check == "subgroup_performance":
            f = _drop_finding(rows, fa, config, thr[check], comp.family_size)
        else:
            f = _pair_finding(check, rows, fa, subject, config, thr[check], comp.family_size)
        if small_text:
            f = Finding(f.id, f.severity, f.title, f.statement + small_text, action=f.action,
                        metric=f.metric, threshold=f.threshold, area=f.area)
        out.append(f)
    return out


def proxy_findings(screen: pd.DataFrame, config: AuditConfig) -> list[Finding]:
    """``fairness.proxy.<feature>__<field>`` for each input whose V interval lies above 0.5."""
    thr = config.threshold("fairness.proxy_association")
    out = []
    for r in screen.itertuples(index=False):
        sev = Severity(r.severity)
        if sev not in (Severity.ATTENTION, Severity.FAIL):
            continue
        power = "" if np.isnan(r.feature_power) else (
            f" On its own it predicts {r.field} with chance-adjusted power "
            f"{r.feature_power:.2f} ({r.power_measure}; 0 = chance, 1 = perfect)")
        if power and not np.isnan(r.all_inputs_power):
            power += f"; all model inputs together reach {r.all_inputs_power:.2f}"
        power += "." if power else ""
        out.append(Finding(
            f"fairness.proxy.{r.feature}__{r.field}", sev,
            f"Proxy: {r.feature} stands in for {r.field}",
            f"The model input '{r.feature}' is strongly associated with the sensitive field "
            f"'{r.field}': bias-corrected Cramér's V {r.cramers_v:.2f} (0 = unrelated, 1 = a "
            f"perfect proxy), with {config.confidence:.0%} confidence between "
            f"{_num(r.cramers_v_low)} and {_num(r.cramers_v_high)} (simultaneously over all "
            f"inputs and fields screened), above the {thr.attention:.2f} alert bound.{power} "
            f"The model can treat the groups of {r.field} differently through this input even "
            f"if {r.field} is not an input itself.",
            action=f"Check whether '{r.feature}' is needed for the model's purpose; if it is, "
                   f"record the justification and watch the fairness checks of {r.field}.",
            metric=Metric(f"proxy.{r.feature}__{r.field}", float(r.cramers_v),
                          (r.cramers_v_low, r.cramers_v_high),
                          method=(f"bias-corrected Cramér's V, counts bootstrap with "
                                  f"{config.n_bootstrap} replicates, simultaneous max-statistic "
                                  "band over the screened pairs"),
                          label=f"Association of {r.feature} with {r.field}",
                          reference="Bergsma 2013; Westfall & Young 1993", n=int(r.n)),
            threshold=thr, area="fairness"))
    return out


def sensitive_input_finding(field: str, subject: AuditSubject, config) -> Finding:
    """Attention: a sensitive field is itself a model input."""
    return Finding(
        f"fairness.sensitive_input.{field}", Severity.ATTENTION,
        f"Sensitive field used as a model input: {field}",
        f"The sensitive field '{field}' is itself an input of the model, so decisions "
        f"({_action(subject)}) can depend on it directly. If it is a special category of "
        "personal data (GDPR Art. 9: e.g. health, ethnic origin, religion), using it needs an "
        "explicit legal basis; where the decisions are solely automated, GDPR Art. 22(4) "
        "restricts them further. A documented justification is required.",
        action=f"Remove '{field}' from the inputs, or record why it is needed, its legal "
               "basis, and how its effect is monitored.",
        metric=Metric(f"sensitive_input.{field}", 1.0, ci=(1.0, 1.0),
                      label=f"'{field}' is a model input (1 = yes)",
                      method="read from the model's input columns"),
        threshold=config.threshold("fairness.sensitive_input"), area="fairness")
