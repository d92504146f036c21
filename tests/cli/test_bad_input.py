"""The bad-input corpus: every malformed input is answered before any work starts.

Each case changes one thing in a good ``review-board audit`` call (an option, a data file, a
model, a profile, a context or inventory file, the output folder), made from the few good files
of ``conftest.py``, and asserts:

- exit status 2, and stderr exactly ``error: <message>`` where the message is the constant of
  :mod:`audits.core.messages` with the command line's flags (``cli.flags.LABELS``);
- no traceback, and no personal value (a customer id) in the message;
- nothing written: no output folder, no report, no ledger database.

The cases where item 1 of issue 12 asks for ``not_assessed`` instead (too few rows for a probe)
are at the end, with the same no-traceback rule. The examples of issue 12's "Why" are all here
(marked ``why`` in their ids).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

import review_board
from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.seeds import MAX_SEED
from audits.core.validation import MAX_ACTION, MAX_GROUPS
from cli.flags import LABELS
from reports import context_files
from reports.context import LEGAL_BASES, ORIGINS
from reports.export import FORMATS as EXPORT_FORMATS
from reports.registry import PROBES
from reports.source import SAMPLE_NAMES
from tests.cli.conftest import FEATURES

ANY = "\x00ANY\x00"  # a value the test cannot know (a library's own error text)
ID = re.compile(r"C\d+-\d{5}")  # the customer ids of the good files: personal values


class Workspace:
    """One case's folder, with the good files and helpers to write variants of them."""

    def __init__(self, files: dict, models: dict, folder: Path) -> None:
        self.files, self.models, self.dir = files, models, folder
        self.out, self.db = folder / "out", folder / "ledger.db"

    def train(self) -> pd.DataFrame:
        return pd.read_csv(self.files["train"])

    def holdout(self) -> pd.DataFrame:
        return pd.read_csv(self.files["holdout"])

    def csv(self, name: str, frame: pd.DataFrame) -> str:
        path = self.dir / name
        frame.to_csv(path, index=False)
        return str(path)

    def text(self, name: str, content: str | bytes) -> str:
        path = self.dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Workspace], tuple[dict, msg.Message, dict]]


CASES: list[Case] = []


def case(id_: str):
    def register(make):
        CASES.append(Case(id_, make))
        return make
    return register


def argv_for(ws: Workspace, options: dict) -> list[str]:
    """The good call with ``options`` applied (a None value drops the option)."""
    base = {"--model": str(ws.files["model"]), "--train": str(ws.files["train"]),
            "--holdout": str(ws.files["holdout"]), "--target": "churned",
            "--out": str(ws.out), "--db": f"sqlite:///{ws.db}", "--probes": "performance"}
    base.update(options)
    argv = ["audit"]
    for k, v in base.items():
        if v is None:
            continue
        argv += [k] if v is True else [k, str(v)]
    if base.get("--model") == str(ws.files["model"]):
        for t in ws.files["trusted"]:
            argv += ["--trust", t]
    return argv + ["--light", "--quiet"]


def expected(message: msg.Message, values: dict) -> re.Pattern:
    text = "error: " + message.render(LABELS, **values) + "\n"
    return re.compile(re.escape(text).replace(re.escape(ANY), ".*"), re.DOTALL)


# -- options -----------------------------------------------------------------------------------
for _value, _message in [("1.5", msg.THRESHOLD_OUT_OF_RANGE), ("-1", msg.THRESHOLD_OUT_OF_RANGE),
                         ("nan", msg.THRESHOLD_NOT_A_NUMBER), ("NaN", msg.THRESHOLD_NOT_A_NUMBER),
                         ("0", msg.THRESHOLD_OUT_OF_RANGE), ("1", msg.THRESHOLD_OUT_OF_RANGE),
                         ("inf", msg.THRESHOLD_OUT_OF_RANGE), ("half", msg.THRESHOLD_NOT_A_NUMBER),
                         ("0,5", msg.THRESHOLD_NOT_A_NUMBER)]:
    case(f"why-decision-threshold-{_value}")(
        lambda ws, v=_value, m=_message: ({"--decision-threshold": v}, m, {"value": v}))

for _value, _message, _shown in [("-1", msg.SEED_OUT_OF_RANGE, -1),
                                 (str(2 ** 32), msg.SEED_OUT_OF_RANGE, 2 ** 32),
                                 ("1.5", msg.SEED_NOT_AN_INTEGER, "1.5"),
                                 ("abc", msg.SEED_NOT_AN_INTEGER, "abc"),
                                 ("1e3", msg.SEED_NOT_AN_INTEGER, "1e3")]:
    case(f"why-seed-{_value}")(lambda ws, v=_value, m=_message, s=_shown: (
        {"--seed": v}, m, {"value": s, "max": MAX_SEED}))

for _value, _bad in [("docx", ["docx"]), ("json,PDF", ["PDF"]), ("html,markdown", ["markdown"])]:
    case(f"format-{_value}")(lambda ws, v=_value, b=_bad: (
        {"--format": v}, msg.FORMATS_UNKNOWN, {"bad": b, "valid": list(EXPORT_FORMATS)}))

for _value, _bad in [("telepathy", ["telepathy"]), ("performance,Fairness", ["Fairness"])]:
    case(f"probes-{_value}")(lambda ws, v=_value, b=_bad: (
        {"--probes": v}, msg.PROBES_UNKNOWN, {"bad": b, "valid": list(PROBES)}))
case("probes-none")(lambda ws: ({"--probes": ""}, msg.PROBES_NONE, {"valid": list(PROBES)}))

for _value in ("sometimes", "FAIL"):
    case(f"fail-on-{_value}")(lambda ws, v=_value: (
        {"--fail-on": v}, msg.GATE_UNKNOWN, {"value": v, "valid": ["fail", "attention", "never"]}))

case("sample-unknown")(lambda ws: (
    {"--sample": "crm", "--model": None, "--train": None, "--holdout": None, "--target": None},
    msg.SAMPLE_UNKNOWN, {"name": "crm", "valid": list(SAMPLE_NAMES)}))
case("sample-and-files")(lambda ws: (
    {"--sample": "churn"}, msg.SAMPLE_WITH_FILES, {"fields": ["model", "train", "holdout"]}))
for _drop in (["--model"], ["--train"], ["--target"], ["--model", "--train", "--target"]):
    case("missing-" + "-".join(d[2:] for d in _drop))(lambda ws, d=_drop: (
        {k: None for k in d}, msg.FILES_NOT_GIVEN, {"fields": [k[2:] for k in d]}))
