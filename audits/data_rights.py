"""Consent and data rights: checks on the customers' rows themselves, before any model.

Reads the declaration the subject carries (:mod:`audits.core.rights`) and counts, on the rows the
model was trained on (and the holdout rows it scores):

- **consent** (GDPR Art. 6(1)(a), 7 and 5(1)(b)): training rows where no consent column covering
  one of the model's purposes says yes, per purpose, with the consent that is missing;
- **retention** (Art. 5(1)(e) storage limitation): rows whose collection date is older, on the
  reference date, than the retention the feature inventory states for the model's inputs (the
  shortest stated retention binds a row). The reference date is the model's training date when
  declared, else the newest collection date in the data (the extract cannot be older), so the
  result does not depend on the day the audit runs;
- **shadow profiles** (Art. 14 and 21): model inputs whose inventory origin is third-party or
  broker data, and the customers whose only relationship with the business is such data (their
  row's source is third party or broker);
- **opt-outs** (Art. 22 and 21): holdout customers who opted out of automated decisions but are
  scored, and, where the opt-out covers training, training rows of customers who opted out;
- **erasure** (Art. 17(1)): customers who asked to be erased and are still in the training or
  holdout rows (counted, never named; whether the model still exposes them is measured by
  :mod:`attacks.erasure`).

Every check is an exact count on the rows held (a census, not a sample), so it is judged on the
count: any violating row fails (any shadow-profile customer needs attention). The share is printed
with a Clopper-Pearson interval (Clopper and Pearson 1934), the rate among the customers these rows
were drawn from. Counts under ``config.suppress_below`` are never printed, except that a count of
violations is stated as "fewer than 10" (small-cell suppression; the share is then suppressed too,
as it would give the count away).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

from audits.core.config import AuditConfig
from audits.core.numbers import pct
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.rights import THIRD_PARTY_SOURCES, dates, flags, sources
from audits.core.subject import AuditSubject

__all__ = ["run_data_rights", "clopper_pearson", "count_words"]

_AREA = "data"
_CP = "Clopper-Pearson exact interval (Clopper and Pearson 1934) of the share"


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact binomial interval of ``k / n``."""
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def count_words(k: int, config: AuditConfig) -> str:
    """A count as printed: "fewer than 10" for a small non-zero count, else the number."""
    return f"fewer than {config.suppress_below}" if 0 < k < config.suppress_below else f"{k:,}"


def _cell(k: int, config: AuditConfig) -> int | None:
    """A count for a table cell: None (shown empty) when small and non-zero."""
    return None if 0 < k < config.suppress_below else int(k)


def _share(k: int, n: int, config: AuditConfig) -> str:
    """" (2.4%, interval 2.1% to 2.6%)", " (under 0.1%)" for a small count, or nothing when the
    total itself is too small to print."""
    if n < config.suppress_below:
        return ""
    if 0 < k < config.suppress_below:
        return f" (under {pct(config.suppress_below / n)})"
    lo, hi = clopper_pearson(k, n, config.confidence)
    return f" ({pct(k / n)}, interval {pct(lo)} to {pct(hi)})"


def _check(fid: str, threshold: str, k: int, n: int, config: AuditConfig, *,
           title: tuple[str, str], statement: str, action: str, label: str,
           ok_statement: str) -> tuple[Finding, Metric]:
    """A count check: judged on the exact share, printed with its interval, small counts
    suppressed. ``title``: (the headline of a violation, with ``{count}`` and ``{share}``
    filled in, so the board summary names the count; the title when there is none)."""
    t = config.threshold(threshold)
    severity = judge((k / n, k / n), t, value=k / n) if n else Severity.NOT_ASSESSED
    small = 0 < k < config.suppress_below
    metric = Metric(fid.split(".", 1)[1], None if small else k / max(n, 1),
                    None if small or not n else clopper_pearson(k, n, config.confidence),
                    method=("exact count on the rows held; " + (
                        f"fewer than {config.suppress_below}: count and share suppressed"
                        if small else _CP)), label=label,
                    n=None if n < config.suppress_below else n)
    if k == 0:
        return Finding(fid, severity, title[1], ok_statement, "None needed.", metric, t,
                       _AREA), metric
    share = "" if small or n < config.suppress_below else f", {pct(k / n)},"
    headline = title[0].format(count=count_words(k, config), share=share)
    return Finding(fid, severity, headline[0].upper() + headline[1:], statement, action, metric,
                   t, _AREA), metric


def _slug(text: str) -> str:
    return "_".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


# -- the rules (small functions, so that a test can break each one on purpose) -----------------
_SCORED = "nonmembers"  # the rows the model scores: the holdout customers
_ERASURE_PARTS = ("members", "nonmembers")  # an erased customer may be in neither


