"""Static SVG charts for the HTML and PDF reports, drawn from the report's data alone.

Vector graphics that WeasyPrint embeds in the PDF as they are: no browser, no fonts to fetch, no
scripts. Each chart is readable without colour: severities have their own marker shape and a text
label, thresholds are labelled lines (solid for fail, dashed for attention), groups too small to
judge are hatched and labelled, and curves differ by dash pattern and carry direct labels.
Output is deterministic (coordinates rounded to 0.1 px), so a stored report re-renders to the
same bytes.
"""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

__all__ = ["forest", "bars", "roc", "nice_ticks", "text_width", "fit_text"]

W = 680
FONT = 'font-family="DejaVu Sans Condensed, DejaVu Sans, Arial, sans-serif"'
INK, GREY, LIGHT = "#1a1a1a", "#6b6b6b", "#d9d9d9"
SEV_COLOUR = {"pass": "#1b7837", "attention": "#b35806", "fail": "#b2182b",
              "inconclusive": "#555555", "not_assessed": "#555555"}
SEV_LABEL = {"pass": "Pass", "attention": "Needs attention", "fail": "Fail",
             "inconclusive": "Inconclusive", "not_assessed": "Not assessed"}
DASHES = ("", "6,3", "2,2", "8,3,2,3", "1,3", "10,4")
_DEFS = ('<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
         'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
         '<line x1="0" y1="0" x2="0" y2="6" stroke="#808080" stroke-width="2"/></pattern>'
         '</defs>')


def _f(x: float) -> str:
    return f"{x:.1f}"


# Advance widths (in em) of DejaVu Sans Condensed, the charts' font, for printable ASCII; bold is
# up to 16% wider. A fixed table, not the installed font, so the same report always draws the
# same bytes; characters outside it count as a wide letter.
_ASCII_EM = (
    ".286 .36 .414 .754 .572 .855 .702 .247 .351 .351 .45 .754 .286 .325 .286 .303 .572 .572 "
    ".572 .572 .572 .572 .572 .572 .572 .572 .303 .303 .754 .754 .754 .478 .9 .615 .617 .628 "
    ".693 .568 .518 .697 .677 .265 .265 .59 .501 .776 .673 .708 .542 .708 .625 .571 .549 .659 "
    ".615 .89 .616 .549 .616 .351 .303 .351 .754 .45 .45 .551 .571 .495 .571 .554 .316 .571 "
    ".57 .25 .25 .521 .25 .876 .57 .55 .571 .571 .37 .469 .353 .57 .532 .736 .532 .532 .472 "
    ".572 .303 .572 .754")
_EM = dict(zip((chr(c) for c in range(32, 127)), (float(w) for w in _ASCII_EM.split())))


def text_width(text: str, size: float = 10, *, bold: bool = False) -> float:
    """The width in px of ``text`` drawn at ``size`` px in the charts' font."""
    em = sum(_EM.get(ch, 0.7) for ch in str(text))
    return em * size * (1.16 if bold else 1.0)


