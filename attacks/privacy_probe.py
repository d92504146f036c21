"""The privacy probes of the attacks layer: membership inference and memorisation.

``run_membership`` (probe "membership") runs the six attacks of :mod:`attacks.membership` in two
modes ("this model", which decides the findings, and "this training recipe", reported beside
it), summarises them (:mod:`attacks.mia_metrics`), picks the strongest attack on the selection
records, judges it against ``privacy.membership_auc`` and ``privacy.membership_tpr_low_fpr``,
bounds the privacy loss (:mod:`attacks.epsilon`) and lists the most exposed customers
(pseudonymised) and the attack's AUC per sensitive group. It also reads the model for SACRO-ML's
safe-model rules (:mod:`attacks.model_checks`). ``run_memorisation`` (probe "memorisation")
reports Feldman and Zhang's memorisation scores from the same pool and a canary experiment
(:mod:`attacks.memorisation`). Both share the pool through ``subject.memo``. When the model
cannot be cloned and refitted, the attacks that need the pool are reported as not assessed with
the reason, and LOSS and the gap attack still run.
"""

from __future__ import annotations

import numpy as np

from attacks import privacy_text as text
from attacks.epsilon import attack_epsilon
from attacks.membership import ATTACK_LABELS, ATTACK_REFERENCES, MODES
from attacks.memorisation import (
    canary_experiment,
    canary_summary,
    memorisation_scores,
)
from attacks.mia_metrics import (
    FPRS,
    choose_strongest,
    clopper_pearson,
    group_auc_rows,
    risk_level,
    summarise_attack,
)
from attacks.model_checks import small_leaves, stores_training_rows
from attacks.pool import REPORTING, PoolUnavailable, effective_k
from attacks.record_risk import record_risk, shared_scores
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.groups import group_codes
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["run_membership", "run_memorisation"]

AREA = "privacy"


def _step(progress):
    return (lambda msg, frac: progress(msg, frac)) if progress else (lambda msg, frac: None)


def _worst(*severities: Severity) -> Severity:
    return max(severities, key=lambda s: s.rank)


# -- membership ------------------------------------------------------------------------------

