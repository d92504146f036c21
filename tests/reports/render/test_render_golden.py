"""A report stored a year ago re-renders to the same HTML (and Markdown), and the renderers depend
on nothing but the report and the board's record: not the clock, not the installed versions.

The stored report ``fixtures/report_v1.json`` (schema 1.0) and its expected pages are written by
``fixtures/make_fixtures.py``. When the renderer changes on purpose, regenerate the pages with
``REVIEW_BOARD_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest

from reports.render.to_html import render_html
from reports.render.to_markdown import render_md
from reports.report import AuditReport

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def stored():
    report = AuditReport.read(FIXTURES / "report_v1.json")
    board = json.loads((FIXTURES / "board_v1.json").read_text(encoding="utf-8"))
    return report, board


def _compare(path: Path, text: str) -> None:
    if os.environ.get("REVIEW_BOARD_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"{path.name} differs from the rendering; if the change is "
                              "intended, rerun with REVIEW_BOARD_UPDATE_GOLDEN=1")


def test_stored_report_is_intact(stored):
    report, _ = stored
    assert report.verify(), "the stored fixture was edited: its id no longer matches"
    assert report.schema_version == "1.0"


def test_stored_report_rerenders_to_the_same_html(stored):
    report, board = stored
    _compare(FIXTURES / "report_v1.html", render_html(report))
    _compare(FIXTURES / "report_v1_board.html", render_html(report, board))
    _compare(FIXTURES / "report_v1.md", render_md(report))


def test_rendering_ignores_clock_and_installed_versions(stored, monkeypatch):
    """Freeze a different clock and fake other package versions: the page does not change."""
    report, board = stored
    before = render_html(report, board)

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2031, 1, 1, tzinfo=tz)
    monkeypatch.setattr(datetime, "datetime", Later)
    from importlib import metadata
    monkeypatch.setattr(metadata, "version", lambda name: "99.0")
    assert render_html(report, board) == before


def test_only_the_json_changes_the_html(stored):
    report, _ = stored
    d = json.loads(report.to_json())
    d["created_at"] = "2024-01-02T03:04:05+00:00"
    other = AuditReport.from_dict(d)
    html = render_html(other)
    assert "2024-01-02T03:04:05+00:00" in html and "2025-11-23T10:00:00+00:00" not in html


def test_golden_pages_say_what_the_stored_report_holds(stored):
    html = (FIXTURES / "report_v1_board.html").read_text(encoding="utf-8")
    plain = (FIXTURES / "report_v1.html").read_text(encoding="utf-8")
    assert "SELF-CHECK: NOT A BOARD DECISION" in plain
    assert "SELF-CHECK" not in html  # decided: no watermark
    assert "Rank subscribers for a retention call." in html  # context
    assert "third-party broker" in html and "data.inventory.broker_score" in html
    assert "&lt;10 suppressed" in html  # a None count
    assert "fixture_churn-v1-run5.html" in html  # link to the previous version
    assert "Changes since v1" in html
    assert "Remove email_hash." in html and "A. Chair" in html


def test_pdf_fetches_nothing_from_the_network():
    """The fetcher refuses web fonts, CDNs and files outside the templates, and a page that
    asks for one fails instead of fetching it."""
    from weasyprint import HTML

    from reports.render.to_html import TEMPLATES
    from reports.render.to_pdf import RemoteFetchRefused, local_fetcher, refuse_remote

    for url in ("https://fonts.googleapis.com/css?family=Roboto", "http://cdn.example/x.css",
                "ftp://example/x", "file:///etc/passwd"):
        with pytest.raises(RemoteFetchRefused):
            refuse_remote(url)
    refuse_remote((TEMPLATES / "report.css").as_uri())  # a template file is allowed
    page = '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><p>x</p>'
    with pytest.raises(BaseException, match="127.0.0.1"):  # WeasyPrint's fatal error
        HTML(string=page, url_fetcher=local_fetcher()).write_pdf()


def test_stored_report_renders_to_pdf_with_its_decision(stored):
    import pypdfium2 as pdfium

    from reports.render.to_pdf import render_pdf

    report, board = stored
    doc = pdfium.PdfDocument(render_pdf(report, board))
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "SELF-CHECK" not in text and "Reject" in text and "A. Chair" in text
    assert "fixture_churn-v1-run5.pdf" not in text  # a link, not printed text
