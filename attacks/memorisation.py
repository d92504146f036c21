"""Memorisation: which customers does the training recipe learn by heart?

1. Per-record memorisation (Feldman and Zhang 2020, "What Neural Networks Memorize and Why:
   Discovering the Long Tail via Influence Estimation", NeurIPS; Feldman 2020, STOC):
   mem(i) = Pr[h(x_i) = y_i | i in the training set] - Pr[h(x_i) = y_i | i not in it],
   estimated from the shared reference pool (:mod:`attacks.pool`) as the mean correctness over
   the K/2 IN models minus the mean over the K/2 OUT models. A model is "correct" when its
   probability of the true label exceeds 1/2 (exactly 1/2 counts one half). Free once the pool
   exists. A record is *highly memorised* when mem >= 0.75 (``config.memorisation_level``: the
   recipe gets it right mostly only when trained on it; Feldman and Zhang's examples of memorised
   long-tail records have high mem). The share is reported over all target records (members and
   non-members of the audited model: memorisation is a property of the recipe and the record)
   with a Clopper-Pearson interval. The soft score (mean probability of the true label IN minus
   OUT) breaks ties in the ranking.

   Its noise floor (:func:`noise_floor`): a record whose correctness flips between reference
   models for reasons unrelated to training on it reaches mem >= 0.75 by chance (with K = 8, a
   record right under 4 of the 8 models does so when those 4 happen to be its IN models: 1 in 70,
   and 9/256 of records under a coin flip; METHODS.md). The floor is the share of records with
   mem >= the level once each record's IN/OUT labels are shuffled among its K models (the IN
   count kept), averaged over ``config.memorisation_shuffles`` shuffles: what the share would be
   if training on a record changed nothing. The share is judged against it (no effect = the
   floor; attention = the floor + the profile's bound, 1 point).
2. Canary exposure (Carlini, Liu, Erlingsson, Kos and Song 2019, "The Secret Sharer: Evaluating
   and Testing Unintended Memorization in Neural Networks", USENIX Security). ``config.n_canaries``
   (50) synthetic customers: copies of random non-member rows whose numeric inputs get Gaussian
   noise with half the column's standard deviation (clipped to the column's range, rounded for whole
   number columns) and whose labels are drawn at random. Each canary is inserted into the training
   rows independently with probability 1/2 (as the one-run audit requires) and the recipe is
   retrained once on members + inserted canaries. A canary's score is its logit-confidence in its
   own label under the retrained model minus under the audited model (which never saw any canary): a
   one-reference LiRA that cancels how easy the canary is. Exposure of an inserted canary =
   log2(candidates) - log2(rank), ranked against the canaries never inserted (candidates = those
   plus itself; ties count against it), at most log2(candidates). Also the AUC inserted-vs-not with
   a bootstrap interval, and the one-run epsilon bound (:func:`attacks.epsilon.one_run_epsilon`)
   from guessing "inserted" for the GUESS_SHARE (40%) highest scores and "not inserted" for the 40%
   lowest, abstaining on the middle fifth (r = 2 floor(0.4 m) guesses, fixed in advance; abstaining
   where the attack is unsure raises the bound, as in Steinke et al.'s experiments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attacks.epsilon import one_run_ceiling, one_run_epsilon
from attacks.membership import CLIP, logit_confidence
from attacks.mia_metrics import stratified_weights
from attacks.pool import ReferencePool, label_probability, refit_recipe
from audits.core.bootstrap import percentile_interval, weighted_auc
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["memorisation_scores", "noise_floor", "CanaryResult", "make_canaries",
           "canary_experiment", "canary_summary"]

NOISE_SD = 0.5
GUESS_SHARE = 0.4


def memorisation_scores(pool: ReferencePool) -> tuple[np.ndarray, np.ndarray]:
    """(mem, soft) for every target record of the pool, in pool order (targets only)."""
    t = pool.records.targets
    p, keep = pool.ref_p[:, t], pool.keep[:, t]
    correct = np.where(p > 0.5, 1.0, np.where(p == 0.5, 0.5, 0.0))
    n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
    soft = (p * keep).sum(0) / n_in - (p * ~keep).sum(0) / n_out
    return _mem(correct, keep), soft


def _mem(correct: np.ndarray, keep: np.ndarray) -> np.ndarray:
    n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
    return (correct * keep).sum(0) / n_in - (correct * ~keep).sum(0) / n_out


def noise_floor(pool: ReferencePool, *, level: float, n_shuffles: int,
                random_state: int) -> tuple[float, float]:
    """The share of target records with mem >= ``level`` when each record's IN/OUT labels are
    shuffled among its K models (its IN count kept): ``(mean share, its standard error)`` over
    ``n_shuffles`` shuffles."""
    t = pool.records.targets
    p, keep = pool.ref_p[:, t], pool.keep[:, t]
    correct = np.where(p > 0.5, 1.0, np.where(p == 0.5, 0.5, 0.0))
    n_in = keep.sum(axis=0)
    rng = np.random.default_rng(random_state)
    shares = []
    for _ in range(n_shuffles):
        ranks = np.argsort(np.argsort(rng.random(keep.shape), axis=0), axis=0)
        shares.append(float((_mem(correct, ranks < n_in[None, :]) >= level - 1e-12).mean()))
    shares = np.asarray(shares)
    return float(shares.mean()), float(shares.std(ddof=1) / np.sqrt(shares.size))


@dataclass(frozen=True, eq=False)
class CanaryResult:
    """Scores of the canaries: ``inserted`` (m,) bool, ``scores`` (m,) float."""

    inserted: np.ndarray
    scores: np.ndarray
    params: dict


def make_canaries(subject: AuditSubject, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n synthetic customers (feature columns and target), see the module docstring."""
    source = subject.frame("nonmembers")
    X = subject.X("nonmembers")
    rows = rng.choice(len(source), size=min(n, len(source)), replace=len(source) < n)
    can = X.iloc[rows].reset_index(drop=True).copy()
    for col in can.columns:
        s = X[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        v = can[col].to_numpy(dtype=float) + rng.normal(0.0, NOISE_SD * float(s.std() or 0),
                                                        len(can))
        v = np.clip(v, float(s.min()), float(s.max()))
        if pd.api.types.is_integer_dtype(s):
            v = np.rint(v)
        can[col] = v.astype(s.dtype)
    classes = np.asarray(subject.model.classes_)
    can[subject.target] = classes[rng.integers(0, len(classes), len(can))]
    return can


def canary_experiment(subject: AuditSubject, config: AuditConfig, *,
                      cache: RunCache | None = None) -> CanaryResult:
    """Insert ``config.n_canaries`` canaries, retrain the recipe once, score them (once per run).
    Raises attacks.pool.PoolUnavailable when the recipe cannot be refitted."""
    from attacks.pool import PoolUnavailable

    def compute():
        try:
            return _canaries(subject, config.n_canaries)
        except PoolUnavailable as e:
            return e
    got = shared(cache, ("canaries", config.n_canaries), compute)
    if isinstance(got, Exception):
        raise got
    return got


def _canaries(subject, n):
    rng = np.random.default_rng(derive_seed(subject.seed, "memorisation", "canaries"))
    can = make_canaries(subject, n, rng)
    inserted = rng.random(len(can)) < 0.5
    while inserted.all() or not inserted.any():
        inserted = rng.random(len(can)) < 0.5
    features = list(subject.feature_columns)
    X = pd.concat([subject.X("members"), can.loc[inserted, features]], ignore_index=True)
    y = np.concatenate([subject.frame("members")[subject.target].to_numpy(),
                        can.loc[inserted, subject.target].to_numpy()])
    seed = derive_seed(subject.seed, "memorisation", "retrain")
    model = refit_recipe(subject.model, X, y, random_state=seed)
    labels = can[subject.target].to_numpy()
    p_new = label_probability(model.predict_proba(can[features]), model.classes_, labels)
    p_old = label_probability(subject.model.predict_proba(can[features]),
                              subject.model.classes_, labels)
    scores = logit_confidence(p_new, CLIP) - logit_confidence(p_old, CLIP)
    return CanaryResult(inserted=inserted, scores=scores,
                        params={"n_canaries": int(len(can)), "noise_sd": NOISE_SD,
                                "n_inserted": int(inserted.sum()), "retrain_seed": seed})


def canary_summary(result: CanaryResult, *, n_boot: int, confidence: float,
                   random_state: int) -> dict:
    """Exposure, AUC inserted-vs-not with interval and p-value, and the one-run epsilon."""
    from scipy import stats

    s, ins = result.scores, result.inserted
    out = np.sort(s[~ins])
    n_cand = out.size + 1
    ranks = 1 + out.size - np.searchsorted(out, s[ins], side="left")  # ties count against
    exposure = np.log2(n_cand) - np.log2(ranks)
    rng = np.random.default_rng(random_state)
    reps = np.concatenate([weighted_auc(ins, s, w)
                           for w in stratified_weights(ins.astype(int), n_boot, rng)])
    auc = float(weighted_auc(ins, s, np.ones((1, s.size)))[0])
    p_value = float(stats.mannwhitneyu(s[ins], s[~ins], alternative="greater",
                                       method="asymptotic").pvalue)
    m = s.size
    order = np.argsort(-s, kind="stable")
    k = int(np.floor(GUESS_SHARE * m))
    v = int(ins[order[:k]].sum() + (~ins[order[m - k:]]).sum())
    return {"n_canaries": m, "n_inserted": int(ins.sum()),
            "mean_exposure": float(exposure.mean()), "max_exposure": float(np.log2(n_cand)),
            "exposures": exposure, "auc": auc,
            "auc_ci": percentile_interval(reps, confidence=confidence),
            "p_value": p_value, "guesses": 2 * k, "correct": v,
            "epsilon": one_run_epsilon(m, 2 * k, v, confidence=confidence),
            "epsilon_ceiling": one_run_ceiling(m, 2 * k, confidence=confidence)}
