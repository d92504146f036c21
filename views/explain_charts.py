"""Plotly figures of the Explainability page.

Readable without colour: flagged inputs (sensitive, proxy, personal) carry their tag in the axis
label and a bar pattern of their own; groups get distinct patterns; a contribution that raises
the score and one that lowers it differ in pattern and in their text label ("raises" /
"lowers"). The figures draw report data (or the engine's on-demand explanation,
:mod:`audits.record_explanation`); they compute nothing but positions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import plotly.graph_objects as go

from views.plot_style import finish, series_style

__all__ = ["PATTERNS", "break_name", "contribution_bars", "dependence_plot", "feature_label",
           "group_importance_bars", "importance_bars", "short_text"]

PATTERNS = ("", "/", "x", ".", "-", "|", "+", "\\")
_UP = ("raises the score", "", "#D55E00")
_DOWN = ("lowers the score", "/", "#0072B2")
_ZERO_LINE = {"color": "#777777", "dash": "dot", "width": 1}


def feature_label(feature: str, flag: str | None) -> str:
    """An input's name with its tag, e.g. ``postcode_region (proxy for ethnicity)``."""
    return f"{feature} ({flag})" if flag else feature


def _err(values, low, high) -> dict:
    return {"type": "data", "symmetric": False, "visible": True, "color": "#000000",
            "thickness": 1.5,
            "array": [None if h is None or v is None else h - v for v, h in zip(values, high)],
            "arrayminus": [None if lo is None or v is None else v - lo
                           for v, lo in zip(values, low)]}


def importance_bars(rows: Sequence[dict], *, title: str, x_title: str) -> go.Figure:
    """Horizontal bars of mean |SHAP| per input (strongest on top) with interval whiskers;
    flagged inputs in a separate, patterned trace, their tag in the label.

    ``rows`` carry ``feature, flag, value, low, high, share``, in rank order.
    """
    fig = go.Figure()
    labels = [feature_label(r["feature"], r["flag"]) for r in rows]
    for flagged, name, pattern, colour in (
            (False, "other inputs", "", "#0072B2"),
            (True, "flagged input (sensitive, proxy or personal)", "x", "#D55E00")):
        sel = [(lab, r) for lab, r in zip(labels, rows) if bool(r["flag"]) is flagged]
        if not sel:
            continue
        vals = [r["value"] for _, r in sel]
        fig.add_trace(go.Bar(
            y=[lab for lab, _ in sel], x=vals, orientation="h", name=name,
            marker={"color": colour, "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#000000", "solidity": 0.3}},
            error_x=_err(vals, [r["low"] for _, r in sel], [r["high"] for _, r in sel])))
    fig.add_trace(go.Scatter(  # labels beyond the whiskers
        x=[r["high"] if r["high"] is not None else r["value"] for r in rows], y=labels,
        mode="text", showlegend=False, hoverinfo="skip", textposition="middle right",
        cliponaxis=False, textfont={"size": 12, "color": "#000000"},
        text=[f" {r['value']:.3f} ({r['share']:.0%})" for r in rows]))
    finish(fig, title=title, x=x_title, y="Model input", height=max(320, 34 * len(rows) + 140))
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    top = max([r["high"] or r["value"] or 0.0 for r in rows] + [0.0])
    fig.update_xaxes(range=[0, top * 1.45 if top > 0 else 1.0])
    return fig


def dependence_plot(values: Sequence, shap: Sequence[float], *, feature: str, categorical: bool,
                    y_title: str) -> go.Figure:
    """SHAP value against the input's value: a scatter for a numeric input, boxes with every
    point for a categorical one; a dotted line at 0 (no effect on the score)."""
    fig = go.Figure()
    style = series_style(0)
    if categorical:
        fig.add_trace(go.Box(x=[str(v) for v in values], y=list(shap), name=feature,
                             boxpoints="all", jitter=0.4, pointpos=0,
                             marker={"symbol": style["symbol"], "color": style["color"],
                                     "size": 5, "opacity": 0.6},
                             line={"color": "#000000"}, fillcolor="rgba(0,0,0,0)"))
        fig.update_xaxes(categoryorder="category ascending")
    else:
        fig.add_trace(go.Scatter(x=list(values), y=list(shap), mode="markers", name=feature,
                                 marker={"symbol": style["symbol"], "color": style["color"],
                                         "size": 6, "opacity": 0.6,
                                         "line": {"color": "#000000", "width": 0.5}}))
    fig.add_hline(y=0.0, line=_ZERO_LINE, annotation_text="no effect on the score",
                  annotation_position="bottom right")
    finish(fig, title=f"How the value of {feature} moves the score", x=f"Value of {feature}",
           y=y_title, height=420)
    fig.update_layout(showlegend=False)
    return fig


