"""The Load page, driven headless: samples and their suggested roles, uploads saved by hash, the
skops trust checkboxes and the pickle warning gating "Use this model", errors shown with what was
entered kept, and the feature inventory stored in session state."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app import pages
from views import state

ROOT = Path(__file__).resolve().parents[2]
TREE = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Each test its own tool folder (uploads, cache, secret)."""
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def sample_file(name: str, file: str) -> bytes:
    from sample_models import generate

    generate.build_samples([name])
    return (generate.sample_dir(name) / file).read_bytes()


def manifest(name: str) -> dict:
    from sample_models import generate

    return generate.load_manifest(name)


def load_page(**seed) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in seed.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception
    return at


def button(at: AppTest, label: str):
    (b,) = [b for b in at.button if b.label == label]
    return b


def captions(at: AppTest) -> str:
    return pages.plain("\n".join(c.value for c in at.caption))


def editor_key(inputs: list[str]) -> str:
    return "load_inventory_" + hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]


def upload(at: AppTest, model: tuple[str, bytes], train: bytes, holdout: bytes) -> AppTest:
    at.radio(key="load_kind").set_value("My own model (upload files)").run()
    at.file_uploader(key="load_up_model").set_value((*model, "application/octet-stream"))
    at.file_uploader(key="load_up_train").set_value(("members.csv", train, "text/csv"))
    at.file_uploader(key="load_up_holdout").set_value(("nonmembers.csv", holdout, "text/csv"))
    at.run()
    assert not at.exception
    return at


def test_samples_their_suggested_roles_and_inventory_rows():
    at = load_page()
    assert [t.value for t in at.title] == ["Load a model and its data"]
    sample = at.radio(key="load_sample")
    assert "Sample" in sample.label
    assert sample.options == ["churn", "lead_scoring", "purchase_propensity"]
    assert sample.value == "churn"
    sensitive = at.multiselect(key="load_churn_sensitive")
    assert sensitive.value == ["gender", "ethnicity"]  # the manifest's, in the data's order
    text = captions(at)
    assert "**ethnicity**: name matches 'ethnicity' (racial or ethnic origin)" in text
    assert "**gender**: name matches 'gender'" in text
    assert "tenure_months**" not in text
    assert at.multiselect(key="load_churn_personal").value == \
        ["customer_id", "full_name", "email", "phone"]
    (editor,) = at.data_editor
    assert list(editor.value["feature"]) == manifest("churn")["feature_columns"]
    assert list(editor.value.columns) == ["feature", "origin", "purpose", "legal_basis",
                                          "retention"]

    sample.set_value("lead_scoring").run()
    assert not at.exception and not at.warning
    assert at.multiselect(key="load_lead_scoring_sensitive").value == ["gender", "age_band"]
    assert list(at.data_editor[0].value["feature"]) == \
        manifest("lead_scoring")["feature_columns"]


def test_use_this_model_sets_source_profile_and_clears_a_stale_report():
    at = load_page(**{state.SOURCE: {"kind": "sample", "name": "purchase_propensity"},
                      state.REPORT: "{}", state.AUDIT_KEY: "old", state.RUN_ID: 3})
    assert at.radio(key="load_sample").value == "purchase_propensity"
    at.radio(key="load_sample").set_value("lead_scoring")
    at.radio(key="load_profile").set_value("light").run()
    assert "Quick look" in at.radio(key="load_profile").options[1]
    button(at, "Use this model").click().run()
    assert not at.exception and not at.error
    assert at.session_state[state.SOURCE] == {"kind": "sample", "name": "lead_scoring"}
    assert at.session_state[state.PROFILE] == "light"
    for key in (state.REPORT, state.AUDIT_KEY, state.RUN_ID):
        assert key not in at.session_state
    assert "lead_scoring" in pages.plain(at.success[0].value)
    assert "Go to Run the audit" in [link.value for link in at.page_link]

    at.session_state[state.REPORT] = "{}"  # same source and profile again: the report stays
    button(at, "Use this model").click().run()
    assert at.session_state[state.REPORT] == "{}"


def test_changing_a_samples_roles_is_part_of_the_source():
    at = load_page()
    at.multiselect(key="load_churn_sensitive").unselect("gender").run()
    button(at, "Use this model").click().run()
    assert at.session_state[state.SOURCE] == {"kind": "sample", "name": "churn",
                                              "sensitive": ["ethnicity"]}


