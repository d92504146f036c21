"""The samples of the other tasks and formats (issue 14): how they are trained and written.

- ``customer_value``: a regression (24-month customer value) trained natively with LightGBM and
  shipped as a LightGBM text model file (``model.txt``), drawn in :mod:`sample_models._value`;
- ``next_best_offer``: a multiclass scikit-learn pipeline (one-hot encoding and a random forest)
  shipped as skops (``model.skops``) and as ONNX (``model.onnx``, exported by skl2onnx), drawn in
  :mod:`sample_models._offers`.

They are listed in ``generate.PHASE_B_SAMPLES``, not in ``SAMPLE_NAMES``: every page and test
iterates ``SAMPLE_NAMES`` and would audit them with the binary-only probes. Each folder holds its
model files, ``members.csv``, ``nonmembers.csv`` and ``manifest.json`` (as the binary samples',
plus the task, the favourable class or direction, the decision threshold, the model files by
format and, for the ONNX file, its measured agreement with the pipeline).
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sample_models import _offers, _value

#: bumped whenever these samples' data or models change (their build stamp)
VERSION = 1


@dataclass(frozen=True)
class TaskSpec:
    """A sample of another task: its columns' roles, its favourable outcome and its files."""

    description: str
    task: str
    target: str
    favourable_label: object
    favourable_direction: str | None
    decision_threshold: float | None
    favourable_action: str
    sensitive_fields: tuple
    personal_columns: tuple
    quasi_identifiers: tuple
    id_column: str
    feature_columns: tuple
    categorical: tuple
    model_files: dict  # format -> file name; the first is the model the audit loads
    make: Callable


SPECS = {
    "customer_value": TaskSpec(
        description=("Online retail customers: what will each spend over the next 24 months "
                     "(GBP)? A personal account manager is assigned to the customers predicted "
                     f"at or above {_value.THRESHOLD:g}."),
        task="regression", target="value_24m", favourable_label=None,
        favourable_direction="higher", decision_threshold=_value.THRESHOLD,
        favourable_action="assigned a personal account manager",
        sensitive_fields=("gender", "ethnicity"),
        personal_columns=("customer_id", "full_name", "email", "phone"),
        quasi_identifiers=("age", "gender", "postcode_region"), id_column="customer_id",
        feature_columns=("tenure_months", "orders_12m", "avg_order_value", "return_rate",
                         "newsletter", "app_user", "main_category", "acquisition_channel",
                         "age", "postcode_region"),
        categorical=("main_category", "acquisition_channel", "postcode_region"),
        model_files={"lightgbm-text": "model.txt"}, make=_value.make_customer_value),
    "next_best_offer": TaskSpec(
        description=("Broadband and mobile customers at contract renewal: which offer should "
                     "the agent present? basic_plan, standard_plan or premium_bundle (with a "
                     "30% loyalty discount)."),
        task="multiclass", target="accepted_offer", favourable_label=_offers.FAVOURABLE,
        favourable_direction=None, decision_threshold=None,
        favourable_action="offered the premium bundle with a 30% loyalty discount",
        sensitive_fields=("age_band", "gender"),
        personal_columns=("customer_id", "full_name", "email", "phone"),
        quasi_identifiers=("age", "gender", "postcode_region"), id_column="customer_id",
        feature_columns=("age", "tenure_months", "monthly_data_gb", "devices",
                         "household_size", "streaming_services", "support_calls",
                         "contract_type", "postcode_region"),
        categorical=("contract_type", "postcode_region"),
        model_files={"skops": "model.skops", "onnx": "model.onnx"},
        make=_offers.make_next_best_offer),
}

FILES = {name: (*spec.model_files.values(), "members.csv", "nonmembers.csv", "manifest.json")
         for name, spec in SPECS.items()}


# -- models ------------------------------------------------------------------------------------

