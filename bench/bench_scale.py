"""Benchmark: audits past one machine's memory (issue 15): partitioned Parquet input, in-process
and on a local Dask cluster.

The churn sample's rows are resampled, with fresh customer ids, to N rows (half members) and
written as Parquet files of ``--file-rows`` rows. Each run is a separate process (so its peak
memory is its own), timed from loading to the finished report, with the driver's peak resident
memory (``ru_maxrss``), the wall time and CPU time (the driver and its workers) of loading and of
each probe, and the load average at the start and the end (the machine may be shared: CPU time
is the figure that does not depend on it):

- ``memory``: the files read whole (the in-memory path; ``partition_rows`` above N);
- ``partitioned``: read file by file in this process and its local workers;
- ``cluster``: partitioned, the maps and fits on a ``dask.distributed.LocalCluster`` of two
  single-threaded worker processes (``--workers``).

``compare`` runs ``memory`` and ``partitioned`` on the same rows and checks that the fairness
probe's result, and every finding's severity and metric, are identical.

100 million rows are not run: their time is extrapolated from the 1 and 10 million rows runs,
``T(N) = a + b N`` (the sampled parts are capped by the profile and cost ``a``; scoring and
counting grow with the rows, ``b`` per row), and so is the driver's memory (the sample is capped;
the members/holdout overlap check keeps 8 bytes per row).

Run from the repository root (nice it: the machine is shared)::

    PYTHONPATH=. nice python bench/bench_scale.py make --rows 1000000 --out /tmp/scale/1m
    PYTHONPATH=. nice python bench/bench_scale.py run --data /tmp/scale/1m --mode partitioned
    PYTHONPATH=. nice python bench/bench_scale.py compare --data /tmp/scale/1m
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def make(rows: int, out: Path, *, file_rows: int = 500_000, seed: int = 0) -> dict:
    """Write ``rows`` churn rows (half members) as Parquet files under ``out``."""
    from reports.source import sample_files

    files = sample_files("churn")
    source = {"members": pd.read_csv(files["train"]), "nonmembers": pd.read_csv(files["holdout"])}
    started = time.perf_counter()
    for part, frame in source.items():
        d = out / part
        d.mkdir(parents=True, exist_ok=True)
        n, done, i = rows // 2, 0, 0
        while done < n:
            k = min(file_rows, n - done)
            rng = np.random.default_rng([seed, i, part == "members"])
            chunk = frame.iloc[rng.integers(0, len(frame), k)].reset_index(drop=True)
            chunk["customer_id"] = [f"{part[0].upper()}{done + j:09d}" for j in range(k)]
            chunk.to_parquet(d / f"part-{i:04d}.parquet", index=False)
            done, i = done + k, i + 1
    return {"rows": rows, "files_per_part": i, "seconds": round(time.perf_counter() - started, 1)}


def _run(data: Path, mode: str, probes: list[str] | None, light: bool, workers: int) -> dict:
    """One audit in this process (call through :func:`run`, which gives it its own process)."""
    import dataclasses

    from audits.core.config import AuditConfig
    from audits.core.loading import load_subject
    from reports.build import run_audit
    from reports.source import sample_files, sample_manifest

    config = AuditConfig.light() if light else AuditConfig()
    config = dataclasses.replace(config, partition_rows=10**12 if mode == "memory" else 0)
    cluster = None
    if mode == "cluster":
        from distributed import Client, LocalCluster

        from audits.core.engine_dask import use_cluster

        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        use_cluster(Client(cluster, set_as_default=False))
    m = sample_manifest("churn")
    t0, c0, load0 = time.perf_counter(), _tree_cpu(), os.getloadavg()
    subject = load_subject(sample_files("churn")["model"], data / "members",
                           data / "nonmembers", target=m["target"],
                           sensitive=m["sensitive_fields"], positive_label=m["positive_label"],
                           personal=m["personal_columns"], trusted=m["trusted_types"],
                           quasi_identifiers=m["quasi_identifiers"], id_column=m["id_column"],
                           favourable=m["favourable_label"], name="churn-scale",
                           sample_rows=config.sample_rows, partition_rows=config.partition_rows,
                           n_jobs=config.n_jobs)
    t_load, cpu_load = time.perf_counter() - t0, _tree_cpu() - c0
    print(f"[{t_load:8.1f}s] loaded: {subject.data_path()}", file=sys.stderr, flush=True)
    marks, starts, cpu_marks, cpu_starts = {}, {}, {}, {}

    def progress(probe, stage, frac):
        now, cpu = time.perf_counter(), _tree_cpu()
        if probe not in starts:
            print(f"[{now - t0:8.1f}s cpu {cpu - c0:8.1f}s load {os.getloadavg()[0]:5.1f}] "
                  f"{probe} starts; driver peak "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
                  file=sys.stderr, flush=True)
        starts.setdefault(probe, now)
        cpu_starts.setdefault(probe, cpu)
        marks[probe] = round(now - starts[probe], 1)
        cpu_marks[probe] = round(cpu - cpu_starts[probe], 1)

    report = run_audit(subject, config, probes=probes, progress=progress)
    total = time.perf_counter() - t0
    out = {"mode": mode, "data_path": subject.data_path(), "profile": config.name,
           "load_seconds": round(t_load, 1), "probe_seconds": marks,
           "total_seconds": round(total, 1), "load_cpu_seconds": round(cpu_load, 1),
           "probe_cpu_seconds": cpu_marks, "total_cpu_seconds": round(_tree_cpu() - c0, 1),
           "load_average": {"start": [round(x, 1) for x in load0],
                            "end": [round(x, 1) for x in os.getloadavg()]},
           "driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "findings": {f.id: [f.severity.value, None if f.metric is None else f.metric.value,
                               None if f.metric is None or f.metric.ci is None
                               else list(f.metric.ci)] for f in report.findings},
           "fairness": report.probes["fairness"].to_dict() if "fairness" in report.probes
           else None}
    if cluster is not None:
        cluster.close()
    return out


def _tree_cpu() -> float:
    """CPU seconds (user + system) of this process, its finished children and its live
    descendants (the loky or Dask workers), so a shared machine's load does not count."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:  # a worker that just ended
            pass
    return total


