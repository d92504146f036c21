"""The fairness probe: who is treated worse, by how much, how sure we are, and through what.

Three pure steps. (1) Signals: the groups of each sensitive field and of each intersection of two
fields (numeric fields banded with ``config.age_bands``, see
:func:`audits.core.groups.group_codes`; default bands <18, 18-24, 25-34, 35-44, 45-54, 55-64,
65+; a numeric field with at most 10 distinct values is categorical), on the non-members
(holdout rows) unless ``part="members"``.
(2) Scores (:mod:`audits.fairness_field`): per group the size, base rate, selection rate of the
favourable decision, TPR, FPR, FNR, precision, AUC and expected calibration error (10 equal-width
bins); disparities against a reference group (the most favoured for selection rate unless
configured); demographic-parity difference and ratio and equalised-odds difference (fairlearn's
definitions). Every rate and disparity has a bootstrap interval (Efron 1979) with
``config.n_bootstrap`` replicates: cell metrics by the counts bootstrap (a multinomial draw over
the 4 x groups confusion cells is a row resample), AUC and calibration by a within-group binned
resample of the scores. (3) Summary: tables and findings.

Checks, judged on intervals with :func:`audits.core.results.judge`, never on points:

- ``fairness.disparate_impact.<field>``: each assessed group's selection-rate ratio to the
  reference against the four-fifths rule (29 CFR 1607.4(D); a screening heuristic, not a legal
  verdict).
- ``fairness.error_rate_parity.<field>``: FPR, FNR and precision ratios within [0.8, 1.25]
  (Aequitas' default tolerance; Saleiro et al. 2018).
- The intervals of a check are simultaneous over its comparisons: a max-statistic bootstrap
  band (Westfall & Young 1993), on the rank scale (Mandel & Betensky 2008), so that many groups
  and metrics do not raise false alarms by chance. Rates in the group table carry plain
  percentile intervals (they decide nothing).
- ``fairness.proxy.<feature>__<field>``: a model input whose bias-corrected Cramér's V interval
  (Bergsma 2013) lies wholly above 0.5 (:mod:`audits.proxies`).
- ``fairness.sensitive_input.<field>``: a sensitive field that is itself a model input.
- ``fairness.groups.<field>``: groups under ``config.min_group_size`` rows: not assessed, shown
  with their sizes (counts under ``config.suppress_below`` are never printed).

The mitigation what-if (:mod:`audits.mitigation`) runs for the first sensitive field (in the
subject's order, intersections excluded) with at least two assessed groups; it never changes a
finding.
"""

from __future__ import annotations

from itertools import combinations
from typing import Callable

import pandas as pd

from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.groups import group_codes, intersect_codes
from audits.core.numbers import plain
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table
from audits.core.seeds import derive_seed as _seed
from audits.core.subject import PARTS, AuditSubject
from audits.fairness_field import RATE_METRICS, FieldAudit, audit_field
from audits.fairness_report import field_findings, proxy_findings, sensitive_input_finding, suppress
from audits.proxies import proxy_screen

__all__ = ["run_fairness", "field_groupings", "group_table", "disparity_table"]

def field_groupings(subject: AuditSubject, config: AuditConfig, part: str) -> list[tuple]:
    """The fields audited (each sensitive field, numeric ones banded, and their pairs) with
    each row's group code on ``part``; shared with :mod:`audits.fairness_reference`."""
    frame = subject.frame(part)
    single = [(f, *group_codes(frame[f], age_bands=config.age_bands))
              for f in subject.sensitive_fields]
    out = list(single)
    if config.intersections:
        for (fa, ca, la), (fb, cb, lb) in combinations(single, 2):
            out.append((f"{fa}*{fb}", *intersect_codes(ca, la, cb, lb)))
    return out


def _method(config: AuditConfig, kind: str, k: int | None = None) -> str:
    conf = f"{config.confidence:.0%}"
    if kind == "band":
        return (f"counts bootstrap, {config.n_bootstrap} replicates; simultaneous {conf} "
                f"max-statistic band (Westfall & Young 1993) over the {k} comparisons of this "
                "check")
    return f"counts bootstrap, {config.n_bootstrap} replicates; {conf} percentile interval"


def group_table(audits: list[FieldAudit], config: AuditConfig) -> tuple[pd.DataFrame, bool]:
    """The per-group metrics table of the fields audited, and whether small counts were hidden."""
    rows = []
    for fa in audits:
        for i, g in enumerate(fa.levels):
            ok = bool(fa.assessed[i])
            r = {"field": fa.field, "group": g, "n": int(fa.n[i]),
                 "status": ("reference" if i == fa.reference else "assessed") if ok else
                 f"too small to judge (under {config.min_group_size} rows)",
                 "n_positive_label": int(fa.counts[i, 0] + fa.counts[i, 2]),
                 "n_favourable": int(round(fa.rates["selection_rate"][i] * fa.n[i]))
                 if fa.n[i] else 0}
            for m in RATE_METRICS:
                vals = (fa.rates[m][i], fa.rate_low[m][i], fa.rate_high[m][i]) if ok else \
                    (None, None, None)
                r[m], r[f"{m}_low"], r[f"{m}_high"] = vals
            rows.append(r)
    frame = pd.DataFrame(rows)
    return suppress(frame, ["n", "n_positive_label", "n_favourable"], config.suppress_below)


