"""Plotly figures of the Fairness page, and the verdict words they share with its tables.

Readable without colour: each verdict has its own bar pattern (and marker symbol), every bar
carries a text label with its value, its size and its verdict in words, and thresholds are
labelled dashed lines (``views.plot_style``). The figures draw report data (or the engine's
recomputation, :mod:`audits.fairness_reference`); they compute nothing but positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from views.plot_style import SEVERITY, THRESHOLD_LINE, finish, series_style

__all__ = ["VERDICTS", "fmt_value", "group_bars", "proxy_bars", "ratio_dots", "verdict_key",
           "whatif_scatter"]

#: verdict key -> (words, bar pattern, marker symbol, colour)
VERDICTS = {  # the severities in their own colours (views.plot_style.SEVERITY)
    "fail": ("fails", "x", "x", SEVERITY["fail"]["fill"]),
    "attention": ("needs attention", "/", "triangle-up", SEVERITY["attention"]["fill"]),
    "inconclusive": ("inconclusive (these rows cannot tell)", "\\", "diamond-open",
                     SEVERITY["inconclusive"]["fill"]),
    "pass": ("ok", "", "circle", SEVERITY["pass"]["fill"]),
    "reference": ("reference group", ".", "diamond", "#56B4E9"),
    "unjudged": ("shown for information (not a judged check)", "", "square", "#0072B2"),
    "not_compared": ("not compared (too few customers for this rate)", "-", "cross", "#CC79A7"),
    "small": ("too few customers to judge", "", "hexagon", "#999999"),
}
ORDER = ("fail", "attention", "inconclusive", "pass", "reference", "unjudged", "not_compared",
         "small")


def verdict_key(row: dict, *, judged: bool) -> str:
    """The verdict of one group (a row of :func:`reports.drilldown.metric_view`)."""
    if not row["assessed"]:
        return "small"
    if row["is_reference"]:
        return "reference"
    if row.get("ratio") is None:
        return "not_compared"
    if not judged:
        return "unjudged"
    sev = row.get("severity")
    return sev if sev in ("fail", "attention", "inconclusive", "pass") else "not_compared"


def fmt_value(v, *, percent: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:.1%}" if percent else f"{v:.3f}"


def _n_text(n, suppress_below: int) -> str:
    return f"n<{suppress_below}" if n is None else f"n={n:,}"


#: Up to this many groups, each bar's label also gives its size and verdict in words.
FULL_LABELS = 6


def group_tick(group: str) -> str:
    """A group's tick label, an intersection broken before its "&" ("Mixed/Other<br>& female")
    so that the labels of many groups sit side by side without turning."""
    return str(group).replace(" & ", "<br>& ")


def _threshold_lines(fig: go.Figure, lines: Sequence[tuple[float, str]]) -> None:
    """Each threshold as a dashed line across the plot, named in the legend (a label beside
    the line would meet the bars' labels or run out of the chart)."""
    for y, label in lines:
        fig.add_hline(y=y, line=THRESHOLD_LINE, layer="above")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=THRESHOLD_LINE,
                                 name=label, hoverinfo="skip", showlegend=True))


def _label_trace(x, y, text, *, horizontal: bool = False) -> go.Scatter:
    """Text labels placed beyond the whiskers (a bar's own outside text would collide)."""
    return go.Scatter(x=x, y=y, text=text, mode="text", showlegend=False, hoverinfo="skip",
                      textposition="middle right" if horizontal else "top center",
                      cliponaxis=False, textfont={"size": 12, "color": "#000000"})


