"""What to audit (AuditSource): one frozen, JSON-safe record with load() and key(config); the key
made of file hashes, every option and the configuration; a disk store; an audit computed once
per key."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import reports.source as ac
from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.seeds import MAX_SEED
from reports.report import AuditReport
from reports.source import AuditSource

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
def files(tmp_path) -> AuditSource:
    """A copy of the lead_scoring sample's files, as an upload would leave them."""
    folder = tmp_path / "files"
    folder.mkdir()
    for f in ("model.skops", "members.csv", "nonmembers.csv"):
        shutil.copy(_sample("lead_scoring") / f, folder / f)
    return AuditSource(model=folder / "model.skops", train=folder / "members.csv",
                       holdout=folder / "nonmembers.csv", target="converted",
                       positive_label=np.int64(1), sensitive=["gender", "age_band"],
                       personal=["lead_id", "contact_name", "email", "phone", "company_name"])


def test_a_source_is_frozen_and_json_safe(files):
    with pytest.raises(dataclasses.FrozenInstanceError):
        files.target = "x"
    d = files.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert AuditSource.from_dict(json.loads(json.dumps(d))) == files
    assert d["positive_label"] == 1 and type(d["positive_label"]) is int
    assert d["split_column"] is None and d["kind"] == "files"
    assert files.sensitive == ("gender", "age_band")
    sample = AuditSource(sample="churn", sensitive=["ethnicity"], seed="7")
    assert sample.to_dict() == {"kind": "sample", "name": "churn", "sensitive": ["ethnicity"],
                                "seed": 7}
    assert AuditSource.from_dict(sample.to_dict()) == sample
    assert AuditSource.from_dict({"kind": "sample", "name": "churn"}) == AuditSource(
        sample="churn")
    one = AuditSource(model="m.skops", train="data.csv", target="y", split_column="split",
                      trusted=["b.T", "a.T", "b.T"])
    assert one.holdout is None and one.split_column == "split" and one.trusted == ("a.T", "b.T")


def test_equal_sources_have_equal_keys(files):
    light = AuditConfig.light()
    again = AuditSource.from_dict(json.loads(json.dumps(files.to_dict())))
    assert again == files and hash(again) == hash(files)
    assert again.key(AuditConfig.light()) == files.key(light)


def test_key_follows_every_file_byte(files):
    light = AuditConfig.light()
    key = files.key(light)
    for role in ("model", "train", "holdout"):
        path = Path(getattr(files, role))
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 1
        path.write_bytes(bytes(changed))
        assert files.key(light) != key, role
        path.write_bytes(original)
        assert files.key(light) == key, role


@pytest.mark.parametrize("option, value", [
    ("sensitive", ["gender"]), ("positive_label", 0), ("personal", ["lead_id"]),
    ("quasi_identifiers", ["gender"]), ("id_column", "lead_id"), ("decision_threshold", 0.4),
    ("favourable", 0), ("favourable_action", "called by sales"), ("trusted", ["x.Y"]),
    ("trust_pickle", True), ("seed", 3), ("name", "other"), ("target", "gender"),
])
def test_key_follows_every_option(files, option, value):
    light = AuditConfig.light()
    changed = dataclasses.replace(files, **{option: value})
    assert changed.key(light) != files.key(light)


def test_key_follows_the_configuration(files):
    light = AuditConfig.light()
    key = files.key(light)
    assert files.key(AuditConfig()) != key
    assert files.key(dataclasses.replace(light, n_bootstrap=300)) != key
    assert files.key(dataclasses.replace(light, n_jobs=1)) == key  # changes no result


def test_key_of_a_sample_follows_its_role_overrides():
    light = AuditConfig.light()
    plain = AuditSource(sample="lead_scoring").key(light)
    assert AuditSource.of_sample("lead_scoring", sensitive=None).key(light) == plain
    assert AuditSource.of_sample("lead_scoring", sensitive=["gender"]).key(light) != plain
    assert AuditSource.of_sample("lead_scoring", seed=1).key(light) != plain
    with pytest.raises(InputError) as e:
        AuditSource.of_sample("lead_scoring", colour=["x"])
    assert str(e.value) == msg.ROLE_UNKNOWN.render(bad=["colour"], valid=list(ac.ROLE_KEYS))