case("no-holdout-no-split")(lambda ws: ({"--holdout": None}, msg.HOLDOUT_MISSING, {}))
case("favourable-action-too-long")(lambda ws: (
    {"--favourable-action": "x" * (MAX_ACTION + 1)}, msg.TEXT_TOO_LONG,
    {"field": "favourable_action", "n": MAX_ACTION + 1, "limit": MAX_ACTION}))
case("positive-label-not-a-class")(lambda ws: (
    {"--positive-label": "7"}, msg.LABEL_NOT_A_CLASS,
    {"what": "positive label", "value": "7", "classes": [0, 1], "field": "positive_label"}))
case("favourable-not-a-class")(lambda ws: (
    {"--favourable": "maybe"}, msg.LABEL_NOT_A_CLASS,
    {"what": "favourable label", "value": "maybe", "classes": [0, 1], "field": "favourable"}))


# -- column roles ------------------------------------------------------------------------------
_WORDS = {"sensitive": "sensitive field", "personal": "personal column",
          "quasi_identifiers": "quasi-identifier", "id_column": "record id"}
for _field in _WORDS:
    case(f"why-target-as-{_field}")(lambda ws, f=_field: (
        {"--" + f.replace("_", "-"): "churned"}, msg.TARGET_IN_ROLE,
        {"column": "churned", "field": f, "role": _WORDS[f]}))
case("sensitive-twice")(lambda ws: (
    {"--sensitive": "gender,plan,gender"}, msg.ROLE_DUPLICATES,
    {"field": "sensitive", "names": ["gender"]}))
case("why-personal-ids-as-sensitive")(lambda ws: (
    {"--sensitive": "customer_id", "--personal": "customer_id"}, msg.COLUMN_IN_TWO_ROLES,
    {"column": "customer_id", "field": "sensitive", "field2": "personal",
     "why": "A personal column's values are never printed, and a sensitive field's groups are."}))
_COLUMNS = ["customer_id", "tenure", "spend", "plan", "gender", "churned"]
for _flag, _field, _value in [("--sensitive", "sensitive", "ethnicity"),
                              ("--personal", "personal", "email"),
                              ("--quasi-identifiers", "quasi_identifiers", "postcode"),
                              ("--id-column", "id_column", "cid")]:
    case(f"{_field}-not-a-column")(lambda ws, fl=_flag, f=_field, v=_value: (
        {fl: v}, msg.ROLE_COLUMNS_MISSING,
        {"field": f, "missing": [v], "file": "train.csv", "columns": _COLUMNS}))
case("why-sensitive-with-1000-groups")(lambda ws: (
    {"--sensitive": "customer_id"}, msg.TOO_MANY_GROUPS,
    {"column": "customer_id", "n": 1000, "file": "train.csv and holdout.csv",
     "limit": MAX_GROUPS}))


def _regions(ws: Workspace, n: int) -> dict:
    train, holdout = ws.train(), ws.holdout()
    train["region"] = [f"R{i % n:02d}" for i in range(len(train))]
    holdout["region"] = [f"R{i % n:02d}" for i in range(len(holdout))]
    return {"--train": ws.csv("r_train.csv", train), "--holdout": ws.csv("r_hold.csv", holdout),
            "--sensitive": "region"}


case("sensitive-with-51-groups")(lambda ws: (
    _regions(ws, MAX_GROUPS + 1), msg.TOO_MANY_GROUPS,
    {"column": "region", "n": MAX_GROUPS + 1, "file": "r_train.csv and r_hold.csv",
     "limit": MAX_GROUPS}))


@case("sensitive-looks-personal")
def _(ws):
    from audits.core.pii import detect_personal_columns

    names = ["Anna Smith", "John Brown", "Maria Jones", "David Clark", "Laura White"]
    train, holdout = ws.train(), ws.holdout()
    train["contact"] = [names[i % 5] for i in range(len(train))]
    holdout["contact"] = [names[i % 5] for i in range(len(holdout))]
    both = pd.concat([train[["contact"]], holdout[["contact"]]], ignore_index=True)
    evidence = detect_personal_columns(both)["evidence"].iloc[0]
    return ({"--train": ws.csv("p_train.csv", train), "--holdout": ws.csv("p_hold.csv", holdout),
             "--sensitive": "contact"}, msg.SENSITIVE_LOOKS_PERSONAL,
            {"column": "contact", "evidence": evidence})


# -- files -------------------------------------------------------------------------------------
_WHAT = {"--model": ("model file", "model"), "--train": ("training (members) file", "train"),
         "--holdout": ("holdout (non-members) file", "holdout")}
for _flag, (_what, _field) in _WHAT.items():
    case(f"{_field}-missing")(lambda ws, fl=_flag, w=_what, f=_field: (
        {fl: str(ws.dir / "absent.csv")}, msg.FILE_MISSING,
        {"what": w, "path": ws.dir / "absent.csv", "field": f}))
    # a folder is read as a Parquet dataset (issue 15): one without Parquet files is refused
    case(f"{_field}-is-a-folder")(lambda ws, fl=_flag, w=_what, f=_field: (
        {fl: str(ws.dir)}, msg.FILE_IS_FOLDER if f == "model" else msg.DATASET_NO_FILES,
        {"what": w, "path": ws.dir, "field": f}))
for _flag, _suffix in (("--train", ".xlsx"), ("--holdout", ".json")):
    case(f"{_flag[2:]}-suffix{_suffix}")(lambda ws, fl=_flag, s=_suffix: (
        {fl: ws.text("data" + s, "a,b\n1,2\n")}, msg.TABLE_SUFFIX,
        {"what": _WHAT[fl][0], "path": ws.dir / ("data" + s), "suffix": s,
         "field": _WHAT[fl][1]}))
case("train-zero-bytes")(lambda ws: (
    {"--train": ws.text("zero.csv", "")}, msg.TABLE_EMPTY,
    {"what": "training (members) file", "path": ws.dir / "zero.csv", "field": "train"}))
case("train-header-only")(lambda ws: (
    {"--train": ws.text("header.csv", ",".join(_COLUMNS) + "\n")}, msg.TABLE_NO_ROWS,
    {"what": "training (members) file", "path": ws.dir / "header.csv", "field": "train"}))
