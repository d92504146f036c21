"""The precondition of membership inference and memorisation: a holdout drawn like the training
rows.

Every membership attack, and the memorisation judged beside it, compares how a model treats its
training rows (members) with rows it never saw (non-members); the comparison measures the model
only when the non-members are drawn like the members (exchangeable). THRESHOLDS.md names two
signs that they are not, checked before any result is judged:

1. A distinguisher that sees no model (the model's inputs and the label, cross-fitted) tells the
   two files apart: its AUC interval lies wholly above ``holdout.exchangeability`` (0.55). This is
   the classifier two-sample test of Lopez-Paz and Oquab 2017 (adversarial validation), shared with
   the performance probe (:mod:`audits.core.exchangeability`).
2. The strongest attack, chosen on the selection records before anything is judged
   (:func:`attacks.mia_metrics.choose_strongest`), has an AUC interval wholly below 0.5 on the
   reporting records: it scores the holdout customers as more likely training customers than the
   training customers themselves. Training cannot make a model less confident on its own rows
   than on unseen rows of the same population; drift between the files can (a time-ordered bank
   telemarketing holdout gave 0.24, METHODS.md).

When either holds, the checks are not assessed (not passed, not failed): the results are shown,
the reason and the remedy (draw the holdout at random from the training period) are stated.
"""

from __future__ import annotations

from dataclasses import dataclass

from attacks.membership import ATTACK_LABELS
from attacks.mia_metrics import AttackSummary, summarise_attack
from attacks.record_risk import shared_scores
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.exchangeability import REMEDY, ExchangeabilityResult, exchangeability
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["Precondition", "attack_summary", "membership_precondition", "REMEDY"]


def attack_summary(subject: AuditSubject, config: AuditConfig, mode: str, attack: str, *,
                   cache: RunCache | None = None) -> AttackSummary:
    """One attack's summary in one mode on the reporting records (once per run)."""
    def compute():
        scores = shared_scores(subject, config, cache=cache)
        return summarise_attack(
            scores.modes[mode], attack, n_boot=config.n_bootstrap, confidence=config.confidence,
            random_state=derive_seed(subject.seed, "membership", mode, attack),
            member_share=config.member_share)
    return shared(cache, ("attack_summary", config.profile_hash, mode, attack), compute)


@dataclass(frozen=True)
class Precondition:
    """Whether the membership and memorisation checks may be judged, and why not.

    ``reason`` is None when the precondition holds, else the plain-language reason; ``cause`` is
    ``"distinguisher"`` or ``"attack below chance"`` (or None).
    """

    holdout: ExchangeabilityResult
    strongest: str
    strongest_auc: float
    strongest_ci: tuple
    reason: str | None
    cause: str | None

    @property
    def met(self) -> bool:
        return self.reason is None

    @property
    def remedy(self) -> str:
        return REMEDY


def membership_precondition(subject: AuditSubject, config: AuditConfig, *,
                            cache: RunCache | None = None) -> Precondition:
    """Check the precondition (see the module docstring); shared by both probes of a run."""
    holdout = exchangeability(subject, config, cache=cache)
    scores = shared_scores(subject, config, cache=cache)
    best = attack_summary(subject, config, "model", scores.strongest, cache=cache)
    lo, hi = best.auc_ci
    reason, cause = None, None
    if holdout.differs:
        cause = "distinguisher"
        reason = (holdout.statement() + " Membership inference and memorisation compare how the "
                  "model treats the two files, so here they would measure that difference, not "
                  "what the model learned about its training customers.")
    elif hi is not None and hi < 0.5:
        cause = "attack below chance"
        reason = (f"The strongest attack ({ATTACK_LABELS[best.attack]}, chosen on the selection "
                  f"records) scores the holdout customers as more likely training customers than "
                  f"the training customers themselves: AUC {best.auc:.3f} (interval {lo:.3f} to "
                  f"{hi:.3f}, wholly below 0.5). Training does not make a model less sure of its "
                  "own rows; a holdout drawn differently from the training rows (a time-based "
                  "split, another source) does, and drift the other way would read as a leak.")
    return Precondition(holdout=holdout, strongest=best.attack, strongest_auc=best.auc,
                        strongest_ci=best.auc_ci, reason=reason, cause=cause)
