"""Everything that decides a result is in AuditConfig, so in the profile hash and the cache key.

One test per parameter and per threshold: changing it changes the profile's hash and the key the
report cache files an audit under (``reports.source.AuditSource.key``), so an audit is never read
back from the cache under a profile it was not computed with. ``n_jobs`` and ``partition_rows``
change no result, and they alone leave both unchanged.
"""

from __future__ import annotations

import dataclasses

import pytest

from audits.core.config import DEFAULT_THRESHOLDS, AuditConfig

BASE = AuditConfig()
#: Fields that change no result (how the work is run, not what it computes).
NO_RESULT = ("n_jobs", "partition_rows")
PARAMS = [f for f in dataclasses.fields(AuditConfig) if f.name not in ("thresholds", *NO_RESULT)]


def _changed(f: dataclasses.Field, value):
    """Another valid value of a parameter (within its documented range)."""
    meta = f.metadata
    if meta.get("choices"):
        return next(c for c in meta["choices"] if c != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        high = meta.get("high")
        return value + 1 if high is None or value + 1 <= high else value - 1
    if isinstance(value, float):
        return value * 0.9 if value else 0.01
    if isinstance(value, tuple):
        return (*value, 99.0) if f.name == "age_bands" else (*value, "p-000000000000")
    if isinstance(value, dict):
        return {**value, "gender": "F"}
    if isinstance(value, str):
        return value + "-other"
    raise AssertionError(f"no changed value for {f.name} ({type(value).__name__})")


@pytest.fixture(scope="module")
def key():
    from reports.source import AuditSource

    return AuditSource.of_sample("lead_scoring").key


@pytest.mark.parametrize("field", PARAMS, ids=lambda f: f.name)
def test_each_parameter_changes_the_hash_and_the_cache_key(field, key):
    other = dataclasses.replace(BASE, **{field.name: _changed(field, getattr(BASE, field.name))})
    assert other.profile_hash != BASE.profile_hash
    assert key(other) != key(BASE)


@pytest.mark.parametrize("name", sorted(DEFAULT_THRESHOLDS))
def test_each_threshold_changes_the_hash_and_the_cache_key(name, key):
    t = BASE.threshold(name)
    if t.band is not None:
        changed = dataclasses.replace(t, band=(t.band[0] - 0.01, t.band[1]))
    else:
        bound = "fail" if t.fail is not None else "attention"
        changed = dataclasses.replace(t, **{bound: getattr(t, bound) + 0.001})
    other = dataclasses.replace(BASE, thresholds={**BASE.thresholds, name: changed})
    assert other.profile_hash != BASE.profile_hash
    assert key(other) != key(BASE)


@pytest.mark.parametrize("change", [{"n_jobs": 1}, {"partition_rows": 0}], ids=str)
def test_how_the_work_runs_changes_no_result_and_no_key(change, key):
    """n_jobs, and partition_rows (the partitioned path gives the in-memory path's result:
    tests/audits/core/test_partitions.py)."""
    other = dataclasses.replace(BASE, **change)
    assert other.profile_hash == BASE.profile_hash
    assert key(other) == key(BASE)


def test_every_parameter_documents_its_meaning():
    for f in dataclasses.fields(AuditConfig):
        if f.name not in ("name", "thresholds"):
            assert f.metadata.get("doc"), f.name


def test_the_profile_round_trips_through_its_dict():
    other = dataclasses.replace(BASE, reference_groups={"gender": "F"},
                                explain_records=("p-000000000000",), whatif=False)
    assert AuditConfig.from_dict(other.to_dict()) == other
    assert AuditConfig.from_dict(other.to_dict()).profile_hash == other.profile_hash
