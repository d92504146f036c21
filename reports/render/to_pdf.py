"""Render a report as PDF with WeasyPrint, from the same HTML template as the HTML report.

No browser and no network: the page is self-contained (inline CSS and SVG charts, local system
fonts), and the URL fetcher refuses anything that is not a local ``file:`` URL under the
templates folder, so a report can never make WeasyPrint fetch a web font, a CDN stylesheet or a
tracking image. Charts stay vector graphics in the PDF.
"""

from __future__ import annotations

from reports.render.to_html import TEMPLATES, render_html
from reports.report import AuditReport

__all__ = ["render_pdf", "refuse_remote", "local_fetcher", "RemoteFetchRefused", "PDF_MAX_ROWS"]

PDF_MAX_ROWS = 8  # rows of a probe table (and metrics) on paper; the HTML and JSON hold them all


class RemoteFetchRefused(ValueError):
    """A report tried to load a resource that is not a local template file."""


def refuse_remote(url: str) -> None:
    """Raise :class:`RemoteFetchRefused` unless ``url`` is a ``file:`` URL under the templates."""
    if not url.startswith("file:") or not url.startswith(TEMPLATES.as_uri() + "/"):
        raise RemoteFetchRefused(f"The report refers to {url!r}; reports load no external or "
                                 "non-template resources.")


def local_fetcher():
    """A WeasyPrint URL fetcher that applies :func:`refuse_remote` before fetching."""
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            refuse_remote(url)
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=("file",), fail_on_errors=True)


def render_pdf(report: AuditReport, board: dict | None = None) -> bytes:
    """The report as PDF bytes (A4, page numbers, the report id on every page).

    Parameters
    ----------
    report : the stored report.
    board : the board's record of the run, or None for a self-check (watermarked).
    """
    import logging

    from weasyprint import HTML

    from reports.render.pdf_text import install

    install()  # chart labels shaped once per label, not once per letter
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    html = render_html(report, board, link_ext="pdf", max_rows=PDF_MAX_ROWS)
    return HTML(string=html, base_url=TEMPLATES.as_uri() + "/",
                url_fetcher=local_fetcher()).write_pdf()
