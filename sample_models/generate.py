"""Build the sample sales models: synthetic CRM extracts with planted, measured effects.

Three samples, each a folder with ``model.skops`` (the fitted estimator), ``members.csv`` (the exact
rows it was trained on), ``nonmembers.csv`` (holdout rows from the same distribution) and
``manifest.json`` (what the columns mean, what was planted, what was measured at build time and
which findings a correct audit must raise). All randomness comes from
``numpy.random.default_rng`` seeded from ``seed``; every estimator is seeded. The people do not
exist.

- ``churn``: postcode region is a model input and a strong proxy for ethnicity; the historical
  labels under-record churn in two regions, so the model offers far fewer retention discounts to
  one ethnic group (a disparate-impact fail without ethnicity being an input).
- ``lead_scoring``: the control. No bias, no leakage: a correct audit raises no fail.
- ``purchase_propensity``: a fully grown random forest on noisy labels memorises its 4,000
  training customers and uses ``expecting_parent`` as an input (the Target case): membership and
  attribute inference succeed on members far better than on non-members. Ten planted outliers
  (one card of each of ten bulk-buying businesses, labelled against the business's other cards)
  are the most exposed and most memorised customers.

Two samples of the other tasks and formats (issue 14), ``PHASE_B_SAMPLES``, listed in
``SAMPLE_NAMES`` with the binary ones (``BINARY_SAMPLES``) since every probe supports their tasks:
``customer_value`` (a regression trained natively with LightGBM) and ``next_best_offer`` (a
multiclass pipeline shipped as skops and ONNX); see :mod:`sample_models._kinds`.

Run ``python -m sample_models.generate [--force] [--seed N] [--out-dir DIR] [name ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# Finding and checking samples stays cheap: pandas, scikit-learn, skops and the dataset
# definitions (sample_models._datasets) are imported only by the functions that build.

__all__ = [
    "SAMPLE_NAMES", "BINARY_SAMPLES", "PHASE_B_SAMPLES", "DEFAULT_SEED", "GENERATOR_VERSION",
    "FILES",
    "samples_dir", "sample_dir", "is_built", "build_sample", "build_samples", "load_manifest",
    "generate_data", "train_model", "cramers_v",
]

#: The binary classifiers' samples (skops, with the data-rights columns and erasure requests).
BINARY_SAMPLES = ("churn", "lead_scoring", "purchase_propensity")
#: Samples of the other tasks (regression, multiclass) and formats (LightGBM text, ONNX), audited
#: like the others now that every probe supports their tasks (issue 14).
PHASE_B_SAMPLES = ("customer_value", "next_best_offer")
SAMPLE_NAMES = BINARY_SAMPLES + PHASE_B_SAMPLES
_ALL_NAMES = SAMPLE_NAMES
DEFAULT_SEED = 20261123
GENERATOR_VERSION = 4
FILES = (
    "model.skops", "members.csv", "nonmembers.csv", "erased.csv", "manifest.json")
ENV_VAR = "REVIEW_BOARD_SAMPLES_DIR"


# -- where the samples live -------------------------------------------------------------------

def samples_dir() -> pathlib.Path:
    """The samples' root: ``$REVIEW_BOARD_SAMPLES_DIR`` if set, else ``sample_models/data``."""
    env = os.environ.get(ENV_VAR)
    return pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parent / "data"


def sample_dir(name: str) -> pathlib.Path:
    """The folder of one sample under :func:`samples_dir`."""
    return samples_dir() / _check_name(name)


def _check_name(name: str) -> str:
    if name not in _ALL_NAMES:
        raise ValueError(f"Unknown sample {name!r}; the samples are {list(SAMPLE_NAMES)}.")
    return name


def _folder(name: str, out_dir) -> pathlib.Path:
    root = pathlib.Path(out_dir) if out_dir is not None else samples_dir()
    return root / _check_name(name)


def load_manifest(name: str, *, out_dir: pathlib.Path | None = None) -> dict:
    """The manifest of a built sample (``out_dir`` is the samples' root, as in build_sample)."""
    path = _folder(name, out_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"The sample {name!r} is not built: {path} does not exist. Build it with "
            f"`python -m sample_models.generate {name}`.")
    return json.loads(path.read_text(encoding="utf-8"))


