"""The browser's tour of every page of every sample, for the layout test and the benchmark.

One app server (``streamlit run app.py``, :func:`tests.e2e.browser_flow.running_app`) with the
given ``REVIEW_BOARD_HOME``; in one Chromium page, for each sample: choose it on the Load page
with the light profile, run the audit (read from the report cache when it is there), open every
page, check its layout (:mod:`tests.e2e.layout_checks`), keep its text and write a screenshot to
``<out>/<sample>/``. Then, optionally, a second round of page switches on the last sample: the
meeting's page-switch time, the audit being done.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from tests.e2e import layout_checks as lc
from tests.e2e.browser_flow import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LOCAL_HOSTS,
    PAGES,
    _charts_drawn,
    _idle,
    _open,
    _settle,
    _shot,
    running_app,
)

#: every sample: the three binary ones, the regression and the multiclass one
SAMPLES = ("churn", "lead_scoring", "purchase_propensity", "customer_value", "next_best_offer")
LIGHT = "Quick look"


def _choose_sample(page, name: str) -> None:
    """Pick the sample and the light profile on the Load page, and confirm."""
    page.get_by_test_id("stRadio").filter(has_text="Sample model").get_by_text(
        name, exact=True).click()
    _settle(page)
    page.get_by_test_id("stRadio").filter(has_text="Audit profile").get_by_text(
        LIGHT, exact=False).click()
    _settle(page)
    page.get_by_role("button", name="Use this model").click()
    page.get_by_text("Ready to audit", exact=False).first.wait_for(timeout=60_000)
    _idle(page, 60_000)


def run_layout_flow(home: Path, out: Path, samples=SAMPLES, *, again: int = 0) -> dict:
    """Tour every page of each sample; ``again`` more rounds of page switches at the end.

    Returns a dict: ``problems``, ``shots``, ``texts``, ``switch`` (seconds; the repeat rounds
    under ``("again", n, page)`` keys), ``audit`` (seconds from "Run the audit" to its summary),
    ``errors`` (page errors), ``external`` (requests that left the machine) and ``browser_s``.
    """
    from playwright.sync_api import sync_playwright

    result = {"problems": {}, "errors": [], "external": [], "switch": {}, "shots": {},
              "texts": {}, "audit": {}}

    def on_request(r):
        if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and \
                (urlparse(r.url).hostname or "") not in LOCAL_HOSTS:
            result["external"].append(r.url)

    start = time.perf_counter()
    with running_app(home) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda e: result["errors"].append(str(e)))
        page.on("request", on_request)
        page.goto(url)
        page.get_by_role("heading", level=1, name=PAGES[0][1], exact=True).wait_for(
            timeout=60_000)
        _idle(page, 60_000)
        for name in samples:
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            try:
                _open(page, *PAGES[0])
                _choose_sample(page, name)
                result["problems"][(name, "load")] = lc.page_problems(page)
                result["shots"][(name, "load")] = _shot(page, folder, "1-load")
                _open(page, *PAGES[1])
                t0 = time.perf_counter()
                page.get_by_role("button", name="Run the audit").click()
                page.get_by_text("Recommended decision", exact=False).first.wait_for(
                    timeout=600_000)
                _idle(page, 60_000)
                _charts_drawn(page, True, 60_000)  # the results by area (views/overview_chart)
                result["audit"][name] = time.perf_counter() - t0
                result["problems"][(name, "run")] = lc.page_problems(page)
                result["shots"][(name, "run")] = _shot(page, folder, "2-run")
                for i, (link, heading) in enumerate(PAGES[2:], start=3):
                    key = heading.split()[0].lower()
                    result["switch"][(name, key)] = _open(page, link, heading)
                    result["problems"][(name, key)] = lc.page_problems(page)
                    result["texts"][(name, key)] = page.get_by_test_id("stMain").inner_text()
                    result["shots"][(name, key)] = _shot(page, folder, f"{i}-{key}")
            except Exception:
                _shot(page, folder, "failed")
                raise
        for n in range(again):
            for link, heading in PAGES[2:] + PAGES[:2]:
                key = heading.split()[0].lower()
                result["switch"][("again", n, key)] = _open(page, link, heading)
        browser.close()
    result["browser_s"] = time.perf_counter() - start
    return result