def _covered(given: dict, cols: list, part: str) -> np.ndarray:
    """A row is covered for a purpose when any consent column covering it says yes."""
    return np.any([given[c.column][part] for c in cols], axis=0)


def _binding(retention: dict) -> int:
    """The retention that binds a row: the shortest stated for any of the model's inputs."""
    return min(retention.values())


def _shadow(src: np.ndarray) -> np.ndarray:
    """Rows whose only relationship with the business is third-party or broker data."""
    return np.isin(src, THIRD_PARTY_SOURCES)


# -- the checks --------------------------------------------------------------------------------
def _consent(subject, rights, config, frames):
    findings, metrics, rows = [], [], []
    n = len(frames["members"])
    given = {c.column: {p: flags(f[c.column], c.column, p) for p, f in frames.items()}
             for c in rights.consent}
    for c in rights.consent:
        rows.append((c.column, " | ".join(c.purposes),
                     _cell(int((~given[c.column]["members"]).sum()), config),
                     _cell(int((~given[c.column]["nonmembers"]).sum()), config)))
    for purpose in rights.purposes:
        cols = [c for c in rights.consent if c.covers(purpose)]
        fid = f"data.consent.{_slug(purpose)}"
        if not cols:
            covers = "; ".join(f"{c.column}: {', '.join(c.purposes)}" for c in rights.consent)
            findings.append(Finding(
                fid, Severity.NOT_ASSESSED, f"No consent column covers '{purpose}'",
                f"The model's purpose '{purpose}' is covered by none of the declared consent "
                f"columns ({covers}), "
                "so whether the customers consented to it could not be checked.",
                action=f"Declare the consent column that covers '{purpose}' (--consent "
                       f"COLUMN='{purpose}'), or record in the inventory that the lawful basis "
                       "for it is not consent.", threshold=config.threshold(
                           "data.consent_missing"), area=_AREA))
            continue
        covered = {p: _covered(given, cols, p) for p in frames}
        k = int((~covered["members"]).sum())
        k_hold = int((~covered["nonmembers"]).sum())
        names = " or ".join(f"'{c.column}'" for c in cols)
        hold = (f" A further {count_words(k_hold, config)} holdout customers without it are "
                "scored." if k_hold else "")
        f, m = _check(
            fid, "data.consent_missing", k, n, config,
            title=("{count} training customers{share} never consented to " + purpose,
                   f"Training customers without consent to {purpose}"),
            statement=f"{count_words(k, config)} training customers"
                      f"{_share(k, n, config)} never consented to {purpose}: their "
                      f"consent flag {names} is no, yet their rows train a model used for "
                      f"{purpose} (consent covers only the purposes it was given for, GDPR Art. "
                      f"6(1)(a) and 7).{hold}",
            action=f"Remove these customers' rows from the training data (or establish another "
                   f"lawful basis for {purpose}), retrain, and stop scoring customers without "
                   "it.",
            label=f"training rows without consent to {purpose}",
            ok_statement=f"Every one of the {n:,} training customers consented to {purpose} "
                         f"({names} is yes).{hold}")
        findings.append(f)
        metrics.append(m)
    table = Table("consent", ("consent column", "purposes covered", "training rows without",
                              "holdout rows without"), tuple(rows), title="Consent columns",
                  note=f"Counts under {config.suppress_below} are suppressed (empty).")
    return findings, metrics, [table]


def _reference_date(rights, collected):
    if rights.trained_at:
        return np.datetime64(rights.trained_at, "D"), "the model's training date"
    newest = max(d.max() for d in collected.values())
    return newest, "the newest collection date in the data (no training date declared)"


