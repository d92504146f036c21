"""Benchmark: SHAP for 10,000 rows of the churn sample model, our TreeSHAP path against shap's
model-agnostic path.

Our path (``audits.shap_values.explain``): the Pipeline's preprocessing, exact path-dependent
TreeSHAP on the HistGradientBoostingClassifier, contributions of the one-hot columns folded back
to the original inputs. Target: under 10 s for 10,000 rows on 2 cores.

The comparison: the same explanation through shap's model-agnostic PermutationExplainer on
``predict_proba`` (10 antithetic permutations per row, 50 background rows, categoricals
label-encoded), timed on a few hundred rows and extrapolated linearly to 10,000 rows (its cost is
linear in the rows: each row is explained independently). A warm-up call on 2 rows is excluded
from its timing (shap compiles its masking code with numba on first use). It runs in one process.

Run from the repository root::

    python bench/bench_shap.py [--rows 10000] [--agnostic-rows 200] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SECONDS = 10.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--agnostic-rows", type=int, default=200)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    import numpy as np

    from audits.shap_values import explain
    from reports.source import load_sample

    subject = load_sample("churn")
    X = subject.X("nonmembers")
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(X), min(args.rows, len(X)), replace=False))
    X = X.iloc[rows].reset_index(drop=True)
    background = subject.X("members")
    pos = subject.positive_label

    explain(subject.model, X.iloc[:10], positive_label=pos)  # imports shap, builds caches
    start = time.perf_counter()
    ours = explain(subject.model, X, positive_label=pos, n_jobs=args.n_jobs)
    t_ours = time.perf_counter() - start

    k = min(args.agnostic_rows, len(X))
    explain(subject.model, X.iloc[:2], positive_label=pos, background=background,
            force_agnostic=True)  # warm-up: numba compilation, excluded
    start = time.perf_counter()
    agn = explain(subject.model, X.iloc[:k], positive_label=pos, background=background,
                  force_agnostic=True)
    t_agn = time.perf_counter() - start
    t_agn_full = t_agn * len(X) / k

    print(f"SHAP for {len(X):,} rows of the churn model ({type(subject.model[-1]).__name__} in a "
          f"Pipeline, {len(ours.features)} inputs, {ours.raw_values.shape[1]} encoded columns); "
          f"{os.cpu_count()} CPUs visible, n_jobs={args.n_jobs}")
    print()
    print(f"{'path':<58} {'rows timed':>10} {'seconds':>9} {'s / 10k rows':>13}")
    print(f"{'ours: TreeSHAP (exact, path-dependent) + folding':<58} {len(X):>10,} "
          f"{t_ours:>9.2f} {t_ours * 10_000 / len(X):>13.2f}")
    print(f"{'shap PermutationExplainer on predict_proba (agnostic)':<58} {k:>10,} "
          f"{t_agn:>9.2f} {t_agn_full * 10_000 / len(X):>13.1f}  (extrapolated)")
    print()
    print(f"ratio, agnostic / ours (extrapolated to {len(X):,} rows): {t_agn_full / t_ours:,.0f}x")
    print(f"additivity error, max |base + sum - output|: ours {ours.additivity_error:.1e} "
          f"(log-odds margin), agnostic {agn.additivity_error:.1e} (probability)")
    print(f"{agn.method}")
    verdict = "PASS" if t_ours < TARGET_SECONDS else "FAIL"
    print(f"target: ours under {TARGET_SECONDS:g} s for {len(X):,} rows: {verdict} "
          f"({t_ours:.2f} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