case("holdout-header-only")(lambda ws: (
    {"--holdout": ws.text("header.csv", ",".join(_COLUMNS) + "\n")}, msg.TABLE_NO_ROWS,
    {"what": "holdout (non-members) file", "path": ws.dir / "header.csv", "field": "holdout"}))
case("train-corrupt-parquet")(lambda ws: (
    {"--train": ws.text("corrupt.parquet", b"not parquet at all")}, msg.TABLE_UNREADABLE,
    {"what": "training (members) file", "path": ws.dir / "corrupt.parquet", "kind": "Parquet",
     "field": "train", "error": ANY}))
case("train-ragged-csv")(lambda ws: (
    {"--train": ws.text("ragged.csv", "a,b\n1,2\n3,4,5\n")}, msg.TABLE_UNREADABLE,
    {"what": "training (members) file", "path": ws.dir / "ragged.csv", "kind": "CSV",
     "field": "train",
     "error": "ParserError: Error tokenizing data. C error: Expected 2 fields in line 3, saw 3"}))
case("holdout-binary-garbage")(lambda ws: (
    {"--holdout": ws.text("garbage.csv", bytes(range(256)) * 8)}, msg.TABLE_UNREADABLE,
    {"what": "holdout (non-members) file", "path": ws.dir / "garbage.csv", "kind": "CSV",
     "field": "holdout", "error": ANY}))


# -- models ------------------------------------------------------------------------------------
case("model-corrupt-zip")(lambda ws: (
    {"--model": ws.text("corrupt.skops", b"PK\x03\x04 this is not a zip archive")},
    msg.MODEL_NOT_SKOPS, {"path": ws.dir / "corrupt.skops", "error": ANY}))
case("model-pickle-named-skops")(lambda ws: (
    {"--model": ws.text("renamed.skops", ws.files["pickle"].read_bytes())},
    msg.MODEL_LOOKS_LIKE_PICKLE, {"path": ws.dir / "renamed.skops", "error": ANY}))
case("model-pickle-untrusted")(lambda ws: (
    {"--model": str(ws.files["pickle"])}, msg.MODEL_PICKLE_REFUSED,
    {"path": ws.files["pickle"]}))
case("model-pickle-corrupt")(lambda ws: (
    {"--model": ws.text("bad.pkl", b"\x80\x04 broken"), "--trust-pickle": True},
    msg.MODEL_PICKLE_FAILED, {"path": ws.dir / "bad.pkl", "error": ANY}))
case("model-not-a-model")(lambda ws: (
    {"--model": str(ws.models["dict"])}, msg.MODEL_NOT_A_MODEL,
    {"path": ws.models["dict"], "kind": "dict"}))
case("model-no-predict-proba")(lambda ws: (
    {"--model": str(ws.models["svc"])}, msg.MODEL_NO_PROBA,
    {"path": ws.models["svc"], "kind": "LinearSVC"}))
case("model-not-fitted")(lambda ws: (
    {"--model": str(ws.models["unfitted"])}, msg.MODEL_NOT_FITTED,
    {"path": ws.models["unfitted"], "kind": "LogisticRegression"}))
case("model-untrusted-types")(lambda ws: (
    {"--model": str(ws.models["hgb"])}, msg.MODEL_UNTRUSTED_TYPES,
    {"path": ws.models["hgb"], "types": sorted(ws.models["hgb_untrusted"])}))
case("multiclass-model-with-a-decision-threshold")(lambda ws: (
    {"--model": str(ws.models["three"]), "--decision-threshold": "0.5"},
    msg.THRESHOLD_MULTICLASS, {"classes": [0, 1, 2]}))
case("model-fitted-on-numpy")(lambda ws: (
    {"--model": str(ws.models["numpy"])}, msg.MODEL_NO_FEATURE_NAMES, {"path": "numpy.skops"}))


@case("model-takes-the-target")
def _(ws):
    train, holdout = ws.train(), ws.holdout()
    for f in (train, holdout):
        f["flag"] = (f["tenure"] > 30).astype(int)
    return ({"--model": str(ws.models["flag"]), "--train": ws.csv("f_train.csv", train),
             "--holdout": ws.csv("f_hold.csv", holdout), "--target": "flag"},
            msg.MODEL_TAKES_TARGET, {"path": "flag.skops", "column": "flag"})


@case("model-inputs-missing")
def _(ws):
    train, holdout = ws.train().drop(columns=["spend", "plan"]), ws.holdout().drop(
        columns=["spend", "plan"])
    return ({"--train": ws.csv("few.csv", train), "--holdout": ws.csv("few_h.csv", holdout)},
            msg.MODEL_FEATURES_MISSING,
            {"path": "model.skops", "missing": ["spend", "plan"], "file": "few.csv",
             "columns": ["customer_id", "tenure", "gender", "churned"]})


@case("model-fails-on-the-rows")
def _(ws):
    train, holdout = ws.train(), ws.holdout()
    for f in (train, holdout):
        f["plan"] = np.arange(len(f)) % 3
    return ({"--train": ws.csv("n_train.csv", train), "--holdout": ws.csv("n_hold.csv", holdout)},
            msg.MODEL_FAILS, {"path": "model.skops", "file": "n_train.csv", "error": ANY})


# -- splitting one file ------------------------------------------------------------------------
def _both(ws: Workspace, split: list) -> str:
    both = pd.concat([ws.train(), ws.holdout()], ignore_index=True)
    both["split"] = split if split else ["train"] * 600 + ["holdout"] * 400
    return ws.csv("both.csv", both)


case("split-column-missing")(lambda ws: (
    {"--train": _both(ws, []), "--holdout": None, "--split-column": "part"},
    msg.SPLIT_COLUMN_MISSING, {"column": "part", "file": "both.csv",
                               "columns": [*_COLUMNS, "split"]}))
case("split-values-unknown")(lambda ws: (
    {"--train": _both(ws, ["train"] * 600 + ["later"] * 400), "--holdout": None,
     "--split-column": "split"}, msg.SPLIT_VALUES_UNKNOWN,
    {"column": "split", "file": "both.csv", "values": ["later"]}))
case("split-values-of-a-personal-column")(lambda ws: (
    {"--train": _both(ws, [f"C9-{i:05d}" for i in range(1000)]), "--holdout": None,
     "--split-column": "split", "--personal": "split"}, msg.SPLIT_VALUES_UNKNOWN,
    {"column": "split", "file": "both.csv", "values": "(1000 not shown: a personal column)"}))
