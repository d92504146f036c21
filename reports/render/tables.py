"""Format a probe's tables and metrics for the page: generic, whatever the probe.

A table is shown as it is stored, with three changes that make it readable on paper:

- a column ``x`` with companions ``x_low`` and ``x_high`` becomes one cell, value over interval;
- a table too wide for the page is split into column chunks that repeat its key columns;
- a table of a curve (``fpr``/``tpr``) is drawn, not printed, and long tables are cut after
  :data:`MAX_ROWS` rows with a note (every row stays in the JSON);
- headers are words with their units (:func:`reports.render.names.column_name`: "TPR at 1% FPR",
  not ``tpr_1pct``), attacks are named in words (not ``lira_offline``) and p-values print as
  "< 0.001" (:func:`audits.core.numbers.fmt_p`), never as 2.68e-105.

Small cells: a None in a count column prints as "<10 suppressed" (the probe suppressed it) and a
count under the profile's ``suppress_below`` in a count column is suppressed here as well, so no
rendering prints a small count even if a probe forgot to. Formatting dispatches on the result type
(``functools.singledispatch``), as renderers do in the house style.
"""

from __future__ import annotations

import re
from functools import singledispatch
from typing import Any

from audits.core.numbers import fmt, fmt_ci, fmt_p, is_p_value
from audits.core.results import Metric, Table
from reports.render import charts
from reports.render.names import attack_name, column_name

__all__ = ["fmt", "fmt_ci", "to_view", "table_chart", "MAX_ROWS", "is_count_column"]

MAX_ROWS = 500  # rows of a table in the HTML; the PDF passes a smaller cap
MAX_CHART_ROWS = 30
SERIES_FACTOR = 8  # a table over 8 x max_rows rows is a data series: noted, not printed
WIDTH_BUDGET = 132  # characters of a table row on an A4 page (condensed font, 7 pt)
_COUNT = re.compile(r"^(n|count|records|rows|n_.+|.+_count|count_.+)$")


def is_count_column(name: str) -> bool:
    return bool(_COUNT.match(name))


def _cell(value: Any, column: str, suppress_below: int) -> Any:
    if is_p_value(column):
        return fmt_p(value, prefix=False)
    if column == "attack" and isinstance(value, str):
        return attack_name(value)
    if is_count_column(column):
        if value is None:
            return f"<{suppress_below} suppressed"
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and 0 < value < suppress_below and float(value).is_integer():
            return f"<{suppress_below} suppressed"
    return fmt(value)


def _width(cell: Any) -> int:
    if isinstance(cell, dict):
        return max(len(cell["v"]), len(cell["ci"]) * 0.8)
    return min(len(str(cell)), 40)


def _fold(table: Table) -> tuple[list[str], list[tuple[str, int, int | None, int | None]]]:
    """Columns to show: (name, index, low index, high index)."""
    cols = list(table.columns)
    idx = {c: i for i, c in enumerate(cols)}
    shown, skip = [], set()
    for c in cols:
        if c in skip:
            continue
        lo, hi = idx.get(f"{c}_low"), idx.get(f"{c}_high")
        if lo is not None and hi is not None:
            skip.update({f"{c}_low", f"{c}_high"})
            shown.append((c, idx[c], lo, hi))
        else:
            shown.append((c, idx[c], None, None))
    return cols, shown


def _key_count(table: Table, shown) -> int:
    keys = 0
    for _, i, lo, _ in shown:
        if lo is not None or any(isinstance(r[i], (int, float)) and not isinstance(r[i], bool)
                                 for r in table.rows):
            break
        keys += 1
    return min(keys, 3)


def _greedy(widths: list[float], cap: float) -> list[list[int]]:
    chunks, current, used = [], [], 0.0
    for j, w in enumerate(widths):
        if current and used + w > cap:
            chunks.append(current)
            current, used = [], 0.0
        current.append(j)
        used += w
    return chunks + [current]


def _balanced_chunks(widths: list[float], budget: float) -> list[list[int]]:
    """Split value columns into as few chunks as fit ``budget``, as evenly as possible (the
    smallest cap that needs no more chunks than the greedy split at the budget)."""
    if not widths:
        return [[]]
    n = len(_greedy(widths, max(budget, max(widths))))
    lo, hi = max(widths), max(budget, max(widths))
    for _ in range(30):
        mid = (lo + hi) / 2
        if len(_greedy(widths, mid)) <= n:
            hi = mid
        else:
            lo = mid
    return _greedy(widths, hi)


def is_curve(table: Table) -> bool:
    """A curve's points (an ROC table): ``fpr`` and ``tpr`` columns without intervals."""
    cols = set(table.columns)
    return {"fpr", "tpr"} <= cols and "fpr_low" not in cols and "tpr_low" not in cols


