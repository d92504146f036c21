"""Load and validate a model and its data into an :class:`AuditSubject`, with clear errors.

Everything is checked up front, before any probe runs; each problem raises :class:`InputError`
naming the file or column and the fix. Model files are loaded with skops (safe: no code runs);
types skops does not trust are listed and must be trusted by name. XGBoost JSON/UBJSON, LightGBM
text and ONNX files are data too (:mod:`audits.core.formats`). joblib/pickle files load only
when the caller explicitly trusts pickles, because loading a pickle runs code. The task (binary,
multiclass, regression) comes from the model and is checked against the target
(:mod:`audits.core.task`); the training recipe from the user or the model file
(:mod:`audits.core.recipe`).
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audits.core.errors import InputError
from audits.core.formats import NATIVE_FORMATS, load_native, model_format
from audits.core.paths import installation_secret
from audits.core.subject import AuditSubject
from audits.core.task import check_regression_target, infer_task, model_task, parse_direction

__all__ = ["load_model", "load_table", "load_subject", "file_sha256", "PICKLE_SUFFIXES"]

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _need_file(path: str | Path, role: str, flag: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"The {role} file {path} does not exist. Check {flag}.")
    if not path.is_file():
        raise InputError(f"The {role} path {path} is a folder, not a file. Check {flag}.")
    return path


# -- models ------------------------------------------------------------------------------------
def load_model(path: str | Path, *, trusted: Sequence[str] = (), trust_pickle: bool = False) -> Any:
    """Load a fitted model from a skops, XGBoost, LightGBM or ONNX file (or a pickle, only when
    ``trust_pickle``).

    Raises InputError for a missing, corrupt or untrusted file, for an object that is not a
    model, and for a classifier without ``predict_proba``.
    """
    path = _need_file(path, "model", "--model")
    fmt = model_format(path)
    if fmt == "pickle":
        model = _load_pickle(path, trust_pickle)
    elif fmt in NATIVE_FORMATS:
        model = load_native(path, fmt)
    else:
        model = _load_skops(path, trusted)
    _check_model(model, path)
    return model


def _load_skops(path: Path, trusted: Sequence[str]) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        hint = (" It looks like a pickle: loading a pickle runs code, so rename it to .pkl and "
                "pass --trust-pickle only if you trust its author." if _looks_like_pickle(path)
                else "")
        raise InputError(f"The model file {path} is not a readable skops file ({type(e).__name__}: "
                         f"{e}).{hint} Save the model with skops.io.dump(model, 'model.skops').")\
            from e
    missing = sorted(set(untrusted) - set(trusted))
    if missing:
        flags = " ".join(f"--trust {t}" for t in missing)
        raise InputError(f"The model file {path} contains types that skops does not trust by "
                         f"default: {missing}. Loading them could run their code. If you trust "
                         f"the model's author, trust each by name: {flags}")
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as e:  # skops raises many kinds on a damaged archive
        raise InputError(f"The model file {path} could not be loaded by skops "
                         f"({type(e).__name__}: {e}). Re-save it with skops.io.dump.") from e


def _looks_like_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(1) == b"\x80"


def _load_pickle(path: Path, trust_pickle: bool) -> Any:
    if not trust_pickle:
        raise InputError(f"The model file {path} is a pickle. Loading a pickle runs any code its "
                         "author put in it, so it is refused by default. Save the model with skops "
                         "(skops.io.dump) instead, or pass --trust-pickle if you trust the file's "
                         "author.")
    import joblib

    try:
        return joblib.load(path)
    except Exception as e:
        raise InputError(f"The model file {path} could not be unpickled ({type(e).__name__}: "
                         f"{e}). Check that it is a joblib or pickle file.") from e


def _check_model(model: Any, path: Path) -> None:
    if not hasattr(model, "predict"):
        raise InputError(f"The file {path} holds a {type(model).__name__}, which is not a model "
                         "(it has no predict method). Pass a fitted classifier.")
    if model_task(model) == "regression":
        _check_fitted(model, path)
        return
    if not hasattr(model, "predict_proba"):
        raise InputError(f"The model in {path} ({type(model).__name__}) has no predict_proba; the "
                         "audit needs probability scores. Use a probabilistic classifier, or wrap "
                         "it in sklearn.calibration.CalibratedClassifierCV.")
    if not hasattr(model, "classes_"):
        raise InputError(f"The model in {path} ({type(model).__name__}) is not fitted (it has no "
                         "classes_). Fit it before saving.")


def _check_fitted(model: Any, path: Path) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if getattr(model, "feature_names_in_", None) is not None:
        return
    try:
        check_is_fitted(model)
    except NotFittedError as e:
        raise InputError(f"The model in {path} ({type(model).__name__}) is not fitted. Fit it "
                         "before saving.") from e
    except TypeError:  # not a scikit-learn estimator: the data check will tell
        pass


# -- data --------------------------------------------------------------------------------------
def load_table(path: str | Path, *, role: str = "data", flag: str = "--train") -> pd.DataFrame:
    """Read a CSV or Parquet file; raise InputError when it is missing, unreadable or empty."""
    path = _need_file(path, role, flag)
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        elif suffix in {".csv", ".txt", ".gz"}:
            frame = pd.read_csv(path, sep=None, engine="python") if suffix == ".txt" else \
                pd.read_csv(path)
        else:
            raise InputError(f"The {role} file {path} has suffix {suffix!r}; supported are .csv "
                             f"and .parquet. Convert it or rename it. Check {flag}.")
    except InputError:
        raise
    except pd.errors.EmptyDataError as e:
        raise InputError(f"The {role} file {path} is empty. Check {flag}.") from e
    except Exception as e:
        raise InputError(f"The {role} file {path} could not be read as {suffix[1:]} "
                         f"({type(e).__name__}: {e}). Check that it is a valid file.") from e
    if frame.shape[0] == 0:
        raise InputError(f"The {role} file {path} has no rows. An audit needs data. Check {flag}.")
    return frame


def _split(frame: pd.DataFrame, column: str, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    if column not in frame.columns:
        raise InputError(f"The split column {column!r} is not in {path.name}. Columns in the file: "
                         f"{list(frame.columns)}. Check --split-column.")
    values = frame[column].astype(str).str.lower()
    member_words = {"train", "member", "members", "1", "true", "in"}
    nonmember_words = {"test", "holdout", "nonmember", "non-member", "nonmembers", "0", "false",
                       "out", "valid", "validation"}
    bad = sorted(set(values) - member_words - nonmember_words)
    if bad:
        raise InputError(f"The split column {column!r} in {path.name} has values {bad[:5]} that "
                         "are neither train (train/member/1/true) nor holdout "
                         "(test/holdout/0/false). Fix the column.")
    is_member = values.isin(member_words).to_numpy()
    members = frame.loc[is_member].drop(columns=[column]).reset_index(drop=True)
    nonmembers = frame.loc[~is_member].drop(columns=[column]).reset_index(drop=True)
    for part, df in (("training (member)", members), ("holdout (non-member)", nonmembers)):
        if len(df) == 0:
            raise InputError(f"The split column {column!r} in {path.name} marks no {part} rows. "
                             "An audit needs both. Fix the column.")
    return members, nonmembers


def _model_features(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "feature_name_", None)  # LightGBM's own attribute
    return None if names is None else [str(n) for n in names]


def _match_label(value: Any, classes: Sequence[Any], *, what: str, flag: str) -> Any:
    for c in classes:
        if c == value or str(c) == str(value):
            return c
    raise InputError(f"The {what} {value!r} is not one of the model's classes "
                     f"{[_plain(c) for c in classes]}. Check {flag}.")


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


# -- the subject -------------------------------------------------------------------------------
def load_subject(model_path: str | Path, train_path: str | Path,
                 holdout_path: str | Path | None = None, *, target: str,
                 sensitive: Sequence[str] = (), positive_label: Any = None,
                 personal: Sequence[str] = (), quasi_identifiers: Sequence[str] = (),
                 split_column: str | None = None, trusted: Sequence[str] = (),
                 trust_pickle: bool = False, decision_threshold: float | None = None,
                 favourable: Any = None, favourable_action: str = "",
                 id_column: str | None = None, seed: int = 0,
                 name: str | None = None, task: str | None = None,
                 recipe: str | Path | None = None) -> AuditSubject:
    """Load the model and its members/non-members, validate them, and build the subject.

    ``train_path`` holds the rows the model was trained on (members) and ``holdout_path`` rows it
    never saw (non-members); or ``train_path`` holds both, told apart by ``split_column``.
    ``task`` declares the task (checked against the model's); ``favourable`` is a class for a
    classifier and a direction (``higher``/``lower``) for a regression; ``recipe`` names the
    training recipe (a skops file of an unfitted estimator, or one of
    ``audits.core.recipe.NAMED_RECIPES``), by default the one the model file gives.
    """
    model_path, train_path = Path(model_path), Path(train_path)
    model = load_model(model_path, trusted=trusted, trust_pickle=trust_pickle)
    files = {"model": {"path": model_path.name, "sha256": file_sha256(model_path)}}
    if holdout_path is None:
        if split_column is None:
            raise InputError("No holdout file: give --holdout with the rows the model never saw, "
                             "or --split-column naming the column of --train that marks them.")
        both = load_table(train_path, role="data", flag="--train")
        members, nonmembers = _split(both, split_column, train_path)
        names = {"members": train_path.name, "nonmembers": train_path.name}
        files["data"] = {"path": train_path.name, "sha256": file_sha256(train_path)}
    else:
        holdout_path = Path(holdout_path)
        members = load_table(train_path, role="training (members)", flag="--train")
        nonmembers = load_table(holdout_path, role="holdout (non-members)", flag="--holdout")
        names = {"members": train_path.name, "nonmembers": holdout_path.name}
        files["members"] = {"path": train_path.name, "sha256": file_sha256(train_path)}
        files["nonmembers"] = {"path": holdout_path.name, "sha256": file_sha256(holdout_path)}

    _check_same_columns(members, nonmembers, names)
    columns = list(members.columns)
    if target not in columns:
        raise InputError(f"The target column {target!r} is not in {names['members']}. Columns in "
                         f"the file: {columns}. Check --target.")
    task = infer_task(model, declared=task, model_name=model_path.name)
    if task == "regression":
        check_regression_target(members, nonmembers, target, names, model_name=model_path.name)
        positive, favourable_label = _no_label(positive_label, model_path), None
        direction = parse_direction(favourable)
    else:
        classes = list(model.classes_)
        _check_target(members, nonmembers, target, classes, names)
        positive, favourable_label = _labels(task, classes, positive_label, favourable,
                                             decision_threshold)
        direction = None
    for flag, cols in (("--sensitive", sensitive), ("--personal", personal),
                       ("--quasi-identifiers", quasi_identifiers)):
        missing = [c for c in cols if c not in columns]
        if missing:
            raise InputError(f"The column(s) {missing} named by {flag} are not in "
                             f"{names['members']}. Columns in the file: {columns}. Check {flag}.")
    if id_column is not None and id_column not in columns:
        raise InputError(f"The id column {id_column!r} is not in {names['members']}. Columns in "
                         f"the file: {columns}. Check --id-column.")
    features = _feature_columns(model, columns, target, model_path, names)
    _check_types(model, members, nonmembers, features, names, model_path)
    if id_column is None:
        id_column = next((c for c in personal if c.lower().endswith("id")), None)
    from audits.core.recipe import load_recipe, recipe_from_model

    if recipe is not None:
        the_recipe = load_recipe(recipe, task=task, trusted=trusted)
        recipe_note = the_recipe.description
    else:
        the_recipe, recipe_note = recipe_from_model(model)
    return AuditSubject(
        model=model, members=members, nonmembers=nonmembers, target=target,
        positive_label=positive, feature_columns=tuple(features),
        sensitive_fields=tuple(sensitive), personal_columns=tuple(personal),
        quasi_identifiers=tuple(quasi_identifiers), decision_threshold=decision_threshold,
        favourable_label=favourable_label, favourable_action=favourable_action,
        id_column=id_column, seed=int(seed), files=files, secret=installation_secret(),
        name=name or model_path.stem, task=task, favourable_direction=direction,
        model_format=model_format(model_path), recipe=the_recipe, recipe_note=recipe_note)


def _no_label(positive_label: Any, model_path: Path) -> None:
    if positive_label is not None:
        raise InputError(f"The model in {model_path.name} is a regression: it has no classes, so "
                         "--positive-label does not apply. Drop it (use --favourable higher or "
                         "lower for the favourable direction).")
    return None


def _labels(task: str, classes: list, positive_label: Any, favourable: Any,
            decision_threshold: float | None) -> tuple:
    """(positive label, favourable label) of a classifier. Binary: the positive label defaults
    as before. Multiclass: the score is one class against the rest, the declared positive label,
    else the favourable class, else none (the probes say what they need)."""
    positive = None if positive_label is None else \
        _match_label(positive_label, classes, what="positive label", flag="--positive-label")
    favourable_label = None if favourable is None else \
        _match_label(favourable, classes, what="favourable label", flag="--favourable")
    if positive is None:
        positive = _default_positive(classes) if task == "binary" else favourable_label
    if task == "multiclass" and decision_threshold is not None:
        raise InputError(f"A decision threshold applies to a binary classifier or a regression; "
                         f"the model is a multiclass classifier with classes "
                         f"{[_plain(c) for c in classes]}, which decides by its most probable "
                         "class. Drop --decision-threshold.")
    return positive, favourable_label


def _check_same_columns(members: pd.DataFrame, nonmembers: pd.DataFrame, names: dict) -> None:
    a, b = set(members.columns), set(nonmembers.columns)
    if a != b:
        raise InputError(f"The members file {names['members']} and the non-members file "
                         f"{names['nonmembers']} have different columns: only in members "
                         f"{sorted(a - b)}, only in non-members {sorted(b - a)}. Both files need "
                         "the same columns.")


def _check_target(members, nonmembers, target, classes, names) -> None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        values = frame[target]
        if values.isna().any():
            raise InputError(f"The target column {target!r} has {int(values.isna().sum())} empty "
                             f"values in {names[part]}. Drop or fill those rows.")
        distinct = pd.unique(values)
        if len(distinct) > 2 and len(classes) == 2:
            raise InputError(f"The target column {target!r} has {len(distinct)} distinct values in "
                             f"{names[part]}, but the model is a binary classifier (classes "
                             f"{[_plain(c) for c in classes]}): a multiclass target is not "
                             "supported by a binary model. Check --target, or pass the model "
                             "trained on this target.")
        if len(distinct) < 2:
            need = "both classes" if len(classes) == 2 else "at least two classes"
            raise InputError(f"The target column {target!r} has 1 distinct value "
                             f"({_plain(distinct[0])!r}) in {names[part]}; an audit needs {need}. "
                             "Check --target and --positive-label.")
        unknown = [v for v in distinct if not any(v == c or str(v) == str(c) for c in classes)]
        if unknown:
            raise InputError(f"The target column {target!r} in {names[part]} has values "
                             f"{[_plain(v) for v in unknown]} that are not the model's classes "
                             f"{[_plain(c) for c in classes]}. Check --target.")
    if len(classes) < 2:
        raise InputError(f"The model has {len(classes)} class; an audit needs a classifier with "
                         "at least two classes.")
    for frame in (members, nonmembers):  # align types, e.g. "1" in the file vs 1 in the model
        if frame[target].dtype != np.asarray(classes).dtype:
            mapping = {v: c for v in pd.unique(frame[target]) for c in classes if str(v) == str(c)}
            frame[target] = frame[target].map(mapping)


def _default_positive(classes: list) -> Any:
    for c in classes:
        if str(c).lower() in {"1", "true", "yes", "y", "positive"}:
            return c
    return classes[-1]


def _feature_columns(model, columns, target, model_path, names) -> list[str]:
    features = _model_features(model)
    if features is None:
        raise InputError(f"The model in {model_path.name} does not record its input column names "
                         "(it was fitted on a NumPy array). Refit it on a pandas DataFrame so the "
                         "audit can match columns by name.")
    if target in features:
        raise InputError(f"The model in {model_path.name} takes the target column {target!r} as "
                         "an input. Check --target.")
    missing = [c for c in features if c not in columns]
    if missing:
        raise InputError(f"The model in {model_path.name} expects feature column(s) {missing} "
                         f"that {names['members']} lacks. Columns in the file: {columns}. Add "
                         "them or check that you passed the right data.")
    return features


def _check_types(model, members, nonmembers, features, names, model_path) -> None:
    for col in features:
        num = [pd.api.types.is_numeric_dtype(f[col]) for f in (members, nonmembers)]
        if num[0] != num[1]:
            text_file = names["nonmembers"] if num[0] else names["members"]
            raise InputError(f"The column {col!r} holds numbers in one file and text in "
                             f"{text_file}. Fix the values so both files have the same type.")
    try:
        probe = pd.concat([members[features].head(50), nonmembers[features].head(50)])
        (model.predict_proba if hasattr(model, "predict_proba") else model.predict)(probe)
    except Exception as e:
        culprit = _non_numeric_column(members, nonmembers, features, names) or \
            _empty_values(members, nonmembers, features, names, model)
        if culprit:
            raise InputError(culprit) from e
        raise InputError(f"The model in {model_path.name} fails on the rows of "
                         f"{names['members']} ({type(e).__name__}: {e}). Check that the data has "
                         "the columns and types the model was trained on.") from e


def _non_numeric_column(members, nonmembers, features, names) -> str | None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        for col in features:
            s = frame[col]
            if pd.api.types.is_numeric_dtype(s):
                continue
            as_num = pd.to_numeric(s, errors="coerce")
            share = as_num.notna().mean()
            if share >= 0.5:
                bad = sorted(set(s[as_num.isna() & s.notna()].astype(str)))[:3]
                return (f"The column {col!r} in {names[part]} should hold numbers but has text "
                        f"values such as {bad}. Fix or drop those rows.")
    return None


def _empty_values(members, nonmembers, features, names, model) -> str | None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        empty = frame[features].isna().sum()
        empty = empty[empty > 0]
        if len(empty):
            col, count = empty.index[0], int(empty.iloc[0])
            return (f"The column {col!r} has {count} empty values in {names[part]}, and the model "
                    f"({type(model).__name__}) cannot score rows with missing values. Fill or drop "
                    "those rows.")
    return None