case("split-no-holdout-rows")(lambda ws: (
    {"--train": _both(ws, ["train"] * 1000), "--holdout": None, "--split-column": "split"},
    msg.SPLIT_PART_EMPTY, {"column": "split", "file": "both.csv",
                           "part": "holdout (non-member)"}))


@case("split-rows-in-both-parts")
def _(ws):
    train = ws.train()
    both = pd.concat([train.assign(split="train"), train.head(100).assign(split="holdout"),
                      ws.holdout().assign(split="holdout")], ignore_index=True)
    return ({"--train": ws.csv("dup_split.csv", both), "--holdout": None,
             "--split-column": "split"}, msg.ROWS_SHARED,
            {"share": "20%", "n": 100, "total": 500, "nonmembers": "dup_split.csv",
             "members": "dup_split.csv", "how": "whole rows, every column equal",
             "limit": "1%", "field": "split_column"})


# -- columns and values ------------------------------------------------------------------------
case("columns-differ")(lambda ws: (
    {"--holdout": ws.csv("renamed.csv", ws.holdout().rename(columns={"gender": "sex"}))},
    msg.COLUMNS_DIFFER, {"members": "train.csv", "nonmembers": "renamed.csv",
                         "only_members": ["gender"], "only_nonmembers": ["sex"]}))
case("target-not-a-column")(lambda ws: (
    {"--target": "left"}, msg.TARGET_NOT_IN_FILE,
    {"column": "left", "file": "train.csv", "columns": _COLUMNS}))


@case("target-empty-values")
def _(ws):
    train = ws.train().astype({"churned": float})
    train.loc[:2, "churned"] = np.nan
    return ({"--train": ws.csv("gaps.csv", train)}, msg.TARGET_EMPTY_VALUES,
            {"column": "churned", "n": 3, "file": "gaps.csv"})


case("target-three-values")(lambda ws: (
    {"--holdout": ws.csv("three.csv", ws.holdout().assign(churned=np.arange(400) % 3))},
    msg.TARGET_MULTICLASS, {"column": "churned", "n": 3, "file": "three.csv"}))
case("target-one-class-members")(lambda ws: (
    {"--train": ws.csv("oneclass.csv", ws.train().assign(churned=0))}, msg.TARGET_ONE_CLASS,
    {"column": "churned", "value": 0, "file": "oneclass.csv"}))
case("target-one-class-holdout")(lambda ws: (
    {"--holdout": ws.csv("oneclass_h.csv", ws.holdout().assign(churned=1))},
    msg.TARGET_ONE_CLASS, {"column": "churned", "value": 1, "file": "oneclass_h.csv"}))
case("target-values-not-classes")(lambda ws: (
    {"--holdout": ws.csv("words.csv", ws.holdout().assign(
        churned=np.where(np.arange(400) % 2, "yes", "no")))},
    msg.TARGET_UNKNOWN_VALUES, {"column": "churned", "file": "words.csv",
                                "values": ["no", "yes"], "classes": [0, 1]}))
case("column-type-differs")(lambda ws: (
    {"--holdout": ws.csv("mixed.csv", ws.holdout().assign(spend="not given"))},
    msg.COLUMN_TYPE_DIFFERS, {"column": "spend", "file": "mixed.csv"}))


def _text_in(ws: Workspace, column: str, text: str) -> dict:
    out = {}
    for flag, frame, name in (("--train", ws.train(), "t_train.csv"),
                              ("--holdout", ws.holdout(), "t_hold.csv")):
        frame[column] = frame[column].astype(str)
        frame.loc[:4, column] = text
        out[flag] = ws.csv(name, frame)
    return out


case("text-in-a-number-column")(lambda ws: (
    _text_in(ws, "tenure", "unknown"), msg.COLUMN_NOT_NUMERIC,
    {"column": "tenure", "file": "t_train.csv", "values": ["unknown"]}))
case("text-in-a-personal-number-column")(lambda ws: (
    _text_in(ws, "spend", "C1-00001") | {"--personal": "spend"}, msg.PERSONAL_NOT_NUMERIC,
    {"column": "spend", "file": "t_train.csv", "n": 5}))


@case("missing-values-the-model-cannot-take")
def _(ws):
    holdout = ws.holdout()
    holdout.loc[:6, "spend"] = np.nan
    return ({"--holdout": ws.csv("gaps.csv", holdout)}, msg.COLUMN_EMPTY_VALUES,
            {"column": "spend", "n": 7, "file": "gaps.csv", "kind": "Pipeline"})


for _part, _value in (("train", np.inf), ("holdout", np.inf), ("train", -np.inf)):
    case(f"why-infinite-{_part}-{_value}")(lambda ws, p=_part, v=_value: (
        {f"--{p}": ws.csv(f"inf_{p}.csv", getattr(ws, p)().assign(
            spend=lambda f: np.where(np.arange(len(f)) < 3, v, f["spend"])))},
        msg.INFINITE_VALUES, {"column": "spend", "n": 3, "file": f"inf_{p}.csv"}))


@case("infinite-in-a-sensitive-field")
def _(ws):
    train, holdout = ws.train(), ws.holdout()
    train["age"], holdout["age"] = 30.0, 40.0
    train.loc[:1, "age"] = np.inf
    return ({"--train": ws.csv("age.csv", train), "--holdout": ws.csv("age_h.csv", holdout),
             "--sensitive": "age"}, msg.INFINITE_VALUES,
            {"column": "age", "n": 2, "file": "age.csv"})


for _part in ("train", "holdout"):
    case(f"why-input-empty-in-every-row-{_part}")(lambda ws, p=_part: (
        {f"--{p}": ws.csv(f"nan_{p}.csv", getattr(ws, p)().assign(spend=np.nan))},
        msg.INPUT_ALL_MISSING, {"column": "spend", "file": f"nan_{p}.csv", "field": p}))


# -- members and holdout -----------------------------------------------------------------------
def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] + "..."


case("why-members-as-holdout")(lambda ws: (
    {"--holdout": str(ws.files["train"])}, msg.FILES_IDENTICAL,
    {"members": "train.csv", "nonmembers": "train.csv", "sha256": _sha(ws.files["train"])}))
case("members-copy-as-holdout")(lambda ws: (
    {"--holdout": shutil.copy(ws.files["train"], ws.dir / "copy.csv")}, msg.FILES_IDENTICAL,
    {"members": "train.csv", "nonmembers": "copy.csv", "sha256": _sha(ws.files["train"])}))


