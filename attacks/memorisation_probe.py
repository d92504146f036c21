"""The memorisation probe: which customers does the training recipe learn by heart, beyond chance?

``run_memorisation`` (probe "memorisation") reports Feldman and Zhang's memorisation scores
(Feldman & Zhang 2020) from the shared reference pool (:mod:`attacks.pool`) and the canary
experiment (Carlini et al. 2019; Steinke, Nasr & Jagielski 2023), as :mod:`attacks.memorisation`
computes them. The share of customers with mem >= ``config.memorisation_level`` (0.75) is judged
against its noise floor, the same share once the pool's IN/OUT labels are shuffled
(:func:`attacks.memorisation.noise_floor`): "no effect" is the floor, the attention bound the floor
plus the profile's ``privacy.memorisation_share`` bound (1 point), on the share's Clopper-Pearson
interval (THRESHOLDS.md). Like membership inference it assumes a holdout drawn like the training
rows (:mod:`attacks.preconditions`); when that fails, the finding is not assessed with the reason
and the remedy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attacks import privacy_text as text
from attacks.memorisation import (
    canary_experiment,
    canary_summary,
    memorisation_scores,
    noise_floor,
)
from attacks.mia_metrics import clopper_pearson
from attacks.pool import PoolUnavailable
from attacks.preconditions import membership_precondition
from attacks.record_risk import shared_scores
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["run_memorisation", "highly_memorised"]

AREA = "privacy"
_REF = "Feldman & Zhang 2020"


def highly_memorised(mem: np.ndarray, level: float) -> np.ndarray:
    """mem >= level (with a tolerance for the floating-point means of 0/1 correctness)."""
    return np.asarray(mem) >= level - 1e-9


def _not_run(reason: str) -> ProbeResult:
    return ProbeResult(
        probe="memorisation", area=AREA, status="not_assessed",
        findings=(Finding(
            id="privacy.memorisation.records", severity=Severity.NOT_ASSESSED, area=AREA,
            title="Memorisation not assessed",
            statement=f"Memorisation needs the training recipe re-run, and {reason}.",
            action="Supply a model that scikit-learn can clone and refit, then re-audit."),),
        notes=(f"Not assessed: {reason}.",))


def run_memorisation(subject: AuditSubject, config: AuditConfig, *,
                     progress=None, cache: RunCache | None = None) -> ProbeResult:
    """Run the memorisation probe. See the module docstring for the method."""
    def step(msg, frac):
        return progress(msg, frac) if progress else None

    step("preparing the reference pool", 0.0)
    scores = shared_scores(subject, config, progress=progress, cache=cache)
    records, pool = scores.records, scores.pool
    if pool is None:
        return _not_run(scores.reason)
    level = config.memorisation_level
    mem, soft = memorisation_scores(pool)
    t = records.targets
    member = records.is_member[t]
    high = highly_memorised(mem, level)
    n, x = int(mem.size), int(high.sum())
    floor, floor_se = shared(cache, ("memorisation_floor", config.profile_hash),
                             lambda: noise_floor(pool, level=level,
                                                 n_shuffles=config.memorisation_shuffles,
                                                 random_state=derive_seed(subject.seed,
                                                                          "memorisation",
                                                                          "floor")))
    share_ci = clopper_pearson(x, n, config.confidence)
    share = Metric("memorisation.share_high", x / n, share_ci,
                   label=f"Share of customers highly memorised (mem >= {level:g})",
                   method=f"Feldman-Zhang memorisation from {pool.k} reference models (each record "
                          f"IN for {text.in_models(pool)} of them); Clopper-Pearson interval; "
                          f"judged against the noise floor {text.pct(floor)}",
                   reference=_REF, n=n)
    xm = int(high[member].sum())
    metrics = [share,
               Metric("memorisation.noise_floor", floor, None, n=n, reference=_REF,
                      label="Noise floor: the same share with the IN/OUT labels shuffled",
                      method=f"mean over {config.memorisation_shuffles} shuffles of each "
                             f"record's IN/OUT labels among its {pool.k} models (IN count "
                             f"kept); Monte Carlo standard error {floor_se:.2g}"),
               Metric("memorisation.excess", x / n - floor,
                      (share_ci[0] - floor, share_ci[1] - floor), n=n, reference=_REF,
                      label="Share highly memorised above the noise floor",
                      method="share minus floor; the share's interval shifted by the floor"),
               Metric("memorisation.share_high_members", xm / max(member.sum(), 1),
                      clopper_pearson(xm, int(member.sum()), config.confidence),
                      label="Share of the training customers highly memorised",
                      method="as above, training customers only", reference=_REF,
                      n=int(member.sum())),
               Metric("memorisation.mean", float(mem.mean()), None,
                      label="Mean memorisation score", reference=_REF, n=n)]
    step("canary experiment", 0.5)
    canary, canary_reason = None, None
    try:
        canary = canary_summary(canary_experiment(subject, config, cache=cache),
                                n_boot=config.n_bootstrap, confidence=config.confidence,
                                random_state=derive_seed(subject.seed, "memorisation", "boot"))
    except PoolUnavailable as e:
        canary_reason = str(e)
    if canary is not None:
        metrics += _canary_metrics(canary, config)
    step("checking that the holdout is drawn like the training rows", 0.8)
    pre = membership_precondition(subject, config, cache=cache)
    base = config.threshold("privacy.memorisation_share")
    threshold = dataclasses.replace(
        base, no_effect=floor, attention=floor + base.attention,
        description=f"{base.description} (this audit's floor {text.pct(floor)}; bound floor + "
                    f"{text.pct(base.attention)})")
    if pre.met:
        severity = judge(share_ci, threshold, value=share.value)
        statement = text.memorisation_statement(share, canary, canary_reason, pool.k,
                                                floor=floor, bound=threshold.attention,
                                                severity=severity)
        action = ("Regularise the model (larger leaves, shallower trees, stronger penalty) or "
                  "remove duplicated and mislabelled rows, then re-audit."
                  if severity in (Severity.ATTENTION, Severity.FAIL) else
                  "More rows would settle it." if severity is Severity.INCONCLUSIVE
                  else "None needed.")
        title = "Memorisation of individual customers"
    else:
        severity = Severity.NOT_ASSESSED
        statement = (f"{pre.reason} The memorisation scores are shown but not judged: "
                     f"{text.pct(share.value)} of the customers have mem >= {level:g} against a "
                     f"noise floor of {text.pct(floor)}.")
        action, title = pre.remedy, ("Memorisation not assessed: the holdout is not drawn like "
                                     "the training rows")
    finding = Finding(id="privacy.memorisation.records", severity=severity, area=AREA,
                      title=title, statement=statement, action=action, metric=share,
                      threshold=threshold)
    tables = _tables(subject, records, mem, soft, member, config)
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
    notes = [f"{pool.k} reference models, each trained on about "
             f"{pool.params.get('reference_rows', 0):,} of {int(t.sum()):,} customers (each "
             f"record IN for {text.in_models(pool)} of them). {text.replica_text(pool.params)}",
             f"Noise floor {text.pct(floor)}: the share with mem >= {level:g} after shuffling "
             f"the IN/OUT labels {config.memorisation_shuffles} times."]
    if canary_reason:
        notes.append(f"Canary experiment not run: {canary_reason}.")
    return ProbeResult(
        probe="memorisation", area=AREA, metrics=tuple(metrics), tables=tuple(tables),
        findings=(finding,), notes=tuple(notes),
        params={"n_reference_models": pool.k, "high_memorisation": level,
                "noise_floor": floor, "noise_floor_se": floor_se,
                "attention_bound": threshold.attention, "n_bootstrap": config.n_bootstrap,
                "confidence": config.confidence,
                "precondition": {"met": pre.met, "cause": pre.cause, "reason": pre.reason,
                                 "remedy": None if pre.met else pre.remedy},
                "interpretation": text.memorisation_interpretation(
                    share.value, floor, severity, level=level),
                "reference_rows": pool.params.get("reference_rows"),
                "audited_rows": pool.params.get("audited_rows"),
                **({"canaries": canary_experiment(subject, config, cache=cache).params}
                   if canary is not None else {})})


def _canary_metrics(canary: dict, config: AuditConfig) -> list[Metric]:
    return [
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


def _tables(subject, records, mem, soft, member, config) -> list[Table]:
    ids = records.ids(subject)[records.targets]
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
    return [top, hist]
