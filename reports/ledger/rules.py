"""The board's rules, as plain functions over the ledger's data: who may act on a model, what a
decision still needs, the tally of votes, and what a condition must say.

- The submitter of a model cannot vote on it, nor record a disposition; one person may hold
  several roles, except submitter and reviewer of the same model (someone who voted on or disposed
  of a model's findings cannot submit it, and a model's submitter cannot review it).
- A decision needs every finding that fails or needs attention dispositioned, and a quorum of
  votes from reviewers who declared themselves independent of the model's team and are not its
  submitter (the board's ``quorum`` setting, default 2). A decision is not a vote.
- A condition of approval needs its text, an owner and a due date (YYYY-MM-DD).

Each refusal is a :class:`BoardRuleError` whose message says what is missing in words any front
end can show (the command line's option in brackets), with the items in ``missing``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence

from audits.core.errors import InputError

__all__ = ["BoardRuleError", "NEEDS_DISPOSITION", "tally", "undisposed", "missing_for_decision",
           "check_conditions", "conflict_message"]

#: Severities whose findings need a disposition before a decision.
NEEDS_DISPOSITION = ("fail", "attention")


class BoardRuleError(InputError):
    """A board action the rules refuse. ``missing``: what is missing, one sentence each."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


def conflict_message(name: str, model: str, did: str, wants: str) -> str:
    return (f"{name} {did} {model}, so cannot {wants} it: one person may hold several roles, "
            "but not submitter and reviewer of the same model.")


def tally(votes: Iterable[dict], reviewers: Iterable[dict], *, submitters: set[str],
          quorum: int) -> dict:
    """The votes on a run: each voter's latest vote, the count per decision, and the quorum.

    Parameters
    ----------
    votes : the run's vote rows (``reviewer``, ``decision``, ``at``), oldest first.
    reviewers : the run's declarations (``name``, ``independent``, ``declaration``), oldest first;
        a voter's latest declaration counts.
    submitters : the model's submitters (their votes never count towards the quorum).
    quorum : the independent votes a decision needs.

    Returns
    -------
    dict
        ``voters`` (name, decision, at, independent, counts: whether the vote counts towards the
        quorum), ``counts`` (decision -> number of voters), ``independent`` (votes that count),
        ``quorum`` and ``quorum_met``.
    """
    declared = {}
    for r in reviewers:
        declared[r["name"]] = r
    latest: dict[str, dict] = {}
    for v in votes:
        latest[v["reviewer"]] = v
    voters, counts = [], {}
    for name, v in latest.items():
        independent = bool(declared.get(name, {}).get("independent"))
        counts[v["decision"]] = counts.get(v["decision"], 0) + 1
        voters.append({"name": name, "decision": v["decision"], "at": v["at"],
                       "independent": independent,
                       "counts": independent and name not in submitters})
    n = sum(v["counts"] for v in voters)
    return {"voters": voters, "counts": counts, "independent": n, "quorum": quorum,
            "quorum_met": n >= quorum}


def undisposed(findings: Iterable, dispositions: dict) -> list:
    """The findings that fail or need attention and have no disposition yet, worst first."""
    out = [f for f in findings if f.severity.value in NEEDS_DISPOSITION
           and f.id not in dispositions]
    return sorted(out, key=lambda f: (-f.severity.rank, f.id))


def missing_for_decision(findings: Iterable, dispositions: dict, votes: dict) -> list[str]:
    """What a decision still needs, one sentence each (empty when it can be recorded).

    ``votes`` is :func:`tally`'s result."""
    missing = []
    todo = undisposed(findings, dispositions)
    if todo:
        ids = ", ".join(f.id for f in todo)
        missing.append(f"{len(todo)} finding{'s' if len(todo) > 1 else ''} that fail or need "
                       f"attention {'have' if len(todo) > 1 else 'has'} no disposition yet: "
                       f"{ids}. A reviewer records one for each (review-board dispose on the "
                       "command line).")
    if not votes["quorum_met"]:
        counted = [v["name"] for v in votes["voters"] if v["counts"]]
        others = [v["name"] for v in votes["voters"] if not v["counts"]]
        extra = (f" ({', '.join(others)} voted without declaring independence, or submitted "
                 "the model: not counted)" if others else "")
        missing.append(f"{votes['independent']} of the {votes['quorum']} votes the quorum needs "
                       f"from independent reviewers{': ' + ', '.join(counted) if counted else ''}"
                       f"{extra}. Each reviewer votes and declares independence (review-board "
                       "vote --independent on the command line).")
    return missing


def check_conditions(decision: str, conditions: Sequence[dict]) -> list[dict]:
    """The conditions of a decision, normalised (text, owner and due date stripped; due as
    YYYY-MM-DD), or a :class:`BoardRuleError` naming each one that is incomplete."""
    if decision == "approve_with_conditions" and not conditions:
        raise BoardRuleError("An approval with conditions needs at least one condition, with its "
                             "owner and due date (--condition TEXT --owner NAME --due YYYY-MM-DD "
                             "on the command line).", ["a condition"])
    out, missing = [], []
    for i, c in enumerate(conditions, 1):
        text = (c.get("text") or "").strip()
        owner = (c.get("owner") or "").strip()
        due = (c.get("due") or "").strip() if isinstance(c.get("due"), str) else c.get("due")
        label = f"Condition {i}" + (f" ({text!r})" if text else "")
        if not text:
            missing.append(f"{label} needs its text (--condition TEXT on the command line).")
        if not owner:
            missing.append(f"{label} needs an owner (--owner NAME on the command line).")
        if isinstance(due, (_dt.date, _dt.datetime)):
            due = due.strftime("%Y-%m-%d")
        try:
            _dt.date.fromisoformat(due or "")
            valid = len(due) == 10
        except ValueError:
            valid = False
        if not valid:
            missing.append(f"{label} needs a due date as YYYY-MM-DD"
                           f"{f', not {due!r}' if due else ''} (--due on the command line).")
        out.append({"text": text, "owner": owner, "due": due})
    if missing:
        raise BoardRuleError(" ".join(missing), missing)
    return out