@case("holdout-shares-ids")
def _(ws):
    holdout = ws.holdout()
    holdout.loc[:19, "customer_id"] = ws.train()["customer_id"].head(20).to_numpy()
    return ({"--holdout": ws.csv("shared.csv", holdout), "--id-column": "customer_id"},
            msg.ROWS_SHARED, {"share": "5%", "n": 20, "total": 400, "nonmembers": "shared.csv",
                              "members": "train.csv", "how": "the id column 'customer_id'",
                              "limit": "1%", "field": "holdout"})


@case("holdout-shares-personal-ids")
def _(ws):
    holdout = ws.holdout()
    holdout.loc[:9, "customer_id"] = ws.train()["customer_id"].head(10).to_numpy()
    return ({"--holdout": ws.csv("shared.csv", holdout), "--personal": "customer_id"},
            msg.ROWS_SHARED, {"share": "2.5%", "n": 10, "total": 400,
                              "nonmembers": "shared.csv", "members": "train.csv",
                              "how": "the id column 'customer_id'", "limit": "1%",
                              "field": "holdout"})


@case("holdout-shares-whole-rows")
def _(ws):
    holdout = pd.concat([ws.holdout().iloc[12:], ws.train().head(12)], ignore_index=True)
    return ({"--holdout": ws.csv("rows.csv", holdout)}, msg.ROWS_SHARED,
            {"share": "3%", "n": 12, "total": 400, "nonmembers": "rows.csv",
             "members": "train.csv", "how": "whole rows, every column equal", "limit": "1%",
             "field": "holdout"})


@case("too-few-rows-for-any-probe")
def _(ws):
    train, holdout = ws.train(), ws.holdout()
    train = pd.concat([train[train.churned == 0].head(1), train[train.churned == 1].head(1)])
    holdout = pd.concat([holdout[holdout.churned == 0].head(2),
                         holdout[holdout.churned == 1].head(2)])
    return ({"--train": ws.csv("two.csv", train), "--holdout": ws.csv("four.csv", holdout),
             "--probes": None}, msg.ROWS_TOO_FEW, {"members": 2, "nonmembers": 4, "need": 30})


# -- threshold profiles ------------------------------------------------------------------------
_PARAMS = sorted(f.name for f in dataclasses.fields(AuditConfig)
                 if f.name not in ("name", "thresholds"))


def _profile(toml: str, message: msg.Message, **values):
    def make(ws):
        path = ws.text("profile.toml", toml)
        return ({"--config": path}, message, {"path": Path(path)} | values)
    return make


def _bad(key: str, value: str, expected_: str):
    return {"key": key, "value": value, "expected": expected_}


_N = "a whole number at least {} and at most {}"
for _id, _toml, _values in [
    ("why-n-bootstrap-text", '[params]\nn_bootstrap = "many"\n',
     _bad("params.n_bootstrap", "'many'", _N.format(50, "100,000"))),
    ("n-bootstrap-float", "[params]\nn_bootstrap = 200.0\n",
     _bad("params.n_bootstrap", "200.0", _N.format(50, "100,000"))),
    ("n-bootstrap-too-few", "[params]\nn_bootstrap = 10\n",
     _bad("params.n_bootstrap", "10", _N.format(50, "100,000"))),
    ("why-n-reference-models-0", "[params]\nn_reference_models = 0\n",
     _bad("params.n_reference_models", "0", _N.format(2, 256))),
    ("why-min-group-size-negative", "[params]\nmin_group_size = -1\n",
     _bad("params.min_group_size", "-1", "a whole number at least 2 and at most 1,000,000")),
    ("suppress-below-negative", "[params]\nsuppress_below = -3\n",
     _bad("params.suppress_below", "-3", "a whole number at least 0 and at most 1,000,000")),
    ("confidence-above-1", "[params]\nconfidence = 1.5\n",
     _bad("params.confidence", "1.5", "a finite number above 0.5 and below 1")),
    ("confidence-nan", "[params]\nconfidence = nan\n",
     _bad("params.confidence", "nan", "a finite number above 0.5 and below 1")),
    ("intersections-text", '[params]\nintersections = "yes"\n',
     _bad("params.intersections", "'yes'", "true or false")),
    ("n-jobs-zero", "[params]\nn_jobs = 0\n",
     _bad("params.n_jobs", "0", "a whole number at least -1 and not 0")),
    ("age-bands-text", '[params]\nage_bands = "18-25"\n',
     _bad("params.age_bands", "'18-25'", "an array of 1 to 48 finite numbers")),
    ("age-bands-decreasing", "[params]\nage_bands = [18, 35, 25]\n",
     _bad("params.age_bands", "[18, 35, 25]", "band edges that strictly increase")),
    ("age-bands-inf", "[params]\nage_bands = [18, inf]\n",
     _bad("params.age_bands", "[18, inf]", "an array of 1 to 48 finite numbers")),
    ("why-params-not-a-table", "params = 3\n",
     _bad("params", "3", f"a table with the keys {_PARAMS}")),
    ("name-not-text", "name = 3\n", _bad("name", "3", "text of 1 to 80 characters")),
    ("why-threshold-as-text", '[thresholds."fairness.selection_rate_ratio"]\nfail = "0.8"\n',
     _bad('thresholds."fairness.selection_rate_ratio".fail', "'0.8'", "a finite number")),
    ("threshold-not-a-table", 'thresholds = 5\n', _bad("thresholds", "5", "a table")),
    ("threshold-entry-not-a-table", '[thresholds]\n"fairness.selection_rate_ratio" = 5\n',
     _bad('thresholds."fairness.selection_rate_ratio"', "5",
          "a table with the keys ['attention', 'band', 'description', 'fail', 'kind', "
          "'no_effect', 'source']")),
    ("threshold-kind", '[thresholds."fairness.selection_rate_ratio"]\nkind = "LAW"\n',
     _bad('thresholds."fairness.selection_rate_ratio".kind', "'LAW'",
          "one of ['REG', 'TOOL', 'HEUR']")),
    ("threshold-band-one-end", '[thresholds."fairness.error_rate_ratio"]\nband = [0.8]\n',
     _bad('thresholds."fairness.error_rate_ratio".band', "[0.8]",
          "an array of 2 finite numbers")),
    ("threshold-band-reversed", '[thresholds."fairness.error_rate_ratio"]\nband = [1.25, 0.8]\n',
     _bad('thresholds."fairness.error_rate_ratio".band', "[1.25, 0.8]",
          "[low, high] with low below high")),
]:
    case(f"profile-{_id}")(_profile(_toml, msg.PROFILE_BAD_VALUE, **_values))

