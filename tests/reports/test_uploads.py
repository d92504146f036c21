"""Uploads: saved by content hash under the tool's folder, never outside it; model files inspected
for trust without loading them."""

from __future__ import annotations

import hashlib
import stat

import pytest

from audits.core.errors import InputError
from reports.uploads import (
    MAX_NAME,
    inspect_model_file,
    model_input_columns,
    safe_filename,
    save_upload,
    upload_dir,
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("name, expected", [
    ("members.csv", "members.csv"),
    ("../../x.csv", "x.csv"),
    ("..\\..\\evil.parquet", "evil.parquet"),
    ("/etc/passwd", "passwd"),
    ("..", "upload"), ("", "upload"), ("...", "upload"),
    (".hidden.csv", "hidden.csv"),
    ("my data (v2).csv", "my_data_v2_.csv"),
    ("données clients.csv", "donnees_clients.csv"),
    ("a\x00b\n.csv", "a_b_.csv"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_long_names_keep_their_suffix():
    name = safe_filename("x" * 500 + ".parquet")
    assert len(name) <= MAX_NAME and name.endswith(".parquet")


def test_saved_under_the_hash_of_the_bytes_with_private_modes(home):
    data = b"a,b\n1,2\n"
    path = save_upload("members.csv", data)
    digest = hashlib.sha256(data).hexdigest()
    assert path == upload_dir() / digest / "members.csv"
    assert upload_dir() == home / "uploads"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_same_bytes_same_path_other_bytes_other_folder():
    a = save_upload("m.csv", b"1\n")
    assert save_upload("m.csv", b"1\n") == a
    b = save_upload("m.csv", b"2\n")
    assert b != a and b.parent != a.parent and b.read_bytes() == b"2\n"
    assert a.read_bytes() == b"1\n"


def test_traversal_stays_inside_the_upload_folder(home):
    for name in ("../../x.csv", "../../../../tmp/y.csv", "..", "/abs/z.csv", "a/../../b.csv"):
        path = save_upload(name, b"data for " + name.encode())
        root = upload_dir().resolve()
        assert root in path.resolve().parents
        assert path.resolve().parent.parent == root
    assert not (home.parent / "x.csv").exists()
    leftovers = [p for p in upload_dir().rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def _sample_model(name: str):
    from sample_models import generate

    generate.build_samples([name])
    return generate.sample_dir(name) / "model.skops"


def test_inspect_lists_untrusted_skops_types_without_loading():
    info = inspect_model_file(_sample_model("churn"))
    assert info.format == "skops"
    assert info.untrusted == ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
    assert inspect_model_file(_sample_model("lead_scoring")).untrusted == ()


def test_inspect_pickle_and_corrupt_files(tmp_path):
    pkl = tmp_path / "m.joblib"
    pkl.write_bytes(b"\x80\x04not really")
    assert inspect_model_file(pkl).to_dict() == {"format": "pickle", "untrusted": []}
    bad = tmp_path / "m.skops"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops file"):
        inspect_model_file(bad)
    with pytest.raises(InputError, match="gone"):
        inspect_model_file(tmp_path / "missing.skops")


def test_model_input_columns_need_the_trust():
    from sample_models import generate

    path = _sample_model("churn")
    with pytest.raises(InputError, match="does not trust"):
        model_input_columns(path)
    trusted = list(inspect_model_file(path).untrusted)
    assert model_input_columns(path, trusted=trusted) == \
        generate.load_manifest("churn")["feature_columns"]
