"""The audit's result vocabulary: metrics, thresholds, findings, tables and probe results.

Every result is a frozen dataclass of plain data with a JSON-safe ``to_dict()`` and a matching
``from_dict()``, so a report stored as JSON round-trips exactly and can be re-rendered later.
No HTML, figures or widgets live inside a result: renderers draw from this data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Sequence

__all__ = [
    "Severity",
    "Metric",
    "Threshold",
    "Finding",
    "Table",
    "ProbeResult",
    "judge",
    "clean_number",
]


class Severity(str, Enum):
    """What the evidence shows about a check (THRESHOLDS.md). Ordered by ``rank``, least to most
    serious for sorting: pass, not_assessed, inconclusive, attention, fail. A release gate counts
    attention and fail; inconclusive and not_assessed are listed under "What this audit could not
    establish" and never move the recommendation by themselves."""

    PASS = "pass"
    NOT_ASSESSED = "not_assessed"
    INCONCLUSIVE = "inconclusive"
    ATTENTION = "attention"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return _LABEL[self]


_RANK = {Severity.PASS: 0, Severity.NOT_ASSESSED: 1, Severity.INCONCLUSIVE: 2,
         Severity.ATTENTION: 3, Severity.FAIL: 4}
_LABEL = {
    Severity.PASS: "Pass",
    Severity.NOT_ASSESSED: "Not assessed",
    Severity.INCONCLUSIVE: "Inconclusive",
    Severity.ATTENTION: "Needs attention",
    Severity.FAIL: "Fail",
}


