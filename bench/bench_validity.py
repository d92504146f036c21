"""The fairness probe's false-alarm table and its power (issue 11.7).

Simulated models, audited by the fairness probe alone (``whatif=False``, ``proxy_models=False``,
the default profile otherwise: 1,000 replicates, 95% confidence):

- **fair** models: two inputs x1, x2 ~ N(0, 1), a label drawn from a logistic model of them with
  the cell's base rate, a decision that selects the top ``base rate`` share of the scores. Two
  sensitive fields drawn independently of everything: ``a`` with 2, 4 or 8 equal groups and
  ``b`` with 2, so the probe also audits one intersection ``a*b`` (4, 8 or 16 groups). Every
  group's rates are equal in truth, so any attention or fail on disparate impact, error rates or
  subgroup performance is a false alarm.
- **planted** disparities: the same, except that the decisions of group ``a0`` use a higher
  threshold, so that it is selected ``ratio`` times as often as the others. Power: the share of
  runs in which the pair (a0, a1) itself is flagged (its disparate-impact severity attention or
  fail).

Each cell prints the share of audits with any fairness attention or fail (fair cells) or the
power (planted cells), with its exact (Clopper-Pearson) two-sided 95% interval; the targets of
the issue: pooled over the fair cells at most 5%, each fair cell's upper bound under 10%; with
4 groups, 10,000 rows, base rate 0.3 and ratio 0.6, power at least 90%.

Run from the repository root (about an hour on a busy 2-core machine at 100 seeds)::

    PYTHONPATH=. nice python bench/bench_validity.py [--seeds 100] [--quick]

``--quick`` runs a few cells with 20 seeds. ``--cell G,N,B`` and ``--planted G,N,B,R`` run only
the cells named (repeatable; so several processes can share the table), ``--jsonl PATH`` appends
each finished cell to a file and ``--table PATH`` prints the pooled line and the README table of
such a file (or several files concatenated); runs of one cell over disjoint seed ranges
(``--first-seed``) are added into one row. The test suite keeps a small version
(``tests/audits/test_fairness_validity.py``).

``--lead-scoring-seeds 1-6`` builds the lead_scoring control with each generator seed (into a
temporary folder) and audits it with the fairness probe, the default profile and the default
audit seed (0), printing its fairness findings at attention or fail (the issue's target: none in
at least 5 of 6 seeds) and the inconclusive ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import time

import numpy as np
import pandas as pd
from scipy.stats import beta

from audits.core.config import AuditConfig
from audits.core.subject import AuditSubject
from audits.fairness import run_fairness

__all__ = ["simulate", "audit_once", "run_cell", "clopper_pearson", "merge_runs",
           "FAIRNESS_CHECKS"]

#: the checks whose attention or fail counts as a fairness alarm
FAIRNESS_CHECKS = ("disparate_impact", "error_rate_parity", "subgroup_performance")
_W = np.array([1.2, -0.8])


class SimulatedModel:
    """A fixed scorer of x1, x2; decisions select the top ``base_rate`` share of scores, except
    group a0 of field ``a`` (when ``planted`` < 1), whose threshold gives it ``planted`` times
    the others' selection rate."""

    classes_ = np.array([0, 1])

    def __init__(self, intercept: float, threshold: float, a0_threshold: float):
        self.intercept, self.threshold, self.a0_threshold = intercept, threshold, a0_threshold

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        z = self.intercept + X[["x1", "x2"]].to_numpy() @ _W
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        p = self.predict_proba(X)[:, 1]
        if "a" not in X:  # a fair model does not read the sensitive field
            return (p >= self.threshold).astype(int)
        t = np.where(X["a"].to_numpy() == "a0", self.a0_threshold, self.threshold)
        return (p >= t).astype(int)


@functools.lru_cache(maxsize=None)
def _calibration(base_rate: float, ratio: float) -> tuple[float, float, float]:
    """The intercept whose logistic model has mean ``base_rate`` (bisection on a fixed sample),
    the threshold that selects the top ``base_rate`` share, and group a0's threshold."""
    z = np.random.default_rng(1).standard_normal((200_000, 2)) @ _W
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (1 / (1 + np.exp(-(mid + z)))).mean() < base_rate else (lo, mid)
    intercept = (lo + hi) / 2
    p = 1 / (1 + np.exp(-(intercept + z)))
    threshold = float(np.quantile(p, 1 - base_rate))
    return intercept, threshold, float(np.quantile(p, 1 - ratio * base_rate))


def simulate(groups: int, rows: int, base_rate: float, seed: int, *,
             ratio: float = 1.0) -> AuditSubject:
    """One simulated audit subject (see the module docstring)."""
    rng = np.random.default_rng([seed, groups, rows, int(base_rate * 1000),
                                 int(ratio * 1000)])
    intercept, threshold, a0_threshold = _calibration(base_rate, ratio)
    model = SimulatedModel(intercept, threshold, a0_threshold)

    def frame(n):
        x = rng.standard_normal((n, 2))
        p = 1 / (1 + np.exp(-(intercept + x @ _W)))
        return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1],
                             "a": np.char.add("a", rng.integers(0, groups, n).astype(str)),
                             "b": np.char.add("b", rng.integers(0, 2, n).astype(str)),
                             "y": (rng.random(n) < p).astype(int)})

    return AuditSubject(model=model, members=frame(200), nonmembers=frame(rows), target="y",
                        positive_label=1,
                        feature_columns=("x1", "x2") if ratio == 1 else ("x1", "x2", "a"),
                        sensitive_fields=("a", "b"), seed=seed)


