"""Render a report as a self-contained HTML page (the same page WeasyPrint turns into the PDF).

The page has no script, no external stylesheet, font or image: the CSS is inlined and the charts
are inline SVG, so it opens offline and prints the same everywhere. It depends only on the report
and the board's record (see :func:`reports.render.document.build_view`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reports.render.document import build_view
from reports.render.tables import MAX_ROWS
from reports.report import AuditReport

__all__ = ["render_html", "TEMPLATES"]

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=None)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


@lru_cache(maxsize=None)
def _css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_html(report: AuditReport, board: dict | None = None, *,
                link_ext: str = "html", max_rows: int = MAX_ROWS) -> str:
    """The report as an HTML document.

    Parameters
    ----------
    report : the stored report.
    board : the board's record of the run (``Ledger.board_record``), or None for a self-check.
    link_ext : file extension of the link to the previous version ("html", or "pdf" in a PDF).
    max_rows : rows printed of each probe table (every row is in the JSON).

    Returns
    -------
    str
        The page; the same inputs always give the same text.
    """
    view = build_view(report, board, max_rows=max_rows)
    return _env().get_template("report.html.j2").render(v=view, css=_css(), link_ext=link_ext)
