"""The context file and the feature inventory: reading, templates, the findings they give rise to,
and how they are stored in the report."""

from __future__ import annotations

import json

import pytest

import review_board
from audits.core.errors import InputError
from audits.core.results import Finding, Severity
from reports.build import attach_context
from reports.context import dpia_screen, feature_risk, inventory_findings
from reports.context_files import context_template, inventory_template, load_context, load_inventory
from reports.report import AuditReport

FEATURES = ["tenure", "postcode", "broker_score"]


@pytest.fixture(autouse=True)
def temp_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_BOARD_DB", f"sqlite:///{tmp_path / 'ledger.db'}")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_context_template_loads_as_all_not_provided(tmp_path):
    ctx = load_context(write(tmp_path, "c.yaml", context_template()))
    assert ctx["intended_use"] is None and ctx["out_of_scope_uses"] == []
    assert ctx["decisions"] == {"mode": None, "legal_or_similar_effect": None,
                                "human_review": None, "profiling": None}
    assert set(ctx["dpia_screening"].values()) == {None}
    assert len(ctx["source"]["sha256"]) == 64
    assert dpia_screen(ctx)["verdict"] is None


def test_context_answers_are_normalised(tmp_path):
    ctx = load_context(write(tmp_path, "c.yaml", """
intended_use: Rank subscribers for a retention call
out_of_scope_uses:
  - pricing
decisions:
  mode: Solely automated
  legal_or_similar_effect: yes
dpia_screening:
  evaluation_or_scoring: yes
  large_scale: "Yes"
  systematic_monitoring: no
"""))
    assert ctx["decisions"]["mode"] == "automated"
    assert ctx["decisions"]["legal_or_similar_effect"] == "yes"
    screen = dpia_screen(ctx)
    assert screen["met"] == 2 and "requires a DPIA" in screen["verdict"]


@pytest.mark.parametrize("text, fragments", [
    ("intended_use: [unclosed", ("not valid YAML",)),
    ("intendeduse: x", ("unknown key", "intendeduse", "intended_use")),
    ("decisions:\n  mode: sometimes", ("decisions.mode", "automated", "advisory")),
    ("dpia_screening:\n  large_scale: maybe", ("large_scale", "yes or no")),
])
def test_bad_context_names_the_problem(tmp_path, text, fragments):
    with pytest.raises(InputError) as e:
        load_context(write(tmp_path, "c.yaml", text))
    for f in fragments:
        assert f in str(e.value)


def test_inventory_yaml_and_csv_agree(tmp_path):
    yaml_path = write(tmp_path, "inv.yaml", """
features:
  tenure: {origin: first party, purpose: churn signal, legal_basis: Contract, retention: 2y}
  broker_score: {origin: broker, purpose: propensity, legal_basis: legitimate interests}
""")
    csv_path = write(tmp_path, "inv.csv", "feature,origin,purpose,legal_basis,retention\n"
                     "tenure,first-party,churn signal,contract,2y\n"
                     "broker_score,third-party broker,propensity,legitimate interest,\n")
    a, b = load_inventory(yaml_path, FEATURES), load_inventory(csv_path, FEATURES)
    assert a["features"] == b["features"]
    assert a["features"]["broker_score"]["origin"] == "third-party broker"
    assert a["features"]["broker_score"]["legal_basis"] == "legitimate interest"


def test_inventory_templates_list_the_features(tmp_path):
    for fmt, suffix in (("yaml", "yaml"), ("csv", "csv")):
        inv = load_inventory(write(tmp_path, f"t.{suffix}", inventory_template(FEATURES,
                                                                               fmt=fmt)),
                             FEATURES)
        assert list(inv["features"]) == FEATURES
        assert all(v == {"origin": None, "purpose": None, "legal_basis": None,
                         "retention": None} for v in inv["features"].values())


@pytest.mark.parametrize("text, fragments", [
    ("features:\n  nosuch: {origin: derived}", ("nosuch", "not inputs of the model")),
    ("features:\n  tenure: {origin: the moon}", ("origin", "first-party")),
    ("features:\n  tenure: {legal_basis: because}", ("legal basis", "consent")),
])
def test_bad_inventory_names_the_problem(tmp_path, text, fragments):
    with pytest.raises(InputError) as e:
        load_inventory(write(tmp_path, "i.yaml", text), FEATURES)
    for f in fragments:
        assert f in str(e.value)


def subject(**extra):
    return {"feature_columns": FEATURES} | extra


def test_inventory_findings_rules():
    assert [(f.id, f.severity) for f in inventory_findings(subject(), None)] == \
        [("data.inventory.all", Severity.NOT_ASSESSED)]
    full = {"features": {f: {"origin": "first-party", "purpose": "p", "legal_basis": "contract",
                             "retention": None} for f in FEATURES}}
    assert [(f.id, f.severity) for f in inventory_findings(subject(), full)] == \
        [("data.inventory.all", Severity.PASS)]
    gaps = json.loads(json.dumps(full))
    gaps["features"]["tenure"]["legal_basis"] = None
    gaps["features"]["broker_score"]["origin"] = "third-party broker"
    del gaps["features"]["postcode"]
    found = {f.id: f for f in inventory_findings(subject(), gaps)}
    assert set(found) == {"data.inventory.tenure", "data.inventory.postcode",
                          "data.inventory.broker_score"}
    assert all(f.severity is Severity.ATTENTION and f.area == "data" for f in found.values())
    assert "5(1)(b)" in found["data.inventory.tenure"].statement
    assert "profile" in found["data.inventory.broker_score"].statement
    # no profiling (the context says so): broker data alone is not a finding
    no_prof = subject(context={"decisions": {"profiling": "no"}})
    assert "data.inventory.broker_score" not in {f.id for f in inventory_findings(no_prof, gaps)}