def group_importance_bars(rows: Sequence[dict], *, features: Sequence[str], title: str,
                          x_title: str, suppress_below: int = 10) -> go.Figure:
    """Mean |SHAP| per input for each group of a sensitive field: grouped bars, one pattern,
    colour and legend entry per group; groups too small to judge say so in their name and are
    drawn faint.

    ``rows`` carry ``group, n, too_small, feature, value`` (value None when suppressed).
    """
    fig = go.Figure()
    groups = list(dict.fromkeys(r["group"] for r in rows))
    for i, g in enumerate(groups):
        sel = {r["feature"]: r for r in rows if r["group"] == g}
        first = next(iter(sel.values()))
        n = first["n"]
        size = f"n<{suppress_below}" if n is None else f"n={n:,}"
        small = bool(first["too_small"])
        name = f"{g} ({size}" + (", too few customers to judge)" if small else ")")
        style = series_style(i)
        ys = [sel[f]["value"] if f in sel else None for f in features]
        fig.add_trace(go.Bar(
            x=[break_name(f) for f in features], y=ys, name=name,
            opacity=0.45 if small else 1.0,
            marker={"color": style["color"], "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": PATTERNS[i % len(PATTERNS)], "fgcolor": "#000000",
                                "solidity": 0.35}},
            customdata=list(features),
            hovertemplate="%{customdata}: %{y:.4f}<extra>" + name + "</extra>"))
    finish(fig, title=title, x="Model input", y=x_title, height=460)
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickangle=0)
    return fig


def short_text(text: str, limit: int = 32) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the full text goes in the hover
    and in the table under the chart)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def break_name(name: str, width: int = 14) -> str:
    """A long input name broken at its underscores or spaces into lines of about ``width``
    characters (``postcode_<br>region``), so tick labels sit side by side without turning."""
    parts = re.split(r"(?<=[_ ])", str(name))
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line += part
    lines.append(line)
    return "<br>".join(x.strip() for x in lines)


def contribution_bars(rows: Sequence[dict], *, key: str, title: str, x_title: str,
                      sd_key: str | None = None) -> go.Figure:
    """One customer's contributions per input (SHAP or LIME), in the order of ``rows`` from
    the top; contributions that raise and lower the score differ in pattern, colour, sign and
    legend entry. Each bar's value is printed beyond its end (beyond its whisker), on the bar's
    own side of zero, and the axis is widened so that every value stays inside the plot: a
    value never meets an input's name. Long labels are shortened (full text on hover).

    ``rows`` carry ``label`` and the value under ``key`` (and its spread under ``sd_key``,
    drawn as whiskers of one standard deviation).
    """
    fig = go.Figure()
    labels = [short_text(r["label"]) for r in rows]
    full = {short_text(r["label"]): r["label"] for r in rows}
    for (words, pattern, colour), up in ((_UP, True), (_DOWN, False)):
        sel = [r for r in rows if r[key] is not None and (r[key] > 0) is up]
        if not sel:
            continue
        xs = [r[key] for r in sel]
        ys = [short_text(r["label"]) for r in sel]
        err = None
        if sd_key:
            sd = [r.get(sd_key) for r in sel]
            err = {"type": "data", "array": sd, "visible": True, "color": "#000000",
                   "thickness": 1.5, "width": 5}
        fig.add_trace(go.Bar(
            y=ys, x=xs, orientation="h", name=words, error_x=err,
            customdata=[full[y] for y in ys],
            hovertemplate="%{customdata}: %{x:+.3f}<extra>" + words + "</extra>",
            marker={"color": colour, "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#000000", "solidity": 0.3}}))
        ends = [v + (1 if up else -1) * ((r.get(sd_key) or 0.0) if sd_key else 0.0)
                for v, r in zip(xs, sel)]
        fig.add_trace(go.Scatter(  # values beyond the whiskers, on the bar's side of zero
            x=ends, y=ys, mode="text", showlegend=False,
            hoverinfo="skip", cliponaxis=False, textfont={"size": 13, "color": "#000000"},
            textposition="middle right" if up else "middle left",
            text=[f" {v:+.3f} " for v in xs]))
    fig.add_vline(x=0.0, line=_ZERO_LINE)
    finish(fig, title=title, x=x_title, y="", height=max(300, 30 * len(rows) + 120))
    fig.update_layout(barmode="overlay", showlegend=True)
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    values = [r[key] for r in rows if r[key] is not None]
    reach = [abs(r[key]) + (abs(r.get(sd_key) or 0.0) if sd_key else 0.0) for r in rows
             if r[key] is not None]
    span = max(reach + [1e-9])
    # room for a value label on each side that has bars: about a third of the half-width
    lo = -span * 1.5 if any(v < 0 for v in values) else -span * 0.05
    hi = span * 1.5 if any(v > 0 for v in values) else span * 0.05
    fig.update_xaxes(range=[lo, hi], zeroline=False)
    return fig
