"""Empirical lower bounds on the differential-privacy epsilon that the training must have spent.

Two bounds, each shown beside its *ceiling*, the largest epsilon the number of guesses could
certify even if every guess were right (few guesses certify little; a small bound with a small
ceiling says nothing).

1. Threshold bound (Kairouz, Oh and Viswanath 2015; Jagielski, Ullman and Oprea 2020, "Auditing
   Differentially Private Machine Learning", NeurIPS): an (epsilon, 0)-DP training makes every
   membership test satisfy TPR <= e^epsilon FPR, so epsilon >= log(TPR_low / FPR_high), with
   one-sided Clopper-Pearson bounds at level 1 - (1 - confidence) / 2 each (a union bound: the
   pair holds with the stated confidence). The threshold *and* the FPR level it targets are fixed
   on the selection records, before the reporting records are looked at: taking the best of many
   thresholds on the same data (as TF Privacy does) is not a valid bound.
2. One-run audit (Steinke, Nasr and Jagielski 2023, "Privacy Auditing with One (1) Training Run",
   NeurIPS, Theorem 3.1 and the algorithm of its Appendix D): m canaries, each included in the
   training data independently with probability 1/2; the auditor makes r guesses (abstaining on
   the rest), v of them right. Under (epsilon, delta)-DP,
   P[W >= v] <= P[Binomial(r, q) >= v] + 2 m delta max_i (P[v > Binomial(r, q) >= v - i] / i),
   q = e^epsilon / (1 + e^epsilon); the bound is the largest epsilon whose p-value stays below
   1 - confidence (binary search). Reference values (tests): (m, r, v, delta) = (1000, 1000, 1000,
   0) -> 5.8091; (100, 100, 90, 0) -> 1.6308.

Yeom et al. 2018 relate the same quantity to an attack's advantage: epsilon-DP gives advantage at
most e^epsilon - 1.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from attacks.mia_metrics import threshold_at_fpr
from attacks.pool import REPORTING, SELECTION

__all__ = ["one_run_p_value", "one_run_epsilon", "one_run_ceiling", "threshold_epsilon",
           "threshold_ceiling", "attack_epsilon", "FPR_LEVELS"]

FPR_LEVELS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_SEARCH_STEPS = 60


def one_run_p_value(m: int, r: int, v: int, epsilon: float, delta: float = 0.0) -> float:
    """P-value of v or more correct guesses out of r under (epsilon, delta)-DP (m canaries)."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"Need 0 <= v <= r <= m; got m={m}, r={r}, v={v}.")
    if epsilon < 0 or not 0 <= delta <= 1:
        raise ValueError(f"Need epsilon >= 0 and 0 <= delta <= 1; got {epsilon}, {delta}.")
    q = 1.0 / (1.0 + math.exp(-epsilon))
    beta = float(stats.binom.sf(v - 1, r, q))
    alpha = 0.0
    if delta > 0 and v > 0:
        pmf = stats.binom.pmf(np.arange(v - 1, -1, -1), r, q)  # P[B = v - i], i = 1..v
        alpha = float(np.max(np.cumsum(pmf) / np.arange(1, v + 1)))
    return min(beta + alpha * delta * 2 * m, 1.0)


def one_run_epsilon(m: int, r: int, v: int, *, delta: float = 0.0,
                    confidence: float = 0.95) -> float:
    """Steinke-Nasr-Jagielski lower bound on epsilon: with the given confidence the training is
    not (epsilon, delta)-DP for any smaller epsilon. 0 when the guesses certify nothing."""
    p = 1.0 - confidence
    if one_run_p_value(m, r, v, 0.0, delta) >= p:
        return 0.0
    lo, hi = 0.0, 1.0
    while one_run_p_value(m, r, v, hi, delta) < p:
        lo, hi = hi, hi * 2
        if hi > 1e3:
            return math.inf
    for _ in range(_SEARCH_STEPS):
        mid = 0.5 * (lo + hi)
        if one_run_p_value(m, r, v, mid, delta) < p:
            lo = mid
        else:
            hi = mid
    return lo


def one_run_ceiling(m: int, r: int, *, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest one-run bound r guesses can give: all of them right."""
    return one_run_epsilon(m, r, r, delta=delta, confidence=confidence)


def _tpr_low(tp: int, n: int, level: float) -> float:
    return 0.0 if tp <= 0 else float(stats.beta.ppf(1 - level, tp, n - tp + 1))


def _fpr_high(fp: int, n: int, level: float) -> float:
    return 1.0 if fp >= n else float(stats.beta.ppf(level, fp + 1, n - fp))


def threshold_epsilon(tp: int, n_pos: int, fp: int, n_neg: int, *,
                      confidence: float = 0.95) -> float:
    """epsilon >= log(TPR_low / FPR_high) at one threshold fixed in advance (0 if below)."""
    level = 1 - (1 - confidence) / 2
    lo, hi = _tpr_low(tp, n_pos, level), _fpr_high(fp, n_neg, level)
    return max(0.0, math.log(lo / hi)) if lo > 0 else 0.0


def threshold_ceiling(n_pos: int, n_neg: int, *, confidence: float = 0.95) -> float:
    """The threshold bound of a perfect test: every member flagged, no non-member."""
    return threshold_epsilon(n_pos, n_pos, 0, n_neg, confidence=confidence)


def attack_epsilon(ms, attack: str, *, confidence: float = 0.95, levels=FPR_LEVELS) -> dict:
    """Threshold bound for one attack: the FPR level and threshold chosen on the selection
    records (largest bound there), the bound computed on the reporting records."""
    def split(role):
        cols = ms.role == role
        return ms.scores[attack][:, cols].ravel(), ms.labels[:, cols].ravel().astype(bool)

    s_sel, y_sel = split(SELECTION)
    s_rep, y_rep = split(REPORTING)
    best = (-1.0, None, None)
    for level in levels:
        if level * (~y_sel).sum() < 1:
            continue
        tau = threshold_at_fpr(s_sel[~y_sel], level)
        eps = threshold_epsilon(int((s_sel[y_sel] > tau).sum()), int(y_sel.sum()),
                                int((s_sel[~y_sel] > tau).sum()), int((~y_sel).sum()),
                                confidence=confidence)
        if eps > best[0]:
            best = (eps, level, tau)
    _, level, tau = best
    n_pos, n_neg = int(y_rep.sum()), int((~y_rep).sum())
    tp = int((s_rep[y_rep] > tau).sum()) if tau is not None else 0
    fp = int((s_rep[~y_rep] > tau).sum()) if tau is not None else 0
    return {"attack": attack, "mode": ms.mode, "fpr_level": level, "threshold": tau,
            "tp": tp, "n_pos": n_pos, "fp": fp, "n_neg": n_neg,
            "epsilon": threshold_epsilon(tp, n_pos, fp, n_neg, confidence=confidence)
            if tau is not None else 0.0,
            "ceiling": threshold_ceiling(n_pos, n_neg, confidence=confidence),
            "confidence": confidence}
