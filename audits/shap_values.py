"""SHAP values of the audited model, folded back to the model's original input columns.

Shapley additive explanations (Lundberg & Lee 2017, "A Unified Approach to Interpreting Model
Predictions", NeurIPS) split one prediction into a base value plus one contribution per input,
``f(x) = phi_0 + sum_j phi_j``. Which explainer is used depends on the final estimator:

- trees and tree ensembles (scikit-learn trees, forests, gradient boosting, HistGradientBoosting,
  LightGBM, XGBoost): exact path-dependent TreeSHAP (Lundberg et al. 2020, "From local
  explanations to global understanding with explainable AI for trees", Nat. Mach. Intell.);
- linear classifiers (logistic regression): ``shap.LinearExplainer``, interventional, whose closed
  form is ``phi_j = w_j (x_j - mean_j)`` on the margin, the mean taken over the background rows;
- anything else: ``shap.PermutationExplainer`` on the positive-class probability, in the original
  feature space (categoricals label-encoded, decoded before the model sees them), with a stated
  budget of background rows and model evaluations. Permutation estimates are exactly additive.

Inside a scikit-learn Pipeline the preprocessing (``pipeline[:-1].transform``) is applied, the
final estimator is explained, and the contributions of the encoded columns are summed back to the
input column each came from (a one-hot block sums to its feature's contribution), using the
ColumnTransformer's ``transformers_`` and ``output_indices_``. A pipeline whose columns cannot be
traced back to single inputs (a PCA, say) is explained by the model-agnostic path instead.

Scale: boosting and logistic models are explained on the margin (log-odds of the positive class);
random forests and single trees on the probability of the positive class; the permutation path on
the probability. The scale is detected by checking additivity against both, and reported.

Other tasks (issue 14). A multiclass model is explained one class at a time, the class named by
``positive_label`` (the audit explains the favourable class): trees on that class's probability
(forests) or its raw score before the softmax (boosting), the permutation path on its
probability. A regression is explained on the prediction's own scale (``predict``), or on the
booster's raw score when its objective has a link (Poisson, Tweedie: a log scale), named in the
method. A model loaded from an XGBoost or LightGBM file (:class:`audits.core.adapters.ModelAdapter`)
is explained by the booster's own exact TreeSHAP (``pred_contribs`` / ``pred_contrib``, Lundberg
et al. 2020), in the original columns (its categorical inputs are native); an ONNX graph, which
is opaque, by the permutation explainer with its budget.

shap seeds and shuffles NumPy's global random state in its permutation code; every shap call here
runs inside :func:`keep_global_rng`, which restores the caller's global state afterwards.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.shap_folding import UnmappableError, column_map, fold

__all__ = ["ShapExplanation", "explain", "tree_cost", "output_index", "is_regression",
           "column_map", "fold", "keep_global_rng",
           "UnmappableError"]

#: TreeSHAP work (sum over trees of leaves x (depth + 1)^2) above which rows are split over workers
PARALLEL_UNITS = 3e9

@dataclass(frozen=True)
class ShapExplanation:
    """SHAP values of some rows, per original input column.

    Attributes
    ----------
    values : (n, p) contributions per input column (folded).
    base_value : phi_0, the expected model output on the explained scale.
    output : (n,) the model's output on the explained scale.
    features : the p input columns.
    scale : ``"margin"`` (log-odds of the positive class; a class's raw score; a regression's
        raw score), ``"probability"`` or ``"prediction"`` (a regression's own scale).
    explainer : ``"tree"``, ``"linear"`` or ``"permutation"``.
    method : one phrase for a Metric's method text (explainer, scale, budget).
    raw_values : (n, q) contributions per encoded column before folding.
    raw_map : (q,) index of the input column each encoded column comes from.
    additivity_error : max over rows of ``|base_value + sum(values) - output|``.
    """

    values: np.ndarray
    base_value: float
    output: np.ndarray
    features: tuple[str, ...]
    scale: str
    explainer: str
    method: str
    raw_values: np.ndarray
    raw_map: np.ndarray
    additivity_error: float


@contextlib.contextmanager
def keep_global_rng():
    """Restore NumPy's global random state after code (shap) that seeds or draws from it."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


# -- the explanation ---------------------------------------------------------------------------

def explain(model, X: pd.DataFrame, *, positive_label=None, background: pd.DataFrame | None = None,
            random_state: int = 0, n_background: int = 50, max_evals: int | None = None,
            force_agnostic: bool = False, n_jobs: int | None = 1) -> ShapExplanation:
    """SHAP values of ``model`` for the rows ``X``, per input column of ``X``.

    Parameters
    ----------
    model : fitted classifier or regression (a Pipeline, an estimator fitted on ``X``'s columns,
        or a format adapter).
    X : rows to explain, with the model's input columns.
    positive_label : the class whose score is explained (default: ``model.classes_[-1]``);
        ignored for a regression.
    background : rows the linear and permutation explainers integrate over (e.g. members);
        TreeSHAP needs none (path-dependent: it uses the training cover of each node).
    random_state : seed for the background sample and the permutation explainer.
    n_background : background rows kept by the permutation explainer (linear: up to 1,000).
    max_evals : model evaluations per row of the permutation explainer
        (default ``10 * (2 p + 1)``, i.e. ten antithetic permutations).
    force_agnostic : use the permutation explainer whatever the model (benchmarks, tests).
    n_jobs : workers for TreeSHAP on large forests (rows are split into chunks through
        ``parallel_map`` when the work exceeds ``PARALLEL_UNITS``); results do not depend on it.
    """
    X = X.reset_index(drop=True)
    if n_jobs != 1 and len(X) > 1 and not force_agnostic and \
            (tree_cost(model) or 0) * len(X) > PARALLEL_UNITS:
        from audits.core.parallel import parallel_map

        workers = int(n_jobs) if n_jobs and n_jobs > 0 else (os.cpu_count() or 2)
        chunks = np.array_split(np.arange(len(X)), workers)
        parts = parallel_map(_explain_chunk, [(model, X.iloc[c], positive_label)
                                              for c in chunks if c.size], n_jobs=n_jobs)
        return ShapExplanation(
            np.vstack([e.values for e in parts]), parts[0].base_value,
            np.concatenate([e.output for e in parts]), *_head(parts[0]),
            np.vstack([e.raw_values for e in parts]), parts[0].raw_map,
            max(e.additivity_error for e in parts))
    pos = output_index(model, positive_label)
    features = tuple(str(c) for c in X.columns)
    if not force_agnostic and getattr(model, "booster", None) is not None \
            and hasattr(model, "contributions"):
        return _native(model, X, pos)
    if not force_agnostic:
        prepared = _prepare(model, X)
        if prepared is not None:
            pre, est, Z, mapping = prepared
            result = _tree(est, Z, pos)
            if result is None and (_is_linear(est) or _is_linear_regressor(est)):
                bg = _sample(background if background is not None else X, 1000, random_state)
                bz = np.asarray(pre.transform(bg) if pre is not None else bg.to_numpy(dtype=float),
                                dtype=float)
                result = _linear(est, Z, bz, pos)
            if result is not None:
                kind, raw, base, output, scale, method = result
                values = fold(raw, mapping, len(features))
                err = float(np.max(np.abs(base + values.sum(axis=1) - output), initial=0.0))
                return ShapExplanation(values, base, output, features, scale, kind, method, raw,
                                       mapping, err)
    return _permutation(model, X, pos, background, random_state, n_background, max_evals)


def is_regression(model) -> bool:
    """True for a model that predicts a number (no ``predict_proba``, or a regression task)."""
    return getattr(model, "task", None) == "regression" or not hasattr(model, "predict_proba")


def output_index(model, positive_label) -> int | None:
    """The column of ``predict_proba`` that is explained (``positive_label``'s, default the last
    class), or None for a regression (``predict`` is explained)."""
    if is_regression(model):
        return None
    classes = list(model.classes_)
    return classes.index(classes[-1] if positive_label is None else positive_label)


def _native(model, X: pd.DataFrame, pos: int | None) -> ShapExplanation:
    """A format adapter's booster: its own exact TreeSHAP, on the raw score (margin)."""
    contrib = np.asarray(model.contributions(X), dtype=float)
    margin = np.asarray(model.margin(X), dtype=float)
    n_classes = 0 if pos is None else len(model.classes_)
    if contrib.ndim == 3:  # multiclass: (n, K, p + 1)
        raw, base, output = contrib[:, pos, :-1], contrib[:, pos, -1], margin[:, pos]
        scale, text = "margin", f"raw score of the class {_plain(model.classes_[pos])!r} " \
                                "before the softmax"
    elif pos is None:
        raw, base, output = contrib[:, :-1], contrib[:, -1], margin.reshape(-1)
        scale = "prediction" if np.allclose(output, model.predict(X), rtol=1e-5,
                                            atol=1e-6) else "margin"
        text = "the prediction" if scale == "prediction" else \
            "the booster's raw score (before the objective's link)"
    else:  # binary: the margin is the log-odds of classes_[1]
        sign = 1.0 if pos == 1 or n_classes < 2 else -1.0
        raw, base, output = sign * contrib[:, :-1], sign * contrib[:, -1], \
            sign * margin.reshape(-1)
        scale, text = "margin", "log-odds margin of the positive class"
    features = tuple(str(c) for c in X.columns)
    order = [list(model.feature_names_in_).index(f) for f in features]
    raw = raw[:, order]
    err = float(np.max(np.abs(base + raw.sum(axis=1) - output), initial=0.0))
    method = (f"exact TreeSHAP, path-dependent (Lundberg et al. 2020), by the native booster of "
              f"{model.model_type}; scale: {text}")
    return ShapExplanation(raw, float(np.mean(base)), output, features, scale, "tree", method,
                           raw, np.arange(len(features)), err)


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def tree_cost(model) -> float | None:
    """TreeSHAP work per explained row, sum over trees of leaves x (depth + 1)^2 (the
    O(T L D^2) of Lundberg et al. 2020), or None when the model is not explained by TreeSHAP."""
    import shap

    est = model[-1] if _is_pipeline(model) else model
    est = getattr(est, "booster", None) or est  # a format adapter: its native booster
    try:
        with keep_global_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trees = shap.TreeExplainer(est, feature_perturbation="tree_path_dependent").model
    except Exception:
        return None
    total = 0.0
    for t in getattr(trees, "trees", None) or []:
        leaves = int(np.sum(np.asarray(t.children_left) < 0))
        total += leaves * (int(getattr(t, "max_depth", 10)) + 1) ** 2
    return total


def _explain_chunk(item) -> ShapExplanation:
    model, X, positive_label = item
    return explain(model, X, positive_label=positive_label, n_jobs=1)


def _head(e: ShapExplanation) -> tuple:
    return e.features, e.scale, e.explainer, e.method


def _prepare(model, X: pd.DataFrame):
    """(preprocessing, final estimator, encoded rows, column map), or None when unmappable."""
    pre, est = (model[:-1], model[-1]) if _is_pipeline(model) else (None, model)
    try:
        if pre is None and not all(pd.api.types.is_numeric_dtype(X[c]) for c in X.columns):
            return None  # text inputs and no preprocessing step to encode them
        mapping = column_map(pre, X.columns) if pre is not None else np.arange(X.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Z = pre.transform(X) if pre is not None else X.to_numpy(dtype=float)
        if hasattr(Z, "toarray"):
            Z = Z.toarray()
        Z = np.asarray(Z, dtype=float)
    except (UnmappableError, ValueError, TypeError):
        return None
    return (pre, est, Z, mapping) if mapping.size == Z.shape[1] else None


def _is_pipeline(model) -> bool:
    return type(model).__name__ == "Pipeline" and len(model.steps) > 1


def _is_linear(est) -> bool:
    from sklearn.linear_model._base import LinearClassifierMixin

    coef = getattr(est, "coef_", None)
    return isinstance(est, LinearClassifierMixin) and coef is not None and \
        np.shape(coef)[0] == 1 and hasattr(est, "decision_function")


def _is_linear_regressor(est) -> bool:
    from sklearn.linear_model._base import LinearModel

    coef = getattr(est, "coef_", None)
    return isinstance(est, LinearModel) and coef is not None and np.ndim(coef) == 1 and \
        not hasattr(est, "predict_proba")


def _sample(frame: pd.DataFrame, n: int, random_state: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    idx = np.sort(np.random.default_rng(random_state).choice(len(frame), n, replace=False))
    return frame.iloc[idx].reset_index(drop=True)


def _margin(est, Z: np.ndarray, pos: int | None = 1) -> np.ndarray:
    """The margin of a classifier (log-odds of classes_[1] for a binary one; the raw score of
    class ``pos`` for a multiclass one), or a regression's raw score (its prediction before the
    objective's link)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name = type(est).__module__
        if name.startswith("lightgbm"):
            out = np.asarray(est.predict(Z, raw_score=True), dtype=float)
        elif name.startswith("xgboost"):
            out = np.asarray(est.predict(Z, output_margin=True), dtype=float)
        elif hasattr(est, "decision_function"):
            out = np.asarray(est.decision_function(Z), dtype=float)
        elif pos is None:
            out = np.asarray(est.predict(Z), dtype=float)
        else:
            p = np.clip(est.predict_proba(Z)[:, 1 if pos is None else pos], 1e-15, 1 - 1e-15)
            return np.log(p) - np.log1p(-p)
    if out.ndim == 2 and out.shape[1] > 1:
        return out[:, pos]
    return out.ravel()


def _tree(est, Z: np.ndarray, pos: int):
    import shap

    try:
        with keep_global_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.TreeExplainer(est, feature_perturbation="tree_path_dependent")
            sv = explainer.shap_values(Z, check_additivity=False)
    except Exception:  # not a tree model shap knows
        return None
    ev = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)).ravel()
    sv = np.stack(sv, axis=-1) if isinstance(sv, list) else np.asarray(sv, dtype=float)
    if pos is None:  # a regression: the prediction, or the raw score before a link
        raw, base = sv, float(ev[0])
        total = base + raw.sum(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = np.asarray(est.predict(Z), dtype=float).ravel()
        if np.max(np.abs(total - pred), initial=0.0) <= \
                1e-6 * max(1.0, float(np.max(np.abs(pred), initial=0.0))):
            output, scale, text = pred, "prediction", "the prediction"
        else:
            output, scale, text = _margin(est, Z, None), "margin", \
                "the raw score before the objective's link"
        return "tree", raw, base, output, scale, (
            f"exact TreeSHAP, path-dependent (Lundberg et al. 2020), on {type(est).__name__}; "
            f"scale: {text}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = np.asarray(est.predict_proba(Z), dtype=float)[:, pos]
    multiclass = len(getattr(est, "classes_", ())) > 2
    if sv.ndim == 3:  # one set per class: forests explain probabilities, boosting raw scores
        raw, base = sv[:, :, pos], float(ev[pos] if ev.size > pos else ev[0])
    else:  # one set: the margin of classes_[1]
        sign = 1.0 if pos == 1 else -1.0
        raw, base = sign * sv, sign * float(ev[0])
    total = base + raw.sum(axis=1)
    margin = _margin(est, Z, pos) * (1.0 if pos == 1 or multiclass else -1.0)
    prob_fits = np.max(np.abs(total - proba)) <= np.max(np.abs(total - margin))
    scale, output = ("probability", proba) if prob_fits else ("margin", margin)
    of = "of the explained class" if multiclass else "of the positive class"
    text = f"probability {of}" if prob_fits else \
        (f"raw score {of} before the softmax" if multiclass else f"log-odds margin {of}")
    return "tree", raw, base, output, scale, (
        f"exact TreeSHAP, path-dependent (Lundberg et al. 2020), on {type(est).__name__}; "
        f"scale: {text}")


def _linear(est, Z: np.ndarray, background: np.ndarray, pos: int):
    import shap

    with keep_global_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = shap.maskers.Independent(background, max_samples=len(background))
        explainer = shap.LinearExplainer(est, masker)
        raw = np.asarray(explainer.shap_values(Z), dtype=float)
    base = float(np.atleast_1d(explainer.expected_value).ravel()[0])
    if pos is None:  # a linear regression: exact on the prediction
        return ("linear", raw, base, np.asarray(est.predict(Z), dtype=float).ravel(),
                "prediction", f"shap.LinearExplainer, interventional: phi_j = w_j (x_j - mean_j) "
                f"over {len(background)} background member rows, on {type(est).__name__}; "
                "scale: the prediction")
    sign = 1.0 if pos == 1 else -1.0
    method = (f"shap.LinearExplainer, interventional: phi_j = w_j (x_j - mean_j) over "
              f"{len(background)} background member rows, on {type(est).__name__}; "
              f"scale: log-odds margin of the positive class")
    return ("linear", sign * raw, sign * base, sign * _margin(est, Z), "margin", method)


def _permutation(model, X, pos, background, random_state, n_background, max_evals):
    import shap
    from threadpoolctl import threadpool_limits

    from audits.lime_local import Codec

    bg = _sample(background if background is not None else X, n_background, random_state)
    codec = Codec(bg, X)
    p = X.shape[1]
    budget = int(max_evals or 10 * (2 * p + 1))

    def f(matrix):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if pos is None:  # a regression: the prediction itself
                return np.asarray(model.predict(codec.decode(matrix)), dtype=float).ravel()
            return np.asarray(model.predict_proba(codec.decode(matrix)), dtype=float)[:, pos]

    # many small predict calls: one thread each is faster than OpenMP start-up on every call
    with keep_global_rng(), warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        masker = shap.maskers.Independent(codec.encode(bg), max_samples=len(bg))
        explainer = shap.PermutationExplainer(f, masker, seed=int(random_state) % 2**32)
        out = explainer(codec.encode(X), max_evals=budget, silent=True)
        output = f(codec.encode(X))
    values = np.asarray(out.values, dtype=float)
    base = float(np.mean(out.base_values))
    err = float(np.max(np.abs(np.asarray(out.base_values) + values.sum(axis=1) - output),
                       initial=0.0))
    on, scale, text = ("predict", "prediction", "the prediction") if pos is None else \
        ("predict_proba", "probability", "probability of the explained class")
    what = f" of {model.model_type}" if isinstance(getattr(model, "model_type", None), str) \
        else ""
    method = (f"model-agnostic shap.PermutationExplainer on {on}{what}, {budget} model "
              f"evaluations per row, {len(bg)} background member rows, categoricals "
              f"label-encoded; scale: {text}")
    return ShapExplanation(values, base, output, tuple(str(c) for c in X.columns), scale,
                           "permutation", method, values, np.arange(p), err)
