"""The board's review session as plain data: what the app's Review page needs beyond the ledger's
own API (:class:`reports.ledger.Ledger`), with no Streamlit in it.

- the report as it is submitted: the submitter's feature inventory stored in it
  (:func:`submission_report`, via :func:`reports.build.attach_context`);
- finding the run that already holds a report, so that recording twice reuses it
  (:func:`find_run`; ``Ledger.record_run`` itself always inserts a new run);
- the board's record regrouped per finding (:func:`notes_by_finding`), the conditions typed into
  a table (:func:`conditions_from_rows`), the history of a model's runs (:func:`history_rows`) and
  the changed findings between two of them (:func:`diff_rows`).

The rules (who may do what in which status, the quorum, the dispositions a decision needs, the note
an overruling decision needs) stay in the ledger (``reports.ledger.rules``): nothing here checks
them twice.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from audits.core.errors import InputError
from audits.core.results import Severity
from reports.build import attach_context
from reports.ledger.read import DECISION_CHOICES
from reports.report import DECISIONS, AuditReport

__all__ = ["DECISION_LABELS", "DECISION_OPTIONS", "DISPOSITION_LABELS", "LEDGER_ERRORS",
           "RESIDUAL_LABELS", "VERIFICATION_LABELS", "conditions_from_rows", "diff_rows",
           "find_run", "history_rows", "iso_date", "notes_by_finding", "option_of", "run_label",
           "submission_report"]

#: What the ledger raises: bad input or a forbidden transition (InputError), or the database
#: failing underneath (e.g. locked for longer than its timeout).
LEDGER_ERRORS = (InputError, SQLAlchemyError)

#: The decisions a reviewer chooses from, by the names the command line uses
#: (``reports.ledger.read.DECISION_CHOICES``: approve, conditions, reject, changes).
DECISION_OPTIONS = tuple(DECISION_CHOICES)
DECISION_LABELS = {k: (DECISIONS | {"changes_requested": "Changes requested"})[v]
                   for k, v in DECISION_CHOICES.items()}

#: The ledger's dispositions (``reports.ledger.DISPOSITIONS``), the four risk treatments of
#: ISO 31000 as risk registers name them, in words.
DISPOSITION_LABELS = {
    "mitigate": "Mitigate: reduce the risk before release",
    "accept": "Accept the risk as it is",
    "transfer": "Transfer: another party carries the risk (e.g. a contract)",
    "avoid": "Avoid: drop the input or the use that causes the risk",
}
RESIDUAL_LABELS = {None: "not stated", "low": "Low", "medium": "Medium", "high": "High"}

#: A member's signature as the board record reports it (``Ledger.board_record``'s
#: ``verification``), in words.
VERIFICATION_LABELS = {"verified": "verified (Ed25519)",
                       "failed": "FAILED: does not verify",
                       "unsigned": "unsigned (recorded before signing began)"}


def submission_report(report: AuditReport, inventory: dict | None) -> AuditReport:
    """The report as it goes into the ledger: with the feature inventory stored in it.

    Parameters
    ----------
    report : the current report.
    inventory : the inventory filled in by the submitter (``normalise_inventory`` form), or None.

    Returns
    -------
    AuditReport
        ``report`` itself when ``inventory`` is None (an inventory stored before is kept);
        otherwise :func:`reports.build.attach_context` with the report's own context kept, so
        its inventory findings, summary and id are recomputed. Attaching the same inventory again
        gives the same report id.
    """
    if inventory is None:
        return report
    return attach_context(report, report.subject.get("context"), inventory)


def find_run(ledger, report: AuditReport, *, prefer: int | None = None) -> dict | None:
    """The ledger's run that holds this exact report (same report id), or None.

    ``Ledger.record_run`` inserts a new run each time it is called, even for a report already
    recorded; the app reuses the existing run instead. Among several runs of the same report,
    ``prefer`` (the run id the session last used) wins when it is one of them, else the newest.
    """
    rows = [r for r in ledger.runs(model=str(report.subject.get("name", "model")))
            if r["report_id"] == report.report_id]
    for r in rows:
        if r["id"] == prefer:
            return r
    return rows[-1] if rows else None


def option_of(decision: str | None) -> str | None:
    """The option name (``conditions``) of a recorded decision (``approve_with_conditions``)."""
    back = {v: k for k, v in DECISION_CHOICES.items()}
    return back.get(decision, decision if decision in DECISION_CHOICES else None)


def notes_by_finding(board: dict | None) -> dict[str | None, dict]:
    """The board's comments and latest disposition per finding id (``None``: the run itself).

    Returns
    -------
    dict
        finding id -> ``{"comments": [{"by", "at", "text"}, ...] (oldest first),
        "disposition": {...} or None}``, for every finding the board wrote about.
    """
    out: dict[str | None, dict] = {}
    if not board:
        return out
    for c in board.get("comments", []):
        out.setdefault(c["finding"], {"comments": [], "disposition": None})["comments"].append(
            {"by": c["by"], "at": c["at"], "text": c["text"]})
    for fid, d in board.get("dispositions", {}).items():
        out.setdefault(fid, {"comments": [], "disposition": None})["disposition"] = d
    return out


def _blank(v: Any) -> bool:
    if isinstance(v, str):
        return not v.strip()
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))  # NaN, NaT, NA


def iso_date(v: Any) -> str | None:
    """A due date as ISO text (``2027-01-31``): from a date, a datetime, a pandas Timestamp or
    text (kept as typed, stripped); None when blank."""
    if _blank(v):
        return None
    if isinstance(v, _dt.datetime):  # pandas.Timestamp is a datetime
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v).strip()


def conditions_from_rows(rows: Iterable[dict]) -> list[dict]:
    """Conditions of approval from the rows of an editable table (keys ``text``, ``owner``,
    ``due``), in the ledger's form ``{"text", "owner", "due"}``.

    Wholly empty rows are dropped; a row with an owner or a due date but no text is kept so that
    the ledger's own rule ("A condition needs its text") names it.
    """
    out = []
    for r in rows:
        text, owner, due = r.get("text"), r.get("owner"), iso_date(r.get("due"))
        if _blank(text) and _blank(owner) and due is None:
            continue
        out.append({"text": "" if _blank(text) else str(text).strip(),
                    "owner": None if _blank(owner) else str(owner).strip(), "due": due})
    return out


def run_label(row: dict) -> str:
    """A run in one line: ``run 3 · v2 · Rejected`` (``self-check`` before it is submitted)."""
    version = f"v{row['version']}" if row.get("version") else "self-check"
    return f"run {row['id']} · {version} · {row['status_label']}"


def history_rows(ledger, model: str) -> list[dict]:
    """The model's runs in the ledger, oldest first, as table rows: run id, version, when it was
    recorded, its status, the board's decision and who recorded it, and the report id's prefix."""
    rows = []
    for r in ledger.runs(model=model):
        d = ledger.board_record(r["id"], with_diff=False)["decision"]
        decision = DECISION_LABELS.get(option_of(d["decision"]), d["decision"]) if d else \
            "none yet"
        rows.append({"Run": r["id"],
                     "Version": f"v{r['version']}" if r["version"] else "self-check",
                     "Recorded (UTC)": r["recorded_at"], "Status": r["status_label"],
                     "Board decision": decision + (f" ({d['by']})" if d else ""),
                     "Report id": r["report_id"][:12]})
    return rows


_CHANGE = {"appeared": "New finding", "resolved": "No longer found",
           "changed": "Severity changed"}


def diff_rows(diff: dict) -> list[dict]:
    """The findings that changed between two runs (``reports.diff.diff_reports``), one row each:
    what happened, the finding, its severity before and after (in words)."""
    def label(v):
        return Severity(v).label if v else "absent"

    return [{"Change": _CHANGE[key], "Finding": d["title"], "Before": label(d["before"]),
             "After": label(d["after"]), "Finding id": d["id"]}
            for key in ("appeared", "resolved", "changed") for d in diff[key]]