def test_attach_context_recomputes_findings_summary_and_id(sample_report, tmp_path):
    report = sample_report("churn", light=True)
    inv = {"features": {}, "source": {"file": "i.yaml", "sha256": "0" * 64}}
    ctx = load_context(write(tmp_path, "c.yaml", "intended_use: retention calls"))
    new = attach_context(report, ctx, inv)
    assert new is not report and "context" not in report.subject
    assert new.subject["context"]["intended_use"] == "retention calls"
    assert new.report_id != report.report_id and new.verify()
    ids = [f.id for f in new.findings]
    assert all(f"data.inventory.{c}" in ids for c in report.subject["feature_columns"])
    assert new.summary["counts"]["attention"] >= len(report.subject["feature_columns"])
    assert new.summary["recommended_decision"] != "approve"
    ranks = [f.severity.rank for f in new.findings]
    assert ranks == sorted(ranks, reverse=True)
    again = attach_context(new, None, None)  # replaced, not duplicated
    assert [f.id for f in again.findings].count("data.inventory.all") == 1
    assert "context" not in again.subject
    assert AuditReport.from_json(new.to_json()) == new


def test_feature_risk_reads_finding_ids():
    base = AuditReport(
        subject={"name": "m", "feature_columns": ["email", "gender", "region", "score", "ok"],
                 "inventory": {"features": {"score": {"origin": "third-party broker",
                                                      "legal_basis": "consent"},
                                            "ok": {"origin": "first-party",
                                                   "legal_basis": "contract"}}}},
        config={}, probes={}, summary={}, environment={}, requested_probes=(),
        findings=(Finding("privacy.personal_input.email", "fail", "t", "s"),
                  Finding("fairness.sensitive_input.gender", "attention", "t", "s"),
                  Finding("fairness.proxy.region__ethnicity", "attention", "t", "s"),
                  Finding("explainability.sensitive_driver.score", "attention", "t", "s"),
                  Finding("privacy.personal_input.none", "pass", "t", "s")))
    risk = feature_risk(base)
    assert risk["email"]["rating"] == "high" and "personal" in risk["email"]["flags"]
    assert risk["gender"]["rating"] == "high"
    assert risk["region"]["rating"] == "medium" and risk["region"]["flags"] == [
        "proxy for ethnicity"]
    assert risk["score"]["rating"] == "high"  # sensitive driver + broker origin
    assert risk["ok"] == {"flags": [], "rating": "low", "reasons": []}
    assert "no legal basis recorded" in risk["region"]["reasons"]


# -- command line -------------------------------------------------------------------------------
def audit(tmp_path, *extra):
    return review_board.main(["audit", "--sample", "churn", "--light", "--quiet", "--probes",
                              "performance", "--out", str(tmp_path / "out"), *extra])


def expect_error(capsys, code, *fragments):
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    for f in fragments:
        assert f in err, err


def test_cli_missing_context_file(tmp_path, capsys):
    expect_error(capsys, audit(tmp_path, "--context", str(tmp_path / "nope.yaml")),
                 "nope.yaml", "does not exist", "--context", "review-board template context")


def test_cli_invalid_yaml(tmp_path, capsys):
    bad = write(tmp_path, "bad.yaml", "intended_use: [oops")
    expect_error(capsys, audit(tmp_path, "--context", str(bad)), "bad.yaml", "not valid YAML")


def test_cli_inventory_with_unknown_feature(tmp_path, capsys):
    bad = write(tmp_path, "inv.csv", "feature,origin,purpose,legal_basis,retention\n"
                "shoe_size,derived,x,contract,1y\n")
    expect_error(capsys, audit(tmp_path, "--inventory", str(bad)), "shoe_size",
                 "not inputs of the model", "tenure_months")


def test_cli_templates_and_audit_with_them(tmp_path, capsys):
    assert review_board.main(["template", "context", "--out", str(tmp_path / "c.yaml")]) == 0
    assert review_board.main(["template", "inventory", "--sample", "churn", "--format", "csv",
                              "--out", str(tmp_path / "i.csv")]) == 0
    capsys.readouterr()
    assert audit(tmp_path, "--context", str(tmp_path / "c.yaml"), "--inventory",
                 str(tmp_path / "i.csv"), "--format", "json,md") == 0
    report = AuditReport.read(tmp_path / "out" / "report.json")
    assert report.subject["context"]["source"]["file"] == "c.yaml"
    assert "data.inventory.age" in [f.id for f in report.findings]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "not provided" in md and "answer in your own words" not in md.lower()