def group_bars(rows: Sequence[dict], *, title: str, y_title: str, percent: bool,
               lines: Sequence[tuple[float, str]], suppress_below: int = 10) -> go.Figure:
    """One bar per group with its interval as whiskers, one trace per verdict (pattern, colour
    and legend entry), a text label over each bar (value, size, verdict; all in one row above
    the highest whisker and threshold, so no line crosses a label), and each threshold as a
    labelled dashed line.

    ``rows`` carry ``group, n, value, low, high, verdict``; a group too small to judge gets an
    empty bar at 0 labelled "too few customers to judge". ``lines`` are (y, label) pairs.
    """
    fig = go.Figure()
    order = [r["group"] for r in rows]
    for key in ORDER:
        sel = [r for r in rows if r["verdict"] == key]
        if not sel:
            continue
        words, pattern, _, colour = VERDICTS[key]
        y = [r["value"] if r["value"] is not None else 0.0 for r in sel]
        fig.add_trace(go.Bar(
            x=[r["group"] for r in sel], y=y, name=words,
            marker={"color": colour, "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#000000", "solidity": 0.3}},
            error_y=_err([r["value"] for r in sel], [r["low"] for r in sel],
                         [r["high"] for r in sel]),
            hovertemplate="%{x}: %{y}<extra>" + words + "</extra>"))
    many = len(rows) > FULL_LABELS  # then the value alone: size and verdict in hover and table
    top = max([r["high"] or r["value"] or 0.0 for r in rows] + [y for y, _ in lines] + [0.0])
    # the labels in one row above every whisker and threshold line (the y range leaves them a
    # free band on top), so that no threshold line runs through a label
    fig.add_trace(_label_trace(
        order, [top * 1.03] * len(rows),
        [(fmt_value(r["value"], percent=percent) if r["value"] is not None else "n/a")
         if many else
         (f"{fmt_value(r['value'], percent=percent)}<br>" if r["value"] is not None else "")
         + f"{_n_text(r['n'], suppress_below)}<br>{VERDICTS[r['verdict']][0]}" for r in rows]))
    _threshold_lines(fig, lines)
    finish(fig, title=title, x="Group", y=y_title, height=500)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(categoryorder="array", categoryarray=order, tickvals=order,
                     ticktext=[group_tick(g) for g in order], tickangle=0)
    fig.update_yaxes(range=[0, top * 1.35 if top > 0 else 1.0],
                     tickformat=".0%" if percent else None)
    return fig


def _err(values, low, high) -> dict:
    return {"type": "data", "symmetric": False, "visible": True, "color": "#000000",
            "thickness": 1.5, "width": 6,
            "array": [None if h is None or v is None else h - v for v, h in zip(values, high)],
            "arrayminus": [None if lo is None or v is None else v - lo
                           for v, lo in zip(values, low)]}


def ratio_dots(rows: Sequence[dict], *, title: str, reference: str,
               lines: Sequence[tuple[float, str]]) -> go.Figure:
    """Each group's ratio to the reference as a marker with its simultaneous interval (log
    scale, so 0.5 and 2 sit equally far from parity), one marker symbol per verdict."""
    fig = go.Figure()
    for key in ORDER:
        sel = [r for r in rows if r["verdict"] == key and r.get("ratio") is not None
               and 0 < r["ratio"] < math.inf]  # a log axis has no place for 0 or infinity
        if not sel:
            continue
        words, _, symbol, colour = VERDICTS[key]
        fig.add_trace(go.Scatter(
            x=[r["group"] for r in sel], y=[r["ratio"] for r in sel], mode="markers+text",
            name=words, text=[f"{r['ratio']:.2f}" for r in sel],
            textposition="top center" if key == "reference" else "middle right",
            cliponaxis=False,
            marker={"symbol": symbol, "size": 13, "color": colour,
                    "line": {"color": "#000000", "width": 1}},
            error_y=_err([r["ratio"] for r in sel], [r.get("ratio_low") for r in sel],
                         [r.get("ratio_high") for r in sel])))
    # on a log axis, annotation positions are in log10 units (add_hline's labels would not be)
    marks = [(1.0, "", {"color": "#777777", "dash": "dot", "width": 1})]  # parity: the reference
    marks += [(y, label, THRESHOLD_LINE) for y, label in lines]
    fig.add_hline(y=1.0, line=marks[0][2], layer="above")
    _threshold_lines(fig, lines)
    ends = [v for r in rows for v in (r.get("ratio"), r.get("ratio_low"), r.get("ratio_high"))
            if v is not None and 0 < v < math.inf] + [y for y, _, _ in marks]
    finish(fig, title=title, x="Group", y=f"Ratio to {reference} (log scale)", height=460)
    order = [r["group"] for r in rows]
    fig.update_xaxes(categoryorder="array", categoryarray=order, tickvals=order,
                     ticktext=[group_tick(g) for g in order], tickangle=0)
    lo, hi = min(ends) / 1.15, max(ends) * 1.15
    ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
             if lo <= t <= hi]  # a few round ratios: a log axis's own ticks crowd
    fig.update_yaxes(type="log", range=[math.log10(lo), math.log10(hi)], tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks])
    return fig


