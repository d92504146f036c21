"""One look for every Plotly chart of the app, readable without colour.

Colour is never the only carrier of meaning: each series also gets its own marker symbol or line
dash (in the order below) and, where there are few points, a text label; thresholds are drawn as
labelled lines. The palette is Okabe and Ito's colour-blind-safe set (Okabe & Ito 2008, "Color
Universal Design"). Fonts are the browser's own sans-serif: no web font is fetched, and the Plotly
mode bar's logo link is off, so a chart makes no external request.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
THRESHOLD_LINE = {"color": "#000000", "dash": "dash", "width": 2}
PLOT_CONFIG = {"displaylogo": False, "scrollZoom": False,
               "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}


def series_style(i: int) -> dict:
    """Colour, marker symbol and dash of the i-th series (all three differ between series)."""
    return {"color": PALETTE[i % len(PALETTE)], "symbol": SYMBOLS[i % len(SYMBOLS)],
            "dash": DASHES[i % len(DASHES)]}


def finish(fig: go.Figure, *, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    """Titles in words, a white background, the legend above the plot, a system font."""
    fig.update_layout(
        title={"text": title, "x": 0}, xaxis_title=x, yaxis_title=y, height=height,
        template="simple_white", font={"family": "sans-serif", "size": 14},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 60, "r": 20, "t": 80, "b": 60})
    return fig


def show(fig: go.Figure, *, key: str | None = None) -> None:
    """Draw a chart across the page's width, without the logo link."""
    st.plotly_chart(fig, config=PLOT_CONFIG, key=key, width="stretch", theme=None)
