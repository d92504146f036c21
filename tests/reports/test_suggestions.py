"""Column-role suggestions: planted truth on the samples, value-based detection under neutral names,
and no false positives on amounts, colours, sizes and CRM categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports.suggestions import (
    name_words,
    suggest_personal,
    suggest_positive_label,
    suggest_quasi_identifiers,
    suggest_sensitive,
    suggest_split_column,
    suggest_target,
)


def _members(name: str) -> pd.DataFrame:
    from sample_models import generate

    generate.build_samples([name])
    return pd.read_csv(generate.sample_dir(name) / "members.csv")


def _by_column(suggestions) -> dict[str, str]:
    return {s.column: s.reason for s in suggestions}


def test_churn_sensitive_fields_suggested_by_name():
    found = _by_column(suggest_sensitive(_members("churn")))
    assert found["ethnicity"] == "name matches 'ethnicity' (racial or ethnic origin)"
    assert found["gender"] == "name matches 'gender' (sex or gender)"
    assert "tenure_months" not in found
    assert not {"monthly_spend", "support_calls", "plan", "churned"} & set(found)


def test_samples_planted_sensitive_fields_are_all_suggested():
    from sample_models import generate

    for name in generate.SAMPLE_NAMES:
        manifest = generate.load_manifest(name)
        found = _by_column(suggest_sensitive(_members(name)))
        assert set(manifest["sensitive_fields"]) <= set(found), name
        assert not set(manifest["personal_columns"]) & set(found), name


def test_values_reveal_sensitive_fields_under_neutral_names():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "col7": rng.choice(["Male", "Female", "male", "FEMALE"], n),
        "col3": rng.choice(["White British", "Asian or Asian British", "Black African",
                            "Mixed", "Other"], n),
        "col4": rng.choice(["18-24", "25-34", "35-44", "45-54", "65+"], n),
        "col5": rng.choice(["Christian", "Muslim", "No religion", "Hindu"], n),
        "col6": rng.choice(["single", "married", "divorced", "widowed"], n),
    })
    found = {s.column: s for s in suggest_sensitive(frame)}
    assert found["col7"].by == "values"
    assert "sexes or genders" in found["col7"].reason
    assert found["col3"].reason == "values look like ethnic groups"
    assert found["col4"].reason == "values look like age bands"
    assert found["col5"].reason == "values look like religions"
    assert found["col6"].reason == "values look like marital statuses"


def test_no_false_positives_on_amounts_colours_sizes_and_crm_categories():
    rng = np.random.default_rng(1)
    n = 500
    frame = pd.DataFrame({
        "amount": rng.gamma(2.0, 40.0, n),              # numeric: never judged by value
        "n_orders": rng.integers(0, 12, n),
        "binary_flag": rng.integers(0, 2, n),
        "colour": rng.choice(["black", "white", "silver", "red"], n),
        "bw_print": rng.choice(["black", "white"], n),   # colours only, no ethnic group word
        "shirt": rng.choice(["S", "M", "L", "XL"], n),
        "company_size": rng.choice(["1-10", "11-50", "51-200", "201-1000", "1000+"], n),
        "country": rng.choice(["France", "Germany", "United Kingdom"], n),
        "region": rng.choice(["North", "South", "East", "West"], n),
        "industry": rng.choice(["healthcare", "retail", "software"], n),
        "page_views": rng.integers(0, 40, n), "usage_hours": rng.random(n),
        "Sussex_branch": rng.choice(["yes", "no"], n), "average_basket": rng.random(n),
    })
    assert suggest_sensitive(frame) == []


@pytest.mark.parametrize("column, category", [
    ("SexualOrientation", "sexual orientation"), ("trade_union_member", "trade-union membership"),
    ("date_of_birth", "age"), ("is_pregnant", "pregnancy or parenthood"),
    ("Religion", "religion or belief"), ("disability_status", "disability"),
    ("NATIONALITY", "nationality"), ("health_condition", "health"), ("age_band", "age"),
    ("marital_status", "marital status")])
def test_name_categories(column, category):
    frame = pd.DataFrame({column: [1, 2, 3]})
    (s,) = suggest_sensitive(frame)
    assert s.column == column and s.by == "name" and s.reason.endswith(f"({category})")


def test_exclude_and_name_words():
    frame = pd.DataFrame({"gender": ["m", "f"], "x": ["Male", "Female"]})
    assert [s.column for s in suggest_sensitive(frame, exclude=["gender", "x"])] == []
    assert name_words("customerAge_Band") == ["customer", "age", "band"]


def test_personal_and_quasi_identifier_suggestions_on_churn():
    frame = _members("churn")
    personal = _by_column(suggest_personal(frame))
    assert set(personal) == {"customer_id", "full_name", "email", "phone"}
    assert all("by name" in r or "by content" in r for r in personal.values())
    quasi = [s.column for s in suggest_quasi_identifiers(frame.columns)]
    assert quasi == ["age", "gender", "postcode_region"]
    assert [s.column for s in suggest_quasi_identifiers(frame.columns, exclude=["age"])] == \
        ["gender", "postcode_region"]


@pytest.mark.parametrize("name", ["churn", "lead_scoring", "purchase_propensity"])
def test_quasi_identifier_suggestions_match_each_samples_planted_ones(name):
    # planted truth: each sample's manifest lists its quasi-identifiers (lead_scoring's include
    # country and job_level, which the audit's defaults alone miss)
    from reports.source import sample_manifest

    frame = _members(name)
    want = set(sample_manifest(name)["quasi_identifiers"])
    found = _by_column(suggest_quasi_identifiers(frame.columns))
    assert set(found) == want
    if name == "lead_scoring":
        assert "where the person lives" in found["country"]
        assert "what the person does" in found["job_level"]


@pytest.mark.xfail(strict=True, reason="the audit's default quasi-identifiers (age, gender, "
                                       "postcode, date of birth) miss country and job_level")
def test_the_defaults_alone_miss_the_lead_scoring_quasi_identifiers():
    from audits.core.pii import default_quasi_identifiers
    from reports.source import sample_manifest

    frame = _members("lead_scoring")
    assert set(default_quasi_identifiers(list(frame.columns))) == \
        set(sample_manifest("lead_scoring")["quasi_identifiers"])


def test_quasi_identifiers_by_name_words_only():
    cols = ["Country", "homeCity", "job_title", "regional_sales", "countryside_visits", "notes"]
    got = [s.column for s in suggest_quasi_identifiers(cols)]
    assert got == ["Country", "homeCity", "job_title"]  # whole words, not prefixes
    assert [s.column for s in suggest_quasi_identifiers(cols, exclude=["Country"])] == \
        ["homeCity", "job_title"]


def test_target_and_positive_label():
    assert suggest_target(_members("churn")) == "churned"
    assert suggest_target(_members("lead_scoring")) == "converted"
    frame = pd.DataFrame({"flag": [0, 1, 0], "outcome": ["a", "b", "a"], "v": [1, 2, 3]})
    assert suggest_target(frame) == "outcome"
    assert suggest_target(frame, exclude=["outcome"]) == "flag"
    assert suggest_target(pd.DataFrame({"v": [1, 2, 3]})) is None
    assert suggest_positive_label([0, 1]) == 1
    assert suggest_positive_label(["no", "yes"]) == "yes"
    assert suggest_positive_label(["lost", "won"]) == "won"
    assert suggest_positive_label([False, True]) is True
    assert suggest_positive_label([]) is None


def test_split_column():
    frame = pd.DataFrame({"converted": [0, 1, 0], "data_split": ["train", "holdout", "train"]})
    assert suggest_split_column(frame) == "data_split"
    frame = pd.DataFrame({"converted": [0, 1, 0], "b": ["train", "test", "test"]})
    assert suggest_split_column(frame) == "b"  # by its values; 0/1 alone could be any flag
    assert suggest_split_column(pd.DataFrame({"converted": [0, 1], "b": ["x", "y"]})) is None