def proxy_bars(rows: Sequence[dict], *, title: str, bound: float) -> go.Figure:
    """Horizontal bars of Cramér's V per (input, sensitive field) with simultaneous whiskers,
    patterned by verdict, each bar's value and verdict in words beyond its whisker and the
    alert bound, and the alert bound as a labelled line."""
    words_of = {"attention": "stands in (needs attention)", "fail": "stands in (fails)",
                "pass": "ok"}
    fig = go.Figure()
    order = [r["label"] for r in rows]
    for key in ORDER:
        sel = [r for r in rows if r["verdict"] == key]
        if not sel:
            continue
        _, pattern, _, colour = VERDICTS[key]
        fig.add_trace(go.Bar(
            y=[r["label"] for r in sel], x=[r["value"] for r in sel], orientation="h",
            name=words_of.get(key, VERDICTS[key][0]),
            marker={"color": colour, "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#000000", "solidity": 0.3}},
            error_x=_err([r["value"] for r in sel], [r["low"] for r in sel],
                         [r["high"] for r in sel])))
    # each label starts past its whisker and past the alert bound's line, so the line never
    # runs through a label
    starts = [max(r["high"] if r["high"] is not None else r["value"], bound) for r in rows]
    texts = [f" {r['value']:.2f} ({words_of.get(r['verdict'], VERDICTS[r['verdict']][0])})"
             for r in rows]
    fig.add_trace(_label_trace(starts, order, texts, horizontal=True))
    # room on the right for the longest label: about 7.2 px a character at 12 px, on a plot
    # of 600 px or more (the x range's end R must satisfy start + width * R / 600 <= R)
    room = max(start / (1 - min(0.6, len(t) * 7.2 / 600)) for start, t in zip(starts, texts)) \
        if rows else 1.2
    fig.add_vline(x=bound, line=THRESHOLD_LINE, layer="above",
                  annotation_text=f"alert bound {bound:g}", annotation_position="top")
    finish(fig, title=title, x="Cramér's V (0 = unrelated, 1 = a perfect stand-in)",
           y="", height=max(320, 28 * len(rows) + 150))
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1])
    fig.update_xaxes(range=[0, max(1.2, room)], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    return fig


def whatif_scatter(rows: Sequence[dict], *, title: str, bound: float) -> go.Figure:
    """The what-if trade-off: accuracy against the lowest / highest selection-rate ratio, one
    marker symbol and legend entry per scenario (no text beside the points: two scenarios close
    together would print their names over each other), the four-fifths bound as a labelled
    line."""
    fig = go.Figure()
    for i, r in enumerate(rows):
        st_ = series_style(i)
        fig.add_trace(go.Scatter(
            x=[r["dp_ratio"]], y=[r["accuracy"]], mode="markers", name=r["label"],
            hovertemplate=f"{r['label']}<br>ratio %{{x:.3f}}<br>accuracy %{{y:.1%}}"
                          "<extra></extra>", cliponaxis=False,
            marker={"symbol": st_["symbol"], "size": 14, "color": st_["color"],
                    "line": {"color": "#000000", "width": 1}}))
    fig.add_vline(x=bound, line=THRESHOLD_LINE, annotation_text=f"four-fifths ({bound:g})",
                  annotation_position="bottom right")
    xs = [r["dp_ratio"] for r in rows if r["dp_ratio"] is not None] + [bound]
    ys = [r["accuracy"] for r in rows if r["accuracy"] is not None]
    finish(fig, title=title, x="Lowest group's selection rate / highest group's (1 = equal)",
           y="Accuracy of the decisions", height=420)
    fig.update_xaxes(range=[max(0.0, min(xs) - 0.1), 1.1])
    if ys:
        pad = max(0.02, (max(ys) - min(ys)) * 0.5)
        fig.update_yaxes(range=[min(ys) - pad, max(ys) + pad], tickformat=".0%")
    return fig

