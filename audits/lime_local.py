"""LIME explanations of single customers, with their stability over seeds and their agreement
with SHAP.

LIME (Ribeiro, Singh & Guestrin 2016, "Why Should I Trust You?": Explaining the Predictions of
Any Classifier", KDD) fits a weighted linear surrogate to the model's positive-class probability
on samples drawn around one record. Here it runs in the model's ORIGINAL feature space
(``lime.lime_tabular.LimeTabularExplainer``): categorical columns are label-encoded (categories
sorted by their text) and declared categorical, continuous columns are discretised into quartiles
(``discretize_continuous=True``), the training data is a seeded sample of the members, and the
prediction function decodes each sampled matrix back into a DataFrame and calls the audited
model's ``predict_proba``. LIME's random state is passed as ``random_state`` (a fresh explainer
per seed, so its sampler, discretiser and surrogate all use that seed); it never touches NumPy's
global state.

LIME's explanations change from one random seed to the next (Alvarez-Melis & Jaakkola 2018, "On
the Robustness of Interpretability Methods", ICML WHI workshop), and they need not agree with
SHAP's (Krishna et al. 2022, "The Disagreement Problem in Explainable Machine Learning: A
Practitioner's Perspective"). Per customer, three measures:

- stability: LIME is run with ``n_seeds`` (>= 10) seeds; the top-k features (k = 5, by absolute
  weight) of each run are compared pairwise; stability is the mean Jaccard overlap
  ``|A & B| / |A | B|`` over all pairs of runs (1 = always the same top-k);
- feature agreement with SHAP (Krishna et al. 2022, Sec. 3.1): the share of SHAP's top-k features
  that are also among LIME's top-k (LIME's weights averaged over the seeds, as shown),
  ``|top_k(LIME) & top_k(SHAP)| / k``;
- sign agreement (Krishna et al. 2022): the share of the k top features that are in both top-k
  sets AND push the score the same way in both, ``|{f in both: sign LIME_f = sign SHAP_f}| / k``.
  LIME explains the probability, SHAP possibly the log-odds: ranks and signs compare across the
  two scales, sizes do not.

Spearman's rank correlation of the absolute attributions over all inputs is reported beside them,
unjudged. These describe one customer; whether LIME's explanations can be given as reasons is
judged on a random sample of at least 30 customers (:func:`sample_agreement` and the
explainability probe), each measure averaged over the customers with an interval over customers,
against ``explainability.stability`` (THRESHOLDS.md: 0.7, attention when the interval lies wholly
below). One explainer is built per customer and its random state re-seeded for each run, which
gives exactly the runs of a fresh explainer per seed (the sampler, discretiser and surrogate
share that one ``RandomState``, and building the explainer draws nothing).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["Codec", "LimeResult", "lime_weights", "explain_local", "top_features", "jaccard",
           "stability", "agreement", "feature_agreement", "sign_agreement", "sample_agreement",
           "AGREEMENT_MEASURES"]

#: the judged measures, in the order of :func:`sample_agreement`'s columns
AGREEMENT_MEASURES = ("stability", "feature_agreement", "sign_agreement")


class Codec:
    """Label-encode a frame's non-numeric columns into a float matrix, and decode it back.

    Categories are learned from the frames given to ``__init__`` (sorted by their text);
    numeric columns pass through as floats. ``decode`` rounds codes to the nearest category.
    """

    def __init__(self, *frames: pd.DataFrame):
        first = frames[0]
        self.columns = [str(c) for c in first.columns]
        self.categories: dict[str, list] = {}
        for c in first.columns:
            s = first[c]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                values = pd.unique(pd.concat([f[c] for f in frames], ignore_index=True))
                self.categories[str(c)] = sorted(values.tolist(), key=str)
        self.dtypes = {str(c): first[c].dtype for c in first.columns}

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c in self.categories]

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.columns)))
        for i, c in enumerate(self.columns):
            if c in self.categories:
                lookup = {str(v): k for k, v in enumerate(self.categories[c])}
                out[:, i] = [lookup.get(str(v), np.nan) for v in frame[c].tolist()]
            else:
                out[:, i] = frame[c].to_numpy(dtype=float, na_value=np.nan)
        return out

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        matrix = np.atleast_2d(matrix)
        data = {}
        for i, c in enumerate(self.columns):
            if c in self.categories:
                cats = np.asarray(self.categories[c], dtype=object)
                codes = np.clip(np.rint(matrix[:, i]), 0, len(cats) - 1).astype(np.intp)
                data[c] = pd.Series(cats[codes]).astype(self.dtypes[c])
            else:
                data[c] = matrix[:, i]
        return pd.DataFrame(data)


@dataclass(frozen=True)
class LimeResult:
    """LIME on one record over several seeds, compared with its SHAP values.

    Attributes
    ----------
    weights : (n_seeds, p) LIME weights per feature (positive-class probability), one row a seed.
    features : the p input columns.
    top_k : k of the top-k comparisons.
    stability : mean pairwise Jaccard overlap of the top-k features over seeds.
    feature_agreement : share of SHAP's top-k features among the mean LIME weights' top-k.
    sign_agreement : share of the k top features in both top-k sets with the same sign.
    rank_agreement : Spearman correlation of mean |LIME weight| and |SHAP value| over all
        features (NaN when either is constant); reported, not judged.
    seeds : the seeds used.
    """

    weights: np.ndarray
    features: tuple[str, ...]
    top_k: int
    stability: float
    feature_agreement: float
    sign_agreement: float
    rank_agreement: float
    seeds: tuple[int, ...]

    @property
    def mean_weights(self) -> np.ndarray:
        return self.weights.mean(axis=0)


def top_features(values: np.ndarray, k: int) -> frozenset[int]:
    """Indices of the k largest absolute values (ties broken by column order)."""
    order = np.argsort(-np.abs(np.asarray(values, dtype=float)), kind="stable")
    return frozenset(int(i) for i in order[:k])


def jaccard(a: frozenset, b: frozenset) -> float:
    """|A & B| / |A | B| (1 for two empty sets)."""
    union = len(a | b)
    return 1.0 if union == 0 else len(a & b) / union


def stability(weights: np.ndarray, k: int) -> float:
    """Mean pairwise Jaccard overlap of the top-k features of each run (rows of ``weights``)."""
    tops = [top_features(w, k) for w in weights]
    pairs = [jaccard(a, b) for a, b in itertools.combinations(tops, 2)]
    return float(np.mean(pairs)) if pairs else float("nan")


def agreement(weights: np.ndarray, shap_row: np.ndarray, k: int) -> float:
    """Mean over runs of the Jaccard overlap between LIME's and SHAP's top-k features."""
    ref = top_features(shap_row, k)
    return float(np.mean([jaccard(top_features(w, k), ref) for w in weights]))


def feature_agreement(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """|top_k(a) & top_k(b)| / k (Krishna et al. 2022's feature agreement)."""
    return len(top_features(a, k) & top_features(b, k)) / k


def sign_agreement(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Share of k of the features in both top-k sets whose signs agree in ``a`` and ``b``
    (Krishna et al. 2022's sign agreement; two zero attributions agree: both say the input does
    not matter)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = top_features(a, k) & top_features(b, k)
    return sum(1 for j in both if np.sign(a[j]) == np.sign(b[j])) / k


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def lime_weights(model, row: pd.DataFrame, training: pd.DataFrame, *, positive_label,
                 seeds: Sequence[int], num_samples: int = 1000) -> np.ndarray:
    """LIME weights of one record for each seed, shape (len(seeds), p).

    Parameters
    ----------
    model : fitted classifier with ``predict_proba`` taking a DataFrame of ``row``'s columns.
    row : a one-row DataFrame of the model's input columns.
    training : rows LIME draws its sampling statistics from (a seeded sample of the members).
    positive_label : the class whose probability is explained.
    seeds : one LIME run per seed (passed as LIME's ``random_state``).
    num_samples : LIME's perturbation budget per run.
    """
    from lime.lime_tabular import LimeTabularExplainer
    from threadpoolctl import threadpool_limits

    codec = Codec(training, row)
    pos = list(model.classes_).index(positive_label)
    features = codec.columns
    train = codec.encode(training)
    x = codec.encode(row)[0]
    cat_names = {i: [str(v) for v in codec.categories[c]]
                 for i, c in enumerate(features) if c in codec.categories}

    def predict_fn(matrix: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(model.predict_proba(codec.decode(matrix)), dtype=float)

    out = np.zeros((len(seeds), len(features)))
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = LimeTabularExplainer(
            train, mode="classification", feature_names=features,
            categorical_features=codec.categorical_indices, categorical_names=cat_names,
            discretize_continuous=True, discretizer="quartile", random_state=0)
        for s, seed in enumerate(seeds):
            # the sampler, the discretiser and the surrogate share this one RandomState:
            # re-seeding it gives exactly a fresh explainer's run with random_state=seed
            explainer.random_state.seed(int(seed) % 2**32)
            exp = explainer.explain_instance(x, predict_fn, labels=(pos,),
                                             num_features=len(features),
                                             num_samples=int(num_samples))
            for j, w in exp.as_map()[pos]:
                out[s, j] = w
    return out


def lime_result(weights: np.ndarray, shap_row: np.ndarray, features, *, top_k: int,
                seeds: Sequence[int]) -> LimeResult:
    """The per-customer measures of LIME weights (seeds x p) against one SHAP row."""
    sv = np.asarray(shap_row, dtype=float)
    k = min(int(top_k), sv.size)
    mean = weights.mean(axis=0)
    return LimeResult(weights=weights, features=tuple(str(c) for c in features), top_k=k,
                      stability=stability(weights, k), feature_agreement=feature_agreement(
                          mean, sv, k), sign_agreement=sign_agreement(mean, sv, k),
                      rank_agreement=_spearman(np.abs(weights).mean(axis=0), np.abs(sv)),
                      seeds=tuple(int(x) for x in seeds))


def explain_local(model, rows: pd.DataFrame, training: pd.DataFrame, shap_values: np.ndarray, *,
                  positive_label, seeds: Sequence[int], num_samples: int = 1000,
                  top_k: int = 5) -> list[LimeResult]:
    """LIME for each row of ``rows`` over ``seeds``, compared with that row's SHAP values.

    ``shap_values`` has shape (len(rows), p), per input column (folded). Returns one
    :class:`LimeResult` per row. ``top_k`` is capped at p.
    """
    rows = rows.reset_index(drop=True)
    return [lime_result(lime_weights(model, rows.iloc[[i]], training,
                                     positive_label=positive_label, seeds=seeds,
                                     num_samples=num_samples),
                        shap_values[i], rows.columns, top_k=top_k, seeds=seeds)
            for i in range(len(rows))]


def _customers(item) -> list[tuple[float, float, float]]:
    """A ``parallel_map`` worker: the three judged measures of a chunk of customers."""
    model, rows, training, shap_rows, positive_label, seeds, num_samples, top_k = item
    return [(r.stability, r.feature_agreement, r.sign_agreement)
            for r in explain_local(model, rows, training, shap_rows,
                                   positive_label=positive_label, seeds=seeds,
                                   num_samples=num_samples, top_k=top_k)]


def sample_agreement(model, rows: pd.DataFrame, training: pd.DataFrame,
                     shap_values: np.ndarray, *, positive_label, seeds: Sequence[int],
                     num_samples: int = 1000, top_k: int = 5,
                     n_jobs: int | None = None, chunk: int = 5) -> np.ndarray:
    """The judged measures (:data:`AGREEMENT_MEASURES`) of each customer of a sample, shape
    (len(rows), 3). Customers go through ``parallel_map`` in chunks of ``chunk`` (the model is
    shipped once per chunk); each customer's runs are seeded, so parallel equals sequential."""
    from audits.core.parallel import parallel_map

    rows = rows.reset_index(drop=True)
    shap_values = np.asarray(shap_values, dtype=float)
    items = [(model, rows.iloc[i:i + chunk], training, shap_values[i:i + chunk],
              positive_label, tuple(seeds), num_samples, top_k)
             for i in range(0, len(rows), chunk)]
    out = [m for part in parallel_map(_customers, items, n_jobs=n_jobs) for m in part]
    return np.asarray(out, dtype=float).reshape(len(rows), len(AGREEMENT_MEASURES))


_LABELS = {"stability": "LIME stability: mean pairwise top-{k} overlap over seeds",
           "feature_agreement": "LIME-SHAP feature agreement: share of SHAP's top {k} in "
                                "LIME's top {k}",
           "sign_agreement": "LIME-SHAP sign agreement: share of the top {k} in both, with the "
                             "same sign"}
_REF = ("Ribeiro et al. 2016 (LIME); Alvarez-Melis & Jaakkola 2018 (instability); Krishna et al. "
        "2022 (feature and sign agreement)")


def judge_sample(values: np.ndarray, threshold, *, n_boot: int, confidence: float,
                 random_state: int, method: str, k: int):
    """Metrics and the finding of the LIME sample check.

    ``values`` (n customers, 3): the :data:`AGREEMENT_MEASURES` of each customer. Each measure
    is averaged over the customers; the intervals are one simultaneous max-statistic band
    (:func:`audits.core.bootstrap.simultaneous_band`) over the three means, from a bootstrap
    over customers; each is judged against ``threshold`` (attention when its interval lies
    wholly below, pass when wholly above; quality scores have no "no effect").

    Returns ``(metrics, finding)``.
    """
    from audits.core.bootstrap import bootstrap_weights, simultaneous_band
    from audits.core.results import Finding, Metric, Severity, judge

    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    means = np.nanmean(values, axis=0)
    rng = np.random.default_rng(random_state)
    filled = np.nan_to_num(values)
    present = (~np.isnan(values)).astype(float)
    reps = []
    for w in bootstrap_weights(n, n_boot, rng):
        with np.errstate(invalid="ignore", divide="ignore"):
            reps.append((w @ filled) / (w @ present))
    lo, hi = simultaneous_band(np.vstack(reps), confidence=confidence)
    metrics, sev = [], []
    for j, name in enumerate(AGREEMENT_MEASURES):
        metrics.append(Metric(
            f"lime_sample.{name}", means[j], (lo[j], hi[j]), n=n, reference=_REF,
            label=_LABELS[name].format(k=k) + f", mean over {n} random holdout customers",
            method=f"{method}; percentile bootstrap over customers ({n_boot} replicates), one "
                   f"simultaneous {confidence:.0%} band over the three measures"))
        sev.append(judge(metrics[-1].ci, threshold, value=metrics[-1].value))
    worst = max(range(3), key=lambda j: (sev[j].rank, -means[j]))
    severity = sev[worst]
    parts = [f"{m.label.split(':')[0]} {m.value:.2f} (interval {m.ci[0]:.2f} to {m.ci[1]:.2f})"
             for m in metrics]
    text = (f"Over {n} holdout customers drawn at random: " + "; ".join(parts)
            + f". The bound is {threshold.attention:g}, on the interval.")
    if severity is Severity.ATTENTION:
        text += (f" {metrics[worst].label.split(':')[0]} lies wholly below it: LIME's "
                 "explanations of this model are not reliable reasons.")
        action = ("Do not give LIME explanations to customers as the reason for a decision; "
                  "use the SHAP contributions, or review explanations by hand.")
    elif severity is Severity.PASS:
        text += " Every interval lies above it: LIME's explanations are stable and agree with SHAP."
        action = "None needed."
    elif severity is Severity.INCONCLUSIVE:
        text += (" An interval crosses it: these customers cannot tell whether LIME's "
                 "explanations are reliable; a larger sample (n_lime_customers) would settle it.")
        action = "Explain more customers (n_lime_customers) before relying on LIME explanations."
    else:
        action = "Explain more customers before relying on LIME explanations."
    finding = Finding(
        id="explainability.local_stability.lime", severity=severity, area="explainability",
        title="Can LIME's explanations be given to customers as reasons?", statement=text,
        action=action, metric=metrics[worst], threshold=threshold)
    return metrics, finding
