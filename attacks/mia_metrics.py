"""How strong is a membership-inference attack? Summaries that survive scrutiny.

Following Carlini et al. 2022 ("Membership Inference Attacks From First Principles", IEEE S&P:
judge attacks by their true-positive rate at low false-positive rates, on a log-scale ROC) and
Yeom et al. 2018 (advantage = TPR - FPR). For one attack in one mode, on the *reporting* records:

- AUC (Mann-Whitney, ties one half) with a percentile bootstrap interval; the bootstrap resamples
  records, within members and within non-members in the ``model`` mode, and whole records (all K
  targets' scores of a record together, a cluster bootstrap) in the ``recipe`` mode. p-value
  against 0.5: one-sided Mann-Whitney normal approximation (with tie correction) in the model
  mode; in the recipe mode a normal approximation with the cluster-bootstrap standard error.
- TPR at 0.1% and 1% FPR: the threshold is fixed on the *selection* non-members (the score that
  at most floor(alpha n) of them exceed; flag "member" when the score is strictly above it), then
  TPR and the FPR actually reached are counted on the reporting records, each with a two-sided
  Clopper-Pearson interval. With fewer than 1/alpha non-members in either part, alpha cannot be
  resolved: the smallest resolvable FPR, 1/n, is used instead and the summary says so
  (``resolved`` False). Tied scores at the threshold are never split at random, which is
  conservative (the LOSS attack on a fully grown forest, whose members tie at p = 1, gets TPR 0).
  The check at the low FPR is judged on the ratio TPR / FPR (its "no effect" is 1: an attack
  that flags members no more often than non-members), with the FPR the level the threshold was
  fixed for (0.1%, or the smallest resolvable one) and the Clopper-Pearson ends of the TPR
  divided by it; the FPR actually reached on the reporting records is shown beside it.
- Advantage TPR - FPR at the threshold that maximises it on the selection records, with a
  bootstrap interval on the reporting records.
- Precision at a realistic member share (default 10%: the training customers are a tenth of the
  customer base), at the 0.1% FPR threshold: share TPR / (share TPR + (1 - share) FPR); its
  interval combines the Clopper-Pearson ends (low TPR with high FPR, and the reverse).
- The log-scale ROC's data: at most 200 (fpr, tpr) points on a log grid from 1/n to 1.

The strongest attack is chosen on the selection records: highest TPR at 1% FPR (threshold and TPR
both on the selection records), ties (equal to 4 decimals) broken by AUC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from attacks.pool import REPORTING, SELECTION
from audits.core.bootstrap import bootstrap_weights, percentile_interval, weighted_auc

__all__ = ["AttackSummary", "clopper_pearson", "record_auc", "threshold_at_fpr", "summarise_attack",
           "selection_strength", "choose_strongest", "roc_points", "group_auc_rows",
           "risk_level", "stratified_weights", "RISK_LEVELS", "FPRS"]

FPRS = (0.001, 0.01)
RISK_LEVELS = ("not detected", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class AttackSummary:
    """One attack in one mode, on the reporting records (see the module docstring)."""

    attack: str
    mode: str
    auc: float
    auc_ci: tuple
    p_value: float
    tpr: dict  # nominal fpr -> dict(value, ci, fpr, fpr_ci, alpha, resolved, threshold, tp, fp)
    advantage: float
    advantage_ci: tuple
    precision: float | None
    precision_ci: tuple | None
    n_members: int
    n_nonmembers: int
    roc: list = field(default_factory=list)


def clopper_pearson(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval for x successes in n trials."""
    a = 1.0 - confidence
    lo = 0.0 if x <= 0 else float(stats.beta.ppf(a / 2, x, n - x + 1))
    hi = 1.0 if x >= n else float(stats.beta.ppf(1 - a / 2, x + 1, n - x))
    return lo, hi


def stratified_weights(strata: np.ndarray, n_boot: int, rng: np.random.Generator,
                       chunk: int = 64):
    """Yield (k, n) bootstrap count arrays that resample rows within each stratum."""
    strata = np.asarray(strata)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        w = np.zeros((k, strata.size))
        for idx in groups:
            w[:, idx] = next(bootstrap_weights(idx.size, k, rng, chunk=k))
        yield w
        done += k


