"""The signal every membership attack reads, per task: the model's likelihood of a record's label.

The attacks (:mod:`attacks.membership`) and memorisation (:mod:`attacks.memorisation`) work on
one number per record and model, ``p``, the model's likelihood of the record's true label
(higher: the model fits the record better), and LiRA on its logit ``phi = log p - log(1 - p)``
(Carlini et al. 2022). Per task:

- binary: ``p`` is the probability of the true label (as before);
- multiclass: ``p = f(x)_y``, the probability of the true class, so that
  ``phi = log p_y - log sum_{k != y} p_k``, the logit of the true class Carlini et al. (2022,
  Sec. IV.C) use for many classes (METHODS.md);
- regression: a Gaussian likelihood of the residual ``r = y - f(x)`` with a fixed scale ``sigma``,
  relative to its maximum: ``p = exp(-r^2 / (2 sigma^2))``, so that ``log p`` is the Gaussian
  log-likelihood up to a constant that cancels in every ratio (RMIA's ``p(x | target) / p(x)``
  is then the ratio of Gaussian likelihoods; Zarifzadeh et al. 2024). ``sigma`` is fixed for the
  target and every reference model (as LiRA's clipping is): the audited model's root mean
  squared error on the holdout rows (no membership information). LiRA's ``phi = logit(p)``
  behaves like ``-2 log |r|`` for small residuals, a log-residual scale on which the IN and OUT
  distributions are close to Gaussian, as the logit makes them for probabilities; for large
  residuals like the log-likelihood ``-r^2 / (2 sigma^2)``. ``r^2 / (2 sigma^2)`` is capped at
  700 (``p`` stays above the smallest double): a residual beyond 37 sigma counts as 37 sigma.

The label-only gap attack (Yeom et al. 2018) calls a prediction correct when it is: the decided
class for a classifier; for a regression, a residual within ``sigma sqrt(2 ln 2)`` (1.18 sigma,
``p > 1/2``), the regression's analogue of "the model got it right" (stated in the report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TaskSignal", "task_signal", "audited_signals", "label_probability",
           "regression_likelihood", "MAX_HALF_SQUARED"]

#: cap of r^2 / (2 sigma^2): exp(-700) is still a positive double
MAX_HALF_SQUARED = 700.0


def label_probability(proba: np.ndarray, classes, labels) -> np.ndarray:
    """Probability of each row's own label, from ``predict_proba`` output and ``classes_``.
    Raises KeyError naming a label the classes do not hold."""
    index = {c: i for i, c in enumerate(list(classes))}
    col = np.array([index[v] for v in labels], dtype=np.intp)
    return np.asarray(proba, dtype=float)[np.arange(len(col)), col]


def regression_likelihood(residuals, sigma: float) -> np.ndarray:
    """``exp(-r^2 / (2 sigma^2))``, the exponent capped at :data:`MAX_HALF_SQUARED`."""
    z = 0.5 * (np.asarray(residuals, dtype=float) / float(sigma)) ** 2
    return np.exp(-np.minimum(z, MAX_HALF_SQUARED))


@dataclass(frozen=True)
class TaskSignal:
    """How a fitted model's outputs become the attacks' signal ``p`` (see the module docstring).

    Attributes
    ----------
    task : ``binary``, ``multiclass`` or ``regression``.
    sigma : a regression's fixed residual scale (None for a classifier).
    """

    task: str
    sigma: float | None = None

    def likelihood(self, est, X, labels) -> np.ndarray:
        """``p`` of each row of ``X`` (its labels ``labels``) under the fitted model ``est``.
        Raises KeyError when a classifier never saw one of the labels."""
        if self.task == "regression":
            pred = np.asarray(est.predict(X), dtype=float).reshape(-1)
            return regression_likelihood(np.asarray(labels, dtype=float) - pred, self.sigma)
        return label_probability(est.predict_proba(X), est.classes_, labels)

    def describe(self) -> str:
        """One sentence for the report: what the attacks' signal is for this task."""
        if self.task == "regression":
            return (f"signal: the Gaussian likelihood of the residual, exp(-r²/(2σ²)) with σ = "
                    f"{self.sigma:.4g} (the model's holdout RMSE, fixed for every model); a "
                    "prediction counts as correct within 1.18σ")
        if self.task == "multiclass":
            return ("signal: the probability of the true class (LiRA: the logit of the true "
                    "class, log p_y - log of the sum of the others)")
        return "signal: the probability of the true label"

    def to_dict(self) -> dict:
        return {"task": self.task, "sigma": self.sigma, "description": self.describe()}


def task_signal(subject) -> TaskSignal:
    """The signal of ``subject``'s task (a regression's sigma from its holdout residuals)."""
    if subject.task != "regression":
        return TaskSignal(subject.task)
    r = subject.residuals("nonmembers")
    sigma = float(np.sqrt(np.mean(r ** 2)))
    if not np.isfinite(sigma) or sigma <= 0:  # a perfect holdout fit: the target's own spread
        sigma = float(np.std(subject.labels("members"))) or 1.0
    return TaskSignal("regression", sigma)


def audited_signals(subject, part: str, rows: np.ndarray, signal: TaskSignal):
    """(y, target_p, target_correct) of some rows of one part, from the subject's memoised
    outputs (no new prediction)."""
    if subject.task == "binary":
        y = subject.y(part)[rows]
        p_pos = subject.scores(part)[rows]
        return y, np.where(y == 1, p_pos, 1.0 - p_pos), subject.decisions(part)[rows] == y
    labels = subject.labels(part)[rows]
    if subject.task == "regression":
        p = signal.likelihood(_Fixed(subject.predictions(part)[rows]), None, labels)
        return np.zeros(rows.size, dtype=np.int8), p, p > 0.5
    classes = list(subject.classes)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in labels], dtype=np.int16)
    p = label_probability(subject.proba(part)[rows], classes, labels)
    return y, p, subject.predictions(part)[rows] == labels


class _Fixed:
    """Predictions already computed, behind ``predict``."""

    def __init__(self, values):
        self.values = values

    def predict(self, X):
        return self.values