_VALID_KEYS = ["attention", "band", "description", "fail", "kind", "no_effect", "source"]
for _id, _toml, _message, _values in [
    ("unknown-parameter", "[params]\nbootstraps = 3\n", msg.PROFILE_UNKNOWN_KEYS,
     {"what": "parameters", "bad": ["bootstraps"], "valid": _PARAMS}),
    ("unknown-top-level-key", 'title = "x"\n', msg.PROFILE_UNKNOWN_KEYS,
     {"what": "top-level keys", "bad": ["title"], "valid": ["name", "params", "thresholds"]}),
    ("unknown-threshold-key", '[thresholds."fairness.selection_rate_ratio"]\ncolour = 1\n',
     msg.PROFILE_UNKNOWN_KEYS, {"what": "keys of threshold 'fairness.selection_rate_ratio'",
                                "bad": ["colour"], "valid": _VALID_KEYS}),
    ("threshold-direction-changed", '[thresholds."performance.generalisation_gap"]\n'
     'direction = "below"\n', msg.PROFILE_UNKNOWN_KEYS,
     {"what": "keys of threshold 'performance.generalisation_gap'", "bad": ["direction"],
      "valid": _VALID_KEYS}),
    ("bounds-reversed", '[thresholds."performance.subgroup_drop"]\nattention = 0.2\n',
     msg.PROFILE_BOUNDS_ORDER, {"name": "performance.subgroup_drop", "attention": 0.2,
                                "fail": 0.1, "direction": "higher"}),
    ("bounds-on-a-band", '[thresholds."fairness.error_rate_ratio"]\nfail = 0.7\n',
     msg.PROFILE_BAND_BOUNDS, {"name": "fairness.error_rate_ratio", "keys": "fail",
                               "band": [0.8, 1.25]}),
    ("not-toml", "name = [unclosed\n", msg.PROFILE_NOT_TOML, {"error": ANY}),
]:
    case(f"profile-{_id}")(_profile(_toml, _message, **_values))


@case("profile-unknown-threshold")
def _(ws):
    from audits.core.config import DEFAULT_THRESHOLDS

    return _profile('[thresholds."fairness.nope"]\nfail = 1\n', msg.PROFILE_UNKNOWN_THRESHOLD,
                    name="fairness.nope", valid=sorted(DEFAULT_THRESHOLDS))(ws)


case("profile-missing")(lambda ws: (
    {"--config": str(ws.dir / "none.toml")}, msg.FILE_MISSING,
    {"what": "threshold profile", "path": ws.dir / "none.toml", "field": "config"}))
case("profile-is-a-folder")(lambda ws: (
    {"--config": str(ws.dir)}, msg.FILE_IS_FOLDER,
    {"what": "threshold profile", "path": ws.dir, "field": "config"}))


# -- context and inventory files ---------------------------------------------------------------
def _file(flag: str, name: str, content: str, message: msg.Message, **values):
    def make(ws):
        path = ws.text(name, content)
        return ({flag: path}, message, {"path": Path(path)} | values)
    return make


_TOP = list(context_files._TOP)  # the context file's keys, as the reader lists them
for _id, _content, _message, _values in [
    ("list", "- a\n- b\n", msg.NOT_A_MAPPING,
     {"where": "the document", "valid": _TOP, "kind": "list"}),
    ("unknown-key", "colour: blue\n", msg.MAPPING_UNKNOWN_KEYS,
     {"where": "the document", "bad": ["colour"], "valid": _TOP}),
    ("submitter-text", "submitter: me\n", msg.NOT_A_MAPPING,
     {"where": "submitter", "valid": ["name", "role", "team"], "kind": "str"}),
    ("mode", "decisions:\n  mode: sometimes\n", msg.MODE_UNKNOWN,
     {"value": "sometimes", "valid": ["automated", "advisory"]}),
    ("yes-no", "decisions:\n  profiling: perhaps\n", msg.YES_NO,
     {"where": "decisions.profiling", "value": "perhaps"}),
    ("bad-yaml", "a: [unclosed\n", msg.YAML_INVALID,
     {"error": ANY, "field": "context", "template": "context"}),
]:
    case(f"context-{_id}")(_file("--context", "context.yaml", _content, _message, **_values))
case("context-missing")(lambda ws: (
    {"--context": str(ws.dir / "none.yaml")}, msg.SUBMITTER_FILE_MISSING,
    {"what": "context", "path": ws.dir / "none.yaml", "field": "context",
     "template": "context"}))

_INV = ["feature", "origin", "purpose", "legal_basis", "retention"]
for _id, _name, _content, _message, _values in [
    ("not-an-input", "inv.yaml", "features:\n  postcode:\n    purpose: x\n",
     msg.INVENTORY_NOT_INPUTS, {"bad": ["postcode"], "valid": FEATURES}),
    ("origin", "inv.yaml", "features:\n  tenure:\n    origin: the moon\n", msg.ORIGIN_UNKNOWN,
     {"feature": "tenure", "value": "the moon", "valid": list(ORIGINS)}),
    ("legal-basis", "inv.yaml", "features:\n  spend:\n    legal_basis: because\n",
     msg.BASIS_UNKNOWN, {"feature": "spend", "value": "because", "valid": list(LEGAL_BASES)}),
    ("entry-unknown-key", "inv.yaml", "features:\n  plan:\n    owner: x\n",
     msg.MAPPING_UNKNOWN_KEYS, {"where": "the entry of 'plan'", "bad": ["owner"],
                                "valid": ["origin", "purpose", "legal_basis", "retention"]}),
    ("features-text", "inv.yaml", "features: everything\n", msg.INVENTORY_FEATURES, {}),
    ("unknown-top-key", "inv.yaml", "inputs: {}\n", msg.MAPPING_UNKNOWN_KEYS,
     {"where": "the document", "bad": ["inputs"], "valid": ["features"]}),
    ("csv-unknown-column", "inv.csv", "feature,origin,owner\ntenure,derived,me\n",
     msg.INVENTORY_UNKNOWN_COLUMNS, {"bad": ["owner"], "valid": _INV}),
    ("csv-no-feature-column", "inv.csv", "name,origin\ntenure,derived\n",
     msg.INVENTORY_NO_HEADER, {"valid": _INV}),
    ("bad-yaml", "inv.yaml", "features: [unclosed\n", msg.YAML_INVALID,
     {"error": ANY, "field": "inventory", "template": "inventory"}),
]:
    case(f"inventory-{_id}")(_file("--inventory", _name, _content, _message, **_values))