def audit_once(subject: AuditSubject, config: AuditConfig) -> dict:
    """Whether any fairness check raised attention or fail, and the planted pair's severity."""
    result = run_fairness(subject, config)
    alarm = any(f.id.split(".")[1] in FAIRNESS_CHECKS and f.severity.value in ("attention",
                                                                               "fail")
                for f in result.findings)
    d = result.table("fairness.disparities").to_frame()
    pair = d[(d["field"] == "a") & (d["metric"] == "selection_rate")
             & np.array([(g, r) in {("a0", "a1"), ("a1", "a0")} for g, r in zip(d["group"],
                                                                               d["reference"])])]
    planted = pair["severity"].iloc[0] if len(pair) else None
    return {"alarm": alarm, "planted_flagged": planted in ("attention", "fail")}


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval of a binomial share."""
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def run_cell(groups: int, rows: int, base_rate: float, seeds: int, *, ratio: float = 1.0,
             config: AuditConfig | None = None, first_seed: int = 0) -> dict:
    """One cell of the table: ``seeds`` audits (seeds ``first_seed`` onwards)."""
    config = config or dataclasses.replace(AuditConfig(), whatif=False, proxy_models=False)
    hits = 0
    for seed in range(first_seed, first_seed + seeds):
        out = audit_once(simulate(groups, rows, base_rate, seed, ratio=ratio), config)
        hits += out["planted_flagged"] if ratio < 1 else out["alarm"]
    lo, hi = clopper_pearson(hits, seeds)
    return {"groups": groups, "rows": rows, "base_rate": base_rate, "ratio": ratio,
            "seeds": seeds, "first_seed": first_seed, "hits": hits, "share": hits / seeds,
            "low": lo, "high": hi}


def lead_scoring_seeds(seeds: list[int]) -> list[dict]:
    """The lead_scoring control built with each generator seed, audited by the fairness probe
    (default profile, audit seed 0): its fairness findings by severity."""
    import tempfile
    from pathlib import Path

    from audits.core.loading import load_subject
    from sample_models.generate import build_sample, load_manifest

    out = []
    for seed in seeds:
        root = Path(tempfile.mkdtemp(prefix=f"lead-scoring-{seed}-"))
        folder = build_sample("lead_scoring", out_dir=root, seed=seed)
        m = load_manifest("lead_scoring", out_dir=root)
        assert m["seed"] == seed
        subject = load_subject(
            folder / "model.skops", folder / "members.csv", folder / "nonmembers.csv",
            target=m["target"], sensitive=m["sensitive_fields"],
            positive_label=m["positive_label"], personal=m["personal_columns"],
            quasi_identifiers=m["quasi_identifiers"], trusted=m["trusted_types"],
            favourable=m["favourable_label"], favourable_action=m["favourable_action"],
            id_column=m["id_column"], name="lead_scoring")
        result = run_fairness(subject, AuditConfig())
        by = {}
        for f in result.findings:
            by.setdefault(f.severity.value, []).append(
                f"{f.id} ({f.metric.value:.3f} [{f.metric.ci[0]:.3f}, {f.metric.ci[1]:.3f}])"
                if f.metric and f.metric.ci and None not in f.metric.ci else f.id)
        out.append({"seed": seed, **by})
        flagged = by.get("fail", []) + by.get("attention", [])
        print(f"lead_scoring generator seed {seed}: attention or fail {len(flagged)}"
              + "".join(f"\n    {x}" for x in flagged)
              + f"\n  inconclusive {len(by.get('inconclusive', []))}: "
              + ", ".join(x.split(" ")[0] for x in by.get("inconclusive", [])), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="a few cells, 20 seeds")
    ap.add_argument("--lead-scoring-seeds", default=None, metavar="A-B",
                    help="audit lead_scoring built with generator seeds A to B, and stop")
    ap.add_argument("--cell", action="append", default=[], metavar="G,N,B",
                    help="run only these fair cells (groups, rows, base rate); repeatable")
    ap.add_argument("--planted", action="append", default=[], metavar="G,N,B,R",
                    help="run only these planted cells (groups, rows, base rate, ratio); "
                         "repeatable, after the --cell ones")
    ap.add_argument("--first-seed", type=int, default=0, help="the first seed of each cell")
    ap.add_argument("--jsonl", default=None, metavar="PATH",
                    help="also append each finished cell to this file (one JSON object a line)")
    ap.add_argument("--table", default=None, metavar="PATH",
                    help="print the pooled line and the README table of the cells in this "
                         "--jsonl file, and stop")
    args = ap.parse_args()
    if args.table:
        with open(args.table) as fh:
            _summary(merge_runs([json.loads(line) for line in fh if line.strip()]))
        return
    if args.cell or args.planted:
        specs = [(*s.split(","), 1.0) for s in args.cell] + [tuple(s.split(","))
                                                             for s in args.planted]
        for g, n, b, ratio in specs:
            t = time.perf_counter()
            r = run_cell(int(g), int(n), float(b), args.seeds, ratio=float(ratio),
                         first_seed=args.first_seed)
            _record(r, time.perf_counter() - t, args.jsonl)
        return
    if args.lead_scoring_seeds:
        a, _, b = args.lead_scoring_seeds.partition("-")
        lead_scoring_seeds(list(range(int(a), int(b or a) + 1)))
        return
    if args.quick:
        fair = [(8, 2000, 0.1), (4, 10000, 0.3), (2, 50000, 0.5)]
        planted = [(4, 10000, 0.3, 0.6)]
        seeds = 20
    else:
        fair = list(itertools.product((2, 4, 8), (2000, 10000, 50000), (0.1, 0.3, 0.5)))
        planted = [(g, n, 0.3, r) for g, n, r in itertools.product((2, 4, 8), (2000, 10000),
                                                                   (0.6, 0.7))]
        seeds = args.seeds
    t0 = time.perf_counter()
    rows = []
    for g, n, b, ratio in [(*c, 1.0) for c in fair] + planted:
        t = time.perf_counter()
        rows.append(run_cell(g, n, b, seeds, ratio=ratio))
        _record(rows[-1], time.perf_counter() - t, args.jsonl)
    print(f"total {time.perf_counter() - t0:.0f} s")
    _summary(rows)


def _record(r: dict, seconds: float, jsonl: str | None) -> None:
    print(_line(r, seconds) + f"  seeds {r['first_seed']} to "
          f"{r['first_seed'] + r['seeds'] - 1}", flush=True)
    if jsonl:
        with open(jsonl, "a") as fh:
            fh.write(json.dumps(r | {"seconds": round(seconds, 1)}) + "\n")


def _summary(rows: list[dict]) -> None:
    fair = [r for r in rows if r["ratio"] == 1]
    if fair:
        hits, total = sum(r["hits"] for r in fair), sum(r["seeds"] for r in fair)
        lo, hi = clopper_pearson(hits, total)
        print(f"pooled fair cells: {hits}/{total} = {hits / total:.1%} [{lo:.1%}, {hi:.1%}] "
              f"(target: at most 5%; every cell's upper bound under 10%: "
              f"{'yes' if all(r['high'] < 0.10 for r in fair) else 'NO'})", flush=True)
    print()
    print(markdown(rows))


def merge_runs(rows: list[dict]) -> list[dict]:
    """One row per cell: runs of the same cell over disjoint seed ranges (``--first-seed``)
    added together, the interval recomputed on the total; the cells keep their first order.
    Overlapping seed ranges of one cell are refused (the same audits counted twice)."""
    cells: dict[tuple, dict] = {}
    for r in rows:
        key = (r["groups"], r["rows"], r["base_rate"], r["ratio"])
        seeds = set(range(r["first_seed"], r["first_seed"] + r["seeds"]))
        if key not in cells:
            cells[key] = {**r, "_seeds": seeds}
            continue
        c = cells[key]
        if c["_seeds"] & seeds:
            raise ValueError(f"cell {key}: seed ranges overlap")
        c["_seeds"] |= seeds
        c["hits"] += r["hits"]
        c["seeds"] += r["seeds"]
        c["first_seed"] = min(c["first_seed"], r["first_seed"])
        c["seconds"] = c.get("seconds", 0) + r.get("seconds", 0)
    out = []
    for c in cells.values():
        c.pop("_seeds")
        c["share"] = c["hits"] / c["seeds"]
        c["low"], c["high"] = clopper_pearson(c["hits"], c["seeds"])
        out.append(c)
    return out


def _line(r: dict, seconds: float) -> str:
    kind = "fair" if r["ratio"] == 1 else f"planted {r['ratio']:.1f}"
    what = "alarms" if r["ratio"] == 1 else "power"
    return (f"{kind:<12} groups {r['groups']} (+ intersection {2 * r['groups']}), "
            f"{r['rows']:>6,} rows, base rate {r['base_rate']:.1f}: {what} {r['hits']}/"
            f"{r['seeds']} = {r['share']:.1%} [{r['low']:.1%}, {r['high']:.1%}]  "
            f"({seconds:.0f} s)")


def markdown(rows: list[dict]) -> str:
    """The table for the README."""
    out = ["| model | groups (+ intersection) | holdout rows | base rate | audits | "
           "share flagged | 95% interval |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        kind = "fair" if r["ratio"] == 1 else f"planted, ratio {r['ratio']:.1f} (power)"
        out.append(f"| {kind} | {r['groups']} (+{2 * r['groups']}) | {r['rows']:,} | "
                   f"{r['base_rate']:.1f} | {r['seeds']} | {r['share']:.1%} | "
                   f"[{r['low']:.1%}, {r['high']:.1%}] |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
