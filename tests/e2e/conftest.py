"""The end-to-end flow, run once for every browser test (one app server, one meeting):
``tests/e2e/test_browser.py`` checks the pages and the PDF, ``tests/e2e/test_board.py`` the
board's meeting. Its churn audit is the session's light report (also the layout and report
tests'), stored in the app's report cache before the app starts (:func:`seed_home`).

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
from pathlib import Path

import pytest

from tests.e2e.browser_flow import ROOT, browser_missing, run_flow

SHOTS = ROOT / "build" / "e2e"


@pytest.fixture(scope="session")
def flow(sample_report):
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}; .ci/run must install it")
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    churn = sample_report("churn", light=True).to_json()  # shared with the layout and report tests
    return run_flow(SHOTS, incomplete=True, meeting=MEETING,
                    prepare=lambda home: seed_home(home, {"churn": churn}))


def seed_home(home: Path, reports: dict[str, str]) -> None:
    """Give the app's ``home`` the test session's installation secret (so the pseudonyms in the
    session's reports are the app's own) and store each sample's light report where the Run
    page looks it up: "Run the audit" then loads it. The audit through the app, with its
    progress bars, is still run by the incomplete audit (lead_scoring without sensitive fields,
    which no other test computes)."""
    from audits.core.config import AuditConfig
    from audits.core.paths import installation_secret
    from reports.source import AuditSource, store_report

    secret = installation_secret()  # the session's, created on first use
    (home / "secret.key").write_bytes(secret)
    (home / "secret.key").chmod(0o600)
    session_home = os.environ["REVIEW_BOARD_HOME"]
    os.environ["REVIEW_BOARD_HOME"] = str(home)
    try:
        for name, text in reports.items():
            store_report(AuditSource.of_sample(name).key(AuditConfig.light()), text)
    finally:
        os.environ["REVIEW_BOARD_HOME"] = session_home


#: Whether the board's four-member meeting runs (see the module docstring).
MEETING = os.environ.get("REVIEW_BOARD_E2E_MEETING", "1") != "0"