def categories(members: pd.DataFrame, spec: TaskSpec) -> dict:
    """The categories of each categorical input, sorted (as the LightGBM file records them)."""
    return {c: sorted(members[c].astype(str).unique()) for c in spec.categorical}


def as_categories(frame: pd.DataFrame, cats: dict) -> pd.DataFrame:
    return frame.assign(**{c: pd.Categorical(frame[c].astype(str), categories=v)
                           for c, v in cats.items()})


def train_model(name: str, members: pd.DataFrame, *, seed: int):
    """Fit the sample's estimator on ``members`` (as read back from CSV): an ``LGBMRegressor`` on
    pandas categories (customer_value) or a scikit-learn Pipeline (next_best_offer)."""
    spec = SPECS[name]
    X, y = members[list(spec.feature_columns)], members[spec.target]
    if name == "customer_value":
        import lightgbm

        # regularised: shallow trees, 200-row leaves, small steps, row and column subsampling
        model = lightgbm.LGBMRegressor(
            n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=200,
            reg_lambda=1.0, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
            random_state=seed % 2**31, n_jobs=1, deterministic=True, force_row_wise=True,
            verbose=-1)
        return model.fit(as_categories(X, categories(members, spec)), y)
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    numeric = [c for c in spec.feature_columns if c not in spec.categorical]
    preprocess = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
          list(spec.categorical)), ("numeric", "passthrough", numeric)])
    forest = RandomForestClassifier(n_estimators=60, min_samples_leaf=40, max_features="sqrt",
                                    random_state=seed % 2**32, n_jobs=1)
    return Pipeline([("preprocess", preprocess), ("model", forest)]).fit(X, y)


def predictor(name: str, model, members: pd.DataFrame):
    """``X -> predictions`` (regression) of the fitted model on rows as read from CSV."""
    cats = categories(members, SPECS[name])
    return lambda X: np.asarray(model.predict(as_categories(X, cats)), dtype=float)


# -- files -------------------------------------------------------------------------------------

