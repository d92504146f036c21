"""Drive the real app in Debian's headless Chromium with Playwright for Python.

The flow a review meeting goes through: load the churn sample, run the audit, open every page,
record a decision in the ledger and download the PDF. Then an audit that cannot be complete: the
lead_scoring control with its sensitive fields cleared, so the fairness probe cannot run; its
Run, Findings and Fairness pages must say so. Used by the end-to-end test
(``tests/e2e/test_browser.py``), which also checks the layout of each of churn's pages
(``layout_problems``, for ``tests/e2e/test_layout.py``), and by the benchmark
(``bench/bench_app.py``), which reports the page-switch times against the 2 s target.

The app is started as ``streamlit run app.py`` on a free localhost port, with its own temporary
``REVIEW_BOARD_HOME`` and ledger, whose board is set up beforehand through the engine, as
``review-board users add`` would, with single sign-on through an OpenID Connect provider running
on localhost (``tests/e2e/board_flow.py``: ``serving``). After the pages, the board meets in
the browser: the submitter records and submits the audit, four reviewers (three local accounts,
one through single sign-on) comment and vote at the same moment, each in their own browser
context, and the chair records the decision (``board_flow.meeting``). Chromium is started with
the flags that keep it off the network (no background networking, component updates, sync or
QUIC); every request the page makes is recorded so that the test can show none left the machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.e2e import layout_checks as lc

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("REVIEW_BOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
#: Sidebar link text and each page's title (its st.title, the page's only h1).
PAGES = [("1. Load", "Load a model and its data"), ("2. Run the audit", "Run the audit"),
         ("3. Findings", "Findings"), ("4. Fairness", "Fairness"),
         ("5. Explainability", "Explainability"), ("6. Privacy", "Privacy"),
         ("7. Review", "Review"), ("8. Export", "Export")]
CHART_PAGES = {"Fairness", "Explainability", "Privacy"}  # pages that always draw Plotly charts
KEYS = {title: link.split(". ", 1)[1].split()[0].lower() for link, title in PAGES}


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (apt install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ledger_env(home: Path) -> dict[str, str]:
    return {"REVIEW_BOARD_HOME": str(home), "REVIEW_BOARD_DB": f"sqlite:///{home}/ledger.db",
            "REVIEW_BOARD_ANCHOR": str(home / "anchor.json"),
            "REVIEW_BOARD_LEDGER_KEY": str(home / "keys" / "ledger.pem")}


@contextmanager
def running_app(home: Path, *, timeout: float = 90.0, port: int | None = None,
                env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    """Start ``streamlit run app.py`` on ``port`` (default: a free one) with the ledger's
    variables and ``env`` added to the environment and ``args`` to the command line; yield its
    URL; stop it afterwards."""
    port = port or _free_port()
    env = os.environ | _ledger_env(home) | (env or {})
    log = open(home / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "localhost", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: see {home / 'streamlit.log'}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class FlowResult:
    screenshots: dict[str, Path] = field(default_factory=dict)
    switch_seconds: dict[str, float] = field(default_factory=dict)
    audit_seconds: float = float("nan")
    pdf: bytes = b""
    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    meeting: object = None  # board_flow.Meeting: the board's meeting in several browsers
    #: each page's layout problems (tests/e2e/layout_checks.py), by page key: the churn sample's
    #: part of the layout test, whose own tour takes the other samples
    layout_problems: dict[str, list[str]] = field(default_factory=dict)


def _idle(page, timeout_ms: float) -> None:
    """Wait until the script has finished its run (Streamlit marks its state on .stApp)."""
    page.wait_for_selector('.stApp[data-test-script-state="notRunning"]', timeout=timeout_ms)


def _open(page, link: str, heading: str, timeout_ms: float = 60_000) -> float:
    """Click a sidebar link; return the seconds until the page's heading shows and the run ends."""
    start = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", level=1, name=heading, exact=True).wait_for(timeout=timeout_ms)
    _idle(page, timeout_ms)
    _charts_drawn(page, heading in CHART_PAGES, timeout_ms)
    return time.perf_counter() - start


