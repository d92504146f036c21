"""What the audited model predicts: its task, inferred from the model and the target.

Three tasks: ``binary`` (a classifier with two classes), ``multiclass`` (a classifier with more
than two) and ``regression`` (a model that predicts a number). The rules, applied by
:func:`infer_task` before any probe runs:

1. The model decides. A scikit-learn regressor (``sklearn.base.is_regressor``), or a loaded file
   whose objective is a regression (XGBoost ``reg:*`` / ``count:poisson``, LightGBM
   ``regression``/``huber``/``poisson``/..., an ONNX graph with one numeric output), is a
   regression; a classifier is binary with two classes in ``classes_`` and multiclass with more.
2. The target must agree. A classifier's target holds only its classes and at least two distinct
   values in each file (the existing binary messages are kept); a regression's target holds
   numbers, with at least two distinct values in each file.
3. A declared task (``task=`` of ``load_subject``) must equal the inferred one; a mismatch is an
   :class:`InputError` naming both, never a silent override: a regressor cannot be audited as a
   classifier.

For a regression the user may declare the favourable direction (``higher`` or ``lower``
predictions benefit the customer; THRESHOLDS.md) and a decision threshold on the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core.errors import InputError

__all__ = ["TASKS", "DIRECTIONS", "model_task", "infer_task", "check_regression_target",
           "parse_direction"]

TASKS = ("binary", "multiclass", "regression")
DIRECTIONS = ("higher", "lower")


def model_task(model: Any) -> str | None:
    """The task a fitted model declares: its own ``task`` attribute (the format adapters), else
    scikit-learn's estimator type with the number of classes; None when the model does not say.
    """
    task = getattr(model, "task", None)
    if task in TASKS:
        return task
    kind = _estimator_type(model)
    if kind == "regressor":
        return "regression"
    classes = getattr(model, "classes_", None)
    if kind == "classifier" or (classes is not None and hasattr(model, "predict_proba")):
        if classes is None:
            return None
        return "binary" if len(classes) <= 2 else "multiclass"
    return None


def _estimator_type(model: Any) -> str | None:
    try:
        from sklearn.base import is_classifier, is_regressor

        if is_regressor(model):
            return "regressor"
        if is_classifier(model):
            return "classifier"
    except Exception:  # not a scikit-learn estimator: no tags
        pass
    kind = getattr(model, "_estimator_type", None)
    return kind if kind in ("classifier", "regressor") else None


def infer_task(model: Any, *, declared: str | None = None, model_name: str = "the model") -> str:
    """The audit's task: the model's (rule 1), checked against a declared one (rule 3).

    Parameters
    ----------
    model : the loaded model.
    declared : the task the user declared, or None.
    model_name : the model file's name, for messages.

    Raises InputError for an unknown or contradicted declaration, or a model whose task cannot be
    told (then the classifier checks of the loader name what is missing).
    """
    if declared is not None and declared not in TASKS:
        raise InputError(msg.TASK_UNKNOWN, value=declared, valid=list(TASKS))
    task = model_task(model)
    if task is None:
        return declared or "binary"  # the loader's classifier checks then say what is missing
    if declared is not None and declared != task:
        what = ("a regressor (it predicts numbers)" if task == "regression" else
                f"a {task} classifier with classes {_classes(model)}")
        raise InputError(msg.TASK_CONTRADICTED, declared=declared, model=model_name, what=what)
    return task


def _classes(model: Any) -> list:
    return [v.item() if hasattr(v, "item") else v for v in getattr(model, "classes_", [])]


def check_regression_target(members: pd.DataFrame, nonmembers: pd.DataFrame, target: str,
                            names: dict, *, model_name: str = "the model") -> None:
    """A regression's target: numbers, no empty values, at least two distinct values per file.
    Numeric text (as a CSV may hold) is converted in place to floats."""
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        values = frame[target]
        if values.isna().any():
            raise InputError(msg.REGRESSION_TARGET_EMPTY, target=target,
                             n=int(values.isna().sum()), file=names[part])
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            as_num = pd.to_numeric(values, errors="coerce")
            bad = sorted(set(values[as_num.isna()].astype(str)))[:3]
            if bad:
                raise InputError(msg.REGRESSION_TARGET_TEXT, target=target, file=names[part],
                                 examples=bad, model=model_name)
            values = as_num
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise InputError(msg.REGRESSION_TARGET_INFINITE, target=target, file=names[part])
        if values.nunique() < 2:
            raise InputError(msg.REGRESSION_TARGET_CONSTANT, target=target, file=names[part])
        frame[target] = values.astype(float)


def parse_direction(value: Any) -> str | None:
    """The favourable direction of a regression: ``higher`` or ``lower`` (None: not declared)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower()
    if text not in DIRECTIONS:
        raise InputError(msg.DIRECTION_UNKNOWN, value=value, valid=list(DIRECTIONS))
    return text