def run_membership(subject: AuditSubject, config: AuditConfig, *, progress=None,
                   cache: RunCache | None = None) -> ProbeResult:
    """Run the membership-inference probe. See the module docstring for the method."""
    step = _step(progress)
    step("preparing the records and the reference pool", 0.0)
    shared = shared_scores(subject, config, progress=progress, cache=cache)
    records, pool, reason, modes = shared.records, shared.pool, shared.reason, shared.modes
    attacks, strongest, strength = shared.attacks, shared.strongest, shared.strength
    step("summarising the attacks", 0.6)
    summaries = {(mode, a): summarise_attack(
        ms, a, n_boot=config.n_bootstrap, confidence=config.confidence,
        random_state=derive_seed(subject.seed, "membership", mode, a),
        member_share=config.member_share)
        for mode, ms in modes.items() for a in attacks}
    best = summaries[("model", strongest)]
    recipe_best = choose_strongest(modes["recipe"], attacks)[0] if pool is not None else None

    step("judging", 0.85)
    auc_thr = config.threshold("privacy.membership_auc")
    tpr_thr = config.threshold("privacy.membership_tpr_low_fpr")
    stores = stores_training_rows(subject.model)
    level = risk_level(best, auc_bounds=(auc_thr.attention, auc_thr.fail),
                       tpr_bounds=(tpr_thr.attention, tpr_thr.fail), stores_rows=bool(stores),
                       critical_tpr=config.critical_tpr)
    eps = attack_epsilon(modes["model"], strongest, confidence=config.confidence)
    metrics = _membership_metrics(summaries, strongest, eps, config)
    low = best.tpr[FPRS[0]]
    auc_metric = next(m for m in metrics if m.name == "strongest.auc")
    tpr_metric = next(m for m in metrics if m.name == "strongest.tpr_at_fpr_0p1pct")
    sev_auc = judge(best.auc_ci, auc_thr, value=best.auc)
    sev_tpr = judge(low["ci"], tpr_thr, value=low["value"]) if low["resolved"] else Severity.PASS
    severity = _worst(sev_auc, sev_tpr, Severity.FAIL if stores else Severity.PASS)
    use_tpr = sev_tpr.rank > sev_auc.rank
    findings = [Finding(
        id="privacy.membership_inference.strongest", severity=severity, area=AREA,
        title="Membership inference: can an attacker tell who was in the training data?",
        statement=text.strongest_statement(best, level, low, eps, recipe=summaries.get(
            ("recipe", recipe_best)), reason=reason, confidence=config.confidence,
            severity=severity, member_share=config.member_share),
        action=text.membership_action(severity),
        metric=tpr_metric if use_tpr else auc_metric, threshold=tpr_thr if use_tpr else auc_thr)]
    findings += _model_findings(subject, stores, config)
    if reason is not None:
        findings.append(Finding(
            id="privacy.reference_attacks.model", severity=Severity.NOT_ASSESSED, area=AREA,
            title="Reference-model attacks (LiRA, RMIA) not assessed",
            statement=f"LiRA and RMIA need the training recipe re-run on other data, and {reason}. "
                      "Only the LOSS and gap attacks ran; they need no retraining and are "
                      "weaker, so the risk may be underestimated.",
            action="Supply a model that scikit-learn can clone and refit (an estimator or "
                   "Pipeline with get_params/fit), then re-audit."))

    tables = [_attack_table(summaries, strongest, recipe_best, strength),
              _roc_table(summaries),
              _exposed_table(subject, config, strongest, cache),
              _group_table(subject, records, modes["model"], strongest, config),
              _epsilon_table(eps)]
    notes = text.membership_notes(records, pool, modes, reason, best)
    step("done", 1.0)
    return ProbeResult(
        probe="membership", area=AREA, metrics=tuple(metrics), tables=tuple(tables),
        findings=tuple(findings), notes=tuple(notes),
        params={"n_reference_models": effective_k(config) if pool is not None else 0,
                "n_bootstrap": config.n_bootstrap, "confidence": config.confidence,
                "member_share": config.member_share, "fprs": list(FPRS), "strongest": strongest,
                "risk_level": level, "risk_meaning": text.LEVEL_MEANING.get(level, ""),
                "strongest_recipe": recipe_best,
                "split_sizes": records.params["sizes"],
                **{f"{mode}_{k}": v for mode, ms in modes.items() for k, v in ms.params.items()},
                **({"pool": {k: v for k, v in pool.params.items() if k != "cache"}}
                   if pool is not None else {})})