def fit_text(text: str, width: float, size: float = 10, *, bold: bool = False) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` px (the full text stays in the
    chart's accessible title and in the table beside it)."""
    text = str(text)
    if text_width(text, size, bold=bold) <= width:
        return text
    while text and text_width(text + "…", size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _title(title: str) -> tuple[list[str], float]:
    """The title's lines (wrapped at the chart's width, at most two) and the height they take."""
    words, lines, line = str(title).split(), [], ""
    for w in words:
        trial = f"{line} {w}".strip()
        if line and text_width(trial, 11, bold=True) > W - 16:
            lines.append(line)
            line = w
        else:
            line = trial
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], fit_text(" ".join(lines[1:]), W - 16, 11, bold=True)]
    return [_text(8, 14 + 14 * i, x, weight="bold", size=11) for i, x in enumerate(lines)], \
        14.0 * (len(lines) - 1)


def _t(x: float) -> str:
    """A tick or value label: short and deterministic."""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    if a >= 0.001:
        return f"{x:.3f}".rstrip("0").rstrip(".")
    if a >= 0.0001:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.0e}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], start
    while v <= hi + 1e-9 * step:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _svg(height: float, body: list[str], title: str) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{W}" '
            f'height="{_f(height)}" viewBox="0 0 {W} {_f(height)}" role="img" '
            f'aria-label="{escape(title)}" {FONT} font-size="10">')
    return "".join([head, f"<title>{escape(title)}</title>", _DEFS, *body, "</svg>"])


def _text(x, y, s, *, anchor="start", size=10, weight="normal", fill=INK) -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}"{bold} '
            f'fill="{fill}">{escape(str(s))}</text>')


def _marker(x: float, y: float, severity: str) -> str:
    c = SEV_COLOUR.get(severity, INK)
    if severity == "fail":
        return f'<rect x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="{c}"/>'
    if severity == "attention":
        return (f'<polygon points="{_f(x)},{_f(y - 5)} {_f(x + 5)},{_f(y + 4)} '
                f'{_f(x - 5)},{_f(y + 4)}" fill="{c}"/>')
    if severity == "not_assessed":
        return (f'<polygon points="{_f(x)},{_f(y - 5)} {_f(x + 5)},{_f(y)} {_f(x)},{_f(y + 5)} '
                f'{_f(x - 5)},{_f(y)}" fill="#ffffff" stroke="{c}" stroke-width="1.5"/>')
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{c}"/>'


def _bounds(threshold: dict | None) -> list[tuple[float, str]]:
    if not threshold:
        return []
    out = []
    if threshold.get("band"):
        a, b = threshold["band"]
        out += [(a, "band"), (b, "band")]
    for key in ("attention", "fail"):
        if threshold.get(key) is not None:
            out.append((float(threshold[key]), key))
    return out


def _domain(values: Sequence[float], extra: Sequence[float]) -> tuple[float, float]:
    vals = [v for v in list(values) + list(extra) if v is not None and math.isfinite(v)]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    if hi == lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1), hi + 0.5 * (abs(hi) or 1)
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def forest(rows: Sequence[dict], threshold: dict | None, *, title: str) -> str:
    """Each judged statistic as a marker with its confidence-interval whisker, beside the bounds.

    Parameters
    ----------
    rows : dicts with ``label``, ``value``, ``lo``, ``hi`` (any may be None) and ``severity``.
    threshold : the threshold's ``to_dict()`` (its attention/fail bounds or band), or None.
    title : the chart's title (also its accessible name).
    """
    bounds = _bounds(threshold)
    lo, hi = _domain([v for r in rows for v in (r.get("value"), r.get("lo"), r.get("hi"))],
                     [b for b, _ in bounds])
    values = [_value_label(r) for r in rows]
    value_w = max([text_width(v, 8) for v in values] + [text_width("Needs attention", 7)])
    label_w = min(max([text_width(r["label"]) for r in rows] + [40]), 300)
    left, right, row_h = 16 + label_w, W - 14 - value_w, 24
    head, extra = _title(title)
    top = 34 + extra
    height = top + row_h * len(rows) + 44
    sx = lambda v: left + (v - lo) / (hi - lo) * (right - left)  # noqa: E731
    body = head
    y0, y1 = top - 6, top + row_h * len(rows)
    if threshold and threshold.get("band"):
        a, b = threshold["band"]
        body.append(f'<rect x="{_f(sx(a))}" y="{_f(y0)}" width="{_f(sx(b) - sx(a))}" '
                    f'height="{_f(y1 - y0)}" fill="#f0f0f0" stroke="none"/>')
        body.append(_text((sx(a) + sx(b)) / 2, y0 - 2, f"acceptable band {_t(a)} to {_t(b)}",
                          anchor="middle", size=8, fill=GREY))
    for v, kind in bounds:
        dash = ' stroke-dasharray="5,3"' if kind in ("attention", "band") else ""
        body.append(f'<line x1="{_f(sx(v))}" y1="{_f(y0)}" x2="{_f(sx(v))}" y2="{_f(y1)}" '
                    f'stroke="{INK}" stroke-width="1.2"{dash}/>')
        if kind != "band":
            label = f"{kind} bound {_t(v)}"
            half = text_width(label, 8) / 2
            x = min(max(sx(v), half + 2), W - half - 2)
            body.append(_text(x, y1 + (22 if kind == "attention" else 33), label,
                              anchor="middle", size=8))
    for t in nice_ticks(lo, hi):
        body.append(f'<line x1="{_f(sx(t))}" y1="{_f(y1)}" x2="{_f(sx(t))}" y2="{_f(y1 + 4)}" '
                    f'stroke="{GREY}"/>')
        body.append(_text(sx(t), y1 + 13, _t(t), anchor="middle", size=8, fill=GREY))
    body.append(f'<line x1="{left}" y1="{_f(y1)}" x2="{right}" y2="{_f(y1)}" stroke="{GREY}"/>')
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        sev = r.get("severity", "pass")
        body.append(_text(left - 8, y + 3, fit_text(r["label"], label_w), anchor="end"))
        if r.get("lo") is not None and r.get("hi") is not None:
            a, b = sx(r["lo"]), sx(r["hi"])
            body.append(f'<line x1="{_f(a)}" y1="{_f(y)}" x2="{_f(b)}" y2="{_f(y)}" '
                        f'stroke="{INK}" stroke-width="1.5"/>')
            for x in (a, b):
                body.append(f'<line x1="{_f(x)}" y1="{_f(y - 5)}" x2="{_f(x)}" y2="{_f(y + 5)}" '
                            f'stroke="{INK}" stroke-width="1.5"/>')
        if r.get("value") is not None:
            body.append(_marker(sx(r["value"]), y, sev))
        body.append(_text(right + 8, y + 3, values[i], size=8))
        body.append(_text(right + 8, y + 12, SEV_LABEL.get(sev, sev), size=7,
                          fill=SEV_COLOUR.get(sev, INK)))
    return _svg(height, body, title)


def _value_label(r: dict) -> str:
    ci = (f" [{_t(r['lo'])}, {_t(r['hi'])}]" if r.get("lo") is not None
          and r.get("hi") is not None else "")
    return (_t(r["value"]) if r.get("value") is not None else "n/a") + ci


def bars(rows: Sequence[dict], *, title: str, reference: float | None = None,
         reference_label: str = "", unit: str = "") -> str:
    """Horizontal bars with confidence-interval whiskers, one per group.

    Parameters
    ----------
    rows : dicts with ``label``, ``value``, ``lo``, ``hi`` and ``judged`` (False: hatched and
        labelled "not judged", e.g. a group too small to judge).
    reference : a value drawn as a labelled dashed line (e.g. the overall rate), or None.
    """
    vals = [v for r in rows for v in (r.get("value"), r.get("lo"), r.get("hi")) if v is not None]
    lo, hi = _domain(vals, [reference] if reference is not None else [])
    if vals and min(vals) >= 0:
        lo = 0.0
    labels = []
    for r in rows:
        text = _value_label(r) + unit if r.get("value") is not None else ""
        labels.append(text + ("" if r.get("judged", True) else " (not judged)"))
    value_w = max([text_width(x, 8) for x in labels] + [20])
    label_w = min(max([text_width(r["label"]) for r in rows] + [40]), 280)
    left, right, row_h = 16 + label_w, W - 12 - value_w, 18
    head, extra = _title(title)
    top = 30 + extra
    y1 = top + row_h * len(rows)
    height = y1 + 40
    sx = lambda v: left + (v - lo) / (hi - lo) * (right - left)  # noqa: E731
    body = head
    for t in nice_ticks(lo, hi):
        body.append(f'<line x1="{_f(sx(t))}" y1="{top - 4}" x2="{_f(sx(t))}" y2="{_f(y1)}" '
                    f'stroke="{LIGHT}"/>')
        body.append(_text(sx(t), y1 + 12, _t(t), anchor="middle", size=8, fill=GREY))
    for i, r in enumerate(rows):
        y = top + row_h * i
        body.append(_text(left - 8, y + row_h / 2 + 3, fit_text(r["label"], label_w),
                          anchor="end"))
        v = r.get("value")
        if v is None:
            body.append(_text(left + 4, y + row_h / 2 + 3, "not available", size=8, fill=GREY))
            continue
        fill = "#9ecae1" if r.get("judged", True) else "url(#hatch)"
        x0, x1 = sx(max(lo, 0.0) if lo <= 0 <= hi else lo), sx(v)
        body.append(f'<rect x="{_f(min(x0, x1))}" y="{_f(y + 3)}" width="{_f(abs(x1 - x0))}" '
                    f'height="{row_h - 6}" fill="{fill}" stroke="{INK}" stroke-width="0.6"/>')
        if r.get("lo") is not None and r.get("hi") is not None:
            a, b, ym = sx(r["lo"]), sx(r["hi"]), y + row_h / 2
            body.append(f'<line x1="{_f(a)}" y1="{_f(ym)}" x2="{_f(b)}" y2="{_f(ym)}" '
                        f'stroke="{INK}" stroke-width="1.2"/>')
            for x in (a, b):
                body.append(f'<line x1="{_f(x)}" y1="{_f(ym - 4)}" x2="{_f(x)}" '
                            f'y2="{_f(ym + 4)}" stroke="{INK}" stroke-width="1.2"/>')
        body.append(_text(right + 6, y + row_h / 2 + 3, labels[i], size=8))
    if reference is not None:
        x = sx(reference)
        body.append(f'<line x1="{_f(x)}" y1="{top - 6}" x2="{_f(x)}" y2="{_f(y1 + 2)}" '
                    f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="5,3"/>')
        label = f"{reference_label} {_t(reference)}".strip()
        half = text_width(label, 8) / 2
        body.append(_text(min(max(x, half + 2), W - half - 2), y1 + 26, label,
                          anchor="middle", size=8))
    return _svg(height, body, title)


def roc(curves: Sequence[dict], *, title: str, min_rate: float = 1e-4) -> str:
    """ROC curves on log-log axes (false-positive rate across, true-positive rate up).

    Parameters
    ----------
    curves : dicts with ``label`` and ``points`` (a list of (fpr, tpr)). Points with a zero rate
        cannot be placed on a log axis and are left out; rates under ``min_rate`` are drawn at it.
    """
    legend_w = min(max([text_width(c["label"], 8) for c in curves] +
                       [text_width("dotted: chance", 8)]) + 40, 260)
    head, extra = _title(title)
    left, right, top, bottom = 60, W - 10 - legend_w, 26 + extra, 300 + extra
    height = bottom + 40
    lmin = math.log10(min_rate)
    sx = lambda v: left + (math.log10(max(v, min_rate)) - lmin) / -lmin * (right - left)  # noqa
    sy = lambda v: bottom - (math.log10(max(v, min_rate)) - lmin) / -lmin * (bottom - top)  # noqa
    body = head
    for e in range(int(lmin), 1):
        v = 10.0 ** e
        body.append(f'<line x1="{_f(sx(v))}" y1="{top}" x2="{_f(sx(v))}" y2="{bottom}" '
                    f'stroke="{LIGHT}"/>')
        body.append(f'<line x1="{left}" y1="{_f(sy(v))}" x2="{right}" y2="{_f(sy(v))}" '
                    f'stroke="{LIGHT}"/>')
        body.append(_text(sx(v), bottom + 13, _t(v), anchor="middle", size=8, fill=GREY))
        body.append(_text(left - 4, sy(v) + 3, _t(v), anchor="end", size=8, fill=GREY))
    body.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
                f'fill="none" stroke="{GREY}"/>')
    body.append(f'<line x1="{_f(sx(min_rate))}" y1="{_f(sy(min_rate))}" x2="{_f(sx(1))}" '
                f'y2="{_f(sy(1))}" stroke="{GREY}" stroke-dasharray="1,3"/>')
    body.append(_text((left + right) / 2, bottom + 28, "false-positive rate (log scale)",
                      anchor="middle", size=9))
    body.append(f'<text x="14" y="{_f((top + bottom) / 2)}" font-size="9" text-anchor="middle" '
                f'transform="rotate(-90 14 {_f((top + bottom) / 2)})">true-positive rate '
                '(log scale)</text>')
    body.append(_text(right + 8, top + 8, "dotted: chance", size=8, fill=GREY))
    for i, c in enumerate(curves):
        pts = sorted((float(f), float(t)) for f, t in c["points"]
                     if f is not None and t is not None and f > 0 and t > 0)
        if not pts:
            continue
        path = " ".join(f"{_f(sx(f))},{_f(sy(t))}" for f, t in pts)
        dash = DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        # a second round of dash patterns is drawn thicker and grey, a third thin and grey
        ink, width = [(INK, "1.3"), (GREY, "2.6"), (GREY, "0.8")][(i // len(DASHES)) % 3]
        body.append(f'<polyline points="{path}" fill="none" stroke="{ink}" '
                    f'stroke-width="{width}"{dash_attr}/>')
        y = top + 24 + 16 * i
        body.append(f'<line x1="{right + 8}" y1="{y}" x2="{right + 36}" y2="{y}" stroke="{ink}" '
                    f'stroke-width="{width}"{dash_attr}/>')
        body.append(_text(right + 40, y + 3, fit_text(c["label"], legend_w - 42, 8), size=8))
    return _svg(height, body, title)