def clean_number(x: Any) -> Any:
    """Turn NumPy scalars into Python numbers and NaN/inf into None (JSON has no NaN)."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if hasattr(x, "item") and not isinstance(x, (list, tuple, dict)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _ci(ci: Sequence[float] | None) -> tuple[float | None, float | None] | None:
    if ci is None:
        return None
    lo, hi = ci
    return (clean_number(float(lo)) if lo is not None else None,
            clean_number(float(hi)) if hi is not None else None)


@dataclass(frozen=True)
class Metric:
    """A number with its confidence interval, its method and its reference.

    Parameters
    ----------
    name : machine name, unique within its probe (e.g. ``auc.members``).
    value : point estimate, or None when it cannot be computed.
    ci : (low, high) confidence interval, or None when the metric has none.
    method : how the value and interval were computed, in a phrase.
    label : the plain-language name a board member reads.
    reference : citation of the method.
    n : number of rows the value rests on.
    """

    name: str
    value: float | None
    ci: tuple[float | None, float | None] | None = None
    method: str = ""
    label: str = ""
    reference: str = ""
    n: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", clean_number(self.value))
        object.__setattr__(self, "ci", _ci(self.ci))
        if self.n is not None:
            object.__setattr__(self, "n", int(self.n))

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "ci": list(self.ci) if self.ci else None,
                "method": self.method, "label": self.label, "reference": self.reference,
                "n": self.n}

    @classmethod
    def from_dict(cls, d: dict) -> "Metric":
        return cls(name=d["name"], value=d["value"], ci=tuple(d["ci"]) if d["ci"] else None,
                   method=d["method"], label=d["label"], reference=d["reference"], n=d["n"])


@dataclass(frozen=True)
class Threshold:
    """A bound that decides a severity, with its kind and source (THRESHOLDS.md).

    ``direction`` says which side is worse: ``"above"`` (higher is worse, e.g. a generalisation
    gap), ``"below"`` (lower is worse, e.g. an explanation's stability) or ``"outside"`` (worse
    outside ``band``, e.g. a ratio between two groups outside [0.8, 1.25]). ``no_effect`` is the
    statistic's value when there is no effect at all (1 for a ratio, 0.5 for an AUC, 0 for a
    difference; None for a quality score, which has none). ``kind`` is REG, TOOL or HEUR.
    """

    name: str
    direction: str
    attention: float | None = None
    fail: float | None = None
    band: tuple[float, float] | None = None
    kind: str = "HEUR"
    source: str = ""
    description: str = ""
    no_effect: float | None = None

    def to_dict(self) -> dict:
        d = {"name": self.name, "direction": self.direction, "attention": self.attention,
             "fail": self.fail, "band": list(self.band) if self.band else None,
             "kind": self.kind, "source": self.source, "description": self.description}
        if self.no_effect is not None:  # absent in reports stored before it existed
            d["no_effect"] = self.no_effect
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Threshold":
        return cls(name=d["name"], direction=d["direction"], attention=d["attention"],
                   fail=d["fail"], band=tuple(d["band"]) if d["band"] else None, kind=d["kind"],
                   source=d["source"], description=d["description"],
                   no_effect=d.get("no_effect"))

    @property
    def single_bound(self) -> bool:
        """A band, or one bound only (no separate attention and fail bounds)."""
        return (self.direction == "outside" or self.attention is None or self.fail is None
                or self.attention == self.fail)


def judge(ci: Sequence[float | None] | None, threshold: Threshold, *,
          value: float | None = None) -> Severity:
    """Severity of a statistic from its confidence interval (THRESHOLDS.md's severity table).

    Rules, in this order (``beyond`` a bound means strictly on its harmful side):

    - ``fail``: the whole interval lies beyond the fail bound (outside the band);
    - ``attention``: the whole interval lies beyond the attention bound; or, for a check with one
      bound (or a band), the whole interval lies on the harmful side of ``no_effect`` and the
      point estimate ``value`` is beyond the bound (an effect is shown, and it may reach the
      bound);
    - ``pass``: the whole interval lies on the safe side of every bound (inside the band);
    - ``inconclusive``: anything else (these rows cannot tell);
    - ``not_assessed``: no interval, or one with a missing or NaN end.

    Parameters
    ----------
    ci : (low, high), the interval the check is judged on.
    threshold : the bounds, the harmful direction and the no-effect value.
    value : the point estimate (used only by the one-bound attention rule).
    """
    if ci is None or any(v is None or math.isnan(float(v)) for v in ci):
        return Severity.NOT_ASSESSED
    lo, hi = float(ci[0]), float(ci[1])
    z = threshold.no_effect
    v = None if value is None or math.isnan(float(value)) else float(value)
    if threshold.direction == "outside":
        a, b = threshold.band
        if hi < a or lo > b:
            return Severity.FAIL
        if z is not None and v is not None and ((hi < z and v < a) or (lo > z and v > b)):
            return Severity.ATTENTION
        if a <= lo and hi <= b:
            return Severity.PASS
        return Severity.INCONCLUSIVE
    if threshold.direction == "below":  # mirror onto "higher is worse"
        lo, hi = -hi, -lo
        z = None if z is None else -z
        v = None if v is None else -v
        fail = None if threshold.fail is None else -threshold.fail
        att = None if threshold.attention is None else -threshold.attention
    elif threshold.direction == "above":
        fail, att = threshold.fail, threshold.attention
    else:
        raise ValueError(f"Threshold {threshold.name!r} has direction {threshold.direction!r}; "
                         "expected 'above', 'below' or 'outside'.")
    bounds = [b for b in (att, fail) if b is not None]
    if fail is not None and lo > fail:
        return Severity.FAIL
    if att is not None and lo > att:
        return Severity.ATTENTION
    if (threshold.single_bound and z is not None and v is not None and lo > z
            and v > min(bounds)):
        return Severity.ATTENTION
    if all(hi <= b for b in bounds):
        return Severity.PASS
    return Severity.INCONCLUSIVE


@dataclass(frozen=True)
class Finding:
    """One judged check, with a stable id ``probe.check.subject`` that versions and dispositions
    follow (e.g. ``fairness.disparate_impact.ethnicity``)."""

    id: str
    severity: Severity
    title: str
    statement: str
    action: str = ""
    metric: Metric | None = None
    threshold: Threshold | None = None
    area: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        if self.id.count(".") < 2:
            raise ValueError(f"Finding id {self.id!r} must have the form probe.check.subject.")

    @property
    def probe(self) -> str:
        return self.id.split(".", 1)[0]

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity.value, "title": self.title,
                "statement": self.statement, "action": self.action, "area": self.area,
                "metric": self.metric.to_dict() if self.metric else None,
                "threshold": self.threshold.to_dict() if self.threshold else None}

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        return cls(id=d["id"], severity=Severity(d["severity"]), title=d["title"],
                   statement=d["statement"], action=d["action"], area=d["area"],
                   metric=Metric.from_dict(d["metric"]) if d["metric"] else None,
                   threshold=Threshold.from_dict(d["threshold"]) if d["threshold"] else None)


@dataclass(frozen=True)
class Table:
    """A table of plain values (a group table, a ranking, a curve's points)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    title: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        object.__setattr__(self, "rows",
                           tuple(tuple(clean_number(v) for v in r) for r in self.rows))

    @classmethod
    def from_frame(cls, name: str, frame, *, title: str = "", note: str = "") -> "Table":
        """Build from a pandas DataFrame (its index is not kept: reset it first if it matters)."""
        return cls(name=name, columns=tuple(frame.columns),
                   rows=tuple(tuple(r) for r in frame.itertuples(index=False, name=None)),
                   title=title, note=note)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def to_dict(self) -> dict:
        return {"name": self.name, "columns": list(self.columns),
                "rows": [list(r) for r in self.rows], "title": self.title, "note": self.note}

    @classmethod
    def from_dict(cls, d: dict) -> "Table":
        return cls(name=d["name"], columns=tuple(d["columns"]),
                   rows=tuple(tuple(r) for r in d["rows"]), title=d["title"], note=d["note"])


@dataclass(frozen=True)
class ProbeResult:
    """What one probe returns: metrics, tables and findings, plus notes on what it did.

    ``status`` is ``"ok"``, or ``"not_assessed"`` when the probe could not run (``notes`` says
    why); a probe that could not run still returns a ``not_assessed`` finding so a gate sees it.
    """

    probe: str
    area: str
    status: str = "ok"
    metrics: tuple[Metric, ...] = ()
    tables: tuple[Table, ...] = ()
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("metrics", "tables", "findings", "notes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"No metric {name!r} in probe {self.probe!r}; "
                       f"it has {[m.name for m in self.metrics]}.")

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"No table {name!r} in probe {self.probe!r}; "
                       f"it has {[t.name for t in self.tables]}.")

    def to_dict(self) -> dict:
        return {"probe": self.probe, "area": self.area, "status": self.status,
                "metrics": [m.to_dict() for m in self.metrics],
                "tables": [t.to_dict() for t in self.tables],
                "findings": [f.to_dict() for f in self.findings],
                "notes": list(self.notes), "params": self.params}

    @classmethod
    def from_dict(cls, d: dict) -> "ProbeResult":
        return cls(probe=d["probe"], area=d["area"], status=d["status"],
                   metrics=tuple(Metric.from_dict(m) for m in d["metrics"]),
                   tables=tuple(Table.from_dict(t) for t in d["tables"]),
                   findings=tuple(Finding.from_dict(f) for f in d["findings"]),
                   notes=tuple(d["notes"]), params=d["params"])
