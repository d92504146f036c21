"""Load and validate a model and its data into an :class:`AuditSubject`, with clear errors.

Everything is checked up front, before any probe runs; each problem raises :class:`InputError`
naming the file or column and the fix. The model file is loaded safely by
:mod:`audits.core.model_loading` (:func:`load_model` is re-exported here). The task (binary,
multiclass, regression) comes from the model and is checked against the target
(:mod:`audits.core.task`); the training recipe from the user or the model file
(:mod:`audits.core.recipe`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core import validation
from audits.core.counts import row_keys
from audits.core.dataset_loading import (
    DEFAULT_PARTITION_ROWS,
    DEFAULT_SAMPLE_ROWS,
    check_scan,
    is_partitioned_input,
    read_parts,
    sample_frames,
    scan_target_map,
)
from audits.core.errors import InputError
from audits.core.formats import model_format
from audits.core.model_loading import PICKLE_SUFFIXES, file_sha256, load_model, need_file
from audits.core.paths import installation_secret
from audits.core.rights import attach_rights
from audits.core.subject import AuditSubject
from audits.core.task import check_regression_target, infer_task, parse_direction

__all__ = ["load_model", "load_table", "load_subject", "file_sha256", "PICKLE_SUFFIXES"]

_WHAT = {"model": "model file", "train": "training (members) file",
         "holdout": "holdout (non-members) file", "data": "data file"}


# -- data ------------------------------------------------------------------------------------
def load_table(path: str | Path, *, what: str = "data file", field: str = "train") -> pd.DataFrame:
    """Read a CSV or Parquet file; raise InputError when it is missing, unreadable or empty.

    Parameters
    ----------
    path : the file.
    what : how messages name it ("training (members) file").
    field : the input field that gave it (keys of :data:`audits.core.messages.FIELDS`).
    """
    path = need_file(path, what, field)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".pq", ".csv", ".txt", ".gz"}:
        raise InputError(msg.TABLE_SUFFIX, what=what, path=path, suffix=suffix, field=field)
    kind = "Parquet" if suffix in {".parquet", ".pq"} else "CSV"
    try:
        if kind == "Parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".txt":
            frame = pd.read_csv(path, sep=None, engine="python")
        else:
            frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as e:
        raise InputError(msg.TABLE_EMPTY, what=what, path=path, field=field) from e
    except Exception as e:
        raise InputError(msg.TABLE_UNREADABLE, what=what, path=path, kind=kind, field=field,
                         error=f"{type(e).__name__}: {_first_line(e)}") from e
    if frame.shape[0] == 0:
        raise InputError(msg.TABLE_NO_ROWS, what=what, path=path, field=field)
    frame.columns = [str(c) for c in frame.columns]  # Parquet may name columns by number
    return frame


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""


_MEMBER_WORDS = {"train", "member", "members", "1", "true", "in"}
_NONMEMBER_WORDS = {"test", "holdout", "nonmember", "non-member", "nonmembers", "0", "false",
                    "out", "valid", "validation"}


def member_mask(values: pd.Series) -> np.ndarray:
    """True where a split column's value marks a training row (member)."""
    return values.astype(str).str.lower().isin(_MEMBER_WORDS).to_numpy()


def split_unknown(values: pd.Series) -> list[str]:
    """A split column's values that name neither part, sorted."""
    return sorted(set(values.astype(str).str.lower()) - _MEMBER_WORDS - _NONMEMBER_WORDS)


