"""The membership-inference probe of the attacks layer (and the memorisation probe's entry).

``run_membership`` (probe "membership") runs the six attacks of :mod:`attacks.membership` in two
modes ("this model", which decides the findings, and "this training recipe", reported beside
it), summarises them (:mod:`attacks.mia_metrics`), picks the strongest attack on the selection
records before anything is judged, and judges that attack alone (the others are shown) against
``privacy.membership_auc`` and ``privacy.membership_tpr_low_fpr`` (TPR/FPR at 0.1% FPR, or at the
smallest FPR the rows resolve when a split holds fewer than 1,000 non-members; Carlini et al.
2022). Before judging, it checks the precondition of every membership attack
(:mod:`attacks.preconditions`: a holdout drawn like the training rows; Lopez-Paz & Oquab 2017's
classifier two-sample test); when it fails, the check is not assessed with the reason and the
remedy. It bounds the privacy loss (:mod:`attacks.epsilon`), lists the most exposed customers
(pseudonymised) and the attack's AUC per sensitive group, and reads the model for SACRO-ML's
safe-model rules (:mod:`attacks.model_checks`). The reference models are sized like the audited
model (:func:`attacks.pool.reference_size`); the report states the size used. ``run_memorisation``
(probe "memorisation", :mod:`attacks.memorisation_probe`) shares the pool and the precondition
through the run's cache. When the model cannot be cloned and refitted, the attacks that need the
pool are reported as not assessed with the reason, and LOSS and the gap attack still run.
"""

from __future__ import annotations

import numpy as np

from attacks import privacy_text as text
from attacks.epsilon import attack_epsilon
from attacks.membership import ATTACK_LABELS, ATTACK_REFERENCES, MODES
from attacks.memorisation_probe import run_memorisation
from attacks.mia_metrics import FPRS, choose_strongest, group_auc_rows, risk_level
from attacks.model_checks import small_leaves, stores_training_rows
from attacks.pool import REPORTING, effective_k
from attacks.preconditions import attack_summary, membership_precondition
from attacks.record_risk import record_risk, shared_scores
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.groups import group_codes
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["run_membership", "run_memorisation", "strongest_severity"]

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
    summaries = {(mode, a): attack_summary(subject, config, mode, a, cache=cache)
                 for mode in modes for a in attacks}
    best = summaries[("model", strongest)]
    recipe_best = choose_strongest(modes["recipe"], attacks)[0] if pool is not None else None
    step("checking that the holdout is drawn like the training rows", 0.75)
    pre = membership_precondition(subject, config, cache=cache)

    step("judging", 0.85)
    auc_thr = config.threshold("privacy.membership_auc")
    tpr_thr = config.threshold("privacy.membership_tpr_low_fpr")
    stores = stores_training_rows(subject.model)
    eps = attack_epsilon(modes["model"], strongest, confidence=config.confidence)
    metrics = _membership_metrics(summaries, strongest, eps, config)
    metrics.append(pre.holdout.metric(config.confidence))
    low = best.tpr[FPRS[0]]
    auc_metric = next(m for m in metrics if m.name == "strongest.auc")
    ratio_metric = next(m for m in metrics if m.name == "strongest.tpr_fpr_ratio")
    if pre.met:
        level = risk_level(best, auc_bounds=(auc_thr.attention, auc_thr.fail),
                           ratio_bounds=(tpr_thr.attention, tpr_thr.fail),
                           stores_rows=bool(stores), critical_ratio=config.critical_ratio)
        severity, use_ratio = strongest_severity(best, auc_thr, tpr_thr)
        severity = _worst(severity, Severity.FAIL if stores else Severity.PASS)
        title = "Membership inference: can an attacker tell who was in the training data?"
        statement = text.strongest_statement(
            best, level, low, eps, recipe=summaries.get(("recipe", recipe_best)), reason=reason,
            confidence=config.confidence, severity=severity, member_share=config.member_share,
            bounds=(tpr_thr.attention, tpr_thr.fail, config.critical_ratio))
        action = text.membership_action(severity)
    else:
        level, use_ratio = "not assessed", False
        severity = Severity.NOT_ASSESSED  # a model storing rows fails in its own finding
        title = ("Membership inference not assessed: the holdout is not drawn like the training "
                 "rows")
        statement = text.not_assessed_statement(pre, best, confidence=config.confidence)
        action = pre.remedy
    findings = [Finding(
        id="privacy.membership_inference.strongest", severity=severity, area=AREA,
        title=title, statement=statement, action=action,
        metric=ratio_metric if use_ratio else auc_metric,
        threshold=tpr_thr if use_ratio else auc_thr)]
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
    notes = text.membership_notes(records, pool, modes, reason, best, pre)
    step("done", 1.0)
    return ProbeResult(
        probe="membership", area=AREA, metrics=tuple(metrics), tables=tuple(tables),
        findings=tuple(findings), notes=tuple(notes),
        params={"n_reference_models": effective_k(config) if pool is not None else 0,
                "n_bootstrap": config.n_bootstrap, "confidence": config.confidence,
                "member_share": config.member_share, "fprs": list(FPRS), "strongest": strongest,
                "risk_level": level, "risk_meaning": text.LEVEL_MEANING.get(level, ""),
                "interpretation": text.interpretation(level, best, pre,
                                                      member_share=config.member_share),
                "low_fpr": {"nominal": FPRS[0], "used": low["alpha"],
                            "resolved": low["resolved"], "reached": low["fpr"],
                            "ratio": low["ratio"], "ratio_ci": list(low["ratio_ci"])},
                "precondition": {"met": pre.met, "cause": pre.cause, "reason": pre.reason,
                                 "remedy": None if pre.met else pre.remedy,
                                 "distinguisher_auc": pre.holdout.auc,
                                 "distinguisher_ci": list(pre.holdout.ci),
                                 "bound": pre.holdout.bound},
                "reference_models": _replica(pool),
                "strongest_recipe": recipe_best,
                "split_sizes": records.params["sizes"],
                **{f"{mode}_{k}": v for mode, ms in modes.items() for k, v in ms.params.items()},
                **({"pool": {k: v for k, v in pool.params.items() if k != "cache"}}
                   if pool is not None else {})})


