"""Human names for what the probes store under machine names: attacks, table columns, fields.

The probes keep their machine names (``lira_offline``, ``tpr_1pct``) in the report JSON, where
code reads them; every rendering (the board summary, the HTML, PDF and Markdown reports, the model
card) prints the names below. A name without an entry is turned into words (underscores become
spaces), so a new probe's columns still read as words, never as identifiers.
"""

from __future__ import annotations

import re

__all__ = ["ATTACKS", "ATTACK_METHODS", "COLUMNS", "attack_name", "column_name", "field_name",
           "group_phrase", "RATES"]

#: membership and attribute attacks, by the id the probes store
ATTACKS = {
    "loss": "LOSS", "gap": "the gap attack", "lira_online": "LiRA (online)",
    "lira_offline": "LiRA (offline)", "rmia_online": "RMIA (online)",
    "rmia_offline": "RMIA (offline)", "learned": "a learned attack",
    "inversion": "model inversion", "baseline": "imputation without the model",
}
#: what each attack does, in a phrase (printed once, beside the attacks' table)
ATTACK_METHODS = {
    "loss": "the model's confidence in the true label (Yeom et al. 2018)",
    "gap": "a correct prediction is taken for membership",
    "lira_online": "likelihood ratio against reference models trained with and without the "
                   "customer (Carlini et al. 2022)",
    "lira_offline": "likelihood ratio against reference models trained without the customer "
                    "(Carlini et al. 2022)",
    "rmia_online": "relative likelihood against a population, reference models with and "
                   "without the customer (Zarifzadeh et al. 2024)",
    "rmia_offline": "relative likelihood against a population, reference models without the "
                    "customer (Zarifzadeh et al. 2024)",
}

#: the error rates the fairness checks compare, with what each counts
RATES = {
    "selection_rate": ("selection rate", "the share who receive the favourable decision"),
    "fnr": ("false-negative rate", "the share of actual positives the model misses"),
    "fpr": ("false-positive rate", "the share of actual negatives the model wrongly flags"),
    "precision": ("precision", "the share of flagged customers who truly are positive"),
    "tpr": ("true-positive rate", "the share of actual positives the model finds"),
}

#: table columns whose machine name does not read as words (units in parentheses)
COLUMNS = {
    "n": "rows", "auc": "AUC", "auc_low": "AUC low", "auc_high": "AUC high",
    "tpr_1pct": "TPR at 1% FPR", "tpr_low_fpr": "TPR at the low FPR",
    "low_fpr_used": "low FPR used", "fpr_reached": "FPR reached",
    "tpr_fpr_ratio": "TPR / FPR", "p_value": "p-value", "advantage": "advantage (TPR − FPR)",
    "precision_at_member_share": "precision at the member share",
    "mean_abs_shap": "mean |SHAP| (log-odds)", "ci_low": "low", "ci_high": "high",
    "share": "share of total", "cramers_v": "Cramér's V", "cramers_v_uncorrected":
    "Cramér's V (uncorrected)", "feature_power": "power of the input alone",
    "all_inputs_power": "power of all inputs", "dp_ratio": "selection-rate ratio",
    "selection_rate": "selection rate", "base_rate": "base rate", "tpr": "TPR", "fpr": "FPR",
    "fnr": "FNR", "n_members": "training rows", "n_nonmembers": "holdout rows",
    "n_positive_label": "positives", "n_favourable": "favourable decisions",
    "auc_members": "AUC, training rows", "auc_nonmembers": "AUC, holdout rows",
    "baseline_auc_members": "baseline AUC, training rows",
    "baseline_auc_nonmembers": "baseline AUC, holdout rows",
    "advantage_members": "advantage, training rows",
    "advantage_nonmembers": "advantage, holdout rows", "member_gap": "training minus holdout",
    "epsilon_lower_bound": "ε lower bound", "epsilon_one_run": "one-run ε",
    "epsilon_ceiling": "ε ceiling", "fpr_level": "FPR level", "tp": "true positives",
    "fp": "false positives", "shap": "SHAP (log-odds)", "shap_rank": "SHAP rank",
    "lime_weight": "LIME weight", "lime_sd": "LIME s.d.", "lime_rank": "LIME rank",
    "shap_base": "SHAP base", "shap_output": "SHAP output",
    "lime_shap_feature_agreement": "LIME–SHAP feature agreement",
    "lime_shap_sign_agreement": "LIME–SHAP sign agreement",
    "lime_shap_spearman": "LIME–SHAP rank correlation", "auc_with": "AUC with",
    "auc_without": "AUC without", "cost": "AUC cost", "false_alarm_share": "false-alarm share",
    "mem": "memorisation", "n_records": "records", "n_canaries": "canaries",
    "n_inserted": "inserted",
    # the fairness summary's fairlearn statistics over all groups of a field: not the pair a
    # finding was judged on, so their intervals differ from the findings' and say so
    "demographic_parity_difference": "largest selection-rate gap, all groups (fairlearn)",
    "demographic_parity_ratio": "lowest / highest selection rate, all groups (fairlearn)",
    "equalized_odds_difference": "equalised-odds difference, all groups (fairlearn)",
    "disparate_impact": "disparate impact: severity of the judged pair (see the finding)",
    "error_rate_parity": "error-rate parity: severity of the judged pair (see the finding)",
    "subgroup_performance": "subgroup performance: severity (see the finding)",
}


def attack_name(key) -> str:
    """An attack's name in words (``lira_offline`` -> "LiRA, offline (...)")."""
    key = str(key)
    return ATTACKS.get(key, key.replace("_", " "))


def column_name(name) -> str:
    """A table column's header in words, with its unit where it has one."""
    name = str(name)
    if name in COLUMNS:
        return COLUMNS[name]
    m = re.fullmatch(r"(.+)_(low|high)", name)
    if m and m.group(1) in COLUMNS:
        return f"{COLUMNS[m.group(1)]} {m.group(2)}"
    text = name.replace("_", " ")
    text = re.sub(r"\b(\d+)pct\b", r"\1%", text)
    return text


def field_name(field) -> str:
    """A sensitive field or an intersection in words: ``ethnicity*gender`` -> "ethnicity and
    gender combined" (no asterisk, which Markdown would read as emphasis)."""
    parts = str(field).split("*")
    if len(parts) == 1:
        return parts[0]
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) + " combined"


def group_phrase(field, group) -> str:
    """The customers of a group, as a sentence names them: "Black customers", "Black & female
    customers", "customers with expecting_parent 0" when the group is a code, not a word, and
    "customers with age_band 65+ and male" for an intersection with a code in it."""
    g = str(group)
    fields, parts = str(field).split("*"), g.split(" & ")
    if all(_is_word(x) for x in parts):
        return f"{g} customers"
    if len(fields) > 1 and len(fields) == len(parts):  # "customers with age_band 65+ and male"
        named = [x if _is_word(x) else f"{f} {x}" for f, x in zip(fields, parts)]
        return f"customers with {' and '.join(named)}"
    return f"customers with {field_name(field)} {g}"


def _is_word(group: str) -> bool:
    """Whether a group's name reads as a word ("Black"), not a code ("65+", "0", "yes")."""
    return bool(re.match(r"[A-Za-z]", group)) and \
        not re.fullmatch(r"(?i)(yes|no|true|false|none)", group)
