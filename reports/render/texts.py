"""Fixed words of the report: what each check means, method notes, glossary and limitations.

Plain data only (no computation), so that a report re-rendered later reads the same. A check is
named by the first two parts of a finding id (``fairness.disparate_impact``); a check without an
entry here falls back to its area's text, so a new probe's findings still get an explanation.
"""

from __future__ import annotations

__all__ = ["CHECKS", "AREA_TEXT", "SEVERITY_MEANING", "GLOSSARY", "METHOD_NOTES", "LIMITATIONS",
           "THRESHOLD_CAVEAT", "check_text", "ATTESTATION", "SEVERITY_MEANING_RULE"]

CHECKS = {
    "performance.generalisation_gap": "How much better the model ranks the customers it was "
    "trained on than customers it never saw. A large gap means it learnt individual customers "
    "rather than patterns, which also makes it leak who was in its training data.",
    "performance.subgroup": "Whether the model is markedly less accurate for some groups of "
    "customers than overall.",
    "fairness.disparate_impact": "Whether some groups receive the favourable outcome much less "
    "often than others (the ratio of two groups' selection rates; the four-fifths rule flags "
    "ratios below 0.8).",
    "fairness.error_rate_parity": "Whether the model's mistakes fall unevenly: wrongly "
    "flagging or wrongly missing the customers of one group more often than another's.",
    "fairness.subgroup_performance": "Whether the model's decisions are markedly less accurate "
    "for some group of customers than overall (Giskard's performance-bias check).",
    "fairness.proxy": "Whether a model input stands in for a sensitive field, so that the model "
    "can treat groups differently without seeing the field itself.",
    "fairness.sensitive_input": "Whether a sensitive field is itself a model input.",
    "fairness.groups": "Groups too small to judge: shown with their size, never dropped.",
    "fairness.sensitive_fields": "Whether any sensitive field was given to check fairness on.",
    "explainability.sensitive_driver": "Whether a sensitive field, or an input standing in for "
    "one, is among the inputs that drive the model's scores most.",
    "explainability.minimisation": "Whether an input contributes so little that it could be "
    "dropped (data minimisation, GDPR Art. 5(1)(c)).",
    "explainability.local_stability": "Whether LIME's explanations of single customers stay the "
    "same when computed again and agree with SHAP's, judged on a random sample of customers: an "
    "unstable or disagreeing explanation must not be given as a reason.",
    "privacy.personal_input": "Whether a direct identifier (name, email, phone, id) is a model "
    "input. Identifiers carry no legitimate signal and let a model memorise individuals.",
    "privacy.reidentification": "How many customers in the training data are unique on a few "
    "ordinary attributes (age, gender, region): unique people can be re-identified.",
    "data.consent": "Whether every customer whose row trains the model consented to the "
    "model's purpose: consent covers only the purposes it was given for.",
    "data.retention": "Whether rows are kept longer than the retention the inventory states "
    "for their data (storage limitation).",
    "data.shadow_profiles": "Whether the model profiles people who never dealt with the "
    "business, known only through data bought from or shared by third parties.",
    "data.opt_out": "Whether customers who opted out of automated decisions (or of their data "
    "training models) are scored or trained on all the same.",
    "data.erasure": "Whether customers who asked to be erased are still in the data.",
    "data.rights": "Whether the customers' consent, retention, objections and erasure requests "
    "were declared, so that the rows could be checked against them.",
    "privacy.erasure_exposure": "Whether the model still gives away customers who asked to be "
    "erased, as membership attacks measure it: if it does, deleting their rows is not enough "
    "and the model must be retrained without them.",
    "privacy.membership_inference": "Whether an attacker with access to the model's scores can "
    "tell which customers were in its training data.",
    "privacy.reference_attacks": "Whether the stronger attacks, which need reference models "
    "trained like the audited one, could be run.",
    "privacy.memorisation": "Whether the model's correct answers on some customers depend on "
    "those very customers having been in its training data.",
    "privacy.attribute_inference": "Whether the model's outputs let an attacker guess a "
    "customer's sensitive field better than an attacker without the model could.",
    "privacy.small_leaves": "Whether the model's trees end in leaves holding very few training "
    "customers, each of which can describe a single person.",
    "privacy.stores_training_rows": "Whether the model file contains training rows themselves "
    "(nearest neighbours, support vectors).",
    "data.undeclared_personal": "Whether the data holds personal columns that were not declared, "
    "and so would not be redacted.",
    "data.inventory": "Whether every model input has a recorded origin, purpose and legal basis, "
    "and whether broker data is used to profile people (purpose limitation).",
}

AREA_TEXT = {
    "data": "A check of the data the model was built from.",
    "performance": "A check of how well the model predicts.",
    "explainability": "A check of what drives the model's scores and how stable its "
                      "explanations are.",
    "fairness": "A check of whether groups of customers are treated alike.",
    "privacy": "A check of what the model or its data could reveal about individual customers.",
}

