"""The data-rights probe: every planted violation of the churn sample found with its exact count
(the generator's own masks, in the manifest), none on the clean control, small counts suppressed,
bad declarations refused with the column and the fix; each rule has a broken variant that must
fail (``xfail(strict=True)``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audits import data_rights
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Severity
from audits.core.rights import (
    ConsentColumn,
    OptOut,
    RightsDeclaration,
    check_rights,
    declaration_from_spec,
    load_erasure,
    parse_consent,
    parse_opt_out,
    retention_days,
)
from audits.data_rights import clopper_pearson, run_data_rights
from reports.source import sample_manifest

CONFIG = AuditConfig.light()


def planted(name: str) -> dict:
    return sample_manifest(name)["planted_rights"]


def counts(result) -> dict:
    """The counts the probe found, read back from its findings' metrics and tables."""
    by_id = {f.id: f for f in result.findings}
    out = {}
    for fid, key in (("data.consent.profiling_for_retention_offers", "consent"),
                     ("data.retention.all", "retention"), ("data.shadow_profiles.all", "shadow"),
                     ("data.opt_out.scored", "opt_out_scored"),
                     ("data.opt_out.trained", "opt_out_trained"),
                     ("data.erasure.in_data", "erased")):
        f = by_id.get(fid)
        out[key] = None if f is None else round(f.metric.value * f.metric.n)
    return out


def check_churn_counts(subject):
    truth = planted("churn")
    found = counts(run_data_rights(subject, CONFIG))
    erasure = truth["erasure"]
    assert found == {
        "consent": truth["consent_missing"]["training"],
        "retention": truth["retention_exceeded"]["training"],
        "shadow": truth["shadow_profiles"]["training"],
        "opt_out_scored": truth["opt_out"]["holdout"],
        "opt_out_trained": truth["opt_out"]["training"],
        "erased": erasure["in_training"] + erasure["in_holdout"]}


def test_churn_planted_violations_found_with_exact_counts(sample_subject):
    check_churn_counts(sample_subject("churn"))


def test_churn_findings_fail_and_say_so_in_plain_words(sample_subject):
    result = run_data_rights(sample_subject("churn"), CONFIG)
    sev = {f.id: f.severity for f in result.findings}
    assert sev == {"data.consent.profiling_for_retention_offers": Severity.FAIL,
                   "data.retention.all": Severity.FAIL,
                   "data.shadow_profiles.all": Severity.ATTENTION,
                   "data.opt_out.scored": Severity.FAIL, "data.opt_out.trained": Severity.FAIL,
                   "data.erasure.in_data": Severity.FAIL}
    truth = planted("churn")
    consent = next(f for f in result.findings if f.id.startswith("data.consent."))
    k = truth["consent_missing"]["training"]
    assert consent.statement.startswith(f"{k} training customers ({100 * k / 15000:.1f}%")
    assert "never consented to profiling for retention offers" in consent.statement
    assert "'consent_retention'" in consent.statement            # which consent is missing
    assert consent.title == (f"{k} training customers, {100 * k / 15000:.1f}%, never consented "
                             "to profiling for retention offers")   # the board summary's words
    lo, hi = consent.metric.ci
    assert lo < k / 15000 < hi
    shadow = next(f for f in result.findings if f.id == "data.shadow_profiles.all")
    assert "age" in shadow.statement                              # the broker input


@pytest.mark.parametrize("broken, reason", [
    ("consent", "any consent column counts, whatever it covers"),
    ("retention", "the longest retention binds instead of the shortest"),
    ("shadow", "third-party rows not counted, only broker rows"),
    ("opt_out", "opt-outs counted on the training rows instead of the scored ones"),
    ("erasure", "erased customers looked for in the training rows only"),
])
@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose")
def test_churn_counts_fail_when_a_rule_is_broken(sample_subject, monkeypatch, broken, reason):
    if broken == "consent":
        monkeypatch.setattr(data_rights, "_covered", lambda given, cols, part: np.any(
            [v[part] for v in given.values()], axis=0))
    elif broken == "retention":
        monkeypatch.setattr(data_rights, "_binding", lambda r: max(r.values()))
    elif broken == "shadow":
        monkeypatch.setattr(data_rights, "_shadow", lambda src: src == "broker")
    elif broken == "opt_out":
        monkeypatch.setattr(data_rights, "_SCORED", "members")
    else:
        monkeypatch.setattr(data_rights, "_ERASURE_PARTS", ("members",))
    check_churn_counts(sample_subject("churn"))


def test_clean_control_raises_nothing(sample_subject):
    result = run_data_rights(sample_subject("lead_scoring"), CONFIG)
    assert len(result.findings) == 6
    assert {f.severity for f in result.findings} == {Severity.PASS}
    assert all(f.metric.value == 0 for f in result.findings)


def test_no_declaration_is_not_assessed(sample_subject):
    import dataclasses

    bare = dataclasses.replace(sample_subject("lead_scoring"), rights=None)
    result = run_data_rights(bare, CONFIG)
    assert [(f.id, f.severity) for f in result.findings] == [
        ("data.rights.undeclared", Severity.NOT_ASSESSED)]


