"""Benchmark: the counts bootstrap of the fairness probe against fairlearn's MetricFrame bootstrap.

On 1,000,000 rows with 12 intersectional groups (3 x 4), times

1. counting the 4 x 12 confusion cells (once per audit);
2. the 1,000-replicate bootstrap of every confusion-cell metric (selection rate, TPR, FPR, FNR,
   precision, accuracy, base rate): multinomial draws, all metrics, percentile intervals,
   ratios to the reference group with their simultaneous bands, and the parity aggregates
   (target: under 1 second on 2 cores);
3. for information, the probe's whole per-field computation (adds AUC and calibration with the
   within-group score bootstrap);
4. fairlearn's MetricFrame bootstrap on the same data and metrics: a few replicates are timed
   (``--fairlearn-boot``, default 2) and extrapolated to 1,000.

Run from the repository root::

    PYTHONPATH=. python bench/bench_fairness.py [--rows 1000000] [--fairlearn-boot 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np

from audits.core.config import AuditConfig
from audits.fairness_field import audit_field
from audits.group_metrics import (
    CELL_METRICS,
    bootstrap_cells,
    cell_metrics,
    confusion_counts,
    group_codes,
    intersect_codes,
    parity_summary,
    percentile_interval,
    safe_ratio,
    simultaneous_band,
)


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    age = rng.choice(["18-34", "35-49", "50-64", "65+"], n, p=[0.3, 0.3, 0.25, 0.15])
    y = (rng.random(n) < 0.35).astype(np.int8)
    score = np.clip(0.25 + 0.3 * y + 0.2 * rng.standard_normal(n), 0, 1)
    decision = (score >= 0.45).astype(np.int8)
    return region, age, y, score, decision


def cell_bootstrap(counts: np.ndarray, *, n_boot: int, seed: int, confidence: float = 0.95):
    """Everything the probe derives from the cells: replicates, intervals, ratios, bands."""
    reps = cell_metrics(bootstrap_cells(counts, n_boot=n_boot, random_state=seed))
    intervals = {m: percentile_interval(reps[m], confidence=confidence) for m in CELL_METRICS}
    point = cell_metrics(counts)
    ref = int(np.nanargmax(point["selection_rate"]))
    others = np.arange(counts.shape[0]) != ref
    di = safe_ratio(reps["selection_rate"][:, others], reps["selection_rate"][:, [ref]])
    err = np.hstack([safe_ratio(reps[m][:, others], reps[m][:, [ref]])
                     for m in ("fpr", "fnr", "precision")])
    bands = (simultaneous_band(di, confidence=confidence),
             simultaneous_band(err, confidence=confidence))
    aggregates = parity_summary(reps)
    return intervals, bands, aggregates


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--fairlearn-boot", type=int, default=2,
                        help="fairlearn replicates actually run (then extrapolated); 0 skips")
    args = parser.parse_args()

    region, age, y, score, decision = make_data(args.rows)
    t = time.perf_counter()
    ca, la = group_codes(region)
    cb, lb = group_codes(age)
    codes, levels = intersect_codes(ca, la, cb, lb)
    t_groups = time.perf_counter() - t
    t_count = best_of(lambda: confusion_counts(y, decision, codes, n_groups=len(levels)))
    counts = confusion_counts(y, decision, codes, n_groups=len(levels))
    t_boot = best_of(lambda: cell_bootstrap(counts, n_boot=args.n_boot, seed=1))
    cfg = AuditConfig()
    kw = dict(favourable_positive=True, n_boot=args.n_boot, confidence=0.95, min_group_size=30,
              sr_threshold=cfg.threshold("fairness.selection_rate_ratio"),
              error_threshold=cfg.threshold("fairness.error_rate_ratio"), random_state=1)
    t_field = best_of(lambda: audit_field("region*age", codes, levels, y, decision, score, **kw),
                      repeat=2)

    rows = [("grouping the rows (once per audit)", t_groups, ""),
            ("counting the 4 x 12 confusion cells", t_count, ""),
            (f"counts bootstrap, {args.n_boot} replicates, all cell metrics", t_boot,
             "target < 1 s"),
            (f"whole field incl. AUC/calibration, {args.n_boot} replicates", t_field, "")]
    t_fl_total = None
    if args.fairlearn_boot > 0:
        from fairlearn.metrics import (
            MetricFrame,
            false_negative_rate,
            false_positive_rate,
            selection_rate,
            true_positive_rate,
        )
        from sklearn.metrics import precision_score
        metrics = {"selection_rate": selection_rate, "tpr": true_positive_rate,
                   "fpr": false_positive_rate, "fnr": false_negative_rate,
                   "precision": partial(precision_score, zero_division=0)}
        sf = {"region": region, "age": age}
        t = time.perf_counter()
        MetricFrame(metrics=metrics, y_true=y, y_pred=decision, sensitive_features=sf)
        t_plain = time.perf_counter() - t
        t = time.perf_counter()
        MetricFrame(metrics=metrics, y_true=y, y_pred=decision, sensitive_features=sf,
                    n_boot=args.fairlearn_boot, ci_quantiles=[0.025, 0.975], random_state=1)
        t_fl = time.perf_counter() - t
        per_rep = max(t_fl - t_plain, 0.0) / args.fairlearn_boot
        t_fl_total = per_rep * args.n_boot
        rows += [("fairlearn MetricFrame, no bootstrap", t_plain, ""),
                 (f"fairlearn bootstrap, per replicate (from {args.fairlearn_boot} run)",
                  per_rep, "measured"),
                 (f"fairlearn bootstrap, {args.n_boot} replicates", t_fl_total,
                  f"extrapolated from {args.fairlearn_boot}")]

    print(f"Fairness bootstrap benchmark: {args.rows:,} rows, {len(levels)} groups "
          f"(region x age), {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>10}  note")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs:>10.4f}  {note}")
    if t_fl_total is not None:
        print(f"ratio fairlearn / counts bootstrap ({args.n_boot} replicates): "
              f"{t_fl_total / t_boot:,.0f}x")
    verdict = "PASS" if t_boot < 1.0 else "FAIL"
    print(f"{verdict}: counts bootstrap {t_boot:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
