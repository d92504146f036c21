"""Checks that run before any work starts, one function per kind of input.

- :func:`check_options`: the values a user types (the decision threshold a finite number, a
  probability in (0, 1) for a classifier once the task is known; the seed a whole number in
  ``[0, MAX_SEED]``; the favourable action's length); text from a command line is parsed here,
  so the command line and the app share one set of rules.
- :func:`check_roles`: the column roles before any file is read (a column named twice, the target
  named as a sensitive, personal or quasi-identifying column, a column both personal and
  sensitive).
- :func:`check_parts`: members and non-members that are the same file, or share more than
  :data:`MAX_SHARED` of the holdout's rows (by the id column when there is one, else by whole
  row): nothing measured on "unseen" customers would mean anything.
- :func:`check_values`: infinite values in a column the audit reads, a model input that is
  empty in every row of a file (missing values elsewhere are ordinary data).
- :func:`check_groups`: a sensitive field with more than :data:`MAX_GROUPS` groups, or one that
  looks like a personal column (its groups would print personal values).
- :func:`check_output_dir`: the output folder (not an existing file, not below a file,
  writable), before the audit runs.

Every problem raises :class:`~audits.core.errors.InputError` with a constant of
:mod:`audits.core.messages`. No message prints a value of a personal column.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core.errors import InputError
from audits.core.groups import group_codes
from audits.core.numbers import pct
from audits.core.seeds import MAX_SEED

__all__ = ["check_options", "parse_threshold", "parse_seed", "check_roles", "check_parts",
           "check_values", "check_groups", "check_output_dir", "MAX_GROUPS", "MAX_SHARED",
           "MAX_ACTION"]

#: More groups than a board can read in one field's table (issue 12: over 50 is refused).
MAX_GROUPS = 50
#: Share of the holdout's rows that may also be training rows (duplicates happen in real data).
MAX_SHARED = 0.01
#: Characters of the favourable action printed on a report.
MAX_ACTION = 200


# -- typed values ------------------------------------------------------------------------------
def parse_threshold(value: Any, *, probability: bool = True) -> float | None:
    """The decision threshold as a float, or None when not given; with ``probability`` (a
    classifier's threshold on P(positive)) strictly inside (0, 1). A regression's threshold is on
    the prediction's own scale (the loader refuses an infinite one)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError(msg.THRESHOLD_NOT_A_NUMBER, value=value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(msg.THRESHOLD_NOT_A_NUMBER, value=value) from None
    if math.isnan(number):
        raise InputError(msg.THRESHOLD_NOT_A_NUMBER, value=value)
    if probability and not 0.0 < number < 1.0:
        shown = value if isinstance(value, str) else f"{number:g}"
        raise InputError(msg.THRESHOLD_OUT_OF_RANGE, value=shown)
    return number


def parse_seed(value: Any) -> int:
    """The audit's seed as an integer in ``[0, MAX_SEED]`` (0 when not given)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise InputError(msg.SEED_NOT_AN_INTEGER, value=value, max=MAX_SEED)
    if isinstance(value, (int, np.integer)):
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text, 10)
        except ValueError:
            raise InputError(msg.SEED_NOT_AN_INTEGER, value=value, max=MAX_SEED) from None
    if not 0 <= number <= MAX_SEED:
        raise InputError(msg.SEED_OUT_OF_RANGE, value=number, max=MAX_SEED)
    return number


def check_options(*, decision_threshold: Any = None, seed: Any = 0,
                  favourable_action: str | None = "") -> dict:
    """The typed options, each checked: ``{"decision_threshold", "seed", "favourable_action"}``.

    Raises
    ------
    InputError : a threshold that is not a finite number (whether it must be a probability
        depends on the model's task: :func:`audits.core.loading.load_subject` checks that), a
        seed that is not a whole number in ``[0, MAX_SEED]``, a favourable action over
        :data:`MAX_ACTION` characters.
    """
    action = " ".join(str(favourable_action or "").split())
    if len(action) > MAX_ACTION:
        raise InputError(msg.TEXT_TOO_LONG, field="favourable_action", n=len(action),
                         limit=MAX_ACTION)
    return {"decision_threshold": parse_threshold(decision_threshold, probability=False),
            "seed": parse_seed(seed),
            "favourable_action": action}


# -- roles -------------------------------------------------------------------------------------
_ROLE_WORDS = {"sensitive": "sensitive field", "personal": "personal column",
               "quasi_identifiers": "quasi-identifier", "id_column": "record id"}


def check_roles(target: str, roles: dict[str, Sequence[str]]) -> None:
    """Column roles that contradict each other, found before any file is read.

    Parameters
    ----------
    target : the target column.
    roles : field key (``sensitive``, ``personal``, ``quasi_identifiers``, ``id_column``) ->
        the columns named there.
    """
    for field, columns in roles.items():
        seen, twice = set(), []
        for c in columns:
            if c in seen and c not in twice:
                twice.append(c)
            seen.add(c)
        if twice:
            raise InputError(msg.ROLE_DUPLICATES, field=field, names=twice)
    for field, columns in roles.items():
        if target in columns:
            raise InputError(msg.TARGET_IN_ROLE, column=target, field=field,
                             role=_ROLE_WORDS.get(field, field))
    both = [c for c in roles.get("sensitive", ()) if c in roles.get("personal", ())]
    if both:
        raise InputError(msg.COLUMN_IN_TWO_ROLES, column=both[0], field="sensitive",
                         field2="personal", why="A personal column's values are never printed, "
                         "and a sensitive field's groups are.")


# -- the two parts -----------------------------------------------------------------------------
def check_parts(members: pd.DataFrame, nonmembers: pd.DataFrame, *, names: dict,
                hashes: dict | None = None, id_column: str | None = None) -> None:
    """Refuse a holdout that is (largely) the training data.

    Parameters
    ----------
    members, nonmembers : the two parts, with the same columns.
    names : ``{"members": file name, "nonmembers": file name}`` for the messages.
    hashes : SHA-256 of the two files when they are separate files.
    id_column : match rows by this column (else by the whole row).
    """
    if hashes and hashes.get("members") and hashes.get("members") == hashes.get("nonmembers"):
        raise InputError(msg.FILES_IDENTICAL, members=names["members"],
                         nonmembers=names["nonmembers"], sha256=hashes["members"][:16] + "...")
    if len(nonmembers) == 0:
        return
    if id_column is not None and id_column in members.columns:
        seen = set(members[id_column].dropna().astype(str))
        shared = nonmembers[id_column].astype(str).isin(seen) & nonmembers[id_column].notna()
        how = f"the id column {id_column!r}"
    else:
        columns = list(members.columns)
        a = pd.util.hash_pandas_object(members[columns].astype(str), index=False)
        b = pd.util.hash_pandas_object(nonmembers[columns].astype(str), index=False)
        shared = b.isin(set(a.to_numpy()))
        how = "whole rows, every column equal"
    n = int(np.asarray(shared).sum())
    if n > MAX_SHARED * len(nonmembers):
        raise InputError(msg.ROWS_SHARED, share=pct(n / len(nonmembers)), n=n,
                         total=len(nonmembers), nonmembers=names["nonmembers"],
                         members=names["members"], how=how, limit=pct(MAX_SHARED),
                         field="split_column" if hashes is None else "holdout")


# -- values ------------------------------------------------------------------------------------
def check_values(members: pd.DataFrame, nonmembers: pd.DataFrame, *, features: Sequence[str],
                 columns: Sequence[str], names: dict) -> None:
    """Infinite values in ``columns`` (the ones the audit reads) and model inputs that are empty
    in every row of a file."""
    fields = {"members": "train", "nonmembers": "holdout"}
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        for col in columns:
            s = frame[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                n = int(np.isinf(s.to_numpy(dtype=float, na_value=np.nan)).sum())
                if n:
                    raise InputError(msg.INFINITE_VALUES, column=col, n=n, file=names[part])
        for col in features:
            if len(frame) and frame[col].isna().all():
                raise InputError(msg.INPUT_ALL_MISSING, column=col, file=names[part],
                                 field=fields[part] if names["members"] != names["nonmembers"]
                                 else "train")


def check_groups(members: pd.DataFrame, nonmembers: pd.DataFrame, *,
                 sensitive: Sequence[str], names: dict) -> None:
    """A sensitive field a board cannot read (over :data:`MAX_GROUPS` groups) or one that looks
    like a personal column (its group names would print personal values)."""
    from audits.core.pii import detect_personal_columns

    both = pd.concat([members[list(sensitive)], nonmembers[list(sensitive)]], ignore_index=True)
    for col in sensitive:
        _, levels = group_codes(both[col])
        if len(levels) > MAX_GROUPS:
            file = names["members"] if names["members"] == names["nonmembers"] else \
                f"{names['members']} and {names['nonmembers']}"
            raise InputError(msg.TOO_MANY_GROUPS, column=col, n=len(levels), file=file,
                             limit=MAX_GROUPS)
        found = detect_personal_columns(both[[col]])
        if len(found):
            raise InputError(msg.SENSITIVE_LOOKS_PERSONAL, column=col,
                             evidence=found["evidence"].iloc[0])


# -- the output folder -------------------------------------------------------------------------
def check_output_dir(path: str | Path) -> Path:
    """The output folder, checked before any work: not an existing file, not below a file, and
    writable (or creatable) by this user. Nothing is created here."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(msg.OUT_IS_FILE, path=path)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(msg.OUT_BELOW_FILE, path=path, parent=existing)
    probe = existing if existing.exists() else Path.cwd()
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(msg.OUT_NOT_WRITABLE, path=path,
                         reason=f"{probe} does not allow this user to write")
    return path