def test_skops_types_must_each_be_trusted_before_the_audit(home):
    at = upload(load_page(), ("model.skops", sample_file("churn", "model.skops")),
                sample_file("churn", "members.csv"), sample_file("churn", "nonmembers.csv"))
    (trust,) = at.checkbox
    assert trust.label == f"Trust {TREE}" and trust.value is False
    assert "does not trust by default" in " ".join(m.value for m in at.markdown)
    assert button(at, "Use this model").disabled
    assert any("trust each listed type" in i.value for i in at.info)
    # before the model may load, the inventory lists the data's columns without the target
    assert len(at.data_editor[0].value) == 19  # 14 columns and 5 data-rights columns
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.endswith("_target"))).value \
        == "churned"

    trust.check().run()
    assert not button(at, "Use this model").disabled
    assert list(at.data_editor[0].value["feature"]) == manifest("churn")["feature_columns"]
    button(at, "Use this model").click().run()
    assert not at.exception and not at.error
    source = at.session_state[state.SOURCE]
    assert source["kind"] == "files" and source["trusted"] == [TREE]
    assert source["target"] == "churned" and source["positive_label"] == 1
    assert source["sensitive"] == ["age", "gender", "ethnicity"]  # suggested and pre-selected
    assert source["personal"] == ["customer_id", "full_name", "email", "phone"]
    for role, file in (("model", "model.skops"), ("train", "members.csv"),
                       ("holdout", "nonmembers.csv")):
        path = Path(source[role])
        digest = hashlib.sha256(sample_file("churn", file)).hexdigest()
        assert path == home / "uploads" / digest / file

    # everything entered survives a page switch
    at.switch_page(state.PAGES["run"]).run()
    at.switch_page(state.PAGES["load"]).run()
    assert not at.exception
    assert at.radio(key="load_kind").value == "My own model (upload files)"
    assert [c.value for c in at.checkbox] == [True]
    assert not at.warning  # no complaint about a widget's default and its kept value
    assert "Using the file uploaded earlier: model.skops" in captions(at)
    assert not button(at, "Use this model").disabled


def test_a_pickle_needs_an_explicit_trust(home):
    import joblib
    import skops.io as sio

    from sample_models import generate

    model = sio.load(generate.sample_dir("lead_scoring") / "model.skops", trusted=[])
    buf = io.BytesIO()
    joblib.dump(model, buf)
    at = upload(load_page(), ("model.joblib", buf.getvalue()),
                sample_file("lead_scoring", "members.csv"),
                sample_file("lead_scoring", "nonmembers.csv"))
    (warning,) = at.warning
    assert "runs any code" in warning.value
    (ok,) = at.checkbox
    assert ok.label == "I trust this file and its author" and ok.value is False
    assert button(at, "Use this model").disabled
    ok.check().run()
    button(at, "Use this model").click().run()
    assert not at.exception and not at.error
    source = at.session_state[state.SOURCE]
    assert source["trust_pickle"] is True and source["trusted"] == []
    assert source["target"] == "converted" and Path(source["model"]).name == "model.joblib"


