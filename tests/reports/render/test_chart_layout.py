"""No chart of the PDF report has a label clipped or two texts drawn over each other.

Each chart is rendered by WeasyPrint on a page of its own, at the page's top left, and pypdfium2
reports the box of every character drawn. A character outside the chart's box is clipped; two
characters that are not neighbours in the text and whose boxes overlap belong to two texts drawn
over each other (a title on a legend, a value label on a group name). Checked chart by chart for
every chart the report draws (the judged checks' forest plots, the probes' bar charts, the ROC
curves) on every sample, and on charts built to stress the layout (long labels, long values).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from reports.render import charts
from reports.render.sections import findings_charts
from reports.render.tables import table_chart

PT = 0.75  # CSS px to PDF points


def _char_boxes(svgs: list[str]) -> list[tuple[str, float, float, list, np.ndarray]]:
    """Per chart: its title, width and height in points, its characters and their boxes
    (left, bottom, right, top) in the chart's own frame (origin at its top left, y down)."""
    import pypdfium2 as pdfium
    from weasyprint import HTML

    from reports.render.pdf_text import install

    install()  # the charts' text drawn as the report's PDF draws it (one run per label)
    pages = "".join(f'<div style="page-break-after: always">{s}</div>' for s in svgs)
    html = ("<html><head><style>@page { size: 600pt 1600pt; margin: 0 } body { margin: 0 }"
            f"</style></head><body>{pages}</body></html>")
    doc = pdfium.PdfDocument(HTML(string=html).write_pdf())
    out = []
    for svg, page in zip(svgs, doc):
        w = float(re.search(r'width="([\d.]+)"', svg).group(1)) * PT
        h = float(re.search(r'height="([\d.]+)"', svg).group(1)) * PT
        top = page.get_height()
        tp = page.get_textpage()
        chars, boxes = [], []
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if not ch.strip():
                continue
            left, bottom, right, upper = tp.get_charbox(i)
            chars.append((i, ch))
            boxes.append((left, top - upper, right, top - bottom))
        title = re.search(r"<title>(.*?)</title>", svg).group(1)
        out.append((title, w, h, chars, np.array(boxes).reshape(-1, 4)))
    return out


def layout_problems(svgs: list[str], *, tolerance: float = 0.5) -> list[str]:
    """Every clipped character and every pair of overlapping texts, in words."""
    problems = []
    for title, w, h, chars, b in _char_boxes(svgs):
        if not len(b):
            continue
        out = (b[:, 0] < -tolerance) | (b[:, 2] > w + tolerance) | (b[:, 1] < -tolerance) | \
              (b[:, 3] > h + tolerance)
        for k in np.flatnonzero(out)[:3]:
            problems.append(f"{title[:60]}: {chars[k][1]!r} clipped at {b[k].round(1)}")
        ix = np.array([i for i, _ in chars])
        iw = np.maximum(0, np.minimum(b[:, None, 2], b[None, :, 2])
                        - np.maximum(b[:, None, 0], b[None, :, 0]))
        ih = np.maximum(0, np.minimum(b[:, None, 3], b[None, :, 3])
                        - np.maximum(b[:, None, 1], b[None, :, 1]))
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        small = np.minimum(area[:, None], area[None, :])
        hit = (iw * ih > 0.3 * np.maximum(small, 1e-6)) & \
            (np.abs(ix[:, None] - ix[None, :]) > 2)
        for a, c in zip(*np.nonzero(np.triu(hit, 1))):
            problems.append(f"{title[:60]}: {chars[a][1]!r} overlaps {chars[c][1]!r}")
            break
    return problems


def _report_charts(report) -> list[str]:
    svgs = findings_charts(list(report.findings))
    for p in report.probes.values():
        for t in p.tables:
            svg = table_chart(t)
            if svg:
                svgs.append(svg)
    return svgs


@pytest.mark.parametrize("name", ("churn", "lead_scoring", "purchase_propensity"))
def test_no_chart_of_a_sample_is_clipped_or_overlaps(sample_report, name):
    svgs = _report_charts(sample_report(name, light=True))
    assert svgs
    assert layout_problems(svgs) == []


LONG = "erasure requests whose customer is still in the training or holdout rows, by group"


def _stress() -> list[str]:
    rows = [{"label": LONG + str(i), "value": 1234.5 * i, "lo": -0.00012, "hi": 98765.4,
             "severity": s} for i, s in enumerate(("fail", "attention", "pass"))]
    band = {"band": [0.8, 1.25]}
    bounds = {"attention": 0.55, "fail": 0.56, "direction": "above"}
    return [
        charts.forest(rows, band, title="A very long title " * 8),
        charts.forest(rows, bounds, title="Bounds close together"),
        charts.bars([{"label": LONG, "value": 0.387, "lo": 0.37, "hi": 0.404, "judged": False},
                     {"label": "x", "value": 12345.0, "lo": 1.0, "hi": 99999.0}],
                    title="Bars " * 30, reference=0.99999, reference_label="overall rate"),
        charts.roc([{"label": LONG + " / this model", "points": [(0.001, 0.01), (1, 1)]},
                    {"label": "rmia", "points": [(0.01, 0.02), (1, 1)]}],
                   title="ROC " + LONG),
    ]


def test_charts_make_room_for_long_labels_titles_and_values():
    assert layout_problems(_stress()) == []


def _overlapping() -> list[str]:
    """A chart whose title is drawn over its first group's label (as a legend over a title)."""
    svg = charts.bars([{"label": "group label", "value": 0.5, "lo": 0.4, "hi": 0.6}],
                      title="Title of the chart")
    return [svg.replace('x="8.0" y="14.0"', 'x="20.0" y="42.0"')]


def _clipped() -> list[str]:
    """A chart with a label drawn past its right edge (as a cut axis title)."""
    svg = charts.bars([{"label": "group", "value": 0.5, "lo": 0.4, "hi": 0.6}], title="Title")
    return [svg.replace("</svg>", '<text x="650" y="40" font-size="10">cut off here</text></svg>')]


@pytest.mark.xfail(strict=True, reason="a deliberately broken chart: the check must catch it")
def test_the_check_catches_overlapping_texts():
    assert layout_problems(_overlapping()) == []


@pytest.mark.xfail(strict=True, reason="a deliberately broken chart: the check must catch it")
def test_the_check_catches_a_clipped_label():
    assert layout_problems(_clipped()) == []
