"""Structural privacy checks of the model itself, from SACRO-ML's safe-model rules.

SACRO-ML (Smith et al. 2022, "Safe Model Release", the GRAIMatter / SACRO project's
statistical disclosure control of trained models) rejects models that store training rows
(k-nearest neighbours, support-vector machines' support vectors, Gaussian processes) and asks
tree models for ``min_samples_leaf >= 5``: a leaf with fewer training rows describes a handful of
people. These checks need no attack: they read the fitted model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["final_estimator", "stores_training_rows", "small_leaves"]
_STORED = {"_fit_X": "k-nearest neighbours keep every training row",
           "support_vectors_": "a support-vector machine keeps its support vectors, which are "
                               "training rows",
           "X_train_": "a Gaussian process keeps every training row"}


def final_estimator(model):
    """The last step of a Pipeline (recursively), else the model itself."""
    while hasattr(model, "steps") and model.steps:
        model = model.steps[-1][1]
    return model


def _inner(est):
    """Estimators wrapped by a calibrator, bagging or a meta-estimator."""
    found = [est]
    for attr in ("calibrated_classifiers_",):
        for c in getattr(est, attr, None) or []:
            found.extend(_inner(getattr(c, "estimator", c)))
    base = getattr(est, "estimator_", None)
    if base is not None and base is not est:
        found.extend(_inner(base))
    return found


def stores_training_rows(model) -> str | None:
    """Why the model stores training rows, or None."""
    for est in _inner(final_estimator(model)):
        for attr, why in _STORED.items():
            if getattr(est, attr, None) is not None:
                return f"{type(est).__name__}: {why}"
    return None


def _sklearn_trees(est) -> list:
    if hasattr(est, "tree_"):
        return [est.tree_]
    ests = getattr(est, "estimators_", None)
    if ests is None:
        return []
    return [t.tree_ for t in np.ravel(np.asarray(ests, dtype=object)) if hasattr(t, "tree_")]


def small_leaves(model, *, min_leaf: int) -> dict | None:
    """Leaf sizes of a tree model: ``None`` when the model is not a tree model, else a dict with
    the smallest leaf (training rows, bootstrap repeats included), the share of leaves below
    ``min_leaf`` and the minimum-leaf parameter."""
    est = final_estimator(model)
    params = est.get_params() if hasattr(est, "get_params") else {}
    param_name = next((p for p in ("min_samples_leaf", "min_child_samples", "min_data_in_leaf")
                       if p in params), None)
    sizes = None
    trees = _sklearn_trees(est)
    if trees:
        sizes = np.concatenate([t.n_node_samples[t.children_left == -1] for t in trees])
    elif hasattr(est, "_predictors"):  # HistGradientBoosting
        sizes = np.concatenate([p.nodes["count"][p.nodes["is_leaf"] == 1]
                                for it in est._predictors for p in it])
    elif hasattr(est, "booster_"):  # LightGBM
        frame = est.booster_.trees_to_dataframe()
        sizes = frame.loc[frame["left_child"].isna(), "count"].to_numpy()
    elif type(getattr(est, "booster", None)).__module__.startswith("lightgbm"):
        # a LightGBM text file (audits.core.adapters.ModelAdapter): the same leaves, the
        # parameter as the file records it
        frame = est.booster.trees_to_dataframe()
        sizes = frame.loc[frame["left_child"].isna(), "count"].to_numpy()
        recorded = getattr(est, "training_params", {}) or {}
        if "min_data_in_leaf" in recorded:
            param_name, params = "min_child_samples", {
                "min_child_samples": _number(recorded["min_data_in_leaf"])}
    if sizes is None:
        return None
    sizes = np.asarray(sizes, dtype=float)
    return {"estimator": type(est).__name__, "parameter": param_name,
            "parameter_value": params.get(param_name) if param_name else None,
            "n_leaves": int(sizes.size), "smallest_leaf": int(sizes.min()) if sizes.size else None,
            "share_small": float((sizes < min_leaf).mean()) if sizes.size else 0.0,
            "min_leaf": min_leaf}


def _number(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v
