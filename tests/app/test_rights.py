"""The Privacy page's "Consent and data rights" section, on the churn sample's data-rights audit
(its planted violations) and on a report where nothing was declared."""

from __future__ import annotations

import dataclasses

import pytest

from audits.core.config import AuditConfig
from reports.build import run_audit
from tests.app import pages


@pytest.fixture(scope="module")
def churn_rights(sample_subject):
    return run_audit(sample_subject("churn"), AuditConfig.light(), probes=["data_rights"])


def test_section_states_each_violation_with_its_count(churn_rights, sample_subject):
    at = pages.open_page(churn_rights, "churn", "privacy", "Privacy")
    assert "Consent and data rights" in [h.value for h in at.header]
    text = "\n".join(m.value for m in at.markdown)
    planted = sample_subject("churn").rights
    assert planted is not None
    for words in ("never consented to profiling for retention offers",
                  "Erased customers still in the data", "shadow profile",
                  "opted out of automated decisions"):
        assert words in text.replace("\\", ""), words
    tables = [d.value for d in at.dataframe]
    consent = next(t for t in tables if "consent column" in t.columns)
    assert list(consent["consent column"]) == ["consent_retention", "consent_marketing"]
    assert not any(i in text for i in planted.erasure.ids)


def test_nothing_declared_is_said_so(sample_subject):
    bare = dataclasses.replace(sample_subject("lead_scoring"), rights=None)
    report = run_audit(bare, AuditConfig.light(), probes=["data_rights"])
    at = pages.open_page(report, "lead_scoring", "privacy", "Privacy")
    assert any("customers' rights were not checked" in i.value for i in at.info)
