"""The thing under audit: a fitted model, its members and non-members, and what they mean.

``AuditSubject`` is frozen: every probe reads it, none changes it. Its scores and decisions depend
on nothing but the model and the rows, so they are computed once and kept on the instance; what
depends on the audit's configuration is shared through the run's cache
(:mod:`audits.core.cache`), never stored on the subject. ``load_subject`` (in
``audits.core.loading``) builds it from files and validates everything up front.

The subject knows its task (:mod:`audits.core.task`): ``binary``, ``multiclass`` or
``regression``. What each accessor gives per task:

| accessor | binary | multiclass | regression |
|---|---|---|---|
| ``labels(part)`` | the target as recorded | the target as recorded | the target, floats |
| ``y(part)`` | 1 = positive label | 1 = positive label (one vs rest) | the target, floats |
| ``proba(part)`` | ``(n, 2)``, ``classes`` order | ``(n, K)``, ``classes`` order | ValueError |
| ``scores(part)`` | P(positive) | P(positive), one vs rest | the prediction |
| ``predictions(part)`` | the decided class | the most probable class | the prediction |
| ``decisions(part)`` | 1 = positive decided | 1 = positive predicted | 1 = pred. >= threshold |
| ``favourable(part)`` | 1 = favourable decision | 1 = favourable class predicted | by direction |
| ``residuals(part)`` | ValueError | ValueError | target - prediction |

Multiclass accessors that need a positive or favourable class raise ValueError when none was
declared; a regression's decisions need a decision threshold, and its favourable decisions a
direction (``higher``: a prediction at or above the threshold is favourable; ``lower``: below).
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
from audits.core.decisions import decided_classes
from audits.core.errors import InputError
from audits.core.rights import RightsDeclaration
from audits.core.task import DIRECTIONS, TASKS

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
    """A fitted model with the rows it was trained on and rows it never saw.

    Parameters
    ----------
    model : fitted estimator (scikit-learn API): ``predict_proba`` and ``classes_`` for a
        classifier, ``predict`` for a regression.
    members, nonmembers : the training rows and holdout rows, each with the target column.
    target : name of the target column.
    positive_label : the class whose probability is the model's score (matched to ``classes_``);
        None for a regression, and for a multiclass model with no positive or favourable class.
    feature_columns : the model's input columns, in the order the model expects.
    sensitive_fields : protected or sensitive attributes to audit (inputs or not).
    personal_columns : direct identifiers (names, emails, phones, ids); never printed raw.
    quasi_identifiers : columns that together may re-identify a person (age, gender, postcode).
    decision_threshold : decide positive when the positive-class probability >= this; None uses
        the model's own ``predict``.
    favourable_label : the decision that benefits the customer (default: the positive label); a
        class for a multiclass model (None: not declared), None for a regression.
    favourable_action : the business action the favourable decision triggers, in words.
    id_column : the record id column, pseudonymised wherever a record is named.
    seed : the audit's seed; each probe derives its own integer seeds from it.
    files : role -> {"path": name, "sha256": digest} of the files the subject was loaded from.
    secret : the installation's pseudonymisation key (never written into a report).
    name : a short name for the report (e.g. the sample's name or the model file's stem).
    rights : the declared consent, collection-date, source and opt-out columns and erasure
        requests (``audits.core.rights``), or None when none were declared.
    task : ``binary``, ``multiclass`` or ``regression`` (``audits.core.task``).
    favourable_direction : a regression's favourable direction, ``higher`` or ``lower`` (None:
        not declared).
    model_format : the model file's format (``audits.core.formats``), e.g. ``skops``, ``onnx``.
    recipe : the training recipe (``audits.core.recipe.TrainingRecipe``), or None.
    recipe_note : where the recipe comes from, or why there is none.
    population : every row of each part, as partitions to count over
        (:class:`audits.core.partitions.Population`), when the frames hold a sample of them
        or the rows were read partition by partition; None when the frames hold every row.
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
    task: str = "binary"
    favourable_direction: str | None = None
    model_format: str = ""
    recipe: Any = field(default=None, repr=False)
    recipe_note: str = ""
    population: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for attr in ("feature_columns", "sensitive_fields", "personal_columns",
                     "quasi_identifiers"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}.")
        if self.task == "regression":
            if self.favourable_direction not in (None, *DIRECTIONS):
                raise InputError(msg.DIRECTION_UNKNOWN, value=self.favourable_direction,
                                 valid=list(DIRECTIONS))
            return
        classes = list(getattr(self.model, "classes_", []))
        plain = [_plain(c) for c in classes]
        if self.task == "multiclass":
            for what, label, field_ in (("positive label", self.positive_label, "positive_label"),
                                        ("favourable label", self.favourable_label,
                                         "favourable")):
                if label is not None and label not in classes:
                    raise InputError(msg.LABEL_NOT_A_CLASS, what=what, value=_plain(label),
                                     classes=plain, field=field_)
            return
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

    def labels(self, part: str) -> np.ndarray:
        """The target as recorded (floats for a regression)."""
        values = self.frame(part)[self.target].to_numpy()
        return values.astype(float) if self.task == "regression" else values

    def y(self, part: str) -> np.ndarray:
        """1 where the true label is the positive label, else 0 (a classifier; one vs rest for a
        multiclass model); the target's values for a regression."""
        if self.task == "regression":
            return self.labels(part)
        self._need("positive_label", "the positive class", "positive_label")
        return (self.frame(part)[self.target].to_numpy() == self.positive_label).astype(np.int8)

    def _need(self, attr: str, what: str, field: str) -> None:
        """An InputError (a ValueError) naming the field to declare, when ``attr`` is None."""
        if getattr(self, attr) is None:
            raise InputError(msg.DECLARATION_MISSING, task=self.task, name=self.name, what=what,
                             field=field)

    @property
    def classes(self) -> tuple:
        """The model's classes, in its order (empty for a regression)."""
        return () if self.task == "regression" else tuple(self.model.classes_)

    @cached_property
    def _positive_index(self) -> int:
        return list(self.model.classes_).index(self.positive_label)

    @cached_property
    def _proba(self) -> dict[str, np.ndarray]:
        return {p: np.asarray(self.model.predict_proba(self.X(p)), dtype=float) for p in PARTS}

    def proba(self, part: str) -> np.ndarray:
        """The class probabilities, ``(n, K)``, columns in :attr:`classes` order (memoised;
        classifiers only)."""
        if self.task == "regression":
            raise ValueError(f"The model {self.name!r} is a regression: it has no class "
                             "probabilities; use predictions().")
        return self._proba[part]

    @cached_property
    def _predicted_values(self) -> dict[str, np.ndarray]:
        return {p: np.asarray(self.model.predict(self.X(p)), dtype=float).reshape(-1)
                for p in PARTS}

    @cached_property
    def _scores(self) -> dict[str, np.ndarray]:
        if self.task == "regression":
            return self._predicted_values
        return {p: self._proba[p][:, self._positive_index] for p in PARTS}

    def scores(self, part: str) -> np.ndarray:
        """The model's probability of the positive class for each row (memoised); one vs rest
        for a multiclass model; the prediction for a regression."""
        if self.task == "multiclass":
            self._need("positive_label", "the positive class", "positive_label")
        return self._scores[part]

    def predictions(self, part: str) -> np.ndarray:
        """The prediction for each row: the number for a regression; the class the decision rule
        picks for a binary model; the most probable class for a multiclass one (memoised)."""
        if self.task == "regression":
            return self._predicted_values[part]
        if self.task == "multiclass":
            return self._predicted_classes[part]
        classes = np.asarray(self.model.classes_)
        other = classes[classes != self.positive_label][0]
        return np.where(self.decisions(part) == 1, self.positive_label, other)

    @cached_property
    def _predicted_classes(self) -> dict[str, np.ndarray]:
        classes = np.asarray(self.model.classes_)
        return {p: classes[np.argmax(self._proba[p], axis=1)] for p in PARTS}

    def residuals(self, part: str) -> np.ndarray:
        """Target minus prediction (a regression)."""
        if self.task != "regression":
            raise ValueError(f"The model {self.name!r} is a {self.task} classifier: residuals are "
                             "a regression's.")
        return self.labels(part) - self._predicted_values[part]

    @cached_property
    def _decisions(self) -> dict[str, np.ndarray]:
        out = {}
        if self.task == "regression":
            self._need("decision_threshold", "decision threshold", "decision_threshold")
            return {p: (self._predicted_values[p] >= self.decision_threshold).astype(np.int8)
                    for p in PARTS}
        if self.task == "multiclass":
            self._need("positive_label", "the positive class", "positive_label")
            return {p: (self._predicted_classes[p] == self.positive_label).astype(np.int8)
                    for p in PARTS}
        for p in PARTS:
            if self.decision_threshold is None:  # predict's rule, from the scores if it is theirs
                pred = decided_classes(self.model, self.X(p), self._proba[p])
                out[p] = (pred == self.positive_label).astype(np.int8)
            else:
                out[p] = (self.scores(p) >= self.decision_threshold).astype(np.int8)
        return out

    def decisions(self, part: str) -> np.ndarray:
        """1 where the decision rule predicts the positive label, else 0 (memoised); for a
        regression, 1 where the prediction is at or above the decision threshold."""
        return self._decisions[part]

    def favourable(self, part: str) -> np.ndarray:
        """1 where the decision is the favourable outcome for the customer (for a multiclass
        model: the favourable class is predicted; for a regression: the prediction is on the
        favourable side of the decision threshold)."""
        if self.task == "multiclass":
            self._need("favourable_label", "favourable class", "favourable")
            return (self._predicted_classes[part] == self.favourable_label).astype(np.int8)
        if self.task == "regression":
            self._need("favourable_direction", "favourable direction", "favourable")
            d = self.decisions(part)
            return d if self.favourable_direction == "higher" else (1 - d).astype(np.int8)
        d = self.decisions(part)
        return d if self.favourable_label == self.positive_label else (1 - d).astype(np.int8)

    def record_ids(self, part: str, rows=None) -> list[str]:
        """Pseudonymised record ids (keyed hash of the id column, or of the row position); with
        ``rows``, of those row positions only, in their order (a keyed hash per row is the cost:
        name only the rows shown)."""
        frame = self.frame(part)
        positions = range(len(frame)) if rows is None else [int(i) for i in rows]
        if self.id_column:
            values = frame[self.id_column]
            raw = values if rows is None else values.iloc[list(positions)]
        else:
            raw = [f"{part}:{i}" for i in positions]
        return pseudonymise(raw, self.secret)

    @property
    def decision_rule(self) -> str:
        if self.task == "multiclass":
            return "the most probable class"
        if self.task == "regression":
            if self.decision_threshold is None:
                return "none declared: the prediction itself"
            return f"prediction >= {self.decision_threshold:g}"
        if self.decision_threshold is None:
            return "the model's predict()"
        return f"positive-class probability >= {self.decision_threshold:g}"

    def summary(self) -> dict:
        """Deterministic, JSON-safe description of the subject for the report (no personal data)."""
        return {
            "name": self.name,
            "model_type": _model_type(self.model),
            "files": self.files,
            "rows": {p: int(len(self.frame(p))) if self.population is None else
                     int(self.population.rows[p]) for p in PARTS},
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
            "task": self.task,
            "classes": [_plain(c) for c in self.classes],
            "favourable_direction": self.favourable_direction,
            "model_format": self.model_format,
            "recipe": None if self.recipe is None else self.recipe.to_dict(),
            "recipe_note": self.recipe_note,
            "data_path": self.data_path(),
        }

    def data_path(self) -> dict:
        """How the rows were read: ``in-memory`` (every row in the frames) or ``partitioned``
        (file by file), with the rows the sampled parts of the audit read per part."""
        if self.population is None:
            rows = {p: int(len(self.frame(p))) for p in PARTS}
            return {"path": "in-memory", "rows": rows, "sampled_rows": rows}
        return {"path": self.population.path, "rows": dict(self.population.rows),
                "sampled_rows": {p: int(len(self.frame(p))) for p in PARTS},
                "partitions": {p: len(c) for p, c in self.population.chunks.items()}}


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _model_type(model: Any) -> str:
    if isinstance(getattr(model, "model_type", None), str):  # a format adapter says it in words
        return model.model_type
    steps = getattr(model, "steps", None)
    if steps:
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in steps) + ")"
    return type(model).__name__
