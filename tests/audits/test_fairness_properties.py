"""Invariants of the group metrics, as hypothesis properties, each also run against a
deliberately broken implementation (``xfail(strict=True)``) to prove that the property can fail.

The implementation under test is :func:`audits.fairness_field.audit_field` (the code the probe
runs) on arbitrary small data; every group is assessed (``min_group_size=1``).
"""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from audits import fairness_field
from audits.core.config import AuditConfig
from audits.core.groups import group_codes
from audits.fairness_field import audit_field
from audits.group_metrics import cell_metrics

CELL = ("selection_rate", "tpr", "fpr", "fnr", "precision")
_CFG = AuditConfig()
_KW = dict(favourable_positive=True, n_boot=60, confidence=0.95, min_group_size=1,
           sr_threshold=_CFG.threshold("fairness.selection_rate_ratio"),
           error_threshold=_CFG.threshold("fairness.error_rate_ratio"), random_state=0)


def _collect(fa) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Group rates, the cell-metric disparities (with the reference's own row: ratio 1,
    difference 0, so that tied candidates for reference compare equal) and the aggregates."""
    rates = pd.DataFrame({m: fa.rates[m] for m in CELL}, index=list(fa.levels))
    disp = fa.disparities[fa.disparities["metric"].isin(CELL)]
    if fa.reference is not None:
        ref = fa.levels[fa.reference]
        own = pd.DataFrame([{"group": ref, "metric": m, "value": fa.rates[m][fa.reference],
                             "reference_value": fa.rates[m][fa.reference], "difference": 0.0,
                             "ratio": 1.0} for m in disp["metric"].unique()])
        disp = pd.concat([disp, own], ignore_index=True) if len(own) else disp
    return rates, disp.set_index(["group", "metric"]).sort_index(), fa.summary


def real(y, d, groups):
    codes, levels = group_codes(groups)
    return _collect(audit_field("g", codes, levels, y, d, d.astype(float), **_KW))


# -- deliberately broken implementations -----------------------------------------------------

def broken_ratio(y, d, groups):
    """Reports the relative difference (g - ref) / ref as the ratio."""
    rates, disp, agg = real(y, d, groups)
    disp = disp.copy()
    for c in ("ratio", "ratio_low", "ratio_high"):
        disp[c] = disp[c] - 1
    return rates, disp, agg


def broken_count(y, d, groups):
    """Divides a group's favourable decisions by its actual positives, not by its size."""
    def wrong(counts, **kw):
        out = cell_metrics(counts, **kw)
        c = np.asarray(counts, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["selection_rate"] = (c[..., 0] + c[..., 1]) / (c[..., 0] + c[..., 2])
        return out
    with mock.patch.object(fairness_field, "cell_metrics", wrong), \
            np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return real(y, d, groups)


def broken_order(y, d, groups):
    """Codes groups by first appearance but names them in sorted order."""
    codes, _ = pd.factorize(pd.Series(groups))
    levels = sorted(set(groups))
    return _collect(audit_field("g", codes, levels, y, d, d.astype(float), **_KW))


def broken_reference(y, d, groups):
    """Takes the alphabetically first group as the reference, not the most favoured one."""
    with mock.patch.object(fairness_field, "_pick_reference", lambda *a: 0):
        return real(y, d, groups)


# -- data ------------------------------------------------------------------------------------

NAMES = ("ann", "bob", "cy", "dee")


@st.composite
def datasets(draw, min_size=6):
    rows = draw(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.booleans()),
                         min_size=min_size, max_size=80))
    g = np.array([NAMES[r[0]] for r in rows], dtype=object)
    if len(set(g)) < 2:
        g[0] = "zed" if g[0] != "zed" else "ann"
    y = np.array([r[1] for r in rows], dtype=int)
    d = np.array([r[2] for r in rows], dtype=int)
    return y, d, g


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
# against a broken implementation only the failure matters: no time spent shrinking it
BROKEN = settings(SETTINGS, phases=[Phase.explicit, Phase.generate])


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a[~np.isnan(a)]


# -- the properties ----------------------------------------------------------------------------

def check_ratios_non_negative(impl, data):
    _, disp, agg = impl(*data)
    for c in ("ratio", "ratio_low", "ratio_high"):
        assert (_finite(disp[c]) >= 0).all(), c
    assert all(v is None or v >= 0 for v in agg["demographic_parity_ratio"])


def check_differences_in_unit_interval(impl, data):
    _, disp, agg = impl(*data)
    for k in ("demographic_parity_difference", "equalized_odds_difference"):
        for v in agg[k]:
            assert v is None or np.isnan(v) or 0 <= v <= 1, (k, agg[k])
    for c in ("difference", "difference_low", "difference_high"):
        assert (np.abs(_finite(disp[c])) <= 1).all(), c


def check_row_order_changes_nothing(impl, data, perm):
    y, d, g = data
    a, b = impl(y, d, g), impl(y[perm], d[perm], g[perm])
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert a[2] == b[2] or all(np.allclose(a[2][k], b[2][k], equal_nan=True) for k in a[2])


def check_renaming_permutes_results(impl, data, new_names):
    y, d, g = data
    rename = dict(zip(NAMES + ("zed",), tuple(new_names) + ("zed",)))
    a = impl(y, d, g)
    b = impl(y, d, np.array([rename[v] for v in g], dtype=object))
    rates_b = b[0].rename(index={v: k for k, v in rename.items()})
    pd.testing.assert_frame_equal(a[0].sort_index(), rates_b.sort_index())
    cols = ["value", "reference_value", "difference", "ratio"]
    disp_b = b[1][cols].rename(index={v: k for k, v in rename.items()}, level=0).sort_index()
    pd.testing.assert_frame_equal(a[1][cols], disp_b)
    for k in a[2]:
        assert np.isclose(a[2][k][0], b[2][k][0], equal_nan=True)


@SETTINGS
@given(datasets())
def test_ratios_are_non_negative(data):
    check_ratios_non_negative(real, data)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: relative difference as ratio")
@BROKEN
@given(datasets())
def test_ratios_are_non_negative_fails_when_broken(data):
    check_ratios_non_negative(broken_ratio, data)


@SETTINGS
@given(datasets())
def test_differences_lie_in_unit_interval(data):
    check_differences_in_unit_interval(real, data)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: divides by the wrong count")
@BROKEN
@given(datasets())
def test_differences_lie_in_unit_interval_fails_when_broken(data):
    check_differences_in_unit_interval(broken_count, data)


@SETTINGS
@given(st.data())
def test_row_order_changes_nothing(draw):
    data = draw.draw(datasets())
    perm = np.array(draw.draw(st.permutations(range(len(data[0])))))
    check_row_order_changes_nothing(real, data, perm)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: first-appearance group codes")
@BROKEN
@given(st.data())
def test_row_order_changes_nothing_fails_when_broken(draw):
    data = draw.draw(datasets())
    perm = np.array(draw.draw(st.permutations(range(len(data[0])))))
    check_row_order_changes_nothing(broken_order, data, perm)


@SETTINGS
@given(st.data())
def test_renaming_groups_permutes_the_results(draw):
    data = draw.draw(datasets())
    check_renaming_permutes_results(real, data, draw.draw(st.permutations(NAMES)))


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: alphabetical reference group")
@BROKEN
@given(st.data())
def test_renaming_groups_permutes_the_results_fails_when_broken(draw):
    data = draw.draw(datasets())
    check_renaming_permutes_results(broken_reference, data, draw.draw(st.permutations(NAMES)))
