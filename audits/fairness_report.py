"""Findings and small-cell suppression of the fairness probe: plain language for a board.

Every statement names the group, the number, its interval and what the threshold says; the
severity comes from the interval (:func:`audits.core.results.judge`), never from the point value.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.numbers import plain
from audits.core.results import Finding, Metric, Severity
from audits.core.subject import AuditSubject
from audits.fairness_field import FieldAudit, worst

__all__ = ["field_findings", "proxy_findings", "sensitive_input_finding", "suppress"]

_ERROR_LABEL = {
    "fpr": "false-positive rate (share of actual negatives predicted positive)",
    "fnr": "false-negative rate (share of actual positives the model misses)",
    "precision": "precision (share of positive predictions that are right)",
}


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


def _ci(row) -> tuple[float | None, float | None]:
    def f(v):
        v = float(v)
        return None if math.isnan(v) else v
    return f(row["ratio_low"]), f(row["ratio_high"])


def _small_groups(fa: FieldAudit, config: AuditConfig) -> list[str]:
    out = []
    for i in np.flatnonzero(~fa.assessed):
        n = int(fa.n[i])
        size = f"{n} rows" if n >= config.suppress_below else f"under {config.suppress_below} rows"
        out.append(f"'{fa.levels[i]}' ({size})")
    return out


def _action(subject: AuditSubject) -> str:
    return subject.favourable_action or f"the decision {plain(subject.favourable_label)!r}"


def field_findings(fa: FieldAudit, subject: AuditSubject, config: AuditConfig, *,
                   method: Callable[[int], str], configured_reference: bool = False
                   ) -> list[Finding]:
    """The ``groups``, ``disparate_impact`` and ``error_rate_parity`` findings of one field."""
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
    ref = fa.levels[fa.reference] if fa.reference is not None else None
    ref_words = "the reference group" if configured_reference else "the most favoured group"
    for check in ("disparate_impact", "error_rate_parity"):
        fid = f"fairness.{check}.{fa.field}"
        title = ("Disparate impact" if check == "disparate_impact" else "Error-rate parity") + \
            f": {fa.field}"
        thr = config.threshold("fairness.selection_rate_ratio" if check == "disparate_impact"
                               else "fairness.error_rate_ratio")
        w = worst(fa.judged(check))
        if fa.assessed.sum() < 2 or ref is None or not fa.assessed[fa.reference] or w is None:
            reason = (f"Fewer than two groups of {fa.field} have at least "
                      f"{config.min_group_size} rows, so their treatment cannot be compared."
                      if fa.assessed.sum() < 2 else
                      f"The reference group '{ref}' has fewer than {config.min_group_size} "
                      "rows, too few to compare other groups with."
                      if ref is not None and not fa.assessed[fa.reference] else
                      f"No group of {fa.field} and the reference group '{ref}' both have at "
                      f"least {config.min_group_size} actual positives, actual negatives or "
                      "positive predictions, so their error rates cannot be compared.")
            out.append(Finding(fid, Severity.NOT_ASSESSED, title, reason + small_text,
                               action="Collect more holdout rows for the small groups.",
                               threshold=thr, area="fairness"))
            continue
        sev = Severity(w["severity"])
        k = int(w["family_size"])
        lo, hi = _ci(w)
        conf = f"{config.confidence:.0%}"
        if check == "disparate_impact":
            metric = Metric(f"disparate_impact.{fa.field}", float(w["ratio"]), (lo, hi),
                            method=method(k),
                            label=f"Selection-rate ratio, '{w['group']}' / '{ref}'",
                            reference="29 CFR 1607.4(D); Westfall & Young 1993",
                            n=int(fa.n[fa.levels.index(w["group"])]))
            verdict = {
                Severity.FAIL: f"The whole interval lies below {thr.fail:.2f}, the four-fifths "
                               "rule's bound (29 CFR 1607.4(D)), so the gap is not explained "
                               "by chance.",
                Severity.ATTENTION: f"The interval includes {thr.fail:.2f}, so the data cannot "
                                    "rule out a ratio below the four-fifths rule's bound.",
                Severity.PASS: f"The whole interval lies at or above {thr.fail:.2f} (the "
                               "four-fifths rule), as do those of all other groups compared.",
            }.get(sev, "The interval could not be computed.")
            statement = (
                f"Customers in the group '{w['group']}' of {fa.field} get the favourable "
                f"decision ({_action(subject)}) {_num(float(w['ratio']))} times as often as "
                f"{ref_words} '{ref}' ({_num(float(w['value']), '.1%')} against "
                f"{_num(float(w['reference_value']), '.1%')}). With {conf} confidence, "
                f"simultaneously over the {k} group(s) compared, the ratio lies between "
                f"{_num(lo)} and {_num(hi)}. {verdict}{small_text}")
            action = {
                Severity.FAIL: "Find out which inputs drive the gap (see the proxy screen), "
                               "consider a mitigation (see the what-if scenario), and record a "
                               "business justification or a fix before release.",
                Severity.ATTENTION: "Review the gap with the model owner; more holdout rows "
                                    "for this group would narrow the interval.",
            }.get(sev, "No action needed.")
        else:
            metric = Metric(f"error_rate_parity.{fa.field}", float(w["ratio"]), (lo, hi),
                            method=method(k),
                            label=f"{w['metric'].upper()} ratio, '{w['group']}' / '{ref}'",
                            reference="Aequitas (Saleiro et al. 2018); Westfall & Young 1993",
                            n=int(fa.n[fa.levels.index(w["group"])]))
            verdict = {
                Severity.FAIL: "the whole interval lies outside that band.",
                Severity.ATTENTION: "the interval crosses an edge of that band, so a breach "
                                    "cannot be ruled out.",
                Severity.PASS: "every compared interval lies inside it.",
            }.get(sev, "the interval could not be computed.")
            statement = (
                f"Against the reference group '{ref}', the largest departure in error rates "
                f"is the {_ERROR_LABEL[w['metric']]} of '{w['group']}': "
                f"{_num(float(w['ratio']))} times the reference's "
                f"({_num(float(w['value']), '.1%')} against "
                f"{_num(float(w['reference_value']), '.1%')}); with {conf} confidence, "
                f"simultaneously over {k} comparison(s) of FPR, FNR and precision, between "
                f"{_num(lo)} and {_num(hi)}. Aequitas' default tolerance accepts "
                f"{thr.band[0]:.2f} to {thr.band[1]:.2f}; {verdict}{small_text}")
            action = {
                Severity.FAIL: "Check whether the errors fall on the group's customers in a "
                               "way the business can justify; consider equalised-odds "
                               "thresholds (see the what-if scenario).",
                Severity.ATTENTION: "Review the error rates of this group with the model "
                                    "owner; more holdout rows would narrow the interval.",
            }.get(sev, "No action needed.")
        out.append(Finding(fid, sev, title, statement, action=action, metric=metric,
                           threshold=thr, area="fairness"))
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
