"""Data exposure: personal columns in the audited data, personal inputs, and re-identification risk.

Three checks on the data the model was built from:

- Personal columns (direct identifiers: names, emails, phones, ids, card numbers, IP addresses),
  found by name and by content (:mod:`audits.core.pii`, memoised per audit) and merged with the
  columns
  the user declared personal. The evidence describes the values and never quotes one.
- A personal column used as a model input is a ``fail`` (``privacy.personal_input.<column>``):
  an identifier carries no legitimate signal, lets the model memorise individuals and breaks data
  minimisation (GDPR Art. 5(1)(c)). A detected personal column the user did not declare needs
  ``attention`` (``data.undeclared_personal.<column>``), so that it is declared and redacted.
- Re-identification risk on the quasi-identifiers (Sweeney 2002, "k-anonymity: a model for
  protecting privacy", Int. J. Uncertainty, Fuzziness and Knowledge-Based Systems 10(5)), on the
  members (training rows): the share of records unique on their combination of quasi-identifiers
  (equivalence class of size 1), judged against ``privacy.reidentification_unique_share``; the
  k-anonymity level (the smallest class size); and the distribution of class sizes. Quasi-
  identifiers are the declared ones, else those present among age, gender/sex, postcode/zip-like
  columns and date or year of birth. Values are taken as recorded (an age in years is not banded):
  this is the risk of the data as held (over every member row: when the subject's frame
  holds a sample, the class sizes are counted partition by partition,
  :mod:`audits.core.counts`); coarser formats lower it, and the driver table shows how
  much leaving out each quasi-identifier would.

The unique share's interval is a Wilson score interval (Wilson 1927), treating each record's
uniqueness as a Bernoulli draw. A row bootstrap is not used: drawing a unique record twice makes it
a pair, so resampling biases the share downwards. Counts under ``config.suppress_below`` are not
printed (empty cells); the k level and the share are printed, as they name nobody.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.counts import qi_class_counts
from audits.core.pii import default_quasi_identifiers, personal_columns
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.subject import AuditSubject

__all__ = ["run_data_exposure", "reidentification_risk", "wilson_interval"]

_SIZE_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))


def wilson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (Wilson 1927)."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (float(lo), float(hi))


def reidentification_risk(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> dict:
    """Equivalence classes of ``frame`` on the quasi-identifiers (missing values form a value).

    Returns a dict: ``n`` rows, ``n_unique`` rows alone in their class, ``unique_share``,
    ``k`` (the smallest class size, the k-anonymity level), ``n_classes`` and ``class_sizes`` (an
    array of the size of every class).
    """
    qis = list(quasi_identifiers)
    if not qis or len(frame) == 0:
        raise ValueError("reidentification_risk needs at least one quasi-identifier and one row.")
    sizes = frame.groupby(qis, dropna=False, sort=False, observed=True).size().to_numpy()
    n_unique = int((sizes == 1).sum())
    return {"n": int(len(frame)), "n_unique": n_unique, "unique_share": n_unique / len(frame),
            "k": int(sizes.min()), "n_classes": int(len(sizes)), "class_sizes": sizes}


def reidentification_from_counts(counts: pd.Series) -> dict:
    """:func:`reidentification_risk` from the rows per combination (``counts``, indexed by the
    quasi-identifiers), as counted partition by partition (:func:`audits.core.counts.
    qi_class_counts`)."""
    sizes = counts.to_numpy(dtype=np.int64)
    sizes = sizes[sizes > 0]
    n = int(sizes.sum())
    if n == 0:
        raise ValueError("reidentification_from_counts needs at least one row.")
    n_unique = int((sizes == 1).sum())
    return {"n": n, "n_unique": n_unique, "unique_share": n_unique / n, "k": int(sizes.min()),
            "n_classes": int(len(sizes)), "class_sizes": sizes}


def _qi_risks(subject: AuditSubject, config: AuditConfig, qis: Sequence[str]
              ) -> tuple[dict, list]:
    """The risk on all quasi-identifiers, and (name, distinct values, unique share without it)
    for each: from the member frame, or from counts over every row when the frame holds a
    sample (the two agree when the frame holds every row)."""
    if subject.population is None:
        frame = subject.frame("members")
        risk = reidentification_risk(frame, qis)
        drivers = []
        for q in qis:
            rest = [c for c in qis if c != q]
            without = reidentification_risk(frame, rest)["unique_share"] if rest else 0.0
            drivers.append((q, int(frame[q].nunique(dropna=False)), round(without, 4)))
        return risk, drivers
    counts = qi_class_counts(subject, "members", qis, n_jobs=config.n_jobs)
    risk = reidentification_from_counts(counts)
    drivers = []
    for i, q in enumerate(qis):
        rest = [j for j in range(len(qis)) if j != i]
        without = reidentification_from_counts(
            counts.groupby(level=rest, dropna=False, sort=False).sum())["unique_share"] \
            if rest else 0.0
        values = counts.index.get_level_values(i) if len(qis) > 1 else counts.index
        drivers.append((q, int(pd.Series(values).nunique(dropna=False)), round(without, 4)))
    return risk, drivers


def _size_table(sizes: np.ndarray, n: int, suppress_below: int) -> Table:
    rows = []
    for lo, hi in _SIZE_BUCKETS:
        mask = (sizes >= lo) & ((sizes <= hi) if hi is not None else True)
        classes, records = int(mask.sum()), int(sizes[mask].sum())
        if classes == 0:
            continue
        label = str(lo) if lo == hi else (f"{lo}-{hi}" if hi is not None else f"{lo}+")
        ok_c, ok_r = classes >= suppress_below, records >= suppress_below
        rows.append((label, classes if ok_c else None, records if ok_r else None,
                     round(records / n, 4) if ok_r else None))
    return Table(name="equivalence_classes", columns=("class_size", "classes", "records",
                                                      "share_of_records"),
                 rows=tuple(rows), title="Records by the size of their quasi-identifier class",
                 note=f"Members only. Counts under {suppress_below} are suppressed (empty).")


def _reidentification(subject: AuditSubject, config: AuditConfig) -> tuple[list, list, Finding,
                                                                             list]:
    frame = subject.frame("members")
    declared = bool(subject.quasi_identifiers)
    qis = subject.quasi_identifiers or default_quasi_identifiers(
        frame.columns, exclude=(subject.target, *subject.personal_columns))
    fid, title = "privacy.reidentification.quasi_identifiers", "Re-identification risk"
    if not qis:
        why = ("No quasi-identifiers were declared and none of age, gender, postcode or date of "
               "birth was found among the columns, so re-identification risk was not assessed.")
        return [], [], Finding(id=fid, severity=Severity.NOT_ASSESSED, title=title, statement=why,
                               action="Declare the quasi-identifiers (--quasi-identifiers).",
                               area="privacy"), [why]
    risk, drivers = _qi_risks(subject, config, list(qis))
    u = risk["unique_share"]
    names = ", ".join(qis)
    source = "declared" if declared else "default (age, gender, postcode-like columns found)"
    share = Metric("reidentification.unique_share", u, None,
                   method=f"share of members alone in their class on {names} ({source}); an "
                          "exact count on the rows held, so judged on its value (no interval)",
                   label="Share of training records unique on the quasi-identifiers (k = 1)",
                   reference="Sweeney 2002", n=risk["n"])
    k = Metric("reidentification.k_anonymity", risk["k"], None,
               method="smallest equivalence class on the quasi-identifiers",
               label="k-anonymity level (size of the smallest group sharing a combination)",
               reference="Sweeney 2002", n=risk["n"])
    classes = Metric("reidentification.n_classes", risk["n_classes"], None,
                     method="distinct combinations of the quasi-identifiers among members",
                     label="Number of equivalence classes", n=risk["n"])
    tables = [_size_table(risk["class_sizes"], risk["n"], config.suppress_below),
              Table(name="quasi_identifier_drivers",
                    columns=("quasi_identifier", "distinct_values", "unique_share_without_it"),
                    rows=tuple(drivers), title="What each quasi-identifier contributes",
                    note="Unique share of members if this quasi-identifier were left out.")]
    threshold = config.threshold("privacy.reidentification_unique_share")
    severity = judge((u, u), threshold, value=u)
    plural = "s" if risk["k"] != 1 else ""
    if risk["n_unique"] == 0:
        statement = (f"No training record is alone in its combination of {names}: every "
                     f"combination is shared by at least {risk['k']} of the {risk['n']:,} records "
                     f"(k-anonymity k = {risk['k']}; unique share 0).")
    else:
        statement = (f"{u:.1%} of the {risk['n']:,} training records are the only one with "
                     f"their combination of "
                     f"{names}: anyone who knows these facts about a customer can single out that "
                     f"customer's record. The smallest group sharing a combination has "
                     f"{risk['k']} record{plural} (k-anonymity k = {risk['k']}).")
    statement += " Values are taken as recorded (an age in years is not banded)."
    action = ("None needed." if severity is Severity.PASS else
              "Coarsen the quasi-identifiers (age in 5- or 10-year bands, postcode to its region) "
              "or suppress rare combinations before the data is shared or kept for the model; "
              "restrict access to the training extract.")
    finding = Finding(id=fid, severity=severity, title=title, statement=statement, action=action,
                      metric=share, threshold=threshold, area="privacy")
    notes = [f"Quasi-identifiers ({source}): {names}; raw values, not banded."]
    return [share, k, classes], tables, finding, notes


def _personal_findings(subject: AuditSubject, found: pd.DataFrame, config: AuditConfig
                       ) -> list[Finding]:
    threshold = config.threshold("privacy.personal_input")
    inputs = set(subject.feature_columns)
    findings = []
    for r in found.itertuples(index=False):
        if r.column in inputs:
            findings.append(Finding(
                id=f"privacy.personal_input.{r.column}", severity=Severity.FAIL, area="privacy",
                title=f"Personal column {r.column} is a model input",
                statement=(f"The column {r.column} ({r.kind.replace('_', ' ')}; {r.evidence}) is "
                           "an input of the model. A direct identifier carries no legitimate "
                           "signal, lets the model memorise individual customers and breaks data "
                           "minimisation (GDPR Art. 5(1)(c))."),
                action=(f"Remove {r.column} from the model's inputs and retrain; if a feature is "
                        "needed from it, derive a coarse one before training and drop the "
                        "identifier."),
                metric=Metric(f"personal_input.{r.column}", 1.0, None,
                              method="column is among the model's inputs",
                              label="Personal column used as a model input (1 = yes)"),
                threshold=threshold))
    if not any(f.id.startswith("privacy.personal_input.") for f in findings):
        findings.append(Finding(
            id="privacy.personal_input.none", severity=Severity.PASS, area="privacy",
            title="No personal column is a model input",
            statement=(f"None of the {len(found)} detected or declared personal columns is an "
                       "input of the model."), action="None needed.", threshold=threshold))
    undeclared = found[~found["declared"]]
    for r in undeclared.itertuples(index=False):
        findings.append(Finding(
            id=f"data.undeclared_personal.{r.column}", severity=Severity.ATTENTION, area="data",
            title=f"Undeclared personal column {r.column}",
            statement=(f"The column {r.column} looks like personal data ({r.kind.replace('_', ' ')}"
                       f"; {r.evidence}) but was not declared personal."),
            action=(f"Check the column; if it is personal, declare it (--personal {r.column}) so "
                    "that every report and export redacts it, or drop it from the extract.")))
    if len(undeclared) == 0:
        findings.append(Finding(
            id="data.undeclared_personal.none", severity=Severity.PASS, area="data",
            title="Every detected personal column is declared",
            statement="Every column recognised as personal by name or content was declared.",
            action="None needed."))
    return findings


def run_data_exposure(subject: AuditSubject, config: AuditConfig, *,
                      progress: Callable[[str, float], None] | None = None,
                      cache: RunCache | None = None) -> ProbeResult:
    """Run the data-exposure probe. See the module docstring for the method.

    Returns a ProbeResult of probe ``data_exposure``, area ``data``, with tables
    ``personal_columns``, ``equivalence_classes`` and ``quasi_identifier_drivers``.
    """
    if progress:
        progress("detecting personal columns", 0.0)
    found = personal_columns(subject, cache=cache)
    inputs = set(subject.feature_columns)
    found["model_input"] = found["column"].isin(inputs)
    table = Table.from_frame(
        "personal_columns",
        found[["column", "kind", "by_name", "by_content", "declared", "model_input", "evidence"]],
        title="Personal columns, detected and declared",
        note="Values are never shown: the evidence describes sampled values.")
    metrics = [Metric("personal_columns.n", len(found), None, method="detected or declared",
                      label="Personal columns in the data"),
               Metric("personal_columns.model_inputs", int(found["model_input"].sum()), None,
                      method="personal columns among the model's inputs",
                      label="Personal columns used as model inputs")]
    findings = _personal_findings(subject, found, config)
    if progress:
        progress("re-identification risk", 0.5)
    m, tables, finding, notes = _reidentification(subject, config)
    if progress:
        progress("done", 1.0)
    return ProbeResult(probe="data_exposure", area="data", metrics=tuple(metrics + m),
                       tables=(table, *tables), findings=(*findings, finding),
                       notes=tuple(notes), params={"confidence": config.confidence,
                                                   "suppress_below": config.suppress_below})
