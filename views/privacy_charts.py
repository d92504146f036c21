"""Plotly figures of the Privacy page, drawn from the report's privacy tables and metrics alone.

- ROC curves of the membership-inference attacks on log axes, as Carlini et al. 2022 ("Membership
  Inference Attacks From First Principles", IEEE S&P) recommend: what matters for individuals is
  the true-positive rate at very low false-positive rates, which a linear axis hides. One curve
  per attack (own dash and marker), the guessing diagonal, and the 0.1% and 1% FPR levels.
- Attribute inference against the no-model imputation baseline, on members and non-members
  (Jayaraman & Evans 2022, "Are Attribute Inference Attacks Just Imputation?", CCS): four series
  with their own marker symbols, each with its confidence interval.
- The strongest attack's AUC per sensitive group, with intervals.

Every function is pure (report data in, figure or rows out), so the page stays thin and tests can
read the figures.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from audits.core.results import ProbeResult, Table
from views.plot_style import THRESHOLD_LINE, finish, series_style

__all__ = ["downsample_log", "short_label", "roc_figure", "attribute_points",
           "attribute_figure", "advantage_rows", "group_auc_figure", "GUESSING"]

GUESSING = "Guessing (true-positive rate = false-positive rate)"
MAX_POINTS = 150  # per curve: a log-spaced grid keeps the shape; fewer points draw faster
_REF_LINE = {"color": "#6b6b6b", "dash": "dot", "width": 1}
PARTS = {"members": "training customers", "nonmembers": "customers it never saw"}


def short_label(label: str) -> str:
    """``"LiRA online (likelihood ratio, ...)"`` -> ``"LiRA online"`` (the legend's name)."""
    return label.split(" (", 1)[0]


def downsample_log(points: list[tuple[float, float]], max_points: int = MAX_POINTS
                   ) -> list[tuple[float, float]]:
    """At most about ``max_points`` points of a ROC curve, evenly spread on a log FPR grid.

    Keeps, per log-spaced FPR bin, the curve's last point (the highest TPR reached by then: a ROC
    curve is monotone), and always the first and last points, so the shape at low FPR survives.
    """
    pts = sorted(points)
    if len(pts) <= max_points:
        return pts
    fpr = np.array([p[0] for p in pts], dtype=float)
    lo = fpr[fpr > 0].min() if (fpr > 0).any() else 1e-6
    edges = np.logspace(math.log10(lo), 0, max_points)
    idx = np.searchsorted(fpr, edges, side="right") - 1
    keep = sorted({0, len(pts) - 1} | {int(i) for i in idx if i >= 0})
    return [pts[i] for i in keep]


def _rows(table: Table) -> list[dict]:
    return [dict(zip(table.columns, r)) for r in table.rows]


def roc_figure(roc: Table, attacks: Table, mode: str, *, log_y: bool = True,
               max_points: int = MAX_POINTS) -> go.Figure:
    """ROC curves of every attack in one mode ("this model" or "this training recipe").

    x: false-positive rate on a log axis from 1/n (the smallest rate the holdout records can
    show) to 1; y: true-positive rate, log by default (linear with ``log_y=False``). The legend
    names each attack with its AUC; the strongest attack is marked.
    """
    info = {r["attack"]: r for r in _rows(attacks) if r["mode"] == mode}
    curves: dict[str, list] = {}
    for r in _rows(roc):
        if r["mode"] == mode and r["fpr"] is not None and r["tpr"] is not None:
            curves.setdefault(r["attack"], []).append((float(r["fpr"]), float(r["tpr"])))
    positive = [f for pts in curves.values() for f, _ in pts if f > 0]
    x_min = min(positive) if positive else 1e-3
    tprs = [t for pts in curves.values() for _, t in pts if t > 0]
    y_min = max(min(tprs + [x_min]), 1e-6) if log_y else 0.0
    fig = go.Figure()
    for i, (attack, pts) in enumerate(curves.items()):
        pts = downsample_log([p for p in pts if p[0] > 0], max_points)
        sty = series_style(i)
        a = info.get(attack, {})
        label = a.get("label") or attack
        auc = a.get("auc")
        name = f"{short_label(label)}: AUC {auc:.3f}" if auc is not None else short_label(label)
        if a.get("strongest"):
            name += " (strongest)"
        ys = [t if (t > 0 or not log_y) else None for _, t in pts]
        fig.add_trace(go.Scatter(
            x=[f for f, _ in pts], y=ys, name=name, mode="lines+markers",
            line={"color": sty["color"], "dash": sty["dash"], "width": 2.5 if a.get("strongest")
                  else 1.8},
            marker={"symbol": sty["symbol"], "size": 8, "color": sty["color"], "maxdisplayed": 12},
            hovertemplate=f"{label}<br>false-positive rate %{{x:.2%}}<br>true-positive rate "
                          f"%{{y:.2%}}<br>{mode}<extra></extra>"))
    grid = np.logspace(math.log10(x_min), 0, 60)
    fig.add_trace(go.Scatter(x=grid, y=grid,
                             name=GUESSING, mode="lines", line=THRESHOLD_LINE,
                             hoverinfo="skip"))
    for level, text in ((0.001, "0.1% false alarms"), (0.01, "1% false alarms")):
        if level >= x_min:
            fig.add_vline(x=level, line=_REF_LINE)  # shapes take data values on a log axis
            fig.add_annotation(x=math.log10(level), y=1.0, xref="x", yref="paper", text=text,
                               showarrow=False, xanchor="center", yanchor="bottom",
                               font={"size": 12})  # annotations take log10 on a log axis
    finish(fig, title=f"How well each attack tells training customers from others ({mode})",
           x="False-positive rate: holdout customers wrongly called members (log scale)",
           y="True-positive rate: training customers found" + (" (log scale)" if log_y else ""),
           height=520)
    fig.update_layout(legend_title_text="Attack and its AUC:")
    fig.update_xaxes(type="log", range=[math.log10(x_min), 0], **_log_ticks(x_min))
    if log_y:
        fig.update_yaxes(type="log", range=[math.log10(y_min), 0], **_log_ticks(y_min))
    else:
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def _log_ticks(lo: float) -> dict:
    """Ticks at the powers of ten from ``lo`` to 1, labelled as percentages (0.01%, 0.1%...)."""
    vals = [10.0 ** e for e in range(math.floor(math.log10(lo)), 1) if 10.0 ** e >= lo * 0.999]
    return {"tickvals": vals, "ticktext": [f"{100 * v:g}%" for v in vals]}


def _metric(probe: ProbeResult, name: str):
    try:
        return probe.metric(name)
    except KeyError:
        return None


def attribute_points(probe: ProbeResult) -> list[dict]:
    """One point per (field, attack, who, with or without the model): AUC and its interval.

    Read from the probe's metrics ``<field>.<attack>.auc.<part>`` and
    ``<field>.baseline.auc.<part>`` for the (field, attack) pairs of its ``attribute_inference``
    table.
    """
    out = []
    try:
        table = probe.table("attribute_inference")
    except KeyError:
        return out
    for r in _rows(table):
        field, attack = r["field"], r["attack"]
        row_label = f"{field}: {_attack_name(probe, field, attack)}"
        for part in PARTS:
            for kind, name in (("attack", f"{field}.{attack}.auc.{part}"),
                               ("baseline", f"{field}.baseline.auc.{part}")):
                m = _metric(probe, name)
                if m is None or m.value is None:
                    continue
                lo, hi = m.ci if m.ci else (None, None)
                out.append({"row": row_label, "field": field, "attack": attack, "part": part,
                            "kind": kind, "auc": m.value, "lo": lo, "hi": hi,
                            "label": m.label})
    return out


def _attack_name(probe: ProbeResult, field: str, attack: str) -> str:
    """The attack's plain name, from its metrics' labels ("model inversion (Fredrikson et al.
    2014): auc on members" -> "model inversion")."""
    m = _metric(probe, f"{field}.{attack}.auc.members")
    return short_label(m.label.split(":", 1)[0]) if m is not None and m.label else \
        attack.replace("_", " ")


_SERIES = (("attack", "members", "With the model: training customers"),
           ("attack", "nonmembers", "With the model: customers it never saw"),
           ("baseline", "members", "Without the model (baseline): training customers"),
           ("baseline", "nonmembers", "Without the model (baseline): customers it never saw"))
_SYMBOLS = {("attack", "members"): "circle", ("attack", "nonmembers"): "circle-open",
            ("baseline", "members"): "square", ("baseline", "nonmembers"): "square-open"}


def attribute_figure(points: list[dict]) -> go.Figure:
    """Dots with intervals: the attack against the no-model baseline, members and non-members,
    one row per (sensitive field, attack). Filled markers: training customers; open: customers
    the model never saw; circles: with the model; squares: without it."""
    rows = list(dict.fromkeys(p["row"] for p in points))
    pos = {r: i for i, r in enumerate(rows)}
    fig = go.Figure()
    for j, (kind, part, name) in enumerate(_SERIES):
        pts = [p for p in points if p["kind"] == kind and p["part"] == part]
        if not pts:
            continue
        colour = series_style(0 if kind == "attack" else 1)["color"]
        offset = (j - 1.5) * 0.16
        fig.add_trace(go.Scatter(
            x=[p["auc"] for p in pts], y=[pos[p["row"]] + offset for p in pts], name=name,
            mode="markers",
            marker={"symbol": _SYMBOLS[(kind, part)], "size": 11, "color": colour,
                    "line": {"width": 2, "color": colour}},
            error_x={"type": "data", "symmetric": False,
                     "array": [(p["hi"] - p["auc"]) if p["hi"] is not None else 0 for p in pts],
                     "arrayminus": [(p["auc"] - p["lo"]) if p["lo"] is not None else 0
                                    for p in pts], "color": colour, "thickness": 1.5},
            customdata=[p["row"] for p in pts],
            hovertemplate=f"%{{customdata}}<br>{name}<br>AUC %{{x:.3f}}<extra></extra>"))
    fig.add_vline(x=0.5, line=THRESHOLD_LINE, annotation_text="0.5: guessing",
                  annotation_position="top")
    finish(fig, title="Guessing a sensitive field, with and without the model",
           x="AUC of the guess (0.5 = guessing, 1 = always right)", y="",
           height=max(320, 230 + 110 * len(rows)))
    # the legend sits below the plot (plot_style.finish); the whole AUC scale from below
    # guessing to 1
    fig.update_layout(legend_title_text="Who guesses, about whom:")
    lows = [p["lo"] if p["lo"] is not None else p["auc"] for p in points]
    fig.update_xaxes(range=[min([0.4, *(v - 0.02 for v in lows)]), 1.0])
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=rows,
                     range=[-0.6, len(rows) - 0.4], autorange="reversed")
    return fig