def strongest_severity(best, auc_threshold, ratio_threshold) -> tuple[Severity, bool]:
    """The strongest attack's severity: the worse of its AUC (``privacy.membership_auc``) and its
    TPR/FPR at the low FPR (``privacy.membership_tpr_low_fpr``), each judged on its interval.
    The low FPR is 0.1%, or with fewer than 1,000 non-members in a split the smallest FPR the
    rows resolve: the ratio is judged there, never skipped. Returns ``(severity, decided by the
    ratio)``."""
    low = best.tpr[FPRS[0]]
    sev_auc = judge(best.auc_ci, auc_threshold, value=best.auc)
    sev_ratio = judge(low["ratio_ci"], ratio_threshold, value=low["ratio"])
    return _worst(sev_auc, sev_ratio), sev_ratio.rank > sev_auc.rank


def _replica(pool) -> dict | None:
    """The reference models' size against the audited model's, in words and numbers."""
    if pool is None:
        return None
    p = pool.params
    rows, audited = p.get("reference_rows"), p.get("audited_rows")
    return {"rows": rows, "audited_rows": audited, "limited_by": p.get("limited_by"),
            "smaller": bool(rows is not None and audited is not None and rows < audited),
            "text": text.replica_text(p)}


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
            low = s.tpr[FPRS[0]]
            at = text.pct(low["alpha"]) + ("" if low["resolved"] else
                                           ", the smallest FPR these rows resolve")
            out += [
                Metric("strongest.tpr_fpr_ratio", low["ratio"], low["ratio_ci"],
                       label=f"True-positive rate divided by the false-positive rate, at {at}: "
                             f"{where} (1 = no better than a false alarm)",
                       method=f"TPR at the threshold fixed on the selection records for "
                              f"{text.pct(low['alpha'])} FPR, divided by that FPR; "
                              f"Clopper-Pearson ends of the TPR; FPR reached on the reporting "
                              f"records {text.pct(low['fpr'])}",
                       reference="Carlini et al. 2022", n=s.n_members),
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
                     low["fpr"], low["ratio"], low["ratio_ci"][0], low["ratio_ci"][1],
                     one["value"], one["ci"][0], one["ci"][1], s.advantage,
                     s.precision, s.n_members, s.n_nonmembers,
                     strength[a][0] if mode == "model" else None, chosen))
    return Table(
        name="attacks", title="Membership-inference attacks on the reporting records",
        columns=("mode", "attack", "label", "auc", "auc_low", "auc_high", "p_value",
                 "low_fpr_used", "tpr_low_fpr", "tpr_low_fpr_low", "tpr_low_fpr_high",
                 "fpr_reached", "tpr_fpr_ratio", "tpr_fpr_ratio_low", "tpr_fpr_ratio_high",
                 "tpr_1pct", "tpr_1pct_low", "tpr_1pct_high", "advantage",
                 "precision_at_member_share", "n_members", "n_nonmembers",
                 "selection_tpr_1pct", "strongest"),
        rows=tuple(rows),
        note="Thresholds and the strongest attack are chosen on the selection records "
             "(strongest: highest TPR at 1% FPR there, ties by AUC), before anything is judged; "
             "every number shown comes from the reporting records. Only the strongest attack "
             "on 'this model' is judged; the others are shown. low_fpr_used: 0.1%, or the "
             "smallest FPR the rows resolve; tpr_fpr_ratio: TPR divided by it.")


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