def disparity_table(audits: list[FieldAudit]) -> pd.DataFrame:
    """The disparities of each group against its field's reference, with simultaneous bands."""
    parts = []
    for fa in audits:
        d = fa.disparities.copy()
        d.insert(0, "field", fa.field)
        d.insert(2, "reference", fa.levels[fa.reference] if fa.reference is not None else None)
        parts.append(d)
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["field", "group", "reference", "metric"])


def _summary(audits: list[FieldAudit], config: AuditConfig, findings: dict) -> tuple:
    rows, metrics = [], []
    for fa in audits:
        r = {"field": fa.field, "groups": len(fa.levels), "assessed": int(fa.assessed.sum()),
             "reference": fa.levels[fa.reference] if fa.reference is not None else None}
        for k, (v, lo, hi) in fa.summary.items():
            r[k], r[f"{k}_low"], r[f"{k}_high"] = v, lo, hi
            metrics.append(Metric(f"{k}.{fa.field}", v, (lo, hi) if lo is not None else None,
                                  method=_method(config, "percentile") + " (assessed groups)",
                                  label=f"{k.replace('_', ' ').capitalize()} ({fa.field})",
                                  reference="fairlearn (Hardt et al. 2016 for equalised odds)",
                                  n=int(fa.n.sum())))
        for check in ("disparate_impact", "error_rate_parity"):
            f = findings.get(f"fairness.{check}.{fa.field}")
            r[check] = f.severity.value if f else None
            if f is not None and f.metric is not None:
                metrics.append(f.metric)
        rows.append(r)
    return pd.DataFrame(rows), metrics


def _not_assessed(config: AuditConfig, part: str) -> ProbeResult:
    return ProbeResult(
        probe="fairness", area="fairness", status="not_assessed",
        findings=(Finding(
            "fairness.sensitive_fields.none", Severity.NOT_ASSESSED,
            "No sensitive fields given",
            "No sensitive fields were given, so fairness across groups of customers could not "
            "be checked.", action="Name the sensitive fields (e.g. gender, age, ethnicity) in "
            "the audit's input, even when they are not model inputs, and re-run.",
            area="fairness"),),
        notes=("No sensitive fields were given; the fairness probe did not run.",),
        params={"part": part, "n_bootstrap": config.n_bootstrap})