def record_auc(scores, labels, record: np.ndarray, n_records: int, *,
               max_cells: int | None = None):
    """A function ``W -> AUCs``: the Mann-Whitney AUC (ties one half) of scored elements, for
    each row of a (k, n_records) matrix of record weights (bootstrap counts). Several elements
    may belong to one record (the recipe mode's K targets), which the cluster bootstrap
    resamples together. Sorting happens once; each call is two sparse products and a cumulative
    sum, O(k (n + distinct scores)). With ``max_cells``, the distinct scores are first merged
    into at most that many cells of consecutive ranks (elements in one cell count as ties): a
    slightly smaller AUC, used for bootstrap replicates that are then shifted by the difference
    of the exact and binned point values (as :mod:`audits.fairness_scores` does)."""
    from scipy import sparse

    labels = np.asarray(labels, dtype=bool)
    uniq, inv = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    if max_cells is not None and uniq.size > max_cells:
        inv = (inv * max_cells) // uniq.size
    shape = (n_records, int(inv.max()) + 1)
    a_pos = sparse.csr_matrix((labels.astype(float), (record, inv)), shape=shape)
    a_neg = sparse.csr_matrix(((~labels).astype(float), (record, inv)), shape=shape)
    a_pos_t, a_neg_t = a_pos.T.tocsr(), a_neg.T.tocsr()

    def auc(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        wt = np.ascontiguousarray(w.T)
        wp, wn = a_pos_t @ wt, a_neg_t @ wt  # (distinct scores, k)
        below = np.cumsum(wn, axis=0) - wn
        u = (wp * (below + 0.5 * wn)).sum(axis=0)
        denom = wp.sum(axis=0) * wn.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, u / np.where(denom > 0, denom, 1), np.nan)
    return auc


def threshold_at_fpr(neg_scores: np.ndarray, alpha: float) -> float:
    """The score that at most floor(alpha n) of the non-members exceed (flag: score > it)."""
    s = np.sort(np.asarray(neg_scores, dtype=float))[::-1]
    k = int(np.floor(alpha * s.size + 1e-9))
    return float(s[k]) if k < s.size else -np.inf


def _flat(ms, attack, role):
    cols = ms.role == role
    return ms.scores[attack][:, cols].ravel(), ms.labels[:, cols].ravel().astype(bool)


def selection_strength(ms, attack: str, fpr: float = 0.01) -> tuple[float, float]:
    """(TPR at ``fpr``, AUC) of an attack on the selection records alone."""
    s, y = _flat(ms, attack, SELECTION)
    tau = threshold_at_fpr(s[~y], max(fpr, 1.0 / max((~y).sum(), 1)))
    tpr = float((s[y] > tau).mean()) if y.any() else 0.0
    return tpr, float(weighted_auc(y, s, np.ones((1, s.size)))[0])


def choose_strongest(ms, attacks) -> tuple[str, dict]:
    """The strongest attack by TPR at 1% FPR on the selection records, ties by AUC."""
    strength = {a: selection_strength(ms, a) for a in attacks}
    best = max(attacks, key=lambda a: (round(strength[a][0], 4), strength[a][1]))
    return best, strength


def roc_points(scores: np.ndarray, labels: np.ndarray, max_points: int = 200) -> list:
    """(fpr, tpr) of a ROC at up to ``max_points`` log-spaced FPRs from 1/n_neg to 1."""
    from sklearn.metrics import roc_curve

    labels = np.asarray(labels, dtype=bool)
    n_neg = int((~labels).sum())
    if n_neg == 0 or labels.all():
        return []
    fpr, tpr, _ = roc_curve(labels, scores)
    grid = np.unique(np.r_[np.logspace(np.log10(1.0 / n_neg), 0, max_points - 1), 1.0])
    at = np.searchsorted(fpr, grid + 1e-12, side="right") - 1
    pts = sorted({(float(g), float(tpr[i])) for g, i in zip(grid, at)})
    return pts[:max_points]


