"""Fairness of a multiclass classifier and of a regression (issue 14), on the binary probe's
pair and band machinery.

Multiclass. The favourable class is declared (a next-best-offer model steering one age band to
the cheapest plan is a fairness question about the offer that benefits the customer). The
binary probe (:func:`audits.fairness.run_fairness`) judges the favourable class against the
rest: its selection rate (``fairness.disparate_impact.<field>``), its FPR, FNR and precision
(``error_rate_parity``) and the one-vs-rest accuracy of each group (``subgroup_performance``),
every pair of groups fixed before resampling, in one simultaneous band. Every other class's
selection rate per group is shown with its interval (``fairness.classes``), not judged.

Regression. With the favourable direction declared (higher or lower predictions benefit the
customer), every pair of groups of every field and intersection is compared on

- the ratio of mean predictions (``fairness.mean_prediction_ratio.<field>``), oriented so that
  the group the direction disadvantages comes first, and
- the ratio of mean absolute errors (``fairness.mae_ratio.<field>``), the less accurately
  predicted group first,

each judged against the band [0.8, 1.25] (THRESHOLDS.md: HEUR, by analogy with the selection-rate
and error-rate rows), on one simultaneous max-statistic band over every pair, both ratios, every
field and intersection (Westfall & Young 1993; :func:`audits.group_metrics.max_statistic_band`),
the log ratios resampled from one row bootstrap (``config.n_bootstrap`` replicates). The signed
residual (target minus prediction) of each group is shown with its interval: a group whose
residual is positive is under-predicted. When a decision threshold on the prediction is declared,
the decision (favourable: on the favourable side of the threshold) is audited by the binary
probe against the target on the same side, selection rates, error rates and subgroup accuracy as
above. The proxy screen and the sensitive-input check are the binary probe's. fairlearn's
MetricFrame is the oracle for the point values in tests.
"""

from __future__ import annotations

import dataclasses
from itertools import combinations
from typing import Callable

import numpy as np
import pandas as pd

from audits.core.bootstrap import bootstrap_weights
from audits.core.config import AuditConfig
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, Threshold, judge
from audits.core.seeds import derive_seed
from audits.fairness import field_groupings, group_table, run_fairness
from audits.fairness_report import proxy_findings, sensitive_input_finding, suppress
from audits.group_metrics import max_statistic_band
from audits.proxies import proxy_screen

__all__ = ["run_fairness_tasks", "regression_groups", "regression_comparisons"]

_ORDER = ("mean_prediction", "mae")
_WORDS = {"mean_prediction": "mean prediction", "mae": "mean absolute error"}
_ORIENTED = "Ratio of mean predictions (the group the favourable direction disadvantages first)"


class _Decision:
    """The subject seen through one binary decision, for the binary probe's machinery: the
    ``labels`` and ``decisions`` (1 = favourable) and ``scores`` of each part."""

    def __init__(self, subject, *, labels: dict, decisions: dict, scores: dict, label, action):
        self._subject, self._labels, self._decisions, self._scores = \
            subject, labels, decisions, scores
        self.positive_label = self.favourable_label = label
        self.favourable_action = action
        self.task = "binary"

    def __getattr__(self, name):
        return getattr(self._subject, name)

    def y(self, part):
        return self._labels[part]

    def decisions(self, part):
        return self._decisions[part]

    def favourable(self, part):
        return self._decisions[part]

    def scores(self, part):
        return self._scores[part]


def _one_vs_rest(subject, label) -> _Decision:
    k = list(subject.classes).index(label)
    parts = ("members", "nonmembers")
    return _Decision(
        subject, labels={p: (subject.labels(p) == label).astype(np.int8) for p in parts},
        decisions={p: (subject.predictions(p) == label).astype(np.int8) for p in parts},
        scores={p: subject.proba(p)[:, k] for p in parts}, label=label,
        action=subject.favourable_action or f"offered {label!r}")