def run_fairness(subject: AuditSubject, config: AuditConfig, *,
                 progress: Callable[[str, float], None] | None = None,
                 cache: RunCache | None = None) -> ProbeResult:
    """Audit the model's treatment of groups of customers.

    Parameters
    ----------
    subject : the audit subject.
    config : thresholds (``fairness.selection_rate_ratio``, ``fairness.error_rate_ratio``,
        ``fairness.proxy_association``), ``n_bootstrap``, ``confidence``, ``min_group_size``,
        ``suppress_below``, ``age_bands``, ``intersections``; and the probe's choices:
        ``fairness_part`` (``"nonmembers"``, the holdout rows, or ``"members"``),
        ``reference_groups`` (field, or ``"a*b"`` intersection, -> its reference group; other
        fields use their most favoured group), ``whatif`` (run the mitigation what-if,
        :mod:`audits.mitigation`) and ``proxy_models`` (fit the proxy screen's all-inputs model).
    progress : called as ``progress(stage, fraction)``.
    cache : the run's cache, shared with the other probes (the proxy screen).

    Returns
    -------
    ProbeResult ``fairness`` with tables ``fairness.summary``, ``fairness.groups``,
    ``fairness.disparities``, ``fairness.proxies`` and (when it ran) ``fairness.whatif``.
    """
    def step(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    part, whatif = config.fairness_part, config.whatif
    if part not in PARTS:
        raise InputError(f"part is {part!r}; it must be one of {list(PARTS)}.")
    if not subject.sensitive_fields:
        return _not_assessed(config, part)
    step("groups", 0.0)
    groupings = field_groupings(subject, config, part)
    reference_groups = dict(config.reference_groups)
    unknown = set(reference_groups) - {g[0] for g in groupings}
    if unknown:
        raise InputError(f"reference_groups names {sorted(unknown)}, which are not audited "
                         f"fields; valid: {[g[0] for g in groupings]}.")
    y, dec = subject.y(part), subject.decisions(part)
    scores = subject.scores(part)
    fav_pos = subject.favourable_label == subject.positive_label
    sr_thr = config.threshold("fairness.selection_rate_ratio")
    err_thr = config.threshold("fairness.error_rate_ratio")
    audits = []
    for i, (name, codes, levels) in enumerate(groupings):
        step(f"groups: {name}", 0.6 * i / len(groupings))
        audits.append(audit_field(
            name, codes, levels, y, dec, scores, favourable_positive=fav_pos,
            n_boot=config.n_bootstrap, confidence=config.confidence,
            min_group_size=config.min_group_size, sr_threshold=sr_thr, error_threshold=err_thr,
            reference=reference_groups.get(name), random_state=_seed(subject.seed, "fair", name)))

    findings, notes = [], []
    for fa in audits:
        findings += field_findings(fa, subject, config,
                                   method=lambda k: _method(config, "band", k),
                                   configured_reference=fa.field in reference_groups)
    for f in subject.sensitive_fields:
        if f in subject.feature_columns:
            findings.append(sensitive_input_finding(f, subject, config))

    step("proxies", 0.6)
    screen = proxy_screen(subject, config, cache=cache)
    findings += proxy_findings(screen, config)

    tables = []
    by_id = {f.id: f for f in findings}
    summary, metrics = _summary(audits, config, by_id)
    tables.append(Table.from_frame("fairness.summary", summary, title="Fairness by field",
                                   note=f"Favourable decision: {_action(subject)}. Judged on "
                                        "intervals; thresholds are screening heuristics, not "
                                        "legal verdicts (NIST AI RMF: they need human judgement)."))
    groups, suppressed = group_table(audits, config)
    sup_note = (f" Counts under {config.suppress_below} are suppressed (left empty): small cells "
                "identify people." if suppressed else "")
    tables.append(Table.from_frame(
        "fairness.groups", groups, title=f"Group metrics ({part})",
        note=(f"Rates with {config.confidence:.0%} percentile bootstrap intervals "
              f"({config.n_bootstrap} replicates). Groups under {config.min_group_size} rows are "
              "too small to judge and shown with their size only." + sup_note)))
    tables.append(Table.from_frame(
        "fairness.disparities", disparity_table(audits), title="Disparities against the "
        "reference group", note=("Difference = group - reference, ratio = group / reference; "
                                 "intervals are simultaneous max-statistic bootstrap bands over "
                                 "each family of comparisons (Westfall & Young 1993).")))
    tables.append(Table.from_frame(
        "fairness.proxies", suppress(screen, ["n"], config.suppress_below)[0],
        title="Proxy screen (non-members)",
        note=("Bias-corrected Cramér's V (Bergsma 2013) with a simultaneous bootstrap band; "
              "chance-adjusted predictive power of the input alone and of all inputs together "
              "(0 = chance, 1 = perfect).")))

    if whatif:
        step("what-if", 0.8)
        table, note = _whatif(subject, audits, groupings, part)
        if table is not None:
            tables.append(table)
        notes.append(note)
    step("done", 1.0)
    return ProbeResult(
        probe="fairness", area="fairness", status="ok", metrics=tuple(metrics),
        tables=tuple(tables), findings=tuple(findings), notes=tuple(notes),
        params={"part": part, "n_bootstrap": config.n_bootstrap,
                "confidence": config.confidence, "min_group_size": config.min_group_size,
                "suppress_below": config.suppress_below, "age_bands": list(config.age_bands),
                "intersections": config.intersections,
                "fields": [fa.field for fa in audits],
                "reference_groups": {fa.field: (fa.levels[fa.reference] if fa.reference is not
                                                None else None) for fa in audits},
                "favourable_action": subject.favourable_action,
                "simultaneous_intervals": "max-statistic bootstrap band (Westfall & Young 1993)",
                "calibration_bins": 10, "whatif": whatif, "proxy_models": config.proxy_models})


def _action(subject: AuditSubject) -> str:
    return subject.favourable_action or f"the decision {plain(subject.favourable_label)!r}"


def _whatif(subject, audits, groupings, part) -> tuple[Table | None, str]:
    from audits.mitigation import mitigation_whatif

    first = next((fa for fa in audits if fa.field in subject.sensitive_fields
                  and fa.assessed.sum() >= 2), None)
    if first is None:
        return None, "Mitigation what-if skipped: no sensitive field has two groups to judge."
    codes = {g[0]: g[1] for g in groupings}[first.field]
    try:
        table = mitigation_whatif(subject, codes, first.levels, first.assessed,
                                  field=first.field, part=part,
                                  random_state=_seed(subject.seed, "whatif", first.field))
    except Exception as e:  # noqa: BLE001 - a scenario must never stop the audit
        return None, f"Mitigation what-if for {first.field!r} skipped: {type(e).__name__}: {e}"
    return table, (f"Mitigation what-if run for {first.field!r} (the first sensitive field with "
                   "two assessed groups); it does not change the audited results.")
