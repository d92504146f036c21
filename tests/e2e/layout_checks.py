"""Layout checks of a page as Chromium draws it: charts whose text fits, tables and tiles that fit.

Plotly draws a chart's text as SVG ``<text>`` elements; their bounding boxes in the browser
(``getBoundingClientRect``) say where each title, legend, axis title, tick label, annotation and
data label really landed. :data:`COLLECT_JS` reads them for every chart of the page, and
:func:`chart_problems` finds, from those boxes alone:

- clipped text: a box outside the chart's own area (the SVG cuts it off), or cut by the page;
- collisions: the title, the legend, the axis titles and the annotations must not overlap one
  another; a tick label must not overlap any of them nor another tick label (colliding or
  auto-rotated ticks); a data label (a bar's value, a scatter's text) must not overlap any of
  them nor another data label;
- a reference line (a threshold or parity line: Plotly's shapes) drawn through a data label.

:data:`COLLECT_JS` also reads what Streamlit cuts rather than wraps: a metric tile's label or
value shortened with an ellipsis, and a table or dataframe wider than its frame (columns hidden
to the right); :func:`element_problems` reports them.

Pure functions over plain data (the JS returns lists of dicts), so the rules are tested on
planted boxes without a browser (``tests/e2e/test_layout.py``).
"""

from __future__ import annotations

from itertools import combinations

#: Boxes may touch or share this many pixels (anti-aliasing, line height) without overlapping.
TOLERANCE_PX = 1.5

#: Kinds of text in a chart; FRAME kinds must not overlap one another.
FRAME = ("title", "legend", "axis-title", "annotation")

COLLECT_JS = r"""
() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const charts = [];
  document.querySelectorAll('[data-testid=stPlotlyChart]').forEach((el, i) => {
    const plot = el.querySelector('.js-plotly-plot');
    const svg = el.querySelector('.svg-container');
    if (!plot || !svg) return;
    const items = [];
    const add = (kind, e, extra) => {
      const b = box(e);
      const text = (e.textContent || '').trim();
      if (b.x1 - b.x0 < 0.5 || b.y1 - b.y0 < 0.5 || (!text && kind !== 'legend')) return;
      items.push(Object.assign({kind: kind, text: text.slice(0, 80)}, b, extra || {}));
    };
    plot.querySelectorAll('.g-gtitle text.gtitle').forEach(e => add('title', e));
    plot.querySelectorAll('g.legend').forEach(e => add('legend', e));
    plot.querySelectorAll('text[class$="title"]').forEach(e => {
      const c = e.getAttribute('class') || '';
      if (/^[xy][0-9]*title$/.test(c)) add('axis-title', e, {axis: c});
    });
    plot.querySelectorAll('g.annotation text.annotation-text').forEach(e => add('annotation', e));
    plot.querySelectorAll('g.xtick text, g.ytick text, g.x2tick text, g.y2tick text')
      .forEach(e => add('tick', e, {axis: e.parentNode.getAttribute('class')}));
    plot.querySelectorAll('g.textpoint text, text.bartext').forEach(e => add('data-label', e));
    // a shape's path has no thickness in its box: a straight line gets half its stroke each side
    plot.querySelectorAll('.shapelayer path').forEach(e => {
      const b = box(e);
      const w = Math.max(1, parseFloat(getComputedStyle(e).strokeWidth) || 1) / 2;
      if (b.x1 - b.x0 < 1) { b.x0 -= w; b.x1 += w; }
      if (b.y1 - b.y0 < 1) { b.y0 -= w; b.y1 += w; }
      items.push(Object.assign({kind: 'line', text: 'reference line'}, b));
    });
    const title = plot.querySelector('.g-gtitle text.gtitle');
    charts.push({index: i, title: title ? title.textContent : '', area: box(svg),
                 page: {x0: 0, y0: 0, x1: document.documentElement.scrollWidth,
                        y1: 1e9}, items: items});
  });
  const cut = [];
  // a tile's or a button's text shortened with an ellipsis: the element that clips (overflow
  // hidden) is the label's or value's box, not the text inside it; any box narrower than its
  // content counts, reported once per element shown
  const shortened = (selector, inside, what) => {
    document.querySelectorAll(selector).forEach(m => {
      const seen = new Set();
      m.querySelectorAll(inside).forEach(e => {
        const text = e.textContent.trim();
        if (e.scrollWidth > e.clientWidth + 1 && text && e.clientWidth > 0 && !seen.has(text)) {
          seen.add(text);
          cut.push({what: what, text: text.slice(0, 80),
                    overflow: e.scrollWidth - e.clientWidth});
        }
      });
    });
  };
  shortened('[data-testid=stMetric]', '*', 'metric');
  shortened('[data-testid=stButton], [data-testid=stDownloadButton], '
            + '[data-testid=stFormSubmitButton]', 'button *', 'button');
  document.querySelectorAll('[data-testid=stTable]').forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1)
      cut.push({what: 'table', text: (e.querySelector('th') || e).textContent.trim().slice(0, 80),
                overflow: e.scrollWidth - e.clientWidth});
  });
  const before = (e) => {  // the text shown just above an element: its heading or caption
    let c = e.closest('[data-testid=stElementContainer]') || e;
    for (let i = 0; i < 4 && c; i++) {
      c = c.previousElementSibling;
      const t = c ? c.innerText.trim() : '';
      if (t) return t.slice(0, 80);
    }
    return '';
  };
  document.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller').forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1)
      cut.push({what: 'dataframe', text: 'after: ' + before(e),
                overflow: e.scrollWidth - e.clientWidth});
  });
  return {charts: charts, cut: cut};
}
"""