SEVERITY_MEANING = {
    "pass": "Pass: the statistic is on the acceptable side of every bound, its whole confidence "
            "interval included.",
    "attention": "Needs attention: a harm is shown (the whole interval lies on the harmful side) "
                 "and it may reach the bound. The board should look and set a condition or "
                 "accept it with a reason.",
    "inconclusive": "Inconclusive: these rows cannot tell whether the bound is crossed (the "
                    "interval reaches both sides). Not a finding of harm and not a pass: more "
                    "rows would settle it.",
    "fail": "Fail: the statistic lies beyond the fail bound, its whole confidence interval "
            "included: chance alone does not explain it.",
    "not_assessed": "Not assessed: the check could not be judged (too little data, an input "
                    "not supplied, or a probe that could not run). This is not a pass.",
}

SEVERITY_MEANING_RULE = {
    "pass": "Pass: the rule's condition does not hold.",
    "attention": "Needs attention: the rule's condition holds. The board should look and set a "
                 "condition or accept it with a reason.",
    "fail": "Fail: the rule's condition holds, and the profile treats it as failing.",
    "inconclusive": SEVERITY_MEANING["inconclusive"],
    "not_assessed": SEVERITY_MEANING["not_assessed"],
}


def check_text(finding_id: str, area: str) -> str:
    """What the check behind a finding looks at, in plain words."""
    parts = finding_id.split(".")
    if len(parts) >= 2 and parts[1] == "run":
        return "The probe itself could not run, so none of its checks were judged."
    return CHECKS.get(".".join(parts[:2]), AREA_TEXT.get(area, "A check of the model."))


GLOSSARY = (
    ("AUC (area under the ROC curve)", "How well scores rank one kind of case above another: "
     "0.5 is guessing, 1 is perfect."),
    ("Confidence interval", "The range the true value lies in with the stated confidence "
     "(95% unless said otherwise). Every severity here is judged on the whole interval."),
    ("Bootstrap", "Recomputing a statistic on many resamples of the data to measure how much it "
     "could vary by chance."),
    ("Members / non-members", "Customers the model was trained on / customers it never saw "
     "(the holdout)."),
    ("Favourable outcome", "The decision that benefits the customer (e.g. being offered a "
     "discount); selection rates count it."),
    ("Selection rate", "The share of a group that receives the favourable outcome."),
    ("Disparate-impact ratio", "One group's selection rate divided by another's, for every "
     "pair of groups. The four-fifths rule flags ratios below 0.8 (1.25 the other way round) as "
     "a screening heuristic."),
    ("Simultaneous interval", "Intervals that hold together: with 95% confidence every "
     "comparison of a check family lies inside its interval at once, so comparing many groups "
     "does not raise false alarms by chance."),
    ("Inconclusive", "A check whose interval reaches across its bound: these rows cannot tell "
     "whether it is met. It is listed with the rows that would settle it; it is not a harm and "
     "not a pass."),
    ("True / false positive rate (TPR / FPR)", "Of the customers who truly are positive, the "
     "share the model flags / of those who are not, the share it wrongly flags."),
    ("Precision", "Of the customers the model flags, the share who truly are positive."),
    ("Proxy", "An input that carries much of the information of a sensitive field "
     "(e.g. region standing in for ethnicity)."),
    ("Cramér's V", "Association between two categorical variables: 0 unrelated, 1 one "
     "determines the other (bias-corrected here)."),
    ("SHAP value", "How much one input moved one customer's score away from the average score; "
     "they add up to the score."),
    ("LIME", "An explanation of one customer's score from a simple model fitted around that "
     "customer; it can vary between runs."),
    ("Membership inference", "An attack that guesses whether a customer was in the training "
     "data from the model's output."),
    ("TPR at 0.1% FPR", "The share of training customers an attacker identifies while wrongly "
     "accusing only 1 in 1,000 others: the measure that matters for individuals."),
    ("Attribute inference", "An attack that guesses a sensitive field from the model's output; "
     "only the advantage over a guess without the model counts."),
    ("Memorisation", "How much the model's answer on a customer depends on that customer having "
     "been in the training data."),
    ("Differential privacy (epsilon)", "A guarantee that limits what any output reveals about "
     "one person; smaller epsilon is stronger. Here only measured lower bounds are given."),
    ("Quasi-identifier", "An ordinary attribute (age, gender, region) that, combined with others, "
     "can single a person out."),
    ("k-anonymity", "Every person shares their quasi-identifiers with at least k - 1 others."),
    ("Pseudonymised id", "A record id replaced by a keyed hash: it cannot be reversed without the "
     "installation's secret key."),
    ("Suppressed cell", "A count under 10 that is not printed, because small counts can "
     "identify people."),
    ("Legal basis", "The ground in GDPR Art. 6(1) that makes processing lawful: consent, "
     "contract, legitimate interest, legal obligation, vital interests, public task."),
    ("Purpose limitation", "Personal data collected for one purpose may not be used for an "
     "incompatible one (GDPR Art. 5(1)(b))."),
    ("Profiling", "Automated evaluation of personal aspects such as behaviour or preferences "
     "(GDPR Art. 4(4)). Scoring customers is profiling."),
    ("DPIA", "Data protection impact assessment (GDPR Art. 35), required for processing likely "
     "to result in a high risk."),
    ("Attestation", "A recorded statement of who signed, in which role, when, and for which "
     "report hash. It is not a proof of identity."),
)

