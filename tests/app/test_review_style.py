"""Verdict colours at WCAG 2.1 AA contrast, in the severity colours, and where the app may be
served from (``views.review_style``, ``views.hosting``).

The contrast ratio is checked against WCAG's own reference values (black on white 21:1; #767676,
the lightest grey that passes on white, 4.54:1; #777777 4.48:1), then every tone's text on its
background must reach 4.5:1 (success criterion 1.4.3, normal text). A strict xfail shows the check
fails for an amber as light as the usual warning yellows. The app's own accent colour
(``.streamlit/config.toml``: primary buttons, links) reads at AA too and is no verdict's colour; a
strict xfail shows Streamlit's default red fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from views import review_style
from views.hosting import host_problems
from views.review_style import SYMBOLS, TONES, box_html, contrast_ratio, tone_of

ROOT = Path(__file__).resolve().parents[2]
AA = 4.5


@pytest.mark.parametrize(("fg", "bg", "ratio"), [
    ("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#767676", "#ffffff", 4.54),
    ("#777777", "#ffffff", 4.48), ("#ffffff", "#000000", 21.0)])
def test_contrast_ratio_matches_wcags_reference_values(fg, bg, ratio):
    assert contrast_ratio(fg, bg) == pytest.approx(ratio, abs=0.01)


def every_tone_reads_at_aa():
    for tone, (fg, bg) in TONES.items():
        assert contrast_ratio(fg, bg) >= AA, (tone, fg, bg, contrast_ratio(fg, bg))
        assert contrast_ratio(fg, "#ffffff") >= AA, (tone, fg)  # the text on a white page too


def test_every_tone_reads_at_aa_contrast():
    every_tone_reads_at_aa()


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: a light amber fails AA on its background")
def test_a_light_amber_would_fail(monkeypatch):
    monkeypatch.setitem(review_style.TONES, "attention", ("#e69f00", "#fff3e6"))
    every_tone_reads_at_aa()


def test_verdicts_follow_the_severity_colours_with_symbols_and_words():
    assert {tone_of(v) for v in ("reject", "rejected", "fail")} == {"fail"}
    assert {tone_of(v) for v in ("approve_with_conditions", "conditions",
                                 "approved_with_conditions", "changes_requested", "changes",
                                 "attention")} == {"attention"}
    assert {tone_of(v) for v in ("approve", "approved", "pass")} == {"pass"}
    assert {tone_of(v) for v in ("incomplete", "draft", "under_review", None)} == {"neutral"}
    assert len(set(SYMBOLS.values())) == len(SYMBOLS)  # never colour alone
    red = box_html("Decision recorded: ", "Reject", ".", tone=tone_of("reject"))
    assert TONES["fail"][0] in red and TONES["pass"][0] not in red
    assert "✗" in red and "<strong>Reject</strong>" in red
    assert "&lt;b&gt;" in box_html("", "<b>", tone="neutral")  # text is escaped


# -- where the app may be served from -----------------------------------------------------------
def test_the_app_serves_this_machine_only_unless_the_operator_says():
    assert host_problems("localhost", None) == []
    assert host_problems("127.0.0.1", None, "http://localhost:8501/oauth2callback") == []
    (wide,) = host_problems("0.0.0.0", None)
    assert wide.startswith("The app is bound to 0.0.0.0, not to this machine only.")
    assert "REVIEW_BOARD_PUBLIC_URL" in wide
    assert host_problems("", None)[0].startswith("The app is bound to every network interface")
    # a shared host: TLS through a reverse proxy, the provider's redirect address on it
    public = "https://board.example.com"
    assert host_problems("0.0.0.0", public) == []
    assert host_problems("localhost", public, f"{public}/oauth2callback") == []
    (plain,) = host_problems("0.0.0.0", "http://board.example.com")
    assert "give its https:// address" in plain
    (redirect,) = host_problems("localhost", public, "http://localhost:8501/oauth2callback")
    assert f"on this shared host it is {public}/oauth2callback" in redirect
    (away,) = host_problems("localhost", None, f"{public}/oauth2callback")
    assert "is not on this machine" in away


def test_a_shared_host_without_tls_serves_nothing(monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_PUBLIC_URL", "http://board.example.com")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == host_problems("localhost", "http://board.example.com")
    assert [t.value for t in at.title] == ["Model Review Board"]  # no page ran


# -- the app's own accent colour -----------------------------------------------------------------
def primary_colour() -> str:
    import tomllib

    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)["theme"]["primaryColor"]


def the_accent_is_no_verdict_and_reads_at_aa(colour: str) -> None:
    """The primary buttons (white text on the accent) and links (the accent on the page) reach
    AA, and the accent is none of the verdict colours: a "Record the decision" button must not
    look like a reject."""
    assert contrast_ratio("#ffffff", colour) >= AA, colour
    assert colour.lower() not in {fg for tone, (fg, _) in TONES.items() if tone != "neutral"}


def test_the_apps_accent_colour_is_neutral_and_reads_at_aa_contrast():
    the_accent_is_no_verdict_and_reads_at_aa(primary_colour())


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: Streamlit's default red accent is 3.3:1 on white")
def test_streamlits_default_red_accent_would_fail():
    the_accent_is_no_verdict_and_reads_at_aa("#ff4b4b")
