"""Invariants of the group metrics and comparisons, as hypothesis properties, each also run
against a deliberately broken implementation (``xfail(strict=True)``) to prove that the property
can fail.

The implementation under test is the probe's own pipeline (:func:`audits.group_metrics.joint_cells`
and ``joint_bootstrap``, :func:`audits.fairness_field.audit_field`,
:func:`audits.fairness_pairs.compare_groups`) on arbitrary small data; every group is assessed
(``min_group_size=1``).
"""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from audits import fairness_field, fairness_pairs
from audits.core.config import AuditConfig
from audits.core.groups import group_codes
from audits.fairness_field import audit_field
from audits.fairness_pairs import compare_groups
from audits.group_metrics import cell_metrics, confusion_counts, joint_bootstrap, joint_cells

CELL = ("selection_rate", "tpr", "fpr", "fnr", "precision")
_CFG = AuditConfig()
_THR = {"selection_rate": _CFG.threshold("fairness.selection_rate_ratio"),
        "error_rate": _CFG.threshold("fairness.error_rate_ratio"),
        "subgroup_drop": _CFG.threshold("performance.subgroup_drop")}


def comparisons(y, d, codes, levels, n_boot=60):
    """The probe's pipeline on one field: its group rates and its comparisons."""
    fine, maps = joint_cells(y, d, [codes])
    (reps,), total = joint_bootstrap(fine, maps, [len(levels)], n_boot=n_boot, random_state=0)
    fa = audit_field("g", codes, levels, y, d.astype(float),
                     confusion_counts(y, d, codes, n_groups=len(levels)), reps,
                     favourable_positive=True, confidence=0.95, min_group_size=1,
                     random_state=1)
    overall = confusion_counts(y, d, np.zeros(len(y), dtype=np.intp), n_groups=1)[0]
    return fa, compare_groups([fa], overall, total, confidence=0.95, min_group_size=1,
                              thresholds=_THR)


def _collect(fa, comp) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Group rates, the cell-metric comparisons (indexed by the pair and the metric) and the
    accuracy drops."""
    rates = pd.DataFrame({m: fa.rates[m] for m in CELL}, index=list(fa.levels))
    disp = comp.pairs[comp.pairs["metric"].isin(CELL)]
    drops = comp.drops.set_index("group").sort_index()
    return rates, disp.set_index(["group", "reference", "metric"]).sort_index(), drops


def real(y, d, groups):
    codes, levels = group_codes(groups)
    return _collect(*comparisons(y, d, codes, levels))


# -- deliberately broken implementations -----------------------------------------------------

def broken_ratio(y, d, groups):
    """Reports the relative difference (g - ref) / ref as the ratio."""
    rates, disp, drops = real(y, d, groups)
    disp = disp.copy()
    for c in ("ratio", "ratio_low", "ratio_high"):
        disp[c] = disp[c] - 1
    return rates, disp, drops


def broken_count(y, d, groups):
    """Divides a group's favourable decisions by its actual positives, not by its size."""
    def wrong(counts, **kw):
        out = cell_metrics(counts, **kw)
        c = np.asarray(counts, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["selection_rate"] = (c[..., 0] + c[..., 1]) / (c[..., 0] + c[..., 2])
        return out
    with mock.patch.object(fairness_field, "cell_metrics", wrong), \
            np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return real(y, d, groups)


def broken_order(y, d, groups):
    """Codes groups by first appearance but names them in sorted order."""
    codes, _ = pd.factorize(pd.Series(groups))
    levels = sorted(set(groups))
    return _collect(*comparisons(y, d, codes, levels))


def broken_orientation(y, d, groups):
    """Orients each pair by the groups' order of names, not by the group a gap harms."""
    def by_name(audits, *a, **k):
        rows = original(audits, *a, **k)
        return [dict(r, num=min(r["num"], r["den"]), den=max(r["num"], r["den"])) for r in rows]
    original = fairness_pairs._pair_rows
    with mock.patch.object(fairness_pairs, "_pair_rows", by_name):
        return real(y, d, groups)


def broken_most_favoured(y, d, groups):
    """Compares each group with the most favoured one, picked on the same rows."""
    def favoured(audits, *a, **k):
        fa = audits[0]
        best = int(np.nanargmax(np.where(fa.assessed, fa.rates["selection_rate"], np.nan)))
        return [r for r in original(audits, *a, **k) if best in (r["num"], r["den"])]
    original = fairness_pairs._pair_rows
    with mock.patch.object(fairness_pairs, "_pair_rows", favoured):
        return real(y, d, groups)


def broken_degenerate(y, d, groups):
    """Resamples every rate, however few its events (a zero count resamples to zero)."""
    with mock.patch.object(fairness_field, "jeffreys_draws", lambda x, m, reps, **k: reps), \
            mock.patch.object(fairness_field, "MIN_EVENTS", 0), \
            np.errstate(divide="ignore", invalid="ignore"):
        return real(y, d, groups)


# -- data ------------------------------------------------------------------------------------

NAMES = ("ann", "bob", "cy", "dee")


@st.composite
def datasets(draw, min_size=6, min_groups=2):
    rows = draw(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.booleans()),
                         min_size=min_size, max_size=80))
    g = np.array([NAMES[r[0]] for r in rows], dtype=object)
    for k, name in enumerate(("zed", "ann", "bob")[:min_groups]):
        if len(set(g)) < min_groups and name not in set(g):
            g[k] = name
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
    _, disp, _ = impl(*data)
    for c in ("ratio", "ratio_low", "ratio_high"):
        assert (_finite(disp[c]) >= 0).all(), c


