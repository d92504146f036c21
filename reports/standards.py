"""The standards a report answers to: which of its sections covers which item, and what the audit
cannot answer without the submitter's context.

Four frameworks, each item with the words it asks for (paraphrased and cited, not quoted at
length) and the report's sections that answer it:

- EU AI Act, Regulation (EU) 2024/1689, Annex IV (technical documentation referred to in
  Article 11(1)): points 1(a), 2(b), 2(d), 2(e), 2(g) and 3.
- NIST AI Risk Management Framework 1.0 (NIST AI 100-1, January 2023), subcategories MEASURE 1.1,
  2.1, 2.10, 2.11 and MANAGE 1.1.
- ISO/IEC 42001:2023, Annex A, the controls on AI system impact assessment (A.5) and on data for
  AI systems (A.7). Control numbers and titles only: the standard's text is not public.
- Model cards, Mitchell et al. 2019 ("Model Cards for Model Reporting", FAT* '19): model details,
  intended use, factors, metrics, evaluation data, training data, quantitative analyses,
  ethical considerations, caveats and recommendations.

:func:`standards_map` judges each item on a report: ``covered`` when the areas it needs were
assessed and the context answers it, ``partly`` when the audit answers its measurable part and
the submitter's context is missing, ``not_covered`` when only the context could answer it and it
was not supplied. Each item names the context keys that would answer it; the context template
(:func:`reports.context_files.context_template`) asks every one of them. Nothing here is a legal
opinion: the mapping shows where a reader finds the evidence.
"""

from __future__ import annotations

import json

from reports.report import AuditReport

__all__ = ["FRAMEWORKS", "standards_map", "standards_json", "CONTEXT_QUESTIONS", "STATUS"]

STATUS = {"covered": "Covered", "partly": "Partly: needs the submitter's context",
          "not_covered": "Not answered by this audit: needs the submitter's context"}

#: the context keys the mapping asks for, and the question each answers (the context template
#: asks them in these words)
CONTEXT_QUESTIONS = {
    "intended_use": "what the score is used for, by whom, in which business process",
    "out_of_scope_uses": "uses the model must not be put to",
    "submitter": "who submits the model (the provider's person responsible)",
    "affected_people": "whose data is scored, and how many",
    "decisions.mode": "whether a person reviews each decision",
    "decisions.human_review": "who reviews decisions, and whether they can change them",
    "design_choices": "what the model optimises for, the key design choices and their "
                      "rationale, trade-offs made",
    "training_data": "how the training data was obtained, selected, labelled and cleaned",
    "monitoring": "how the model is monitored once deployed, and who acts on what",
    "societal_impact": "effects on society beyond the customers scored",
    "ethical_considerations": "ethical considerations the team weighed",
}

# section keys of reports.render.document.SECTIONS
_S = {"cover": "0. Cover and traceability", "summary": "1. Executive summary",
      "context": "2. Context", "data": "3. Data", "performance": "4. Performance",
      "explainability": "5. Explainability", "fairness": "6. Fairness", "privacy": "7. Privacy",
      "risk": "8. Risk register", "decision": "9. Decision and sign-off",
      "appendix": "10. Appendix"}


def _item(id_, title, asks_for, sections, covers, areas=(), context=()):
    return {"id": id_, "title": title, "asks_for": asks_for, "sections": list(sections),
            "covers": covers, "areas": list(areas), "context": list(context)}