def _split(frame: pd.DataFrame, column: str, path: Path,
           personal: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    if column not in frame.columns:
        raise InputError(msg.SPLIT_COLUMN_MISSING, column=column, file=path.name,
                         columns=list(frame.columns))
    bad = split_unknown(frame[column])
    if bad:
        shown = f"({len(bad)} not shown: a personal column)" if column in personal else bad[:5]
        raise InputError(msg.SPLIT_VALUES_UNKNOWN, column=column, file=path.name, values=shown)
    is_member = member_mask(frame[column])
    members = frame.loc[is_member].drop(columns=[column]).reset_index(drop=True)
    nonmembers = frame.loc[~is_member].drop(columns=[column]).reset_index(drop=True)
    for part, df in (("training (member)", members), ("holdout (non-member)", nonmembers)):
        if len(df) == 0:
            raise InputError(msg.SPLIT_PART_EMPTY, column=column, file=path.name, part=part)
    return members, nonmembers


def _model_features(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "feature_name_", None)  # LightGBM's own attribute
    return None if names is None else [str(n) for n in names]


def _match_label(value: Any, classes: Sequence[Any], *, what: str, field: str) -> Any:
    for c in classes:
        if c == value or str(c) == str(value):
            return c
    raise InputError(msg.LABEL_NOT_A_CLASS, what=what, value=_plain(value),
                     classes=[_plain(c) for c in classes], field=field)


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
                 name: str | None = None, rights=None, task: str | None = None,
                 recipe: str | Path | None = None, sample_rows: int = DEFAULT_SAMPLE_ROWS,
                 partition_rows: int = DEFAULT_PARTITION_ROWS,
                 n_jobs: int | None = None) -> AuditSubject:
    """Load the model and its members/non-members, validate them, and build the subject.

    ``train_path`` holds the rows the model was trained on (members) and ``holdout_path`` rows it
    never saw (non-members); or ``train_path`` holds both, told apart by ``split_column``.
    Everything is checked before anything is computed (:mod:`audits.core.validation`): the
    options, the column roles, the files, the two parts (not the same rows), the values (no
    infinite value, no model input empty in every row) and the sensitive fields (at most
    :data:`~audits.core.validation.MAX_GROUPS` groups, none that looks personal).
    ``rights`` (``audits.core.rights.RightsDeclaration``) is validated against the rows and
    carried by the subject.
    ``task`` declares the task (checked against the model's); ``favourable`` is a class for a
    classifier and a direction (``higher``/``lower``) for a regression; ``recipe`` names the
    training recipe (a skops file of an unfitted estimator, or one of
    ``audits.core.recipe.NAMED_RECIPES``), by default the one the model file gives.

    ``train_path`` and ``holdout_path`` may be Parquet datasets (a folder or a glob); with more
    than ``partition_rows`` rows in all, they are read partition by partition
    (:mod:`audits.core.dataset_loading`). A part with more than ``sample_rows`` rows keeps a
    keyed-hash sample in the subject's frames and all its rows in ``subject.population`` for
    the counts, on either path.
    """
    options = validation.check_options(decision_threshold=decision_threshold, seed=seed,
                                       favourable_action=favourable_action)
    sensitive, personal = [str(c) for c in sensitive], [str(c) for c in personal]
    quasi_identifiers = [str(c) for c in quasi_identifiers]
    validation.check_roles(target, {"sensitive": sensitive, "personal": personal,
                                    "quasi_identifiers": quasi_identifiers,
                                    "id_column": [id_column] if id_column else []})
    model_path, train_path = Path(model_path), Path(train_path)
    model = load_model(model_path, trusted=trusted, trust_pickle=trust_pickle)
    files = {"model": {"path": model_path.name, "sha256": file_sha256(model_path)}}
    key_id = id_column or next((c for c in personal if c.lower().endswith("id")), None)
    population = scan = None
    if holdout_path is None and split_column is None:
        raise InputError(msg.HOLDOUT_MISSING)
    if is_partitioned_input(train_path, holdout_path, partition_rows=partition_rows):
        parts = read_parts(train_path, holdout_path, split_column=split_column, id_column=key_id,
                           seed=options["seed"], target=target, personal=personal,
                           sample_rows=sample_rows, partition_rows=partition_rows,
                           n_jobs=n_jobs)
        members, nonmembers, names = parts.members, parts.nonmembers, parts.names
        files.update(parts.files)
        hashes, population, scan = parts.hashes, parts.population, parts.scan
    elif holdout_path is None:
        if split_column is None:
            raise InputError(msg.HOLDOUT_MISSING)
        both = load_table(train_path, what="data file", field="train")
        members, nonmembers = _split(both, split_column, train_path, personal)
        names = {"members": train_path.name, "nonmembers": train_path.name}
        files["data"] = {"path": train_path.name, "sha256": file_sha256(train_path)}
        hashes = None
    else:
        holdout_path = Path(holdout_path)
        members = load_table(train_path, what="training (members) file", field="train")
        nonmembers = load_table(holdout_path, what="holdout (non-members) file", field="holdout")
        names = {"members": train_path.name, "nonmembers": holdout_path.name}
        files["members"] = {"path": train_path.name, "sha256": file_sha256(train_path)}
        files["nonmembers"] = {"path": holdout_path.name, "sha256": file_sha256(holdout_path)}
        hashes = {"members": files["members"]["sha256"],
                  "nonmembers": files["nonmembers"]["sha256"]}

    if scan is not None:
        check_scan(scan, target=target, names=names, max_shared=validation.MAX_SHARED)
    keys = None
    if population is None and max(len(members), len(nonmembers)) > sample_rows:
        keys = {p: row_keys(f, id_column=key_id, seed=options["seed"])
                for p, f in (("members", members), ("nonmembers", nonmembers))}
    _check_same_columns(members, nonmembers, names)
    columns = list(members.columns)
    if target not in columns:
        raise InputError(msg.TARGET_NOT_IN_FILE, column=target, file=names["members"],
                         columns=columns)
    for field, cols in (("sensitive", sensitive), ("personal", personal),
                        ("quasi_identifiers", quasi_identifiers),
                        ("id_column", [id_column] if id_column is not None else [])):
        missing = [c for c in cols if c not in columns]
        if missing:
            raise InputError(msg.ROLE_COLUMNS_MISSING, field=field, missing=missing,
                             file=names["members"], columns=columns)
    if id_column is None:
        id_column = next((c for c in personal if c.lower().endswith("id")), None)
    validation.check_parts(members, nonmembers, names=names, hashes=hashes, id_column=id_column)
    task = infer_task(model, declared=task, model_name=model_path.name)
    if task == "regression":
        if options["decision_threshold"] is not None and \
                not np.isfinite(options["decision_threshold"]):
            raise InputError(msg.THRESHOLD_NOT_A_NUMBER, value=decision_threshold)
        check_regression_target(members, nonmembers, target, names, model_name=model_path.name)
        positive, favourable_label = _no_label(positive_label, model_path), None
        direction = parse_direction(favourable)
    else:
        validation.parse_threshold(decision_threshold)  # a classifier: a probability
        classes = list(model.classes_)
        _check_target(members, nonmembers, target, classes, names, model_path)
        positive, favourable_label = _labels(task, classes, positive_label, favourable,
                                             options["decision_threshold"])
        direction = None
    if scan is not None:
        target_map = scan_target_map(scan, target=target,
                                     classes=None if task == "regression" else classes)
        population = dataclasses.replace(population, target_map=target_map)
    features = _feature_columns(model, columns, target, model_path, names)
    validation.check_values(members, nonmembers, features=features, names=names,
                            columns=list(dict.fromkeys([*features, *sensitive,
                                                        *quasi_identifiers])))
    validation.check_groups(members, nonmembers, sensitive=sensitive, names=names)
    _check_types(model, members, nonmembers, features, names, model_path, personal)
    from audits.core.recipe import load_recipe, recipe_from_model

    if recipe is not None:
        the_recipe = load_recipe(recipe, task=task, trusted=trusted)
        recipe_note = the_recipe.description
    else:
        the_recipe, recipe_note = recipe_from_model(model)
    if keys is not None:
        members, nonmembers, population = sample_frames(members, nonmembers, keys=keys,
                                                        sample_rows=sample_rows)
    subject = AuditSubject(
        model=model, members=members, nonmembers=nonmembers, target=target,
        positive_label=positive, feature_columns=tuple(features),
        sensitive_fields=tuple(sensitive), personal_columns=tuple(personal),
        quasi_identifiers=tuple(quasi_identifiers),
        decision_threshold=options["decision_threshold"], favourable_label=favourable_label,
        favourable_action=options["favourable_action"], id_column=id_column,
        seed=options["seed"], files=files, secret=installation_secret(),
        name=name or model_path.stem, task=task, favourable_direction=direction,
        model_format=model_format(model_path), recipe=the_recipe, recipe_note=recipe_note,
        population=population)
    return attach_rights(subject, rights) if rights is not None else subject


