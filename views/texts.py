"""Text as the pages print it: data escaped, severities and decisions in their colours.

- :func:`md` escapes what comes from data (a group "ethnicity*gender", a statement with "_" or
  "$") before it goes into ``st.markdown`` or ``st.caption``, which read Markdown (and ``$`` as
  maths): the text prints as written.
- :func:`badge` and :func:`severity_box` print a severity, and :func:`decision_box` a decision,
  in the colours of :data:`views.plot_style.SEVERITY`, always with the symbol and the word, so
  colour is never the only carrier; a rejection is never shown in a success colour. They return
  HTML for ``st.markdown(..., unsafe_allow_html=True)``; everything they print from data is
  HTML-escaped first.
- :func:`show_table` draws a small table as static HTML that wraps its cells, so no column is
  cut off at the right edge (a ``st.dataframe`` scrolls and truncates cells instead).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from views.plot_style import DECISION_SEVERITY, SEVERITY

__all__ = ["md", "badge", "severity_box", "decision_box", "show_html", "show_table", "esc"]

_MD_SPECIAL = "\\`*_{}[]<>()#+!|$~"


def md(text) -> str:
    """Escape Markdown (and Streamlit's ``$`` maths) so a text from data prints as written."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))


def esc(text) -> str:
    """HTML-escaped text (the content of the elements these helpers build)."""
    return html.escape(str(text), quote=False)


def badge(severity: str, label: str | None = None) -> str:
    """``✗ Fail`` as an inline HTML badge: the severity's symbol and word in its text colour on
    its tint, with a border of the same colour."""
    s = SEVERITY[str(severity)]
    return (f'<span style="color:{s["fg"]};background:{s["bg"]};border:1px solid {s["fg"]};'
            f'border-radius:0.3rem;padding:0 0.35em;font-weight:600;white-space:nowrap">'
            f'{s["icon"]} {esc(label or s["label"])}</span>')


def severity_box(severity: str, text_html: str) -> str:
    """A block with the severity's tint and a left rule in its colour, the text in the body
    colour after the badge. ``text_html`` must already be escaped (use :func:`esc`)."""
    s = SEVERITY[str(severity)]
    return (f'<div style="background:{s["bg"]};border-left:0.3rem solid {s["fg"]};'
            f'border-radius:0.4rem;padding:0.75rem 1rem;margin:0 0 1rem 0;color:#1F2328">'
            f'{badge(severity)} {text_html}</div>')


def decision_box(decision: str, label: str, text_html: str = "") -> str:
    """The recommended or recorded decision in its severity's colours (reject: the fail red;
    approve: the pass green; with conditions: amber; incomplete: grey)."""
    sev = DECISION_SEVERITY.get(str(decision), "inconclusive")
    s = SEVERITY[sev]
    return (f'<div style="background:{s["bg"]};border-left:0.3rem solid {s["fg"]};'
            f'border-radius:0.4rem;padding:0.75rem 1rem;margin:0 0 1rem 0;color:#1F2328">'
            f'<span style="color:{s["fg"]};font-weight:700">{s["icon"]} {esc(label)}</span>'
            f'{" " + text_html if text_html else ""}</div>')


def show_html(fragment: str) -> None:
    """Draw HTML built by these helpers (escaped data only)."""
    st.markdown(fragment, unsafe_allow_html=True)


def show_table(frame: pd.DataFrame) -> None:
    """A small table drawn as static HTML across the page, its cells wrapped (nothing cut off);
    missing values print as a dash, never as Python's ``None``."""
    st.table(frame.astype(object).where(frame.notna(), "—"), hide_index=True)
