"""The submitter's context file and feature inventory, and the findings they give rise to.

Two small files that only the submitter can answer, read by ``review-board audit --context FILE
--inventory FILE`` (or filled in the app) and stored in the report (``subject["context"]``,
``subject["inventory"]``) so that the report stays the one record renderers read:

- the **context** (YAML): intended and out-of-scope uses, whether decisions are automated or
  advisory (the GDPR Art. 22 screen), and the DPIA screening questions (the nine criteria of the
  EDPB-endorsed WP29 guidelines on DPIAs, WP248 rev.01: two or more usually mean a DPIA is needed);
- the **inventory** (YAML or CSV): for each model input its origin (first-party, third-party such
  as a partner's data, third-party broker, derived), purpose, legal basis (GDPR Art. 6(1)) and
  retention period.

An unanswered question is stored as None and printed as "not provided", never as placeholder text.
:func:`inventory_findings` turns the inventory into ``data.inventory.<feature>`` findings (purpose
limitation, GDPR Art. 5(1)(b)); :func:`reports.build.attach_context` stores both files in a report
and puts it together again. The context and inventory readers live in
:mod:`reports.context_files`.
"""

from __future__ import annotations

from audits.core.config import DEFAULT_THRESHOLDS
from audits.core.results import Finding, Severity, Threshold
from reports.report import AuditReport

__all__ = ["inventory_findings", "feature_risk", "art22_screen",
           "dpia_screen", "DPIA_QUESTIONS", "ORIGINS", "LEGAL_BASES"]

ORIGINS = ("first-party", "third-party", "third-party broker", "derived")
LEGAL_BASES = ("consent", "contract", "legitimate interest", "legal obligation",
               "vital interests", "public task")

#: The nine screening criteria of WP248 rev.01 (Article 29 Working Party, endorsed by the EDPB).
DPIA_QUESTIONS = {
    "evaluation_or_scoring": "Does the model evaluate or score people (including profiling and "
                             "predicting behaviour, preferences or economic situation)?",
    "automated_decision_legal_effect": "Do its decisions take effect automatically with legal or "
                                       "similarly significant effects on the person?",
    "systematic_monitoring": "Does it rely on systematic monitoring of people?",
    "sensitive_or_highly_personal_data": "Does it use special-category (GDPR Art. 9) or other "
                                         "highly personal data (e.g. financial situation)?",
    "large_scale": "Is the processing large-scale (many people, much data, long or wide)?",
    "matching_or_combining_datasets": "Does it match or combine datasets from different sources "
                                      "or purposes?",
    "vulnerable_data_subjects": "Does it concern vulnerable people (e.g. children, people in "
                                "financial difficulty, employees)?",
    "innovative_technology": "Does it use new technology or an innovative use of existing "
                             "technology?",
    "prevents_exercising_rights": "Can it prevent people from exercising a right or using a "
                                  "service or contract (e.g. refusing an offer)?",
}

_RANK = {"low": 0, "medium": 1, "high": 2}
_LEVELS = ("low", "medium", "high")


def _profiling(subject: dict) -> bool:
    """Scoring individual customers is profiling (GDPR Art. 4(4)) unless the context says no."""
    answer = ((subject.get("context") or {}).get("decisions") or {}).get("profiling")
    return answer != "no"


def inventory_findings(report_subject: dict, inventory: dict | None, *,
                       threshold: Threshold | None = None) -> list[Finding]:
    """The ``data.inventory.*`` findings of a report's subject and the submitter's inventory.

    Parameters
    ----------
    report_subject : the report's ``subject`` dict (its ``feature_columns`` and, when attached,
        its ``context``, whose ``decisions.profiling`` answer "no" turns the profiling rule off).
    inventory : the normalised inventory (``reports.context_files.load_inventory``), or None.
    threshold : the profile's ``data.inventory`` threshold (the default profile's when None).

    Returns
    -------
    list of Finding
        ``data.inventory.all`` (not_assessed) without an inventory; otherwise one ``attention``
        finding ``data.inventory.<feature>`` per input with a missing purpose or legal basis, or a
        third-party broker input used for profiling, and ``data.inventory.all`` (pass) when no
        input has a problem.
    """
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS["data.inventory"]
    if inventory is None:
        return [Finding(
            "data.inventory.all", Severity.NOT_ASSESSED, "Feature inventory not supplied",
            "No feature inventory was supplied, so the origin, purpose, legal basis and retention "
            "of the model's inputs are unknown to this audit, and purpose limitation (GDPR Art. "
            "5(1)(b)) could not be checked.",
            action="Generate the template (review-board template inventory --model M), fill it "
                   "in and re-run the audit with --inventory FILE.",
            threshold=threshold, area="data")]
    entries = inventory.get("features") or {}
    profiling = _profiling(report_subject)
    out = []
    for feature in report_subject.get("feature_columns", []):
        e = entries.get(feature)
        problems = []
        if e is None:
            problems.append("it is not listed in the inventory, so it has no recorded purpose "
                            "or legal basis")
        else:
            if not e.get("legal_basis"):
                problems.append("no legal basis is recorded for it")
            if not e.get("purpose"):
                problems.append("no purpose is recorded for it")
            if e.get("origin") == "third-party broker" and profiling:
                problems.append("it comes from a third-party data broker and the model uses it "
                                "to profile people, a purpose the data was not collected for "
                                "unless the broker's notice and basis say so")
        if problems:
            out.append(Finding(
                f"data.inventory.{feature}", Severity.ATTENTION,
                f"Inventory gap: {feature}",
                f"The model input '{feature}' needs attention: {'; '.join(problems)}. Personal "
                "data may be used only for specified, explicit purposes with a lawful basis "
                "(GDPR Art. 5(1)(b) purpose limitation, Art. 6(1)).",
                action=f"Record the purpose and legal basis of '{feature}' in the inventory, "
                       "confirm that its source permits this use (for broker data: the broker's "
                       "notice under Art. 14 and the basis), or remove the input.",
                threshold=threshold, area="data"))
    if not out:
        out.append(Finding(
            "data.inventory.all", Severity.PASS, "Every input has a recorded purpose and basis",
            f"All {len(report_subject.get('feature_columns', []))} model inputs are in the "
            "inventory with a purpose and a legal basis, and no third-party broker input is "
            "used for profiling.", action="None needed.", threshold=threshold,
            area="data"))
    return out