case("inventory-missing")(lambda ws: (
    {"--inventory": str(ws.dir / "none.yaml")}, msg.SUBMITTER_FILE_MISSING,
    {"what": "inventory", "path": ws.dir / "none.yaml", "field": "inventory",
     "template": "inventory"}))


# -- the output folder -------------------------------------------------------------------------
case("why-out-is-a-file")(lambda ws: (
    {"--out": ws.text("report.json", "{}")}, msg.OUT_IS_FILE, {"path": ws.dir / "report.json"}))
case("why-out-below-a-file")(lambda ws: (
    {"--out": str(Path(ws.text("plain.txt", "x")) / "out")}, msg.OUT_BELOW_FILE,
    {"path": ws.dir / "plain.txt" / "out", "parent": ws.dir / "plain.txt"}))
case("out-deep-below-a-file")(lambda ws: (
    {"--out": str(Path(ws.text("plain.txt", "x")) / "a" / "b")}, msg.OUT_BELOW_FILE,
    {"path": ws.dir / "plain.txt" / "a" / "b", "parent": ws.dir / "plain.txt"}))


# -- the data-rights declaration (issue 18) ----------------------------------------------------
def _rights_files(ws: Workspace, **columns) -> dict:
    """Training and holdout files with extra declared columns (same values in both)."""
    return {"--train": ws.csv("r_train.csv", ws.train().assign(**columns)),
            "--holdout": ws.csv("r_holdout.csv", ws.holdout().assign(**columns))}


_RIGHTS_COLUMNS = ["customer_id", "tenure", "spend", "plan", "gender", "churned", "ok"]
case("rights-consent-no-purposes")(lambda ws: (
    {"--consent": "consent"}, msg.RIGHTS_CONSENT_FORMAT, {"text": "consent"}))
case("rights-opt-out-unknown-scope")(lambda ws: (
    {"--opt-out": "o=everything"}, msg.RIGHTS_OPT_OUT_FORMAT,
    {"text": "o=everything", "unknown": ["everything"]}))
case("rights-consent-column-missing")(lambda ws: (
    {**_rights_files(ws, ok=1), "--consent": "no_such=retention offers",
     "--purpose": "retention offers"}, msg.RIGHTS_COLUMN_MISSING,
    {"column": "no_such", "field": "consent", "file": "r_train.csv",
     "columns": _RIGHTS_COLUMNS}))
case("rights-consent-is-a-model-input")(lambda ws: (
    {"--consent": "tenure=retention offers", "--purpose": "retention offers"},
    msg.RIGHTS_COLUMN_IS_INPUT, {"column": "tenure", "field": "consent"}))
case("rights-consent-without-purpose")(lambda ws: (
    {**_rights_files(ws, ok=1), "--consent": "ok=retention offers"}, msg.RIGHTS_NO_PURPOSE, {}))
case("rights-consent-not-flags")(lambda ws: (
    {**_rights_files(ws, ok="perhaps"), "--consent": "ok=retention offers",
     "--purpose": "retention offers"}, msg.RIGHTS_NOT_FLAGS,
    {"column": "ok", "file": "r_train.csv", "bad": ["perhaps"], "field": "consent"}))
case("rights-opt-out-not-flags")(lambda ws: (
    {**_rights_files(ws, ok="later"), "--opt-out": "ok"}, msg.RIGHTS_NOT_FLAGS,
    {"column": "ok", "file": "r_train.csv", "bad": ["later"], "field": "opt_out"}))
case("rights-collected-at-numbers")(lambda ws: (
    {**_rights_files(ws, ok=20250101), "--collected-at": "ok"}, msg.RIGHTS_DATES_ARE_NUMBERS,
    {"column": "ok", "file": "r_train.csv"}))
case("rights-collected-at-not-dates")(lambda ws: (
    {**_rights_files(ws, ok="soon"), "--collected-at": "ok"}, msg.RIGHTS_DATES_BAD,
    {"column": "ok", "file": "r_train.csv", "n": len(ws.train()), "shown": ["soon"]}))
case("rights-data-source-unknown")(lambda ws: (
    {**_rights_files(ws, ok="shop"), "--data-source": "ok"}, msg.RIGHTS_SOURCE_VALUES,
    {"column": "ok", "file": "r_train.csv", "bad": ["shop"], "valid": ANY}))
case("rights-trained-at-not-a-date")(lambda ws: (
    {"--trained-at": "yesterday"}, msg.RIGHTS_NOT_A_DATE,
    {"what": "The model's training date", "value": "yesterday", "field": "trained_at"}))
case("rights-erased-missing")(lambda ws: (
    {"--erased": str(ws.dir / "none.csv"), "--id-column": "customer_id"},
    msg.RIGHTS_ERASED_MISSING, {"path": ws.dir / "none.csv"}))
case("rights-erased-no-id-column")(lambda ws: (
    {"--erased": ws.text("erased.csv", "email\na@example.com\n"), "--id-column": "customer_id"},
    msg.RIGHTS_ERASED_NO_ID,
    {"path": "erased.csv", "columns": ["email"], "need": "'customer_id' (the data's id column)"}))
case("rights-erased-bad-request-date")(lambda ws: (
    {"--erased": ws.text("erased.csv", "customer_id,requested_at\nX1,someday\n"),
     "--id-column": "customer_id"}, msg.RIGHTS_NOT_A_DATE,
    {"what": "The request date in column 'requested_at' of erased.csv (row 2)",
     "value": "someday", "field": "erased"}))


# -- the corpus --------------------------------------------------------------------------------
def test_the_corpus_is_large_and_covers_every_input_kind():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 100, len(CASES)
    for kind in ("decision-threshold", "seed", "format", "probes", "model", "train", "holdout",
                 "target", "sensitive", "profile", "context", "inventory", "out", "split",
                 "rights"):
        assert any(kind in i for i in ids), kind


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_answered_before_any_work(c, files, models, tmp_path, capsys):
    ws = Workspace(files, models, tmp_path)
    options, message, values = c.make(ws)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = review_board.main(argv_for(ws, options))
    out, err = capsys.readouterr()
    assert code == 2, err
    assert expected(message, values).fullmatch(err), (err, message.render(LABELS, **values))
    assert "Traceback" not in err and not ID.search(err)
    assert not ws.out.exists() and not ws.db.exists(), "something was written"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert out == ""


