"""Are the holdout rows drawn like the training rows? A precondition of the privacy checks.

Membership inference, memorisation and the generalisation gap compare how the model treats its
training rows (members) and rows it never saw (non-members). They measure the model only when the
non-members are a random sample of the members' population (exchangeability). A time-based
holdout breaks it: on bank telemarketing in time order (the first 60% trained on, a logistic
regression that cannot memorise) the strongest attack's AUC was 0.24, the drift between the
periods read backwards; drift the other way would read as a leak (METHODS.md).

The check is a classifier two-sample test (Lopez-Paz and Oquab 2017, "Revisiting Classifier
Two-Sample Tests", ICLR), known in practice as adversarial validation: a classifier that sees no
model, only the model's inputs and the true label, learns to tell the two files apart. Under
exchangeability no classifier beats chance, so its out-of-sample AUC is 0.5 up to noise; an AUC
interval wholly above the profile's bound (``holdout.exchangeability``, 0.55) means the files
differ, and the membership and memorisation results would measure that difference, not the
model.

Method: at most ``config.exchangeability_max_rows`` rows of each file (a seeded sample); numeric
inputs as they are, other inputs as codes of their 250 most frequent levels (native categorical
splits), the label as one more input; gradient boosting with small leaves and 100 shallow trees,
cross-fitted over ``config.exchangeability_folds`` stratified folds, so every row is scored by a
model that never saw it. The AUC of the out-of-fold scores (members positive) gets a percentile
bootstrap interval that resamples members and non-members separately. It is shared through the
run's cache by the performance probe and the privacy attacks (which may not import each other).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audits.core.bootstrap import bootstrap_weights, percentile_interval, weighted_auc
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.results import Metric
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["ExchangeabilityResult", "distinguisher_auc", "exchangeability", "REFERENCE",
           "REMEDY", "THRESHOLD"]

THRESHOLD = "holdout.exchangeability"
REFERENCE = "Lopez-Paz & Oquab 2017 (classifier two-sample test); adversarial validation"
REMEDY = ("Draw the holdout at random from the same period and source as the training rows "
          "(for example, set aside a random 20% of the training period's customers before "
          "training), then re-audit.")
MAX_LEVELS = 250


@dataclass(frozen=True)
class ExchangeabilityResult:
    """The distinguisher's verdict on the two files.

    Attributes
    ----------
    auc : out-of-fold AUC of the distinguisher (members positive); 0.5 is chance.
    ci : its percentile bootstrap interval.
    bound : the profile's bound (``holdout.exchangeability``).
    differs : the whole interval lies above the bound: the holdout is not drawn like the
        training rows.
    n_members, n_nonmembers : rows of each file used.
    top_inputs : when the files differ, at most 3 inputs whose distributions differ most
        between them (standardised mean difference for numbers, total variation distance of
        the level shares for the others), to help find the cause.
    """

    auc: float
    ci: tuple[float, float]
    bound: float
    differs: bool
    n_members: int
    n_nonmembers: int
    top_inputs: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)

    def metric(self, confidence: float) -> Metric:
        """The check as a Metric, for a probe's metrics."""
        return Metric(
            "holdout.exchangeability_auc", self.auc, self.ci, n=self.n_members + self.n_nonmembers,
            label="Can a classifier without the model tell the training rows from the holdout "
                  "rows? (AUC, 0.5 = no)",
            method=(f"gradient boosting on the model's inputs and the label, cross-fitted over "
                    f"{self.params.get('folds')} folds, out-of-fold AUC; percentile bootstrap "
                    f"({self.params.get('n_bootstrap')} replicates, {confidence:.0%}), members "
                    "and non-members resampled separately"),
            reference=REFERENCE)

    def statement(self) -> str:
        """The reason, in words, when the holdout differs (empty otherwise)."""
        if not self.differs:
            return ""
        lo, hi = self.ci
        where = f" (most visibly in {', '.join(self.top_inputs)})" if self.top_inputs else ""
        return (f"The holdout rows are not drawn like the training rows: a classifier that never "
                f"sees the model tells the two files apart with AUC {self.auc:.3f} (interval "
                f"{lo:.3f} to {hi:.3f}, wholly above {self.bound:g}){where}. A time-based split "
                "or another source does this.")


