"""Personal-column detection: each kind by name and by content, negatives that look alike, and no
raw value ever in the evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audits.core.cache import RunCache
from audits.core.pii import (
    COLUMNS,
    detect_personal_columns,
    luhn_valid,
    personal_column_names,
    personal_columns,
)

N = 300


def _luhn_complete(body: str) -> str:
    """Append the check digit that makes ``body`` pass the Luhn check."""
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("no check digit")


def _frame(rng: np.random.Generator) -> pd.DataFrame:
    first = rng.choice(["Olivia", "James", "Priya", "Kwame", "Mei", "Daniel", "Sofia"], N)
    last = rng.choice(["Smith", "Okafor", "Chen", "Patel", "Kowalski", "Hughes"], N)
    cards = [_luhn_complete("4" + "".join(rng.choice(list("0123456789"), 14))) for _ in range(N)]
    not_luhn = [c[:-1] + str((int(c[-1]) + 1) % 10) for c in cards]
    return pd.DataFrame({
        # positives, under neutral names so that only the content can find them
        "contact": [f"{f.lower()}.{l.lower()}{i}@mail.example" for i, (f, l) in
                    enumerate(zip(first, last))],
        "col_intl": [f"+44 20 7946 {rng.integers(0, 10000):04d}" for _ in range(N)],
        "col_national": [f"020 7946 {rng.integers(0, 10000):04d}" for _ in range(N)],
        "col_us": [f"(555) {rng.integers(100, 999)}-{rng.integers(0, 10000):04d}"
                   for _ in range(N)],
        "who": [f"{f} {l}" for f, l in zip(first, last)],
        "ref": [f"C{k:07d}" for k in rng.choice(10 ** 7, N, replace=False)],
        "host": [f"10.{rng.integers(0, 256)}.{rng.integers(0, 256)}.{rng.integers(0, 256)}"
                 for _ in range(N)],
        "host6": [f"2001:db8::{k:x}" for k in rng.choice(65535, N, replace=False)],
        "pay": [f"{c[:4]} {c[4:8]} {c[8:12]} {c[12:]}" for c in cards],
        "pay_int": np.array([int(c) for c in cards], dtype=np.int64),
        "notes": [f"called back, wrote to {f.lower()}@mail.example" if i % 3 == 0 else
                  "no answer" for i, f in enumerate(first)],
        # negatives that look alike
        "price": np.round(rng.uniform(1, 500, N), 2),
        "big_number": np.array([int(c) for c in not_luhn], dtype=np.int64),
        "big_number_text": not_luhn,
        "product": rng.choice(["Organic Whole Milk", "Free Range Eggs", "Sourdough Loaf"], N),
        "company": rng.choice(["Kestrel Analytics Ltd", "Granite Foods Ltd", "New York"], N),
        "version": [f"1.{rng.integers(0, 9)}.{rng.integers(0, 9)}" for _ in range(N)],
        "server": [f"999.{rng.integers(0, 9)}.1.1" for _ in range(N)],
        "account": [f"00{k:08d}" for k in rng.choice(10 ** 8, N, replace=False)],
        "visit_date": pd.date_range("2024-01-01", periods=N).strftime("%Y-%m-%d"),
        "emails_opened": rng.integers(0, 20, N),
        "n_phone_calls": rng.integers(0, 5, N),
        "amount_unique": rng.permutation(N) * 1.5 + 0.25,
        "segment": rng.choice(["A1", "B2", "C3"], N),
        "row_number": np.arange(N),
    })


@pytest.fixture(scope="module")
def detected():
    frame = _frame(np.random.default_rng(7))
    return frame, detect_personal_columns(frame).set_index("column")


@pytest.mark.parametrize("column, kind", [
    ("contact", "email"), ("col_intl", "phone"), ("col_national", "phone"), ("col_us", "phone"),
    ("who", "person_name"), ("ref", "id"), ("host", "ip_address"), ("host6", "ip_address"),
    ("pay", "card_number"), ("pay_int", "card_number"), ("notes", "email"),
    # unique numbers that fail the Luhn check, or bare digit strings: identifiers, not cards/phones
    ("big_number_text", "id"), ("account", "id")])
def test_each_kind_is_found_by_content(detected, column, kind):
    _, found = detected
    assert column in found.index, column
    assert found.loc[column, "kind"] == kind
    assert found.loc[column, "by_content"] and not found.loc[column, "by_name"]


@pytest.mark.parametrize("column", [
    "price", "big_number", "product", "company", "version", "server", "visit_date",
    "emails_opened", "n_phone_calls", "amount_unique", "segment", "row_number"])
def test_lookalikes_are_not_personal(detected, column):
    _, found = detected
    assert column not in found.index, found.loc[column, "evidence"] if column in found.index \
        else ""


@pytest.mark.parametrize("name, kind", [
    ("email", "email"), ("Work E-mail", "email"), ("contact_email_address", "email"),
    ("mobilePhone", "phone"), ("phone_number", "phone"), ("first_name", "person_name"),
    ("surname", "person_name"), ("customer_id", "id"), ("leadId", "id"), ("uuid", "id"),
    ("ip_address", "ip_address"), ("credit_card", "card_number"),
    ("loyalty_card_number", "card_number"), ("home_address", "address"), ("ssn", "national_id"),
    ("company_name", "company_name")])
def test_names_are_recognised(name, kind):
    frame = pd.DataFrame({name: ["x"] * 20})  # content says nothing
    found = detect_personal_columns(frame)
    assert list(found["kind"]) == [kind]
    assert found["by_name"].all() and not found["by_content"].any()


@pytest.mark.parametrize("name", ["emails_opened", "n_phone_calls", "product_name_length",
                                  "ip_count", "address_changes", "segment", "tel_aviv_store"])
def test_counts_named_after_a_channel_are_not_personal(name):
    frame = pd.DataFrame({name: np.arange(50) % 7})
    assert detect_personal_columns(frame).empty


def test_luhn_check():
    assert luhn_valid("79927398713") and luhn_valid("4111111111111111")
    assert not luhn_valid("79927398710") and not luhn_valid("4111111111111112")
    assert not luhn_valid("4111-1111") and not luhn_valid("")


def test_no_raw_value_in_the_evidence(detected):
    frame, found = detected
    evidence = " ".join(found["evidence"])
    for column in found.index:
        for value in frame[column].astype(str).unique():
            if len(value) >= 5:
                assert value not in evidence, column
    assert "sampled values" in evidence


def test_output_shape_and_types(detected):
    _, found = detected
    assert list(found.reset_index().columns) == COLUMNS
    assert found["by_name"].dtype == bool and found["n_sampled"].dtype.kind == "i"
    empty = detect_personal_columns(pd.DataFrame({"x": [1.0, 2.0]}))
    assert list(empty.columns) == COLUMNS and empty.empty


def test_input_is_not_mutated_and_sampling_is_seeded():
    frame = _frame(np.random.default_rng(3))
    before = frame.copy()
    a = detect_personal_columns(frame, sample_size=50, random_state=1)
    b = detect_personal_columns(frame, sample_size=50, random_state=1)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(a, b)
    assert (a["n_sampled"] <= 50).all()


@pytest.mark.parametrize("name", ["purchase_propensity", "lead_scoring", "churn"])
def test_declared_personal_columns_of_the_samples_are_detected(sample_subject, name):
    from sample_models.generate import load_manifest

    subject = sample_subject(name)
    found = personal_columns(subject).set_index("column")
    for column in load_manifest(name)["personal_columns"]:
        assert column in found.index, column
        assert found.loc[column, "by_name"] or found.loc[column, "by_content"], column
        assert found.loc[column, "declared"]
    assert set(personal_column_names(subject)) >= set(subject.personal_columns)
    # nothing else in the samples is personal (counts such as emails_opened are not)
    assert set(found.index) == set(load_manifest(name)["personal_columns"])


def test_shared_through_the_run_cache(sample_subject):
    subject = sample_subject("purchase_propensity")
    cache = RunCache()
    first = personal_columns(subject, cache=cache)
    first.loc[:, "kind"] = "changed"  # a caller's copy: the shared value is not affected
    assert "changed" not in set(personal_columns(subject, cache=cache)["kind"])
    assert ("personal_columns",) in cache
