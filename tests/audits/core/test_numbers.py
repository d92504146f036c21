"""How numbers print: p-values as a reader expects them, never in e-notation."""

from __future__ import annotations

import pytest

from audits.core.numbers import fmt, fmt_p, is_p_value


@pytest.mark.parametrize("p, text", [(2.68e-105, "p < 0.001"), (0.0009999, "p < 0.001"),
                                     (0.001, "p = 0.001"), (0.0234, "p = 0.023"),
                                     (0.2193, "p = 0.22"), (0.5, "p = 0.5"),
                                     (0.999, "p > 0.99"), (None, "—")])
def test_p_values_print_for_a_reader(p, text):
    assert fmt_p(p) == text


def test_a_cell_under_a_p_value_header_has_no_p():
    assert fmt_p(2.68e-105, prefix=False) == "< 0.001"
    assert fmt_p(0.0234, prefix=False) == "0.023"


def test_p_value_names():
    assert is_p_value("p_value") and is_p_value("strongest.auc_p_value")
    assert not is_p_value("tpr_1pct") and not is_p_value("pop")


def test_plain_fmt_would_print_e_notation():
    """The reason fmt_p exists: the generic formatting of a tiny p-value is unreadable."""
    assert "e-" in fmt(2.68e-105)
