"""One look for every Plotly chart of the app, readable without colour.

Colour is never the only carrier of meaning: each series also gets its own marker symbol or line
dash (in the order below) and, where there are few points, a text label; thresholds are drawn as
labelled lines. The palette is Okabe and Ito's colour-blind-safe set (Okabe & Ito 2008, "Color
Universal Design"). Fonts are the browser's own sans-serif: no web font is fetched, and the Plotly
mode bar's logo link is off, so a chart makes no external request.

Severities (THRESHOLDS.md) have one look everywhere, chart and page alike (:data:`SEVERITY`): fail
red, attention a dark amber, pass green, inconclusive and not assessed grey; each with its symbol
and its word, so colour is never alone. Every text colour reaches the WCAG 2.1 AA contrast ratio
(4.5:1, success criterion 1.4.3) on white and on its own tint, and every fill used for marks
reaches 3:1 against white (non-text contrast, 1.4.11); :func:`contrast_ratio` computes the ratio
as WCAG 2.1 defines it, and ``tests/app/test_plot_style.py`` checks the palette with it.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
THRESHOLD_LINE = {"color": "#000000", "dash": "dash", "width": 2}
#: Text of charts and pages: body text, and the secondary grey of notes and reference lines.
TEXT, TEXT_MUTED = "#1F2328", "#595959"

#: severity -> its symbol, its word, its text colour (``fg``), its tint (``bg``, behind text in
#: ``fg``) and its fill for chart marks (``fill``). Keys are ``Severity`` values.
SEVERITY = {
    "fail": {"icon": "✗", "label": "Fail", "fg": "#B42318", "bg": "#FDECEA",
             "fill": "#D1242F"},
    "attention": {"icon": "!", "label": "Needs attention", "fg": "#8A5A00", "bg": "#FFF4D6",
                  "fill": "#B7791F"},
    "pass": {"icon": "✓", "label": "Pass", "fg": "#146C2E", "bg": "#EAF6EE",
             "fill": "#1A7F37"},
    "inconclusive": {"icon": "?", "label": "Inconclusive", "fg": "#4B5563", "bg": "#F1F3F5",
                     "fill": "#6B7280"},
    "not_assessed": {"icon": "–", "label": "Not assessed", "fg": "#4B5563", "bg": "#F1F3F5",
                     "fill": "#6B7280"},
}
#: The board's decisions (``reports.report.DECISIONS`` keys) in the severity they read as: a
#: rejection is never shown in a success colour.
DECISION_SEVERITY = {"reject": "fail", "incomplete": "inconclusive",
                     "approve_with_conditions": "attention", "approve": "pass",
                     "changes_requested": "attention"}
PLOT_CONFIG = {"displaylogo": False, "scrollZoom": False,
               "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}


def series_style(i: int) -> dict:
    """Colour, marker symbol and dash of the i-th series (all three differ between series)."""
    return {"color": PALETTE[i % len(PALETTE)], "symbol": SYMBOLS[i % len(SYMBOLS)],
            "dash": DASHES[i % len(DASHES)]}


def wrap(text: str, width: int = 70) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces (Plotly's ``<br>``):
    Plotly never wraps a title, a legend entry or a tick label itself."""
    lines, line = [], ""
    for word in str(text).split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


def finish(fig: go.Figure, *, title: str, x: str, y: str, height: int = 420,
           width_chars: int = 80) -> go.Figure:
    """Titles in words, a white background, a system font, and room for every label.

    The title sits at the top of the figure and pushes the margins (Plotly's ``automargin``) so
    it never meets the plot, its tick labels or its axis titles; the legend sits at the bottom
    of the figure, below the x axis's title, and pushes the bottom margin; both axes make room
    for their longest tick label. Long titles wrap at ``width_chars`` characters (a chart drawn
    across the page's width), axis titles a little shorter. The figure grows by the legend's
    lines so that the plot keeps its height.
    """
    named = [t for t in fig.data if t.name and t.showlegend is not False]
    shown = len(named) > 1 or any(t.showlegend for t in named)
    # a horizontal legend flows its entries into lines across the width (about 110 characters)
    legend_lines = -(-sum(len(str(t.name)) + 8 for t in named) // 110) if shown else 0
    text = wrap(title, width_chars)
    total = height + 26 * legend_lines
    # Plotly anchors a wrapped title's first line, not its box: lower it by its further lines
    top = 1 - 44 * text.count("<br>") / total
    fig.update_layout(
        title={"text": text, "x": 0, "xanchor": "left", "xref": "container",
               "y": top, "yanchor": "top", "yref": "container", "automargin": True,
               "pad": {"t": 6, "b": 10, "l": 4}, "font": {"size": 17}},
        xaxis_title={"text": wrap(x, width_chars - 10), "standoff": 10},
        # a y title runs along the plot's height: about 8.5 px a character at 14 px
        yaxis_title={"text": wrap(y, max(18, int((height - 170) / 8.5))), "standoff": 8},
        height=total,
        template="simple_white", font={"family": "sans-serif", "size": 14, "color": TEXT},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                "yref": "container", "traceorder": "normal"},
        margin={"l": 10, "r": 20, "t": 10, "b": 10})
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def show(fig: go.Figure, *, key: str | None = None) -> None:
    """Draw a chart across the page's width, without the logo link."""
    st.plotly_chart(fig, config=PLOT_CONFIG, key=key, width="stretch", theme=None)


def _luminance(colour: str) -> float:
    """Relative luminance of an sRGB colour ``#RRGGBB`` (WCAG 2.1, "relative luminance")."""
    h = colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"A colour must be written #RRGGBB; got {colour!r}.")
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio (L1 + 0.05) / (L2 + 0.05) of two ``#RRGGBB`` colours, 1 to 21."""
    hi, lo = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def severity_colour(severity: str, part: str = "fill") -> str:
    """The colour of a severity (``fill`` for chart marks, ``fg`` for text, ``bg`` its tint)."""
    return SEVERITY[str(severity)][part]
