"""Membership inference: does the model give away who was in its training data?

Six attacks, every score oriented so that higher means "more likely a member":

- ``loss``: LOSS attack (Yeom, Giacomelli, Fredrikson and Jha 2018, "Privacy Risk in Machine
  Learning: Analyzing the Connection to Overfitting", IEEE CSF). Score = p, the model's
  probability of the record's true label (equivalently minus the loss). Sign trap: ML Privacy
  Meter v2 returns -p, which inverts its AUC; here a member the model is more confident about
  scores higher.
- ``gap``: the label-only gap attack (Yeom et al. 2018): member iff the model's decision is
  correct. Its AUC (ties count one half) is its balanced accuracy, exactly
  1/2 + (acc_members - acc_nonmembers) / 2.
- ``lira_online`` / ``lira_offline``: the Likelihood Ratio Attack (Carlini, Chien, Nasr, Song,
  Terzis and Tramer 2022, "Membership Inference Attacks From First Principles", IEEE S&P) on the
  logit-scaled confidence phi = log p - log(1 - p). p is clipped to [CLIP, 1 - CLIP] everywhere
  (CLIP = 1e-4, fixed, the same for target and reference models): a fully grown forest outputs
  p = 0 or 1 exactly and phi would be infinite; the clip bounds phi to +-9.2. Online:
  log N(phi; mu_in, s_in^2) - log N(phi; mu_out, s_out^2) with per-record means over the IN and
  OUT reference models; offline: (phi - mu_out) / s_out, monotone in the paper's one-sided
  p-value. With fewer than 64 reference models the variances are global (pooled over records),
  the paper's "fixed variance" variant, stronger at small K.
- ``rmia_online`` / ``rmia_offline``: the Robust Membership Inference Attack (Zarifzadeh, Liu,
  Mahloujifar and Shokri 2024, "Low-Cost High-Power Membership Inference Attacks", ICML).
  r(x) = p(x | target) / p(x); score(x) = share of population records z with
  r(x) / r(z) >= gamma (gamma = 1), computed by sorting the r(z) once (O(n log n)). Online:
  p(x) = (mean over IN models + mean over OUT models) / 2 (a balanced average, so that the
  number of IN models never leaks into the score). Offline: p(x) = ((1 + a) p_OUT(x) + 1 - a) / 2
  with a in {0, 0.1, ..., 1} tuned for AUC on the selection records with reference model 0 as a
  pseudo-target and the others as references. The population is records no model trained on and
  that are never targets; its p(z) is the mean over the reference models (all OUT for z), for both
  variants the offline formula with the same a. Ties between equal shares are broken by r(x)
  itself (adding less than half a step), so the score is strictly increasing in r(x).

Two modes, labelled on every number: ``model`` ("this model": the audited model is the target and
its training rows are the members; decides the findings) and ``recipe`` ("this training recipe":
each reference model in turn is the target and the other K - 1 are its references, LiRA's
protocol; reported beside it). The module reads as three steps: signals (probabilities of the
true label, from :mod:`attacks.pool`), scores (:func:`attack_scores`), and summaries
(:mod:`attacks.mia_metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attacks.pool import POPULATION, SELECTION, MembershipRecords, ReferencePool

__all__ = ["ATTACKS", "POOL_ATTACKS", "ATTACK_LABELS", "ATTACK_REFERENCES", "MODES", "CLIP",
           "ModeScores", "logit_confidence", "loss_scores", "gap_scores", "lira_scores",
           "rmia_scores", "tune_rmia_a", "attack_scores"]

CLIP = 1e-4
GAMMA = 1.0
FIXED_VARIANCE_BELOW = 64
A_GRID = tuple(np.round(np.linspace(0, 1, 11), 2))

ATTACKS = ("loss", "gap", "lira_online", "lira_offline", "rmia_online", "rmia_offline")
POOL_ATTACKS = ("lira_online", "lira_offline", "rmia_online", "rmia_offline")
MODES = {"model": "this model", "recipe": "this training recipe"}
ATTACK_LABELS = {
    "loss": "LOSS (confidence in the true label)",
    "gap": "Gap (label-only: a correct prediction means member)",
    "lira_online": "LiRA online (likelihood ratio, IN and OUT reference models)",
    "lira_offline": "LiRA offline (OUT reference models only)",
    "rmia_online": "RMIA online (relative likelihood against a population)",
    "rmia_offline": "RMIA offline (OUT reference models only)",
}
ATTACK_REFERENCES = {
    "loss": "Yeom et al. 2018, IEEE CSF",
    "gap": "Yeom et al. 2018, IEEE CSF",
    "lira_online": "Carlini et al. 2022, IEEE S&P",
    "lira_offline": "Carlini et al. 2022, IEEE S&P",
    "rmia_online": "Zarifzadeh et al. 2024, ICML",
    "rmia_offline": "Zarifzadeh et al. 2024, ICML",
}


@dataclass(frozen=True, eq=False)
class ModeScores:
    """Scores of every attack in one mode, over the target records.

    ``scores[attack]`` and ``labels`` have shape (M, n): M = 1 target in the ``model`` mode, K in
    the ``recipe`` mode; ``role`` (n,) is SELECTION or REPORTING of each target record;
    ``strata`` (n,) the bootstrap strata (membership in the model mode, one stratum otherwise).
    """

    mode: str
    scores: dict
    labels: np.ndarray
    role: np.ndarray
    strata: np.ndarray
    params: dict


# -- signals -> scores -----------------------------------------------------------------------

def logit_confidence(p, clip: float = CLIP) -> np.ndarray:
    """phi = log p - log(1 - p), with p clipped to [clip, 1 - clip] (finite for p = 0 or 1)."""
    p = np.clip(np.asarray(p, dtype=float), clip, 1.0 - clip)
    return np.log(p) - np.log1p(-p)


def loss_scores(target_p) -> np.ndarray:
    """LOSS: the probability of the true label; higher means member."""
    return np.asarray(target_p, dtype=float).copy()


def gap_scores(target_correct) -> np.ndarray:
    """Gap attack: 1 where the model is correct (guess member), else 0."""
    return np.asarray(target_correct, dtype=float)


def _group_means(x: np.ndarray, mask: np.ndarray):
    n = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(mask, x, 0.0).sum(axis=0) / n
    return mu, n


def _pooled_sd(x: np.ndarray, mask: np.ndarray, mu: np.ndarray) -> float:
    resid = np.where(mask, x - mu, 0.0)
    dof = max(int(mask.sum() - np.count_nonzero(mask.any(axis=0))), 1)
    return float(max(np.sqrt((resid ** 2).sum() / dof), 1e-3))


def lira_scores(target_p, ref_p, ref_in, *, online: bool, fixed_variance: bool | None = None,
                clip: float = CLIP) -> np.ndarray:
    """LiRA scores of n records.

    Parameters
    ----------
    target_p : (n,) target model's probability of the true label.
    ref_p : (R, n) reference models' probabilities of the true label.
    ref_in : (R, n) bool, reference model trained on the record.
    online : use IN and OUT models (else OUT only).
    fixed_variance : one global variance per distribution (default: when R < 64).
    """
    phi = logit_confidence(target_p, clip)
    ref_phi = logit_confidence(ref_p, clip)
    ref_in = np.asarray(ref_in, dtype=bool)
    if fixed_variance is None:
        fixed_variance = ref_phi.shape[0] < FIXED_VARIANCE_BELOW
    mu_out, n_out = _group_means(ref_phi, ~ref_in)
    if np.any(n_out == 0) or (online and np.any(ref_in.sum(axis=0) == 0)):
        raise ValueError("LiRA needs at least one OUT (and, online, one IN) reference model "
                         "per record.")
    sd_out = _pooled_sd(ref_phi, ~ref_in, mu_out) if fixed_variance else \
        np.maximum(np.sqrt(np.where(~ref_in, (ref_phi - mu_out) ** 2, 0).sum(0) / n_out), 1e-3)
    if not online:
        return (phi - mu_out) / sd_out
    mu_in, n_in = _group_means(ref_phi, ref_in)
    sd_in = _pooled_sd(ref_phi, ref_in, mu_in) if fixed_variance else \
        np.maximum(np.sqrt(np.where(ref_in, (ref_phi - mu_in) ** 2, 0).sum(0) / n_in), 1e-3)
    return (-0.5 * ((phi - mu_in) / sd_in) ** 2 - np.log(sd_in)
            + 0.5 * ((phi - mu_out) / sd_out) ** 2 + np.log(sd_out))


def _rmia_denominator(ref_p, ref_in, *, online: bool, a: float, clip: float):
    ref_p = np.clip(np.asarray(ref_p, dtype=float), clip, 1.0 - clip)
    ref_in = np.asarray(ref_in, dtype=bool)
    mu_out, n_out = _group_means(ref_p, ~ref_in)
    if online:
        mu_in, n_in = _group_means(ref_p, ref_in)
        return np.where(n_in > 0, 0.5 * (mu_in + mu_out), mu_out)
    return 0.5 * ((1.0 + a) * mu_out + (1.0 - a))


def rmia_scores(target_p, ref_p, ref_in, pop_target_p, pop_ref_p, *, online: bool,
                a: float = 1.0, gamma: float = GAMMA, clip: float = CLIP) -> np.ndarray:
    """RMIA scores of n records against a population (see the module docstring).

    ``pop_target_p`` (n_z,) and ``pop_ref_p`` (R, n_z): the population's probabilities of their
    true labels under the target and the reference models (all OUT for the population).
    """
    tp = np.clip(np.asarray(target_p, dtype=float), clip, 1.0 - clip)
    ratio_x = tp / _rmia_denominator(ref_p, ref_in, online=online, a=a, clip=clip)
    pop_ref_p = np.asarray(pop_ref_p, dtype=float)
    zp = np.clip(np.asarray(pop_target_p, dtype=float), clip, 1.0 - clip)
    ratio_z = zp / _rmia_denominator(pop_ref_p, np.zeros(pop_ref_p.shape, bool), online=False,
                                     a=a, clip=clip)
    sorted_z = np.sort(ratio_z)
    share = np.searchsorted(sorted_z, ratio_x / gamma, side="right") / sorted_z.size
    tie_break = np.arctan(np.log(ratio_x)) / np.pi / sorted_z.size  # |.| < half a step
    return share + tie_break


def tune_rmia_a(ref_p, keep, records_mask, pop_ref_p, *, clip: float = CLIP) -> float:
    """Offline RMIA's a: the grid value with the best AUC when reference model 0 is a
    pseudo-target and the others its (OUT-only) references, on the records in ``records_mask``."""
    from audits.core.bootstrap import weighted_auc

    others = np.arange(1, ref_p.shape[0])
    tp, labels = ref_p[0, records_mask], keep[0, records_mask]
    rp, rin = ref_p[others][:, records_mask], keep[others][:, records_mask]
    best, best_auc = 1.0, -np.inf
    for a in A_GRID:
        s = rmia_scores(tp, rp, rin, pop_ref_p[0], pop_ref_p[others], online=False, a=a,
                        clip=clip)
        auc = float(weighted_auc(labels, s, np.ones((1, s.size)))[0])
        if auc > best_auc + 1e-12:
            best, best_auc = float(a), auc
    return best


# -- the two modes ---------------------------------------------------------------------------

def attack_scores(records: MembershipRecords, pool: ReferencePool | None, mode: str = "model",
                  *, clip: float = CLIP) -> ModeScores:
    """Scores of every attack available (LOSS and gap without a pool; all six with one)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}.")
    tmask = records.targets
    pmask = records.role == POPULATION
    role = records.role[tmask]
    if mode == "model":
        labels = records.is_member[tmask][None, :]
        scores = {"loss": loss_scores(records.target_p[tmask])[None, :],
                  "gap": gap_scores(records.target_correct[tmask])[None, :]}
        params = {}
        if pool is not None:
            a = tune_rmia_a(pool.ref_p[:, tmask], pool.keep[:, tmask], role == SELECTION,
                            pool.ref_p[:, pmask], clip=clip)
            args = (records.target_p[tmask], pool.ref_p[:, tmask], pool.keep[:, tmask])
            pop = (records.target_p[pmask], pool.ref_p[:, pmask])
            scores.update(_pool_scores(args, pop, a, clip))
            params = {"rmia_a": a}
        return ModeScores(mode, scores, labels, role, records.is_member[tmask].astype(int),
                          {**params, "clip": clip, "gamma": GAMMA})
    if pool is None:
        raise ValueError("The recipe mode needs the reference pool.")
    k = pool.k
    a = tune_rmia_a(pool.ref_p[:, tmask], pool.keep[:, tmask], role == SELECTION,
                    pool.ref_p[:, pmask], clip=clip)
    rows = {name: [] for name in ATTACKS}
    for j in range(k):
        others = np.delete(np.arange(k), j)
        tp = pool.ref_p[j, tmask]
        correct = tp > 0.5
        rows["loss"].append(loss_scores(tp))
        rows["gap"].append(gap_scores(correct))
        args = (tp, pool.ref_p[others][:, tmask], pool.keep[others][:, tmask])
        pop = (pool.ref_p[j, pmask], pool.ref_p[others][:, pmask])
        for name, s in _pool_scores(args, pop, a, clip).items():
            rows[name].append(s[0])
    scores = {name: np.vstack(v) for name, v in rows.items()}
    return ModeScores(mode, scores, pool.keep[:, tmask], role, np.zeros(role.size, int),
                      {"rmia_a": a, "clip": clip, "gamma": GAMMA, "targets": k})


def _pool_scores(args, pop, a, clip) -> dict:
    tp, rp, rin = args
    return {
        "lira_online": lira_scores(tp, rp, rin, online=True, clip=clip)[None, :],
        "lira_offline": lira_scores(tp, rp, rin, online=False, clip=clip)[None, :],
        "rmia_online": rmia_scores(tp, rp, rin, *pop, online=True, a=a, clip=clip)[None, :],
        "rmia_offline": rmia_scores(tp, rp, rin, *pop, online=False, a=a, clip=clip)[None, :],
    }
