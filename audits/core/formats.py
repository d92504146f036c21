"""Model files that are data, not code: which format a file is, and loading it safely.

Formats (DESIGN.md, "Model formats that are data, not code"):

- skops (``.skops``): ``skops.io.load`` with listed, trusted types; runs no code;
- XGBoost JSON / UBJSON (``.json`` / ``.ubj``): ``xgboost.Booster.load_model``; trees and
  parameters, runs no code;
- LightGBM text (``.txt``, ``.lgb``, ``.lightgbm``): ``lightgbm.Booster(model_str=...)``; trees
  and parameters, runs no code;
- ONNX (``.onnx``): ``onnxruntime.InferenceSession`` from the file's bytes; standard operators
  only, runs no code;
- pickle (``.pkl``, ``.pickle``, ``.joblib``): runs code, so only after an explicit trust
  decision (``audits.core.loading``).

A file with another suffix is recognised by its first bytes (``tree`` a LightGBM text model,
``{"`` an XGBoost JSON model; anything else goes to skops, whose loader names what is wrong).
ONNX graphs that need custom operators (native libraries, which would run code) or weights in
external files (paths that could point anywhere) are refused. XGBoost, LightGBM and ONNX models
are wrapped in :class:`audits.core.adapters.ModelAdapter`; the task (:mod:`audits.core.task`)
comes from the file: XGBoost's objective and number of classes, LightGBM's objective line, an
ONNX graph's outputs (a probabilities output and class labels make a classifier, one numeric
output a regression). Every problem is an :class:`InputError` naming the file and the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from audits.core import messages as msg
from audits.core.adapters import LightGBMBackend, ModelAdapter, OnnxBackend, XGBoostBackend
from audits.core.errors import InputError

__all__ = ["SUFFIXES", "NATIVE_FORMATS", "model_format", "load_native"]

SUFFIXES = {".skops": "skops", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "pickle",
            ".json": "xgboost-json", ".ubj": "xgboost-ubjson", ".txt": "lightgbm-text",
            ".lgb": "lightgbm-text", ".lightgbm": "lightgbm-text", ".onnx": "onnx"}
NATIVE_FORMATS = ("xgboost-json", "xgboost-ubjson", "lightgbm-text", "onnx")


def _error(e: Exception, limit: int | None = None) -> str:
    """A library's exception as the message quotes it: its type and its first line."""
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text[:limit] if limit else text}"

_XGB_BINARY = ("binary:logistic", "binary:logitraw")
_XGB_MULTI = ("multi:softprob", "multi:softmax")
_XGB_REGRESSION = ("reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror",
                   "reg:absoluteerror", "reg:quantileerror", "reg:logistic", "reg:linear",
                   "reg:gamma", "reg:tweedie", "count:poisson")
_LGB_REGRESSION = ("regression", "regression_l1", "huber", "fair", "poisson", "quantile", "mape",
                   "gamma", "tweedie", "cross_entropy", "cross_entropy_lambda")
_ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")
_ONNX_CLASSIFIERS = ("ZipMap", "TreeEnsembleClassifier", "LinearClassifier", "SVMClassifier")


def model_format(path: str | Path) -> str:
    """The format of a model file, by its suffix, else by its first bytes (default skops, whose
    loader then says what is wrong, a pickle included)."""
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is not None:
        return fmt
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
        return "lightgbm-text"
    if head.startswith(b"{\""):
        return "xgboost-json"
    return "skops"


def load_native(path: str | Path, fmt: str | None = None) -> ModelAdapter:
    """Load an XGBoost, LightGBM or ONNX model file into a :class:`ModelAdapter`."""
    path = Path(path)
    fmt = fmt or model_format(path)
    if fmt in ("xgboost-json", "xgboost-ubjson"):
        return _load_xgboost(path, fmt)
    if fmt == "lightgbm-text":
        return _load_lightgbm(path)
    if fmt == "onnx":
        return _load_onnx(path)
    raise InputError(msg.NATIVE_UNKNOWN_FORMAT, path=path)


def _unnamed(names, path: Path, how: str) -> InputError:
    return InputError(msg.NATIVE_UNNAMED_INPUTS, name=path.name, names=names[:3], how=how)


