"""Mitigation what-if: what group-specific thresholds would do to accuracy and selection rates.

A scenario only: it never changes the audited results or any finding. fairlearn's
``ThresholdOptimizer`` (Hardt, Price & Srebro 2016) post-processes the audited model's scores
(``prefit=True``, ``predict_method="predict_proba"``) under a demographic-parity or an
equalised-odds constraint, with accuracy as the objective.

Protocol: the rows of the assessed groups (at least ``min_group_size`` rows) of one sensitive
field are split at random, stratified by group, into two halves; the optimiser is fitted on the
first half and evaluated on the second, so the trade-off is not flattered by fitting and scoring
the same rows. The table compares, on the evaluation half, the audited decisions ("before") with
each constraint's decisions ("after"): accuracy, the demographic-parity ratio (lowest /
highest selection rate of the favourable decision) and each group's selection rate. The
optimiser's decisions are randomised where it mixes two thresholds; its seed comes from the
audit's seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from audits.core.results import Table
from audits.core.subject import AuditSubject

__all__ = ["mitigation_whatif", "WHATIF_TITLE"]

WHATIF_TITLE = "What-if scenario: this does not change the audited results"
CONSTRAINTS = ("demographic_parity", "equalized_odds")


class _ScoreLookup(ClassifierMixin, BaseEstimator):
    """A fitted-estimator stand-in whose "features" are row numbers into fixed scores, so the
    optimiser sees exactly the audited positive-class scores whatever the model's inputs (and
    whichever position the positive class has in the model's ``classes_``)."""

    def __init__(self, scores=None):
        self.scores = scores

    def fit(self, X, y=None):  # never called: the optimiser runs with prefit=True
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        s = np.asarray(self.scores, dtype=float)[np.asarray(X, dtype=np.intp)[:, 0]]
        return np.column_stack([1 - s, s])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _summary(name: str, y, fav, groups, levels) -> dict:
    rates = {g: float(fav[groups == g].mean()) for g in levels}
    hi = max(rates.values())
    return {"scenario": name, "accuracy": None, "dp_ratio": min(rates.values()) / hi if hi else
            1.0, **{f"selection_rate[{g}]": r for g, r in rates.items()}}


def mitigation_whatif(subject: AuditSubject, codes: np.ndarray, levels, assessed: np.ndarray, *,
                      field: str, part: str = "nonmembers", random_state: int = 0) -> Table:
    """Fit ThresholdOptimizer on one half of the part and evaluate both constraints on the other.

    Parameters
    ----------
    subject : the audit subject (its scores, decisions and labels of ``part`` are used).
    codes : each row's group index into ``levels`` for the chosen field.
    levels : group names.
    assessed : which groups are large enough to judge; only their rows are used.
    field : the field's name (for the table's title).
    part : ``"nonmembers"`` (default) or ``"members"``.
    random_state : seed of the split and of the optimiser's randomised decisions.

    Returns
    -------
    Table ``fairness.whatif`` with one row per scenario (before, after demographic parity,
    after equalised odds): scenario, rows, accuracy, dp_ratio, selection_rate[<group>].

    Raises
    ------
    ValueError (or fairlearn's errors) when the optimiser cannot be fitted; the caller skips
    the scenario with a note.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    keep = np.flatnonzero(assessed[codes])
    names = np.asarray([str(g) for g in levels], dtype=object)
    groups = names[codes[keep]]
    used = [str(levels[i]) for i in np.flatnonzero(assessed)]
    if len(used) < 2:
        raise ValueError(f"{field!r} has fewer than two groups large enough to judge.")
    y = subject.y(part)[keep].astype(int)
    scores = subject.scores(part)[keep]
    decisions = subject.decisions(part)[keep].astype(int)
    fav_pos = subject.favourable_label == subject.positive_label
    rng = np.random.default_rng(random_state)
    fit_half = np.zeros(keep.size, dtype=bool)
    for g in used:  # stratified by group
        idx = np.flatnonzero(groups == g)
        fit_half[rng.permutation(idx)[: idx.size // 2]] = True
    ev = ~fit_half
    X = np.arange(keep.size)[:, None]
    rows = []

    def row(name, dec):
        fav = dec if fav_pos else 1 - dec
        r = _summary(name, y[ev], fav[ev], groups[ev], used)
        r["accuracy"] = float((dec[ev] == y[ev]).mean())
        rows.append(r)

    row("before: audited decisions", decisions)
    for constraint in CONSTRAINTS:
        opt = ThresholdOptimizer(estimator=_ScoreLookup(scores).fit(None), constraints=constraint,
                                 objective="accuracy_score", prefit=True,
                                 predict_method="predict_proba")
        opt.fit(X[fit_half], y[fit_half], sensitive_features=groups[fit_half])
        dec = np.zeros(keep.size, dtype=int)
        dec[ev] = np.asarray(opt.predict(X[ev], sensitive_features=groups[ev],
                                         random_state=int(rng.integers(2**31 - 1))), dtype=int)
        row(f"after: {constraint.replace('_', ' ')} thresholds", dec)
    frame = pd.DataFrame(rows)
    frame.insert(1, "rows", int(ev.sum()))
    frame.insert(2, "field", field)
    return Table.from_frame(
        "fairness.whatif", frame, title=f"{WHATIF_TITLE} ({field})",
        note=("Scenario only: fairlearn ThresholdOptimizer (Hardt et al. 2016) fitted on one "
              "random half of the audited rows of the assessed groups and evaluated on the "
              "other half; 'before' is the audited model on the same half. Selection rates are "
              "of the favourable decision; dp_ratio = lowest / highest selection rate. The "
              "audited findings are unchanged."))