def _no_label(positive_label: Any, model_path: Path) -> None:
    if positive_label is not None:
        raise InputError(msg.REGRESSION_NO_LABEL, path=model_path.name)
    return None


def _labels(task: str, classes: list, positive_label: Any, favourable: Any,
            decision_threshold: float | None) -> tuple:
    """(positive label, favourable label) of a classifier. Binary: the positive label defaults
    as before. Multiclass: the score is one class against the rest, the declared positive label,
    else the favourable class, else none (the probes say what they need)."""
    positive = None if positive_label is None else \
        _match_label(positive_label, classes, what="positive label", field="positive_label")
    favourable_label = None if favourable is None else \
        _match_label(favourable, classes, what="favourable label", field="favourable")
    if positive is None:
        positive = _default_positive(classes) if task == "binary" else favourable_label
    if task == "multiclass" and decision_threshold is not None:
        raise InputError(msg.THRESHOLD_MULTICLASS, classes=[_plain(c) for c in classes])
    return positive, favourable_label


def _check_same_columns(members: pd.DataFrame, nonmembers: pd.DataFrame, names: dict) -> None:
    a, b = set(members.columns), set(nonmembers.columns)
    if a != b:
        raise InputError(msg.COLUMNS_DIFFER, members=names["members"],
                         nonmembers=names["nonmembers"], only_members=sorted(a - b),
                         only_nonmembers=sorted(b - a))