def _membership_metrics(summaries, strongest, eps, config) -> list[Metric]:
    out = []
    conf = config.confidence
    for (mode, a), s in summaries.items():
        names = [f"{mode}.{a}"] + (["strongest"] if (mode, a) == ("model", strongest) else [])
        where = f"{ATTACK_LABELS[a]}, {MODES[mode]}"
        for name in names:
            low, one = s.tpr[FPRS[0]], s.tpr[FPRS[1]]
            n = s.n_members + s.n_nonmembers
            out += [
                Metric(f"{name}.auc", s.auc, s.auc_ci, label=f"Attack AUC: {where}",
                       method=f"Mann-Whitney AUC on the reporting records, percentile bootstrap "
                              f"({config.n_bootstrap} replicates, {text.boot_kind(mode)})",
                       reference=ATTACK_REFERENCES[a], n=n),
                Metric(f"{name}.tpr_at_fpr_0p1pct", low["value"], low["ci"],
                       label=f"True-positive rate at {text.pct(low['alpha'])} false-positive "
                             f"rate{'' if low['resolved'] else ' (smallest resolvable)'}: {where}",
                       method="threshold fixed on the selection records; Clopper-Pearson "
                              f"interval; false-positive rate reached {text.pct(low['fpr'])}",
                       reference="Carlini et al. 2022", n=s.n_members),
                Metric(f"{name}.tpr_at_fpr_1pct", one["value"], one["ci"],
                       label=f"True-positive rate at {text.pct(one['alpha'])} false-positive "
                             f"rate: {where}",
                       method="threshold fixed on the selection records; Clopper-Pearson "
                              f"interval; false-positive rate reached {text.pct(one['fpr'])}",
                       reference="Carlini et al. 2022", n=s.n_members),
                Metric(f"{name}.advantage", s.advantage, s.advantage_ci,
                       label=f"Membership advantage (TPR - FPR): {where}",
                       method="threshold maximising TPR - FPR on the selection records; "
                              "bootstrap interval on the reporting records",
                       reference="Yeom et al. 2018", n=n)]
        if (mode, a) == ("model", strongest):
            out += [
                Metric("strongest.auc_p_value", s.p_value, None,
                       label=f"p-value of the attack AUC against 0.5 (guessing): {where}",
                       method="one-sided Mann-Whitney normal approximation with tie correction",
                       reference="Mann & Whitney 1947", n=n),
                Metric("strongest.precision_at_member_share", s.precision, s.precision_ci,
                       label=f"Precision of 'member' claims when {config.member_share:.0%} "
                             "of customers are training customers, at the 0.1% FPR "
                             f"threshold: {where}",
                       method="share x TPR / (share x TPR + (1 - share) x FPR); interval from "
                              "the Clopper-Pearson ends", reference="Carlini et al. 2022")]
    out += [
        Metric("epsilon.lower_bound", eps["epsilon"], None,
               label=f"Empirical epsilon lower bound ({conf:.0%} confidence), strongest attack, "
                     "this model",
               method=f"log(TPR_low / FPR_high), Clopper-Pearson, threshold and FPR level "
                      f"{text.pct(eps['fpr_level'])} fixed on the selection records",
               reference="Jagielski et al. 2020", n=eps["n_pos"] + eps["n_neg"]),
        Metric("epsilon.ceiling", eps["ceiling"], None,
               label="Largest epsilon these records could certify (a perfect attack)",
               method="the same bound with every member flagged and no non-member",
               reference="Jagielski et al. 2020", n=eps["n_pos"] + eps["n_neg"])]
    return out


def _model_findings(subject, stores, config) -> list[Finding]:
    out = []
    if stores:
        out.append(Finding(
            id="privacy.stores_training_rows.model", severity=Severity.FAIL, area=AREA,
            title="The model stores training rows",
            statement=f"The model contains copies of training customers' data ({stores}). "
                      "Anyone who obtains the model file obtains those rows.",
            action="Do not release this model type; use a model that summarises the data (a "
                   "regularised linear model or trees with min_samples_leaf >= 5)."))
    leaves = small_leaves(subject.model, min_leaf=config.min_leaf_size)
    if leaves is not None:
        small = leaves["share_small"] > 0
        out.append(Finding(
            id="privacy.small_leaves.model",
            severity=Severity.ATTENTION if small else Severity.PASS, area=AREA,
            title="Tree leaves with fewer than 5 training rows",
            statement=text.leaves_statement(leaves),
            action=("Refit with min_samples_leaf >= 5 (SACRO-ML's safe-model rule), then "
                    "re-audit." if small else "None needed."),
            metric=Metric("model.share_small_leaves", leaves["share_small"], None,
                          label="Share of leaves with fewer than 5 training rows",
                          method="leaf sizes read from the fitted trees (bootstrap repeats "
                                 "included)", reference="SACRO-ML safe-model rules")))
    return out


