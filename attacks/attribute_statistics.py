"""Step 2 of the attribute-inference probe (:mod:`attacks.attribute_inference`): the attacks'
scores as statistics with bootstrap replicates.

AUC of the probability of the true group (the mean of the one-vs-rest AUCs beyond two groups)
and balanced accuracy of the top guess (argmax posterior / prior, the rule that maximises it),
each for every replicate of a percentile bootstrap. Within a part (members, non-members) every
attack and the no-model baseline share their replicate weights, so an attack's advantage over the
baseline is a paired difference (Efron and Tibshirani 1993, "An Introduction to the
Bootstrap"); the two parts are resampled independently, so the member gap (the advantage on
members minus on non-members) differences independent replicates (Jayaraman and Evans 2022).
"""

from __future__ import annotations

import numpy as np

from audits.core.bootstrap import bootstrap_weights, weighted_auc
from audits.core.seeds import derive_seed
from audits.core.subject import PARTS

__all__ = ["attack_statistics", "member_gap"]


def _auc(codes: np.ndarray, P: np.ndarray, W: np.ndarray) -> np.ndarray:
    """AUC (two groups) or macro one-vs-rest AUC, for each row of the weights ``W``."""
    G = P.shape[1]
    if G == 2:
        return weighted_auc((codes == 1).astype(np.int8), P[:, 1], W)
    per = [weighted_auc((codes == g).astype(np.int8), P[:, g], W) for g in range(G)
           if (codes == g).any()]
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.vstack(per), axis=0)


def _hits(codes: np.ndarray, P: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Indicator (n, groups) of a correct top guess, the guess being argmax posterior / prior
    (the rule that maximises balanced accuracy)."""
    guess = np.argmax(P / prior[None, :], axis=1)
    return (codes[:, None] == np.arange(P.shape[1])[None, :]) & (guess == codes)[:, None]


def _balanced_accuracy(hits: np.ndarray, onehot: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Mean recall over the groups present, for each row of the weights ``W``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = (W @ hits) / (W @ onehot)
    return np.nanmean(np.where(np.isfinite(recall), recall, np.nan), axis=1)


def attack_statistics(signals: dict, *, n_boot: int, seed: int) -> dict:
    """Step 2: point values and bootstrap replicates of AUC and balanced accuracy.

    Returns ``stats[attack][part][metric] -> (point, replicates)``. Within a part every attack
    uses the same replicate weights, so attack minus baseline is a paired difference; the two
    parts are resampled independently.
    """
    from threadpoolctl import threadpool_limits

    attacks = list(signals["proba"])
    stats: dict = {a: {} for a in attacks}
    for part in PARTS:
        codes = signals["codes"][part]
        n, G = len(codes), len(signals["levels"])
        onehot = (codes[:, None] == np.arange(G)[None, :]).astype(float)
        P = {a: signals["proba"][a][part] for a in attacks}
        hits = {a: _hits(codes, P[a], signals["prior"]).astype(float) for a in attacks}
        reps: dict = {a: {"auc": [], "balanced_accuracy": []} for a in attacks}
        rng = np.random.default_rng(derive_seed(seed, part))
        with threadpool_limits(1):  # small matrix products: threads only contend
            for W in bootstrap_weights(n, n_boot, rng):
                for a in attacks:
                    reps[a]["auc"].append(_auc(codes, P[a], W))
                    reps[a]["balanced_accuracy"].append(_balanced_accuracy(hits[a], onehot, W))
            ones = np.ones((1, n))
            for a in attacks:
                stats[a][part] = {
                    "auc": (float(_auc(codes, P[a], ones)[0]), np.concatenate(reps[a]["auc"])),
                    "balanced_accuracy": (float(_balanced_accuracy(hits[a], onehot, ones)[0]),
                                          np.concatenate(reps[a]["balanced_accuracy"]))}
    return stats


def member_gap(stats: dict, attack: str) -> tuple[float, np.ndarray]:
    """(point, replicates) of the member gap: the attack's AUC advantage over the no-model
    baseline on members minus the same advantage on non-members. Within a part the attack and
    the baseline share their replicate weights (paired); the parts are independent."""
    adv = {p: (stats[attack][p]["auc"][0] - stats["baseline"][p]["auc"][0],
               stats[attack][p]["auc"][1] - stats["baseline"][p]["auc"][1]) for p in PARTS}
    return (adv["members"][0] - adv["nonmembers"][0],
            adv["members"][1] - adv["nonmembers"][1])
