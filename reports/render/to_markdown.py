"""Render a report as Markdown (for a pull request, a wiki or a terminal), from the same view as
the HTML and PDF. Charts are left out; every table, finding and section is there."""

from __future__ import annotations

import re
from functools import lru_cache

from reports.render.document import build_view
from reports.render.tables import MAX_ROWS
from reports.render.to_html import TEMPLATES
from reports.report import AuditReport

__all__ = ["render_md", "md_escape"]


def md_escape(value) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks and markup neutralised."""
    text = re.sub(r"\s*\n\s*", " ", str(value))
    return re.sub(r"([|*_`<>\[\]])", r"\\\1", text)


@lru_cache(maxsize=None)
def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = md_escape
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