def advantage_rows(probe: ProbeResult, *, bound: float = 0.02) -> list[dict]:
    """The model's advantage over the baseline on training and on never-seen customers, and the
    member gap (the advantage on training minus on never-seen customers), with intervals and, for
    the two judged ones, what they show against ``bound`` (THRESHOLDS.md: 0.02 AUC)."""
    from audits.core.results import Severity, Threshold, judge

    threshold = Threshold("privacy.attribute_inference", "above", attention=bound,
                          no_effect=0.0)
    words = {Severity.ATTENTION: f"reaches the bound ({bound:g}): the model gives it away",
             Severity.PASS: f"within the bound ({bound:g})",
             Severity.INCONCLUSIVE: f"cannot tell: the interval reaches across {bound:g}",
             Severity.NOT_ASSESSED: "not assessed (no interval)"}
    out = []
    try:
        table = probe.table("attribute_inference")
    except KeyError:
        return out
    for r in _rows(table):
        field, attack = r["field"], r["attack"]
        for what, name, judged in (
                ("training customers", f"{field}.{attack}.advantage.members", True),
                ("customers it never saw", f"{field}.{attack}.advantage.nonmembers", False),
                ("gain on training minus on never-seen customers",
                 f"{field}.{attack}.member_gap", True)):
            m = _metric(probe, name)
            if m is None or m.value is None:
                continue
            lo, hi = m.ci if m.ci else (None, None)
            verdict = (words[judge(m.ci, threshold, value=m.value)] if judged else
                       "shown, not judged")
            out.append({"field": field, "attack": _attack_name(probe, field, attack),
                        "compared": what,
                        "advantage": m.value, "low": lo, "high": hi, "verdict": verdict,
                        "method": m.method})
    return out


