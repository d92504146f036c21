"""Drafts of the Review page's forms, kept until their write succeeds.

Every form's widget keys are made of the form, its target (a finding id, the run) and the
signed-in member, plus a version that only that member's own successful write moves on
(:func:`keys`, :func:`written`). So another member's comment or vote, which changes what the page
shows, never changes the keys of a form someone is typing into: the text stays where it is, and
a submitted form reads back exactly what was typed. (Keying forms by the number of comments
already recorded lost three of four simultaneous comments: each write re-keyed the others' forms,
which came back empty.)

What a member submits is also copied to ``state.DRAFTS`` (:func:`keep`) until the write succeeds,
so a refused or failed write, or a switch to another page and back, restores it (:func:`seed`).
The widgets take their values only from session state (seeded once), never from a ``value=``
argument that could change under them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from views import state

__all__ = ["keys", "seed", "keep", "written", "saved"]


def _versions() -> dict:
    return st.session_state.setdefault(state.DRAFT_VERSIONS, {})


def _drafts() -> dict:
    return st.session_state.setdefault(state.DRAFTS, {})


def keys(form: str, target: Any, member: str | None, *fields: str) -> dict[str, str]:
    """The widget keys of one member's form on one target, by field:
    ``{field: f"{form}_{target}_{member}_{version}_{field}"}`` (the first field's key has no
    suffix: ``f"{form}_{target}_{member}_{version}"``)."""
    who = member or "anyone"
    v = _versions().get(f"{form}|{target}|{who}", 0)
    base = f"{form}_{target}_{who}_{v}"
    return {f: base if i == 0 else f"{base}_{f}" for i, f in enumerate(fields)}


def seed(key: str, default: Any) -> None:
    """Give a widget its starting value before it is drawn: the draft kept for it, else
    ``default``; nothing when the widget already holds a value (what was typed stays)."""
    if key not in st.session_state:
        st.session_state[key] = _drafts().get(key, default)


def saved(key: str, default: Any = None) -> Any:
    """The draft kept for ``key`` (for widgets that cannot be seeded, e.g. a data editor)."""
    return _drafts().get(key, default)


def keep(values: dict[str, Any]) -> None:
    """Keep what a form submitted (widget key -> value) until its write succeeds."""
    _drafts().update(values)


def written(form: str, target: Any, member: str | None, widget_keys: Iterable[str]) -> None:
    """The form's write succeeded: drop its drafts and move its keys on (an empty form)."""
    drafts = _drafts()
    for k in widget_keys:
        drafts.pop(k, None)
    who = member or "anyone"
    versions = _versions()
    versions[f"{form}|{target}|{who}"] = versions.get(f"{form}|{target}|{who}", 0) + 1