def _write_atomic(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_lightgbm(model, folder: pathlib.Path, members, spec) -> None:
    """The booster as a LightGBM text file; read back, it must predict as the fitted model."""
    import lightgbm

    tmp = folder / "model.txt.tmp"
    model.booster_.save_model(str(tmp))
    os.replace(tmp, folder / "model.txt")
    loaded = lightgbm.Booster(model_file=str(folder / "model.txt"))
    X = as_categories(members[list(spec.feature_columns)].head(2000), categories(members, spec))
    if not np.array_equal(loaded.predict(X), model.predict(X)):
        raise RuntimeError("The LightGBM text file of 'customer_value' predicts differently.")


def write_skops_and_onnx(model, folder: pathlib.Path, nonmembers, spec) -> tuple[list, dict]:
    """The pipeline as skops and ONNX; returns the skops file's untrusted types and the ONNX
    file's agreement with the pipeline on the non-members."""
    import skops.io as sio
    from skl2onnx import to_onnx

    tmp = folder / "model.skops.tmp"
    sio.dump(model, tmp)
    os.replace(tmp, folder / "model.skops")
    trusted = sio.get_untrusted_types(file=folder / "model.skops")
    X = nonmembers[list(spec.feature_columns)]
    if not np.array_equal(sio.load(folder / "model.skops", trusted=trusted).predict_proba(X),
                          model.predict_proba(X)):
        raise RuntimeError("The skops round trip of 'next_best_offer' changed its predictions.")
    # float32 inputs for the float columns, as skl2onnx advises for trees: scikit-learn's trees
    # compare float32 inputs, and with float64 graph inputs the runtime compared the float64
    # values with float32 thresholds (1.4% of rows changed their probabilities at the default
    # seed; none with float32 inputs)
    example = X.head(1).astype({c: np.float32 for c in X.columns if X[c].dtype.kind == "f"})
    onx = to_onnx(model, example, options={id(model[-1]): {"zipmap": False}})
    _write_atomic(folder / "model.onnx", onx.SerializeToString())
    return trusted, onnx_agreement(folder / "model.onnx", model, X)


def onnx_agreement(path: pathlib.Path, model, X: pd.DataFrame) -> dict:
    """How far the ONNX file's probabilities are from the pipeline's (float32 precision is a
    relative 1e-5), and the share of rows whose predicted class changes."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path.read_bytes(),
                                           providers=["CPUExecutionProvider"])
    feeds = {}
    for i in session.get_inputs():
        column = X[i.name]
        if i.type == "tensor(string)":
            feeds[i.name] = column.astype(str).to_numpy(object).reshape(-1, 1)
        else:
            dtype = {"tensor(double)": np.float64, "tensor(int64)": np.int64}.get(i.type,
                                                                                  np.float32)
            feeds[i.name] = column.to_numpy(dtype).reshape(-1, 1)
    (onnx_p,) = session.run(["probabilities"], feeds)
    ref = model.predict_proba(X)
    close = np.isclose(onnx_p, ref, rtol=1e-5, atol=1e-5 * float(np.mean(np.abs(ref))))
    return {"rows": int(len(X)), "share_rows_beyond_relative_1e-5":
            round(float((~close.all(axis=1)).mean()), 5),
            "max_abs_difference": round(float(np.abs(onnx_p - ref).max()), 6),
            "share_predicted_class_changed":
            round(float((onnx_p.argmax(axis=1) != ref.argmax(axis=1)).mean()), 5)}


def build(name: str, folder: pathlib.Path, seed: int, rng: np.random.Generator,
          measure_rng: np.random.Generator) -> pathlib.Path:
    """Generate, train and write one sample into ``folder`` (the manifest last)."""
    spec = SPECS[name]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)
    members, nonmembers, hidden = spec.make(rng)
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        _write_atomic(folder / f"{part}.csv", frame.to_csv(index=False).encode("utf-8"))
    members = pd.read_csv(folder / "members.csv")        # fit on what a loader will read
    nonmembers = pd.read_csv(folder / "nonmembers.csv")
    model = train_model(name, members, seed=seed)
    extra, trusted = {}, []
    if name == "customer_value":
        write_lightgbm(model, folder, members, spec)
        effects, findings = _value.measure_customer_value(
            predictor(name, model, members), members, nonmembers, hidden, measure_rng, spec)
        description = "LGBMRegressor (LightGBM text model file)"
    else:
        trusted, extra["onnx_agreement"] = write_skops_and_onnx(model, folder, nonmembers, spec)
        features = list(spec.feature_columns)
        proba = {"members": model.predict_proba(members[features]),
                 "nonmembers": model.predict_proba(nonmembers[features])}
        effects, findings = _offers.measure_next_best_offer(
            proba, model.classes_, members, nonmembers, hidden, measure_rng, spec)
        description = "RandomForestClassifier in a scikit-learn Pipeline (skops and ONNX)"
    manifest = {
        "name": name, "description": spec.description, "generator_version": VERSION,
        "seed": seed, "task": spec.task, "target": spec.target, "positive_label": None,
        "favourable_label": spec.favourable_label,
        "favourable_direction": spec.favourable_direction,
        "decision_threshold": spec.decision_threshold,
        "favourable_action": spec.favourable_action,
        "sensitive_fields": list(spec.sensitive_fields),
        "personal_columns": list(spec.personal_columns),
        "quasi_identifiers": list(spec.quasi_identifiers), "id_column": spec.id_column,
        "feature_columns": list(spec.feature_columns),
        "model_file": next(iter(spec.model_files.values())), "model_files": spec.model_files,
        "trusted_types": list(trusted),
        "rows": {"members": len(members), "nonmembers": len(nonmembers)},
        "model": description, **extra, "planted_effects": effects, "expected_findings": findings,
    }
    _write_atomic(folder / "manifest.json",
                  (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return folder