def _encode(frames: list[pd.DataFrame]) -> tuple[list[np.ndarray], np.ndarray]:
    """Numeric matrices: numbers as they are, other columns as codes of the first frame's
    most frequent levels (other levels missing)."""
    columns = list(frames[0].columns)
    mats = [np.empty((len(f), len(columns))) for f in frames]
    categorical = np.zeros(len(columns), dtype=bool)
    both = pd.concat(frames, ignore_index=True)
    for j, c in enumerate(columns):
        col = both[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            for m, f in zip(mats, frames):
                m[:, j] = f[c].to_numpy(dtype=float, na_value=np.nan)
            continue
        categorical[j] = True
        levels = pd.Index(col.astype(object).value_counts().index[:MAX_LEVELS])
        for m, f in zip(mats, frames):
            codes = levels.get_indexer(f[c].astype(object)).astype(float)
            codes[codes < 0] = np.nan
            m[:, j] = codes
    return mats, categorical


def _strata_weights(is_member: np.ndarray, n_boot: int, rng: np.random.Generator):
    """Bootstrap count matrices that resample members and non-members separately."""
    groups = [np.flatnonzero(is_member), np.flatnonzero(~is_member)]
    gens = [bootstrap_weights(g.size, n_boot, rng) for g in groups]
    for chunks in zip(*gens):
        w = np.zeros((chunks[0].shape[0], is_member.size))
        for g, c in zip(groups, chunks):
            w[:, g] = c
        yield w


def distinguisher_auc(members: pd.DataFrame, nonmembers: pd.DataFrame, *, n_folds: int = 3,
                      n_boot: int = 1000, confidence: float = 0.95, random_state: int = 0
                      ) -> tuple[float, tuple[float, float], np.ndarray]:
    """Out-of-fold AUC of a classifier telling ``members`` from ``nonmembers`` (same columns).

    Returns ``(auc, (low, high), scores)``, ``scores`` the out-of-fold probabilities of "member"
    in the order members then non-members.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    (A, B), categorical = _encode([members, nonmembers])
    X = np.vstack([A, B])
    y = np.r_[np.ones(len(A), dtype=int), np.zeros(len(B), dtype=int)]
    scores = np.full(y.size, np.nan)
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True,
                            random_state=derive_seed(random_state, "folds") % 2**31)
    with threadpool_limits(1):  # OpenMP threads contend on a shared machine
        for k, (train, test) in enumerate(folds.split(X, y)):
            clf = HistGradientBoostingClassifier(
                max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                l2_regularization=1.0, early_stopping=False,
                categorical_features=categorical if categorical.any() else None,
                random_state=derive_seed(random_state, "model", str(k)) % 2**31)
            clf.fit(X[train], y[train])
            scores[test] = clf.predict_proba(X[test])[:, 1]
    auc = float(weighted_auc(y, scores, np.ones((1, y.size)))[0])
    rng = np.random.default_rng(derive_seed(random_state, "boot"))
    reps = np.concatenate([weighted_auc(y, scores, w)
                           for w in _strata_weights(y.astype(bool), n_boot, rng)])
    return auc, percentile_interval(reps, confidence=confidence), scores


def _top_inputs(members: pd.DataFrame, nonmembers: pd.DataFrame, n: int = 3) -> tuple[str, ...]:
    """The inputs whose distribution differs most between the files: standardised mean
    difference for numbers, total variation distance of the level shares for the others."""
    gaps = {}
    for c in members.columns:
        a, b = members[c], nonmembers[c]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            sd = float(pd.concat([a, b]).std()) or 1.0
            gaps[c] = abs(float(a.mean()) - float(b.mean())) / sd
        else:
            pa = a.astype(object).value_counts(normalize=True)
            pb = b.astype(object).value_counts(normalize=True)
            gaps[c] = 0.5 * float(pa.sub(pb, fill_value=0).abs().sum())
    ranked = sorted(gaps, key=lambda c: -gaps[c])
    return tuple(str(c) for c in ranked[:n] if gaps[c] > 0.1)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
    return frame.iloc[idx].reset_index(drop=True)


def exchangeability(subject: AuditSubject, config: AuditConfig, *,
                    cache: RunCache | None = None) -> ExchangeabilityResult:
    """The distinguisher's verdict for this audit (computed once per run through ``cache``)."""
    threshold = config.threshold(THRESHOLD)
    key = ("exchangeability", config.exchangeability_max_rows, config.exchangeability_folds,
           config.n_bootstrap, config.confidence, threshold.fail)
    return shared(cache, key, lambda: _compute(subject, config, threshold.fail))


def _compute(subject: AuditSubject, config: AuditConfig, bound: float) -> ExchangeabilityResult:
    cols = [*subject.feature_columns, subject.target]
    seed = derive_seed(subject.seed, "exchangeability")
    members = _sample(subject.frame("members")[cols], config.exchangeability_max_rows,
                      derive_seed(seed, "members"))
    nonmembers = _sample(subject.frame("nonmembers")[cols], config.exchangeability_max_rows,
                         derive_seed(seed, "nonmembers"))
    auc, ci, _ = distinguisher_auc(members, nonmembers, n_folds=config.exchangeability_folds,
                                   n_boot=config.n_bootstrap, confidence=config.confidence,
                                   random_state=seed)
    differs = bool(ci[0] > bound)
    return ExchangeabilityResult(
        auc=auc, ci=ci, bound=float(bound), differs=differs, n_members=len(members),
        n_nonmembers=len(nonmembers),
        top_inputs=_top_inputs(members, nonmembers) if differs else (),
        params={"folds": config.exchangeability_folds, "n_bootstrap": config.n_bootstrap,
                "max_rows": config.exchangeability_max_rows})
