"""The standards appendix, its JSON export and the model card: every item the issue names, judged
on the report, and what the audit cannot answer asked of the submitter by the context template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.context_files import context_template, load_context
from reports.export import FORMATS, render
from reports.model_card import render_model_card
from reports.report import AuditReport
from reports.standards import CONTEXT_QUESTIONS, FRAMEWORKS, standards_map

FIXTURES = Path(__file__).parent / "render" / "fixtures"
ITEMS = {
    "eu_ai_act": ["1(a)", "2(b)", "2(d)", "2(e)", "2(g)", "3"],
    "nist_ai_rmf": ["MEASURE 1.1", "MEASURE 2.1", "MEASURE 2.10", "MEASURE 2.11", "MANAGE 1.1"],
    "model_card": ["model_details", "intended_use", "factors", "metrics", "evaluation_data",
                   "training_data", "quantitative_analyses", "ethical_considerations",
                   "caveats"],
}


@pytest.fixture(scope="module")
def stored() -> AuditReport:
    return AuditReport.read(FIXTURES / "report_v1.json")


def _items(m: dict, key: str) -> dict:
    fw = next(f for f in m["frameworks"] if f["key"] == key)
    return {it["id"]: it for it in fw["items"]}


def test_every_item_the_issue_names_is_mapped(stored):
    m = standards_map(stored)
    for key, ids in ITEMS.items():
        assert list(_items(m, key)) == ids
    iso = _items(m, "iso_42001")
    assert {"A.5.2", "A.5.4", "A.7.4", "A.7.5"} <= set(iso)
    for fw in m["frameworks"]:
        for it in fw["items"]:
            assert it["sections"] and it["covers"], it["id"]


def test_the_context_template_asks_every_question_the_mapping_needs(tmp_path):
    template = context_template()
    for key in CONTEXT_QUESTIONS:
        assert f"\n{key.split('.')[-1]}:" in template or f"  {key.split('.')[-1]}:" in template
    needed = {k for fw in FRAMEWORKS for it in fw["items"] for k in it["context"]}
    assert needed <= set(CONTEXT_QUESTIONS)
    # and the template loads, with the new questions unanswered
    path = tmp_path / "context.yaml"
    path.write_text(template, encoding="utf-8")
    assert "design_choices" not in load_context(path)


def _with_context(report: AuditReport, context: dict) -> AuditReport:
    d = report.to_dict()
    d["subject"] = dict(d["subject"], context=context)
    d["report_id"] = ""
    return AuditReport.from_dict(d)


def test_status_follows_what_the_report_and_the_context_answer(stored):
    bare = _with_context(stored, {})
    m = _items(standards_map(bare), "eu_ai_act")
    assert m["2(g)"]["status"] == "covered"  # performance, fairness and privacy were assessed
    assert m["2(b)"]["status"] == "not_covered"  # no explainability probe ran in the fixture
    assert m["2(b)"]["missing_areas"] == ["explainability"]
    assert m["1(a)"]["status"] == "partly"
    assert [c["key"] for c in m["1(a)"]["missing_context"]] == ["intended_use", "submitter"]
    iso = _items(standards_map(bare), "iso_42001")
    assert iso["A.5.5"]["status"] == "not_covered"
    full = _with_context(stored, {k: "an answer" for k in CONTEXT_QUESTIONS if "." not in k}
                         | {"decisions": {"mode": "advisory", "human_review": "a team lead"}})
    m = _items(standards_map(full), "eu_ai_act")
    assert m["1(a)"]["status"] == "covered" and not m["1(a)"]["missing_context"]
    assert m["2(b)"]["status"] == "not_covered"  # the context cannot stand in for a probe
    assert _items(standards_map(full), "iso_42001")["A.5.5"]["status"] == "covered"


def test_the_export_formats(stored):
    assert {"model-card", "standards"} <= set(FORMATS)
    data = json.loads(render(stored, "standards"))
    assert data["report_id"] == stored.report_id and len(data["frameworks"]) == 4
    card = render(stored, "model-card").decode()
    assert card.startswith("# Model card: fixture")


def test_the_model_card_has_the_papers_sections_and_says_what_is_missing(stored):
    card = render_model_card(_with_context(stored, {}))
    for heading in ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
                    "Training data", "Quantitative analyses", "Ethical considerations",
                    "Caveats and recommendations"):
        assert f"\n## {heading}\n" in card
    assert "_Not supplied._ The submitter's context answers it: `intended_use`" in card
    assert "| region | Islands | <10 |" in card  # a suppressed count is never printed


def test_the_model_card_keeps_an_intersections_asterisk_literal(sample_report):
    card = render_model_card(sample_report("churn", light=True))
    assert "ethnicity\\*gender" in card or "ethnicity and gender combined" in card
    assert "*gender" not in card.replace("\\*gender", "")