def is_built(name: str, *, out_dir: pathlib.Path | None = None, seed: int = DEFAULT_SEED) -> bool:
    """True when the four files exist and the manifest's seed and generator version match."""
    folder = _folder(name, out_dir)
    files, version = FILES, GENERATOR_VERSION
    if name in PHASE_B_SAMPLES:
        from sample_models import _kinds

        files, version = _kinds.FILES[name], _kinds.VERSION
    if not all((folder / f).is_file() for f in files):
        return False
    try:
        manifest = load_manifest(name, out_dir=out_dir)
    except (OSError, ValueError):
        return False
    return manifest.get("seed") == seed and manifest.get("generator_version") == version


# -- data, models and measurements ----------------------------------------------------------

def cramers_v(x, y) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013), as used for the manifests' measurements."""
    from sample_models import _datasets

    return _datasets.cramers_v(x, y)


def generate_data(name: str, *, seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The members and non-members of a sample exactly as written to CSV (no model, no files)."""
    from sample_models import _datasets, _kinds, _rights

    if name in PHASE_B_SAMPLES:
        members, nonmembers, _ = _kinds.SPECS[_check_name(name)].make(_rng(name, seed))
        return members, nonmembers
    members, nonmembers, hidden = _datasets.SPECS[_check_name(name)].make(_rng(name, seed))
    members, nonmembers, *_ = _rights.add_rights(name, _rights_rng(name, seed), members,
                                                 nonmembers, hidden)
    return members, nonmembers


def _one_openmp_thread():
    """Run OpenMP code (HistGradientBoosting) on one thread: on a busy 2-core machine two spinning
    OpenMP threads made the churn fit 10x slower (11 s against 0.8 s), and one thread is as fast
    as two on these small data."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="openmp")


def _rng(name: str, seed: int) -> np.random.Generator:
    # one independent stream per sample, all derived from the one seed
    return np.random.default_rng([seed, _ALL_NAMES.index(name)])


def _rights_rng(name: str, seed: int) -> np.random.Generator:
    # the data-rights columns' own stream: drawing them changes none of the sample's own draws
    return np.random.default_rng([seed, SAMPLE_NAMES.index(name), 18])


def train_model(name: str, members: pd.DataFrame, *, seed: int = DEFAULT_SEED):
    """Fit the sample's estimator on ``members`` (read back from CSV, as a loader will see it)."""
    if name in PHASE_B_SAMPLES:
        from sample_models import _kinds

        return _kinds.train_model(name, members, seed=seed)
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from sample_models import _datasets

    spec = _datasets.SPECS[_check_name(name)]
    X = members[list(spec.feature_columns)]
    y = members[spec.target]
    categorical = [c for c in spec.feature_columns if c in spec.categorical]
    numeric = [c for c in spec.feature_columns if c not in spec.categorical]
    if spec.model == "logistic":
        numeric_step, estimator = StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)
    elif spec.model == "hist_gradient_boosting":
        numeric_step = "passthrough"
        # regularised: shallow trees, small steps, large leaves (the true churn logit is additive;
        # deeper trees, larger steps or 200-row leaves gave a medium membership risk, RMIA AUC
        # 0.565 [0.555, 0.575], for no gain on the holdout)
        estimator = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, max_depth=2, min_samples_leaf=800,
            l2_regularization=1.0, early_stopping=False, random_state=seed % 2**32)
    else:  # a fully grown forest: memorises on purpose
        numeric_step = "passthrough"
        estimator = RandomForestClassifier(
            n_estimators=150, min_samples_leaf=1, max_features="sqrt", bootstrap=True,
            random_state=seed % 2**32, n_jobs=2)
    preprocess = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
         ("numeric", numeric_step, numeric)])
    with _one_openmp_thread():
        model = Pipeline([("preprocess", preprocess), ("model", estimator)]).fit(X, y)
    if spec.model == "random_forest":
        # fitted on 2 cores, saved to predict on one: with n_jobs=2 the trees' probabilities are
        # summed in whichever order the threads finish, so predict_proba varies in the last bits
        # from call to call; an audit parallelises above the model anyway
        model.set_params(model__n_jobs=None)
    return model


# -- building ------------------------------------------------------------------------------