def _retention(subject, rights, config, frames):
    t = config.threshold("data.retention_exceeded")
    retention = {f: d for f, d in rights.retention if f in subject.feature_columns}
    if not retention:
        return [Finding(
            "data.retention.all", Severity.NOT_ASSESSED, "Retention not stated",
            "A collection date is declared, but the feature inventory states no retention "
            "period for any model input (e.g. '24 months'), so rows kept too long could not be "
            "found (GDPR Art. 5(1)(e)).",
            action="State each input's retention in the inventory as a period ('24 months', "
                   "'5 years') and re-run the audit.", threshold=t, area=_AREA)], [], []
    col = rights.collected_at
    collected = {p: dates(f[col], col, p) for p, f in frames.items()}
    ref, ref_words = _reference_date(rights, collected)
    age = {p: (ref - d).astype(int) for p, d in collected.items()}
    rows = [(f, d, _cell(int((age["members"] > d).sum()), config),
             _cell(int((age["nonmembers"] > d).sum()), config))
            for f, d in sorted(retention.items(), key=lambda kv: (kv[1], kv[0]))]
    shortest = _binding(retention)
    binding = sorted(f for f, d in retention.items() if d == shortest)
    n = len(frames["members"])
    k = int((age["members"] > shortest).sum())
    f, m = _check(
        "data.retention.all", "data.retention_exceeded", k, n, config,
        title=("{count} training customers{share} kept beyond their retention",
               "Training rows kept beyond their retention"),
        statement=f"{count_words(k, config)} training customers{_share(k, n, config)} "
                  f"were collected more than {shortest:,} days before {ref_words} "
                  f"({str(ref)}), the retention the inventory states for "
                  f"{', '.join(binding)}: their data should have been deleted before it trained "
                  "the model (GDPR Art. 5(1)(e) storage limitation).",
        action="Delete or anonymise the rows past their retention, retrain without them, and "
               "enforce the retention in the data pipeline.",
        label="training rows older than their retention",
        ok_statement=f"No training row is older than the shortest stated retention ({shortest:,} "
                     f"days, {', '.join(binding)}) on {ref_words} ({str(ref)}).")
    table = Table("retention", ("model input", "retention (days)", "training rows older",
                                "holdout rows older"), tuple(rows),
                  title=f"Rows older than each input's retention on {str(ref)}",
                  note=f"Reference date: {ref_words}. Counts under {config.suppress_below} are "
                       "suppressed (empty).")
    return [f], [m], [table]


def _third_party(origin: str | None) -> bool:
    return bool(origin) and ("third" in origin or "broker" in origin)


def _shadow_profiles(subject, rights, config, frames):
    col = rights.data_source
    src = {p: sources(f[col], col, p) for p, f in frames.items()}
    inputs = sorted(f for f, o in rights.origins
                    if f in subject.feature_columns and _third_party(o))
    rows = [(s, _cell(int((src["members"] == s).sum()), config),
             _cell(int((src["nonmembers"] == s).sum()), config))
            for s in ("first party", "third party", "broker")]
    n = len(frames["members"])
    k = int(_shadow(src["members"]).sum())
    via = ("" if not inputs else f" The model's input {inputs[0]} comes from third-party or "
           "broker data (inventory)." if len(inputs) == 1 else f" The model's inputs "
           f"{', '.join(inputs)} come from third-party or broker data (inventory).")
    f, m = _check(
        "data.shadow_profiles.all", "data.shadow_profiles", k, n, config,
        title=("{count} training customers{share} known only through third-party data",
               "Customers known only through third-party data"),
        statement=f"{count_words(k, config)} training customers{_share(k, n, config)} "
                  "have no relationship with the business other than data a third party shared or "
                  "sold: their "
                  f"rows came from a third party or a data broker ('{col}'). The model profiles "
                  f"people who never dealt with the business (a shadow profile).{via} They must "
                  "have been told (GDPR Art. 14) and may object (Art. 21).",
        action="Confirm the third parties' notices and lawful basis cover this profiling, or "
               "train and score only customers with a first-party relationship.",
        label="training customers known only through third-party or broker data",
        ok_statement=f"Every training customer came to the data first hand ('{col}' is first "
                     f"party).{via}")
    table = Table("data_sources", ("source", "training customers", "holdout customers"),
                  tuple(rows), title="Where the customers' rows came from",
                  note=f"Third-party or broker model inputs (inventory): "
                       f"{', '.join(inputs) or 'none'}. Counts under {config.suppress_below} "
                       "are suppressed (empty).")
    return [f], [m], [table]


def _opt_out(subject, rights, config, frames):
    col = rights.opt_out.column
    out = {p: flags(f[col], col, p) for p, f in frames.items()}
    findings, metrics = [], []
    n_hold, n_train = len(frames["nonmembers"]), len(frames["members"])
    k = int(out[_SCORED].sum())
    f, m = _check(
        "data.opt_out.scored", "data.opt_out_scored", k, n_hold, config,
        title=("{count} customers{share} who opted out of automated decisions are scored",
               "Customers who opted out of automated decisions are scored"),
        statement=f"{count_words(k, config)} holdout customers{_share(k, n_hold, config)}"
                  f" opted out of automated decisions ('{col}') yet the model scores them: "
                  "a decision about them taken on the score alone breaks their opt-out (GDPR "
                  "Art. 22; Art. 21(2) where the score drives direct marketing).",
        action="Exclude opted-out customers before scoring (or route them to a person), and "
               "test that the exclusion holds in production.",
        label="holdout customers scored despite their opt-out",
        ok_statement=f"None of the {n_hold:,} holdout customers opted out of automated "
                     "decisions.")
    findings.append(f)
    metrics.append(m)
    k_train = int(out["members"].sum())
    if rights.opt_out.covers_training:
        f, m = _check(
            "data.opt_out.trained", "data.opt_out_trained", k_train, n_train, config,
            title=("{count} customers{share} who objected to training are in its training rows",
                   "Customers who objected to training are in its training rows"),
            statement=f"{count_words(k_train, config)} training customers"
                      f"{_share(k_train, n_train, config)} opted out of their data being "
                      f"used this way ('{col}', which covers training), yet their rows train the "
                      "model (GDPR Art. 21 objection).",
            action="Remove their rows from the training data and retrain.",
            label="training rows of customers whose opt-out covers training",
            ok_statement="No training customer opted out of training.")
        findings.append(f)
        metrics.append(m)
    table = Table("opt_out", ("part", "customers who opted out", "covers training"),
                  (("training", _cell(k_train, config), rights.opt_out.covers_training),
                   ("holdout", _cell(k, config), rights.opt_out.covers_training)),
                  title="Opt-outs of automated decisions",
                  note=f"Counts under {config.suppress_below} are suppressed (empty).")
    return findings, metrics, [table]