def feature_risk(report: AuditReport) -> dict[str, dict]:
    """A privacy risk rating per model input, from what the audit found and the input's origin.

    Flags are read from the ids of findings that need attention or fail:
    ``privacy.personal_input.<col>`` (personal), ``fairness.sensitive_input.<field>``
    (sensitive), ``fairness.proxy.<feature>__<field>`` (proxy) and
    ``explainability.sensitive_driver.<feature>`` (sensitive driver). Rating: high for a personal
    or sensitive input or a failing proxy; medium for a proxy or a sensitive driver; else low;
    one level higher for a third-party broker input; at least medium when the inventory records no
    legal basis.

    Returns
    -------
    dict
        feature -> {"flags": [...], "rating": "low" | "medium" | "high", "reasons": [...]}.
    """
    features = list(report.subject.get("feature_columns", []))
    flags: dict[str, list[str]] = {f: [] for f in features}
    level: dict[str, int] = {f: 0 for f in features}

    def flag(feature: str, name: str, lvl: int) -> None:
        if feature in flags and name not in flags[feature]:
            flags[feature].append(name)
            level[feature] = max(level[feature], lvl)

    for f in report.findings:
        if f.severity not in (Severity.ATTENTION, Severity.FAIL):
            continue
        parts = f.id.split(".", 2)
        key, subj = ".".join(parts[:2]), parts[2]
        if key == "privacy.personal_input":
            flag(subj, "personal", 2)
        elif key == "fairness.sensitive_input":
            flag(subj, "sensitive", 2)
        elif key == "fairness.proxy":
            feature, _, field = subj.partition("__")
            flag(feature, f"proxy for {field}" if field else "proxy",
                 2 if f.severity is Severity.FAIL else 1)
        elif key == "explainability.sensitive_driver":
            flag(subj, "sensitive driver", 1)
    entries = ((report.subject.get("inventory") or {}).get("features")) or {}
    has_inventory = bool(report.subject.get("inventory"))
    out = {}
    for feature in features:
        reasons = list(flags[feature])
        lvl = level[feature]
        e = entries.get(feature) or {}
        if e.get("origin") == "third-party broker":
            lvl = min(lvl + 1, 2)
            reasons.append("third-party broker origin")
        if has_inventory and not e.get("legal_basis"):
            lvl = max(lvl, 1)
            reasons.append("no legal basis recorded")
        out[feature] = {"flags": flags[feature], "rating": _LEVELS[lvl], "reasons": reasons}
    return out


def art22_screen(context: dict | None) -> str | None:
    """The GDPR Art. 22 screen in words, from the context's ``decisions`` answers (None when
    the mode of decision is not provided)."""
    d = (context or {}).get("decisions") or {}
    mode, effect = d.get("mode"), d.get("legal_or_similar_effect")
    if mode is None:
        return None
    if mode == "advisory":
        return ("Advisory: a person takes each decision with the score as one input. Art. 22(1) "
                "does not apply if that human review is meaningful (the reviewer has the "
                "authority and competence to change the decision and considers all relevant "
                "data); a token review counts as solely automated (WP251rev.01).")
    if effect == "yes":
        return ("Solely automated decisions with legal or similarly significant effects: Art. "
                "22(1) applies. They are allowed only when necessary for a contract, authorised "
                "by law or based on explicit consent (Art. 22(2)), with safeguards: the right to "
                "human intervention, to express one's view and to contest (Art. 22(3)); decisions "
                "based on special-category data need Art. 9(2)(a) or (g) (Art. 22(4)).")
    if effect == "no":
        return ("Solely automated, but the submitter states the decisions have no legal or "
                "similarly significant effect: Art. 22(1) likely does not apply. The board should "
                "check that judgement (e.g. differential pricing or refusing an offer can be "
                "significant).")
    return ("Solely automated; whether decisions have legal or similarly significant effects is "
            "not provided, so whether Art. 22(1) applies cannot be screened.")


def dpia_screen(context: dict | None) -> dict:
    """The DPIA screen: each WP248 criterion with its answer, and the count of criteria met."""
    answers = (context or {}).get("dpia_screening") or {}
    rows = [{"key": k, "question": q, "answer": answers.get(k)} for k, q in DPIA_QUESTIONS.items()]
    met = sum(r["answer"] == "yes" for r in rows)
    answered = sum(r["answer"] is not None for r in rows)
    if answered == 0:
        verdict = None
    elif met >= 2:
        verdict = (f"{met} of the 9 criteria are met: WP248 says processing meeting two or more "
                   "criteria requires a DPIA in most cases.")
    else:
        verdict = (f"{met} of the 9 criteria met ({answered} answered): a DPIA may not be "
                   "required by this screen alone; the controller decides.")
    return {"rows": rows, "met": met, "answered": answered, "verdict": verdict,
            "reference": answers.get("dpia_reference")}
