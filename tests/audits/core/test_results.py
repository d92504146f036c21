"""Severity is decided by the interval; results round-trip through JSON exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.core.config import AuditConfig, load_config
from audits.core.errors import InputError
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, Threshold, judge

RATIO = Threshold("r", "below", fail=0.8, no_effect=1.0)
GAP = Threshold("g", "above", attention=0.05, no_effect=0.0)
MIA = Threshold("m", "above", attention=0.55, fail=0.65, no_effect=0.5)
BAND = Threshold("b", "outside", band=(0.8, 1.25), no_effect=1.0)
QUALITY = Threshold("q", "below", attention=0.7)  # a quality score: no "no effect"

S = Severity


@pytest.mark.parametrize("ci, value, threshold, expected", [
    # one bound, lower is worse (THRESHOLDS.md's rules in order)
    ((0.50, 0.70), 0.60, RATIO, S.FAIL),            # wholly below the bound
    ((0.70, 0.90), 0.78, RATIO, S.ATTENTION),       # wholly below 1, point below 0.8
    ((0.74, 1.03), 0.89, RATIO, S.INCONCLUSIVE),    # lead_scoring's old false alarm
    ((0.70, 1.02), 0.78, RATIO, S.INCONCLUSIVE),    # point below 0.8 but 1 not ruled out
    ((0.85, 1.00), 0.92, RATIO, S.PASS),
    ((0.80, 1.10), 0.95, RATIO, S.PASS),            # on the bound is not beyond it
    # one bound, higher is worse
    ((0.06, 0.09), 0.07, GAP, S.ATTENTION),         # wholly above the bound
    ((0.01, 0.09), 0.06, GAP, S.ATTENTION),         # above 0, point above 0.05
    ((0.01, 0.09), 0.04, GAP, S.INCONCLUSIVE),
    ((-0.01, 0.09), 0.06, GAP, S.INCONCLUSIVE),     # 0 not ruled out
    ((-0.02, 0.04), 0.01, GAP, S.PASS),
    # two bounds: no point-estimate rule
    ((0.66, 0.80), 0.70, MIA, S.FAIL),
    ((0.56, 0.70), 0.60, MIA, S.ATTENTION),
    ((0.50, 0.70), 0.66, MIA, S.INCONCLUSIVE),      # cannot tell
    ((0.51, 0.56), 0.53, MIA, S.INCONCLUSIVE),
    ((0.48, 0.54), 0.51, MIA, S.PASS),
    # a band, both orientations
    ((1.30, 1.60), 1.45, BAND, S.FAIL),
    ((0.50, 0.70), 0.60, BAND, S.FAIL),
    ((1.10, 1.40), 1.30, BAND, S.ATTENTION),        # wholly above 1, point above 1.25
    ((0.60, 0.95), 0.75, BAND, S.ATTENTION),
    ((0.94, 1.96), 1.32, BAND, S.INCONCLUSIVE),     # lead_scoring's old FPR false alarm
    ((1.10, 1.40), 1.20, BAND, S.INCONCLUSIVE),
    ((0.90, 1.10), 1.00, BAND, S.PASS),
    # a quality score
    ((0.40, 0.60), 0.50, QUALITY, S.ATTENTION),
    ((0.60, 0.80), 0.70, QUALITY, S.INCONCLUSIVE),
    ((0.75, 0.90), 0.80, QUALITY, S.PASS),
    # missing intervals
    (None, None, RATIO, S.NOT_ASSESSED),
    ((None, 0.5), 0.4, RATIO, S.NOT_ASSESSED),
    ((float("nan"), 0.5), 0.4, RATIO, S.NOT_ASSESSED),
])
def test_judge(ci, value, threshold, expected):
    assert judge(ci, threshold, value=value) is expected


def _judge_old(ci, threshold, *, value=None):
    """The first round's rule, kept to show the tests catch it: an interval straddling a bound
    was ``attention``, so noise alone raised findings."""
    lo, hi = ci
    if threshold.direction == "outside":
        a, b = threshold.band
        return S.FAIL if hi < a or lo > b else S.ATTENTION if lo < a or hi > b else S.PASS
    return judge(ci, threshold, value=value)


@pytest.mark.xfail(strict=True, reason="broken on purpose: a straddling interval is attention")
def test_judge_fails_when_a_straddling_interval_raises_attention():
    assert _judge_old((0.94, 1.96), BAND, value=1.32) is S.INCONCLUSIVE


@given(st.floats(-5, 5), st.floats(0, 3), st.floats(-5, 5))
def test_judge_is_monotone_in_the_interval(lo, width, shift):
    """Moving an interval towards the worse side never makes it look safer: a fail stays a fail,
    and nothing that was attention or fail becomes pass."""
    a = judge((lo, lo + width), MIA)
    b = judge((lo + abs(shift), lo + width + abs(shift)), MIA)
    assert not (a is S.FAIL and b is not S.FAIL)
    assert not (a in (S.ATTENTION, S.FAIL) and b is S.PASS)


@given(st.floats(0.01, 5), st.floats(0, 3), st.floats(0, 1))
def test_a_pass_needs_the_whole_interval_inside_and_a_fail_the_whole_outside(lo, width, at):
    hi = lo + width
    sev = judge((lo, hi), BAND, value=lo + at * width)  # the point lies in its interval
    if sev is S.PASS:
        assert 0.8 <= lo and hi <= 1.25
    if sev is S.FAIL:
        assert hi < 0.8 or lo > 1.25
    if 0.8 <= lo and hi <= 1.25:
        assert sev is S.PASS


def test_severities_sort_worst_first_and_inconclusive_never_counts_as_attention():
    ranks = [s.rank for s in (S.PASS, S.NOT_ASSESSED, S.INCONCLUSIVE, S.ATTENTION, S.FAIL)]
    assert ranks == sorted(ranks) and len(set(ranks)) == 5
    assert S.INCONCLUSIVE.rank < S.ATTENTION.rank


def test_old_thresholds_without_no_effect_still_load():
    d = RATIO.to_dict()
    d.pop("no_effect")
    assert Threshold.from_dict(d).no_effect is None


def test_finding_id_form():
    with pytest.raises(ValueError, match="probe.check.subject"):
        Finding(id="fairness.disparate_impact", severity="fail", title="t", statement="s")


def test_round_trip_is_exact():
    m = Metric("auc.members", 0.91234567890123, ci=(0.9, float("nan")), method="boot", n=10)
    f = Finding(id="p.c.s", severity=Severity.ATTENTION, title="t", statement="s", metric=m,
                threshold=BAND, area="privacy")
    t = Table("tab", ("a", "b"), ((1, None), ("x", 2.5)))
    r = ProbeResult("p", "privacy", metrics=(m,), tables=(t,), findings=(f,), notes=("n",),
                    params={"k": 1})
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert ProbeResult.from_dict(d) == r
    assert r.metrics[0].ci == (0.9, None)  # NaN becomes None: JSON has no NaN


def test_config_profile_toml(tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text('name = "strict"\n[params]\nn_bootstrap = 300\n'
                    '[thresholds."fairness.selection_rate_ratio"]\nband = [0.9, 1.11]\n')
    config = load_config(path)
    assert config.name == "strict" and config.n_bootstrap == 300
    assert config.threshold("fairness.selection_rate_ratio").band == (0.9, 1.11)
    assert config.profile_hash != AuditConfig().profile_hash
    assert AuditConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("text, fragment", [
    ("[params]\nbootstraps = 3\n", "unknown parameters ['bootstraps']"),
    ('[thresholds."fairness.nope"]\nfail = 1\n', "unknown threshold 'fairness.nope'"),
    ("name = [unclosed\n", "not valid TOML"),
])
def test_config_errors_name_the_file(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match="bad.toml") as exc:
        load_config(path)
    assert fragment in str(exc.value)


def test_every_default_threshold_has_a_source_and_kind():
    for t in AuditConfig().thresholds.values():
        assert t.source and t.kind in {"REG", "TOOL", "HEUR"}, t.name
