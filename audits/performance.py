"""Performance probe: how well the model does on its training rows and on rows it never saw.

The task's metrics on members and on non-members, each with a percentile bootstrap interval:
for a binary classifier accuracy, ROC AUC, log loss and Brier score (audits.core.bootstrap); for
a multiclass one ROC AUC one-vs-rest (the mean over classes), accuracy, log loss and the
multiclass Brier score; for a regression R², mean absolute error and root mean squared error
(:mod:`audits.task_metrics`). The generalisation gap, AUC on members minus AUC on non-members
(one-vs-rest for a multiclass model; R² on members minus R² on non-members for a regression,
judged on the same bound by analogy: both are 0-1 scales of fit, HEUR), is judged on its
interval against ``performance.generalisation_gap``: a
model that does much better on its training rows has memorised them, and overfitting alone
suffices for membership inference (Yeom, Giacomelli, Fredrikson and Jha 2018, "Privacy Risk in
Machine Learning: Analyzing the Connection to Overfitting", IEEE CSF).

The gap's interval comes from independent bootstraps of the two parts (they are independent
samples), differenced replicate by replicate.

For a binary classifier the metrics come from counts over every row (:mod:`audits.core.counts`:
the AUC of scores in 2^24 bins, the bootstrap over score cells), so an audit read partition by
partition gives the same values as one read whole.

The gap reads as overfitting only when the holdout rows are drawn like the training rows. The
shared exchangeability check (:mod:`audits.core.exchangeability`, a classifier two-sample test:
Lopez-Paz & Oquab 2017) tells the two files apart without the model; when it does, the gap is
labelled as possibly drift between the files (a time-based split, another source) rather than
overfitting, with the remedy, and its metric is reported beside the gap.
"""

from __future__ import annotations

from audits.core.bootstrap import SCORE_METRICS, percentile_interval
from audits.core.cache import shared
from audits.core.config import AuditConfig
from audits.core.counts import cell_score_metrics, part_rows, score_cells
from audits.core.exchangeability import REMEDY, exchangeability
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import PARTS, AuditSubject
from audits.task_metrics import TASK_METRICS, task_metrics

__all__ = ["run_performance"]

_PART_LABEL = {"members": "training rows (members)", "nonmembers": "holdout rows (non-members)"}


def run_performance(subject: AuditSubject, config: AuditConfig, *, progress=None,
                    cache=None) -> ProbeResult:
    """Run the performance probe. See the module docstring for the method (``cache``: the run's
    cache, which shares the exchangeability check with the privacy attacks)."""
    seeds = {part: derive_seed(subject.seed, "performance", part) for part in PARTS}
    points, reps, metrics = {}, {}, []
    method = f"percentile bootstrap, {config.n_bootstrap} replicates"
    catalogue = {k: v[1:] for k, v in SCORE_METRICS.items()} if subject.task == "binary" else \
        TASK_METRICS[subject.task]
    key = "r2" if subject.task == "regression" else "auc"
    for i, part in enumerate(PARTS):
        if progress:
            progress(f"scoring {_PART_LABEL[part]}", i / (len(PARTS) + 1))
        if subject.task == "binary":  # counted: the same on the in-memory and partitioned paths
            cells = shared(cache, ("score_cells", part),
                           lambda p=part: score_cells(subject, p, n_jobs=config.n_jobs,
                                                      age_bands=config.age_bands))
            points[part], reps[part] = cell_score_metrics(
                cells, n_boot=config.n_bootstrap, random_state=seeds[part])
        else:
            points[part], reps[part] = task_metrics(subject, part, n_boot=config.n_bootstrap,
                                                    random_state=seeds[part])
        for name, (label, ref) in catalogue.items():
            metrics.append(Metric(
                name=f"{name}.{part}", value=points[part][name],
                ci=percentile_interval(reps[part][name], confidence=config.confidence),
                method=method,
                label=f"{label}, {_PART_LABEL[part]}", reference=ref,
                n=part_rows(subject, part)))

    gap_reps = reps["members"][key] - reps["nonmembers"][key]
    what = {"binary": "AUC", "multiclass": "AUC (one-vs-rest)", "regression": "R²"}[subject.task]
    gap = Metric(name=f"{key}_gap", value=points["members"][key] - points["nonmembers"][key],
                 ci=percentile_interval(gap_reps, confidence=config.confidence),
                 method=f"difference of independent {method}s",
                 label=f"Generalisation gap: {what} on training rows minus {what} on holdout rows",
                 reference="Yeom et al. 2018")
    metrics.append(gap)
    if progress:
        progress("comparing the training and holdout files", len(PARTS) / (len(PARTS) + 1))
    holdout = exchangeability(subject, config, cache=cache)
    metrics.append(holdout.metric(config.confidence))
    threshold = config.threshold("performance.generalisation_gap")
    severity = judge(gap.ci, threshold, value=gap.value)
    statement = _gap_statement(gap, threshold.attention, severity, what)
    if holdout.differs:
        statement = (f"{statement} {holdout.statement()} So this gap may be drift between the "
                     "two files rather than overfitting: it does not show how the model treats "
                     "new customers from its own population.")
        action = REMEDY
    else:
        action = ("Regularise the model (shallower trees, larger leaves, stronger penalty) or "
                  "train on more data, then re-audit; check the privacy probes for membership "
                  "leakage." if severity is not Severity.PASS else "None needed.")
    finding = Finding(
        id=f"performance.generalisation_gap.{key}", severity=severity, area="performance",
        title="Generalisation gap" + (" (may be drift: the holdout differs from the training "
                                      "rows)" if holdout.differs else ""),
        metric=gap, threshold=threshold, statement=statement, action=action)

    rows = [(name, *(_fmt(points[p][name], reps[p][name], config.confidence) for p in PARTS))
            for name in catalogue]
    table = Table(name="performance", columns=("metric", "members", "nonmembers"),
                  rows=tuple(rows), title="Model performance on training and holdout rows",
                  note=f"Point value [{config.confidence:.0%} interval]; {method}.")
    if progress:
        progress("done", 1.0)
    return ProbeResult(probe="performance", area="performance", metrics=tuple(metrics),
                       tables=(table,), findings=(finding,),
                       params={"n_bootstrap": config.n_bootstrap,
                               "confidence": config.confidence, "task": subject.task,
                               "gap_metric": key,
                               "holdout_differs": holdout.differs,
                               "gap_label": "possibly drift" if holdout.differs else
                               "overfitting"})


def _fmt(point, reps, confidence) -> str:
    lo, hi = percentile_interval(reps, confidence=confidence)
    return f"{point:.3f} [{lo:.3f}, {hi:.3f}]"


def _gap_statement(gap: Metric, bound: float, severity: Severity, what: str = "AUC") -> str:
    lo, hi = gap.ci
    does = "fits customers with R²" if what == "R²" else f"ranks customers with {what}"
    text = (f"The model {does} {gap.value:+.3f} better on the rows it was "
            f"trained on than on rows it never saw (interval {lo:+.3f} to {hi:+.3f}; "
            f"bound {bound:.2f}).")
    if severity is Severity.ATTENTION:
        return text + (" The whole interval lies above the bound: the model has learned its "
                       "training customers, not only the pattern, which also makes it easier to "
                       "tell who was in the training data.")
    if lo <= bound < hi:
        return text + (" The interval reaches past the bound but does not lie wholly above it, "
                       "so a gap beyond the bound is not shown; more holdout rows would narrow it.")
    return text + " The gap is within the bound: the model generalises to new customers."