METHOD_NOTES = {
    "performance": "AUC, accuracy, log loss and Brier score on members and non-members, with "
                   "percentile bootstrap intervals (Efron & Tibshirani 1993); AUC after Hanley & "
                   "McNeil 1982; generalisation gap after Yeom et al. 2018.",
    "fairness": "Group metrics from per-group confusion counts; intervals by one multinomial "
                "counts bootstrap for every field and intersection (Efron 1979), with Jeffreys "
                "draws for rates on fewer than 10 events (Brown, Cai & DasGupta 2001). Every "
                "pair of groups is compared, fixed before resampling, and all judged comparisons "
                "share one simultaneous max-statistic band (Westfall & Young 1993; Romano & "
                "Wolf 2005); point values checked against fairlearn's MetricFrame (Weerts et "
                "al. 2023). Disparate impact after 29 CFR 1607.4(D), read both ways; error-rate "
                "ratios after Aequitas (Saleiro et al. 2018); subgroup performance after "
                "Giskard's performance-bias defaults. What an inconclusive check could not "
                "establish: a power calculation (80%) on the band's bootstrap spread. Proxy "
                "screen: bias-corrected Cramér's V (Bergsma 2013).",
    "explainability": "Exact TreeSHAP for tree models (Lundberg et al. 2020), folded back to the "
                      "original inputs; SHAP (Lundberg & Lee 2017) otherwise with a stated "
                      "budget; LIME (Ribeiro et al. 2016) repeated over seeds, judged on a "
                      "random sample of customers: top-k Jaccard stability, and top-k feature "
                      "and sign agreement with SHAP (Krishna et al. 2022). Sensitive drivers "
                      "judged on the rank interval; minimisation costs include refit "
                      "variability.",
    "privacy": "Membership inference: LOSS (Yeom et al. 2018), LiRA (Carlini et al. 2022) and "
               "RMIA (Zarifzadeh et al. 2024) on a shared pool of reference models sized like "
               "the audited model; the strongest attack, chosen on a selection split, judged on "
               "its AUC and its TPR/FPR at 0.1% FPR (or the smallest resolvable), with "
               "intervals; not assessed when a classifier two-sample test (Lopez-Paz & Oquab "
               "2017) tells the holdout from the training rows. Attribute inference against a "
               "no-model imputation baseline (Jayaraman & Evans 2022; Fredrikson et al. 2014). "
               "Memorisation after Feldman & Zhang 2020, against its shuffled-label noise "
               "floor; canaries after Carlini et al. 2019; one-run epsilon after "
               "Steinke, Nasr & Jagielski 2023. Re-identification: k-anonymity (Sweeney 2002), "
               "Wilson intervals (Wilson 1927).",
    "data": "Personal columns found by name and content; inventory and context as supplied by "
            "the submitter (not verified). DPIA screen after WP29/EDPB WP248 rev.01; Art. 22 "
            "screen after WP251 rev.01.",
}

THRESHOLD_CAVEAT = (
    "No threshold is a legal verdict. The US four-fifths rule (29 CFR 1607.4(D)) is an "
    "employment guideline, used here as a screening heuristic with its significance and "
    "small-numbers caveats. NIST's AI Risk Management Framework (AI RMF 1.0, 2023) says that "
    "threshold values need human judgement: the board decides, and may overrule the "
    "recommendation with a recorded reason.")

LIMITATIONS = (
    "The audit describes the model on the data supplied (training rows and holdout rows). It "
    "does not cover other populations, later data or drift.",
    "Fairness is checked only on the sensitive fields supplied, and on pairs of them. Groups "
    "under the minimum size are shown but not judged. Fairness measures cannot all hold at once "
    "(Kleinberg et al. 2016; Chouldechova 2017): which one matters is the board's judgement.",
    "Privacy attacks give a lower bound on leakage: a stronger attacker may do better, so an "
    "attack that fails is not a proof of privacy.",
    "Explanations describe the model's behaviour, not causes in the world.",
    "The context, inventory and signatures are the submitter's and reviewers' statements; the "
    "tool records them but does not verify them. A signature is an attestation, not a proof of "
    "identity.",
    "Record ids are pseudonymised with a keyed hash and counts under the suppression limit are "
    "not printed; no personal value of the data appears in this report.",
)

ATTESTATION = ("I have reviewed this report, identified by its hash, and record my vote. I "
               "declare whether I am independent of the model's development team.")
