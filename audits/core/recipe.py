"""How to train a fresh copy of the audited model: its training recipe.

The reference-model pool (Shokri et al. 2017; Carlini et al. 2022: reference models must be
trained like the target), data minimisation and the what-if all refit the model. A
:class:`TrainingRecipe` is an unfitted estimator with the scikit-learn API, plus where it came
from, so that the report can say how faithful the refits are. Where it comes from, in order:

1. the user's recipe (``--recipe``): a skops file holding an unfitted estimator or pipeline
   (:func:`load_recipe`; untrusted types are refused unless trusted by name, as for models; a
   fitted one is cloned, so only its parameters count), or one of :data:`NAMED_RECIPES`, generic
   defaults that are *not* the model's own recipe (the report says so);
2. the model file itself (:func:`recipe_from_model`): a scikit-learn model is cloned
   (``sklearn.base.clone``); a LightGBM text file records its training parameters, rebuilt into
   ``LGBMClassifier``/``LGBMRegressor`` with the number of trees the file holds; an XGBoost file
   records parameters only where the ``scikit_learn`` attribute holds them (the scikit-learn
   wrapper of XGBoost before 2.0 wrote them there; a user may write
   ``booster.set_attr(scikit_learn=json.dumps(params))``). XGBoost 2.0 and later write only the
   estimator type, and a bare booster nothing: no recipe;
3. an ONNX graph records none: no recipe.

Without a recipe the probes that refit say not_assessed with :attr:`TrainingRecipe`'s reason.
Boosters in recipes train on one thread (``n_jobs=1``): the audit parallelises above the model
(the reference pool trains its models in parallel), and LightGBM's own threads ignore
``threadpoolctl``'s limit.
Tree boosters take categorical inputs as pandas categories: :class:`CategoricalBooster` wraps
the LightGBM or XGBoost estimator so that the recipe fits on the audit's rows as read from CSV.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from audits.core import messages as msg
from audits.core.errors import InputError

__all__ = ["TrainingRecipe", "CategoricalBooster", "NAMED_RECIPES", "recipe_from_model",
           "load_recipe", "lightgbm_recipe", "xgboost_recipe", "reseed"]

#: Recipes a user may name instead of a file: generic defaults, not the audited model's recipe.
NAMED_RECIPES = ("hist_gradient_boosting", "random_forest", "linear", "lightgbm", "xgboost")

_SEED_PARAMS = ("random_state", "seed", "random_seed")
_THREAD_PARAMS = ("n_jobs", "num_threads", "thread_count", "nthread")


@dataclass(frozen=True)
class TrainingRecipe:
    """An unfitted estimator that trains like the audited model, and where it comes from.

    Attributes
    ----------
    estimator : unfitted, scikit-learn API (``fit``, ``predict``, ``predict_proba`` for
        classifiers); never fitted in place: :meth:`new` and :meth:`fit` clone it.
    origin : ``"model"`` (cloned from the audited scikit-learn model), ``"file"`` (rebuilt from
        the parameters the model file records), ``"user"`` (the user's skops file) or
        ``"named"`` (a generic default named by the user).
    description : one sentence for the report.
    """

    estimator: Any
    origin: str
    description: str

    def new(self, *, random_state: int | None = None, single_thread: bool = False):
        """A fresh unfitted copy, re-seeded when ``random_state`` is given (every parameter
        named random_state/seed), with thread counts set to one when ``single_thread``."""
        from sklearn.base import clone

        est = clone(self.estimator)
        return reseed(est, random_state, single_thread=single_thread)

    def fit(self, X: pd.DataFrame, y, *, random_state: int):
        """A fresh copy fitted on ``X, y`` (re-seeded, single-threaded)."""
        from threadpoolctl import threadpool_limits

        est = self.new(random_state=random_state, single_thread=True)
        with threadpool_limits(1):
            return est.fit(X, y)

    def to_dict(self) -> dict:
        return {"origin": self.origin, "description": self.description,
                "estimator": _short(self.estimator)}


def _short(est) -> str:
    steps = getattr(est, "steps", None)
    if steps:
        return "Pipeline(" + ", ".join(_short(s) for _, s in steps) + ")"
    inner = getattr(est, "estimator", None)
    if isinstance(est, CategoricalBooster) and inner is not None:
        return f"CategoricalBooster({type(inner).__name__})"
    return type(est).__name__


def reseed(estimator, random_state: int | None, *, single_thread: bool = False):
    """Set every parameter named random_state/seed to ``random_state`` (when given) and, when
    ``single_thread``, every thread count other than None/1 to 1; returns the estimator."""
    params = estimator.get_params(deep=True)
    new = {}
    for name, value in params.items():
        last = name.rsplit("__", 1)[-1]
        if last in _SEED_PARAMS and random_state is not None:
            new[name] = int(random_state) % (2**31 - 1)
        elif last in _THREAD_PARAMS and single_thread and value not in (None, 1):
            new[name] = 1
    return estimator.set_params(**new) if new else estimator


# -- a booster that takes the audit's rows -----------------------------------------------------

def _text_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])
            or isinstance(X[c].dtype, pd.CategoricalDtype)]


class CategoricalBooster(BaseEstimator):
    """A LightGBM or XGBoost scikit-learn estimator that takes text columns: each becomes a
    pandas Categorical, with the categories given (as the model file records them) or learnt at
    ``fit`` (sorted distinct values); class labels are encoded to 0..K-1 (XGBoost needs them so).

    Parameters
    ----------
    estimator : an unfitted ``LGBM*`` or ``XGB*`` estimator.
    categories : column -> categories, or None to learn them from the rows at ``fit``.
    """

    def __init__(self, estimator=None, categories: dict | None = None):
        self.estimator = estimator
        self.categories = categories

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        from audits.core.adapters import as_categorical

        return as_categorical(X, self.categories_)

    def fit(self, X: pd.DataFrame, y, **fit_params):
        from sklearn.base import clone, is_classifier

        X = pd.DataFrame(X)
        if self.categories is not None:
            self.categories_ = {c: list(v) for c, v in self.categories.items() if c in X.columns}
        else:
            self.categories_ = {c: sorted(pd.unique(X[c].dropna().astype(str)))
                                for c in _text_columns(X)}
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.estimator_ = clone(self.estimator)
        y = np.asarray(y)
        if is_classifier(self.estimator_):
            self.classes_, codes = np.unique(y, return_inverse=True)
            y = codes
        if type(self.estimator_).__module__.startswith("xgboost") and self.categories_:
            self.estimator_.set_params(enable_categorical=True)
        # LightGBM takes pandas categories as categorical features by itself
        self.estimator_.fit(self._encode(X), y, **fit_params)
        return self

    def predict(self, X):
        out = self.estimator_.predict(self._encode(pd.DataFrame(X)))
        if hasattr(self, "classes_"):
            return self.classes_[np.asarray(out, dtype=int)]
        return np.asarray(out, dtype=float)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        return np.asarray(self.estimator_.predict_proba(self._encode(pd.DataFrame(X))),
                          dtype=float)

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = get_tags(self.estimator)
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


# -- recipes rebuilt from model files ----------------------------------------------------------

#: LightGBM's parameter names (as a text model file records them) -> the scikit-learn wrapper's.
_LGBM_NAMES = {
    "boosting": "boosting_type", "num_leaves": "num_leaves", "max_depth": "max_depth",
    "learning_rate": "learning_rate", "min_data_in_leaf": "min_child_samples",
    "min_sum_hessian_in_leaf": "min_child_weight", "bagging_fraction": "subsample",
    "bagging_freq": "subsample_freq", "feature_fraction": "colsample_bytree",
    "lambda_l1": "reg_alpha", "lambda_l2": "reg_lambda", "min_gain_to_split": "min_split_gain",
}
#: further LightGBM parameters that shape the trees, passed through under their own names
_LGBM_KEEP = ("max_bin", "min_data_in_bin", "cat_smooth", "cat_l2", "max_cat_threshold",
              "max_cat_to_onehot", "min_data_per_group", "extra_trees", "path_smooth",
              "linear_tree", "linear_lambda", "feature_fraction_bynode", "max_delta_step",
              "is_unbalance", "scale_pos_weight", "sigmoid", "alpha", "fair_c",
              "tweedie_variance_power", "poisson_max_delta_step", "boost_from_average",
              "top_rate", "other_rate", "drop_rate", "max_drop", "skip_drop", "uniform_drop",
              "xgboost_dart_mode", "data_sample_strategy", "monotone_constraints",
              "monotone_constraints_method", "interaction_constraints", "objective")


def lightgbm_recipe(params: dict, *, task: str, n_iterations: int,
                    categories: dict) -> TrainingRecipe:
    """The recipe of a LightGBM text model file from the parameters it records. ``n_iterations``
    is the number of boosting rounds the file holds (so early stopping, which needs a validation
    set the audit does not have, is replaced by the rounds it kept)."""
    import lightgbm

    kwargs = {new: params[old] for old, new in _LGBM_NAMES.items() if old in params}
    kwargs |= {k: params[k] for k in _LGBM_KEEP if k in params and params[k] not in ("", None)}
    if kwargs.get("monotone_constraints") in ([], ""):
        kwargs.pop("monotone_constraints")
    kwargs |= {"n_estimators": int(n_iterations), "verbose": -1, "deterministic": True,
               "force_row_wise": True, "n_jobs": 1}
    cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    est = CategoricalBooster(cls(**kwargs), categories=categories or None)
    return TrainingRecipe(est, "file", f"rebuilt from the training parameters the LightGBM text "
                          f"file records ({cls.__name__}, {int(n_iterations)} boosting rounds, "
                          "the rounds the file holds)")


def xgboost_recipe(booster, *, task: str, categories: dict) -> tuple[TrainingRecipe | None, str]:
    """The recipe of an XGBoost file, when its ``scikit_learn`` attribute holds the training
    parameters; else None and the reason."""
    import xgboost

    meta = json.loads(booster.attr("scikit_learn") or "{}")
    cls = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
    known = set(cls().get_params())
    params = {k: v for k, v in meta.items() if k in known and v is not None
              and k not in ("callbacks", "early_stopping_rounds", "eval_metric")}
    if not params:
        return None, ("the XGBoost file records no training parameters (XGBoost 2.0 and later "
                      "write only the estimator type, a bare booster nothing); name a training "
                      "recipe for the audit")
    params["n_estimators"] = int(booster.num_boosted_rounds())
    params["n_jobs"] = 1
    est = CategoricalBooster(cls(**params), categories=categories or None)
    return TrainingRecipe(est, "file", f"rebuilt from the training parameters in the XGBoost "
                          f"file's scikit_learn attribute ({cls.__name__}, "
                          f"{params['n_estimators']} boosting rounds)"), ""


def recipe_from_model(model: Any) -> tuple[TrainingRecipe | None, str]:
    """The recipe the model itself gives (a format adapter's, or a clone of a scikit-learn
    model), and a note: where it comes from, or why there is none."""
    if hasattr(model, "recipe") and hasattr(model, "recipe_note"):  # a format adapter
        recipe = model.recipe
        return recipe, (recipe.description if recipe is not None else model.recipe_note)
    from sklearn.base import clone

    try:
        est = clone(model)
    except Exception as e:
        return None, (f"the model ({type(model).__name__}) cannot be cloned with "
                      f"sklearn.base.clone ({type(e).__name__}: {e}); name a training recipe "
                      "for the audit")
    return (TrainingRecipe(est, "model", "the audited scikit-learn model's own estimator and "
                           "hyper-parameters (sklearn.base.clone)"),
            "the audited model's own estimator and hyper-parameters")


# -- recipes the user names ----------------------------------------------------------------------

def _named(name: str, task: str):
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    regression = task == "regression"
    if name in ("lightgbm", "xgboost"):
        if name == "lightgbm":
            import lightgbm

            cls = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
            return CategoricalBooster(cls(verbose=-1, deterministic=True, force_row_wise=True,
                                          n_jobs=1))
        import xgboost

        return CategoricalBooster(xgboost.XGBRegressor(n_jobs=1) if regression else
                                  xgboost.XGBClassifier(n_jobs=1))
    text = make_column_selector(dtype_include=[object, "string", "category"])
    numbers = make_column_selector(dtype_exclude=[object, "string", "category"])
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if name == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        est = HistGradientBoostingRegressor() if regression else HistGradientBoostingClassifier()
        pre = [("categorical", encode, text), ("numeric", "passthrough", numbers)]
    elif name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        est = RandomForestRegressor() if regression else RandomForestClassifier()
        pre = [("categorical", encode, text), ("numeric", "passthrough", numbers)]
    else:  # linear
        from sklearn.linear_model import LogisticRegression, Ridge

        est = Ridge() if regression else LogisticRegression(max_iter=1000)
        pre = [("categorical", encode, text), ("numeric", StandardScaler(), numbers)]
    return Pipeline([("preprocess", ColumnTransformer(pre)), ("model", est)])


def load_recipe(spec: str | Path, *, task: str, trusted: Sequence[str] = ()) -> TrainingRecipe:
    """The recipe the user names: one of :data:`NAMED_RECIPES`, or a skops file holding an
    unfitted scikit-learn estimator or pipeline for ``task``.

    Raises InputError for an unknown name, a missing or unreadable file, untrusted types, an
    object that is not an estimator, or an estimator of the wrong kind for the task.
    """
    text = str(spec)
    if text in NAMED_RECIPES:
        return TrainingRecipe(_named(text, task), "named",
                              f"the named default recipe {text!r} (library defaults, not the "
                              "audited model's own hyper-parameters: refits approximate it)")
    path = Path(text)
    if not path.is_file():
        raise InputError(msg.RECIPE_UNKNOWN, value=text, valid=list(NAMED_RECIPES))
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:
        raise InputError(msg.RECIPE_NOT_SKOPS, path=path,
                         error=f"{type(e).__name__}: {e}") from e
    missing = sorted(set(untrusted) - set(trusted))
    if missing:
        raise InputError(msg.RECIPE_UNTRUSTED_TYPES, path=path, types=missing)
    try:
        est = sio.load(path, trusted=list(untrusted))
    except Exception as e:
        raise InputError(msg.RECIPE_UNLOADABLE, path=path,
                         error=f"{type(e).__name__}: {e}") from e
    _check_recipe(est, path, task)
    return TrainingRecipe(est, "user", f"the recipe file {path.name} ({_short(est)})")


def _check_recipe(est: Any, path: Path, task: str) -> None:
    from sklearn.base import clone, is_classifier, is_regressor

    if not hasattr(est, "fit") or not hasattr(est, "get_params"):
        raise InputError(msg.RECIPE_NOT_ESTIMATOR, path=path, kind=type(est).__name__)
    try:
        clone(est)
        regression, classifier = is_regressor(est), is_classifier(est)
    except Exception as e:
        raise InputError(msg.RECIPE_NOT_CLONABLE, path=path, kind=type(est).__name__,
                         error=f"{type(e).__name__}: {e}") from e
    if task == "regression" and classifier or task != "regression" and regression:
        kind = "a classifier" if classifier else "a regressor"
        raise InputError(msg.RECIPE_WRONG_TASK, path=path, what=kind, kind=type(est).__name__,
                         task=task)
