"""The reference-model pool shared by membership inference, memorisation and per-record risk.

Method: the shadow ("reference") models of Shokri et al. 2017, trained as in LiRA (Carlini,
Chien, Nasr, Song, Terzis and Tramer 2022, "Membership Inference Attacks From First Principles",
IEEE S&P, Sec. VI): K models trained by re-running the audited model's recipe on random halves of
a pool of records, with the "keep" matrix drawn so that every record is IN for exactly K/2 models
and OUT for the other K/2 (rank a random K x n matrix down each column; METHODS.md). Independent
halves would leave some records with no OUT model at small K (1 in 256 at K = 8).

The three steps:

1. Records (:func:`membership_records`, no retraining). The audit's rows are split once, fixed
   by the audit's seed (derived seed "pool/splits"):

   - non-members: the RMIA *population* (a random share ``config.pool_population_share``, 25%,
     at most ``config.pool_population_max``, 5,000 rows; never a target and
     never trained on by any reference model), then the other non-members, split in half into a
     *selection* part and a *reporting* part;
   - members: split in half into a *selection* part and a *reporting* part.

   Targets are the members and the non-members outside the population. Thresholds (TPR at a
   fixed FPR) and the choice of the strongest attack are made on the selection parts; every
   reported number comes from the reporting parts. When members plus target non-members exceed
   ``config.pool_max_targets`` rows, both are subsampled in proportion (the rest take no part).
2. Pool (:func:`build_pool`). The reference models are trained on parts of the *targets*
   (members and target non-members), so every target record, member or not, has IN and OUT
   reference models; population records are OUT for all. Each model is the audited model's
   recipe (``sklearn.base.clone``: same estimator and hyper-parameters, unfitted), with every
   parameter named ``random_state`` / ``seed`` re-seeded (one integer seed per model, derived
   from the audit's seed) and any ``n_jobs`` other than None or 1 set to 1 (models are trained
   in parallel instead, with native thread pools limited to one thread, so sequential equals
   parallel). The reference models are sized like the audited model (METHODS.md: larger
   training sets give other confidence profiles and bias the likelihood ratios): each trains on
   as many rows as the audited model had members (:func:`reference_size`), up to
   ``config.reference_max_rows`` (200,000) and to half the targets, which the keep matrix
   allows with every record IN for at most K/2 models (when the members are more than half the
   pool, the replica is smaller than the audited model and its leak a lower bound). Each record
   is IN for r or r + 1 models, r = floor(K m / T) (m rows per model, T targets), kept between
   2 and K/2 so that the recipe mode has an IN and an OUT model among the other K - 1: the
   models train on about m rows each, and every record keeps IN and OUT models.
3. Cache (:mod:`attacks.pool_cache`): the pool keeps, for every record, each reference model's
   probability of the record's true label and the keep matrix (not the models), once per audit
   and on disk, keyed so that a light and a default profile never share a pool.

A model that cannot be cloned and refitted raises :class:`PoolUnavailable` with the reason; the
probes then report the attacks that need the pool as not assessed.

Every task (issue 14): the signal kept per record and model is the model's likelihood of the
record's label (:mod:`attacks.signals`: the probability of the true class for a classifier, the
Gaussian likelihood of the residual for a regression). The recipe re-run is the audit's training
recipe (:mod:`audits.core.recipe`: the model's own, rebuilt from its file, or the user's
``recipe``); a model with none (a bare XGBoost booster, an ONNX graph) raises
:class:`PoolUnavailable` with the reason, and LOSS and the gap attack still run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attacks.signals import TaskSignal, audited_signals, task_signal
from attacks.signals import label_probability as _label_probability
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.parallel import parallel_map
from audits.core.seeds import derive_seed, seed_family
from audits.core.subject import AuditSubject

__all__ = ["PoolUnavailable", "MembershipRecords", "ReferencePool", "membership_records",
           "build_pool", "pool_key", "effective_k", "reference_size", "refit_recipe",
           "recipe_estimator",
           "label_probability", "keep_matrix", "SELECTION", "REPORTING", "POPULATION"]

POOL_VERSION = 2
SELECTION, REPORTING, POPULATION = 0, 1, 2


class PoolUnavailable(RuntimeError):
    """The reference pool cannot be built (the model cannot be cloned or refitted)."""


@dataclass(frozen=True, eq=False)
class MembershipRecords:
    """The records the attacks use, in pool order: targets (members, then non-members), then the
    RMIA population. No retraining is needed to build this.

    Attributes
    ----------
    is_member : (n,) bool, the record is a training row of the audited model.
    row : (n,) int, the record's row in ``subject.frame("members" | "nonmembers")``.
    role : (n,) int8, SELECTION, REPORTING or POPULATION.
    y : (n,) int8, 1 where the true label is the positive label (binary); the index of the
        true class (multiclass); 0 (regression).
    target_p : (n,) float, the audited model's likelihood of the record's true label
        (:mod:`attacks.signals`: its probability for a classifier).
    target_correct : (n,) bool, the audited model's decision equals the true label (a
        regression: its residual lies within 1.18 sigma).
    """

    is_member: np.ndarray
    row: np.ndarray
    role: np.ndarray
    y: np.ndarray
    target_p: np.ndarray
    target_correct: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def targets(self) -> np.ndarray:
        """Boolean mask of the target records (selection and reporting parts)."""
        return self.role != POPULATION

    def ids(self, subject: AuditSubject) -> np.ndarray:
        """Pseudonymised id of every record (never the raw id)."""
        out = np.empty(self.row.size, dtype=object)
        for part, mask in (("members", self.is_member), ("nonmembers", ~self.is_member)):
            out[mask] = np.asarray(subject.record_ids(part, rows=self.row[mask]), dtype=object)
        return out


@dataclass(frozen=True, eq=False)
class ReferencePool:
    """K reference models' view of the records: ``ref_p[k, i]`` is model k's probability of
    record i's true label, ``keep[k, i]`` whether model k trained on record i."""

    records: MembershipRecords
    ref_p: np.ndarray
    keep: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.ref_p.shape[0])