def _thresholded(subject) -> _Decision:
    """A regression's declared decision against the target on the same side of the threshold;
    its score is the prediction's percentile (oriented to the favourable side: AUC per group is
    rank based; the calibration columns of a percentile are not meaningful)."""
    t, higher = subject.decision_threshold, subject.favourable_direction != "lower"
    parts = ("members", "nonmembers")

    def side(v):
        return ((v >= t) if higher else (v < t)).astype(np.int8)

    def pct(v):
        r = pd.Series(v if higher else -v).rank(pct=True).to_numpy()
        return np.clip(r, 0.0, 1.0)
    return _Decision(subject, labels={p: side(subject.labels(p)) for p in parts},
                     decisions={p: side(subject.predictions(p)) for p in parts},
                     scores={p: pct(subject.predictions(p)) for p in parts}, label=1,
                     action=subject.favourable_action or
                     f"a prediction {'at or above' if higher else 'below'} {t:g}")


def _no_whatif(config: AuditConfig) -> AuditConfig:
    return dataclasses.replace(config, whatif=False)


# -- multiclass ----------------------------------------------------------------------------------

def _class_table(subject, config: AuditConfig, part: str) -> pd.DataFrame:
    """Every class's one-vs-rest group rates (shown, not judged)."""
    from audits.fairness import fairness_comparisons

    frames = []
    for c in subject.classes:
        audits, _ = fairness_comparisons(_one_vs_rest(subject, c), config, part)
        table, _ = group_table(audits, config)
        frames.append(table.assign(**{"class": str(c)}))
    cols = ["class", "field", "group", "n", "status", "selection_rate", "selection_rate_low",
            "selection_rate_high", "tpr", "tpr_low", "tpr_high", "precision", "precision_low",
            "precision_high"]
    out = pd.concat(frames, ignore_index=True)
    return out[[c for c in cols if c in out.columns]]


def _multiclass(subject, config, progress, cache) -> ProbeResult:
    label = subject.favourable_label if subject.favourable_label is not None else \
        subject.positive_label
    if label is None:
        return _skip("fairness.favourable.none", "No favourable class declared",
                     f"The {len(subject.classes)}-class model has no favourable class declared, "
                     "so which outcome benefits the customer, and so fairness, is unknown.",
                     "Declare the favourable class (the outcome that benefits the customer) "
                     "and re-run.", config)
    result = run_fairness(_one_vs_rest(subject, label), _no_whatif(config), progress=progress,
                          cache=cache)
    classes = _class_table(subject, config, config.fairness_part)
    classes, _ = suppress(classes, ["n"], config.suppress_below)
    note = (f"A {len(subject.classes)}-class model: the checks judge the favourable class "
            f"{label!r} against the rest (selection rate, FPR, FNR, precision, one-vs-rest "
            "accuracy); every class's selection rate per group is shown in fairness.classes, "
            "not judged. The mitigation what-if is for binary models.")
    table = Table.from_frame("fairness.classes", classes, title="Every class, one against the "
                             "rest: selection rates by group (shown, not judged)",
                             note="Rates with percentile bootstrap intervals, as the group "
                                  "table; the favourable class is the one judged.")
    return dataclasses.replace(
        result, tables=result.tables + (table,), notes=result.notes + (note,),
        params={**result.params, "task": "multiclass", "favourable_class": _plain(label),
                "classes": [_plain(c) for c in subject.classes], "whatif": False})


# -- regression ----------------------------------------------------------------------------------

def regression_groups(subject, config: AuditConfig, part: str) -> pd.DataFrame:
    """Per field and group: size, mean prediction, mean absolute error and mean signed residual
    (point values; fairlearn's MetricFrame gives the same by group)."""
    pred, y = subject.predictions(part), subject.labels(part)
    rows = []
    for field, codes, levels in field_groupings(subject, config, part):
        for g, level in enumerate(levels):
            m = codes == g
            n = int(m.sum())
            rows.append({"field": field, "group": level, "n": n,
                         "assessed": n >= config.min_group_size,
                         "mean_prediction": float(pred[m].mean()) if n else np.nan,
                         "mae": float(np.abs(y[m] - pred[m]).mean()) if n else np.nan,
                         "residual": float((y[m] - pred[m]).mean()) if n else np.nan})
    return pd.DataFrame(rows)


