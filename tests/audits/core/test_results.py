"""Severity is decided by the interval; results round-trip through JSON exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.core.config import AuditConfig, load_config
from audits.core.errors import InputError
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, Threshold, judge

RATIO = Threshold("r", "below", fail=0.8)
GAP = Threshold("g", "above", attention=0.05)
MIA = Threshold("m", "above", attention=0.55, fail=0.65)
BAND = Threshold("b", "outside", band=(0.8, 1.25))


@pytest.mark.parametrize("ci, threshold, expected", [
    ((0.50, 0.70), RATIO, Severity.FAIL),        # wholly below the four-fifths bound
    ((0.70, 0.90), RATIO, Severity.ATTENTION),   # straddles it
    ((0.85, 1.00), RATIO, Severity.PASS),
    ((0.06, 0.09), GAP, Severity.ATTENTION),     # wholly above 0.05
    ((0.03, 0.09), GAP, Severity.PASS),          # straddles an attention-only bound: not shown
    ((0.66, 0.80), MIA, Severity.FAIL),
    ((0.56, 0.70), MIA, Severity.ATTENTION),     # above 0.55, straddles 0.65
    ((0.50, 0.70), MIA, Severity.ATTENTION),     # cannot rule out failure
    ((0.48, 0.54), MIA, Severity.PASS),
    ((1.30, 1.60), BAND, Severity.FAIL),
    ((1.10, 1.40), BAND, Severity.ATTENTION),
    ((0.90, 1.10), BAND, Severity.PASS),
    ((0.50, 0.70), BAND, Severity.FAIL),
    (None, RATIO, Severity.NOT_ASSESSED),
    ((None, 0.5), RATIO, Severity.NOT_ASSESSED),
    ((float("nan"), 0.5), RATIO, Severity.NOT_ASSESSED),
])
def test_judge(ci, threshold, expected):
    assert judge(ci, threshold) is expected


@given(st.floats(-5, 5), st.floats(0, 3), st.floats(-5, 5))
def test_judge_is_monotone_in_the_interval(lo, width, shift):
    """Moving an interval towards the worse side never lowers the severity."""
    a = judge((lo, lo + width), MIA)
    b = judge((lo + abs(shift), lo + width + abs(shift)), MIA)
    assert b.rank >= a.rank


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
                    '[thresholds."fairness.selection_rate_ratio"]\nfail = 0.9\n')
    config = load_config(path)
    assert config.name == "strict" and config.n_bootstrap == 300
    assert config.threshold("fairness.selection_rate_ratio").fail == 0.9
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