def _overlap(a: dict, b: dict, tol: float = TOLERANCE_PX) -> bool:
    return (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tol and
            min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > tol)


def _inside(a: dict, area: dict, tol: float = TOLERANCE_PX) -> bool:
    return (a["x0"] >= area["x0"] - tol and a["y0"] >= area["y0"] - tol and
            a["x1"] <= area["x1"] + tol and a["y1"] <= area["y1"] + tol)


def _name(item: dict) -> str:
    return f"{item['kind']} '{item['text']}'"


def _may_not_meet(a: dict, b: dict) -> bool:
    """Whether two text boxes of a chart must stay apart (see the module's rules)."""
    ka, kb = a["kind"], b["kind"]
    if "line" in (ka, kb):  # a reference line may run beside any text, not through a value
        return {ka, kb} == {"line", "data-label"}
    if "data-label" in (ka, kb):  # a data label against anything
        return True
    if "tick" in (ka, kb):  # a tick label against the frame and the other ticks
        return ka in FRAME or kb in FRAME or ka == kb
    return ka in FRAME and kb in FRAME


def chart_problems(chart: dict) -> list[str]:
    """What is wrong with one chart's text boxes (empty when it fits), in words."""
    out = []
    title = chart.get("title") or f"chart {chart.get('index')}"
    items = chart["items"]
    for it in items:
        if not _inside(it, chart["area"]):
            out.append(f"{title}: {_name(it)} is clipped (outside the chart's area)")
    legend = [it for it in items if it["kind"] == "legend"]
    for a, b in combinations(items, 2):
        if legend and {a["kind"], b["kind"]} == {"legend"}:
            continue
        if not (_may_not_meet(a, b) and _overlap(a, b)):
            continue
        if "line" in (a["kind"], b["kind"]):
            line, label = (a, b) if a["kind"] == "line" else (b, a)
            out.append(f"{title}: {_name(line)} runs through {_name(label)}")
        else:
            out.append(f"{title}: {_name(a)} overlaps {_name(b)}")
    return out


def element_problems(cut: list[dict]) -> list[str]:
    """Tiles, buttons and tables that Streamlit cut instead of wrapping, in words."""
    words = {"metric": "a metric tile's text is shortened with an ellipsis",
             "button": "a button's label is shortened with an ellipsis",
             "table": "a table is wider than its frame",
             "dataframe": "a dataframe's columns run past its right edge"}
    return [f"{words[c['what']]} ({c['overflow']:.0f} px): '{c['text']}'" for c in cut]


def page_layout(page) -> dict:
    """The boxes of every chart and the cut elements of the page shown in ``page``."""
    return page.evaluate(COLLECT_JS)


def page_problems(page) -> list[str]:
    """Every layout problem of the page shown in ``page`` (empty when everything fits)."""
    found = page_layout(page)
    out = [p for c in found["charts"] for p in chart_problems(c)]
    return out + element_problems(found["cut"])


# -- figures drawn outside the app (the same plotly.js version as Streamlit's) ------------------
def open_figure_page(page) -> None:
    """Load plotly.js from the installed plotly package into an empty page (no request leaves
    the machine): :func:`figure_layout` then draws figures in it."""
    from importlib.resources import files

    js = (files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    page.set_content("<html><body style='margin:0;font-family:sans-serif'>"
                     "<div id='host'></div></body></html>")
    page.add_script_tag(content=js)


def figure_layout(page, fig, *, width: int) -> dict:
    """Draw ``fig`` (a Plotly figure) ``width`` pixels wide, as the app's charts are drawn, and
    return its boxes (one chart of :data:`COLLECT_JS`'s result)."""
    spec = fig.to_plotly_json()
    page.evaluate(
        """async ([spec, width]) => {
             const host = document.getElementById('host');
             host.innerHTML = '';
             const wrap = document.createElement('div');
             wrap.setAttribute('data-testid', 'stPlotlyChart');
             wrap.style.width = width + 'px';
             const div = document.createElement('div');
             wrap.appendChild(div); host.appendChild(wrap);
             await Plotly.newPlot(div, spec.data, spec.layout, {displayModeBar: false});
           }""", [spec, width])
    return page.evaluate(COLLECT_JS)["charts"][0]