@singledispatch
def to_view(obj, **kw) -> Any:
    """The printable form of a result object (dispatch on its type)."""
    raise TypeError(f"No view for {type(obj).__name__}.")


@to_view.register
def _(table: Table, *, suppress_below: int = 10, max_rows: int = MAX_ROWS) -> dict:
    """``{"title", "note", "chunks": [{"columns", "rows"}], "truncated", "curve"}``."""
    _, shown = _fold(table)
    if len(table.rows) > SERIES_FACTOR * max_rows:  # a data series (e.g. a dependence plot's)
        return {"name": table.name, "title": table.title or table.name.replace("_", " "),
                "note": f"{table.title or table.name}: a series of {len(table.rows)} rows, "
                        "too long to print here; every row is in the HTML report and the JSON.",
                "chunks": [], "curve": is_curve(table), "series": True,
                "n_rows": len(table.rows)}
    rows = table.rows[:max_rows]
    body = []
    for r in rows:
        out = []
        for name, i, lo, hi in shown:
            if lo is None:
                out.append(_cell(r[i], name, suppress_below))
            else:
                ci = fmt_ci((r[lo], r[hi]))
                out.append({"v": fmt(r[i]), "ci": ci} if ci else fmt(r[i]))
        body.append(out)
    names = [name for name, *_ in shown]
    keys = _key_count(table, shown)
    widths = [max([len(n)] + [_width(row[j]) for row in body]) + 3 for j, n in enumerate(names)]
    chunks = _balanced_chunks(widths[keys:], WIDTH_BUDGET - sum(widths[:keys]))
    chunks = [[keys + j for j in chunk] for chunk in chunks]
    views = []
    for chunk in chunks:
        sel = list(range(keys)) + chunk
        total = sum(widths[j] for j in sel)
        views.append({"columns": [column_name(names[j]) for j in sel],
                      "widths": [f"{100 * widths[j] / total:.1f}" for j in sel],
                      "rows": [[row[j] for j in sel] for row in body]})
    note = table.note
    if len(table.rows) > max_rows:
        note = (note + " " if note else "") + (f"The first {max_rows} of {len(table.rows)} rows "
                                               "are shown here; every row is in the HTML report "
                                               "and the report JSON.")
    return {"name": table.name, "title": table.title or table.name.replace("_", " "),
            "note": note, "chunks": views, "curve": is_curve(table), "series": False,
            "n_rows": len(table.rows)}


@to_view.register
def _(metric: Metric, **kw) -> dict:
    value = fmt_p(metric.value) if is_p_value(metric.name) else fmt(metric.value)
    return {"name": metric.name, "label": metric.label or metric.name.replace("_", " "),
            "value": value, "ci": fmt_ci(metric.ci),
            "n": fmt(metric.n) if metric.n is not None else "",
            "method": metric.method, "reference": metric.reference}


def table_chart(table: Table) -> str | None:
    """An SVG chart of a table, when it has one: ROC curves for ``fpr``/``tpr`` tables, bars with
    whiskers for a table with an interval column and at most ``MAX_CHART_ROWS`` rows."""
    cols = list(table.columns)
    idx = {c: i for i, c in enumerate(cols)}
    title = table.title or table.name.replace("_", " ")
    if is_curve(table):
        keys = [c for c in cols if c not in ("fpr", "tpr", "threshold")
                and all(isinstance(r[idx[c]], str) or r[idx[c]] is None for r in table.rows)]
        curves: dict[str, list] = {}
        for r in table.rows:
            label = " / ".join(str(r[idx[k]]) for k in keys) or "curve"
            curves.setdefault(label, []).append((r[idx["fpr"]], r[idx["tpr"]]))
        return charts.roc([{"label": k, "points": v} for k, v in curves.items()], title=title)
    _, shown = _fold(table)
    triples = [s for s in shown if s[2] is not None]
    if not triples or not 0 < len(table.rows) <= MAX_CHART_ROWS:
        return None
    prefer = ("selection_rate", "ratio", "cramers_v", "advantage", "auc")
    name, i, lo, hi = next((s for p in prefer for s in triples if s[0] == p), triples[0])
    keys = shown[:_key_count(table, shown)]
    status = idx.get("status")
    rows = []
    for r in table.rows:
        label = ": ".join(str(r[k[1]]) for k in keys) or str(len(rows) + 1)
        judged = status is None or str(r[status]) in ("assessed", "reference", "ok", "None")
        rows.append({"label": label, "value": r[i], "lo": r[lo], "hi": r[hi], "judged": judged})
    return charts.bars(rows, title=f"{title}: {name.replace('_', ' ')} with its interval")
