"""How the app shows a verdict: a decision, a vote, a run's status, the quorum.

The colours are the app's severity palette (``views.plot_style.SEVERITY``):
fail and reject red, attention, conditions and changes requested a dark amber, pass and approve
green; anything else (a draft, an incomplete audit) neutral grey. A colour never speaks alone:
every verdict carries its symbol (✗, !, ✓, ?) and its words. Each tone sets both its text and its
background colour, so its contrast holds in the light and the dark theme alike; every pair meets
WCAG 2.1 AA for normal text (a contrast ratio of at least 4.5:1, success criterion 1.4.3), which
``tests/app/test_review_style.py`` computes with WCAG's relative-luminance formula.

Members' roles are shown in the neutral tone: a role is not a verdict, and must not look like one.
The boxes are HTML written by :func:`box_html` and :func:`badge_html` (escaped text only), shown
with ``st.markdown(..., unsafe_allow_html=True)``.
"""

from __future__ import annotations

import html

import streamlit as st

from views.plot_style import SEVERITY

__all__ = ["TONES", "SYMBOLS", "tone_of", "contrast_ratio", "badge_html", "box_html", "verdict_box"]

#: tone -> (text colour, background colour), the app's one severity palette
#: (``views.plot_style.SEVERITY``; neutral is its inconclusive grey). Border and left bar use the
#: text colour.
TONES = {tone: (SEVERITY[sev]["fg"].lower(), SEVERITY[sev]["bg"].lower())
         for tone, sev in (("fail", "fail"), ("attention", "attention"), ("pass", "pass"),
                           ("neutral", "inconclusive"))}
SYMBOLS = {"fail": "✗", "attention": "!", "pass": "✓", "neutral": "?"}

#: Decisions, votes and run statuses by tone (the ledger's names and the command line's).
_TONE = {"reject": "fail", "rejected": "fail",
         "approve_with_conditions": "attention", "conditions": "attention",
         "approved_with_conditions": "attention", "changes_requested": "attention",
         "changes": "attention",
         "approve": "pass", "approved": "pass"}


def tone_of(value: str | None) -> str:
    """The tone of a decision, a vote or a run status (``reject``, ``approved``, ...); a
    severity (``fail``, ``attention``, ``pass``) is its own tone; anything else is neutral."""
    if value in ("fail", "attention", "pass"):
        return value
    return _TONE.get(value or "", "neutral")


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour ``#rrggbb``."""
    out = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = out
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours, from 1 (none) to 21 (black on
    white): (L1 + 0.05) / (L2 + 0.05), L1 the lighter relative luminance."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _style(tone: str, *, box: bool) -> str:
    fg, bg = TONES[tone]
    if box:
        return (f"color:{fg};background-color:{bg};border:1px solid {fg};"
                f"border-left:0.4rem solid {fg};border-radius:0.5rem;"
                "padding:0.75rem 1rem;margin:0 0 1rem 0;line-height:1.5")
    return (f"color:{fg};background-color:{bg};border:1px solid {fg};border-radius:0.75rem;"
            "padding:0.05rem 0.5rem;white-space:nowrap;font-weight:600")


def badge_html(text: str, tone: str, *, symbol: bool = True) -> str:
    """An inline badge: the tone's symbol and ``text`` (escaped), in the tone's colours."""
    mark = f"{SYMBOLS[tone]} " if symbol else ""
    return (f'<span class="mrb-badge mrb-{tone}" style="{_style(tone, box=False)}">'
            f"{html.escape(mark + text)}</span>")


def box_html(lead: str, strong: str, rest: str = "", *, tone: str,
             items: list[str] | tuple[str, ...] = ()) -> str:
    """A box: the tone's symbol, ``lead`` then ``strong`` in bold, then ``rest``, and an optional
    list of ``items``; all text escaped."""
    body = (f'<span aria-hidden="true">{SYMBOLS[tone]}</span> {html.escape(lead)}'
            f"<strong>{html.escape(strong)}</strong>{html.escape(rest)}")
    if items:
        body += ('<ul style="margin:0.5rem 0 0 0">'
                 + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
    return (f'<div class="mrb-verdict mrb-{tone}" role="status" '
            f'style="{_style(tone, box=True)}">{body}</div>')


def verdict_box(lead: str, strong: str, rest: str = "", *, tone: str,
                items: list[str] | tuple[str, ...] = ()) -> None:
    """Show :func:`box_html` on the page."""
    st.markdown(box_html(lead, strong, rest, tone=tone, items=items), unsafe_allow_html=True)
