"""Small models of every task and format, written to a folder with their members and non-members
as CSV (shared by the task tests of the vocabulary and of the runner)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from audits.core.loading import load_subject
from audits.core.subject import AuditSubject


def rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"customer_id": [f"C{seed}-{i}" for i in range(n)],
                       "tenure": rng.gamma(2, 10, n).round(1),
                       "spend": rng.gamma(2, 30, n).round(2),
                       "region": rng.choice(["North", "South", "East"], n),
                       "gender": rng.choice(["female", "male"], n)})
    south = (df["region"] == "South").to_numpy()
    df["value"] = (3 * df["spend"] - 40 * south + rng.normal(0, 20, n)).round(2)
    df["offer"] = np.select([df["spend"] > 70, south], ["premium", "plus"], "basic")
    df["churned"] = (df["value"] < df["value"].median()).astype(int)
    return df


FEATURES = ["tenure", "spend", "region"]


def write_task_files(d: Path):
    """Members and non-members as CSV in ``d``, and one model per task and format: a LightGBM
    regression (value.txt), an XGBoost binary classifier (churn.json) and a scikit-learn
    multiclass pipeline exported to ONNX (offer.onnx). Returns ``(d, pipeline)``."""
    import lightgbm as lgb
    import xgboost as xgb
    from skl2onnx import to_onnx
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    members, nonmembers = rows(1200, 1), rows(800, 2)
    members.to_csv(d / "members.csv", index=False)
    nonmembers.to_csv(d / "nonmembers.csv", index=False)
    members = pd.read_csv(d / "members.csv")
    X = members[FEATURES].assign(region=members["region"].astype("category"))
    with threadpool_limits(1):
        lgb.LGBMRegressor(n_estimators=30, verbose=-1, n_jobs=1).fit(X, members["value"]) \
            .booster_.save_model(str(d / "value.txt"))
        xgb.XGBClassifier(n_estimators=20, enable_categorical=True, max_depth=3, n_jobs=1) \
            .fit(X, members["churned"]).save_model(d / "churn.json")
        pipe = Pipeline([("pre", ColumnTransformer(
            [("region", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
              ["region"])], remainder="passthrough")),
            ("model", LogisticRegression(max_iter=1000))]).fit(members[FEATURES],
                                                              members["offer"])
    # float inputs: skl2onnx's linear classifier on double inputs builds a graph onnxruntime
    # rejects (a float Softmax output typed double)
    example = members[FEATURES].head(1).astype({"tenure": np.float32, "spend": np.float32})
    onx = to_onnx(pipe, example, options={id(pipe[-1]): {"zipmap": False}})
    (d / "offer.onnx").write_bytes(onx.SerializeToString())
    return d, pipe


def subject(files, model: str, target: str, **kw) -> AuditSubject:
    d, _ = files
    return load_subject(d / model, d / "members.csv", d / "nonmembers.csv", target=target,
                        sensitive=["gender"], personal=["customer_id"], **kw)
