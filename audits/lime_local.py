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
the Robustness of Interpretability Methods", ICML WHI workshop). Two measures are reported:

- stability: LIME is run with ``n_seeds`` (>= 10) seeds; the top-k features (k = 5, by absolute
  weight) of each run are compared pairwise; stability is the mean Jaccard overlap
  ``|A & B| / |A | B|`` over all pairs of runs (1 = always the same top-k);
- rank agreement with SHAP: Spearman's rank correlation between the mean absolute LIME weight
  (over seeds) and the absolute SHAP value of the same record, over all inputs (the "rank
  correlation" of Krishna et al. 2022, "The Disagreement Problem in Explainable Machine
  Learning"). The top-k Jaccard overlap of LIME's and SHAP's top five, averaged over seeds, is
  reported beside it, unjudged: with k = 5 it takes only the values 1, 0.67, 0.43, ..., so one
  swap at rank 5 already falls below 0.7, which would condemn explanations that agree on every
  reason that matters.

Stability and rank agreement are judged against ``explainability.stability`` (THRESHOLDS.md) on
their value: there is no interval around them (the seeds' runs are few and their pairs are not
independent).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["Codec", "LimeResult", "lime_weights", "explain_local", "top_features", "jaccard",
           "stability", "agreement"]


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
    rank_agreement : Spearman correlation of mean |LIME weight| and |SHAP value| over all
        features (NaN when either is constant).
    topk_overlap : mean over seeds of the Jaccard overlap of LIME's and SHAP's top-k features.
    seeds : the seeds used.
    """

    weights: np.ndarray
    features: tuple[str, ...]
    top_k: int
    stability: float
    rank_agreement: float
    topk_overlap: float
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
        for s, seed in enumerate(seeds):
            explainer = LimeTabularExplainer(
                train, mode="classification", feature_names=features,
                categorical_features=codec.categorical_indices, categorical_names=cat_names,
                discretize_continuous=True, discretizer="quartile",
                random_state=int(seed) % 2**32)
            exp = explainer.explain_instance(x, predict_fn, labels=(pos,),
                                             num_features=len(features),
                                             num_samples=int(num_samples))
            for j, w in exp.as_map()[pos]:
                out[s, j] = w
    return out


def explain_local(model, rows: pd.DataFrame, training: pd.DataFrame, shap_values: np.ndarray, *,
                  positive_label, seeds: Sequence[int], num_samples: int = 1000,
                  top_k: int = 5) -> list[LimeResult]:
    """LIME for each row of ``rows`` over ``seeds``, compared with that row's SHAP values.

    ``shap_values`` has shape (len(rows), p), per input column (folded). Returns one
    :class:`LimeResult` per row. ``top_k`` is capped at p.
    """
    rows = rows.reset_index(drop=True)
    k = min(int(top_k), rows.shape[1])
    results = []
    for i in range(len(rows)):
        w = lime_weights(model, rows.iloc[[i]], training, positive_label=positive_label,
                         seeds=seeds, num_samples=num_samples)
        sv = np.asarray(shap_values[i], dtype=float)
        results.append(LimeResult(
            weights=w, features=tuple(str(c) for c in rows.columns), top_k=k,
            stability=stability(w, k), topk_overlap=agreement(w, sv, k),
            rank_agreement=_spearman(np.abs(w).mean(axis=0), np.abs(sv)), seeds=tuple(seeds)))
    return results
