"""One finding in one plain sentence with its key numbers, for the board summary
(:mod:`reports.summary`).

A sentence per kind of check (disparate impact, error rates, proxies, drivers, membership,
attribute inference, the generalisation gap, memorisation, minimisation, accuracy by group, and
a regression's mean prediction and error by group), each built from the finding's metric, its
judged interval and the probe's tables, and naming the favourable side and the business
decision where the check is about them; a multiclass model's rates name the class they are
about. Any other finding reads as its title with its judged value and interval
(:func:`sentence`).
"""

from __future__ import annotations

import math

from audits.core.results import Finding, Severity
from reports.render.names import RATES, attack_name, field_name, group_phrase
from reports.report import AuditReport

__all__ = ["sentence", "check_of", "subject_of", "cap", "uncap", "share", "is_share", "auc",
           "between", "bound", "RIGHTS"]

#: The checks of the customers' data rights: one reason together in the summary.
RIGHTS = ("data.consent", "data.retention", "data.shadow_profiles", "data.opt_out",
          "data.erasure", "privacy.erasure_exposure")
_RIGHTS = RIGHTS


# -- numbers as the summary prints them --------------------------------------------------------

def _num(x, digits: int = 2) -> str:
    """A plain number: two decimals by default; a large one with thousands separators."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if float(x).is_integer() and abs(x) >= 1:
        return f"{int(x)}"
    if 0 < abs(x) < 10 ** -digits:
        return f"{x:.2g}"
    return f"{x:.{digits}f}"


def _share(x) -> str:
    """A share in per cent: whole per cent from 10%, one decimal from 1%, two significant digits
    below ("19%", "2.4%", "0.18%")."""
    if x is None:
        return "n/a"
    p = 100 * float(x)
    if p == 0 or p == 100:
        return f"{p:.0f}%"
    if abs(p) >= 10:
        return f"{p:.0f}%"
    if abs(p) >= 1:
        return f"{p:.1f}%".replace(".0%", "%")
    return f"{p:.2g}%"


def _conf(report: AuditReport) -> str:
    return f"{float(report.config.get('confidence', 0.95)):.0%}"


def _auc(x) -> str:
    """An AUC or a difference of AUCs: three decimals (0.807; 0.011)."""
    return _num(x, 3)


def _between(report: AuditReport, m, fmt=_num) -> str:
    """"; with 95% confidence between a and b", from the interval the finding was judged on."""
    if m is None or not m.ci or m.ci[0] is None or m.ci[1] is None:
        return ""
    lo, hi = fmt(m.ci[0]), fmt(m.ci[1])
    if lo == hi and fmt is _num:
        lo, hi = _num(m.ci[0], 3), _num(m.ci[1], 3)
    return f"; with {_conf(report)} confidence between {lo} and {hi}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _uncap(text: str) -> str:
    """A title inside a sentence: "The model ..." -> "the model ..." (an acronym stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _is_share(f: Finding) -> bool:
    """Whether a finding's statistic is a share or a relative drop (printed in per cent)."""
    m = f.metric
    text = ((m.label + " " + m.name) if m is not None else "").lower()
    return "share" in text or "relative drop" in text or f.id.startswith(_RIGHTS)


def _bound(t, fmt=None) -> str:
    """A threshold's bounds in a few words (printed beside a reason, not in its sentence)."""
    if t is None:
        return ""
    if t.band:
        return f"acceptable band {_num(t.band[0])} to {_num(t.band[1])}"
    if t.name.endswith("_rank") and t.direction == "below":
        return " or ".join(f"{k} within the top {int(getattr(t, k))}"
                           for k in ("attention", "fail") if getattr(t, k) is not None)
    side = {"above": "above", "below": "below"}.get(t.direction, t.direction or "")
    fmt = fmt or (lambda x: _num(x, 3))
    parts = [f"{k} {side} {fmt(getattr(t, k))}" for k in ("attention", "fail")
             if getattr(t, k) is not None]
    return "; ".join(parts)


# -- lookups in the probes' own data ------------------------------------------------------------

def _table(report: AuditReport, probe: str, name: str) -> list[dict]:
    p = report.probes.get(probe)
    if p is None:
        return []
    for t in p.tables:
        if t.name == name:
            return [dict(zip(t.columns, r)) for r in t.rows]
    return []


def _metric(report: AuditReport, probe: str, name: str):
    p = report.probes.get(probe)
    return next((m for m in p.metrics if m.name == name), None) if p else None


def _subject_of(f: Finding) -> str:
    return f.id.split(".", 2)[2]


def _pair(report: AuditReport, f: Finding, metrics: tuple[str, ...], *,
          table: str = "fairness.disparities") -> dict | None:
    """The row of ``table`` (``fairness.disparities``, or a regression's
    ``fairness.regression_pairs``) the finding was judged on: same field, one of ``metrics``,
    the ratio equal to the finding's value."""
    if f.metric is None or f.metric.value is None:
        return None
    field = _subject_of(f)
    best, gap = None, 1e-9
    for r in _table(report, "fairness", table):
        if r.get("field") != field or r.get("metric") not in metrics or r.get("ratio") is None:
            continue
        d = abs(float(r["ratio"]) - f.metric.value)
        if d <= gap * max(1.0, abs(f.metric.value)):
            best, gap = r, d
    return best


# -- one sentence per check ------------------------------------------------------------------

def _disparate_impact(report, f) -> str | None:
    r = _pair(report, f, ("selection_rate",))
    if r is None:
        return None
    field = _subject_of(f)
    action = report.subject.get("favourable_action") or "given the favourable decision"
    return (f"{_cap(group_phrase(field, r['group']))} are {action} "
            f"{_num(float(r['ratio']))} times as often as "
            f"{group_phrase(field, r['reference'])}, {_share(r['value'])} against "
            f"{_share(r['reference_value'])}{_between(report, f.metric)}.")


def _rate_meaning(report, metric: str) -> str:
    """What a rate counts; a multiclass model's rates are about its favourable class."""
    label = report.subject.get("positive_label")
    if report.subject.get("task") != "multiclass" or label is None or metric not in _CLASS_RATES:
        return RATES[metric][1]
    return _CLASS_RATES[metric].format(label=label)


#: a multiclass model's rates, one class against the others (``{label}``: the favourable class)
_CLASS_RATES = {
    "fnr": "the share of customers whose actual outcome is {label} whom the model misses",
    "fpr": "the share of customers with another actual outcome whom the model predicts {label}",
    "precision": "the share of customers predicted {label} whose actual outcome is {label}",
    "tpr": "the share of customers whose actual outcome is {label} whom the model finds",
}


def _error_rates(report, f) -> str | None:
    r = _pair(report, f, ("fpr", "fnr", "precision"))
    if r is None:
        return None
    field = _subject_of(f)
    name, meaning = RATES[r["metric"]][0], _rate_meaning(report, r["metric"])
    return (f"The {name} of {group_phrase(field, r['group'])} ({meaning}) is "
            f"{_num(float(r['ratio']))} times that of {group_phrase(field, r['reference'])}, "
            f"{_share(r['value'])} against {_share(r['reference_value'])}"
            f"{_between(report, f.metric)}.")


def _proxy(report, f) -> str | None:
    feature, _, field = _subject_of(f).partition("__")
    if f.metric is None or not field:
        return None
    return (f"The input {feature} stands in for {field_name(field)}: their association is "
            f"{_num(f.metric.value)} on a scale from 0 (unrelated) to 1 (one determines the "
            f"other){_between(report, f.metric)}.")


def _driver(report, f) -> str | None:
    feature = _subject_of(f)
    drivers = (report.probes.get("explainability").params or {}).get("sensitive_drivers", []) \
        if report.probes.get("explainability") else []
    d = next((x for x in drivers if x.get("feature") == feature), None)
    if d is None or f.metric is None:
        return None
    n = len(_table(report, "explainability", "importance")) or None
    what = ("a sensitive field" if feature in (report.subject.get("sensitive_fields") or [])
            else f"which stands in for {', '.join(field_name(x) for x in d.get('fields', []))}")
    rank = int(d["rank"])
    of = f" of {n}" if n else ""
    lo, hi = (d.get("rank_ci") or [rank, rank])
    spread = (f" (with {_conf(report)} confidence between no. {int(lo)} and no. {int(hi)})"
              if lo is not None and hi is not None and int(lo) != int(hi) else "")
    text = f"The input {feature}, {what}, is the model's no. {rank} driver{of}{spread}."
    failed = [x for x in report.findings if x.severity is Severity.FAIL
              and x.id.split(".")[1] in ("disparate_impact", "error_rate_parity")
              and set(_subject_of(x).split("*")) & set(d.get("fields", []))]
    if failed and f.severity is Severity.FAIL:
        text += (" A fairness check on that field fails, so this input is a likely channel of "
                 "the gap.")
    return text


def _sensitive_input(report, f) -> str | None:
    field = _subject_of(f)
    return (f"The sensitive field {field_name(field)} is itself an input of the model, so its "
            "decisions can depend on it directly.")


def _membership(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    p = report.probes.get("membership")
    strongest = (p.params or {}).get("strongest") if p else None
    name = attack_name(strongest) if strongest else "the strongest attack"
    return (f"The strongest membership attack, {name}, tells the customers the model was "
            f"trained on from others with AUC {_auc(m.value)} (0.5 is guessing, 1 is certain)"
            f"{_between(report, m, _auc)}.")


def _attribute(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    field = _subject_of(f)
    return (f"An attacker with the model guesses the {field_name(field)} of training customers "
            f"better than one without it, by {_auc(m.value)} of AUC{_between(report, m, _auc)}.")


def _gap(report, f) -> str | None:
    m = f.metric
    r2 = f.id.endswith(".r2")  # a regression's gap: R² rather than AUC
    kind = "r2" if r2 else "auc"
    a, b = _metric(report, "performance", f"{kind}.members"), \
        _metric(report, "performance", f"{kind}.nonmembers")
    if m is None or a is None or b is None:
        return None
    if r2:
        return (f"The model explains the {report.subject.get('target')} of the customers it "
                f"was trained on better than of customers it never saw: R² {_auc(a.value)} "
                f"against {_auc(b.value)}, a gap of {_auc(m.value)}{_between(report, m, _auc)}.")
    return (f"The model ranks the customers it was trained on better than customers it never "
            f"saw: AUC {_auc(a.value)} against {_auc(b.value)}, a gap of {_auc(m.value)}"
            f"{_between(report, m, _auc)}.")


def _memorisation(report, f) -> str | None:
    m = f.metric
    floor = _metric(report, "memorisation", "memorisation.noise_floor")
    if m is None or m.value is None:
        return None
    base = f", against {_share(floor.value)} by chance" if floor and floor.value is not None \
        else ""
    return (f"{_cap(_share(m.value))} of the customers are highly memorised (the model's answer "
            f"on them depends on their having been in its training data){base}"
            f"{_between(report, m, _share)}.")


def _minimisation(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    feature = _subject_of(f)
    score = "R²" if "R²" in (m.label or "") else "AUC"  # a regression's minimisation: R²
    return (f"Removing the input {feature} and retraining changes the holdout {score} by "
            f"{-m.value:+.3f} (a cost of {_num(m.value, 3)})"
            f"{_between(report, m, _auc)}.")


def _accuracy_by_group(report, f) -> str | None:
    m = f.metric
    if m is None or m.value is None:
        return None
    field = _subject_of(f)
    rows = [r for r in _table(report, "fairness", "fairness.subgroup_performance")
            if r.get("field") == field and r.get("drop") is not None
            and abs(float(r["drop"]) - m.value) <= 1e-9 * max(1.0, abs(m.value))]
    if not rows:
        return None
    r = rows[0]
    return (f"The decisions are right for {100 * float(r['accuracy']):.1f}% of "
            f"{group_phrase(field, r['group'])} against {100 * float(r['overall_accuracy']):.1f}% "
            f"of all customers, a relative drop of {_share(m.value)}"
            f"{_between(report, m, _share)}.")


def _favourable_side(report) -> str:
    """How a regression's prediction becomes the decision: " Higher predictions are the
    favourable side: a customer is assigned ... when prediction >= 900." (or nothing)."""
    side = report.subject.get("favourable_direction")
    action = report.subject.get("favourable_action")
    if side not in ("higher", "lower") or not action:
        return ""
    rule = report.subject.get("decision_rule")
    return (f" {_cap(side)} predictions are the favourable side: a customer is {action}"
            + (f" when {rule}." if rule else "."))


def _mean_prediction(report, f) -> str | None:
    r = _pair(report, f, ("mean_prediction",), table="fairness.regression_pairs")
    if r is None:
        return None
    field = _subject_of(f)
    return (f"The model predicts a {report.subject.get('target')} {_num(float(r['ratio']))} "
            f"times as high for {group_phrase(field, r['group'])} as for "
            f"{group_phrase(field, r['reference'])} on average, {_num(r['value'], 0)} against "
            f"{_num(r['reference_value'], 0)}{_between(report, f.metric)}."
            + _favourable_side(report))


def _error_by_group(report, f) -> str | None:
    r = _pair(report, f, ("mae",), table="fairness.regression_pairs")
    if r is None:
        return None
    field = _subject_of(f)
    action = report.subject.get("favourable_action")
    rests = (f", so whether they are {action} rests on less accurate predictions"
             if action and float(r["ratio"]) > 1 else "")
    return (f"The model's predictions of {report.subject.get('target')} are off by "
            f"{_num(float(r['ratio']))} times as much for {group_phrase(field, r['group'])} "
            f"as for {group_phrase(field, r['reference'])} (a mean absolute error of "
            f"{_num(r['value'], 0)} against {_num(r['reference_value'], 0)}){rests}"
            f"{_between(report, f.metric)}.")


def _generic(report, f) -> str:
    """A finding without its own sentence: its title, then its judged value and interval."""
    text = f.title.rstrip(".") + "."
    m = f.metric
    if m is not None and m.value is not None and m.label:
        fmt = _share if _is_share(f) else _num
        text += f" {_cap(m.label)}: {fmt(m.value)}{_between(report, m, fmt)}."
    return text


_SENTENCES = {
    "fairness.disparate_impact": _disparate_impact, "fairness.error_rate_parity": _error_rates,
    "fairness.proxy": _proxy, "explainability.sensitive_driver": _driver,
    "fairness.sensitive_input": _sensitive_input, "privacy.membership_inference": _membership,
    "privacy.attribute_inference": _attribute, "performance.generalisation_gap": _gap,
    "privacy.memorisation": _memorisation, "explainability.minimisation": _minimisation,
    "fairness.subgroup_performance": _accuracy_by_group,
    "fairness.mean_prediction_ratio": _mean_prediction, "fairness.mae_ratio": _error_by_group,
}


def sentence(report: AuditReport, f: Finding) -> str:
    """The finding in one plain sentence with its key numbers."""
    fn = _SENTENCES.get(check_of(f))
    return (fn(report, f) if fn else None) or _generic(report, f)


def check_of(f: Finding) -> str:
    """The check a finding belongs to: the first two parts of its id."""
    return ".".join(f.id.split(".")[:2])


#: How the summary prints numbers, shared with its assembly (:mod:`reports.summary`).
cap, uncap, subject_of = _cap, _uncap, _subject_of
share, is_share, auc, between, bound = _share, _is_share, _auc, _between, _bound
