"""Plain-language statements and notes of the privacy probes (no computation here)."""

from __future__ import annotations

from attacks.membership import ATTACK_LABELS, MODES
from attacks.mia_metrics import FPRS
from audits.core.numbers import pct
from audits.core.results import Severity

__all__ = ["LEVEL_MEANING", "pct", "boot_kind", "strongest_statement", "membership_action",
           "leaves_statement", "membership_notes", "memorisation_statement",
           "not_assessed_statement", "interpretation", "replica_text", "in_models",
           "memorisation_interpretation", "low_fpr_text"]

LEVEL_MEANING = {
    "critical": "Critical: an attacker can confirm, with very few false alarms, that many "
                "individual customers were in the training data.",
    "high": "High: the model reveals who was in its training data well beyond guessing "
            "(SACRO-ML treats an AUC above 0.65 as disclosive).",
    "medium": "Medium: a measurable leak; an attacker does better than guessing, but weakly.",
    "low": "Low: a leak is detectable statistically but too weak to identify customers.",
    "not detected": "Not detected: the attacks do no better than guessing.",
    "not assessed": "Not assessed: the holdout rows are not drawn like the training rows, so the "
                    "attacks would measure the difference between the two files, not the model.",
}


def boot_kind(mode: str) -> str:
    return ("resampling members and non-members separately" if mode == "model" else
            "resampling records with all their targets' scores (cluster bootstrap)")


def low_fpr_text(low: dict) -> str:
    """"at 0.1% false alarms" or the smallest resolvable rate, in words."""
    if low["resolved"]:
        return f"at {pct(low['alpha'])} false alarms"
    return (f"at {pct(low['alpha'])} false alarms (too few holdout customers to measure 0.1%: "
            "the smallest rate these rows resolve)")


def strongest_statement(best, level, low, eps, *, recipe, reason, confidence,
                        severity=None, member_share: float, bounds=(5.0, 20.0, 100.0)) -> str:
    lo, hi = best.auc_ci
    one = best.tpr[FPRS[1]]
    r_lo, r_hi = low["ratio_ci"]
    parts = [
        f"The strongest of the attacks tried (chosen on the selection records before judging; "
        f"the others are shown, not judged), {ATTACK_LABELS[best.attack]}, tells this model's "
        f"training customers from customers it never saw with AUC {best.auc:.3f} "
        f"({confidence:.0%} interval {lo:.3f} to {hi:.3f}; 0.5 means guessing, 1 means "
        f"certainty).",
    ]
    if low["resolved"]:
        parts.append(
            f"Allowed only 1 false alarm in 1,000 holdout customers, it picks out "
            f"{pct(low['value'])} of the training customers (interval {pct(low['ci'][0])} to "
            f"{pct(low['ci'][1])}): {low['ratio']:.1f} times the false-alarm rate (interval "
            f"{r_lo:.1f} to {r_hi:.1f}); at 1 in 100 false alarms, {pct(one['value'])}.")
    else:
        parts.append(
            f"There are fewer than 1,000 holdout customers in a split, too few to measure 1 "
            f"false alarm in 1,000, so this is judged at the smallest rate they resolve, "
            f"{pct(low['alpha'])}: the attack picks out {pct(low['value'])} of the training "
            f"customers (interval {pct(low['ci'][0])} to {pct(low['ci'][1])}), {low['ratio']:.1f} "
            f"times the false-alarm rate (interval {r_lo:.1f} to {r_hi:.1f}).")
    parts.append(f"Bounds on that ratio: {bounds[0]:g} needs attention, {bounds[1]:g} fails, "
                 f"{bounds[2]:g} is critical; 1 means no better than a false alarm.")
    if best.precision is not None:
        parts.append(f"If {member_share:.0%} of all customers were training customers, "
                     f"{pct(best.precision)} of its 'member' claims at that setting would be "
                     "right.")
    parts.append(f"Risk level: {LEVEL_MEANING[level]}")
    if severity is Severity.ATTENTION and level in ("not detected", "low"):
        parts.append("The interval still reaches the failing bound, so a high risk cannot be "
                     "ruled out with these records.")
    if severity is Severity.INCONCLUSIVE:
        parts.append("The intervals neither clear the bounds nor lie beyond them: these records "
                     "cannot tell whether the leak is acceptable; more training and holdout "
                     "customers would settle it.")
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


def not_assessed_statement(pre, best, *, confidence: float) -> str:
    """The membership finding when the holdout is not drawn like the training rows."""
    lo, hi = best.auc_ci
    return (f"{pre.reason} The attacks' results are shown but not judged: the strongest, "
            f"{ATTACK_LABELS[best.attack]}, has AUC {best.auc:.3f} ({confidence:.0%} interval "
            f"{lo:.3f} to {hi:.3f}), which here measures the split, not the model. The "
            "generalisation gap may likewise be drift rather than overfitting.")


