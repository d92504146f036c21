"""The app's audit cache: a key made of file hashes, options and configuration; a disk store; and
an audit computed once per key."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import reports.source as ac
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from reports.report import AuditReport

FIXTURE = Path(__file__).parent / "render" / "fixtures" / "report_v1.json"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _sample(name: str) -> Path:
    from sample_models import generate

    generate.build_samples([name])
    return generate.sample_dir(name)


@pytest.fixture
def files(tmp_path):
    """A copy of the lead_scoring sample's files, as an upload would leave them."""
    folder = tmp_path / "files"
    folder.mkdir()
    for f in ("model.skops", "members.csv", "nonmembers.csv"):
        shutil.copy(_sample("lead_scoring") / f, folder / f)
    return ac.files_source(folder / "model.skops", folder / "members.csv",
                           folder / "nonmembers.csv", target="converted",
                           positive_label=np.int64(1), sensitive=["gender", "age_band"],
                           personal=["lead_id", "contact_name", "email", "phone",
                                     "company_name"])


def test_key_is_stable_and_follows_every_file_byte(files):
    light = AuditConfig.light()
    key = ac.audit_key(files, light)
    assert key == ac.audit_key(json.loads(json.dumps(files)), AuditConfig.light())
    for role in ("model", "train", "holdout"):
        path = Path(files[role])
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 1
        path.write_bytes(bytes(changed))
        assert ac.audit_key(files, light) != key, role
        path.write_bytes(original)
        assert ac.audit_key(files, light) == key, role


def test_key_follows_the_configuration_and_the_options(files):
    light = AuditConfig.light()
    key = ac.audit_key(files, light)
    assert ac.audit_key(files, AuditConfig()) != key
    assert ac.audit_key(files, dataclasses.replace(light, n_bootstrap=300)) != key
    assert ac.audit_key(files, dataclasses.replace(light, n_jobs=1)) == key  # changes no result
    assert ac.audit_key(files | {"sensitive": ["gender"]}, light) != key
    assert ac.audit_key(files | {"positive_label": 0}, light) != key


def test_key_of_a_sample_follows_its_role_overrides():
    light = AuditConfig.light()
    plain = ac.audit_key(ac.sample_source("lead_scoring"), light)
    assert ac.audit_key(ac.sample_source("lead_scoring", sensitive=None), light) == plain
    assert ac.audit_key(ac.sample_source("lead_scoring", sensitive=["gender"]), light) != plain
    with pytest.raises(InputError, match="Unknown column role"):
        ac.sample_source("lead_scoring", target=["x"])


def test_missing_files_are_an_input_error(files, tmp_path):
    gone = files | {"holdout": str(tmp_path / "nowhere.csv")}
    with pytest.raises(InputError, match="gone"):
        ac.audit_key(gone, AuditConfig.light())
    with pytest.raises(InputError, match="Unknown source kind"):
        ac.source_files({"kind": "url"})


def test_store_and_read_back(home):
    text = FIXTURE.read_text(encoding="utf-8")
    assert ac.cached_report("abc") is None
    path = ac.store_report("abc", text)
    assert path.parent == home / "cache" / "reports"
    assert ac.cached_report("abc") == text
    assert AuditReport.from_json(ac.cached_report("abc")).to_json() == \
        AuditReport.from_json(text).to_json()
    assert [p.name for p in path.parent.iterdir()] == ["abc.json"]  # no temporary file left


def test_second_audit_reads_the_cache(monkeypatch):
    fixture = AuditReport.from_json(FIXTURE.read_text(encoding="utf-8"))
    calls = []

    def fake_run(subject, config, *, progress=None):
        calls.append(config.profile_hash)
        if progress:
            progress("performance", "scoring", 0.5)
        return fixture

    monkeypatch.setattr(ac, "run_audit", fake_run)
    monkeypatch.setattr(ac, "subject_from_source", lambda source: object())
    seen = []
    source, light = ac.sample_source("lead_scoring"), AuditConfig.light()
    key, text = ac.audit_source(source, light, progress=lambda *a: seen.append(a))
    assert calls == [light.profile_hash] and seen == [("performance", "scoring", 0.5)]
    assert key == ac.audit_key(source, light) and text == fixture.to_json()
    again = ac.audit_source(source, AuditConfig.light(), progress=lambda *a: seen.append(a))
    assert again == (key, text)
    assert len(calls) == 1 and len(seen) == 1
    ac.audit_source(source, AuditConfig(), progress=None)  # another profile: computed
    assert len(calls) == 2


def test_files_source_is_json_safe(files):
    assert json.loads(json.dumps(files)) == files
    assert files["positive_label"] == 1 and type(files["positive_label"]) is int
    assert files["split_column"] is None and files["name"] == "model"
    one = ac.files_source("m.skops", "data.csv", target="y", split_column="split",
                          trusted=["b.T", "a.T", "b.T"])
    assert one["holdout"] is None and one["split_column"] == "split"
    assert one["trusted"] == ["a.T", "b.T"]
    with pytest.raises(InputError, match="holdout"):
        ac.files_source("m.skops", "data.csv", target="y")


def test_subject_from_source_applies_sample_overrides_and_files(files):
    subject = ac.subject_from_source(ac.sample_source("lead_scoring", sensitive=["gender"]))
    assert subject.sensitive_fields == ("gender",)
    subject = ac.subject_from_source(files)
    assert subject.target == "converted" and subject.sensitive_fields == ("gender", "age_band")


def test_model_inputs(files, tmp_path):
    from sample_models import generate

    churn_inputs = generate.load_manifest("churn")["feature_columns"]
    assert ac.model_inputs(ac.sample_source("churn")) == churn_inputs
    assert ac.model_inputs(files) == generate.load_manifest("lead_scoring")["feature_columns"]
    folder = _sample("churn")
    untrusted = ac.files_source(folder / "model.skops", folder / "members.csv",
                                folder / "nonmembers.csv", target="churned")
    columns = ac.model_inputs(untrusted)  # the model refuses to load: the data's columns
    # the data's columns but the target: 14, and the 5 data-rights columns
    assert "churned" not in columns and "customer_id" in columns and len(columns) == 19
    trusted = untrusted | {"trusted": ["sklearn.ensemble._hist_gradient_boosting.predictor."
                                       "TreePredictor"]}
    assert ac.model_inputs(trusted) == churn_inputs


def test_describe_source_names_files_not_folders(files):
    text = ac.describe_source(files)
    assert "model.skops" in text and "members.csv" in text and "'converted'" in text
    assert str(Path(files["model"]).parent) not in text
    assert ac.describe_source(ac.sample_source("churn")) == "the built-in sample 'churn'"
    assert "sensitive" in ac.describe_source(ac.sample_source("churn", sensitive=["gender"]))
