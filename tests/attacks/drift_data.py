"""A small customer file that drifts over time, split by time or at random (no files, fast).

Customers arrive in time order, t from 0 to 1. ``price_index`` drifts with time (its mean rises
by 3 standard deviations over the period, as an economic indicator does); ``channel`` shifts from
branch to online; ``tenure`` and ``balance`` are stable; the label follows a logistic model of
all four with a base rate that rises over time. A logistic regression (which cannot memorise) is
trained on the members:

- ``split="time"``: the earlier 60% are the members, the later 40% the holdout (METHODS.md's
  bank telemarketing case: the attacks then measure the drift between the periods);
- ``split="random"``: a random 60% are the members, the rest the holdout (exchangeable).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audits.core.subject import AuditSubject

FEATURES = ("price_index", "channel", "tenure", "balance")


def drifting_customers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers in time order (see the module docstring)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.random(n))
    price = rng.normal(3.0 * t, 1.0)
    online = rng.random(n) < 0.2 + 0.6 * t
    tenure = rng.integers(1, 73, n)
    balance = rng.normal(0.0, 1.0, n)
    logit = -1.5 + 1.0 * t + 0.4 * price + 0.6 * online - 0.02 * tenure + 0.8 * balance
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"customer_id": np.arange(n), "price_index": price,
                         "channel": np.where(online, "online", "branch"), "tenure": tenure,
                         "balance": balance, "responded": y})


def _model() -> Pipeline:
    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["channel"]),
                             ("num", StandardScaler(), ["price_index", "tenure", "balance"])])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=1000))])


def drift_subject(split: str, *, n: int = 2500, seed: int = 0) -> AuditSubject:
    """The audit subject of a logistic regression trained on 60% of the customers, the holdout
    the later 40% (``split="time"``) or a random 40% (``split="random"``)."""
    frame = drifting_customers(n, seed)
    cut = int(0.6 * n)
    if split == "time":
        members, nonmembers = frame.iloc[:cut], frame.iloc[cut:]
    elif split == "random":
        perm = np.random.default_rng([seed, 1]).permutation(n)
        members, nonmembers = frame.iloc[np.sort(perm[:cut])], frame.iloc[np.sort(perm[cut:])]
    else:
        raise ValueError(f"split is {split!r}; use 'time' or 'random'.")
    members, nonmembers = members.reset_index(drop=True), nonmembers.reset_index(drop=True)
    model = _model().fit(members[list(FEATURES)], members["responded"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="responded",
                        positive_label=1, feature_columns=FEATURES, id_column="customer_id",
                        seed=seed, secret=b"test-secret", name=f"drift-{split}")