def _erased(subject, rights, config, frames):
    erasure = rights.erasure
    wanted = dict(zip(erasure.ids, erasure.requested_at))
    n = len(wanted)
    col = subject.id_column
    found = {p: (f[col].astype(str).str.strip().isin(wanted).to_numpy() if p in _ERASURE_PARTS
                 else np.zeros(len(f), bool)) for p, f in frames.items()}
    k_train, k_hold = int(found["members"].sum()), int(found["nonmembers"].sum())
    k = len(set(frames["members"][col].astype(str).str.strip()[found["members"]])
            | set(frames["nonmembers"][col].astype(str).str.strip()[found["nonmembers"]]))
    asked = (f"the {n:,} customers who asked to be erased" if n >= config.suppress_below else
             f"the customers who asked to be erased (fewer than {config.suppress_below} "
             "requests)")
    after = ""
    if rights.trained_at:
        ids = frames["members"][col].astype(str).str.strip()[found["members"]]
        before = sum(1 for i in set(ids) if wanted.get(i) and wanted[i] < rights.trained_at)
        if before:
            after = (f" The model was trained on {rights.trained_at}, after "
                     f"{count_words(before, config)} of them had asked to be erased.")
    f, m = _check(
        "data.erasure.in_data", "data.erased_in_data", k, n, config,
        title=("{count} customers who asked to be erased are still in the data",
               "Erased customers still in the data"),
        statement=f"{count_words(k, config)} of {asked}"
                  f"{_share(k, n, config)} are still in the audited rows "
                  f"({count_words(k_train, config)} in the training rows, "
                  f"{count_words(k_hold, config)} in the holdout): their erasure (GDPR Art. 17) "
                  f"has not reached the data.{after}",
        action="Delete these customers from every copy of the training and scoring data; see "
               "the erasure-exposure finding for whether the model must be retrained.",
        label="erasure requests whose customer is still in the data",
        ok_statement=f"None of {asked} is in the training or holdout rows.")
    return [f], [m], []


def run_data_rights(subject: AuditSubject, config: AuditConfig, *,
                    progress=None, cache=None) -> ProbeResult:
    """Check the training and holdout rows against the declared consent, retention, source,
    opt-out and erasure requests (module docstring).

    Returns a ``not_assessed`` finding ``data.rights.undeclared`` when nothing was declared.
    """
    rights = subject.rights
    if rights is None or rights.empty:
        return ProbeResult(probe="data_rights", area=_AREA, findings=(Finding(
            "data.rights.undeclared", Severity.NOT_ASSESSED, "Consent and data rights not checked",
            "No consent, collection-date, data-source or opt-out column and no erasure requests "
            "were declared, so whether the customers' rows may be used for this model (consent, "
            "retention, objections, erasure) was not checked.",
            action="Declare the columns (--consent, --collected-at, --data-source, --opt-out) "
                   "and the erasure requests (--erased), or fill them in on the Load page.",
            area=_AREA),), notes=("No rights columns declared.",))
    frames = {"members": subject.members, "nonmembers": subject.nonmembers}
    findings, metrics, tables = [], [], []
    steps = [(rights.consent and rights.purposes, _consent), (rights.collected_at, _retention),
             (rights.data_source, _shadow_profiles), (rights.opt_out, _opt_out),
             (rights.erasure is not None, _erased)]
    for i, (declared, step) in enumerate(steps):
        if progress:
            progress(step.__name__.strip("_"), i / len(steps))
        if declared:
            f, m, t = step(subject, rights, config, frames)
            findings += f
            metrics += m
            tables += t
    return ProbeResult(probe="data_rights", area=_AREA, metrics=tuple(metrics),
                       tables=tuple(tables), findings=tuple(findings),
                       params={"rights": rights.summary(suppress_below=config.suppress_below),
                               "suppress_below": config.suppress_below})
