"""Small synthetic subjects for the privacy-attack tests (no files, fast to fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.subject import AuditSubject

FEATURES = ("x0", "x1", "x2", "x3", "x4")
COEF = np.array([1.2, -0.8, 0.5, 0.0, 0.0])


def make_frame(n: int, rng: np.random.Generator, *, flip: float = 0.0) -> pd.DataFrame:
    """n customers: 5 numeric inputs, a logistic label (a share ``flip`` flipped at random),
    and a sensitive field ``group`` independent of everything."""
    X = rng.normal(size=(n, len(FEATURES)))
    y = rng.random(n) < 1 / (1 + np.exp(-(X @ COEF)))
    y ^= rng.random(n) < flip
    frame = pd.DataFrame(X, columns=list(FEATURES))
    frame["group"] = rng.choice(np.array(["a", "b"], dtype=object), n)
    frame["y"] = y.astype(int)
    return frame


def make_subject(model, members: pd.DataFrame, nonmembers: pd.DataFrame, *, seed: int = 0,
                 fit: bool = False, sensitive=("group",)) -> AuditSubject:
    if fit:
        model.fit(members[list(FEATURES)], members["y"])
    return AuditSubject(model=model, members=members, nonmembers=nonmembers, target="y",
                        positive_label=1, feature_columns=FEATURES, sensitive_fields=sensitive,
                        seed=seed, secret=b"test-secret", name="synthetic")


class Unclonable:
    """A fitted model behind an object scikit-learn cannot clone (no get_params)."""

    def __init__(self, inner):
        self._inner = inner
        self.classes_ = inner.classes_
        self.feature_names_in_ = inner.feature_names_in_

    def predict_proba(self, X):
        return self._inner.predict_proba(X)

    def predict(self, X):
        return self._inner.predict(X)