def _charts_drawn(page, has_charts: bool, timeout_ms: float) -> None:
    """Wait until every Plotly chart of the page has drawn its SVG (the chart component loads
    lazily and draws after mounting), so a page counts as shown only once its charts are. On a
    page known to have charts, at least one must be there (else "every" holds vacuously)."""
    page.wait_for_function(
        "(need) => { const c = Array.from(document.querySelectorAll("
        "'[data-testid=stPlotlyChart]')); return c.length >= need && "
        "c.every(e => e.querySelector('.main-svg text')); }", arg=1 if has_charts else 0,
        timeout=timeout_ms)


def run_flow(out_dir: Path, *, profile_label: str = "Quick look",
             audit_timeout_s: float = 600, incomplete: bool = False,
             meeting: bool = True, prepare=None) -> FlowResult:
    """Run the whole flow: the pages, the board's meeting when ``meeting`` (and, when
    ``incomplete``, the incomplete audit after it); screenshots go to ``out_dir``.
    ``prepare(home)``, when given, fills the app's new home before the app starts (e.g. with
    reports the test session computed, for the Run page to read from its cache)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import board_flow

    out_dir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="review-board-e2e-"))
    if prepare is not None:
        prepare(home)
    result = FlowResult()
    try:
        with board_flow.serving(home, running_app=running_app, ledger_env=_ledger_env,
                                free_port=_free_port) as server, sync_playwright() as p:
            url = server.url
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                          accept_downloads=True)
            page = context.new_page()

            def on_request(req):
                host = urlparse(req.url).hostname or ""
                if urlparse(req.url).scheme in ("http", "https", "ws", "wss") and \
                        host not in LOCAL_HOSTS:
                    result.external_requests.append(req.url)
            page.on("request", on_request)
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))

            try:
                page.goto(url)
                page.get_by_role("heading", level=1, name=PAGES[0][1], exact=True).wait_for(
                    timeout=60_000)
                _idle(page, 60_000)
                _flow_load(page, profile_label)
                result.layout_problems["load"] = lc.page_problems(page)
                result.screenshots["load"] = _shot(page, out_dir, "1-load")

                _open(page, *PAGES[1])
                start = time.perf_counter()
                page.get_by_role("button", name="Run the audit").click()
                page.get_by_text("Recommended decision", exact=False).first.wait_for(
                    timeout=audit_timeout_s * 1000)
                _idle(page, audit_timeout_s * 1000)
                _charts_drawn(page, True, 60_000)  # the results by area (views/overview_chart)
                result.audit_seconds = time.perf_counter() - start
                result.layout_problems["run"] = lc.page_problems(page)
                result.screenshots["run"] = _shot(page, out_dir, "2-run")

                for link, heading in PAGES[2:]:
                    key = KEYS[heading]
                    result.switch_seconds[key] = _open(page, link, heading)
                    result.layout_problems[key] = lc.page_problems(page)
                    # page text, plus the charts' own text (Plotly draws it in SVG)
                    result.texts[key] = page.get_by_test_id("stMain").inner_text() + "\n" + \
                        "\n".join(page.locator(".js-plotly-plot text").all_text_contents())
                    (out_dir / f"{key}.txt").write_text(result.texts[key], encoding="utf-8")
                    result.screenshots[key] = _shot(page, out_dir, link.replace(". ", "-").lower())
                # (the meeting's repeated page switches are timed by bench/bench_app.py --again)

                _open(page, *PAGES[6])
                result.screenshots["review"] = _shot(page, out_dir, "7-review")
                if meeting:
                    result.meeting = board_flow.meeting(browser, page, server, out_dir,
                                                        sys.modules[__name__])
                    result.screenshots.update(result.meeting.screenshots)
                _open(page, *PAGES[7])
                with page.expect_download(timeout=120_000) as dl:
                    page.get_by_role("button", name="Download PDF").click()
                path = out_dir / "report.pdf"
                dl.value.save_as(path)
                result.pdf = path.read_bytes()
                result.screenshots["export-decided"] = _shot(page, out_dir, "8-export-decided")
                if incomplete:
                    _flow_incomplete(page, out_dir, result, audit_timeout_s)
            except Exception:
                _shot(page, out_dir, "failed")  # what the page showed when the flow stopped
                raise
            browser.close()
    finally:
        if (home / "streamlit.log").exists():
            shutil.copy(home / "streamlit.log", out_dir / "streamlit.log")
        shutil.rmtree(home, ignore_errors=True)
    return result


def _flow_incomplete(page, out_dir: Path, result: FlowResult, audit_timeout_s: float) -> None:
    """lead_scoring without sensitive fields: the fairness probe cannot run, so the audit is
    incomplete. Texts and screenshots of its Run, Findings and Fairness pages, keyed
    ``incomplete:<page>``."""
    _open(page, *PAGES[0])
    page.get_by_text("lead_scoring", exact=True).first.click()
    _settle(page)
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Sensitive fields")
    box.get_by_role("button", name="Clear all").click()
    _settle(page)
    page.get_by_role("button", name="Use this model").click()
    _settle(page)
    _open(page, *PAGES[1])
    page.get_by_role("button", name="Run the audit").click()
    page.get_by_text("Recommended decision", exact=False).first.wait_for(
        timeout=audit_timeout_s * 1000)
    _idle(page, audit_timeout_s * 1000)
    result.texts["incomplete:run"] = page.get_by_test_id("stMain").inner_text()
    result.screenshots["incomplete-run"] = _shot(page, out_dir, "9-incomplete-run")
    for link, heading in (PAGES[2], PAGES[3]):
        _open(page, link, heading) if heading != "Fairness" else _open_without_charts(
            page, link, heading)
        key = f"incomplete:{KEYS[heading]}"
        result.texts[key] = page.get_by_test_id("stMain").inner_text()
        result.screenshots[key] = _shot(page, out_dir, f"9-incomplete-{KEYS[heading]}")


def _open_without_charts(page, link: str, heading: str, timeout_ms: float = 60_000) -> None:
    """Open a page that draws no chart this time (the fairness page of an audit without
    sensitive fields stops before its charts)."""
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", level=1, name=heading, exact=True).wait_for(timeout=timeout_ms)
    _idle(page, timeout_ms)


def _shot(page, out_dir: Path, name: str) -> Path:
    """A screenshot of the whole page. Streamlit scrolls inside its main container, not the
    document, so the viewport is made as tall as the content for the shot, then restored."""
    path = out_dir / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...Array.from(document.querySelectorAll("
                           "'[data-testid=stMain], [data-testid=stMainBlockContainer]'), "
                           "e => e.scrollHeight), window.innerHeight)")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 16_000)})
    page.wait_for_timeout(400)  # charts re-lay out to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def _flow_load(page, profile_label: str) -> None:
    """Keep the churn sample (the default), choose the profile, confirm."""
    page.get_by_text(profile_label, exact=False).first.click()
    _settle(page)
    page.get_by_role("button", name="Use this model").click()
    _settle(page)


def _settle(page, timeout_ms: float = 60_000) -> None:
    """After an action: give the rerun time to start, then wait until it has finished (stale
    elements of the previous run stay in the page until then)."""
    page.wait_for_timeout(500)
    _idle(page, timeout_ms)


def _select(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox (a combobox with a listbox)."""
    choice = page.get_by_role("option", name=option, exact=True).first
    _until(page, lambda: page.get_by_role("combobox", name=label).first.click(), choice)
    choice.click()
    _settle(page)


def _playwright_error():
    from playwright.sync_api import Error

    return Error


def _click_all(locator) -> None:
    """Click every visible match: while a rerun ends, Streamlit can briefly hold the previous
    run's copy of an element beside the new one, and only the live one responds."""
    for i in range(locator.count()):
        item = locator.nth(i)
        try:
            if item.is_visible():
                item.click(timeout=2_000)
        except _playwright_error():  # the stale copy went away meanwhile
            pass


def _until(page, action, shows, tries: int = 3) -> None:
    """Do ``action`` until ``shows`` is visible: an element clicked while a rerun replaces it
    (or a list closed by a rerun landing) is simply done again."""
    for attempt in range(tries):
        action()
        try:
            shows.wait_for(timeout=5_000)
            return
        except _playwright_error():
            if attempt == tries - 1:
                raise
            _settle(page)
