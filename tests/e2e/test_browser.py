"""End to end in a real browser: Debian's headless Chromium, driven by Playwright for Python.

Loads the churn sample, runs the audit (the light profile: the default profile's numbers are
checked by the planted-truth tests; here the point is the app), opens every page, records a
decision and downloads the PDF; then audits the lead_scoring control without sensitive fields,
an incomplete audit, and reads what its pages say. A screenshot of each page goes to
``build/e2e/``. Page-switch times are printed, not asserted (the 2 s target lives in
``bench/bench_app.py``).

The flow runs once for both browser test files (``tests/e2e/conftest.py``; the board's meeting
is checked in ``tests/e2e/test_board.py``). Under CI (``CI=true``) a missing browser fails the
test, since ``.ci/run`` installs it; elsewhere the test skips and prints why.
"""

from __future__ import annotations

from reports.render.document import WATERMARK_REVIEW, WATERMARK_SELF_CHECK
from tests.e2e.conftest import SHOTS


def test_every_page_opens_and_the_meeting_ends_with_a_pdf(flow):
    print(f"\naudit through the app: {flow.audit_seconds:.1f} s")
    print("page switch (s): " + ", ".join(f"{k} {v:.2f}" for k, v in flow.switch_seconds.items()))
    print(f"screenshots: {SHOTS}")
    assert not flow.page_errors, flow.page_errors
    assert set(flow.screenshots) >= {"load", "run", "findings", "fairness", "explainability",
                                     "privacy", "review", "export"}
    if flow.meeting is not None:
        assert "review-decided" in flow.screenshots
    for path in flow.screenshots.values():
        assert path.stat().st_size > 10_000, f"{path} looks empty"
    assert flow.pdf.startswith(b"%PDF"), "the downloaded PDF is not a PDF"
    import pypdfium2

    pdf = pypdfium2.PdfDocument(flow.pdf)
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Reject" in text
    if flow.meeting is None:  # no decision recorded: the self-check watermark
        assert WATERMARK_SELF_CHECK in text
        return
    # downloaded after the decision: the board's record, with the decision and no watermark
    assert "E2E Chair" in text
    assert WATERMARK_SELF_CHECK not in text and WATERMARK_REVIEW not in text


def test_pages_show_the_planted_truth(flow):
    # churn: ethnicity's disparate impact fails through the postcode proxy, so reject
    assert "Recommended decision: Reject" in flow.texts["findings"]
    fairness = flow.texts["fairness"]
    assert "four-fifths of" in fairness and "fails" in fairness  # the chart's line and verdict
    assert "postcode_region" in fairness  # the proxy chart
    assert "postcode_region (proxy for ethnicity)" in flow.texts["explainability"]
    # purchase-style leakage is not planted in churn: the privacy page still shows its ROC
    assert "false-positive rate" in flow.texts["privacy"].lower()


def test_no_request_leaves_the_machine(flow):
    assert flow.external_requests == []


def test_pages_say_what_the_audit_could_not_establish(flow):
    """Churn's light audit leaves some checks inconclusive: the Findings page lists them beside
    the recommendation, the Fairness page says what its rows could not establish."""
    findings, fairness = flow.texts["findings"], flow.texts["fairness"]
    assert "What this audit could not establish" in findings
    assert "checks inconclusive" in findings and "Inconclusive (" in findings
    assert "these rows cannot tell" in findings
    assert "What these rows could not establish" in fairness
    assert "Inconclusive:" in fairness and "These rows cannot establish" in fairness
    # churn's erasure exposure is too wide to judge: the Privacy page says so in words
    assert "privacy check is inconclusive: these rows cannot tell" in flow.texts["privacy"]


def test_an_incomplete_audit_says_so_on_every_page(flow):
    """lead_scoring without sensitive fields: the fairness probe cannot run, so no approval is
    recommended, and the Run, Findings and Fairness pages say why."""
    words = "Incomplete: no approval recommended yet ("
    for page in ("incomplete:run", "incomplete:findings"):
        assert f"Recommended decision: {words}" in flow.texts[page], page
        assert "the fairness probe could not run" in flow.texts[page], page
    assert "The audit is incomplete" in flow.texts["incomplete:findings"]
    fairness = flow.texts["incomplete:fairness"]
    assert "Incomplete: the fairness probe could not run" in fairness
    assert "did not run in this audit" in fairness
    assert set(flow.screenshots) >= {"incomplete-run", "incomplete:findings",
                                     "incomplete:fairness"}