def build_sample(name: str, *, out_dir: pathlib.Path | None = None,
                 seed: int = DEFAULT_SEED) -> pathlib.Path:
    """Generate, train and write one sample into ``out_dir / name``; return that folder.

    ``out_dir`` is the samples' root (default :func:`samples_dir`). The manifest is written last,
    so a folder whose build was interrupted is never taken as built.
    """
    with _one_openmp_thread():
        if name in PHASE_B_SAMPLES:
            from sample_models import _kinds

            return _kinds.build(name, _folder(name, out_dir), seed, _rng(name, seed),
                                np.random.default_rng([seed, 99]))
        return _build(name, _folder(name, out_dir), seed)


def _build(name, folder, seed):
    import pandas as pd
    import skops.io as sio

    from sample_models import _datasets, _rights

    spec = _datasets.SPECS[_check_name(name)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)
    members, nonmembers, hidden = spec.make(_rng(name, seed))
    members, nonmembers, erased, rights, planted_rights = _rights.add_rights(
        name, _rights_rng(name, seed), members, nonmembers, hidden)
    _write_atomic(folder / _rights.ERASED_FILE, erased.to_csv(index=False).encode("utf-8"))
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        _write_atomic(folder / f"{part}.csv", frame.to_csv(index=False).encode("utf-8"))
    members = pd.read_csv(folder / "members.csv")        # fit on what a loader will read
    nonmembers = pd.read_csv(folder / "nonmembers.csv")
    model = train_model(name, members, seed=seed)

    tmp = folder / "model.skops.tmp"
    sio.dump(model, tmp)
    os.replace(tmp, folder / "model.skops")
    trusted = sio.get_untrusted_types(file=folder / "model.skops")
    loaded = sio.load(folder / "model.skops", trusted=trusted)
    X = nonmembers[list(spec.feature_columns)].head(2000)
    if not np.array_equal(loaded.predict_proba(X), model.predict_proba(X)):
        raise RuntimeError(f"The skops round trip of the {name!r} model changed its predictions.")
    if list(model.feature_names_in_) != list(spec.feature_columns):
        raise RuntimeError(f"The {name!r} model's inputs differ from the manifest's.")

    effects, findings = spec.measure(model, members, nonmembers, hidden,
                                     np.random.default_rng([seed, 99]), spec)
    manifest = {
        "name": name, "description": spec.description, "generator_version": GENERATOR_VERSION,
        "seed": seed, "target": spec.target, "positive_label": spec.positive_label,
        "favourable_label": spec.favourable_label, "favourable_action": spec.favourable_action,
        "sensitive_fields": list(spec.sensitive_fields),
        "personal_columns": list(spec.personal_columns),
        "quasi_identifiers": list(spec.quasi_identifiers), "id_column": spec.id_column,
        "feature_columns": list(spec.feature_columns), "trusted_types": list(trusted),
        "rows": {"members": len(members), "nonmembers": len(nonmembers)},
        "model": f"{type(model[-1]).__name__} in a scikit-learn Pipeline",
        "planted_effects": effects, "expected_findings": findings,
        "rights": rights, "planted_rights": planted_rights,
    }
    _write_atomic(folder / "manifest.json",
                  (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return folder


def _write_atomic(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build_samples(names=None, *, out_dir: pathlib.Path | None = None, seed: int = DEFAULT_SEED,
                  force: bool = False) -> list[pathlib.Path]:
    """Build the named samples (default: all) that are missing or stale; all of them with force."""
    names = SAMPLE_NAMES if names is None else tuple(names)
    for name in names:
        _check_name(name)
    return [build_sample(n, out_dir=out_dir, seed=seed)
            if force or not is_built(n, out_dir=out_dir, seed=seed) else _folder(n, out_dir)
            for n in names]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_models.generate",
                                     description="Build the sample sales models.")
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"samples to build (default: all of {', '.join(SAMPLE_NAMES)})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out-dir", type=pathlib.Path, default=None,
                        help=f"root folder (default: ${ENV_VAR} or sample_models/data)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in _ALL_NAMES]
    if unknown:
        parser.error(f"unknown sample {unknown[0]!r}; choose from {', '.join(_ALL_NAMES)}")
    for name in args.names or SAMPLE_NAMES:
        start = time.perf_counter()
        if not args.force and is_built(name, out_dir=args.out_dir, seed=args.seed):
            print(f"{name}: up to date in {_folder(name, args.out_dir)}")
            continue
        folder = build_sample(name, out_dir=args.out_dir, seed=args.seed)
        print(f"{name}: built in {time.perf_counter() - start:.1f} s -> {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