def check_differences_in_unit_interval(impl, data):
    rates, disp, _ = impl(*data)
    for m in CELL:
        assert (_finite(rates[m]) >= 0).all() and (_finite(rates[m]) <= 1).all(), m
    assert (np.abs(_finite(disp["difference"])) <= 1).all()


def check_row_order_changes_nothing(impl, data, perm):
    y, d, g = data
    a, b = impl(y, d, g), impl(y[perm], d[perm], g[perm])
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    pd.testing.assert_frame_equal(a[2], b[2])


def check_renaming_permutes_results(impl, data, new_names):
    y, d, g = data
    rename = dict(zip(NAMES + ("zed",), tuple(new_names) + ("zed",)))
    back = {v: k for k, v in rename.items()}
    a = impl(y, d, g)
    b = impl(y, d, np.array([rename[v] for v in g], dtype=object))
    rates_b = b[0].rename(index=back)
    pd.testing.assert_frame_equal(a[0].sort_index(), rates_b.sort_index())
    cols = ["value", "reference_value", "difference", "ratio"]
    disp_b = b[1][cols].rename(index=back, level=0).rename(index=back, level=1)
    pd.testing.assert_frame_equal(_untie(a[1][cols]), _untie(disp_b))


def _untie(disp: pd.DataFrame) -> pd.DataFrame:
    """Pairs of equal rates have no harmed group: put them in the order of the names."""
    d = disp.reset_index()
    tie = d["value"] == d["reference_value"]
    swap = tie & (d["group"] > d["reference"])
    d.loc[swap, ["group", "reference"]] = d.loc[swap, ["reference", "group"]].to_numpy()
    return d.set_index(["group", "reference", "metric"]).sort_index()


def check_pairs_fixed_before_the_outcomes(impl, data, perm):
    """Which groups are compared depends on the groups, not on the decisions: every pair of
    groups, whatever the outcomes (shuffling the decisions changes the most favoured group)."""
    y, d, g = data
    a, b = impl(y, d, g), impl(y, d[perm], g)

    def pairs(disp):
        sel = disp.xs("selection_rate", level="metric")
        return {frozenset(p) for p in sel.index}
    n_groups = len(set(g))
    assert pairs(a[1]) == pairs(b[1])
    assert len(pairs(a[1])) == n_groups * (n_groups - 1) // 2


def check_no_degenerate_interval(impl, data):
    """Every judged comparison has a band of positive width, a zero count included."""
    _, disp, drops = impl(*data)
    judged = disp[disp["family"] != "shown"]
    lo, hi = judged["ratio_low"].astype(float), judged["ratio_high"].astype(float)
    assert (lo.notna() & hi.notna()).all(), "a judged comparison without a band"
    assert (hi > lo).all() and (hi > 0).all()
    assert (drops["drop_high"] > drops["drop_low"]).all()


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
def test_rates_and_differences_lie_in_unit_interval(data):
    check_differences_in_unit_interval(real, data)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: divides by the wrong count")
@BROKEN
@given(datasets())
def test_rates_and_differences_lie_in_unit_interval_fails_when_broken(data):
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
                   reason="broken implementation: pairs oriented by the groups' names")
@BROKEN
@given(st.data())
def test_renaming_groups_permutes_the_results_fails_when_broken(draw):
    data = draw.draw(datasets())
    check_renaming_permutes_results(broken_orientation, data, draw.draw(st.permutations(NAMES)))


@SETTINGS
@given(st.data())
def test_pairs_are_fixed_before_the_outcomes(draw):
    data = draw.draw(datasets())
    perm = np.array(draw.draw(st.permutations(range(len(data[0])))))
    check_pairs_fixed_before_the_outcomes(real, data, perm)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: the most favoured group, picked on the rows")
@BROKEN
@given(st.data())
def test_pairs_are_fixed_before_the_outcomes_fails_when_broken(draw):
    data = draw.draw(datasets(min_groups=3))
    perm = np.array(draw.draw(st.permutations(range(len(data[0])))))
    check_pairs_fixed_before_the_outcomes(broken_most_favoured, data, perm)


@SETTINGS
@given(datasets())
def test_no_interval_is_degenerate(data):
    check_no_degenerate_interval(real, data)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken implementation: a zero count resampled to [0, 0]")
@BROKEN
@given(datasets())
def test_no_interval_is_degenerate_fails_when_broken(data):
    check_no_degenerate_interval(broken_degenerate, data)
