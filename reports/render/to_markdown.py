"""Render a report as Markdown (for a pull request, a wiki or a terminal), from the same view as
the HTML and PDF. Charts are left out; every table, finding and section is there.

Everything a template prints is escaped unless the template marks it as markup, as the HTML
renderer's autoescaping does: the environment's ``finalize`` passes every ``{{ ... }}`` through
:func:`md_escape`, so a column name, a group, a label or a file name that came from the data
(``<script>``, ``|``, ``*bold*``, ``[link](x)``) prints as text, never as Markdown or HTML.
Inside code spans the template uses the ``code`` filter (a backtick cannot end the span), in a
link target the ``url`` filter; macro output and ``md`` output are already escaped (``Markup``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from markupsafe import Markup

from reports.render.document import build_view
from reports.render.tables import MAX_ROWS
from reports.render.to_html import TEMPLATES
from reports.report import AuditReport

__all__ = ["render_md", "md_escape", "md_code"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#]|&(?=#?\w+;))")


def md_escape(value) -> str:
    """Text safe anywhere in Markdown, a table cell included: line breaks become spaces, and
    every character Markdown or HTML could read as markup (``\\ ` * _ [ ] < > | ~ #``, and
    ``&`` where it would start an entity such as ``&lt;``) is backslash-escaped."""
    text = re.sub(r"\s*\n\s*", " ", str(value))
    return _SPECIAL.sub(r"\\\1", text)


def md_code(value) -> Markup:
    """Text for inside a code span: no backtick (it would end the span), no line break."""
    return Markup(re.sub(r"\s*\n\s*", " ", str(value)).replace("`", "'"))


def _finalize(value):
    import jinja2

    if isinstance(value, Markup):
        return value
    if value is None or isinstance(value, jinja2.Undefined):
        return str(value) if value is not None else "None"
    return md_escape(value)


@lru_cache(maxsize=None)
def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, finalize=_finalize)
    env.filters["md"] = lambda v: Markup(md_escape(v))
    env.filters["code"] = md_code
    env.filters["url"] = lambda v: Markup(quote(str(v), safe="-._~/"))
    return env


def render_md(report: AuditReport, board: dict | None = None, *,
              max_rows: int = MAX_ROWS) -> str:
    """The report as Markdown.

    Parameters
    ----------
    report : the stored report.
    board : the board's record of the run, or None for a self-check.
    max_rows : rows printed of each probe table.
    """
    text = _env().get_template("report.md.j2").render(v=build_view(report, board,
                                                                   max_rows=max_rows))
    return re.sub(r"\n{3,}", "\n\n", text)