def run(data: Path, mode: str, *, probes: list[str] | None = None, light: bool = False,
        workers: int = 2) -> dict:
    """:func:`_run` in a fresh process (its own peak memory), returning its JSON."""
    cmd = [sys.executable, __file__, "_child", "--data", str(data), "--mode", mode,
           "--workers", str(workers)]
    if probes:
        cmd += ["--probes", ",".join(probes)]
    if light:
        cmd.append("--light")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} run failed (its log is above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(data: Path, probes: list[str] | None, light: bool) -> dict:
    """The in-memory and partitioned paths on the same rows: identical findings and fairness."""
    a = run(data, "memory", probes=probes, light=light)
    b = run(data, "partitioned", probes=probes, light=light)
    same_findings = a["findings"] == b["findings"]
    same_fairness = json.dumps(a["fairness"], sort_keys=True) == json.dumps(b["fairness"],
                                                                            sort_keys=True)
    diff = sorted(k for k in set(a["findings"]) | set(b["findings"])
                  if a["findings"].get(k) != b["findings"].get(k))
    return {"memory": {k: a[k] for k in ("total_seconds", "driver_peak_mb", "data_path")},
            "partitioned": {k: b[k] for k in ("total_seconds", "driver_peak_mb", "data_path")},
            "identical_findings": same_findings, "identical_fairness": same_fairness,
            "differing_findings": diff[:20]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("make", "run", "compare", "_child"))
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--file-rows", type=int, default=500_000)
    p.add_argument("--out", type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--mode", choices=("memory", "partitioned", "cluster"), default="partitioned")
    p.add_argument("--probes", default=None)
    p.add_argument("--light", action="store_true")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    probes = a.probes.split(",") if a.probes else None
    if a.command == "make":
        print(json.dumps(make(a.rows, a.out, file_rows=a.file_rows)))
    elif a.command == "_child":
        print(json.dumps(_run(a.data, a.mode, probes, a.light, a.workers), default=str))
    elif a.command == "run":
        r = run(a.data, a.mode, probes=probes, light=a.light, workers=a.workers)
        r.pop("fairness")
        print(json.dumps({k: v for k, v in r.items() if k != "findings"}, indent=1))
    else:
        print(json.dumps(compare(a.data, probes, a.light), indent=1))


if __name__ == "__main__":
    main()
