"""Decisions from the probabilities (issue 15): equal to the model's ``predict`` on every row, with
``predict`` kept for models whose rule is not the argmax, and ties sent to ``predict``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audits.core.counts import score_frame
from audits.core.decisions import decided_classes, predict_is_argmax
from audits.core.subject import AuditSubject


def _data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.where(X["a"] + 0.5 * rng.normal(size=n) > 0.3, "yes", "no")
    return X, y


class ThresholdWrapper:
    """A custom wrapper: its predict says 'yes' from a probability of 0.3, not 0.5."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def predict(self, X):
        return np.where(self.predict_proba(X)[:, 1] >= 0.3, "yes", "no")


class ShiftedLogistic(LogisticRegression):
    """A subclass of a listed estimator that overrides predict: not listed itself."""

    def predict(self, X):
        return np.where(self.predict_proba(X)[:, 1] >= 0.7, "yes", "no")


@pytest.mark.parametrize("model", [
    LogisticRegression(), HistGradientBoostingClassifier(max_iter=30, random_state=0),
    make_pipeline(StandardScaler(), LogisticRegression())], ids=["lr", "hgb", "pipeline"])
def test_listed_models_decide_as_predict(model):
    X, y = _data()
    model.fit(X, y)
    assert predict_is_argmax(model)
    np.testing.assert_array_equal(decided_classes(model, X, model.predict_proba(X)),
                                  model.predict(X))


@pytest.mark.parametrize("make", [lambda m: ThresholdWrapper(m), None],
                         ids=["wrapper", "subclass"])
def test_other_models_keep_predict(make):
    X, y = _data()
    model = ShiftedLogistic().fit(X, y) if make is None else make(LogisticRegression().fit(X, y))
    assert not predict_is_argmax(model)
    got = decided_classes(model, X, model.predict_proba(X))
    np.testing.assert_array_equal(got, model.predict(X))
    argmax = np.asarray(model.classes_)[np.argmax(model.predict_proba(X), axis=1)]
    assert (got != argmax).sum() > 50  # the rule differs on many rows: predict was needed


def _tied_model():
    """Gradient boosting whose raw score is exactly 0 on every row (balanced labels, a zero
    start, a constant input: its one leaf's Newton step is 0): probabilities [0.5, 0.5], and
    its predict says the second class (``raw >= 0``) where the argmax says the first."""
    X = pd.DataFrame({"a": np.zeros(200)})
    y = np.array(["no", "yes"] * 100)
    model = GradientBoostingClassifier(init="zero", n_estimators=1, random_state=0).fit(X, y)
    assert np.all(model.predict_proba(X) == 0.5)
    return model, X


def test_ties_are_decided_by_predict():
    model, X = _tied_model()
    assert predict_is_argmax(model)
    got = decided_classes(model, X, model.predict_proba(X))
    np.testing.assert_array_equal(got, model.predict(X))
    assert set(got) == {"yes"}


@pytest.mark.xfail(strict=True, reason="a plain argmax, ties included, is not predict's rule")
def test_plain_argmax_breaks_ties_wrongly():
    model, X = _tied_model()
    broken = np.asarray(model.classes_)[np.argmax(model.predict_proba(X), axis=1)]
    np.testing.assert_array_equal(broken, model.predict(X))


@pytest.mark.parametrize("wrapped", [False, True], ids=["listed", "wrapper"])
def test_subject_and_partition_decide_as_predict(wrapped):
    """The in-memory subject's decisions and a partition's (``score_frame``) both equal
    ``predict`` on every row, for a listed model and for a wrapper with its own rule."""
    X, y = _data()
    model = LogisticRegression().fit(X, y)
    model = ThresholdWrapper(model) if wrapped else model
    frame = X.assign(target=y)
    subject = AuditSubject(model=model, members=frame, nonmembers=frame, target="target",
                           positive_label="yes", feature_columns=("a", "b"))
    want = (model.predict(X) == "yes").astype(np.int8)
    np.testing.assert_array_equal(subject.decisions("members"), want)
    _, p, d = score_frame(subject, frame)
    np.testing.assert_array_equal(d, want)
    np.testing.assert_array_equal(p, subject.scores("members"))