@pytest.mark.parametrize("kwargs, message, values", [
    (dict(sample="nope"), msg.SAMPLE_UNKNOWN, dict(name="nope", valid=list(ac.SAMPLE_NAMES))),
    (dict(sample="churn", model="m.skops"), msg.SAMPLE_WITH_FILES, dict(fields=["model"])),
    (dict(model="m.skops", target="y"), msg.FILES_NOT_GIVEN, dict(fields=["train"])),
    (dict(model="m.skops", train="t.csv", target="y"), msg.HOLDOUT_MISSING, {}),
    (dict(sample="churn", decision_threshold="nan"), msg.THRESHOLD_NOT_A_NUMBER,
     dict(value="nan")),
    (dict(sample="churn", seed="-1"), msg.SEED_OUT_OF_RANGE, dict(value=-1, max=MAX_SEED)),
])
def test_a_source_checks_its_options_when_made(kwargs, message, values):
    with pytest.raises(InputError) as e:
        AuditSource(**kwargs)
    assert str(e.value) == message.render(**values)


def test_a_classifier_threshold_outside_0_1_is_refused_on_load():
    """A decision threshold's range depends on the task (a regression's is on its own scale), so
    it is checked when the source is loaded, before any work."""
    source = AuditSource(sample="churn", decision_threshold="1.5")
    with pytest.raises(InputError) as e:
        source.load()
    assert str(e.value) == msg.THRESHOLD_OUT_OF_RANGE.render(value="1.5")


def test_missing_files_are_an_input_error(files, tmp_path):
    gone = dataclasses.replace(files, holdout=str(tmp_path / "nowhere.csv"))
    with pytest.raises(InputError) as e:
        gone.key(AuditConfig.light())
    assert str(e.value) == msg.SOURCE_FILES_GONE.render(missing=[str(tmp_path / "nowhere.csv")])
    with pytest.raises(InputError) as e:
        AuditSource.from_dict({"kind": "url"})
    assert e.value.code == "SOURCE_KIND_UNKNOWN" and e.value.fields == ("source",)


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
    monkeypatch.setattr(AuditSource, "load", lambda self: object())
    seen = []
    source, light = AuditSource(sample="lead_scoring"), AuditConfig.light()
    key, text = ac.audit_source(source, light, progress=lambda *a: seen.append(a))
    assert calls == [light.profile_hash] and seen == [("performance", "scoring", 0.5)]
    assert key == source.key(light) and text == fixture.to_json()
    again = ac.audit_source(source, AuditConfig.light(), progress=lambda *a: seen.append(a))
    assert again == (key, text)
    assert len(calls) == 1 and len(seen) == 1
    ac.audit_source(source, AuditConfig(), progress=None)  # another profile: computed
    assert len(calls) == 2


def test_load_applies_sample_overrides_and_files(files):
    subject = AuditSource.of_sample("lead_scoring", sensitive=["gender"], seed=5,
                                    decision_threshold=0.3).load()
    assert subject.sensitive_fields == ("gender",) and subject.seed == 5
    assert subject.decision_threshold == 0.3
    subject = files.load()
    assert subject.target == "converted" and subject.sensitive_fields == ("gender", "age_band")
    assert subject.name == "model"


def test_model_inputs(files):
    from sample_models import generate

    churn_inputs = generate.load_manifest("churn")["feature_columns"]
    assert AuditSource(sample="churn").model_inputs() == churn_inputs
    assert files.model_inputs() == generate.load_manifest("lead_scoring")["feature_columns"]
    folder = _sample("churn")
    untrusted = AuditSource(model=folder / "model.skops", train=folder / "members.csv",
                            holdout=folder / "nonmembers.csv", target="churned")
    columns = untrusted.model_inputs()  # the model refuses to load: the data's columns
    # the data's columns but the target: 14, and the 5 data-rights columns
    assert "churned" not in columns and "customer_id" in columns and len(columns) == 19
    trusted = dataclasses.replace(untrusted, trusted=(
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",))
    assert trusted.model_inputs() == churn_inputs


def test_describe_names_files_not_folders(files):
    text = files.describe()
    assert "model.skops" in text and "members.csv" in text and "'converted'" in text
    assert str(Path(files.model).parent) not in text
    assert AuditSource(sample="churn").describe() == "the built-in sample 'churn'"
    assert "sensitive" in AuditSource(sample="churn", sensitive=["gender"]).describe()
