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
                  "who asked to be erased are still in the data", "shadow profile",
                  "opted out of automated decisions"):
        assert words in text.replace("\\", ""), words
    tables = pages.tables(at)
    consent = next(t for t in tables if "consent column" in t.columns)
    assert list(consent["consent column"]) == ["consent_retention", "consent_marketing"]
    assert not any(i in text for i in planted.erasure.ids)


def test_nothing_declared_is_said_so(sample_subject):
    bare = dataclasses.replace(sample_subject("lead_scoring"), rights=None)
    report = run_audit(bare, AuditConfig.light(), probes=["data_rights"])
    at = pages.open_page(report, "lead_scoring", "privacy", "Privacy")
    assert any("customers' rights were not checked" in i.value for i in at.info)


def test_load_page_suggests_rights_columns_and_puts_them_in_the_source(tmp_path, monkeypatch):
    from tests.app.test_load import button, captions, load_page, sample_file, upload

    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    at = upload(load_page(), ("model.skops", sample_file("churn", "model.skops")),
                sample_file("churn", "members.csv"), sample_file("churn", "nonmembers.csv"))
    text = captions(at)
    for column in ("consent_retention", "collected_at", "data_source", "opt_out_automated"):
        assert f"**{column}**" in text, column                # suggested, with a reason
    assert "the name speaks of consent, and its values are yes/no flags" in text
    assert at.selectbox(key="load_rights_collected_at").value == "collected_at"
    assert at.selectbox(key="load_rights_data_source").value == "data_source"
    at.multiselect(key="load_rights_consent").set_value(["consent_retention"]).run()
    at.text_input(key="load_rights_covers_consent_retention").input("retention offers").run()
    at.text_input(key="load_rights_purposes").input("retention offers").run()
    at.radio(key="load_rights_opt_out_scope").set_value("automated decisions and training")
    at.checkbox[0].check().run()                              # trust the model's types
    button(at, "Use this model").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rights = at.session_state["source"]["rights"]
    assert rights["consent"] == {"consent_retention": ["retention offers"]}
    assert rights["purposes"] == ["retention offers"]
    assert rights["opt_out"] == {"column": "opt_out_automated", "covers_training": True}
    assert (rights["collected_at"], rights["data_source"]) == ("collected_at", "data_source")
