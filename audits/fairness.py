"""The fairness probe: who is treated worse, by how much, how sure we are, and through what.

Three pure steps. (1) Signals: the groups of each sensitive field and of each intersection of two
fields (numeric fields banded with ``config.age_bands``, see
:func:`audits.core.groups.group_codes`; default bands <18, 18-24, 25-34, 35-44, 45-54, 55-64,
65+; a numeric field with at most 10 distinct values is categorical), on the non-members
(holdout rows) unless ``part="members"``.
(2) Scores: per group the size, base rate, selection rate of the favourable decision, TPR, FPR,
FNR, precision, accuracy, AUC and expected calibration error (10 equal-width bins)
(:mod:`audits.fairness_field`), from ONE counts bootstrap for every field at once (Efron 1979: a
multinomial draw over the confusion cells of every combination of groups is a row resample,
:func:`audits.group_metrics.joint_bootstrap`), with ``config.n_bootstrap`` replicates; rates on
fewer than 10 events take Jeffreys draws (Brown, Cai & DasGupta 2001), never a degenerate
[0, 0]; AUC and calibration by a within-group binned resample of the scores. Then every pair of
groups, fixed before resampling, and every group against the overall
(:mod:`audits.fairness_pairs`). (3) Summary: tables and findings.

When the subject's frame holds a sample of the rows (a large or partitioned input), the
confusion cells are counted over every row partition by partition
(:mod:`audits.core.group_counts`) and the counts bootstrap runs on them; AUC and calibration
per group come from the sample's scores.

Checks, judged on intervals with :func:`audits.core.results.judge`, never on points, all in one
simultaneous max-statistic band per probe (Westfall & Young 1993) over every pair, metric, field
and intersection, so a fair model raises no attention or fail in at least 95% of audits:

- ``fairness.disparate_impact.<field>``: selection-rate ratios of every pair of groups, both
  ways, against the band [0.8, 1.25] (the four-fifths rule, 29 CFR 1607.4(D); a screening
  heuristic, not a legal verdict).
- ``fairness.error_rate_parity.<field>``: FPR, FNR and precision ratios within [0.8, 1.25]
  (Aequitas' default tolerance; Saleiro et al. 2018).
- ``fairness.subgroup_performance.<field>``: each group's relative drop of accuracy against the
  overall accuracy, attention above 5%, fail above 10% (Giskard's defaults).
- Each finding names the pair (or group) with the strongest evidence among those that set its
  severity; an inconclusive one says what these rows could not establish.
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

import numpy as np
import pandas as pd

from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.group_counts import population_groupings, population_pass
from audits.core.groups import group_codes, intersect_codes
from audits.core.numbers import plain
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table
from audits.core.seeds import derive_seed as _seed
from audits.core.subject import PARTS, AuditSubject
from audits.fairness_field import RATE_METRICS, FieldAudit, audit_field
from audits.fairness_pairs import Comparisons, compare_groups
from audits.fairness_report import field_findings, proxy_findings, sensitive_input_finding, suppress
from audits.group_metrics import confusion_counts, joint_bootstrap, joint_cells, parity_summary
from audits.proxies import proxy_screen

__all__ = ["run_fairness", "field_groupings", "fairness_comparisons", "group_table",
           "disparity_table", "display_reference"]


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


def fairness_comparisons(subject: AuditSubject, config: AuditConfig, part: str, *,
                         progress: Callable[[str, float], None] | None = None
                         ) -> tuple[list[FieldAudit], Comparisons]:
    """Every field's group rates and the probe's comparisons, from one joint bootstrap.

    The probe and the drill-down (:mod:`audits.fairness_reference`) both call this, so a
    recomputation gives the report's numbers to the bit: the same groups, the same seeds
    (``derive_seed(seed, "fair", "cells")`` for the joint bootstrap, ``derive_seed(seed,
    "fair", field)`` for a field's Jeffreys draws and score bootstrap) and the same family.

    Raises
    ------
    InputError : a configured reference group or field that does not exist.
    """
    groupings = field_groupings(subject, config, part)
    reference_groups = dict(config.reference_groups)
    unknown = set(reference_groups) - {g[0] for g in groupings}
    if unknown:
        raise InputError(f"reference_groups names {sorted(unknown)}, which are not audited "
                         f"fields; valid: {[g[0] for g in groupings]}.")
    y, dec, scores = subject.y(part), subject.decisions(part), subject.scores(part)
    fav_pos = subject.favourable_label == subject.positive_label
    if subject.population is not None and subject.task == "binary":  # count every row
        groupings, fine, maps, cells, overall = population_groupings(
            population_pass(subject, part, age_bands=config.age_bands,
                            n_jobs=config.n_jobs)[1], groupings)
    else:
        fine, maps = joint_cells(y, dec, [g[1] for g in groupings])
        cells = [confusion_counts(y, dec, g[1], n_groups=len(g[2])) for g in groupings]
        overall = confusion_counts(y, dec, np.zeros(len(y), dtype=np.intp), n_groups=1)[0]
    per_field, total = joint_bootstrap(fine, maps, [len(g[2]) for g in groupings],
                                       n_boot=config.n_bootstrap,
                                       random_state=_seed(subject.seed, "fair", "cells"))
    audits = []
    for i, ((name, codes, levels), reps) in enumerate(zip(groupings, per_field)):
        if progress is not None:
            progress(f"groups: {name}", 0.6 * i / len(groupings))
        audits.append(audit_field(
            name, codes, levels, y, scores, cells[i], reps,
            favourable_positive=fav_pos, confidence=config.confidence,
            min_group_size=config.min_group_size, random_state=_seed(subject.seed, "fair", name)))
    comp = compare_groups(
        audits, overall, total, confidence=config.confidence,
        min_group_size=config.min_group_size, reference_groups=reference_groups,
        jeffreys_seed=_seed(subject.seed, "fair", "overall"),
        thresholds={"selection_rate": config.threshold("fairness.selection_rate_ratio"),
                    "error_rate": config.threshold("fairness.error_rate_ratio"),
                    "subgroup_drop": config.threshold("performance.subgroup_drop")})
    return audits, comp


def display_reference(fa: FieldAudit, config: AuditConfig) -> str | None:
    """The group a page first shows the others against: the configured reference, else the
    largest assessed group (a choice the outcomes did not make; ties: the first). It decides
    nothing: every pair is judged."""
    configured = dict(config.reference_groups).get(fa.field)
    if configured is not None:
        return str(configured)
    idx = np.flatnonzero(fa.assessed)
    return fa.levels[int(idx[np.argmax(fa.n[idx])])] if idx.size else None


def group_table(audits: list[FieldAudit], config: AuditConfig) -> tuple[pd.DataFrame, bool]:
    """The per-group metrics table of the fields audited, and whether small counts were hidden."""
    rows = []
    for fa in audits:
        for i, g in enumerate(fa.levels):
            ok = bool(fa.assessed[i])
            r = {"field": fa.field, "group": g, "n": int(fa.n[i]),
                 "status": "assessed" if ok else
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


def disparity_table(comp: Comparisons, fields=None) -> pd.DataFrame:
    """Every pair of groups compared (of ``fields``, default all), with its bands."""
    d = comp.pairs
    return d if fields is None else d[d["field"].isin(list(fields))].reset_index(drop=True)


def _abs_range(lo: pd.Series, hi: pd.Series) -> tuple[float, float]:
    """Interval of max |d| over pairs from each pair's band [lo, hi] (valid when the bands hold
    together)."""
    lo, hi = lo.astype(float).to_numpy(), hi.astype(float).to_numpy()
    if lo.size == 0 or np.isnan(lo).any() or np.isnan(hi).any():
        return np.nan, np.nan
    low = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    return float(low.max()), float(np.maximum(np.abs(lo), np.abs(hi)).max())


def _aggregates(fa: FieldAudit, comp: Comparisons) -> dict[str, tuple]:
    """fairlearn's aggregates over the assessed groups (point values), with intervals derived
    from the pairs' simultaneous bands: the demographic-parity ratio (lowest over highest
    selection rate) is the smallest pair ratio, the differences the largest pair difference,
    and a band that holds for every pair holds for their minimum and maximum."""
    pts = parity_summary(fa.rates, fa.assessed)
    if fa.assessed.sum() < 2:
        return {k: (np.nan, None, None) for k in pts}
    p = comp.pairs[comp.pairs["field"] == fa.field]
    sel = p[p["metric"] == "selection_rate"]
    eo = p[p["metric"].isin(["tpr", "fpr"])]
    out = {}
    ratio_ci = ((float(sel["ratio_low"].min()), float(sel["ratio_high"].min()))
                if len(sel) else (np.nan, np.nan))
    for k, ci in (("demographic_parity_difference", _abs_range(sel["difference_low"],
                                                              sel["difference_high"])),
                  ("demographic_parity_ratio", ratio_ci),
                  ("equalized_odds_difference", _abs_range(eo["difference_low"],
                                                          eo["difference_high"]))):
        lo, hi = (None if np.isnan(x) else float(x) for x in ci)
        out[k] = (float(pts[k]), lo, hi)
    return out


def _summary(audits: list[FieldAudit], comp: Comparisons, config: AuditConfig,
             findings: dict) -> tuple:
    rows, metrics = [], []
    for fa in audits:
        r = {"field": fa.field, "groups": len(fa.levels), "assessed": int(fa.assessed.sum()),
             "reference": display_reference(fa, config)}
        for k, (v, lo, hi) in _aggregates(fa, comp).items():
            r[k], r[f"{k}_low"], r[f"{k}_high"] = v, lo, hi
            metrics.append(Metric(f"{k}.{fa.field}", v, (lo, hi) if lo is not None else None,
                                  method="fairlearn's definition over the assessed groups; "
                                         "interval from the pairs' simultaneous bands",
                                  label=f"{k.replace('_', ' ').capitalize()} ({fa.field})",
                                  reference="fairlearn (Hardt et al. 2016 for equalised odds)",
                                  n=int(fa.n.sum())))
        for check in ("disparate_impact", "error_rate_parity", "subgroup_performance"):
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
        ``performance.subgroup_drop``, ``fairness.proxy_association``), ``n_bootstrap``,
        ``confidence``, ``min_group_size``, ``suppress_below``, ``age_bands``,
        ``intersections``; and the probe's choices: ``fairness_part`` (``"nonmembers"``, the
        holdout rows, or ``"members"``), ``reference_groups`` (field, or ``"a*b"``
        intersection, -> a reference group fixed in advance: that field's judged pairs are
        then its groups against it; other fields judge every pair), ``whatif`` (run the
        mitigation what-if, :mod:`audits.mitigation`) and ``proxy_models`` (fit the proxy
        screen's all-inputs model).
    progress : called as ``progress(stage, fraction)``.
    cache : the run's cache, shared with the other probes (the proxy screen).

    Returns
    -------
    ProbeResult ``fairness`` with tables ``fairness.summary``, ``fairness.groups``,
    ``fairness.disparities`` (every pair), ``fairness.subgroup_performance``,
    ``fairness.proxies`` and (when it ran) ``fairness.whatif``.
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
    audits, comp = fairness_comparisons(subject, config, part, progress=step)

    findings, notes = [], []
    for fa in audits:
        findings += field_findings(fa, comp, subject, config)
    for f in subject.sensitive_fields:
        if f in subject.feature_columns:
            findings.append(sensitive_input_finding(f, subject, config))

    step("proxies", 0.6)
    screen = proxy_screen(subject, config, cache=cache)
    findings += proxy_findings(screen, config)

    tables = []
    by_id = {f.id: f for f in findings}
    summary, metrics = _summary(audits, comp, config, by_id)
    conf = f"{config.confidence:.0%}"
    tables.append(Table.from_frame("fairness.summary", summary, title="Fairness by field",
                                   note=f"Favourable decision: {_action(subject)}. Judged on "
                                        "intervals; thresholds are screening heuristics, not "
                                        "legal verdicts (NIST AI RMF: they need human judgement)."
                                        " Reference: the group the pages show the others "
                                        "against first (the largest, unless configured); every "
                                        "pair is judged."))
    groups, suppressed = group_table(audits, config)
    sup_note = (f" Counts under {config.suppress_below} are suppressed (left empty): small cells "
                "identify people." if suppressed else "")
    tables.append(Table.from_frame(
        "fairness.groups", groups, title=f"Group metrics ({part})",
        note=(f"Rates with {conf} percentile bootstrap intervals ({config.n_bootstrap} "
              "replicates); a rate on fewer than 10 events or non-events has its Jeffreys "
              f"interval. Groups under {config.min_group_size} rows are too small to judge and "
              "shown with their size only." + sup_note)))
    tables.append(Table.from_frame(
        "fairness.disparities", disparity_table(comp), title="Every pair of groups compared",
        note=(f"One row per pair of groups and rate, in the orientation that reads naturally "
              "(the group a gap harms first over the other); difference = group - reference, "
              f"ratio = group / reference. Judged ratios carry one simultaneous {conf} "
              f"max-statistic band over all {comp.family_size} comparisons of the fairness "
              f"checks (Westfall & Young 1993; critical value {comp.critical:.2f}); the rest "
              f"are shown with a band over the {comp.shown_size} shown comparisons. "
              "detectable: the ratio these rows detect with 80% power; rows_factor: how many "
              "times the rows would settle an inconclusive pair.")))
    drops, _ = suppress(comp.drops, ["n"], config.suppress_below)
    tables.append(Table.from_frame(
        "fairness.subgroup_performance", drops,
        title="Subgroup performance: accuracy of each group against the overall",
        note=("drop = 1 - group accuracy / overall accuracy, judged in the same simultaneous "
              "family (Giskard's defaults: attention above 5%, fail above 10%).")))
    tables.append(Table.from_frame(
        "fairness.proxies", suppress(screen, ["n"], config.suppress_below)[0],
        title="Proxy screen (non-members)",
        note=("Bias-corrected Cramér's V (Bergsma 2013) with a simultaneous bootstrap band; "
              "chance-adjusted predictive power of the input alone and of all inputs together "
              "(0 = chance, 1 = perfect).")))

    if whatif:
        step("what-if", 0.8)
        table, note = _whatif(subject, audits, part, config)
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
                "comparisons": "all_pairs",
                "reference_groups": {fa.field: display_reference(fa, config) for fa in audits},
                "configured_reference_groups": dict(sorted(config.reference_groups.items())),
                "favourable_action": subject.favourable_action,
                "simultaneous_intervals": "one max-statistic bootstrap band per probe "
                                          "(Westfall & Young 1993)",
                "family_size": comp.family_size, "critical_value": comp.critical,
                "calibration_bins": 10, "whatif": whatif, "proxy_models": config.proxy_models})


def _action(subject: AuditSubject) -> str:
    return subject.favourable_action or f"the decision {plain(subject.favourable_label)!r}"


def _whatif(subject, audits, part, config) -> tuple[Table | None, str]:
    from audits.mitigation import mitigation_whatif

    first = next((fa for fa in audits if fa.field in subject.sensitive_fields
                  and fa.assessed.sum() >= 2), None)
    if first is None:
        return None, "Mitigation what-if skipped: no sensitive field has two groups to judge."
    codes = {g[0]: g[1] for g in field_groupings(subject, config, part)}[first.field]
    try:
        table = mitigation_whatif(subject, codes, first.levels, first.assessed,
                                  field=first.field, part=part,
                                  random_state=_seed(subject.seed, "whatif", first.field))
    except Exception as e:  # noqa: BLE001 - a scenario must never stop the audit
        return None, f"Mitigation what-if for {first.field!r} skipped: {type(e).__name__}: {e}"
    return table, (f"Mitigation what-if run for {first.field!r} (the first sensitive field with "
                   "two assessed groups); it does not change the audited results.")
