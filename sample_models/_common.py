"""What the three synthetic samples share: their spec, the statistics that measure their planted
effects, and the helpers that draw people and split members from non-members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.metrics import roc_auc_score

from sample_models import _people

REGIONS = ("Central", "North", "North East", "East", "South East", "South", "South West", "West")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class Spec:
    """What a sample is: its columns' roles, its model family, and how to draw and measure it."""

    description: str
    target: str
    positive_label: object
    favourable_label: object
    favourable_action: str
    sensitive_fields: tuple
    personal_columns: tuple
    quasi_identifiers: tuple
    id_column: str
    feature_columns: tuple
    categorical: tuple
    model: str  # "hist_gradient_boosting" | "logistic" | "random_forest"
    make: Callable
    measure: Callable


# -- statistics ----------------------------------------------------------------------------

def cramers_v(x, y) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013, J. Korean Stat. Soc. 42:323-328)."""
    table = pd.crosstab(np.asarray(x), np.asarray(y)).to_numpy()
    n = table.sum()
    r, k = table.shape
    if min(r, k) < 2:
        return 0.0
    phi2 = chi2_contingency(table, correction=False)[0] / n
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_c, k_c = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / min(r_c - 1, k_c - 1)))


def selection_rates(decisions, groups, rng, n_boot=2000) -> dict:
    """Selection rate per group and its ratio to the best group, with stratified bootstrap 95%
    intervals (counts resampled within each group: binomial draws of the group's decisions)."""
    decisions, groups = np.asarray(decisions), np.asarray(groups).astype(str)
    names = sorted(set(groups))
    n = np.array([(groups == g).sum() for g in names])
    rate = np.array([decisions[groups == g].mean() for g in names])
    ratio = rng.binomial(n, rate, size=(n_boot, len(names))) / n
    ratio = ratio / ratio.max(axis=1, keepdims=True)
    lo, hi = np.percentile(ratio, [2.5, 97.5], axis=0)
    return {g: {"n": int(n[i]), "selection_rate": _r(rate[i]),
                "ratio_to_best": _r(rate[i] / rate.max()), "ratio_ci95": [_r(lo[i]), _r(hi[i])]}
            for i, g in enumerate(names)}


def _r(x, digits=4) -> float:
    return round(float(x), digits)


def _aucs(model, members, nonmembers, spec, proba=None) -> dict:
    """AUC on members and on non-members, their gap, and the AUC of the LOSS membership attack
    (Yeom et al. 2018: score = model probability of the recorded label). ``proba`` may hold the
    predict_proba of each part, already computed."""
    parts = {"members": members, "nonmembers": nonmembers}
    proba = proba or {k: model.predict_proba(f[list(spec.feature_columns)])
                      for k, f in parts.items()}
    positive = list(model.classes_).index(spec.positive_label)
    auc = {k: roc_auc_score(f[spec.target] == spec.positive_label, proba[k][:, positive])
           for k, f in parts.items()}
    p_true = [_p_label(model, proba[k], f[spec.target]) for k, f in parts.items()]
    loss = roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))],
                         np.concatenate(p_true))
    return {"auc_members": _r(auc["members"]), "auc_nonmembers": _r(auc["nonmembers"]),
            "auc_gap": _r(auc["members"] - auc["nonmembers"]), "loss_attack_auc": _r(loss)}


def _finding(finding_id, severity, why) -> dict:
    return {"finding_id": finding_id, "severity": severity, "why": why}


# -- shared drawing helpers ----------------------------------------------------------------

def _people_columns(rng, gender, id_prefix, domains=None) -> dict:
    n = len(gender)
    first, last = _people.full_names(rng, gender)
    if domains is None:
        domains = np.asarray(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    return {"id": _people.unique_ids(rng, n, id_prefix),
            "full_name": np.array([f"{f} {l}" for f, l in zip(first, last)], dtype=object),
            "email": _people.emails(first, last, domains), "phone": _people.phones(rng, n)}


def _split(df, n_members, rng, id_column, hidden=()) -> tuple:
    """Random members/non-members split; each file sorted by id like an extract; hidden columns
    returned separately, aligned with the rows."""
    order = rng.permutation(len(df))
    parts = [df.iloc[order[:n_members]], df.iloc[order[n_members:]]]
    parts = [p.sort_values(id_column, kind="stable").reset_index(drop=True) for p in parts]
    truth = {name: p[list(hidden)].copy() for name, p in zip(("members", "nonmembers"), parts)}
    return parts[0].drop(columns=list(hidden)), parts[1].drop(columns=list(hidden)), truth


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _p_label(model, proba, y):
    """Model probability of the recorded label ``y``, from ``proba = model.predict_proba(X)``."""
    return proba[np.arange(len(proba)), np.searchsorted(model.classes_, np.asarray(y))]


def _band(values, bins=5):
    """Quantile bands for a numeric column with many values, the column itself otherwise; the top
    1% is pooled with the 99th percentile first (a few bulk buyers must not merge a count's
    bands)."""
    values = pd.Series(values)
    if values.dtype.kind in "if":
        values = values.clip(upper=values.quantile(0.99))
    if values.dtype.kind in "if" and values.nunique() > bins:
        return pd.qcut(values, bins, labels=False, duplicates="drop")
    return values


