"""The customers' rights as declared on their rows: consent, collection date, source, opt-out and
erasure requests.

A :class:`RightsDeclaration` says which columns of the audited rows carry each customer's consent
flags (and the purposes each covers), the date their data was collected, where it came from (first
party, third party, broker) and an opt-out of automated decisions; the model's purposes (from the
submitter's context), the retention and origin of each model input (from the feature inventory),
the ids of the customers who asked to be erased (GDPR Art. 17) with their request dates, and when
the model was trained. It is carried by :class:`audits.core.subject.AuditSubject` (field
``rights``) and read by the data-rights probe (:mod:`audits.data_rights`) and the erasure check
(:mod:`attacks.erasure`).

:func:`check_rights` validates a declaration against the rows up front: a column that does not
exist, flags that are not yes/no, dates that do not parse, sources that are not one of the three
kinds all raise :class:`InputError` naming the column and the fix. Erased ids are raw personal
data: they stay in memory, and only their count, file name and hash reach a report
(:meth:`RightsDeclaration.summary`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from audits.core import messages as msg
from audits.core.errors import InputError

__all__ = ["ConsentColumn", "OptOut", "ErasureRequests", "RightsDeclaration", "SOURCES",
           "THIRD_PARTY_SOURCES", "parse_consent", "parse_opt_out", "parse_purposes",
           "parse_date", "retention_days", "load_erasure", "check_rights", "attach_rights",
           "flags", "sources", "dates", "same_purpose", "declaration_from_spec", "SPEC_KEYS"]

#: Canonical kinds of data source, row by row.
SOURCES = ("first party", "third party", "broker")
THIRD_PARTY_SOURCES = ("third party", "broker")
_SOURCE_WORDS = {"first party": "first party", "firstparty": "first party", "1st party":
                 "first party", "own": "first party", "direct": "first party",
                 "customer": "first party", "third party": "third party",
                 "thirdparty": "third party", "3rd party": "third party",
                 "partner": "third party", "broker": "broker", "data broker": "broker",
                 "third party broker": "broker"}
_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f", ""}
_UNITS = {"day": 1, "week": 7, "month": 30.4375, "year": 365.25}
_ID_WORDS = ("id", "customer_id", "customer", "record_id")
_DATE_WORDS = ("requested_at", "request_date", "requested_on", "date")


def same_purpose(a: str, b: str) -> bool:
    """Purposes match case- and spacing-insensitively ("Retention offers" = "retention  offers")."""
    return _norm(a) == _norm(b)


def _norm(text: str) -> str:
    return " ".join(str(text).lower().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class ConsentColumn:
    """A yes/no consent column and the purposes a yes covers."""

    column: str
    purposes: tuple[str, ...]

    def covers(self, purpose: str) -> bool:
        return any(same_purpose(p, purpose) for p in self.purposes)


@dataclass(frozen=True)
class OptOut:
    """A yes/no column: the customer opted out of automated decisions (GDPR Art. 22) and, when
    ``covers_training``, objected to their data training models (Art. 21)."""

    column: str
    covers_training: bool = False


@dataclass(frozen=True)
class ErasureRequests:
    """Ids of customers who asked to be erased (GDPR Art. 17), as text, with the request dates
    (ISO, or None where the file gives none). Never printed: only counted."""

    ids: tuple[str, ...]
    requested_at: tuple[str | None, ...]
    file: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class RightsDeclaration:
    """What the submitter declared about the customers' rights, row by row.

    Parameters
    ----------
    consent : the consent columns and the purposes each covers.
    purposes : the model's purposes (the submitter's context); a training row is in order when,
        for each purpose, a consent column covering it says yes.
    collected_at : the column with the date each row's data was collected.
    data_source : the column saying where each row came from (first party, third party, broker).
    opt_out : the opt-out column, and whether the opt-out also covers training.
    retention : model input -> its retention in days (the inventory's retention, parsed).
    origins : model input -> its origin (the inventory's origin).
    erasure : the erasure requests, or None.
    trained_at : the date the model was trained (ISO), or None when not declared.
    """

    consent: tuple[ConsentColumn, ...] = ()
    purposes: tuple[str, ...] = ()
    collected_at: str | None = None
    data_source: str | None = None
    opt_out: OptOut | None = None
    retention: tuple[tuple[str, int], ...] = ()
    origins: tuple[tuple[str, str], ...] = ()
    erasure: ErasureRequests | None = field(default=None, repr=False)
    trained_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "consent", tuple(self.consent))
        object.__setattr__(self, "purposes", tuple(self.purposes))
        object.__setattr__(self, "retention", tuple(tuple(r) for r in self.retention))
        object.__setattr__(self, "origins", tuple(tuple(o) for o in self.origins))

    @property
    def empty(self) -> bool:
        return not (self.consent or self.collected_at or self.data_source or self.opt_out
                    or self.erasure is not None)

    def columns(self) -> list[str]:
        """The declared row-level columns (never model inputs' business: they are read only)."""
        cols = [c.column for c in self.consent] + [self.collected_at, self.data_source,
                                                   self.opt_out.column if self.opt_out else None]
        return [c for c in cols if c]

    def summary(self, *, suppress_below: int = 10) -> dict:
        """JSON-safe description for the report: columns and counts, never an erased id (the
        number of requests is None when under ``suppress_below``, the default profile's
        small-cell bound)."""
        return {
            "consent": [{"column": c.column, "purposes": list(c.purposes)} for c in self.consent],
            "purposes": list(self.purposes), "collected_at": self.collected_at,
            "data_source": self.data_source,
            "opt_out": None if self.opt_out is None else
            {"column": self.opt_out.column, "covers_training": self.opt_out.covers_training},
            "retention_days": dict(self.retention), "origins": dict(self.origins),
            "erasure": None if self.erasure is None else
            {"requests": None if len(self.erasure) < suppress_below else len(self.erasure),
             "file": self.erasure.file,
             "sha256": self.erasure.sha256},
            "trained_at": self.trained_at}


# -- parsing options ---------------------------------------------------------------------------
def parse_purposes(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"retention offers|profiling"`` (or a list) -> the purposes, stripped, empty ones out."""
    if text is None:
        return ()
    items = text.split("|") if isinstance(text, str) else [str(t) for t in text]
    return tuple(t.strip() for t in items if t and t.strip())


def parse_consent(text: str) -> ConsentColumn:
    """``COL=purpose1|purpose2`` -> :class:`ConsentColumn` (the ``--consent`` option)."""
    column, sep, purposes = str(text).partition("=")
    column, found = column.strip(), parse_purposes(purposes)
    if not sep or not column or not found:
        raise InputError(msg.RIGHTS_CONSENT_FORMAT, text=str(text))
    return ConsentColumn(column, found)


def parse_opt_out(text: str) -> OptOut:
    """``COL`` or ``COL=decisions|training`` -> :class:`OptOut` (the ``--opt-out`` option)."""
    column, sep, scope = str(text).partition("=")
    words = {_norm(w) for w in parse_purposes(scope)} if sep else {"decisions"}
    unknown = sorted(words - {"decisions", "training"})
    if not column.strip() or unknown:
        raise InputError(msg.RIGHTS_OPT_OUT_FORMAT, text=str(text), unknown=unknown)
    return OptOut(column.strip(), "training" in words)


def parse_date(value: Any, what: str, setting: str = "trained_at") -> str:
    """An ISO date (``YYYY-MM-DD``) from text or a date; InputError naming ``what`` and the field
    that sets it (a key of :data:`audits.core.messages.FIELDS`) otherwise."""
    if isinstance(value, (_dt.date, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat()
    try:
        return pd.Timestamp(str(value).strip()).date().isoformat()
    except (ValueError, TypeError) as e:
        raise InputError(msg.RIGHTS_NOT_A_DATE, what=what, value=value, field=setting) from e


def retention_days(text: str | None) -> int | None:
    """The retention of an inventory entry in days: "24 months", "2 years", "90 days", "P2Y";
    None when it states no period ("until the account closes")."""
    if not text:
        return None
    t = str(text).strip().lower()
    iso = re.fullmatch(r"p(\d+)([dwmy])", t)
    if iso:
        n, unit = int(iso.group(1)), {"d": "day", "w": "week", "m": "month", "y": "year"}[
            iso.group(2)]
        return int(round(n * _UNITS[unit]))
    m = re.search(r"(\d+(?:\.\d+)?)\s*(day|week|month|year)s?\b", t)
    if not m:
        return None
    return int(round(float(m.group(1)) * _UNITS[m.group(2)]))


# -- erasure requests --------------------------------------------------------------------------
def load_erasure(path: str | Path, *, id_column: str | None) -> ErasureRequests:
    """Read the erased customers' file (CSV): an id column (the audited data's id column, or
    ``id``/``customer_id``) and optionally a request date (``requested_at``, ``request_date``,
    ``date``). Raises InputError naming the file, its columns and the fix."""
    path = Path(path)
    if not path.is_file():
        raise InputError(msg.RIGHTS_ERASED_MISSING, path=path)
    data = path.read_bytes()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(msg.RIGHTS_ERASED_UNREADABLE, path=path, error=e) from e
    lower = {str(c).strip().lower(): c for c in frame.columns}
    wanted = ([id_column.lower()] if id_column else []) + list(_ID_WORDS)
    col = next((lower[w] for w in wanted if w in lower), None)
    if col is None:
        need = f"'{id_column}' (the data's id column)" if id_column else "'id'"
        raise InputError(msg.RIGHTS_ERASED_NO_ID, path=path.name, columns=list(frame.columns),
                         need=need)
    date_col = next((lower[w] for w in _DATE_WORDS if w in lower), None)
    ids = frame[col].astype(str).str.strip()
    keep = ids != ""
    dates: list[str | None] = [None] * int(keep.sum())
    if date_col is not None:
        dates = [parse_date(v, f"The request date in column '{date_col}' of {path.name} "
                               f"(row {i + 2})", "erased") if str(v).strip() else None
                 for i, v in zip(np.flatnonzero(keep.to_numpy()), frame.loc[keep, date_col])]
    return ErasureRequests(tuple(ids[keep]), tuple(dates), path.name,
                           hashlib.sha256(data).hexdigest())


# -- reading the declared columns ----------------------------------------------------------------
def flags(series: pd.Series, column: str, where: str = "the data",
          setting: str = "consent") -> np.ndarray:
    """A yes/no column as booleans (1/0, true/false, yes/no; empty is no); ``setting`` is the
    declaration that named it, for the message."""
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).to_numpy(dtype=bool)
    text = series.astype(str).str.strip().str.lower().replace({"nan": "", "none": ""})
    bad = sorted(set(text) - _TRUE - _FALSE)
    if bad:
        raise InputError(msg.RIGHTS_NOT_FLAGS, column=column, file=where, bad=bad[:5],
                         field=setting)
    return text.isin(_TRUE).to_numpy()


def sources(series: pd.Series, column: str, where: str = "the data") -> np.ndarray:
    """The data-source column in canonical words (:data:`SOURCES`)."""
    keys = series.astype(str).map(_norm)
    canon = keys.map(lambda k: _SOURCE_WORDS.get(k, _SOURCE_WORDS.get(k.replace(" ", ""))))
    bad = sorted(set(series.astype(str)[canon.isna()]))
    if bad:
        raise InputError(msg.RIGHTS_SOURCE_VALUES, column=column, file=where, bad=bad[:5],
                         valid=list(SOURCES))
    return canon.to_numpy(dtype=object)


def dates(series: pd.Series, column: str, where: str = "the data") -> np.ndarray:
    """The collection-date column as ``datetime64[D]``; InputError on a value that is not a
    date (empty values too: every row needs its collection date)."""
    if pd.api.types.is_numeric_dtype(series):
        raise InputError(msg.RIGHTS_DATES_ARE_NUMBERS, column=column, file=where)
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    bad = series[parsed.isna()]
    if len(bad):
        shown = sorted(set(bad.astype(str)))[:3]
        raise InputError(msg.RIGHTS_DATES_BAD, column=column, file=where, n=len(bad),
                         shown=shown)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[D]")


def check_rights(rights: RightsDeclaration, frames: Mapping[str, pd.DataFrame], *,
                 names: Mapping[str, str] | None = None, id_column: str | None = None,
                 feature_columns: Sequence[str] = ()) -> None:
    """Validate a declaration against the audited rows; InputError naming the column and fix.

    Parameters
    ----------
    rights : the declaration.
    frames : ``{"members": ..., "nonmembers": ...}``.
    names : part -> file name, for the messages.
    id_column : the data's id column (erasure requests are matched on it).
    feature_columns : the model's inputs (a declared column must not be one).
    """
    names = names or {p: p for p in frames}
    columns = list(next(iter(frames.values())).columns)
    field_of = {**{c.column: "consent" for c in rights.consent},
                **({rights.collected_at: "collected_at"} if rights.collected_at else {}),
                **({rights.data_source: "data_source"} if rights.data_source else {}),
                **({rights.opt_out.column: "opt_out"} if rights.opt_out else {})}
    for col, setting in field_of.items():
        if col not in columns:
            raise InputError(msg.RIGHTS_COLUMN_MISSING, column=col, field=setting,
                             file=names.get("members", "the data"), columns=columns)
        if col in feature_columns:
            raise InputError(msg.RIGHTS_COLUMN_IS_INPUT, column=col, field=setting)
    if rights.consent and not rights.purposes:
        raise InputError(msg.RIGHTS_NO_PURPOSE)
    for part, frame in frames.items():
        where = names.get(part, part)
        for c in rights.consent:
            flags(frame[c.column], c.column, where)
        if rights.opt_out:
            flags(frame[rights.opt_out.column], rights.opt_out.column, where, "opt_out")
        if rights.data_source:
            sources(frame[rights.data_source], rights.data_source, where)
        if rights.collected_at:
            dates(frame[rights.collected_at], rights.collected_at, where)
    if rights.erasure is not None and id_column is None:
        raise InputError(msg.RIGHTS_ERASED_NEEDS_ID)


#: The keys of a declaration's plain form (a sample's manifest, the app's source, the CLI).
SPEC_KEYS = ("consent", "purposes", "collected_at", "data_source", "opt_out", "retention",
             "origins", "erased", "trained_at")


def declaration_from_spec(spec: Mapping[str, Any] | None, *, base_dir: str | Path | None = None,
                          id_column: str | None = None) -> RightsDeclaration | None:
    """A declaration from its plain, JSON-safe form::

        {"consent": {"consent_retention": ["retention offers"]}, "purposes": ["retention offers"],
         "collected_at": "collected_at", "data_source": "data_source",
         "opt_out": {"column": "opt_out", "covers_training": true},
         "retention": {"age": "24 months"}, "origins": {"age": "third-party broker"},
         "erased": "erased.csv", "trained_at": "2026-10-01"}

    Every key is optional; ``erased`` is a CSV path (relative to ``base_dir``) read with
    :func:`load_erasure`; retentions are parsed with :func:`retention_days` (one that states no
    period is left out). None or an empty spec gives None.
    """
    if not spec:
        return None
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise InputError(msg.RIGHTS_UNKNOWN_KEYS, bad=unknown, valid=list(SPEC_KEYS))
    opt = spec.get("opt_out")
    if isinstance(opt, str):
        opt = parse_opt_out(opt)
    elif opt:
        opt = OptOut(str(opt["column"]), bool(opt.get("covers_training")))
    erased = spec.get("erased")
    if erased:
        path = Path(erased)
        erased = load_erasure(path if base_dir is None or path.is_absolute()
                              else Path(base_dir) / path, id_column=id_column)
    retention = {f: retention_days(t) for f, t in (spec.get("retention") or {}).items()}
    trained = spec.get("trained_at")
    declaration = RightsDeclaration(
        consent=tuple(ConsentColumn(str(c), parse_purposes(p))
                      for c, p in (spec.get("consent") or {}).items()),
        purposes=parse_purposes(spec.get("purposes")),
        collected_at=spec.get("collected_at") or None, data_source=spec.get("data_source") or None,
        opt_out=opt or None,
        retention=tuple((f, d) for f, d in retention.items() if d is not None),
        origins=tuple((f, str(o)) for f, o in (spec.get("origins") or {}).items() if o),
        erasure=erased or None,
        trained_at=parse_date(trained, "The model's training date")
        if trained else None)
    return None if declaration.empty else declaration


def attach_rights(subject, rights: RightsDeclaration | None):
    """The subject with ``rights`` attached, validated against its rows (a new subject)."""
    import dataclasses

    if rights is not None:
        check_rights(rights, {"members": subject.members, "nonmembers": subject.nonmembers},
                     names={p: (subject.files.get(p) or subject.files.get("data") or {}).get(
                         "path", p) for p in ("members", "nonmembers")},
                     id_column=subject.id_column, feature_columns=subject.feature_columns)
    return dataclasses.replace(subject, rights=rights)
