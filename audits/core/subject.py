"""The thing under audit: a fitted model, its members and non-members, and what they mean.

``AuditSubject`` is frozen: every probe reads it, none changes it. Its scores and decisions depend
on nothing but the model and the rows, so they are computed once and kept on the instance; what
depends on the audit's configuration is shared through the run's cache
(:mod:`audits.core.cache`), never stored on the subject. ``load_subject`` (in
``audits.core.loading``) builds it from files and validates everything up front.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core.errors import InputError
from audits.core.rights import RightsDeclaration

__all__ = ["AuditSubject", "PARTS", "pseudonymise"]

PARTS = ("members", "nonmembers")


def pseudonymise(values, secret: bytes) -> list[str]:
    """Keyed pseudonyms (HMAC-SHA-256 with the installation secret, first 12 hex digits).

    A plain hash of an email or id is reversed by hashing guesses; a keyed hash is not without the
    secret (ICO and EDPB guidance on pseudonymisation)."""
    return ["p-" + hmac.new(secret, str(v).encode(), hashlib.sha256).hexdigest()[:12]
            for v in values]


@dataclass(frozen=True, eq=False)
class AuditSubject:
    """A fitted binary classifier with the rows it was trained on and rows it never saw.

    Parameters
    ----------
    model : fitted estimator with ``predict_proba`` and ``classes_`` (scikit-learn API).
    members, nonmembers : the training rows and holdout rows, each with the target column.
    target : name of the target column.
    positive_label : the class whose probability is the model's score (matched to ``classes_``).
    feature_columns : the model's input columns, in the order the model expects.
    sensitive_fields : protected or sensitive attributes to audit (inputs or not).
    personal_columns : direct identifiers (names, emails, phones, ids); never printed raw.
    quasi_identifiers : columns that together may re-identify a person (age, gender, postcode).
    decision_threshold : decide positive when the positive-class probability >= this; None uses
        the model's own ``predict``.
    favourable_label : the decision that benefits the customer (default: the positive label).
    favourable_action : the business action the favourable decision triggers, in words.
    id_column : the record id column, pseudonymised wherever a record is named.
    seed : the audit's seed; each probe derives its own integer seeds from it.
    files : role -> {"path": name, "sha256": digest} of the files the subject was loaded from.
    secret : the installation's pseudonymisation key (never written into a report).
    name : a short name for the report (e.g. the sample's name or the model file's stem).
    rights : the declared consent, collection-date, source and opt-out columns and erasure
        requests (``audits.core.rights``), or None when none were declared.
    """

    model: Any
    members: pd.DataFrame
    nonmembers: pd.DataFrame
    target: str
    positive_label: Any
    feature_columns: tuple[str, ...]
    sensitive_fields: tuple[str, ...] = ()
    personal_columns: tuple[str, ...] = ()
    quasi_identifiers: tuple[str, ...] = ()
    decision_threshold: float | None = None
    favourable_label: Any = None
    favourable_action: str = ""
    id_column: str | None = None
    seed: int = 0
    files: dict = field(default_factory=dict)
    secret: bytes = field(default=b"", repr=False)
    name: str = "model"
    rights: RightsDeclaration | None = None

    def __post_init__(self) -> None:
        for attr in ("feature_columns", "sensitive_fields", "personal_columns",
                     "quasi_identifiers"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        classes = list(getattr(self.model, "classes_", []))
        plain = [_plain(c) for c in classes]
        if self.positive_label not in classes:
            raise InputError(msg.LABEL_NOT_A_CLASS, what="positive label",
                             value=_plain(self.positive_label), classes=plain,
                             field="positive_label")
        if self.favourable_label is None:
            object.__setattr__(self, "favourable_label", self.positive_label)
        elif self.favourable_label not in classes:
            raise InputError(msg.LABEL_NOT_A_CLASS, what="favourable label",
                             value=_plain(self.favourable_label), classes=plain,
                             field="favourable")

    # -- data access -------------------------------------------------------------------------
    def frame(self, part: str) -> pd.DataFrame:
        if part == "members":
            return self.members
        if part == "nonmembers":
            return self.nonmembers
        raise ValueError(f"part must be one of {PARTS}, got {part!r}.")

    def X(self, part: str) -> pd.DataFrame:
        """The model's input columns of one part, in the model's order."""
        return self.frame(part)[list(self.feature_columns)]

    def y(self, part: str) -> np.ndarray:
        """1 where the true label is the positive label, else 0."""
        return (self.frame(part)[self.target].to_numpy() == self.positive_label).astype(np.int8)

    @cached_property
    def _positive_index(self) -> int:
        return list(self.model.classes_).index(self.positive_label)

    @cached_property
    def _scores(self) -> dict[str, np.ndarray]:
        return {p: np.asarray(self.model.predict_proba(self.X(p)), dtype=float)[
            :, self._positive_index] for p in PARTS}

    def scores(self, part: str) -> np.ndarray:
        """The model's probability of the positive class for each row (memoised)."""
        return self._scores[part]

    @cached_property
    def _decisions(self) -> dict[str, np.ndarray]:
        out = {}
        for p in PARTS:
            if self.decision_threshold is None:
                pred = np.asarray(self.model.predict(self.X(p)))
                out[p] = (pred == self.positive_label).astype(np.int8)
            else:
                out[p] = (self.scores(p) >= self.decision_threshold).astype(np.int8)
        return out

    def decisions(self, part: str) -> np.ndarray:
        """1 where the decision rule predicts the positive label, else 0 (memoised)."""
        return self._decisions[part]

    def favourable(self, part: str) -> np.ndarray:
        """1 where the decision is the favourable outcome for the customer."""
        d = self.decisions(part)
        return d if self.favourable_label == self.positive_label else (1 - d).astype(np.int8)

    def record_ids(self, part: str) -> list[str]:
        """Pseudonymised record ids (keyed hash of the id column, or of the row position)."""
        frame = self.frame(part)
        raw = frame[self.id_column] if self.id_column else [f"{part}:{i}" for i in
                                                            range(len(frame))]
        return pseudonymise(raw, self.secret)

    @property
    def decision_rule(self) -> str:
        if self.decision_threshold is None:
            return "the model's predict()"
        return f"positive-class probability >= {self.decision_threshold:g}"

    def summary(self) -> dict:
        """Deterministic, JSON-safe description of the subject for the report (no personal data)."""
        return {
            "name": self.name,
            "model_type": _model_type(self.model),
            "files": self.files,
            "rows": {p: int(len(self.frame(p))) for p in PARTS},
            "target": self.target,
            "positive_label": _plain(self.positive_label),
            "favourable_label": _plain(self.favourable_label),
            "favourable_action": self.favourable_action,
            "decision_rule": self.decision_rule,
            "feature_columns": list(self.feature_columns),
            "sensitive_fields": list(self.sensitive_fields),
            "personal_columns": list(self.personal_columns),
            "quasi_identifiers": list(self.quasi_identifiers),
            "id_column": self.id_column,
            "seed": self.seed,
            **({"rights": self.rights.summary()} if self.rights is not None else {}),
        }


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _model_type(model: Any) -> str:
    steps = getattr(model, "steps", None)
    if steps:
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in steps) + ")"
    return type(model).__name__