# -- XGBoost -------------------------------------------------------------------------------------
def _load_xgboost(path: Path, fmt: str) -> ModelAdapter:
    import xgboost

    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(path.read_bytes()))
        config = json.loads(booster.save_config())
    except Exception as e:
        raise InputError(msg.XGBOOST_UNREADABLE, path=path, error=_error(e, 200)) from e
    learner = config["learner"]
    objective = learner["objective"]["name"]
    params = learner["learner_model_param"]
    n_classes, n_targets = int(params.get("num_class", 0)), int(params.get("num_target", 1))
    if objective in _XGB_BINARY:
        task, classes = "binary", [0, 1]
    elif objective in _XGB_MULTI:
        task, classes = "multiclass", list(range(n_classes))
    elif objective in _XGB_REGRESSION and n_targets == 1:
        task, classes = "regression", None
    else:
        raise InputError(msg.XGBOOST_OBJECTIVE, name=path.name, objective=objective,
                         targets=f" with {n_targets} targets" if n_targets > 1 else "")
    names = booster.feature_names
    if not names:
        raise _unnamed(["f0", "f1", "f2"], path, "Train it on a pandas DataFrame (or set "
                       "booster.feature_names) and save it again,")
    categories = _xgboost_categories(booster, path)
    from audits.core.recipe import xgboost_recipe

    recipe, note = xgboost_recipe(booster, task=task, categories=categories)
    meta = json.loads(booster.attr("scikit_learn") or "{}")
    rounds = booster.num_boosted_rounds()
    backend = XGBoostBackend(booster, objective=objective, n_classes=max(n_classes, 2),
                             categories=categories)
    return ModelAdapter(
        backend, task=task, feature_names=names, classes=classes, format=fmt,
        model_type=f"XGBoost Booster ({objective}, {rounds} boosting rounds)", source=path.name,
        training_params={k: v for k, v in meta.items() if k != "_estimator_type"},
        recipe=recipe, recipe_note=note or (recipe.description if recipe else ""))


def _xgboost_categories(booster, path: Path) -> dict:
    types = booster.feature_types or []
    if "c" not in types:
        return {}
    try:
        stored = dict(booster.get_categories(export_to_arrow=True).to_arrow())
    except Exception:  # XGBoost files before 3.1 keep no category names
        stored = {}
    out = {}
    for name, kind in zip(booster.feature_names, types):
        if kind != "c":
            continue
        values = stored.get(name)
        if values is None:
            raise InputError(msg.XGBOOST_CATEGORIES, name=path.name, column=name)
        out[name] = list(values.to_pylist())
    return out


# -- LightGBM ------------------------------------------------------------------------------------
def _load_lightgbm(path: Path) -> ModelAdapter:
    import lightgbm

    try:
        text = path.read_text(encoding="utf-8")
        booster = lightgbm.Booster(model_str=text)
    except Exception as e:
        raise InputError(msg.LIGHTGBM_UNREADABLE, path=path, error=_error(e, 200)) from e
    header = dict(line.split("=", 1) for line in text.split("\n\n", 1)[0].splitlines()
                  if "=" in line)
    objective = header.get("objective", "").split(" ")[0]
    n_classes = int(header.get("num_class", "1"))
    if objective == "binary":
        task, classes = "binary", [0, 1]
    elif objective in ("multiclass", "multiclassova"):
        task, classes = "multiclass", list(range(n_classes))
    elif objective in _LGB_REGRESSION:
        task, classes = "regression", None
    else:
        raise InputError(msg.LIGHTGBM_OBJECTIVE, name=path.name, objective=objective or "custom")
    names = booster.feature_name()
    if all(re.fullmatch(r"Column_\d+", n) for n in names):
        raise _unnamed(names, path, "Train it on a pandas DataFrame and save it again,")
    params = dict(booster.params)
    categories = _lightgbm_categories(booster, params, header, names)
    from audits.core.recipe import lightgbm_recipe

    rounds = booster.current_iteration()
    recipe = lightgbm_recipe(params, task=task, n_iterations=rounds, categories=categories) \
        if params else None
    note = recipe.description if recipe else "the LightGBM file records no training parameters"
    backend = LightGBMBackend(booster, objective=objective, n_classes=max(n_classes, 2),
                              categories=categories)
    return ModelAdapter(
        backend, task=task, feature_names=names, classes=classes, format="lightgbm-text",
        model_type=f"LightGBM Booster ({objective}, {rounds} boosting rounds)",
        source=path.name, training_params=params, recipe=recipe, recipe_note=note)


def _lightgbm_categories(booster, params: dict, header: dict, names: list) -> dict:
    cats = booster.pandas_categorical
    if not cats:
        return {}  # categorical inputs, if any, were integer codes: numbers to the model
    index = params.get("categorical_feature")
    if isinstance(index, (int, str)):
        index = [index]
    if not index:  # older files: categorical features list their values without brackets
        infos = header.get("feature_infos", "").split(" ")
        index = [i for i, info in enumerate(infos) if info and not info.startswith("[")
                 and info != "none"]
    columns = [names[int(i)] if str(i).isdigit() else str(i) for i in index]
    return dict(zip(sorted(columns, key=names.index), [list(c) for c in cats]))


