"""Performance probe: how well the model does on its training rows and on rows it never saw.

Accuracy, ROC AUC, log loss and Brier score on members and on non-members, each with a
percentile bootstrap interval (audits.core.bootstrap). The generalisation gap, AUC on members
minus AUC on non-members, is judged on its interval against ``performance.generalisation_gap``: a
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

from audits.core.bootstrap import SCORE_METRICS, percentile_interval, score_metrics
from audits.core.cache import shared
from audits.core.config import AuditConfig
from audits.core.counts import cell_score_metrics, part_rows, score_cells
from audits.core.exchangeability import REMEDY, exchangeability
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import PARTS, AuditSubject

__all__ = ["run_performance"]

_PART_LABEL = {"members": "training rows (members)", "nonmembers": "holdout rows (non-members)"}


def run_performance(subject: AuditSubject, config: AuditConfig, *, progress=None,
                    cache=None) -> ProbeResult:
    """Run the performance probe. See the module docstring for the method (``cache``: the run's
    cache, which shares the exchangeability check with the privacy attacks)."""
    seeds = {part: derive_seed(subject.seed, "performance", part) for part in PARTS}
    points, reps, metrics = {}, {}, []
    method = f"percentile bootstrap, {config.n_bootstrap} replicates"
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
            points[part], reps[part] = score_metrics(
                subject.y(part), subject.scores(part), subject.decisions(part),
                n_boot=config.n_bootstrap, random_state=seeds[part])
        for name, (_, label, ref) in SCORE_METRICS.items():
            metrics.append(Metric(
                name=f"{name}.{part}", value=points[part][name],
                ci=percentile_interval(reps[part][name], confidence=config.confidence),
                method=method,
                label=f"{label}, {_PART_LABEL[part]}", reference=ref,
                n=part_rows(subject, part)))

    gap_reps = reps["members"]["auc"] - reps["nonmembers"]["auc"]
    gap = Metric(name="auc_gap", value=points["members"]["auc"] - points["nonmembers"]["auc"],
                 ci=percentile_interval(gap_reps, confidence=config.confidence),
                 method=f"difference of independent {method}s",
                 label="Generalisation gap: AUC on training rows minus AUC on holdout rows",
                 reference="Yeom et al. 2018")
    metrics.append(gap)
    if progress:
        progress("comparing the training and holdout files", len(PARTS) / (len(PARTS) + 1))
    holdout = exchangeability(subject, config, cache=cache)
    metrics.append(holdout.metric(config.confidence))
    threshold = config.threshold("performance.generalisation_gap")
    severity = judge(gap.ci, threshold, value=gap.value)
    statement = _gap_statement(gap, threshold.attention, severity)
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
        id="performance.generalisation_gap.auc", severity=severity, area="performance",
        title="Generalisation gap" + (" (may be drift: the holdout differs from the training "
                                      "rows)" if holdout.differs else ""),
        metric=gap, threshold=threshold, statement=statement, action=action)

    rows = [(name, *(_fmt(points[p][name], reps[p][name], config.confidence) for p in PARTS))
            for name in SCORE_METRICS]
    table = Table(name="performance", columns=("metric", "members", "nonmembers"),
                  rows=tuple(rows), title="Model performance on training and holdout rows",
                  note=f"Point value [{config.confidence:.0%} interval]; {method}.")
    if progress:
        progress("done", 1.0)
    return ProbeResult(probe="performance", area="performance", metrics=tuple(metrics),
                       tables=(table,), findings=(finding,),
                       params={"n_bootstrap": config.n_bootstrap,
                               "confidence": config.confidence,
                               "holdout_differs": holdout.differs,
                               "gap_label": "possibly drift" if holdout.differs else
                               "overfitting"})


def _fmt(point, reps, confidence) -> str:
    lo, hi = percentile_interval(reps, confidence=confidence)
    return f"{point:.3f} [{lo:.3f}, {hi:.3f}]"


def _gap_statement(gap: Metric, bound: float, severity: Severity) -> str:
    lo, hi = gap.ci
    text = (f"The model ranks customers with AUC {gap.value:+.3f} better on the rows it was "
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
