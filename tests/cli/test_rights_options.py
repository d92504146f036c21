"""The data-rights options of ``review-board audit``: a good declaration runs the probe, a bad one
exits 2 with the column and the fix, never a traceback."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import review_board


@pytest.fixture(scope="module")
def rights_files(files):
    d = files["dir"]
    for part in ("train", "holdout"):
        frame = pd.read_csv(files[part])
        n = len(frame)
        frame["consent"] = [0] * 12 + [1] * (n - 12)
        frame["collected"] = "2026-01-15"
        frame["source"] = ["broker"] * 3 + ["first party"] * (n - 3)
        frame["opted_out"] = 0
        frame.to_csv(d / f"rights_{part}.csv", index=False)
    ids = pd.read_csv(files["train"])["customer_id"]
    pd.DataFrame({"customer_id": ids[:2], "requested_at": "2026-03-01"}).to_csv(
        d / "erased.csv", index=False)
    pd.DataFrame({"email": ["a@example.com"]}).to_csv(d / "erased_no_id.csv", index=False)
    return d


def audit(files, d, *extra, train="rights_train.csv"):
    argv = ["audit", "--model", str(files["model"]), "--train", str(d / train),
            "--holdout", str(d / "rights_holdout.csv"), "--target", "churned",
            "--id-column", "customer_id", "--out", str(d / "out-rights"),
            "--probes", "data_rights", "--light", "--quiet"]
    for t in files["trusted"]:
        argv += ["--trust", t]
    return review_board.main(argv + list(extra))


def test_declared_rights_reach_the_report(files, rights_files, capsys):
    code = audit(files, rights_files, "--consent", "consent=retention offers",
                 "--purpose", "retention offers", "--collected-at", "collected",
                 "--data-source", "source", "--opt-out", "opted_out=decisions|training",
                 "--erased", str(rights_files / "erased.csv"), "--trained-at", "2026-02-01")
    out = capsys.readouterr().out
    assert code == 1                                 # consent and erasure fail the gate
    report = json.loads((rights_files / "out-rights" / "report.json").read_text())
    sev = {f["id"]: f["severity"] for f in report["findings"] if f["id"].startswith("data.")}
    assert sev["data.consent.retention_offers"] == "fail"
    assert sev["data.erasure.in_data"] == "fail"
    assert sev["data.shadow_profiles.all"] == "attention"
    assert sev["data.opt_out.trained"] == "pass"
    assert "12 training customers" in out
    assert report["subject"]["rights"]["erasure"]["requests"] is None   # 2: under 10
    erased = next(f for f in report["findings"] if f["id"] == "data.erasure.in_data")
    assert erased["statement"].startswith(
        "fewer than 10 of the customers who asked to be erased (fewer than 10 requests)")
    assert erased["metric"]["n"] is None and erased["metric"]["value"] is None
    ids = pd.read_csv(rights_files / "erased.csv")["customer_id"]
    assert not any(i in json.dumps(report) for i in ids)


@pytest.mark.parametrize("extra, words", [
    (["--consent", "no_such=retention offers", "--purpose", "retention offers"],
     ("'no_such'", "--consent", "Columns in the file")),
    (["--collected-at", "source"], ("'source'", "not dates", "YYYY-MM-DD", "--collected-at")),
    (["--erased", "{d}/erased_no_id.csv"], ("erased_no_id.csv", "no id column",
                                             "'customer_id'", "--erased")),
    (["--consent", "consent"], ("COLUMN=purpose1",)),
    (["--trained-at", "yesterday"], ("training date", "YYYY-MM-DD")),
])
def test_bad_declarations_exit_2(files, rights_files, capsys, extra, words):
    extra = [e.replace("{d}", str(rights_files)) for e in extra]
    code = audit(files, rights_files, *extra)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    for w in words:
        assert w in err, f"{w!r} not in {err!r}"
