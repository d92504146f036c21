"""A classifier's decisions from the probabilities already computed, where that is exactly its rule.

Scoring is the cost that grows with the rows: calling ``predict`` after ``predict_proba`` runs
the model (and its preprocessing) a second time over every row. For the estimators listed in
:data:`ARGMAX_PREDICT`, ``predict`` is by construction the class with the highest probability
(scikit-learn's tree ensembles, gradient boosting and logistic regression threshold the same raw
score the probabilities are a monotone function of; LightGBM's and XGBoost's scikit-learn
wrappers and this project's :class:`~audits.core.adapters.ModelAdapter` take the argmax of the
probabilities themselves). The only rows where the argmax of the probabilities can differ from
``predict`` are rows whose highest probability is shared (``[0.5, 0.5]``: a raw score of 0, or
so close to it that the link function rounds it to one half), where each library breaks the tie
its own way. Those rows, and rows with a non-finite probability, are decided by the model's own
``predict``, so the decisions equal ``predict`` on every row.

Any other model (a custom wrapper, a fixed or tuned decision threshold, an SVM whose Platt
probabilities may disagree with its decision function, a Dummy with a random strategy, a
subclass of a listed estimator) keeps ``predict`` on every row. The test is the exact class,
so a subclass that overrides ``predict`` cannot inherit the shortcut; a ``Pipeline`` qualifies
when its last step does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ARGMAX_PREDICT", "predict_is_argmax", "decided_classes"]

#: Estimators whose ``predict`` is the class of highest ``predict_proba`` up to ties (module
#: path and class name: nothing is imported to check).
ARGMAX_PREDICT = frozenset({
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._logistic.LogisticRegressionCV",
    "lightgbm.sklearn.LGBMClassifier",
    "xgboost.sklearn.XGBClassifier",
    "audits.core.adapters.ModelAdapter",
})
_PIPELINE = "sklearn.pipeline.Pipeline"


def _qualname(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def predict_is_argmax(model: Any) -> bool:
    """Whether ``model.predict`` is, by construction, the class of highest probability (up to
    ties): its exact class is in :data:`ARGMAX_PREDICT`, or it is a ``Pipeline`` whose last step
    is, and its objective is not a user's function (LightGBM and XGBoost then return raw
    scores)."""
    name = _qualname(model)
    if name == _PIPELINE:
        steps = getattr(model, "steps", None) or []
        return bool(steps) and predict_is_argmax(steps[-1][1])
    if name not in ARGMAX_PREDICT:
        return False
    return not callable(getattr(model, "objective", None))


def decided_classes(model: Any, X: Any, proba: np.ndarray) -> np.ndarray:
    """The class ``model.predict(X)`` gives each row, from its probabilities ``proba`` (``(n,
    K)``, columns in ``model.classes_`` order) where that is exactly the model's rule.

    For a model :func:`predict_is_argmax` accepts, the argmax of the probabilities, with the
    rows whose highest probability is shared or not finite decided by ``model.predict`` on those
    rows alone; for any other model, ``model.predict`` on every row.
    """
    if not predict_is_argmax(model):
        return np.asarray(model.predict(X))
    proba = np.asarray(proba, dtype=float)
    classes = np.asarray(model.classes_)
    top = proba.max(axis=1) if proba.size else np.zeros(0)
    unsure = (proba == top[:, None]).sum(axis=1) != 1  # a tie, or a NaN maximum (no match)
    unsure |= ~np.isfinite(proba).all(axis=1)
    out = classes[np.argmax(proba, axis=1)] if proba.size else classes[:0]
    if unsure.any():
        rows = np.flatnonzero(unsure)
        part = X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]
        out = out.copy()
        out[rows] = np.asarray(model.predict(part))
    return out
