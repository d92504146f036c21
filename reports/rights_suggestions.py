"""Suggested data-rights columns for the Load page, each with its reason (as
:mod:`reports.suggestions` does for sensitive fields): consent flags, an opt-out, the collection
date and the data source, found by the column's name and checked on its values."""

from __future__ import annotations

import pandas as pd

from audits.core.errors import InputError
from audits.core.rights import dates, flags, sources
from reports.suggestions import FieldSuggestion, name_words

__all__ = ["suggest_rights", "RIGHTS_ROLES"]

RIGHTS_ROLES = ("consent", "opt_out", "collected_at", "data_source")
_NAMES = {
    "consent": ({"consent", "consented", "optin", "permission", "permissions", "agreed",
                 "gdpr"}, "the name speaks of consent"),
    "opt_out": ({"optout", "opted", "objection", "objected", "dnc", "unsubscribed",
                 "restrict", "restricted"}, "the name speaks of an opt-out or objection"),
    "collected_at": ({"collected", "collection", "created", "acquired", "captured", "date",
                      "signup", "joined"}, "the name speaks of when the data came in"),
    "data_source": ({"source", "provenance", "origin", "acquisition", "channel"},
                    "the name speaks of where the data came from"),
}
_CHECK = {"consent": flags, "opt_out": flags, "collected_at": dates, "data_source": sources}
_VALUES = {"consent": "its values are yes/no flags", "opt_out": "its values are yes/no flags",
           "collected_at": "every value is a date",
           "data_source": "its values are first party, third party or broker"}


def _words(column: str) -> set[str]:
    words = set(name_words(column))
    joined = "".join(sorted(words))
    if "opt" in words and "out" in words or "optout" in joined:
        words.add("optout")
    if "opt" in words and "in" in words:
        words.add("optin")
    return words


def suggest_rights(frame: pd.DataFrame, *, exclude=(), sample_size: int = 500
                   ) -> dict[str, list[FieldSuggestion]]:
    """Role -> columns whose name suggests the role and whose values fit it (first rows)."""
    head = frame.head(sample_size)
    out: dict[str, list[FieldSuggestion]] = {r: [] for r in RIGHTS_ROLES}
    for column in frame.columns:
        if column in exclude:
            continue
        words = _words(str(column))
        for role in RIGHTS_ROLES:
            terms, why = _NAMES[role]
            if not words & terms:
                continue
            try:
                _CHECK[role](head[column], str(column))
            except (InputError, ValueError, TypeError):
                continue
            out[role].append(FieldSuggestion(str(column), f"{why}, and {_VALUES[role]}"))
            break
    return out
