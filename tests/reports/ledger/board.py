"""A board for tests: an administrator and members who chose their own passwords, signed in.

Shared by the ledger's tests, the app's tests and the browser test (through the engine's API, as
an administrator would set a board up with ``review-board users add``).
"""

from __future__ import annotations

from reports.ledger import Ledger, Session

PASSWORD = "correct horse battery staple"
TEMPORARY = "temporary password 1"

#: name -> roles. ds submits; alice chairs; bob and carol review (quorum 2).
MEMBERS = {"ds": ("submitter",), "alice": ("chair",), "bob": ("reviewer",),
           "carol": ("reviewer",)}


def make_board(ledger: Ledger, members: dict[str, tuple] = MEMBERS, *,
               password: str = PASSWORD) -> dict[str, Session]:
    """Sessions by name: ``admin`` (the first member) and each of ``members``, every one with
    their own password (so with their signing key)."""
    ledger.add_user("admin", roles=["administrator"], password=password)
    admin = ledger.sign_in("admin", password)
    sessions = {"admin": admin}
    for name, roles in members.items():
        ledger.add_user(name, roles=list(roles), password=TEMPORARY, by=admin,
                        email=f"{name}@example.com")
        first = ledger.sign_in(name, TEMPORARY)
        sessions[name] = ledger.change_password(first, password)
    return sessions


def dispose_all(ledger: Ledger, run: int, by: Session, how: str = "mitigate") -> list[str]:
    """A disposition for every finding that fails or needs attention; returns their ids."""
    ids = [f.id for f in ledger.report(run).findings
           if f.severity.value in ("fail", "attention")]
    for fid in ids:
        ledger.dispose(run, fid, how, by=by, owner="DS team", due="2027-01-31", residual="low")
    return ids


def quorum_votes(ledger: Ledger, run: int, sessions: dict[str, Session], vote: str,
                 voters=("bob", "carol")) -> None:
    for name in voters:
        ledger.record_vote(run, vote, by=sessions[name], independent=True,
                           declaration=f"{name}: no part in the model.")


def ready_to_decide(ledger: Ledger, run: int, sessions: dict[str, Session], vote: str) -> None:
    """Everything a decision needs: the dispositions (by bob) and two independent votes."""
    dispose_all(ledger, run, sessions["bob"])
    quorum_votes(ledger, run, sessions, vote)


def recommended_option(report) -> str:
    return {"approve": "approve", "approve_with_conditions": "conditions",
            "reject": "reject"}[report.summary["recommended_decision"]]


BOARD_FILES = ("ledger.db", "anchor.json", "ledger.pem")


def board_template(directory) -> dict[str, Session]:
    """A ledger holding only the board, in ``directory`` (``ledger.db`` with ``anchor.json`` and
    ``ledger.pem`` beside it), to be copied by :func:`copy_board`; returns the sessions, which
    stay valid in every copy (the same ledger, roster and keys)."""
    from pathlib import Path

    d = Path(directory)
    ledger = Ledger(f"sqlite:///{d / 'ledger.db'}", anchor=d / "anchor.json",
                    key=d / "ledger.pem")
    sessions = make_board(ledger)
    ledger.engine.dispose()
    return sessions


def copy_board(template, directory, monkeypatch=None) -> str:
    """Copy a :func:`board_template` into ``directory``; returns the database URL. With
    ``monkeypatch``, point REVIEW_BOARD_DB, REVIEW_BOARD_ANCHOR and REVIEW_BOARD_LEDGER_KEY at the
    copy (what the app and the command line open)."""
    import shutil
    from pathlib import Path

    src, dst = Path(template), Path(directory)
    for name in BOARD_FILES:
        shutil.copy(src / name, dst / name)
    url = f"sqlite:///{dst / 'ledger.db'}"
    if monkeypatch is not None:
        monkeypatch.setenv("REVIEW_BOARD_DB", url)
        monkeypatch.setenv("REVIEW_BOARD_ANCHOR", str(dst / "anchor.json"))
        monkeypatch.setenv("REVIEW_BOARD_LEDGER_KEY", str(dst / "ledger.pem"))
    return url