def _attack_table(summaries, strongest, recipe_best, strength) -> Table:
    rows = []
    for (mode, a), s in summaries.items():
        low, one = s.tpr[FPRS[0]], s.tpr[FPRS[1]]
        chosen = (mode == "model" and a == strongest) or (mode == "recipe" and a == recipe_best)
        rows.append((MODES[mode], a, ATTACK_LABELS[a], s.auc, s.auc_ci[0], s.auc_ci[1],
                     s.p_value, low["alpha"], low["value"], low["ci"][0], low["ci"][1],
                     low["fpr"], one["value"], one["ci"][0], one["ci"][1], s.advantage,
                     s.precision, s.n_members, s.n_nonmembers,
                     strength[a][0] if mode == "model" else None, chosen))
    return Table(
        name="attacks", title="Membership-inference attacks on the reporting records",
        columns=("mode", "attack", "label", "auc", "auc_low", "auc_high", "p_value",
                 "low_fpr_used", "tpr_low_fpr", "tpr_low_fpr_low", "tpr_low_fpr_high",
                 "fpr_reached", "tpr_1pct", "tpr_1pct_low", "tpr_1pct_high", "advantage",
                 "precision_at_member_share", "n_members", "n_nonmembers",
                 "selection_tpr_1pct", "strongest"),
        rows=tuple(rows),
        note="Thresholds and the strongest attack are chosen on the selection records "
             "(strongest: highest TPR at 1% FPR there, ties by AUC); every number shown comes "
             "from the reporting records. 'this model' decides the finding.")


def _roc_table(summaries) -> Table:
    rows = [(MODES[mode], a, f, t) for (mode, a), s in summaries.items() for f, t in s.roc]
    return Table(name="roc", columns=("mode", "attack", "fpr", "tpr"), rows=tuple(rows),
                 title="ROC curves of the attacks (log-scale FPR axis)",
                 note="At most 200 points per curve, log-spaced in FPR from 1/n to 1; "
                      "reporting records.")


def _exposed_table(subject, config, strongest, cache) -> Table:
    risk = record_risk(subject, config, cache=cache)
    top = risk[risk["part"] == "training"].head(config.n_top_records)
    rows = [(rank, r.record, float(r.score), float(r.false_alarm_share),
             None if np.isnan(r.memorisation) else float(r.memorisation))
            for rank, r in enumerate(top.itertuples(index=False), 1)]
    return Table(
        name="exposed_records", columns=("rank", "record", "score", "false_alarm_share",
                                         "memorisation"),
        rows=tuple(rows), title="The training customers most exposed by the strongest attack",
        note=f"Pseudonymised ids (keyed hash). Score of {ATTACK_LABELS[strongest]}, this model; "
             "false_alarm_share: share of holdout customers who score at least as high (the "
             "false-positive rate at which an attacker would call this customer a member).")


def _field_values(subject, records, field):
    """The field's values of every pool record, in pool order, with the column's dtype."""
    import pandas as pd

    parts = [subject.frame("members" if m else "nonmembers")[field].iloc[
        records.row[records.is_member == m]] for m in (True, False)]
    return pd.concat(parts, ignore_index=True)  # pool order: members first, then non-members


def _group_table(subject, records, ms, strongest, config) -> Table:
    rep = ms.role == REPORTING
    t = records.targets
    scores, labels = ms.scores[strongest][0][rep], ms.labels[0][rep]
    rows = []
    for field in subject.sensitive_fields:
        values = _field_values(subject, records, field)[t].iloc[np.flatnonzero(rep)]
        codes, levels = group_codes(values, age_bands=config.age_bands)
        for row in group_auc_rows(scores, labels, codes, levels,
                                  min_group_size=config.min_group_size,
                                  n_boot=config.n_bootstrap, confidence=config.confidence,
                                  random_state=derive_seed(subject.seed, "membership", field)):
            g, n_m, n_n, *rest = row
            hide = config.suppress_below
            rows.append((field, g, n_m if n_m >= hide else None, n_n if n_n >= hide else None,
                         *rest))
    return Table(
        name="groups", columns=("field", "group", "n_members", "n_nonmembers", "auc", "auc_low",
                                "auc_high", "status"), rows=tuple(rows),
        title="Strongest attack's AUC per sensitive group (this model, reporting records)",
        note=f"Groups with fewer than {config.min_group_size} members or non-members are not "
             f"assessed; counts under {config.suppress_below} are not printed.")


