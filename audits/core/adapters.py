"""One adapter for the model files that are data, not code: XGBoost, LightGBM and ONNX.

A model loaded from one of these files (:mod:`audits.core.formats`) is wrapped in
:class:`ModelAdapter`, which gives the probes the scikit-learn interface they already use:

- ``predict(X)``: the class with the highest probability (the native libraries' own rule), or the
  predicted number for a regression;
- ``predict_proba(X)`` (classifiers only; absent for a regression, so ``hasattr`` tells): an
  ``(n, K)`` array, the columns in the order of ``classes_``;
- ``classes_`` (classifiers only), ``feature_names_in_``, ``n_features_in_``;
- ``task`` (``binary``, ``multiclass``, ``regression``), ``format``, ``model_type`` (words for
  the report), ``training_params`` (what the file records about its training, possibly empty),
  ``recipe`` and ``recipe_note`` (:mod:`audits.core.recipe`);
- for tree models, the native ``booster`` (``xgboost.Booster`` or ``lightgbm.Booster``), whose
  own exact TreeSHAP (Lundberg et al. 2020, ``pred_contribs`` / ``pred_contrib``) is reached
  through :meth:`ModelAdapter.contributions`, and :meth:`ModelAdapter.native_frame`, the rows as
  the booster takes them; ``booster`` is None for ONNX, which is opaque.

``X`` is a DataFrame with the model's input columns (extra columns are ignored, order does not
matter) or an array with the columns in ``feature_names_in_`` order. Categorical inputs of tree
models are matched by value to the categories stored in the file; a value the model never saw
becomes missing, as LightGBM does natively. ``sklearn.base.clone`` of an adapter gives the
file's training recipe, unfitted (:meth:`__sklearn_clone__`), or raises TypeError saying why
there is none. The adapter pickles (ONNX sessions are rebuilt from the file's bytes), so the
parallel map can ship it to workers.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ModelAdapter", "XGBoostBackend", "LightGBMBackend", "OnnxBackend", "as_categorical"]


def as_categorical(frame: pd.DataFrame, categories: dict[str, list]) -> pd.DataFrame:
    """``frame`` with each column of ``categories`` (when present) made a pandas Categorical with
    exactly those categories, matched by value (as text when the categories are text); values
    outside them become missing."""
    out = frame.copy()
    for col, cats in categories.items():
        if col not in out.columns:
            continue
        values = out[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if cats and all(isinstance(c, str) for c in cats):
            values = values.where(values.isna(), values.astype(str))
        out[col] = pd.Categorical(values, categories=list(cats))
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _two_columns(p: np.ndarray) -> np.ndarray:
    """``[1 - p, p]``, the complement taken in ``p``'s own precision (as XGBoost's and LightGBM's
    scikit-learn wrappers do), then as float64."""
    p = np.asarray(p).reshape(-1)
    return np.column_stack([1 - p, p]).astype(float)


class XGBoostBackend:
    """Predictions of an ``xgboost.Booster``: probabilities through the booster's own link where
    it has one (``binary:logistic``, ``multi:softprob``), else the margin and the logistic or
    softmax function; regressions through ``predict_type="value"``."""

    def __init__(self, booster, *, objective: str, n_classes: int, categories: dict):
        self.booster, self.objective, self.n_classes = booster, objective, n_classes
        self.categories = categories

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = as_categorical(X, self.categories)
        for col in frame.columns:
            if col not in self.categories:
                frame[col] = pd.to_numeric(frame[col]).astype(float)
        return frame

    def values(self, frame: pd.DataFrame, task: str) -> np.ndarray:
        if task == "regression":
            return np.asarray(self.booster.inplace_predict(frame), dtype=float).reshape(-1)
        if self.objective in ("binary:logistic", "multi:softprob"):
            p = np.asarray(self.booster.inplace_predict(frame))
        else:
            margin = self.margin(frame)
            p = _sigmoid(margin) if task == "binary" else _softmax(margin)
        if task == "binary":
            return _two_columns(p)
        return np.asarray(p, dtype=float).reshape(len(frame), -1)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        m = np.asarray(self.booster.inplace_predict(frame, predict_type="margin"), dtype=float)
        return m.reshape(-1) if self.n_classes <= 2 else m.reshape(len(frame), -1)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        import xgboost

        matrix = xgboost.DMatrix(frame, enable_categorical=bool(self.categories))
        return np.asarray(self.booster.predict(matrix, pred_contribs=True), dtype=float)


class LightGBMBackend:
    """Predictions of a ``lightgbm.Booster`` (its ``predict`` applies the objective's link)."""

    def __init__(self, booster, *, objective: str, n_classes: int, categories: dict):
        self.booster, self.objective, self.n_classes = booster, objective, n_classes
        self.categories = categories

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = as_categorical(X, self.categories)
        for col in frame.columns:
            if col not in self.categories:
                frame[col] = pd.to_numeric(frame[col]).astype(float)
        return frame

    def values(self, frame: pd.DataFrame, task: str) -> np.ndarray:
        out = np.asarray(self.booster.predict(frame), dtype=float)
        if task == "regression":
            return out.reshape(-1)
        return _two_columns(out) if task == "binary" else out.reshape(len(frame), -1)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        m = np.asarray(self.booster.predict(frame, raw_score=True), dtype=float)
        return m.reshape(-1) if self.n_classes <= 2 else m.reshape(len(frame), -1)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.asarray(self.booster.predict(frame, pred_contrib=True), dtype=float)
        if self.n_classes > 2:  # (n, K * (p + 1)) -> (n, K, p + 1), as XGBoost lays it out
            out = out.reshape(len(frame), self.n_classes, -1)
        return out


class OnnxBackend:
    """An ``onnxruntime`` session over the file's bytes (one thread: the audit parallelises above
    the model, and one thread sums the trees in one order, so repeated calls agree).

    ``inputs`` is a list of ``(name, element type, columns)``: one input per column, or one tensor
    holding several columns; ``output`` the name of the probabilities (classifiers) or of the
    prediction (regressions); ``classes`` the class labels, in the probabilities' column order.
    """

    _NUMPY = {"tensor(float)": np.float32, "tensor(double)": np.float64,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}

    def __init__(self, data: bytes, *, inputs: list, output: str, classes: list | None):
        self.data, self.inputs, self.output, self.classes = data, inputs, output, classes
        self._session = None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_session"} | {"_session": None}

    @property
    def session(self):
        if self._session is None:
            self._session = open_session(self.data)
        return self._session

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        return X

    def feeds(self, frame: pd.DataFrame) -> dict:
        feeds = {}
        for name, kind, columns in self.inputs:
            block = frame[columns]
            if kind == "tensor(string)":
                arr = block.astype(object).where(block.notna(), "").astype(str).to_numpy(object)
            else:
                arr = block.apply(pd.to_numeric).to_numpy(dtype=self._NUMPY[kind])
            feeds[name] = arr.reshape(len(frame), len(columns))
        return feeds

    def values(self, frame: pd.DataFrame, task: str) -> np.ndarray:
        (out,) = self.session.run([self.output], self.feeds(frame))
        if isinstance(out, list):  # a ZipMap: one {class: probability} dict per row
            return np.array([[row[c] for c in self.classes] for row in out], dtype=float)
        out = np.asarray(out, dtype=float)
        if task == "regression":
            return out.reshape(-1)
        return out.reshape(len(frame), -1)


def open_session(data: bytes):
    """An onnxruntime session on the CPU with one thread and warnings silenced (a converted
    classifier's label output often declares a shape its values do not have)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


class _ClassifierOnly:
    """A method that a regression does not have: ``hasattr(model, "predict_proba")`` is False
    for a regression, as for scikit-learn's regressors (as ``sklearn.utils.available_if``)."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if obj.task == "regression":
            raise AttributeError(f"{obj.model_type} is a regression: it has no "
                                 f"{self.fn.__name__}.")
        return self.fn.__get__(obj, owner)


class ModelAdapter:
    """A fitted model loaded from a data-only file, with the scikit-learn interface the probes
    use (see the module docstring for what each attribute holds).

    Parameters
    ----------
    backend : XGBoostBackend, LightGBMBackend or OnnxBackend.
    task : "binary", "multiclass" or "regression".
    feature_names : the model's input columns, in its order.
    classes : the class labels (classifiers), in the order of the probabilities' columns.
    format : "xgboost-json", "xgboost-ubjson", "lightgbm-text" or "onnx".
    model_type : words for the report, e.g. "LightGBM Booster (regression, 300 trees)".
    source : the file's name, for messages.
    training_params : the training parameters the file records (empty when none).
    recipe : the training recipe rebuilt from them (:class:`audits.core.recipe.TrainingRecipe`),
        or None; recipe_note says where it comes from, or why there is none.
    """

    def __init__(self, backend, *, task: str, feature_names, classes=None, format: str,
                 model_type: str, source: str, training_params: dict | None = None,
                 recipe=None, recipe_note: str = ""):
        self.backend, self.task, self.format = backend, task, format
        self.model_type, self.source = model_type, source
        self.feature_names_in_ = np.asarray([str(f) for f in feature_names], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self._classes = None if classes is None else np.asarray(classes)
        self.training_params = dict(training_params or {})
        self.recipe, self.recipe_note = recipe, recipe_note
        self._estimator_type = "regressor" if task == "regression" else "classifier"

    def __repr__(self) -> str:
        return f"ModelAdapter({self.model_type}, from {self.source})"

    # -- what the probes use ---------------------------------------------------------------
    @property
    def classes_(self) -> np.ndarray:
        if self._classes is None:
            raise AttributeError(f"{self.model_type} is a regression: it has no classes_.")
        return self._classes

    @property
    def booster(self):
        """The native booster (exact TreeSHAP, margins), or None for an opaque ONNX graph."""
        return getattr(self.backend, "booster", None)

    @property
    def categories(self) -> dict:
        """Column -> the categories the model knows (tree models with categorical inputs)."""
        return dict(getattr(self.backend, "categories", {}) or {})

    def _frame(self, X) -> pd.DataFrame:
        names = list(self.feature_names_in_)
        if isinstance(X, pd.DataFrame):
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise ValueError(f"{self.model_type} from {self.source} needs the input "
                                 f"column(s) {missing}; the rows have {list(X.columns)}.")
            return X[names]
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise ValueError(f"{self.model_type} from {self.source} takes {len(names)} columns "
                             f"{names}; got an array of shape {arr.shape}.")
        return pd.DataFrame(arr, columns=names)

    def native_frame(self, X) -> pd.DataFrame:
        """The rows as the backend takes them (categoricals typed, numbers as floats)."""
        return self.backend.frame(self._frame(X))

    def _values(self, X) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.backend.values(self.native_frame(X), self.task)

    @_ClassifierOnly
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, ``(n, K)``, columns in ``classes_`` order (classifiers only)."""
        p = self._values(X)
        if p.shape[1] != len(self.classes_):
            raise ValueError(f"{self.model_type} from {self.source} gives {p.shape[1]} "
                             f"probabilities per row for {len(self.classes_)} classes.")
        return p

    def predict(self, X) -> np.ndarray:
        """The most probable class (ties: the first in ``classes_``), or the predicted number."""
        out = self._values(X)
        if self.task == "regression":
            return out
        return self.classes_[np.argmax(out, axis=1)]

    def margin(self, X) -> np.ndarray:
        """The raw score before the link (log-odds, per-class scores or the regression's raw
        value); tree models only."""
        if self.booster is None:
            raise AttributeError(f"{self.model_type} is opaque: it has no margin.")
        return self.backend.margin(self.native_frame(X))

    def contributions(self, X) -> np.ndarray:
        """Exact path-dependent TreeSHAP by the booster itself, on the margin's scale:
        ``(n, p + 1)`` (binary, regression) or ``(n, K, p + 1)`` (multiclass), the last column
        the expected value; each row sums to :meth:`margin`."""
        if self.booster is None:
            raise AttributeError(f"{self.model_type} is opaque: it has no native TreeSHAP.")
        return self.backend.contributions(self.native_frame(X))

    def __sklearn_clone__(self):
        """``sklearn.base.clone``: the file's training recipe, unfitted; TypeError when the file
        carries none (the reference pool then reports its attacks as not assessed)."""
        if self.recipe is None:
            raise TypeError(f"{self.model_type} from {self.source} carries no training recipe: "
                            f"{self.recipe_note}")
        return self.recipe.new()

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        regression = self.task == "regression"
        return Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=True),
                    input_tags=InputTags(allow_nan=True, string=True),
                    classifier_tags=None if regression else ClassifierTags(
                        multi_class=self.task == "multiclass"),
                    regressor_tags=RegressorTags() if regression else None)

    def describe(self) -> dict[str, Any]:
        """JSON-safe facts for the report: format, task, inputs, classes, recipe."""
        classes = None if self._classes is None else [
            c.item() if hasattr(c, "item") else c for c in self._classes]
        return {"format": self.format, "task": self.task, "model_type": self.model_type,
                "n_features": self.n_features_in_, "classes": classes,
                "native_treeshap": self.booster is not None,
                "categorical_inputs": sorted(self.categories)}
