"""The Privacy page, driven headless with streamlit.testing (report and source seeded).

Planted truth (sample_models): purchase_propensity's fully grown forest memorises its training
customers (membership attack AUC >= 0.9, risk high or critical) and reveals expecting_parent
through model inversion; lead_scoring is the control (risk not detected or low, no fail).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from audits.core.numbers import pct
from reports.render.tables import fmt
from reports.report import AuditReport
from tests.app import pages
from views.privacy_charts import GUESSING, MAX_POINTS, downsample_log

ROOT = Path(__file__).resolve().parents[2]
PSEUDONYM = re.compile(r"^p-[0-9a-f]{12}$")  # audits.core.subject.pseudonymise


def open_page(report, name: str) -> AppTest:
    return pages.open_page(report, name, "privacy", "Privacy")


def charts(at: AppTest) -> dict[str, dict]:
    return pages.charts(at)


def roc_chart(at: AppTest) -> dict:
    return next(s for t, s in charts(at).items() if t.startswith("How well each attack"))


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def table_with(at: AppTest, column: str):
    return next(t for t in pages.tables(at) if column in t.columns)


def attacks(report, mode: str) -> list[dict]:
    t = report.probes["membership"].table("attacks")
    return [dict(zip(t.columns, r)) for r in t.rows if r[0] == mode]


def edited(report, probe: str, table: str, column: str, row: int, value) -> AuditReport:
    """A copy of the report with one table cell replaced (to test the page's guards)."""
    d = report.to_dict()
    t = next(t for t in d["probes"][probe]["tables"] if t["name"] == table)
    t["rows"][row][t["columns"].index(column)] = value
    return AuditReport.from_dict(d)


@pytest.fixture(scope="module")
def propensity(sample_report):
    return sample_report("purchase_propensity", light=True)


@pytest.fixture(scope="module")
def lead(sample_report):
    return sample_report("lead_scoring", light=True)


def test_headline_says_high_or_critical_with_the_mode_on_each_number(propensity):
    best = next(a for a in attacks(propensity, "this model") if a["strongest"])
    assert best["auc"] >= 0.9  # planted
    at = open_page(propensity, "purchase_propensity")
    heads = [s.value for s in at.subheader]
    assert "Membership risk: Critical" in heads or "Membership risk: High" in heads
    auc = metric(at, "Strongest attack's AUC (this model)")
    assert auc.value == fmt(best["auc"])
    assert metric(at, "Found at 0.1% false alarms (this model)").value
    assert metric(at, "Strongest attack's AUC (this training recipe)").value
    meaning = next(m.value for m in at.markdown if m.value.startswith("**What it means:**"))
    meaning = meaning.replace("\\", "")  # the probe's words, Markdown-escaped on the page
    assert "can tell whether that customer was in the training data" in meaning
    assert "(this model)" in meaning
    assert meaning.endswith(propensity.probes["membership"].params["interpretation"])


def test_roc_is_log_scale_with_one_curve_per_attack_and_guessing(propensity):
    at = open_page(propensity, "purchase_propensity")
    spec = roc_chart(at)
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert spec["layout"]["yaxis"]["type"] == "log"
    names = [d["name"] for d in spec["data"]]
    expected = attacks(propensity, "this model")
    assert len(names) == len(expected) + 1 and names[-1] == GUESSING
    for a, name in zip(expected, names):
        assert name.startswith(a["label"].split(" (")[0]) and f"AUC {a['auc']:.3f}" in name
    curves = spec["data"][:-1]
    assert len({d["marker"]["symbol"] for d in curves}) == len(curves)  # not colour alone
    assert len({d["line"]["dash"] for d in curves}) == len(curves)
    assert all(len(d["x"]) <= MAX_POINTS for d in curves)
    # x runs from 1/n (the smallest false-positive rate the holdout resolves) to 1
    n = expected[0]["n_nonmembers"]
    assert spec["layout"]["xaxis"]["range"][1] == 0
    assert spec["layout"]["xaxis"]["range"][0] == pytest.approx(-math.log10(n), abs=0.01)


def test_roc_switches_mode_and_linear_scale(propensity):
    at = open_page(propensity, "purchase_propensity")
    at.radio(key="privacy_mode").set_value("this training recipe").run()
    spec = roc_chart(at)
    assert "this training recipe" in spec["layout"]["title"]["text"]
    strongest = next(a for a in attacks(propensity, "this training recipe") if a["strongest"])
    assert any(d["name"].endswith("(strongest)") and f"{strongest['auc']:.3f}" in d["name"]
               for d in spec["data"])
    at.toggle(key="privacy_log_y").set_value(False).run()
    spec = roc_chart(at)
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert spec["layout"]["yaxis"].get("type", "linear") == "linear"
    assert spec["layout"]["yaxis"]["range"] == [0, 1]


def test_downsampling_keeps_the_ends_and_the_low_fpr_shape():
    pts = [(i / 10_000, min(1.0, (i / 10_000) ** 0.3)) for i in range(1, 10_001)]
    out = downsample_log(pts, 100)
    assert len(out) <= 101 and out[0] == pts[0] and out[-1] == pts[-1]
    # a log grid keeps many points below 1% FPR (an even subsample would keep about one)
    assert sum(f < 0.01 for f, _ in out) >= 25
    assert downsample_log(pts[:50], 100) == pts[:50]


def test_epsilon_bound_beside_its_ceiling(propensity):
    eps = propensity.probes["membership"].metric
    at = open_page(propensity, "purchase_propensity")
    bound = metric(at, "Privacy loss ε, at least (this model)")
    ceiling = metric(at, "Ceiling: the most this number of guesses could show")
    assert bound.value == fmt(eps("epsilon.lower_bound").value)
    assert ceiling.value == fmt(eps("epsilon.ceiling").value)
    assert float(ceiling.value) >= float(bound.value) > 0
    canary = propensity.probes["memorisation"].metric("canary.epsilon_one_run").value
    assert metric(at, "One-run bound from canaries, at least").value == fmt(canary)


def test_exposed_records_show_only_pseudonyms(propensity):
    at = open_page(propensity, "purchase_propensity")
    exposed = table_with(at, "Customer (pseudonymised id)")
    ids = list(exposed["Customer (pseudonymised id)"])
    t = propensity.probes["membership"].table("exposed_records")
    assert ids == [r[t.columns.index("record")] for r in t.rows]
    assert ids and all(PSEUDONYM.match(i) for i in ids)
    for frame in pages.tables(at):  # no table on the page has a name or email column, or an email
        assert not [c for c in frame.columns if re.search(r"name|e-?mail", str(c), re.I)
                    and "pseudonym" not in str(c) and not str(c).startswith("Found by")]
        assert not frame.astype(str).apply(lambda s: s.str.contains("@")).any().any()


def test_an_id_that_is_not_a_pseudonym_is_withheld(propensity):
    leaked = edited(propensity, "membership", "exposed_records", "record", 0,
                    "alice.smith@example.com")
    at = open_page(leaked, "purchase_propensity")
    ids = list(table_with(at, "Customer (pseudonymised id)")["Customer (pseudonymised id)"])
    assert ids[0] == "(withheld: not a pseudonymised id)" and PSEUDONYM.match(ids[1])
    assert "alice" not in json.dumps([d.astype(str).values.tolist() for d in pages.tables(at)])


def test_personal_column_evidence_never_prints_a_value(propensity):
    leaked = edited(propensity, "data_exposure", "personal_columns", "evidence", 2,
                    "e.g. jane.doe@example.com or +44 20 7946 0958")
    at = open_page(leaked, "purchase_propensity")
    table = next(t.value for t in at.table if "Column" in t.value.columns)
    evidence = " ".join(table.iloc[:, -1].astype(str))
    assert "jane.doe" not in evidence and "7946" not in evidence
    assert "[email withheld]" in evidence and "[number withheld]" in evidence
    assert list(table["Column"]) == [r[0] for r in
                                     propensity.probes["data_exposure"].table("personal_columns")
                                     .rows]


def test_attribute_inference_against_its_baseline(propensity):
    at = open_page(propensity, "purchase_propensity")
    spec = next(s for t, s in charts(at).items() if t.startswith("Guessing a sensitive field"))
    names = [d["name"] for d in spec["data"]]
    assert any(n.startswith("With the model") for n in names)
    assert any(n.startswith("Without the model (baseline)") for n in names)
    assert len({d["marker"]["symbol"] for d in spec["data"]}) == len(spec["data"]) == 4
    adv = table_with(at, "AUC gain over the baseline")
    inversion = adv[(adv["Attack"] == "model inversion")
                    & (adv["Compared on"] == "training customers")]
    assert list(inversion["In words"]) == ["reaches the bound (0.02): the model gives it away"]
    never_seen = adv[(adv["Attack"] == "model inversion")
                     & (adv["Compared on"] == "customers it never saw")]
    assert list(never_seen["In words"]) == ["shown, not judged"]


def test_control_sample_is_not_detected_or_low_and_has_no_fail(lead):
    at = open_page(lead, "lead_scoring")
    heads = [s.value for s in at.subheader]
    assert "Membership risk: Low" in heads or "Membership risk: Not detected" in heads
    listing = next(m.value for m in at.markdown if "<b>Privacy findings</b>" in m.value)
    assert "✗" not in listing and "Fail" not in listing and "✓ Pass" in listing
    assert all(not e.label.startswith("✗") for e in at.expander)


def test_a_probe_that_did_not_run_is_said_so(propensity):
    d = propensity.to_dict()
    del d["probes"]["membership"]
    at = open_page(AuditReport.from_dict(d), "purchase_propensity")
    assert any("membership probe was not run" in i.value for i in at.info)
    assert not any(t.startswith("How well each attack") for t in charts(at))
    assert "Which customers are most exposed?" in [h.value for h in at.header]


def test_ratio_floor_replica_and_holdout_check_are_shown(propensity):
    at = open_page(propensity, "purchase_propensity")
    best = next(a for a in attacks(propensity, "this model") if a["strongest"])
    captions = " ".join(c.value for c in at.caption)
    assert f"{best['tpr_fpr_ratio']:.1f} times the false-alarm rate" in captions
    assert "5 attention, 20 fail, 100 critical" in captions
    pre = propensity.probes["membership"].params["precondition"]
    assert f"tells the files apart with AUC {fmt(pre['distinguisher_auc'])}" in captions
    replica = propensity.probes["membership"].params["reference_models"]
    assert replica["audited_rows"] == 4000
    # K = 4 (light): every record needs 2 IN models, so each trains on half the 13,000 targets;
    # the default profile's K = 8 sizes them like the audited model (tests/attacks/test_judging)
    assert replica["rows"] == 6500 and "two IN models" in replica["limited_by"]
    assert "trained on about 6,500 rows; the audited model was trained on 4,000" in \
        captions.replace("\\", "")
    memo = propensity.probes["memorisation"].params
    assert metric(at, "Noise floor: the same share by chance alone").value == \
        pct(memo["noise_floor"])
    meanings = [m.value for m in at.markdown if m.value.startswith("**What it means:**")]
    assert len(meanings) == 2 and "by chance alone" in meanings[1]


def _not_exchangeable(report) -> AuditReport:
    """The report as a time-ordered holdout leaves it (the probes' own words, seeded in)."""
    d = json.loads(report.to_json())  # a copy: the session's report must stay intact
    reason = "The holdout rows are not drawn like the training rows: a test reason."
    remedy = "Draw the holdout at random from the training period, then re-audit."
    for name in ("membership", "memorisation"):
        params = d["probes"][name]["params"]
        params["precondition"] = {**params.get("precondition", {}), "met": False,
                                  "reason": reason, "remedy": remedy}
    d["probes"]["membership"]["params"]["risk_level"] = "not assessed"
    return AuditReport.from_dict(d)


def test_not_assessed_membership_says_why_and_how_to_fix_it(propensity):
    at = open_page(_not_exchangeable(propensity), "purchase_propensity")
    assert not at.exception
    assert "Membership risk: Not assessed" in [s.value for s in at.subheader]
    warnings = " ".join(w.value for w in at.warning)
    assert "Not assessed: the holdout is not drawn like the training rows" in warnings
    assert "a test reason" in warnings and "Draw the holdout at random" in warnings
    assert "Memorisation not assessed" in warnings