def test_one_data_file_with_a_split_column():
    members = pd.read_csv(io.BytesIO(sample_file("lead_scoring", "members.csv")))
    holdout = pd.read_csv(io.BytesIO(sample_file("lead_scoring", "nonmembers.csv")))
    both = pd.concat([members.assign(data_split="train"), holdout.assign(data_split="holdout")])
    at = load_page()
    at.radio(key="load_kind").set_value("My own model (upload files)").run()
    at.radio(key="load_layout").set_value("One file with a column that splits it").run()
    assert [f.label for f in at.file_uploader] == [
        "Model file (.skops, or a pickle: .pkl, .joblib, .pickle)",
        "Data: training and holdout rows (CSV or Parquet)"]
    at.file_uploader(key="load_up_model").set_value(
        ("model.skops", sample_file("lead_scoring", "model.skops"), "application/octet-stream"))
    at.file_uploader(key="load_up_train").set_value(
        ("all.csv", both.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception and not at.checkbox  # every type trusted by skops: nothing to tick
    split = next(s for s in at.selectbox if s.key.endswith("_split"))
    assert split.value == "data_split"
    target = next(s for s in at.selectbox if s.key.endswith("_target"))
    assert target.value == "converted" and "data_split" not in target.options
    button(at, "Use this model").click().run()
    assert not at.exception and not at.error
    source = at.session_state[state.SOURCE]
    assert source["holdout"] is None and source["split_column"] == "data_split"
    assert source["sensitive"] == ["gender", "age_band"]


def test_a_loading_error_is_shown_and_the_choices_stay():
    at = upload(load_page(), ("model.skops", sample_file("churn", "model.skops")),
                sample_file("lead_scoring", "members.csv"),
                sample_file("lead_scoring", "nonmembers.csv"))
    at.checkbox[0].check().run()
    target = next(s for s in at.selectbox if s.key.endswith("_target"))
    assert target.value == "converted"
    button(at, "Use this model").click().run()
    assert not at.exception
    (error,) = at.error
    assert "expects feature column(s)" in error.value and "Traceback" not in error.value
    assert state.SOURCE not in at.session_state or \
        at.session_state[state.SOURCE].get("kind") != "files"
    assert at.checkbox[0].value is True
    assert next(s for s in at.selectbox if s.key.endswith("_target")).value == "converted"
    assert at.radio(key="load_kind").value == "My own model (upload files)"


def test_an_unreadable_model_file_is_an_error_and_the_page_goes_on():
    at = upload(load_page(), ("model.skops", b"not a zip archive"),
                sample_file("lead_scoring", "members.csv"),
                sample_file("lead_scoring", "nonmembers.csv"))
    (error,) = at.error
    assert "model.skops is not a readable skops file" in error.value
    # the data's widgets are still there (and the erased-customers uploader)
    assert len(at.file_uploader) == 4 and at.selectbox
    assert button(at, "Use this model").disabled


def test_inventory_is_prefilled_edited_and_stored():
    inputs = manifest("churn")["feature_columns"]
    saved = {"features": {"age": {"origin": "first-party", "purpose": "pricing",
                                  "legal_basis": "contract", "retention": "2 years"}}}
    at = load_page(**{state.INVENTORY: saved})
    table = at.data_editor[0].value.set_index("feature")
    assert table.loc["age", "purpose"] == "pricing"
    # an empty cell says so in words, never Python's None
    assert list(table.loc["tenure_months"]) == ["(not given)", "", "(not given)", ""]
    assert not table.isna().any().any()

    key = editor_key(inputs)
    at.session_state[key] = {"edited_rows": {0: {"origin": "third-party broker",
                                                 "purpose": "retention offers",
                                                 "legal_basis": "legitimate interest"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    button(at, "Use this model").click().run()
    stored = at.session_state[state.INVENTORY]["features"]
    assert stored["tenure_months"] == {"origin": "third-party broker",
                                       "purpose": "retention offers",
                                       "legal_basis": "legitimate interest", "retention": None}
    assert stored["age"]["retention"] == "2 years"
    assert set(stored) == set(inputs)

    # the edits come back after a page switch, though the editor's own state is gone
    at.switch_page(state.PAGES["run"]).run()
    at.switch_page(state.PAGES["load"]).run()
    table = at.data_editor[0].value.set_index("feature")
    assert table.loc["tenure_months", "purpose"] == "retention offers"


def test_an_empty_inventory_is_not_stored():
    at = load_page()
    button(at, "Use this model").click().run()
    assert state.INVENTORY not in at.session_state


def test_the_engines_message_is_shown_with_the_form_labels_and_the_entries_stay():
    """The members file given as the holdout too: the same message as the command line's, its
    fields named by this page's labels; the trust ticked and the choices made stay."""
    from audits.core import messages as msg

    members = sample_file("churn", "members.csv")
    at = upload(load_page(), ("model.skops", sample_file("churn", "model.skops")), members,
                members)
    at.checkbox[0].check().run()
    sensitive = next(m for m in at.multiselect if m.key.endswith("_sensitive"))
    sensitive.unselect("age").run()
    button(at, "Use this model").click().run()
    assert not at.exception
    (error,) = at.error
    digest = hashlib.sha256(members).hexdigest()
    assert error.value == msg.FILES_IDENTICAL.render(
        state.FIELD_LABELS, members="members.csv", nonmembers="nonmembers.csv",
        sha256=digest[:16] + "...")
    assert "Non-members upload, on the Load page" in error.value
    assert state.SOURCE not in at.session_state or \
        at.session_state[state.SOURCE].get("kind") != "files"
    assert at.checkbox[0].value is True
    assert next(m for m in at.multiselect if m.key.endswith("_sensitive")).value == \
        ["gender", "ethnicity"]
