"""Performance metrics of a multiclass classifier and of a regression, with bootstrap replicates.

The binary metrics are :func:`audits.core.bootstrap.score_metrics`; this module gives the other
two tasks theirs, computed the same way (every replicate is a vector of bootstrap counts ``w``
over the rows, Efron and Tibshirani 1993, and every metric a weighted mean or a weighted AUC, so
that the metrics of one replicate are coherent and the loop is vectorised):

- multiclass (K classes): ROC AUC one-vs-rest, the unweighted mean over the classes of the AUC
  of "this class against the rest" on that class's probability (Provost and Domingos 2000;
  scikit-learn's ``roc_auc_score(multi_class="ovr", average="macro")``, its oracle in tests);
  accuracy of the most probable class; multiclass log loss ``-log p_y`` (Good 1952); the
  multiclass Brier score ``sum_k (p_k - [y = k])^2`` (Brier 1950, his original definition,
  between 0 and 2);
- regression: mean absolute error, root mean squared error, and the coefficient of
  determination ``R^2 = 1 - SSE / SST`` (SST around the replicate's own weighted mean, as
  scikit-learn's ``r2_score`` does on the resampled rows).
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from audits.core.bootstrap import bootstrap_weights, weighted_auc

__all__ = ["fit_measure", "MULTICLASS_METRICS", "REGRESSION_METRICS", "multiclass_metrics",
           "regression_metrics", "task_metrics", "TASK_METRICS"]

_EPS = 1e-15

# name -> (plain label, reference); the gap is judged on the first
MULTICLASS_METRICS: dict[str, tuple[str, str]] = {
    "auc": ("ROC AUC one-vs-rest, mean over classes (0.5 = chance)", "Provost & Domingos 2000"),
    "accuracy": ("Accuracy of the most probable class", ""),
    "log_loss": ("Log loss (lower is better)", "Good 1952"),
    "brier": ("Brier score over all classes (lower is better, 0 to 2)", "Brier 1950"),
}
REGRESSION_METRICS: dict[str, tuple[str, str]] = {
    "r2": ("R² (share of the target's variance explained; 0 = the mean)", "Wright 1921"),
    "mae": ("Mean absolute error (target's units, lower is better)", ""),
    "rmse": ("Root mean squared error (target's units, lower is better)", ""),
}
TASK_METRICS = {"multiclass": MULTICLASS_METRICS, "regression": REGRESSION_METRICS}


def _one_hot(labels: np.ndarray, classes) -> np.ndarray:
    classes = list(classes)
    out = np.zeros((len(labels), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for i, v in enumerate(labels):
        j = index.get(v)
        if j is not None:
            out[i, j] = 1.0
    return out


def multiclass_metrics(labels, proba, classes, *, n_boot: int, random_state: int
                       ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point values and bootstrap replicates of :data:`MULTICLASS_METRICS`.

    Parameters
    ----------
    labels : (n,) the true classes.
    proba : (n, K) class probabilities, columns in ``classes`` order.
    classes : the K classes.
    n_boot, random_state : bootstrap replicates and their seed.

    A class absent from the rows (or from a replicate) is left out of that AUC's mean.
    """
    proba = np.asarray(proba, dtype=float)
    onehot = _one_hot(np.asarray(labels), classes)
    n = len(onehot)
    p_true = np.clip((proba * onehot).sum(axis=1), _EPS, 1.0)
    losses = {"accuracy": (np.argmax(proba, axis=1) == np.argmax(onehot, axis=1))
              .astype(float) * onehot.any(axis=1),
              "log_loss": -np.log(p_true),
              "brier": ((proba - onehot) ** 2).sum(axis=1)}

    def auc(w: np.ndarray) -> np.ndarray:
        per_class = np.vstack([weighted_auc(onehot[:, k], proba[:, k], w)
                               for k in range(onehot.shape[1])])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a replicate with no class at all
            return np.nanmean(per_class, axis=0)

    return _run(n, losses, auc, n_boot, random_state)


def regression_metrics(y, y_pred, *, n_boot: int, random_state: int
                       ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point values and bootstrap replicates of :data:`REGRESSION_METRICS`."""
    y = np.asarray(y, dtype=float)
    r = y - np.asarray(y_pred, dtype=float)
    n = y.size
    ones = np.ones((1, n))

    def block(w: np.ndarray) -> dict[str, np.ndarray]:
        sse = w @ r ** 2
        mean = w @ y / n
        sst = w @ y ** 2 - n * mean ** 2
        with np.errstate(all="ignore"):
            r2 = np.where(sst > 0, 1.0 - sse / sst, np.nan)
        return {"r2": r2, "mae": w @ np.abs(r) / n, "rmse": np.sqrt(sse / n)}

    points = {k: float(v[0]) for k, v in block(ones).items()}
    reps: dict[str, list] = {k: [] for k in REGRESSION_METRICS}
    for w in bootstrap_weights(n, n_boot, np.random.default_rng(random_state)):
        for k, v in block(w).items():
            reps[k].append(v)
    return points, {k: np.concatenate(v) for k, v in reps.items()}


def _run(n: int, losses: dict, auc: Callable, n_boot: int, random_state: int):
    ones = np.ones((1, n))
    points = {"auc": float(auc(ones)[0]), **{k: float(v.mean()) for k, v in losses.items()}}
    reps: dict[str, list] = {k: [] for k in MULTICLASS_METRICS}
    for w in bootstrap_weights(n, n_boot, np.random.default_rng(random_state)):
        reps["auc"].append(auc(w))
        for k, v in losses.items():
            reps[k].append(w @ v / n)
    return points, {k: np.concatenate(v) for k, v in reps.items()}


def task_metrics(subject, part: str, *, n_boot: int, random_state: int):
    """The metrics of ``subject``'s task on one part: ``(points, replicates)``."""
    if subject.task == "regression":
        return regression_metrics(subject.labels(part), subject.predictions(part),
                                  n_boot=n_boot, random_state=random_state)
    return multiclass_metrics(subject.labels(part), subject.proba(part), subject.classes,
                              n_boot=n_boot, random_state=random_state)


def fit_measure(task: str, y, classes=()) -> tuple[str, Callable]:
    """The task's headline measure of fit, as ``(name, f)`` with ``f(scores, w)`` its value for
    each row of bootstrap counts ``w`` (k, n): ROC AUC (binary: ``scores`` the positive class's
    probability, ``y`` 0/1), the macro one-vs-rest AUC (multiclass: ``scores`` (n, K) in
    ``classes`` order, ``y`` the labels) or R² (regression: ``scores`` the predictions)."""
    if task == "binary":
        yb = np.asarray(y)
        return "AUC", lambda scores, w: weighted_auc(yb, np.asarray(scores, dtype=float), w)
    if task == "multiclass":
        onehot = _one_hot(np.asarray(y), classes)

        def ovr(scores, w):
            per = np.vstack([weighted_auc(onehot[:, k], np.asarray(scores)[:, k], w)
                             for k in range(onehot.shape[1])])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanmean(per, axis=0)
        return "AUC (one-vs-rest)", ovr
    yr = np.asarray(y, dtype=float)

    def r2(scores, w):
        n = yr.size
        sse = w @ (yr - np.asarray(scores, dtype=float)) ** 2
        mean = w @ yr / n
        sst = w @ yr ** 2 - n * mean ** 2
        with np.errstate(all="ignore"):
            return np.where(sst > 0, 1.0 - sse / sst, np.nan)
    return "R²", r2
