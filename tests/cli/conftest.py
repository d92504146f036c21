"""Small model and data files for the command-line tests, and the variants the bad-input corpus
makes from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "customer_id": [f"C{seed}-{i:05d}" for i in range(n)],
        "tenure": rng.integers(1, 60, n),
        "spend": np.round(rng.gamma(2.0, 30.0, n) + 10 * x, 2),
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "gender": rng.choice(["F", "M"], n),
    })
    logit = 0.8 * x - 0.02 * frame["tenure"] + (frame["plan"] == "pro") * 0.5
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


FEATURES = ["tenure", "spend", "plan"]


def make_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([("num", StandardScaler(), ["tenure", "spend"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))])


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """A fitted pipeline saved with skops (and as a pickle), with member and holdout CSVs."""
    import joblib
    import skops.io as sio

    d = tmp_path_factory.mktemp("cli")
    train, holdout = make_frame(600, 1), make_frame(400, 2)
    model = make_pipeline().fit(train[FEATURES], train["churned"])
    sio.dump(model, d / "model.skops")
    joblib.dump(model, d / "model.pkl")
    train.to_csv(d / "train.csv", index=False)
    holdout.to_csv(d / "holdout.csv", index=False)
    return {"dir": d, "model": d / "model.skops", "pickle": d / "model.pkl",
            "train": d / "train.csv", "holdout": d / "holdout.csv",
            "trusted": sio.get_untrusted_types(file=d / "model.skops")}


@pytest.fixture(scope="session")
def models(files):
    """Model files that are wrong in one way each, fitted once per session."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    d = files["dir"] / "models"
    d.mkdir()
    train = pd.read_csv(files["train"])
    X, y = train[["tenure", "spend"]], train["churned"]
    out = {}

    def dump(name, obj):
        sio.dump(obj, d / name)
        out[name.split(".")[0]] = d / name

    dump("dict.skops", {"weights": [1, 2, 3]})
    dump("svc.skops", LinearSVC().fit(X, y))
    dump("unfitted.skops", LogisticRegression())
    dump("numpy.skops", LogisticRegression().fit(X.to_numpy(), y))
    dump("three.skops", LogisticRegression(max_iter=500).fit(X, np.arange(len(y)) % 3))
    flagged = train.assign(flag=(train["tenure"] > 30).astype(int))
    dump("flag.skops", LogisticRegression().fit(flagged[["tenure", "flag"]], y))
    dump("hgb.skops", HistGradientBoostingClassifier(max_iter=5).fit(X, y))
    out["hgb_untrusted"] = sio.get_untrusted_types(file=d / "hgb.skops")
    return out
