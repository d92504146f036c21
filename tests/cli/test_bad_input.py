"""Every bad input gets a message naming the file or column and the fix, and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import review_board


def audit(files, *extra, model=None, train=None, holdout=None, target="churned", trust=True):
    argv = ["audit", "--model", str(model or files["model"]), "--train",
            str(train or files["train"]), "--target", target, "--out",
            str(files["dir"] / "out"), "--probes", "performance", "--light", "--quiet"]
    if holdout is not False:
        argv += ["--holdout", str(holdout or files["holdout"])]
    if trust:
        for t in files["trusted"]:
            argv += ["--trust", t]
    return review_board.main(argv + list(extra))


def expect_error(capsys, code, *fragments):
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    return err


def write(files, name, frame):
    path = files["dir"] / name
    frame.to_csv(path, index=False)
    return path


def test_good_input_runs(files, capsys):
    assert audit(files) == 0, capsys.readouterr().err
    assert (files["dir"] / "out" / "report.json").is_file()


def test_missing_file(files, capsys):
    code = audit(files, model=files["dir"] / "nope.skops")
    expect_error(capsys, code, "nope.skops", "does not exist", "--model")


def test_missing_data_file(files, capsys):
    code = audit(files, holdout=files["dir"] / "absent.csv")
    expect_error(capsys, code, "absent.csv", "does not exist", "--holdout")


def test_corrupt_model_file(files, capsys):
    bad = files["dir"] / "corrupt.skops"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    expect_error(capsys, audit(files, model=bad), "corrupt.skops", "not a readable skops file",
                 "skops.io.dump")


def test_corrupt_data_file(files, capsys):
    bad = files["dir"] / "corrupt.parquet"
    bad.write_bytes(b"not parquet at all")
    expect_error(capsys, audit(files, train=bad), "corrupt.parquet", "could not be read")


def test_not_a_model(files, capsys):
    import skops.io as sio

    path = files["dir"] / "dict.skops"
    sio.dump({"weights": [1, 2, 3]}, path)
    expect_error(capsys, audit(files, model=path), "dict.skops", "not a model", "predict")


def test_model_without_predict_proba(files, capsys):
    import skops.io as sio
    from sklearn.svm import LinearSVC

    train = pd.read_csv(files["train"])
    path = files["dir"] / "svc.skops"
    sio.dump(LinearSVC().fit(train[["tenure", "spend"]], train["churned"]), path)
    expect_error(capsys, audit(files, model=path, trust=False), "svc.skops", "LinearSVC",
                 "predict_proba", "CalibratedClassifierCV")


def test_pickle_refused_without_trust(files, capsys):
    err = expect_error(capsys, audit(files, model=files["pickle"], trust=False), "model.pkl",
                       "runs any code", "--trust-pickle")
    assert "skops" in err


def test_pickle_loads_with_explicit_trust(files, capsys):
    assert audit(files, "--trust-pickle", model=files["pickle"], trust=False) == 0


def test_untrusted_skops_type_is_listed_and_can_be_trusted(files, capsys):
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier

    train = pd.read_csv(files["train"])
    path = files["dir"] / "hgb.skops"
    sio.dump(HistGradientBoostingClassifier(max_iter=5).fit(train[["tenure", "spend"]],
                                                           train["churned"]), path)
    untrusted = sio.get_untrusted_types(file=path)
    if not untrusted:
        pytest.skip("this skops version trusts every type of the model")
    err = expect_error(capsys, audit(files, model=path, trust=False), "hgb.skops",
                       "does not trust", untrusted[0], "--trust")
    trust = [a for t in untrusted for a in ("--trust", t)]
    assert audit(files, *trust, model=path, trust=False) == 0, err


def test_target_missing(files, capsys):
    expect_error(capsys, audit(files, target="left"), "'left'", "train.csv", "Columns in the file",
                 "--target")


def test_one_class_target(files, capsys):
    frame = pd.read_csv(files["train"]).assign(churned=0)
    code = audit(files, train=write(files, "oneclass.csv", frame))
    expect_error(capsys, code, "'churned' has 1 distinct value", "oneclass.csv", "both classes",
                 "--positive-label")


def test_multiclass_target(files, capsys):
    frame = pd.read_csv(files["holdout"])
    frame["churned"] = np.arange(len(frame)) % 3
    code = audit(files, holdout=write(files, "three.csv", frame))
    expect_error(capsys, code, "3 distinct values", "three.csv", "multiclass", "not supported")


def test_sensitive_field_missing(files, capsys):
    code = audit(files, "--sensitive", "gender,ethnicity")
    expect_error(capsys, code, "['ethnicity']", "--sensitive", "Columns in the file")


def test_feature_columns_missing(files, capsys):
    train = pd.read_csv(files["train"]).drop(columns=["spend", "plan"])
    holdout = pd.read_csv(files["holdout"]).drop(columns=["spend", "plan"])
    code = audit(files, train=write(files, "few.csv", train),
                 holdout=write(files, "few_h.csv", holdout))
    expect_error(capsys, code, "['spend', 'plan']", "few.csv", "expects feature column")


def test_wrong_column_type(files, capsys):
    frame = pd.read_csv(files["train"])
    frame["tenure"] = frame["tenure"].astype(str)
    frame.loc[:4, "tenure"] = "unknown"
    holdout = pd.read_csv(files["holdout"])
    holdout["tenure"] = holdout["tenure"].astype(str)
    holdout.loc[:2, "tenure"] = "unknown"
    code = audit(files, train=write(files, "text.csv", frame),
                 holdout=write(files, "text_h.csv", holdout))
    expect_error(capsys, code, "'tenure'", "text.csv", "should hold numbers", "unknown")


def test_column_type_differs_between_files(files, capsys):
    holdout = pd.read_csv(files["holdout"])
    holdout["spend"] = "not given"
    code = audit(files, holdout=write(files, "mixed.csv", holdout))
    expect_error(capsys, code, "'spend'", "mixed.csv", "same type")


def test_missing_values_the_model_cannot_take(files, capsys):
    holdout = pd.read_csv(files["holdout"])
    holdout.loc[:6, "spend"] = np.nan
    code = audit(files, holdout=write(files, "gaps.csv", holdout))
    expect_error(capsys, code, "'spend'", "7 empty values", "gaps.csv", "Fill or drop")


def test_empty_data(files, capsys):
    path = files["dir"] / "empty.csv"
    path.write_text(",".join(pd.read_csv(files["train"]).columns) + "\n")
    expect_error(capsys, audit(files, train=path), "empty.csv", "no rows")


def test_empty_file(files, capsys):
    path = files["dir"] / "zero.csv"
    path.write_text("")
    expect_error(capsys, audit(files, train=path), "zero.csv", "empty")


def test_members_and_nonmembers_with_different_columns(files, capsys):
    holdout = pd.read_csv(files["holdout"]).rename(columns={"gender": "sex"})
    code = audit(files, holdout=write(files, "renamed.csv", holdout))
    expect_error(capsys, code, "train.csv", "renamed.csv", "different columns", "['gender']",
                 "['sex']")


def test_split_column_mode(files, capsys):
    both = pd.concat([pd.read_csv(files["train"]).assign(split="train"),
                      pd.read_csv(files["holdout"]).assign(split="holdout")])
    path = write(files, "both.csv", both)
    assert audit(files, "--split-column", "split", train=path, holdout=False) == 0
    code = audit(files, "--split-column", "part", train=path, holdout=False)
    expect_error(capsys, code, "'part'", "both.csv", "--split-column")


def test_no_holdout_and_no_split_column(files, capsys):
    expect_error(capsys, audit(files, holdout=False), "--holdout", "--split-column")


def test_unknown_probe(files, capsys):
    code = audit(files, "--probes", "performance,telepathy")
    expect_error(capsys, code, "telepathy", "available probes")


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        review_board.main(["audit", "--fail-on", "sometimes"])
    assert exc.value.code == 2


def test_installed_command_has_no_traceback(files, tmp_path):
    """The real entry point, in a fresh process: message on stderr, status 2, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "review_board", "audit", "--model",
                           str(tmp_path / "missing.skops"), "--train", str(files["train"]),
                           "--holdout", str(files["holdout"]), "--target", "churned"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "missing.skops" in proc.stderr and "Traceback" not in proc.stderr