# -- ONNX ----------------------------------------------------------------------------------------
def _load_onnx(path: Path) -> ModelAdapter:
    import onnx

    data = path.read_bytes()
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:
        raise InputError(msg.ONNX_UNREADABLE, path=path, error=_error(e)) from e
    _check_onnx_safe(proto, path)
    from audits.core.adapters import open_session

    try:
        session = open_session(data)
    except Exception as e:
        raise InputError(msg.ONNX_CANNOT_RUN, name=path.name, error=_error(e, 300)) from e
    meta = {p.key: p.value for p in proto.metadata_props}
    inputs = _onnx_inputs(session, meta, path)
    task, output, classes = _onnx_outputs(session, proto, meta, path)
    producer = f"{proto.producer_name} {proto.producer_version}".strip() or "an unknown exporter"
    backend = OnnxBackend(data, inputs=inputs, output=output, classes=classes)
    backend._session = session
    return ModelAdapter(
        backend, task=task, feature_names=[c for _, _, cols in inputs for c in cols],
        classes=classes, format="onnx", model_type=f"ONNX graph from {producer} ({task})",
        source=path.name, recipe=None,
        recipe_note="an ONNX graph records no training recipe; name a training recipe for "
                     "the audit")


def _check_onnx_safe(proto, path: Path) -> None:
    import onnx

    domains = sorted({n.domain for n in _nodes(proto.graph)} - set(_ONNX_DOMAINS))
    if domains:
        raise InputError(msg.ONNX_CUSTOM_OPERATORS, name=path.name, domains=domains)
    tensors = list(proto.graph.initializer) + [a.t for n in _nodes(proto.graph)
                                               for a in n.attribute if a.HasField("t")]
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in tensors):
        raise InputError(msg.ONNX_EXTERNAL_DATA, name=path.name)


def _nodes(graph):
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.HasField("g"):
                yield from _nodes(a.g)
            for g in a.graphs:
                yield from _nodes(g)


def _onnx_inputs(session, meta: dict, path: Path) -> list:
    inputs = session.get_inputs()
    kinds = {"tensor(float)", "tensor(double)", "tensor(int64)", "tensor(int32)",
             "tensor(bool)", "tensor(string)"}
    for i in inputs:
        if i.type not in kinds:
            raise InputError(msg.ONNX_INPUT_TYPE, name=path.name, input=i.name, type=i.type)
    width = [i.shape[1] if len(i.shape) > 1 else 1 for i in inputs]
    if all(w == 1 for w in width):
        return [(i.name, i.type, [i.name]) for i in inputs]
    if len(inputs) == 1:
        names = _meta_list(meta.get("feature_names"))
        if not names or (isinstance(width[0], int) and len(names) != width[0]):
            raise InputError(msg.ONNX_UNNAMED_TENSOR, name=path.name, width=width[0])
        return [(inputs[0].name, inputs[0].type, names)]
    raise InputError(msg.ONNX_SEVERAL_TENSORS, name=path.name, inputs=[i.name for i in inputs])


def _meta_list(text: str | None) -> list | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = [t.strip() for t in text.split(",") if t.strip()]
    return list(value) if isinstance(value, list) else None


def _onnx_outputs(session, proto, meta: dict, path: Path) -> tuple[str, str, list | None]:
    outputs = session.get_outputs()
    probs = [o for o in outputs if o.type.startswith("seq(map(") or
             (o.type in ("tensor(float)", "tensor(double)") and len(o.shape) == 2
              and o.shape[1] != 1)]
    labels = [o for o in outputs if o.type in ("tensor(int64)", "tensor(string)")]
    numbers = [o for o in outputs if o.type in ("tensor(float)", "tensor(double)")]
    if probs and (labels or _onnx_classes(proto, meta)):
        classes = _onnx_classes(proto, meta)
        if not classes:
            raise InputError(msg.ONNX_NO_CLASSES, name=path.name)
        return ("binary" if len(classes) == 2 else "multiclass"), probs[-1].name, classes
    if len(numbers) == 1 and not labels:
        return "regression", numbers[0].name, None
    raise InputError(msg.ONNX_OUTPUTS, name=path.name,
                     outputs=[(o.name, o.type) for o in outputs])


def _onnx_classes(proto, meta: dict) -> list | None:
    from onnx import helper

    declared = _meta_list(meta.get("classes"))
    if declared:
        return declared
    found = None
    for node in _nodes(proto.graph):
        if node.op_type not in _ONNX_CLASSIFIERS:
            continue
        for a in node.attribute:
            if a.name.startswith("classlabels_"):
                values = helper.get_attribute_value(a)
                values = [v.decode() if isinstance(v, bytes) else int(v) for v in values]
                if node.op_type == "ZipMap":
                    return values  # it labels the probabilities themselves
                found = values
    return found
