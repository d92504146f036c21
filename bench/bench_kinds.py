"""Benchmark: a regression and a multiclass audit against the binary churn audit (issue 14).

On 30,000 rows each (15,000 members, 15,000 non-members), with the default profile and every
probe, in one run on the same machine:

- binary: the churn sample (HistGradientBoosting pipeline, skops), as built;
- regression: customer_value's data drawn at 30,000 rows, its LightGBM recipe trained on the
  members, saved as a LightGBM text file and loaded by the tool (native TreeSHAP);
- multiclass: next_best_offer's data drawn at 30,000 rows, its random-forest pipeline trained on
  the members, saved with skops.

Each audit starts from an empty pool cache (a fresh REVIEW_BOARD_HOME). Printed: each audit's
time, each probe's time, and the ratio to the binary audit. Target: at most 1.5 times the binary
audit's time. ``--light`` uses the light profile (a quick look; the target is for the default).

    PYTHONPATH=. python bench/bench_kinds.py [--light] [--rows 30000]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def _fresh_home() -> None:
    os.environ["REVIEW_BOARD_HOME"] = tempfile.mkdtemp(prefix="bench-kinds-home-")


def _task_subject(name: str, rows: int, folder: Path):
    """A phase-B sample drawn at ``rows`` rows, its model trained and saved like the sample's."""
    import numpy as np

    from audits.core.loading import load_subject
    from sample_models import _kinds
    from sample_models import generate as g

    spec = _kinds.SPECS[name]
    rng = np.random.default_rng([g.DEFAULT_SEED, 30_000, len(name)])
    members, nonmembers, _ = spec.make(rng, n=rows)
    members.to_csv(folder / "members.csv", index=False)
    nonmembers.to_csv(folder / "nonmembers.csv", index=False)
    import pandas as pd

    members = pd.read_csv(folder / "members.csv")
    model = _kinds.train_model(name, members, seed=g.DEFAULT_SEED)
    trusted = []
    if name == "customer_value":
        model.booster_.save_model(str(folder / "model.txt"))
        path = folder / "model.txt"
    else:
        import skops.io as sio

        sio.dump(model, folder / "model.skops")
        path = folder / "model.skops"
        trusted = sio.get_untrusted_types(file=path)
    favourable = spec.favourable_direction if spec.task == "regression" else \
        spec.favourable_label
    return load_subject(path, folder / "members.csv", folder / "nonmembers.csv",
                        target=spec.target, sensitive=list(spec.sensitive_fields),
                        personal=list(spec.personal_columns),
                        quasi_identifiers=list(spec.quasi_identifiers), trusted=trusted,
                        favourable=favourable, decision_threshold=spec.decision_threshold,
                        favourable_action=spec.favourable_action, id_column=spec.id_column,
                        name=f"{name}_{rows}")


def _audit(subject, config) -> tuple[float, dict]:
    from reports.build import run_audit

    _fresh_home()
    times, last = {}, {"probe": None, "t": time.perf_counter()}

    def progress(probe, stage, fraction):  # the runner's progress: (probe, stage, fraction)
        now = time.perf_counter()
        if probe != last["probe"]:
            last["probe"], last["t"] = probe, now
        times[probe] = now - last["t"]

    start = time.perf_counter()
    try:
        report = run_audit(subject, config, progress=progress)
    except TypeError:
        report = run_audit(subject, config)
    total = time.perf_counter() - start
    statuses = {k: v.status for k, v in report.probes.items()}
    return total, {"probes": times, "status": statuses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--light", action="store_true")
    parser.add_argument("--rows", type=int, default=30_000)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from audits.core.config import AuditConfig
    from reports.source import load_sample

    config = AuditConfig.light() if args.light else AuditConfig()
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; "
          f"profile {config.name}; {args.rows:,} rows per audit")
    with tempfile.TemporaryDirectory() as d, threadpool_limits(1):
        subjects = {"binary (churn)": load_sample("churn")}
        for name in ("customer_value", "next_best_offer"):
            folder = Path(d) / name
            folder.mkdir()
            s = _task_subject(name, args.rows, folder)
            subjects[f"{s.task} ({name})"] = s
        results = {}
        for label, subject in subjects.items():
            rows = len(subject.members) + len(subject.nonmembers)
            total, info = _audit(subject, config)
            results[label] = total
            print(f"{label}: {rows:,} rows, {total:.1f} s; statuses {info['status']}")
    base = results["binary (churn)"]
    for label, total in results.items():
        if label.startswith("binary"):
            continue
        ratio = total / base
        print(f"{label}: {ratio:.2f} x the binary audit (target <= 1.5): "
              f"{'met' if ratio <= 1.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