def regression_comparisons(subject, config: AuditConfig, part: str
                           ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Every pair's ratios with one simultaneous band, and each group's residual interval.

    Returns ``(pairs, groups, family)``: ``pairs`` one row per (field, pair, metric) with the
    ratio and its band, ``groups`` :func:`regression_groups` with the residual's interval (its
    own simultaneous band over the groups), ``family`` the band's size and critical value.
    """
    pred, y = subject.predictions(part), subject.labels(part)
    n = len(y)
    groupings = field_groupings(subject, config, part)
    columns = {"one": np.ones(n), "pred": pred, "abs": np.abs(y - pred), "res": y - pred}
    blocks = []
    for _, codes, levels in groupings:
        ind = np.zeros((n, len(levels)))
        ind[np.arange(n), codes] = 1.0
        blocks.append(ind)
    ind = np.hstack(blocks) if blocks else np.zeros((n, 0))
    stacked = np.hstack([ind * v[:, None] for v in columns.values()])
    G = ind.shape[1]
    reps = []
    rng = np.random.default_rng(derive_seed(subject.seed, "fair", "regression"))
    for w in bootstrap_weights(n, config.n_bootstrap, rng):
        reps.append(w @ stacked)
    sums = np.vstack(reps) if reps else np.zeros((0, 4 * G))
    full = np.ones(n) @ stacked
    with np.errstate(all="ignore"):
        means = {k: sums[:, i * G:(i + 1) * G] / sums[:, :G] for i, k in
                 enumerate(("one", "pred", "abs", "res")) if k != "one"}
        point = {k: full[i * G:(i + 1) * G] / full[:G] for i, k in
                 enumerate(("one", "pred", "abs", "res")) if k != "one"}
    groups = regression_groups(subject, config, part)
    lower_harms = subject.favourable_direction != "lower"
    cols, rows, offset = [], [], 0
    for (field, codes, levels), block in zip(groupings, blocks):
        idx = [offset + g for g in range(len(levels))]
        ok = [i for g, i in enumerate(idx) if groups.loc[i, "assessed"]]
        for a, b in combinations(ok, 2):
            for metric, key in (("mean_prediction", "pred"), ("mae", "abs")):
                va, vb = point[key][a], point[key][b]
                worse_first = (va <= vb) if (metric == "mean_prediction" and lower_harms) else \
                    (va >= vb) if metric == "mean_prediction" else (va >= vb)
                g, r = (a, b) if worse_first else (b, a)
                rows.append({"field": field, "group": groups.loc[g, "group"],
                             "reference": groups.loc[r, "group"], "metric": metric,
                             "value": point[key][g], "reference_value": point[key][r],
                             "ratio": point[key][g] / point[key][r]})
                cols.append(np.log(means[key][:, g]) - np.log(means[key][:, r]))
        offset += len(levels)
    pairs = pd.DataFrame(rows, columns=["field", "group", "reference", "metric", "value",
                                        "reference_value", "ratio"])
    band = max_statistic_band(np.column_stack(cols) if cols else np.zeros((len(sums), 0)),
                              confidence=config.confidence)
    pairs["ratio_low"], pairs["ratio_high"] = np.exp(band["lo"]), np.exp(band["hi"])
    res = max_statistic_band(means["res"], confidence=config.confidence)
    groups["residual_low"], groups["residual_high"] = res["lo"], res["hi"]
    return pairs, groups, {"size": int(band["size"]), "critical": float(band["critical"])}


def _ratio_finding(field: str, metric: str, rows: pd.DataFrame, threshold: Threshold,
                   subject, family: dict, config: AuditConfig) -> Finding:
    check = "mean_prediction_ratio" if metric == "mean_prediction" else "mae_ratio"
    fid, title = f"fairness.{check}.{field}", f"{_WORDS[metric].capitalize()} by group: {field}"
    if rows.empty:
        return Finding(fid, Severity.NOT_ASSESSED, title,
                       f"Fewer than two groups of {field} have at least {config.min_group_size} "
                       "rows, so their predictions cannot be compared.",
                       action="Collect more holdout rows for the small groups.",
                       threshold=threshold, area="fairness")
    if (rows[["value", "reference_value"]] <= 0).any().any():
        return Finding(fid, Severity.NOT_ASSESSED, title,
                       f"Some groups of {field} have a {_WORDS[metric]} at or below zero, so a "
                       "ratio does not measure how differently they are treated.",
                       action="Compare the groups' mean predictions in the group table.",
                       threshold=threshold, area="fairness")
    sev = [judge((lo, hi), threshold, value=v) for lo, hi, v in
           zip(rows["ratio_low"], rows["ratio_high"], rows["ratio"])]
    rank = {Severity.FAIL: 4, Severity.ATTENTION: 3, Severity.INCONCLUSIVE: 2, Severity.PASS: 1,
            Severity.NOT_ASSESSED: 0}
    worst = max(sev, key=lambda s: rank[s])
    # the pair with the strongest evidence among those that set the severity
    dist = np.minimum(np.abs(np.log(rows["ratio_low"])), np.abs(np.log(rows["ratio_high"])))
    cand = [i for i, s in enumerate(sev) if s is worst]
    i = max(cand, key=lambda j: (float(abs(np.log(rows["ratio"].iloc[j]))), float(dist.iloc[j])))
    w = rows.iloc[i]
    m = Metric(f"{check}.{field}", float(w["ratio"]), (float(w["ratio_low"]),
                                                       float(w["ratio_high"])),
               method=f"row bootstrap, {config.n_bootstrap} replicates; one simultaneous "
                      f"max-statistic band over {family['size']} ratios (Westfall & Young 1993)",
               label=f"{_WORDS[metric].capitalize()} of {field}={w['group']} over "
                     f"{field}={w['reference']}", reference="THRESHOLDS.md (regression row)",
               n=None)
    who = (f"customers with {field}={w['group']}", f"{field}={w['reference']}")
    if metric == "mean_prediction":
        text = (f"The model predicts {who[0]} {w['ratio']:.2f} times the mean of {who[1]} "
                f"({w['value']:.4g} against {w['reference_value']:.4g}; interval "
                f"{w['ratio_low']:.2f} to {w['ratio_high']:.2f}; band 0.80 to 1.25).")
        if subject.favourable_direction is None:
            text += " The favourable direction was not declared: which group benefits is unknown."
    else:
        text = (f"The model's error for {who[0]} is {w['ratio']:.2f} times that for {who[1]} "
                f"(mean absolute error {w['value']:.4g} against {w['reference_value']:.4g}; "
                f"interval {w['ratio_low']:.2f} to {w['ratio_high']:.2f}; band 0.80 to 1.25).")
    tail = {Severity.FAIL: " The whole interval lies outside the band: the difference is shown.",
            Severity.ATTENTION: " A difference is shown, and it may reach the band's edge.",
            Severity.PASS: " Every pair's interval lies inside the band.",
            Severity.INCONCLUSIVE: " These rows cannot tell whether the ratio lies inside the "
                                   "band; more holdout rows would settle it."}[worst]
    action = ("Find the channel (the proxy screen and the explainability probe's drivers), "
              "correct the labels or the inputs, and re-audit." if worst in
              (Severity.FAIL, Severity.ATTENTION) else "None needed." if worst is Severity.PASS
              else "Re-audit with more holdout rows for these groups.")
    return Finding(fid, worst, title, text + tail, action=action, metric=m, threshold=threshold,
                   area="fairness")


def _regression(subject, config, progress, cache) -> ProbeResult:
    part = config.fairness_part
    threshold = config.threshold("fairness.regression_ratio")
    pairs, groups, family = regression_comparisons(subject, config, part)
    findings, tables, metrics, notes = [], [], [], []
    fields = [g[0] for g in field_groupings(subject, config, part)]
    for field in fields:
        for metric in _ORDER:
            f = _ratio_finding(field, metric, pairs[(pairs["field"] == field) &
                                                    (pairs["metric"] == metric)],
                               threshold, subject, family, config)
            findings.append(f)
            if f.metric is not None:
                metrics.append(f.metric)
    shown, _ = suppress(groups, ["n"], config.suppress_below)
    tables.append(Table.from_frame(
        "fairness.regression_groups", shown, title=f"Predictions and errors by group ({part})",
        note="residual = target - prediction (positive: the group is under-predicted), with "
             "one simultaneous band over the groups; groups under "
             f"{config.min_group_size} rows are not judged."))
    tables.append(Table.from_frame(
        "fairness.regression_pairs", pairs, title="Every pair of groups: ratios of mean "
        "predictions and of mean absolute errors",
        note=f"{_ORIENTED}; the mean absolute error ratio has the less accurately predicted "
             f"group first. One simultaneous {config.confidence:.0%} band over all "
             f"{family['size']} ratios (critical value {family['critical']:.2f})."))
    if subject.decision_threshold is not None:
        decided = run_fairness(_thresholded(subject), _no_whatif(config), progress=progress,
                               cache=cache)
        findings += [f for f in decided.findings]
        tables += list(decided.tables)
        metrics += list(decided.metrics)
        notes.append(f"The declared decision ({subject.decision_rule}) is audited like a binary "
                     "model's: selection rates, error rates against the target on the same side "
                     "of the threshold, and subgroup accuracy, in their own simultaneous band.")
    else:
        screen = proxy_screen(subject, config, cache=cache)
        findings += proxy_findings(screen, config)
        findings += [sensitive_input_finding(f, subject, config)
                     for f in subject.sensitive_fields if f in subject.feature_columns]
        tables.append(Table.from_frame("fairness.proxies",
                                       suppress(screen, ["n"], config.suppress_below)[0],
                                       title="Proxy screen (non-members)"))
        notes.append("No decision threshold was declared: selection rates are not assessed.")
    return ProbeResult(
        probe="fairness", area="fairness", status="ok", metrics=tuple(metrics),
        tables=tuple(tables), findings=tuple(findings), notes=tuple(notes),
        params={"part": part, "task": "regression", "n_bootstrap": config.n_bootstrap,
                "confidence": config.confidence, "fields": fields,
                "favourable_direction": subject.favourable_direction,
                "decision_threshold": subject.decision_threshold,
                "favourable_action": subject.favourable_action,
                "family_size": family["size"], "critical_value": family["critical"],
                "comparisons": "all_pairs", "whatif": False})


# -- the probe -------------------------------------------------------------------------------------

def _skip(fid, title, statement, action, config) -> ProbeResult:
    return ProbeResult(probe="fairness", area="fairness", status="not_assessed",
                       findings=(Finding(fid, Severity.NOT_ASSESSED, title, statement,
                                         action=action, area="fairness"),),
                       notes=(statement,), params={"n_bootstrap": config.n_bootstrap})


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def run_fairness_tasks(subject, config: AuditConfig, *,
                       progress: Callable[[str, float], None] | None = None,
                       cache=None) -> ProbeResult:
    """The fairness probe of any task: the binary probe for a binary model, else the methods of
    the module docstring."""
    if subject.task == "binary":
        return run_fairness(subject, config, progress=progress, cache=cache)
    if not subject.sensitive_fields:
        return run_fairness(subject, config, progress=progress, cache=cache)
    if subject.task == "multiclass":
        return _multiclass(subject, config, progress, cache)
    return _regression(subject, config, progress, cache)