FRAMEWORKS = (
    {"key": "eu_ai_act", "name": "EU AI Act, Annex IV (technical documentation)",
     "citation": "Regulation (EU) 2024/1689, Annex IV, referred to in Article 11(1)",
     "items": [
         _item("1(a)", "Intended purpose, provider, version",
               "its intended purpose, the name of the provider and the version of the system "
               "reflecting its relation to previous versions",
               ("cover", "context"),
               "the model's name and type, the ledger version and its parent, the files' SHA-256",
               context=("intended_use", "submitter")),
         _item("2(b)", "Design specifications",
               "the general logic of the system and its algorithms; key design choices with "
               "their rationale and assumptions, including about the persons or groups it is "
               "used on; what it optimises for and the relevance of its parameters",
               ("data", "explainability", "fairness"),
               "the model's drivers and their relevance (SHAP, with intervals), the favourable "
               "decision and the decision rule, the sensitive fields and groups checked",
               areas=("explainability",), context=("design_choices",)),
         _item("2(d)", "Data requirements",
               "datasheets of the training methods and data sets: their provenance, scope and "
               "main characteristics, how the data was obtained and selected, labelling and "
               "cleaning",
               ("data", "cover"),
               "training and holdout rows, group sizes, personal columns, the feature "
               "inventory (origin, purpose, legal basis, retention) and the customers' consent, "
               "retention, sources, opt-outs and erasure",
               areas=("data",), context=("training_data",)),
         _item("2(e)", "Human oversight",
               "an assessment of the human oversight measures needed under Article 14, and of "
               "the technical measures that help deployers interpret the outputs",
               ("context", "explainability"),
               "explanations of single customers (SHAP and LIME) and whether they are stable "
               "enough to be given as reasons",
               areas=("explainability",), context=("decisions.mode", "decisions.human_review")),
         _item("2(g)", "Validation and testing",
               "the validation and testing procedures and data; metrics of accuracy, "
               "robustness and compliance, including potentially discriminatory impacts; test "
               "logs and reports dated and signed by the responsible persons",
               ("performance", "fairness", "privacy", "appendix", "cover", "decision"),
               "every check's method, threshold and source, its value with its interval, the "
               "holdout data's hash, the seed and versions, the report's hash and the board's "
               "signed record",
               areas=("performance", "fairness", "privacy")),
         _item("3", "Monitoring, functioning and control",
               "capabilities and limitations in performance, including accuracy for specific "
               "persons or groups and overall; foreseeable unintended outcomes and risks to "
               "fundamental rights and discrimination; human oversight; input data",
               ("performance", "fairness", "risk", "appendix"),
               "accuracy overall and per group with intervals, the risk register, the "
               "limitations and what this audit could not establish",
               areas=("performance", "fairness"), context=("intended_use", "monitoring")),
     ]},
    {"key": "nist_ai_rmf", "name": "NIST AI Risk Management Framework 1.0",
     "citation": "NIST AI 100-1 (January 2023), Tables 3 and 4",
     "items": [
         _item("MEASURE 1.1", "Approaches and metrics selected; what cannot be measured is "
               "documented",
               "approaches and metrics for the risks mapped are selected, most significant "
               "first; risks or characteristics that will not or cannot be measured are "
               "documented",
               ("summary", "appendix"),
               "the methods and thresholds with their sources, and \"What this audit could not "
               "establish\" (inconclusive and not-assessed checks, with the reason)"),
         _item("MEASURE 2.1", "Test sets, metrics and tools documented",
               "test sets, metrics and details about the tools used during test, evaluation, "
               "verification and validation are documented",
               ("cover", "data", "appendix"),
               "the files' SHA-256, rows, seed, profile and its hash, the tool's and libraries' "
               "versions, every metric's method"),
         _item("MEASURE 2.10", "Privacy risk examined and documented",
               "the privacy risk of the AI system is examined and documented",
               ("privacy", "data"),
               "membership and attribute inference against baselines, memorisation, "
               "re-identification, personal columns and the customers' data rights",
               areas=("privacy",)),
         _item("MEASURE 2.11", "Fairness and bias evaluated and documented",
               "fairness and bias are evaluated and results are documented",
               ("fairness", "explainability"),
               "group rates and ratios per field and intersection with simultaneous intervals, "
               "proxies, sensitive drivers",
               areas=("fairness",)),
         _item("MANAGE 1.1", "Determination whether to proceed",
               "a determination is made as to whether the AI system achieves its intended "
               "purposes and stated objectives and whether its development or deployment "
               "should proceed",
               ("summary", "decision"),
               "the recommended decision with its reasons, and the board's signed decision",
               context=("intended_use",)),
     ]},
    {"key": "iso_42001", "name": "ISO/IEC 42001:2023, Annex A controls",
     "citation": "ISO/IEC 42001:2023 Annex A (control numbers and titles; the text is not "
                 "public)",
     "items": [
         _item("A.5.2", "AI system impact assessment process", "", ("summary", "decision"),
               "this audit is one dated, signed step of the process, with the board's decision",
               context=("affected_people",)),
         _item("A.5.3", "Documentation of AI system impact assessments", "",
               ("cover", "decision", "appendix"),
               "the report itself, identified by its hash, kept in the board's ledger"),
         _item("A.5.4", "Assessing AI system impact on individuals or groups of individuals", "",
               ("fairness", "privacy", "data"),
               "the treatment of groups (fairness) and what the model reveals about individuals "
               "(privacy), and their data rights",
               areas=("fairness", "privacy"), context=("affected_people",)),
         _item("A.5.5", "Assessing societal impacts of AI systems", "", ("context",),
               "nothing measured: societal effects need the submitter's account",
               context=("societal_impact",)),
         _item("A.7.2", "Data for development and enhancement of AI system", "",
               ("data",), "the training and holdout data: rows, groups, personal columns",
               areas=("data",), context=("training_data",)),
         _item("A.7.3", "Acquisition of data", "", ("data",),
               "data sources (first party, third party, broker), consent and legal basis",
               areas=("data",), context=("training_data",)),
         _item("A.7.4", "Quality of data for AI systems", "", ("data", "performance"),
               "group sizes and groups too small to judge, the holdout drawn like the training "
               "rows (the distinguisher), accuracy on unseen rows",
               areas=("data", "performance")),
         _item("A.7.5", "Data provenance", "", ("data", "cover"),
               "the files' SHA-256 and the inventory's origin of every input",
               areas=("data",), context=("training_data",)),
         _item("A.7.6", "Data preparation", "", ("context",),
               "nothing measured: preparation steps need the submitter's account",
               context=("training_data",)),
     ]},
    {"key": "model_card", "name": "Model card fields",
     "citation": "Mitchell et al. 2019, \"Model Cards for Model Reporting\", FAT* '19",
     "items": [
         _item("model_details", "Model details", "", ("cover", "context"),
               "model type, version, report id and date, files and their hashes",
               context=("submitter",)),
         _item("intended_use", "Intended use", "", ("context",),
               "nothing measured: the intended and out-of-scope uses are the submitter's",
               context=("intended_use", "out_of_scope_uses")),
         _item("factors", "Factors", "", ("data", "fairness"),
               "the sensitive fields and their intersections, group sizes",
               areas=("fairness",)),
         _item("metrics", "Metrics", "", ("performance", "fairness", "appendix"),
               "performance, fairness and privacy metrics with intervals, and the decision "
               "thresholds with their sources", areas=("performance",)),
         _item("evaluation_data", "Evaluation data", "", ("data", "cover"),
               "the holdout rows (never trained on), their size and hash", areas=("data",)),
         _item("training_data", "Training data", "", ("data", "cover"),
               "the training rows, their size and hash, the inventory",
               areas=("data",), context=("training_data",)),
         _item("quantitative_analyses", "Quantitative analyses per group and intersection", "",
               ("fairness", "performance"),
               "rates, ratios and accuracy per group and per intersection, with intervals",
               areas=("fairness",)),
         _item("ethical_considerations", "Ethical considerations", "",
               ("fairness", "privacy", "data", "risk"),
               "sensitive inputs and proxies, privacy leakage, data rights",
               context=("ethical_considerations",)),
         _item("caveats", "Caveats and recommendations", "", ("summary", "risk", "appendix"),
               "limitations, what this audit could not establish, each finding's recommended "
               "action"),
     ]},
)