def _check_target(members, nonmembers, target, classes, names, model_path) -> None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        values = frame[target]
        if values.isna().any():
            raise InputError(msg.TARGET_EMPTY_VALUES, column=target,
                             n=int(values.isna().sum()), file=names[part])
        distinct = pd.unique(values)
        if len(distinct) > 2 and len(classes) == 2:
            raise InputError(msg.TARGET_MULTICLASS, column=target, n=len(distinct),
                             file=names[part])
        if len(distinct) < 2:
            raise InputError(msg.TARGET_ONE_CLASS, column=target, value=_plain(distinct[0]),
                             file=names[part])
        unknown = [v for v in distinct if not any(v == c or str(v) == str(c) for c in classes)]
        if unknown:
            raise InputError(msg.TARGET_UNKNOWN_VALUES, column=target, file=names[part],
                             values=[_plain(v) for v in unknown],
                             classes=[_plain(c) for c in classes])
    if len(classes) < 2:
        raise InputError(msg.MODEL_ONE_CLASS, path=model_path.name, n=len(classes))
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
        raise InputError(msg.MODEL_NO_FEATURE_NAMES, path=model_path.name)
    if target in features:
        raise InputError(msg.MODEL_TAKES_TARGET, path=model_path.name, column=target)
    missing = [c for c in features if c not in columns]
    if missing:
        raise InputError(msg.MODEL_FEATURES_MISSING, path=model_path.name, missing=missing,
                         file=names["members"], columns=columns)
    return features


def _check_types(model, members, nonmembers, features, names, model_path, personal) -> None:
    for col in features:
        num = [pd.api.types.is_numeric_dtype(f[col]) for f in (members, nonmembers)]
        if num[0] != num[1]:
            text_file = names["nonmembers"] if num[0] else names["members"]
            raise InputError(msg.COLUMN_TYPE_DIFFERS, column=col, file=text_file)
    try:
        probe = pd.concat([members[features].head(50), nonmembers[features].head(50)])
        (model.predict_proba if hasattr(model, "predict_proba") else model.predict)(probe)
    except Exception as e:
        _non_numeric_column(members, nonmembers, features, names, personal, e)
        _empty_values(members, nonmembers, features, names, model, e)
        raise InputError(msg.MODEL_FAILS, path=model_path.name, file=names["members"],
                         error=f"{type(e).__name__}: {_first_line(e)}") from e


def _non_numeric_column(members, nonmembers, features, names, personal, cause) -> None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        for col in features:
            s = frame[col]
            if pd.api.types.is_numeric_dtype(s):
                continue
            as_num = pd.to_numeric(s, errors="coerce")
            if as_num.notna().mean() < 0.5:
                continue
            text = s[as_num.isna() & s.notna()]
            if col in personal or _looks_personal(s):
                raise InputError(msg.PERSONAL_NOT_NUMERIC, column=col, file=names[part],
                                 n=len(text)) from cause
            raise InputError(msg.COLUMN_NOT_NUMERIC, column=col, file=names[part],
                             values=sorted(set(text.astype(str)))[:3]) from cause


def _looks_personal(values: pd.Series) -> bool:
    from audits.core.pii import detect_personal_columns

    return bool(len(detect_personal_columns(values.to_frame())))


def _empty_values(members, nonmembers, features, names, model, cause) -> None:
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        empty = frame[features].isna().sum()
        empty = empty[empty > 0]
        if len(empty):
            raise InputError(msg.COLUMN_EMPTY_VALUES, column=empty.index[0],
                             n=int(empty.iloc[0]), file=names[part],
                             kind=type(model).__name__) from cause
