"""Shared fixtures. One audit per sample per profile for the whole session (they are costly).

Profiles: tests that check planted effects use the default profile; the others use the documented
light profile (``AuditConfig.light()``: 200 bootstrap replicates, K = 4 reference models).
"""

from __future__ import annotations

import os
import tempfile

import pytest

# Never touch the user's own folder (secret key, ledger): one temporary home per test session.
os.environ["REVIEW_BOARD_HOME"] = tempfile.mkdtemp(prefix="review-board-test-home-")
os.environ["REVIEW_BOARD_DB"] = f"sqlite:///{os.environ['REVIEW_BOARD_HOME']}/ledger.db"


@pytest.fixture(scope="session")
def sample_subject():
    """``sample_subject(name)``: the loaded sample (built on first use), shared per session."""
    from reports.source import load_sample

    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_sample(name)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def sample_report(sample_subject):
    """``sample_report(name, light=False)``: the sample's audit report, run once per session."""
    from audits.core.config import AuditConfig
    from reports.build import run_audit

    cache = {}

    def get(name: str, light: bool = False):
        key = (name, light)
        if key not in cache:
            config = AuditConfig.light() if light else AuditConfig()
            cache[key] = run_audit(sample_subject(name), config)
        return cache[key]
    return get
