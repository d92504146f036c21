"""Data exposure: personal inputs, undeclared personal columns, re-identification risk (closed
forms), small-count suppression, and the samples' planted truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from audits.core.config import AuditConfig
from audits.core.pii import default_quasi_identifiers
from audits.core.results import ProbeResult, Severity
from audits.core.subject import AuditSubject
from audits.data_exposure import reidentification_risk, run_data_exposure, wilson_interval

CONFIG = AuditConfig.light()


# -- closed forms ----------------------------------------------------------------------------

def test_reidentification_closed_form():
    # classes: (30, F) x3, (30, M) x2, (41, F) x1, (52, M) x1  -> 2 of 7 records unique, k = 1
    frame = pd.DataFrame({"age": [30, 30, 30, 30, 30, 41, 52],
                          "gender": ["F", "F", "F", "M", "M", "F", "M"]})
    risk = reidentification_risk(frame, ["age", "gender"])
    assert risk["n"] == 7 and risk["n_unique"] == 2 and risk["k"] == 1
    assert risk["unique_share"] == pytest.approx(2 / 7) and risk["n_classes"] == 4
    assert sorted(risk["class_sizes"]) == [1, 1, 2, 3]
    # one quasi-identifier: age alone -> classes 5, 1, 1
    assert reidentification_risk(frame, ["age"])["n_unique"] == 2
    assert reidentification_risk(frame, ["gender"])["k"] == 3


def test_k_anonymous_table():
    frame = pd.DataFrame({"zip": ["A"] * 4 + ["B"] * 6, "sex": ["F", "M"] * 5})
    risk = reidentification_risk(frame, ["zip", "sex"])
    assert risk["k"] == 2 and risk["unique_share"] == 0.0 and risk["n_classes"] == 4


def test_missing_values_form_their_own_class():
    frame = pd.DataFrame({"age": [30, 30, np.nan, np.nan, np.nan], "sex": ["F"] * 5})
    risk = reidentification_risk(frame, ["age", "sex"])
    assert risk["k"] == 2 and risk["n_classes"] == 2 and risk["n_unique"] == 0


def test_wilson_interval_closed_form():
    z2 = 1.959963984540054 ** 2
    lo, hi = wilson_interval(0, 10, 0.95)
    assert lo == 0.0 and hi == pytest.approx(z2 / (10 + z2))
    lo, hi = wilson_interval(10, 10, 0.95)
    assert hi == 1.0 and lo == pytest.approx(10 / (10 + z2))
    lo, hi = wilson_interval(50, 100, 0.95)
    assert (lo + hi) / 2 == pytest.approx(0.5) and hi - lo == pytest.approx(0.1919, abs=1e-3)


def test_default_quasi_identifiers():
    cols = ["customer_id", "Age", "gender", "postcode_region", "zip", "date_of_birth", "spend",
            "page_views", "stage", "message", "churned"]
    assert default_quasi_identifiers(cols, exclude=("churned",)) == (
        "Age", "gender", "postcode_region", "zip", "date_of_birth")


# -- the probe on a synthetic subject ----------------------------------------------------------

def _subject(*, personal_as_input: bool, quasi_identifiers=(), declared=("email",), n=400,
             seed=0) -> AuditSubject:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "email": [f"user{i}@mail.example" for i in range(n)],
        "phone": [f"+44 20 7946 {i:04d}" for i in range(n)],
        "age": rng.integers(18, 90, n),
        "gender": rng.choice(["female", "male"], n),
        "spend": rng.gamma(2.0, 30.0, n).round(2),
        "visits": rng.poisson(5, n),
        "customer_number": np.arange(10_000, 10_000 + n),
    })
    frame["bought"] = (rng.random(n) < 0.4).astype(int)
    features = ["spend", "visits"] + (["customer_number"] if personal_as_input else [])
    members, nonmembers = frame.iloc[: n // 2].reset_index(drop=True), \
        frame.iloc[n // 2:].reset_index(drop=True)
    model = LogisticRegression().fit(members[features], members["bought"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="bought",
                        positive_label=1, feature_columns=tuple(features),
                        personal_columns=declared, quasi_identifiers=quasi_identifiers,
                        seed=seed)


def _by_id(result: ProbeResult) -> dict:
    return {f.id: f for f in result.findings}


def test_personal_input_fails_and_undeclared_needs_attention():
    result = run_data_exposure(_subject(personal_as_input=True), CONFIG)
    found = _by_id(result)
    assert found["privacy.personal_input.customer_number"].severity is Severity.FAIL
    assert "GDPR Art. 5(1)(c)" in found["privacy.personal_input.customer_number"].statement
    assert found["data.undeclared_personal.phone"].severity is Severity.ATTENTION
    assert found["data.undeclared_personal.customer_number"].severity is Severity.ATTENTION
    assert "data.undeclared_personal.email" not in found  # declared
    assert "privacy.personal_input.none" not in found
    table = result.table("personal_columns").to_frame().set_index("column")
    assert table.loc["customer_number", "model_input"] and table.loc["email", "declared"]
    assert result.probe == "data_exposure" and result.area == "data"


def test_clean_subject_passes():
    subject = _subject(personal_as_input=False, declared=("email", "phone", "customer_number"))
    found = _by_id(run_data_exposure(subject, CONFIG))
    assert found["privacy.personal_input.none"].severity is Severity.PASS
    assert found["data.undeclared_personal.none"].severity is Severity.PASS


def test_declared_but_undetected_column_is_kept():
    subject = _subject(personal_as_input=False, declared=("email", "visits"))
    table = run_data_exposure(subject, CONFIG).table("personal_columns").to_frame()
    row = table.set_index("column").loc["visits"]
    assert row["kind"] == "declared" and row["declared"] and row["model_input"]
    assert _by_id(run_data_exposure(subject, CONFIG))["privacy.personal_input.visits"].severity \
        is Severity.FAIL


def test_reidentification_defaults_and_judgement():
    from audits.core.results import judge

    subject = _subject(personal_as_input=False)  # no declared QIs: defaults age, gender
    result = run_data_exposure(subject, CONFIG)
    finding = _by_id(result)["privacy.reidentification.quasi_identifiers"]
    risk = reidentification_risk(subject.members, ["age", "gender"])
    assert finding.metric.value == pytest.approx(risk["unique_share"])
    u = risk["unique_share"]  # an exact count on the rows held: judged on its value
    assert finding.metric.ci is None
    assert finding.severity is judge((u, u), CONFIG.threshold(
        "privacy.reidentification_unique_share"), value=u)
    assert "age, gender" in finding.statement and "not banded" in finding.statement
    assert any("default" in note for note in result.notes)
    assert result.metric("reidentification.k_anonymity").value == 1
    # raw spend amounts are unique: everyone is re-identifiable
    everyone = run_data_exposure(_subject(personal_as_input=False,
                                          quasi_identifiers=("age", "spend")), CONFIG)
    assert _by_id(everyone)["privacy.reidentification.quasi_identifiers"].severity \
        is Severity.FAIL
    gender_only = run_data_exposure(_subject(personal_as_input=False,
                                             quasi_identifiers=("gender",)), CONFIG)
    g = _by_id(gender_only)["privacy.reidentification.quasi_identifiers"]
    assert g.severity is Severity.PASS and "No training record" in g.statement
    assert gender_only.metric("reidentification.k_anonymity").value > 50


def test_no_quasi_identifiers_is_not_assessed():
    subject = _subject(personal_as_input=False)
    subject = AuditSubject(model=subject.model, members=subject.members.drop(columns=["age",
                                                                                    "gender"]),
                           nonmembers=subject.nonmembers.drop(columns=["age", "gender"]),
                           target="bought", positive_label=1,
                           feature_columns=subject.feature_columns, personal_columns=("email",))
    found = _by_id(run_data_exposure(subject, CONFIG))
    assert found["privacy.reidentification.quasi_identifiers"].severity is Severity.NOT_ASSESSED


def test_small_counts_are_suppressed_and_no_raw_values_leak():
    subject = _subject(personal_as_input=True, quasi_identifiers=("age", "gender"))
    result = run_data_exposure(subject, CONFIG)
    table = result.table("equivalence_classes")
    for row in table.rows:
        for v in row[1:3]:
            assert v is None or v >= CONFIG.suppress_below
    blob = json.dumps(result.to_dict())
    for column in ("email", "phone"):
        for value in subject.members[column]:
            assert value not in blob
    assert ProbeResult.from_dict(json.loads(blob)) == result


# -- planted truth -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["purchase_propensity", "lead_scoring"])
def test_samples_have_no_failing_data_exposure(sample_subject, name):
    result = run_data_exposure(sample_subject(name), AuditConfig())
    assert not [f.id for f in result.findings if f.severity is Severity.FAIL]
    found = _by_id(result)
    assert found["privacy.personal_input.none"].severity is Severity.PASS
    assert found["data.undeclared_personal.none"].severity is Severity.PASS
    reid = found["privacy.reidentification.quasi_identifiers"]
    assert reid.severity is not Severity.NOT_ASSESSED
    assert reid.metric.n == len(sample_subject(name).members)