def interpretation(level: str, best, pre, *, member_share: float) -> str:
    """What the membership result means for a customer, in a board member's words."""
    if level == "not assessed":
        return ("Not assessed. " + (pre.reason or "") + " No statement about what the model "
                "reveals can be made from these files. " + pre.remedy)
    low = best.tpr[FPRS[0]]
    allowed = ("allowed only 1 false alarm per 1,000 customers the model never saw"
               if low["resolved"] else f"allowed false alarms on {pct(low['alpha'])} of the "
               "customers the model never saw (the smallest rate these rows resolve)")
    if level == "not detected":
        return ("An attacker who holds a customer's record and can query the model's scores "
                "cannot tell, better than guessing, whether that customer was in the training "
                "data.")
    if level == "low":
        return ("An attacker who holds a customer's record and can query the model's scores "
                "does slightly better than guessing whether that customer was in the training "
                f"data, too weakly to single customers out: {allowed}, the strongest attack "
                f"picks out {pct(low['value'])} of the training customers (this model).")
    text = ("An attacker who holds a customer's record and can query the model's scores can "
            f"tell whether that customer was in the training data: {allowed}, the strongest "
            f"attack picks out {pct(low['value'])} of the training customers (this model), "
            f"{low['ratio']:.0f} times as many as it wrongly accuses.")
    if best.precision is not None:
        text += (f" If {member_share:.0%} of all customers were training customers, "
                 f"{pct(best.precision)} of its 'member' claims would be right.")
    return text


def replica_text(params: dict) -> str:
    """The reference models' size against the audited model's, in words."""
    rows, audited = params.get("reference_rows"), params.get("audited_rows")
    if rows is None or audited is None:
        return ""
    text = (f"Each reference model is trained on about {rows:,} rows; the audited model was "
            f"trained on {audited:,}")
    if rows < audited:
        return (text + f" (limited by {params.get('limited_by')}). A replica trained on fewer "
                "rows than the audited model makes the reference-model attacks, and so the "
                "leak they show, a lower bound.")
    if rows > audited:
        return text + f" ({params.get('limited_by')})."
    return text + " (sized like the audited model)."


def in_models(pool) -> str:
    lo, hi = pool.params.get("in_models", [pool.k // 2, pool.k // 2])
    return f"{lo}" if lo == hi else f"{lo} or {hi}"


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


def membership_notes(records, pool, modes, reason, best, pre=None) -> list[str]:
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
            f"{pool.k} reference models, each trained on {min(pool.params['train_size']):,}"
            f" to {max(pool.params['train_size']):,} of the {int(records.targets.sum()):,} "
            f"target records (every record IN for {in_models(pool)} of them); probabilities "
            f"clipped to [{modes['model'].params['clip']:g}, 1 - "
            f"{modes['model'].params['clip']:g}]; RMIA offline a = "
            f"{modes['model'].params['rmia_a']:g}. {replica_text(pool.params)}")
    else:
        notes.append(f"Reference pool not available: {reason}.")
    if not best.tpr[FPRS[0]]["resolved"]:
        notes.append(f"Fewer than 1,000 holdout customers in a split: the low-FPR check is judged "
                     f"at {pct(best.tpr[FPRS[0]]['alpha'])} FPR, the smallest it can resolve, "
                     "instead of 0.1%, on the ratio TPR/FPR.")
    if pre is not None:
        h = pre.holdout
        why = {"distinguisher": "the files differ", "attack below chance":
               "the strongest attack reads the holdout as the members"}.get(pre.cause, "")
        notes.append(f"Precondition, a holdout drawn like the training rows: a classifier "
                     f"without the model tells the files apart with AUC {h.auc:.3f} (interval "
                     f"{h.ci[0]:.3f} to {h.ci[1]:.3f}; the precondition fails when the interval "
                     f"lies wholly above {h.bound:g}, or when the strongest attack's AUC "
                     "interval lies wholly below 0.5). "
                     + ("Met." if pre.met else f"Not met ({why}). {pre.remedy}"))
    return notes


def memorisation_statement(share, canary, canary_reason, k, *, floor: float, bound: float,
                           severity) -> str:
    lo, hi = share.ci
    parts = [f"{pct(share.value)} of the customers (interval {pct(lo)} to {pct(hi)}) are "
             f"highly memorised: the training recipe predicts their recorded label when they are "
             f"in its training data and gets it wrong when they are not (estimated from {k} "
             f"re-trained models). By chance alone, with the models' IN/OUT labels shuffled, "
             f"{pct(floor)} would be (the noise floor); the bound is {pct(bound)}, one point "
             "above it."]
    if severity is Severity.ATTENTION:
        parts.append("The share lies above the floor and may reach the bound: the recipe learns "
                     "some customers by heart.")
    elif severity is Severity.PASS:
        parts.append("The share is within a point of the noise floor: no memorisation beyond "
                     "chance is shown.")
    elif severity is Severity.INCONCLUSIVE:
        parts.append("The interval reaches past the bound without lying above the floor: these "
                     "records cannot tell.")
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


def memorisation_interpretation(value: float, floor: float, severity, *, level: float) -> str:
    """What the memorisation result means, in a board member's words."""
    if severity is Severity.NOT_ASSESSED:
        return ("Not assessed: the holdout is not drawn like the training rows (see the "
                "membership finding), so memorisation is shown but not judged.")
    excess = max(value - floor, 0.0)
    head = (f"{pct(value)} of the customers are learned by heart (memorisation at least "
            f"{level:g}), against {pct(floor)} expected by chance alone")
    if severity is Severity.ATTENTION:
        return (head + f": about {pct(excess)} of customers are remembered individually, so "
                "the model can repeat their recorded outcome even where the rest of the data "
                "says otherwise (mislabelled or unusual customers).")
    if severity is Severity.PASS:
        return head + ": no customer is remembered individually beyond chance."
    return head + ": these records cannot tell whether any are remembered beyond chance."
