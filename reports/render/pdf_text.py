"""Chart text in the PDF laid out once per label, not once per letter.

WeasyPrint (70) draws an SVG ``<text>`` letter by letter: it shapes the whole string, then shapes
and draws every character again on its own, so that each letter can take its own ``x``, ``y``,
``dx``, ``dy`` or ``rotate`` value, letter spacing or ``textLength``. The report's charts
(:mod:`reports.render.charts`) use none of these: every label is one run at one position. For
such a run, :func:`install` makes WeasyPrint draw the string it has already shaped, in one go,
at the position and with the bounding box the letter-by-letter loop would give (the sum of the
letters' advances is the run's width, so ``text-anchor`` shifts it the same). The glyphs are the
same font's, with the run's own kerning; a PDF reader still reports one box per character
(``tests/reports/render/test_chart_layout.py`` reads them). Any other text (a per-letter
position, rotation, spacing, ``textLength``, a ``tspan`` or ``textPath``) goes to WeasyPrint's
own code unchanged.

The chart labels were about a seventh of the full churn report's PDF time (cProfile, 2026-12:
383 labels, one Pango layout per character).
"""

from __future__ import annotations

from math import inf

__all__ = ["install", "is_installed"]

#: attributes that give letters their own placement: such text keeps WeasyPrint's own drawing
_PER_LETTER = ("dx", "dy", "rotate", "textLength", "lengthAdjust")


def _one_run(svg, node, font_size):
    """Draw ``node`` (an SVG ``<text>``) as one shaped run, else hand it to WeasyPrint."""
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import normalize, size
    from weasyprint.text.line_break import split_first_line

    attrib = node.attrib
    xs = normalize(attrib.get("x", "")).split()
    ys = normalize(attrib.get("y", "")).split()
    if (node.tag != "text" or not node.text or "\n" in node.text or len(xs) > 1 or len(ys) > 1
            or any(k in attrib for k in _PER_LETTER)
            or svg.length(node.get("letter-spacing"), font_size)):
        return _ORIGINAL(svg, node, font_size)

    style = Style()  # as WeasyPrint's own text(): its defaults, the node's font
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [f.strip("\"'") for f in node.get("font-family", "sans-serif")
                            .split(",")]
    style["font_style"] = node.get("font-style", "normal")
    weight = node.get("font-weight", 400)
    weight = {"normal": 400, "bold": 700}.get(weight, weight)
    try:
        style["font_weight"] = int(weight)
    except ValueError:
        style["font_weight"] = 400
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    layout, _, _, width, height, baseline = split_first_line(
        node.text, style, svg.context, inf, 0)

    ascent, descent = font_size * .8, font_size * .2  # WeasyPrint's own approximations
    y_align = 0
    anchor = node.get("display-anchor")
    base = node.get("dominant-baseline", node.get("alignment-baseline"))
    if anchor == "middle":
        y_align = -height / 2
    elif anchor == "bottom":
        y_align = -height
    elif anchor != "top" and base in ("central", "middle"):
        y_align = (ascent + descent) / 2 - descent
    elif anchor != "top" and base in ("text-before-edge", "before_edge", "top", "hanging",
                                      "text-top"):
        y_align = ascent
    elif anchor != "top" and base in ("text-after-edge", "after_edge", "bottom",
                                      "text-bottom"):
        y_align = -descent

    x = size(xs[0], font_size, svg.inner_width) if xs else None
    y = size(ys[0], font_size, svg.inner_height) if ys else None
    if x:
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y
    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + y_align
    node.text_bounding_box = extend_bounding_box(node.text_bounding_box, (
        (x_position, y_position - baseline),
        (x_position + width, y_position - baseline + height)))

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none",
                             Matrix(a=1, d=-1, e=x_position, f=y_position))
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


_ORIGINAL = None
#: the WeasyPrint major version whose SVG text code :func:`_one_run` follows (constraints.txt)
TESTED_MAJOR = "70"


def install() -> None:
    """Route WeasyPrint's SVG ``<text>`` drawing through :func:`_one_run` (once; idempotent)."""
    global _ORIGINAL
    import weasyprint
    import weasyprint.svg as wsvg

    if _ORIGINAL is not None or weasyprint.__version__.split(".")[0] != TESTED_MAJOR:
        return  # another WeasyPrint: its own drawing, until tests/reports/render/test_pdf_text.py
        # has compared the two again
    _ORIGINAL = wsvg.TAGS["text"]
    for tag, draw in list(wsvg.TAGS.items()):
        if draw is _ORIGINAL:
            wsvg.TAGS[tag] = _one_run
    # draw_node recognises text nodes by comparing with the module's ``text`` (anchors, boxes)
    wsvg.text = _one_run


def is_installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _ORIGINAL is not None