def effective_k(config: AuditConfig) -> int:
    """K used by the pool: the configured number, made even and at least 4 (the recipe mode needs
    IN and OUT models among the K - 1 others)."""
    k = int(config.n_reference_models)
    return max(4, k + k % 2)


# -- step 1: records -------------------------------------------------------------------------

def _split_indices(n_members: int, n_nonmembers: int, seed: int, config: AuditConfig
                   ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    nm = rng.permutation(n_nonmembers)
    n_pop = int(min(config.pool_population_max,
                    max(1, round(config.pool_population_share * n_nonmembers))))
    pop, nm_targets = nm[:n_pop], nm[n_pop:]
    m = rng.permutation(n_members)
    total = m.size + nm_targets.size
    if total > config.pool_max_targets:
        share = config.pool_max_targets / total
        m, nm_targets = m[:int(m.size * share)], nm_targets[:int(nm_targets.size * share)]
    half_m, half_n = m.size // 2, nm_targets.size // 2
    return {"member_selection": np.sort(m[:half_m]), "member_reporting": np.sort(m[half_m:]),
            "nonmember_selection": np.sort(nm_targets[:half_n]),
            "nonmember_reporting": np.sort(nm_targets[half_n:]), "population": np.sort(pop)}


def label_probability(proba: np.ndarray, classes, labels) -> np.ndarray:
    """Probability of each row's own label, from ``predict_proba`` output and ``classes_``."""
    try:
        return _label_probability(proba, classes, labels)
    except KeyError as e:
        raise PoolUnavailable(f"a reference model never saw the label {e.args[0]!r} in its half "
                              "of the data") from e


def membership_records(subject: AuditSubject, config: AuditConfig, *,
                       cache: RunCache | None = None) -> MembershipRecords:
    """The audit's records in pool order with the audited model's signals (once per run)."""
    return shared(cache, ("membership_records", pool_key(config)),
                  lambda: _records(subject, config))


def pool_key(config: AuditConfig) -> tuple:
    """What makes two pools the same for one model and data: K and the pool's sizes."""
    """What the records and the pool depend on beyond the subject."""
    return (effective_k(config), config.pool_population_share, config.pool_population_max,
            config.pool_max_targets, config.reference_max_rows)


def _records(subject: AuditSubject, config: AuditConfig) -> MembershipRecords:
    n_m, n_n = len(subject.frame("members")), len(subject.frame("nonmembers"))
    idx = _split_indices(n_m, n_n, derive_seed(subject.seed, "pool", "splits"), config)
    parts = [("members", idx["member_selection"], SELECTION, True),
             ("members", idx["member_reporting"], REPORTING, True),
             ("nonmembers", idx["nonmember_selection"], SELECTION, False),
             ("nonmembers", idx["nonmember_reporting"], REPORTING, False),
             ("nonmembers", idx["population"], POPULATION, False)]
    cols = {k: [] for k in ("is_member", "row", "role", "y", "target_p", "target_correct")}
    signal = task_signal(subject)
    for part, rows, role, member in parts:
        y, target_p, correct = audited_signals(subject, part, rows, signal)
        cols["is_member"].append(np.full(rows.size, member))
        cols["row"].append(rows)
        cols["role"].append(np.full(rows.size, role, dtype=np.int8))
        cols["y"].append(y)
        cols["target_p"].append(target_p)
        cols["target_correct"].append(correct)
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    params = {"signal": signal.to_dict(),"population_share": config.pool_population_share,
              "population_max": config.pool_population_max,
              "selection_share": 0.5, "max_targets": config.pool_max_targets,
              "sizes": {name: int(v.size) for name, v in idx.items()}}
    return MembershipRecords(params=params, **arrays)


# -- step 2: training ------------------------------------------------------------------------

def _reseed(estimator, seed: int):
    params = estimator.get_params(deep=True)
    new = {}
    for name in params:
        last = name.rsplit("__", 1)[-1]
        if last in ("random_state", "seed", "random_seed"):
            new[name] = int(seed) % (2**31 - 1)
        elif last in ("n_jobs", "num_threads", "thread_count") and params[name] not in (None, 1):
            new[name] = 1  # left alone when unset: some estimators warn that it is ignored
    return estimator.set_params(**new) if new else estimator


def refit_recipe(model, X: pd.DataFrame, y, *, random_state: int):
    """A fresh copy of the audited model's recipe (clone, re-seeded, single-threaded), fitted on
    ``X, y``. Raises PoolUnavailable when the model cannot be cloned or refitted."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    try:
        est = _reseed(clone(model), random_state)
    except Exception as e:  # clone raises TypeError / RuntimeError on non-estimators
        raise PoolUnavailable(f"the model ({type(model).__name__}) cannot be cloned with "
                              f"sklearn.base.clone ({type(e).__name__}: {e})") from e
    try:
        with threadpool_limits(1):
            return est.fit(X, y)
    except Exception as e:
        raise PoolUnavailable(f"refitting the model's recipe on a half of the data failed "
                              f"({type(e).__name__}: {e})") from e


def _fit_and_score(task):
    model, X, labels, train, seed, *rest = task
    signal = rest[0] if rest else TaskSignal("binary")
    est = refit_recipe(model, X.iloc[np.flatnonzero(train)], labels[train], random_state=seed)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        try:
            return signal.likelihood(est, X, labels)
        except KeyError as e:
            raise PoolUnavailable(f"a reference model never saw the label {e.args[0]!r} in its "
                                  "half of the data") from e


def recipe_estimator(subject: AuditSubject):
    """The estimator the pool refits: the audit's training recipe (unfitted) when it has one,
    else the audited model itself (cloned by :func:`refit_recipe`)."""
    recipe = getattr(subject, "recipe", None)
    return recipe.estimator if recipe is not None else subject.model


def keep_matrix(k: int, n: int, rng: np.random.Generator, n_in=None) -> np.ndarray:
    """(k, n) boolean matrix with exactly ``n_in[i]`` True in column i (default k/2 for every
    column): rank a random matrix down each column."""
    n_in = np.full(n, k // 2) if n_in is None else np.broadcast_to(np.asarray(n_in), (n,))
    ranks = np.argsort(np.argsort(rng.random((k, n)), axis=0), axis=0)
    return ranks < n_in[None, :]


def reference_size(n_members: int, n_targets: int, k: int, config: AuditConfig) -> dict:
    """Training rows of each reference model, and why.

    As many as the audited model's (``n_members``), up to ``config.reference_max_rows`` and to
    half the targets (every record IN for at most k/2 models), and at least 2 n_targets / k
    (every record IN for at least 2 models). Returns ``{"rows", "audited_rows", "limited_by",
    "in_models"}``, ``in_models`` the (fewest, most) IN models of a record.
    """
    cap, half = int(config.reference_max_rows), n_targets // 2
    rows = min(int(n_members), cap, half)
    limited_by = ("the audited model's size" if rows == n_members else
                  "the profile's cap (reference_max_rows)" if rows == cap else
                  "half the pool: the members are more than half the targets")
    if k * rows < 2 * n_targets:
        rows, limited_by = -(-2 * n_targets // k), "at least two IN models per record"
    counts = _in_counts(k, n_targets, rows, None)
    return {"rows": int(round(counts.sum() / k)), "audited_rows": int(n_members),
            "limited_by": limited_by, "in_models": (int(counts.min()), int(counts.max()))}


def _in_counts(k: int, n_targets: int, rows: int, rng: np.random.Generator | None) -> np.ndarray:
    """IN models per record: r or r + 1 (r = floor(k rows / n)), about k rows in all, kept
    between 2 and k/2 (the recipe mode needs an IN and an OUT model among the other k - 1).
    Without ``rng`` the records that get r + 1 are the first ones (for the sizes only)."""
    total = k * rows
    r = total // n_targets
    counts = np.full(n_targets, r, dtype=int)
    n_extra = total - r * n_targets
    if n_extra:  # no draw when every record gets r: the keep matrix of a K/2 design is unchanged
        extra = np.arange(n_targets) if rng is None else rng.permutation(n_targets)
        counts[extra[:n_extra]] += 1
    return np.clip(counts, 2, k // 2)


def _frames(subject: AuditSubject, records: MembershipRecords):
    """Inputs and labels of every pool record, in pool order (members first, then
    non-members, as :func:`_records` lays them out)."""
    X, labels = [], []
    for member in (True, False):
        part = "members" if member else "nonmembers"
        rows = records.row[records.is_member == member]
        X.append(subject.X(part).iloc[rows])
        labels.append(subject.frame(part)[subject.target].to_numpy()[rows])
    if np.any(np.diff(records.is_member.astype(int)) > 0):
        raise RuntimeError("pool records must list the members before the non-members")
    return pd.concat(X, ignore_index=True), np.concatenate(labels)


def build_pool(subject: AuditSubject, config: AuditConfig, *, k: int | None = None,
               records: MembershipRecords | None = None) -> ReferencePool:
    """Train the K reference models and collect their probabilities of the true labels.

    Parameters
    ----------
    subject : the audit subject (its model is cloned, never modified).
    config : the audit's configuration (``n_jobs``: workers of the parallel map, 1 sequential,
        results identical; the pool's sizes).
    k : number of reference models (even, >= 4; default :func:`effective_k` of ``config``).
    records : the records (default :func:`membership_records`).
    """
    k = effective_k(config) if k is None else int(k)
    n_jobs = config.n_jobs
    if k < 4 or k % 2:
        raise ValueError(f"k is {k}; the pool needs an even number of reference models >= 4.")
    records = records if records is not None else membership_records(subject, config)
    X, labels = _frames(subject, records)
    targets = records.targets
    n_t = int(targets.sum())
    size = reference_size(len(subject.frame("members")), n_t, k, config)
    rng = np.random.default_rng(derive_seed(subject.seed, "pool", "keep"))
    keep = np.zeros((k, records.row.size), dtype=bool)
    keep[:, targets] = keep_matrix(k, n_t, rng, _in_counts(k, n_t, size["rows"], rng))
    seeds = seed_family(derive_seed(subject.seed, "pool", "models"), k)
    # clone the recipe in the parent: the fitted model is never shipped to the workers
    try:
        from sklearn.base import clone

        recipe = clone(recipe_estimator(subject))
    except Exception as e:
        raise PoolUnavailable(f"the model ({type(subject.model).__name__}) cannot be cloned with "
                              f"sklearn.base.clone ({type(e).__name__}: {e})") from e
    signal = TaskSignal(subject.task, records.params.get("signal", {}).get("sigma"))
    if subject.task == "regression":
        labels = labels.astype(float)
    tasks = [(recipe, X, labels, keep[j], seeds[j], signal) for j in range(k)]
    ref_p = np.vstack(parallel_map(_fit_and_score, tasks, n_jobs=n_jobs))
    params = {"k": k, "model_seeds": seeds, "train_size": [int(s) for s in keep.sum(axis=1)],
              "reference_rows": size["rows"], "audited_rows": size["audited_rows"],
              "limited_by": size["limited_by"], "in_models": list(size["in_models"]),
              "version": POOL_VERSION}
    return ReferencePool(records=records, ref_p=ref_p, keep=keep, params=params)
