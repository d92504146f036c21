"""Shared helpers of the page tests: open a page with the session seeded, read its charts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from views import state

ROOT = Path(__file__).resolve().parents[2]


def open_page(report, sample: str, page: str, title: str, *, timeout: float = 180) -> AppTest:
    """Run the app on ``page`` (a key of ``state.PAGES``) with ``report`` and the sample's source
    seeded in session state; check it ran without an exception and shows ``title``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state[state.REPORT] = report.to_json()
    at.session_state[state.SOURCE] = {"kind": "sample", "name": sample}
    at.switch_page(state.PAGES[page]).run()
    assert not at.exception
    assert [t.value for t in at.title] == [title]
    return at


def charts(at: AppTest) -> dict[str, dict]:
    """The page's Plotly figures (as JSON specs) by title."""
    out = {}
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def plain(text: str) -> str:
    """Markdown source as it reads on the page: the pages escape what comes from data
    (``views.texts.md``: ``lead\\_scoring`` prints as ``lead_scoring``)."""
    return re.sub(r"\\(.)", r"\1", text)


def tables(at: AppTest) -> list:
    """Every table of the page as a DataFrame: the scrolling ones (``st.dataframe``) and the
    static ones (``st.table``, which the pages use for small tables so that nothing is cut)."""
    return [d.value for d in at.dataframe] + [t.value for t in at.table]