def summarise_attack(ms, attack: str, *, n_boot: int, confidence: float, random_state: int,
                     member_share: float, fprs=FPRS) -> AttackSummary:
    """Summarise one attack's scores in one mode (see the module docstring)."""
    sel_s, sel_y = _flat(ms, attack, SELECTION)
    rep = ms.role == REPORTING
    rep_s, rep_y = _flat(ms, attack, REPORTING)
    n_pos, n_neg = int(rep_y.sum()), int((~rep_y).sum())
    n_neg_sel = int((~sel_y).sum())
    reps = ms.scores[attack].shape[0]

    flags = {}
    tpr = {}
    for alpha in fprs:
        eff = max(alpha, 1.0 / max(min(n_neg, n_neg_sel), 1))
        tau = threshold_at_fpr(sel_s[~sel_y], eff)
        flag = rep_s > tau
        tp, fp = int((flag & rep_y).sum()), int((flag & ~rep_y).sum())
        ci = clopper_pearson(tp, n_pos, confidence)
        tpr[alpha] = {"value": tp / n_pos if n_pos else np.nan, "ci": ci,
                      "ratio": (tp / n_pos) / eff if n_pos else np.nan,
                      "ratio_ci": (ci[0] / eff, ci[1] / eff),
                      "fpr": fp / n_neg if n_neg else np.nan,
                      "fpr_ci": clopper_pearson(fp, n_neg, confidence),
                      "alpha": eff, "resolved": bool(eff <= alpha + 1e-12), "threshold": tau,
                      "tp": tp, "fp": fp, "n_pos": n_pos, "n_neg": n_neg}
        flags[alpha] = flag

    from sklearn.metrics import roc_curve

    fpr_s, tpr_s, thr_s = roc_curve(sel_y, sel_s)
    tau_adv = thr_s[int(np.argmax(tpr_s - fpr_s))]
    adv_flag = rep_s >= tau_adv

    rng = np.random.default_rng(random_state)
    strata = ms.strata[rep]
    n_rec = int(rep.sum())
    record = np.tile(np.arange(n_rec), reps)
    exact = float(record_auc(rep_s, rep_y, record, n_rec)(np.ones((1, n_rec)))[0])
    auc_of = record_auc(rep_s, rep_y, record, n_rec, max_cells=4096)
    shift = exact - float(auc_of(np.ones((1, n_rec)))[0])
    per_rec = {k: np.bincount(record, weights=v, minlength=n_rec) for k, v in
               (("fp", adv_flag & ~rep_y), ("tp", adv_flag & rep_y), ("p", rep_y),
                ("n", ~rep_y))}
    auc_reps, adv_reps = [], []
    for w in stratified_weights(strata, n_boot, rng):
        auc_reps.append(np.clip(auc_of(w) + shift, 0.0, 1.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            adv_reps.append(w @ per_rec["tp"] / (w @ per_rec["p"])
                            - w @ per_rec["fp"] / (w @ per_rec["n"]))
    auc_reps, adv_reps = np.concatenate(auc_reps), np.concatenate(adv_reps)
    auc = exact
    if ms.mode == "model":
        p_value = float(stats.mannwhitneyu(rep_s[rep_y], rep_s[~rep_y], alternative="greater",
                                           method="asymptotic").pvalue)
    else:
        se = float(np.nanstd(auc_reps))
        p_value = float(stats.norm.sf((auc - 0.5) / se)) if se > 0 else float(auc <= 0.5)
    advantage = float(adv_flag[rep_y].mean() - adv_flag[~rep_y].mean())

    low = tpr[fprs[0]]
    precision, precision_ci = _precision(low, member_share)
    return AttackSummary(
        attack=attack, mode=ms.mode, auc=auc,
        auc_ci=percentile_interval(auc_reps, confidence=confidence),
        p_value=p_value, tpr=tpr, advantage=advantage,
        advantage_ci=percentile_interval(adv_reps, confidence=confidence), precision=precision,
        precision_ci=precision_ci, n_members=n_pos, n_nonmembers=n_neg,
        roc=roc_points(rep_s, rep_y))


def _precision(point: dict, share: float):
    def prec(t, f):
        den = share * t + (1 - share) * f
        return share * t / den if den > 0 else None
    value = prec(point["value"], point["fpr"])
    lo = prec(point["ci"][0], point["fpr_ci"][1])
    hi = prec(point["ci"][1], point["fpr_ci"][0])
    if value is None:
        return None, None
    return value, (lo if lo is not None else 0.0, hi if hi is not None else 1.0)


def group_auc_rows(scores, labels, codes, levels, *, min_group_size: int, n_boot: int,
                   confidence: float, random_state: int) -> list[tuple]:
    """Attack AUC per group: (group, n_members, n_nonmembers, auc, low, high, status)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    rows = []
    rng = np.random.default_rng(random_state)
    for g, name in enumerate(levels):
        m = codes == g
        n_m, n_n = int((m & labels).sum()), int((m & ~labels).sum())
        if min(n_m, n_n) < min_group_size:
            rows.append((name, n_m, n_n, None, None, None,
                         f"not assessed: fewer than {min_group_size} members or non-members"))
            continue
        s, y = scores[m], labels[m]
        reps = np.concatenate([weighted_auc(y, s, w)
                               for w in stratified_weights(y.astype(int), n_boot, rng)])
        auc = float(weighted_auc(y, s, np.ones((1, s.size)))[0])
        lo, hi = percentile_interval(reps, confidence=confidence)
        rows.append((name, n_m, n_n, auc, lo, hi, "assessed"))
    return rows


def risk_level(summary: AttackSummary, *, auc_bounds=(0.55, 0.65), ratio_bounds=(5.0, 20.0),
               critical_ratio: float = 100.0, stores_rows: bool = False) -> str:
    """The risk level of the strongest attack (THRESHOLDS.md), each level applying only when the
    interval of its statistic lies wholly beyond the bound:

    critical: TPR/FPR at the low FPR (0.1%, or the smallest resolvable) >= ``critical_ratio``
    (the profile's, 100), or a model that stores training rows; high: AUC >= 0.65 or TPR/FPR >=
    20; medium: AUC >= 0.55 or TPR/FPR >= 5; not detected: the AUC interval reaches 0.5 and the
    TPR at 1% FPR interval reaches the FPR used; low otherwise.
    """
    auc_lo = summary.auc_ci[0] if summary.auc_ci[0] is not None else 0.0
    low = summary.tpr[FPRS[0]]
    ratio_lo = low["ratio_ci"][0]
    if stores_rows or ratio_lo > critical_ratio:
        return "critical"
    if auc_lo > auc_bounds[1] or ratio_lo > ratio_bounds[1]:
        return "high"
    if auc_lo > auc_bounds[0] or ratio_lo > ratio_bounds[0]:
        return "medium"
    one = summary.tpr[FPRS[1]]
    if auc_lo <= 0.5 and one["ci"][0] <= one["alpha"]:
        return "not detected"
    return "low"
