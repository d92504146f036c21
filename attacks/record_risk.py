"""Per-record risk: how exposed is each customer, and how much does the recipe memorise them?

Shared by the membership and memorisation probes and by any front end that looks a customer up.
For every target record of the reference pool (:mod:`attacks.pool`): the score of the strongest
membership-inference attack against the audited model ("this model" mode, chosen on the
selection records as in :mod:`attacks.mia_metrics`), its *false-alarm share* (the share of
holdout customers who score at least as high: the false-positive rate at which an attacker
would call this customer a member; Carlini et al. 2022 judge attacks by exactly this low-FPR
region), its percentile among the training customers, and its Feldman-Zhang memorisation
(Feldman and Zhang 2020) when the pool exists. Records are named only by pseudonyms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attacks.membership import ATTACKS, attack_scores
from attacks.memorisation import memorisation_scores
from attacks.mia_metrics import choose_strongest
from attacks.pool import (
    MembershipRecords,
    PoolUnavailable,
    ReferencePool,
    membership_records,
)
from attacks.pool_cache import get_pool
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.subject import AuditSubject

__all__ = ["SharedScores", "shared_scores", "record_risk"]


@dataclass(frozen=True, eq=False)
class SharedScores:
    """The attacks' scores of one audit, computed once: ``modes["model"]`` always,
    ``modes["recipe"]`` when the pool exists; ``reason`` says why it does not."""

    records: MembershipRecords
    pool: ReferencePool | None
    reason: str | None
    modes: dict
    attacks: tuple
    strongest: str
    strength: dict


def shared_scores(subject: AuditSubject, config: AuditConfig, *, progress=None,
                  cache: RunCache | None = None) -> SharedScores:
    """Records, pool and every attack's scores in both modes (once per run)."""
    def compute():
        records = membership_records(subject, config, cache=cache)
        try:
            pool, reason = get_pool(subject, config, cache=cache, progress=progress), None
        except PoolUnavailable as e:
            pool, reason = None, str(e)
        modes = {"model": attack_scores(records, pool, "model")}
        if pool is not None:
            modes["recipe"] = attack_scores(records, pool, "recipe")
        attacks = ATTACKS if pool is not None else ("loss", "gap")
        strongest, strength = choose_strongest(modes["model"], attacks)
        return SharedScores(records, pool, reason, modes, attacks, strongest, strength)
    return shared(cache, ("membership_scores", config.profile_hash), compute)


def record_risk(subject: AuditSubject, config: AuditConfig, *,
                cache: RunCache | None = None) -> pd.DataFrame:
    """One row per target record, sorted from most to least exposed.

    Columns: ``record`` (pseudonym), ``part`` ("training" or "holdout"), ``score`` (strongest
    attack, this model), ``false_alarm_share`` (share of holdout target records scoring at least
    as high), ``member_percentile`` (share of training customers scoring lower), ``memorisation``
    and ``memorisation_soft`` (NaN without a pool).
    """
    scores = shared_scores(subject, config, cache=cache)
    records = scores.records
    t = records.targets
    score = scores.modes["model"].scores[scores.strongest][0]
    member = records.is_member[t]
    nonm, mem_sorted = np.sort(score[~member]), np.sort(score[member])
    false_alarm = (nonm.size - np.searchsorted(nonm, score, side="left")) / max(nonm.size, 1)
    percentile = np.searchsorted(mem_sorted, score, side="left") / max(mem_sorted.size, 1)
    if scores.pool is not None:
        mem, soft = memorisation_scores(scores.pool)
    else:
        mem = soft = np.full(score.size, np.nan)
    frame = pd.DataFrame({
        "record": records.ids(subject)[t], "part": np.where(member, "training", "holdout"),
        "score": score, "false_alarm_share": false_alarm, "member_percentile": percentile,
        "memorisation": mem, "memorisation_soft": soft})
    return frame.sort_values(["score"], ascending=False, kind="stable").reset_index(drop=True)
