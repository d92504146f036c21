"""The end-to-end flow, run once for every browser test (one app server, one audit, one meeting):
``tests/e2e/test_browser.py`` checks the pages and the PDF, ``tests/e2e/test_board.py`` the
board's meeting.

Under CI (``CI=true``) a missing browser fails the tests, since ``.ci/run`` installs it;
elsewhere they skip and print why.

The four-member meeting (``tests/e2e/test_board.py``) is part of the flow;
``REVIEW_BOARD_E2E_MEETING=0`` leaves it out of a local run (it takes a few minutes). It had been
left out of the suite while one of four simultaneous comments went unrecorded: the Review page
followed the ledger before its forms had read their clicks (``views.review_forms.follow`` says
why that lost a click; ``tests/app/test_review.py`` reproduces it without a browser).
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.browser_flow import ROOT, browser_missing, run_flow

SHOTS = ROOT / "build" / "e2e"


@pytest.fixture(scope="session")
def flow():
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}; .ci/run must install it")
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    return run_flow(SHOTS, incomplete=True, meeting=MEETING)


#: Whether the board's four-member meeting runs (see the module docstring).
MEETING = os.environ.get("REVIEW_BOARD_E2E_MEETING", "1") != "0"
