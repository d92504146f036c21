"""Plain-language statements and notes of the privacy probes (no computation here)."""

from __future__ import annotations

from attacks.membership import ATTACK_LABELS, MODES
from attacks.mia_metrics import FPRS
from audits.core.numbers import pct
from audits.core.results import Severity

__all__ = ["LEVEL_MEANING", "pct", "boot_kind", "strongest_statement", "membership_action",
           "leaves_statement", "membership_notes", "memorisation_statement"]

LEVEL_MEANING = {
    "critical": "Critical: an attacker can confirm, with very few false alarms, that many "
                "individual customers were in the training data.",
    "high": "High: the model reveals who was in its training data well beyond guessing "
            "(SACRO-ML treats an AUC above 0.65 as disclosive).",
    "medium": "Medium: a measurable leak; an attacker does better than guessing, but weakly.",
    "low": "Low: a leak is detectable statistically but too weak to identify customers.",
    "not detected": "Not detected: the attacks do no better than guessing.",
}


def boot_kind(mode: str) -> str:
    return ("resampling members and non-members separately" if mode == "model" else
            "resampling records with all their targets' scores (cluster bootstrap)")


def strongest_statement(best, level, low, eps, *, recipe, reason, confidence,
                        severity=None, member_share: float) -> str:
    lo, hi = best.auc_ci
    one = best.tpr[FPRS[1]]
    parts = [
        f"The strongest of the attacks tried, {ATTACK_LABELS[best.attack]}, tells this model's "
        f"training customers from customers it never saw with AUC {best.auc:.3f} "
        f"({confidence:.0%} interval {lo:.3f} to {hi:.3f}; 0.5 means guessing, 1 means "
        f"certainty).",
    ]
    if low["resolved"]:
        parts.append(
            f"Allowed only 1 false alarm in 1,000 holdout customers, it picks out "
            f"{pct(low['value'])} of the training customers (interval {pct(low['ci'][0])} to "
            f"{pct(low['ci'][1])}); at 1 in 100 false alarms, {pct(one['value'])}.")
    else:
        parts.append(
            f"There are too few holdout customers to measure 1 false alarm in 1,000; at the "
            f"smallest rate they can resolve, {pct(low['alpha'])}, it picks out "
            f"{pct(low['value'])} of the training customers (interval {pct(low['ci'][0])} to "
            f"{pct(low['ci'][1])}), so the low-false-alarm criterion is not assessed.")
    if best.precision is not None:
        parts.append(f"If {member_share:.0%} of all customers were training customers, "
                     f"{pct(best.precision)} of its 'member' claims at that setting would be "
                     "right.")
    parts.append(f"Risk level: {LEVEL_MEANING[level]}")
    if severity is Severity.ATTENTION and level in ("not detected", "low"):
        parts.append("The interval still reaches the failing bound, so a high risk cannot be "
                     "ruled out with these records.")
    if eps["epsilon"] > 0:
        parts.append(f"Equivalently, the training cannot have been differentially private with "
                     f"epsilon below {eps['epsilon']:.2f} ({confidence:.0%} confidence; these "
                     f"records could show at most {eps['ceiling']:.2f}).")
    if recipe is not None:
        parts.append(f"Re-running the same training recipe on other customers ({MODES['recipe']}) "
                     f"gives AUC {recipe.auc:.3f} for {ATTACK_LABELS[recipe.attack]}: "
                     + ("the leak comes from how the model is trained, not from this one fit."
                        if recipe.auc_ci[0] > 0.55 else "the recipe itself leaks little."))
    if reason is not None:
        parts.append(f"LiRA and RMIA could not run ({reason}); only LOSS and the gap attack "
                     "were tried, so the risk may be higher than shown.")
    return " ".join(parts)


def membership_action(severity: Severity) -> str:
    if severity is Severity.FAIL:
        return ("Do not release as is. Regularise the model (min_samples_leaf >= 5, limited "
                "depth, a stronger penalty), train on more data, or train with differential "
                "privacy, then re-audit; check the most exposed customers' records.")
    if severity is Severity.ATTENTION:
        return ("Review before release: the leak cannot be ruled out at the failing level. "
                "Consider regularising the model and re-auditing with more holdout rows.")
    return "None needed."


def leaves_statement(leaves: dict) -> str:
    param = (f"{leaves['parameter']} = {leaves['parameter_value']}" if leaves["parameter"]
             else "no minimum leaf size")
    if leaves["share_small"] > 0:
        return (f"{pct(leaves['share_small'])} of the {leaves['n_leaves']:,} leaves of the "
                f"{leaves['estimator']} hold fewer than {leaves['min_leaf']} training rows "
                f"(smallest: {leaves['smallest_leaf']}; {param}). A leaf that small describes "
                "a handful of customers, whose labels the model then repeats.")
    return (f"Every leaf of the {leaves['estimator']} holds at least {leaves['min_leaf']} "
            f"training rows ({param}).")


def membership_notes(records, pool, modes, reason, best) -> list[str]:
    sizes = records.params["sizes"]
    notes = [
        "Record splits (fixed by the audit's seed): members "
        f"{sizes['member_selection']:,} selection / {sizes['member_reporting']:,} reporting; "
        f"non-members {sizes['population']:,} RMIA population / "
        f"{sizes['nonmember_selection']:,} selection / {sizes['nonmember_reporting']:,} "
        "reporting. Thresholds and the strongest attack are chosen on the selection parts; "
        "every reported number comes from the reporting parts.",
        "Two modes: 'this model' attacks the audited model (it decides the finding); 'this "
        "training recipe' attacks each reference model in turn with the other K - 1 as "
        "references (LiRA's protocol).",
    ]
    if pool is not None:
        notes.append(
            f"{pool.k} reference models, each trained on about {min(pool.params['train_size']):,}"
            f" to {max(pool.params['train_size']):,} of the {int(records.targets.sum()):,} "
            f"target records (every record IN for exactly {pool.k // 2}); probabilities clipped "
            f"to [{modes['model'].params['clip']:g}, 1 - {modes['model'].params['clip']:g}]; "
            f"RMIA offline a = {modes['model'].params['rmia_a']:g}.")
    else:
        notes.append(f"Reference pool not available: {reason}.")
    if not best.tpr[FPRS[0]]["resolved"]:
        notes.append(f"Fewer than 1,000 holdout customers in a part: TPR is reported at "
                     f"{pct(best.tpr[FPRS[0]]['alpha'])} FPR, the smallest it can resolve, "
                     "instead of 0.1%.")
    return notes


def memorisation_statement(share, canary, canary_reason, k) -> str:
    lo, hi = share.ci
    parts = [f"{pct(share.value)} of the customers (interval {pct(lo)} to {pct(hi)}) are "
             f"highly memorised: the training recipe predicts their recorded label when they are "
             f"in its training data and gets it wrong when they are not (estimated from {k} "
             "re-trained models)."]
    if canary is not None:
        lo, hi = canary["auc_ci"]
        parts.append(
            f"Of {canary['n_canaries']} synthetic test customers with random labels, the "
            f"{canary['n_inserted']} slipped into the training data are recognised with AUC "
            f"{canary['auc']:.2f} (interval {lo:.2f} to {hi:.2f}); mean exposure "
            f"{canary['mean_exposure']:.2f} of at most {canary['max_exposure']:.2f} bits; "
            f"one-run epsilon lower bound {canary['epsilon']:.2f} (at most "
            f"{canary['epsilon_ceiling']:.2f} with this many canaries).")
    elif canary_reason:
        parts.append(f"The canary experiment could not run ({canary_reason}).")
    return " ".join(parts)