def test_good_input_runs_and_writes(files, tmp_path, capsys):
    ws = Workspace(files, {}, tmp_path)
    assert review_board.main(argv_for(ws, {})) == 0, capsys.readouterr().err
    assert (ws.out / "report.json").is_file() and ws.db.is_file()


def test_the_boundaries_are_allowed(files, tmp_path, capsys):
    """Just inside each limit: 1% of the holdout shared, 50 groups, the largest seed."""
    ws = Workspace(files, {}, tmp_path)
    holdout = pd.concat([ws.holdout().iloc[4:], ws.train().head(4)], ignore_index=True)
    options = _regions(ws, MAX_GROUPS) | {
        "--holdout": ws.csv("one_percent.csv", holdout.assign(
            region=[f"R{i % MAX_GROUPS:02d}" for i in range(len(holdout))])),
        "--seed": str(MAX_SEED), "--decision-threshold": "0.999"}
    assert review_board.main(argv_for(ws, options)) == 0, capsys.readouterr().err


# -- too few rows for a probe: not assessed, with the reason -----------------------------------
def _two_members(ws: Workspace) -> str:
    train = ws.train()
    return ws.csv("two.csv", pd.concat([train[train.churned == 0].head(1),
                                        train[train.churned == 1].head(1)]))


def test_why_a_two_row_members_file_is_not_assessed(files, tmp_path, capsys):
    ws = Workspace(files, {}, tmp_path)
    options = {"--train": _two_members(ws), "--probes": "data_exposure,performance,fairness",
               "--sensitive": "gender"}
    code = review_board.main(argv_for(ws, options))
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err  # probes that could not run reach the gate
    report = json.loads((ws.out / "report.json").read_text())
    for name in ("data_exposure", "performance"):
        probe = report["probes"][name]
        assert probe["status"] == "not_assessed"
        (finding,) = probe["findings"]
        assert finding["id"] == f"{name}.needs.rows_members"
        assert finding["severity"] == "not_assessed"
        assert finding["statement"] == msg.NEED_ROWS.render(
            probe=name, need=30, part="training rows (members)", file="two.csv", n=2)
    assert report["probes"]["fairness"]["status"] == "ok"  # it reads the holdout only
    confident = [f["id"] for f in report["findings"] if f["severity"] != "not_assessed"
                 and not f["id"].startswith("fairness.")]
    assert confident == []
    assert sorted(report["summary"]["probes_not_run"]) == ["data_exposure", "performance"]


def test_no_sensitive_field_is_not_assessed_with_the_reason(files, tmp_path, capsys):
    ws = Workspace(files, {}, tmp_path)
    code = review_board.main(argv_for(ws, {"--probes": "fairness", "--sensitive": ""}))
    assert code == 1, capsys.readouterr().err
    report = json.loads((ws.out / "report.json").read_text())
    (finding,) = report["probes"]["fairness"]["findings"]
    assert finding["id"] == "fairness.needs.sensitive_fields"
    assert finding["statement"] == msg.NEED_SENSITIVE.render(probe="fairness")


def test_personal_values_are_never_printed(files, tmp_path, capsys):
    """A full light audit with the ids declared personal: no id in any output or file."""
    ws = Workspace(files, {}, tmp_path)
    options = {"--probes": None, "--personal": "customer_id", "--sensitive": "gender",
               "--format": "json,md,html"}
    code = review_board.main(argv_for(ws, options))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    for path in ws.out.iterdir():
        assert not ID.search(path.read_text(encoding="utf-8", errors="replace")), path.name
    assert not ID.search(out) and not ID.search(err)


# -- the rules fail when they are broken -------------------------------------------------------
def _run(ws: Workspace, options: dict, capsys) -> int:
    code = review_board.main(argv_for(ws, options))
    capsys.readouterr()
    return code


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: the threshold is not range-checked")
def test_threshold_rule_fails_when_broken(files, tmp_path, capsys, monkeypatch):
    from audits.core import validation

    monkeypatch.setattr(validation, "parse_threshold",
                        lambda v, **_: None if v is None else float(v))
    assert _run(Workspace(files, {}, tmp_path), {"--decision-threshold": "1.5"}, capsys) == 2


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: the parts are not compared")
def test_identical_parts_rule_fails_when_broken(files, tmp_path, capsys, monkeypatch):
    from audits.core import validation

    monkeypatch.setattr(validation, "check_parts", lambda *a, **k: None)
    ws = Workspace(files, {}, tmp_path)
    assert _run(ws, {"--holdout": str(files["train"])}, capsys) == 2


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: the profile is not checked against its schema")
def test_profile_rule_fails_when_broken(files, tmp_path, capsys, monkeypatch):
    from audits.core import profile_schema

    monkeypatch.setattr(profile_schema, "validate_profile", lambda *a, **k: None)
    ws = Workspace(files, {}, tmp_path)
    path = ws.text("p.toml", "[params]\nn_reference_models = 0\n")
    assert _run(ws, {"--config": path}, capsys) == 2


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="broken on purpose: the output folder is checked only when written")
def test_output_rule_fails_when_broken(files, tmp_path, capsys, monkeypatch):
    from audits.core import validation

    monkeypatch.setattr(validation, "check_output_dir", lambda p: Path(p))
    ws = Workspace(files, {}, tmp_path)
    out = Path(ws.text("report.json", "{}"))
    try:
        code = review_board.main(argv_for(ws, {"--out": str(out)}))
    except Exception:  # the traceback the check prevents
        code = None
    capsys.readouterr()
    assert code == 2 and not ws.db.exists()


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        review_board.main(["audit", "--no-such-option"])
    assert exc.value.code == 2


def test_installed_command_has_no_traceback(files, tmp_path):
    """The real entry point, in a fresh process: message on stderr, status 2, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "review_board", "audit", "--model",
                           str(tmp_path / "missing.skops"), "--train", str(files["train"]),
                           "--holdout", str(files["holdout"]), "--target", "churned"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "error: " + msg.FILE_MISSING.render(
        LABELS, what="model file", path=tmp_path / "missing.skops", field="model") + "\n"
