"""The app's colours: severities and decisions in one palette, every text colour at WCAG 2.1 AA.

Known values: black on white is 21:1, a colour on itself 1:1, and #777777 on white 4.48:1 (the
grey WebAIM's contrast checker gives as just failing AA for normal text).
"""

from __future__ import annotations

import pytest

from audits.core.results import Severity
from reports.report import DECISIONS
from views.plot_style import (
    DECISION_SEVERITY,
    SEVERITY,
    TEXT,
    TEXT_MUTED,
    contrast_ratio,
)
from views.texts import badge, decision_box, md, severity_box

AA_TEXT, AA_GRAPHICS = 4.5, 3.0  # WCAG 2.1 SC 1.4.3 (normal text) and 1.4.11 (non-text)


def test_contrast_ratio_known_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#0072B2", "#0072B2") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    with pytest.raises(ValueError, match="#RRGGBB"):
        contrast_ratio("red", "#FFFFFF")


def test_every_severity_has_its_colour_symbol_and_word():
    assert set(SEVERITY) == {s.value for s in Severity}
    assert len({SEVERITY[s]["icon"] for s in SEVERITY}) == len(SEVERITY)  # never colour alone
    assert SEVERITY["fail"]["fg"] != SEVERITY["pass"]["fg"] != SEVERITY["attention"]["fg"]
    assert SEVERITY["inconclusive"]["fg"] == SEVERITY["not_assessed"]["fg"]  # both grey


@pytest.mark.parametrize("severity", list(SEVERITY))
def test_severity_text_reaches_aa_on_white_and_on_its_tint(severity):
    s = SEVERITY[severity]
    assert contrast_ratio(s["fg"], "#FFFFFF") >= AA_TEXT
    assert contrast_ratio(s["fg"], s["bg"]) >= AA_TEXT
    assert contrast_ratio(TEXT, s["bg"]) >= AA_TEXT  # the body text of a severity box
    assert contrast_ratio(s["fill"], "#FFFFFF") >= AA_GRAPHICS  # chart marks


def test_body_and_muted_text_reach_aa():
    assert contrast_ratio(TEXT, "#FFFFFF") >= AA_TEXT
    assert contrast_ratio(TEXT_MUTED, "#FFFFFF") >= AA_TEXT


@pytest.mark.xfail(strict=True, reason="Okabe-Ito orange is a fill colour: as text it fails AA "
                                       "(2.25:1), so the palette check must reject it")
def test_the_check_rejects_a_fill_colour_used_as_text():
    assert contrast_ratio("#E69F00", "#FFFFFF") >= AA_TEXT


def test_a_rejection_is_never_green():
    assert set(DECISIONS) <= set(DECISION_SEVERITY)
    assert DECISION_SEVERITY["reject"] == "fail" and DECISION_SEVERITY["approve"] == "pass"
    box = decision_box("reject", "Reject")
    assert SEVERITY["fail"]["fg"] in box and SEVERITY["pass"]["fg"] not in box
    assert "✗ Reject" in box


def test_badges_carry_symbol_and_word_and_escape_data():
    b = badge("attention")
    assert "! Needs attention" in b and SEVERITY["attention"]["fg"] in b
    box = severity_box("fail", "<script>x</script>")  # callers escape: the box keeps their HTML
    assert "✗ Fail" in box
    assert "&lt;b&gt;" in badge("pass", "<b>")


def test_markdown_escape_keeps_asterisks_and_dollars():
    assert md("ethnicity*gender") == "ethnicity\\*gender"
    assert md("$5 and _x_") == "\\$5 and \\_x\\_"