# -- small cells, on a subject built by hand ----------------------------------------------------
class _Model:
    classes_ = np.array([0, 1])


def _subject(rights, members, nonmembers):
    from audits.core.subject import AuditSubject

    return AuditSubject(model=_Model(), members=members, nonmembers=nonmembers, target="y",
                        positive_label=1, feature_columns=("x",), id_column="id",
                        rights=rights, secret=b"k")


def _frame(n, *, no_consent=0, opted=0, prefix="m"):
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n)], "x": np.arange(n),
                         "y": np.arange(n) % 2,
                         "consent": [0] * no_consent + [1] * (n - no_consent),
                         "opt_out": ["yes"] * opted + ["no"] * (n - opted)})


def test_fewer_than_ten_is_never_printed():
    rights = RightsDeclaration(consent=(ConsentColumn("consent", ("retention offers",)),),
                               purposes=("retention offers",), opt_out=OptOut("opt_out"))
    subject = _subject(rights, _frame(500, no_consent=3), _frame(400, opted=12, prefix="n"))
    result = run_data_rights(subject, CONFIG)
    consent = result.findings[0]
    assert consent.severity is Severity.FAIL
    assert consent.statement.startswith("fewer than 10 training customers (under 2%)")
    assert consent.metric.value is None and consent.metric.ci is None
    blob = json.dumps(result.to_dict())
    assert '"n": 500' in blob and " 3 " not in blob and "0.006" not in blob
    assert result.table("consent").rows[0][2] is None            # suppressed cell
    scored = next(f for f in result.findings if f.id == "data.opt_out.scored")
    assert scored.statement.startswith("12 holdout customers (3%")  # 10 or more: printed


def test_clopper_pearson_oracle():
    from scipy.stats import binomtest

    for k, n in ((0, 50), (3, 500), (358, 15000), (40, 40)):
        ci = binomtest(k, n).proportion_ci(0.95, method="exact")
        assert np.allclose(clopper_pearson(k, n, 0.95), (ci.low, ci.high))


# -- declarations ---------------------------------------------------------------------------------
def test_options_parse():
    assert parse_consent("c=retention offers| profiling") == ConsentColumn(
        "c", ("retention offers", "profiling"))
    assert parse_opt_out("o") == OptOut("o", False)
    assert parse_opt_out("o=decisions|training") == OptOut("o", True)
    assert [retention_days(t) for t in ("24 months", "2 years", "90 days", "P6W", "forever",
                                        None)] == [730, 730, 90, 42, None, None]
    with pytest.raises(InputError, match="COLUMN=purpose1"):
        parse_consent("consent_only")
    with pytest.raises(InputError, match="unknown scope"):
        parse_opt_out("o=everything")


@pytest.mark.parametrize("spec, frame_edit, words", [
    ({"consent": {"nope": ["p"]}, "purposes": ["p"]}, None,
     ("'nope'", "the consent columns", "Columns in the file")),
    ({"collected_at": "when"}, lambda f: f.assign(when=["2025-01-01"] * (len(f) - 1) + ["soon"]),
     ("'when'", "not dates", "'soon'", "YYYY-MM-DD")),
    ({"consent": {"consent": ["p"]}}, None, ("the model's purposes",)),
    ({"data_source": "src"}, lambda f: f.assign(src="shop"),
     ("'src'", "'shop'", "first party")),
    ({"consent": {"x": ["p"]}, "purposes": ["p"]}, None, ("model input",)),
])
def test_bad_declarations_name_the_column_and_the_fix(spec, frame_edit, words):
    frame = _frame(20)
    if frame_edit:
        frame = frame_edit(frame)
    with pytest.raises(InputError) as e:
        check_rights(declaration_from_spec(spec), {"members": frame, "nonmembers": frame},
                     names={"members": "train.csv", "nonmembers": "holdout.csv"},
                     feature_columns=("x",))
    for w in words:
        assert w in str(e.value)


def test_erased_file_needs_an_id_column(tmp_path):
    path = tmp_path / "erased.csv"
    path.write_text("email,requested_at\na@example.com,2026-01-01\n")
    with pytest.raises(InputError) as e:
        load_erasure(path, id_column="customer_id")
    assert "erased.csv" in str(e.value) and "'customer_id'" in str(e.value)
    path.write_text("customer_id,requested_at\nC1,someday\n")
    with pytest.raises(InputError, match="requested_at.*not a date"):
        load_erasure(path, id_column="customer_id")
    path.write_text("customer_id,requested_at\nC1,2026-01-02\n C2 ,\n")
    req = load_erasure(path, id_column="customer_id")
    assert req.ids == ("C1", "C2") and req.requested_at == ("2026-01-02", None)


def test_summary_never_holds_an_erased_id(sample_subject):
    subject = sample_subject("churn")
    blob = json.dumps(subject.summary())
    assert subject.rights.erasure.ids and not any(i in blob for i in subject.rights.erasure.ids)
    assert '"requests": 132' in blob