def group_auc_figure(groups: Table) -> go.Figure:
    """The strongest attack's AUC per sensitive group, with intervals and the guessing line;
    groups too small to judge are listed in the y labels as such."""
    rows = _rows(groups)
    labels = [f"{r['field']}: {r['group']}" + ("" if r.get("status") == "assessed"
                                               else " (too small to judge)") for r in rows]
    style = series_style(0)
    fig = go.Figure(go.Scatter(
        x=[r["auc"] for r in rows], y=labels, mode="markers", name="Attack AUC in the group",
        marker={"symbol": style["symbol"], "size": 10, "color": style["color"]},
        error_x={"type": "data", "symmetric": False,
                 "array": [(r["auc_high"] - r["auc"]) if r["auc_high"] is not None
                           and r["auc"] is not None else 0 for r in rows],
                 "arrayminus": [(r["auc"] - r["auc_low"]) if r["auc_low"] is not None
                                and r["auc"] is not None else 0 for r in rows]}))
    fig.add_vline(x=0.5, line=THRESHOLD_LINE, annotation_text="0.5: guessing",
                  annotation_position="top")
    finish(fig, title="Strongest attack's AUC per group (this model)",
           x="Attack AUC (0.5 = guessing)", y="", height=max(260, 120 + 34 * len(rows)))
    fig.update_yaxes(autorange="reversed")
    return fig