def _answered(context: dict | None, key: str) -> bool:
    if not context:
        return False
    value = context
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict):
        return any(v for v in value.values())
    return bool(value)


def standards_map(report: AuditReport) -> dict:
    """Each framework's items with the report's sections that answer them, judged on this report.

    Returns
    -------
    dict
        ``{"report_id", "frameworks": [{"key", "name", "citation", "items": [{"id", "title",
        "asks_for", "sections": [{"key", "title"}], "covers", "status", "status_label",
        "missing_areas", "missing_context": [{"key", "question"}]}]}]}``. Plain data, the same
        for the same report.
    """
    scorecard = report.summary.get("scorecard") or {}
    context = report.subject.get("context")
    frameworks = []
    for fw in FRAMEWORKS:
        items = []
        for it in fw["items"]:
            missing_areas = [a for a in it["areas"] if scorecard.get(a, "not_assessed")
                             == "not_assessed"]
            missing = [k for k in it["context"] if not _answered(context, k)]
            measured = not it["covers"].startswith("nothing measured")
            if not missing and not missing_areas:
                status = "covered"
            elif measured and len(missing_areas) < max(len(it["areas"]), 1):
                status = "partly"
            else:
                status = "not_covered"
            items.append({
                "id": it["id"], "title": it["title"], "asks_for": it["asks_for"],
                "sections": [{"key": k, "title": _S[k]} for k in it["sections"]],
                "covers": it["covers"], "status": status, "status_label": STATUS[status],
                "missing_areas": missing_areas,
                "missing_context": [{"key": k, "question": CONTEXT_QUESTIONS[k]}
                                    for k in missing]})
        frameworks.append({"key": fw["key"], "name": fw["name"], "citation": fw["citation"],
                           "items": items})
    return {"report_id": report.report_id, "frameworks": frameworks,
            "note": "Where each item's evidence is in this report; not a legal opinion and not "
                    "a certification. Items that need the submitter's context name the "
                    "context file's key that answers them."}


def standards_json(report: AuditReport) -> str:
    """The mapping as JSON (the ``standards`` export format)."""
    return json.dumps(standards_map(report), indent=2, ensure_ascii=False)