def _epsilon_table(eps) -> Table:
    return Table(
        name="epsilon", columns=("method", "attack", "fpr_level", "tp", "n_members", "fp",
                                 "n_nonmembers", "epsilon_lower_bound", "ceiling"),
        rows=(("threshold (Clopper-Pearson)", eps["attack"], eps["fpr_level"], eps["tp"],
               eps["n_pos"], eps["fp"], eps["n_neg"], eps["epsilon"], eps["ceiling"]),),
        title="Empirical lower bound on the privacy loss epsilon (this model)",
        note=f"{eps['confidence']:.0%} confidence; the ceiling is the largest bound these "
             "records could give. Counts of flagged customers are shown as computed.")


# -- memorisation ----------------------------------------------------------------------------

def run_memorisation(subject: AuditSubject, config: AuditConfig, *,
                     progress=None, cache: RunCache | None = None) -> ProbeResult:
    """Run the memorisation probe. See the module docstring for the method."""
    step = _step(progress)
    step("preparing the reference pool", 0.0)
    shared = shared_scores(subject, config, progress=progress, cache=cache)
    records, pool, reason = shared.records, shared.pool, shared.reason
    if pool is None:
        return ProbeResult(
            probe="memorisation", area=AREA, status="not_assessed",
            findings=(Finding(
                id="privacy.memorisation.records", severity=Severity.NOT_ASSESSED, area=AREA,
                title="Memorisation not assessed",
                statement=f"Memorisation needs the training recipe re-run, and {reason}.",
                action="Supply a model that scikit-learn can clone and refit, then re-audit."),),
            notes=(f"Not assessed: {reason}.",))
    threshold = config.threshold("privacy.memorisation_share")
    mem, soft = memorisation_scores(pool)
    t = records.targets
    member = records.is_member[t]
    high = mem > config.memorisation_level
    n, x = int(mem.size), int(high.sum())
    share_ci = clopper_pearson(x, n, config.confidence)
    share = Metric("memorisation.share_high", x / n, share_ci,
                   label=f"Share of customers highly memorised (mem > {config.memorisation_level})",
                   method=f"Feldman-Zhang memorisation from {pool.k} reference models "
                          "(K/2 IN, K/2 OUT per record); Clopper-Pearson interval",
                   reference="Feldman & Zhang 2020", n=n)
    xm = int(high[member].sum())
    metrics = [share,
               Metric("memorisation.share_high_members", xm / max(member.sum(), 1),
                      clopper_pearson(xm, int(member.sum()), config.confidence),
                      label="Share of the training customers highly memorised",
                      method="as above, training customers only",
                      reference="Feldman & Zhang 2020", n=int(member.sum())),
               Metric("memorisation.mean", float(mem.mean()), None,
                      label="Mean memorisation score", reference="Feldman & Zhang 2020", n=n)]
    step("canary experiment", 0.5)
    canary, canary_reason = None, None
    try:
        canary = canary_summary(canary_experiment(subject, config, cache=cache),
                                n_boot=config.n_bootstrap, confidence=config.confidence,
                                random_state=derive_seed(subject.seed, "memorisation", "boot"))
    except PoolUnavailable as e:
        canary_reason = str(e)
    if canary is not None:
        metrics += [
            Metric("canary.mean_exposure", canary["mean_exposure"], None,
                   label=f"Mean exposure of inserted canaries (at most "
                         f"{canary['max_exposure']:.2f} bits)",
                   method="log2(candidates) - log2(rank) against canaries never inserted",
                   reference="Carlini et al. 2019", n=canary["n_canaries"]),
            Metric("canary.auc", canary["auc"], canary["auc_ci"],
                   label="AUC of inserted against never-inserted canaries",
                   method=f"percentile bootstrap ({config.n_bootstrap} replicates); "
                          f"one-sided Mann-Whitney p = {canary['p_value']:.3g}",
                   reference="Carlini et al. 2019", n=canary["n_canaries"]),
            Metric("canary.epsilon_one_run", canary["epsilon"], None,
                   label=f"One-run epsilon lower bound ({config.confidence:.0%} confidence, "
                         "delta = 0)",
                   method=f"{canary['correct']} of {canary['guesses']} guesses right on "
                          f"{canary['n_canaries']} canaries",
                   reference="Steinke, Nasr & Jagielski 2023", n=canary["n_canaries"]),
            Metric("canary.epsilon_ceiling", canary["epsilon_ceiling"], None,
                   label="Largest one-run epsilon these guesses could certify (all right)",
                   reference="Steinke, Nasr & Jagielski 2023", n=canary["n_canaries"])]
    severity = judge(share_ci, threshold, value=share.value)
    finding = Finding(
        id="privacy.memorisation.records", severity=severity, area=AREA,
        title="Memorisation of individual customers",
        statement=text.memorisation_statement(share, canary, canary_reason, pool.k),
        action=("Regularise the model (larger leaves, shallower trees, stronger penalty) or "
                "remove duplicated and mislabelled rows, then re-audit."
                if severity is not Severity.PASS else "None needed."),
        metric=share, threshold=threshold)
    ids = records.ids(subject)[t]
    order = np.lexsort((-soft, -mem))[:config.n_top_records]
    top = Table(
        name="memorised_records", columns=("rank", "record", "part", "memorisation", "soft"),
        rows=tuple((r, ids[i], "training" if member[i] else "holdout", float(mem[i]),
                    float(soft[i])) for r, i in enumerate(order, 1)),
        title="The most memorised customers",
        note="Pseudonymised ids. memorisation: correctness when trained on minus when not; "
             "soft: the same with the probability of the true label (breaks ties).")
    values, counts = np.unique(np.round(mem, 6), return_counts=True)
    hist = Table(name="memorisation_distribution", columns=("memorisation", "n_records"),
                 rows=tuple((float(v), int(c) if c >= config.suppress_below else None)
                            for v, c in zip(values, counts)),
                 title="Distribution of memorisation scores",
                 note=f"Counts under {config.suppress_below} are not printed.")
    tables = [top, hist]
    if canary is not None:
        tables.append(Table(
            name="canaries", columns=("n_canaries", "n_inserted", "mean_exposure",
                                      "max_exposure", "auc", "auc_low", "auc_high", "guesses",
                                      "correct", "epsilon_one_run", "epsilon_ceiling"),
            rows=((canary["n_canaries"], canary["n_inserted"], canary["mean_exposure"],
                   canary["max_exposure"], canary["auc"], *canary["auc_ci"], canary["guesses"],
                   canary["correct"], canary["epsilon"], canary["epsilon_ceiling"]),),
            title="Canary experiment (synthetic customers inserted at random)"))
    step("done", 1.0)
    notes = [f"{pool.k} reference models, each trained on about half of "
             f"{int(t.sum())} customers."]
    if canary_reason:
        notes.append(f"Canary experiment not run: {canary_reason}.")
    return ProbeResult(probe="memorisation", area=AREA, metrics=tuple(metrics),
                       tables=tuple(tables), findings=(finding,), notes=tuple(notes),
                       params={"n_reference_models": pool.k,
                               "high_memorisation": config.memorisation_level,
                               "n_bootstrap": config.n_bootstrap,
                               "confidence": config.confidence,
                               **({"canaries": canary_experiment(
                                   subject, config, cache=cache).params}
                                  if canary is not None else {})})
