"""The ledger: who decided what, on which exact model, recorded so it cannot be edited quietly.

A SQLite file by default (``home_dir()/ledger.db``), or any SQLAlchemy database URL for a shared
board (``--db URL`` or ``REVIEW_BOARD_DB``; PostgreSQL needs ``psycopg``). It records models and
their versions, audit runs (the report JSON and its hashes), status changes, reviewers, votes
with their signatures, decisions, conditions, finding dispositions, comments and every export.
Rows are only ever inserted, each with an event in a hash chain (``reports.ledger.chain``).

Workflow of a run::

    draft (self-check)  --submit-->  submitted (frozen)  --vote/comment/disposition-->
    under_review  --decide-->  approved | approved_with_conditions | rejected | changes_requested

"Changes requested" leads to a new version: the next run of the same model that is submitted
becomes version n + 1 with the previous version as its parent. A signature is an attestation
(name, role, time, report hash), not a proof of identity: authentication comes later.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import sqlalchemy as sa

from audits.core.errors import InputError
from audits.core.paths import home_dir
from reports.ledger import anchor as A
from reports.ledger import chain, keys
from reports.ledger import schema as S
from reports.ledger.read import DECISION_CHOICES, STATUS_LABELS, LedgerReader
from reports.report import AuditReport

__all__ = ["Ledger", "open_ledger", "default_url", "STATUS_LABELS", "DECISION_CHOICES",
           "DISPOSITIONS", "RESIDUAL"]

_FINAL = {"approve": "approved", "approve_with_conditions": "approved_with_conditions",
          "reject": "rejected", "changes_requested": "changes_requested"}
DISPOSITIONS = ("mitigate", "accept", "transfer", "avoid")
RESIDUAL = ("low", "medium", "high")
_OPEN = ("submitted", "under_review")


def default_url() -> str:
    """``REVIEW_BOARD_DB`` when set, else the SQLite file ``home_dir()/ledger.db``."""
    env = os.environ.get("REVIEW_BOARD_DB")
    return _normalise_url(env) if env else f"sqlite:///{home_dir() / 'ledger.db'}"


def _normalise_url(db: str | None) -> str:
    if not db:
        return default_url()
    if db.startswith(("postgresql://", "postgres://")):  # the driver this project installs
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def open_ledger(db: str | None = None, *, anchor: str | Path | None = None,
                key: str | Path | None = None) -> "Ledger":
    """Open (creating when needed) the ledger at a URL or SQLite path (default: see
    :func:`default_url`)."""
    return Ledger(_normalise_url(db), anchor=anchor, key=key)


class Ledger(LedgerReader):
    """The review board's ledger in one database (the reading methods, such as ``runs``,
    ``show``, ``verify`` and ``board_record``, are in :class:`reports.ledger.read.LedgerReader`).

    Parameters
    ----------
    url : SQLAlchemy database URL.
    anchor : path of the anchor file (default ``REVIEW_BOARD_ANCHOR``, else
        ``home_dir()/anchors/<hash of the URL>.json``).
    key : path of the ledger's Ed25519 key (default ``REVIEW_BOARD_LEDGER_KEY``, else
        ``home_dir()/keys/ledger-<hash of the URL>.pem``; created with the first event).
    """

    def __init__(self, url: str, *, anchor: str | Path | None = None,
                 key: str | Path | None = None) -> None:
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as e:
            raise InputError(f"The ledger database URL {url!r} is not valid ({e}). Give a "
                             "SQLAlchemy URL (sqlite:///path.db, postgresql+psycopg://...) with "
                             "--db or REVIEW_BOARD_DB.") from e
        self.url = url
        self.display_url = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.anchor_path = Path(anchor) if anchor else A.anchor_path_for(self.display_url)
        self.key_path = Path(key) if key else A.key_path_for(self.display_url)
        try:
            self.engine = chain.make_engine(url)
            with chain.write_lock(self.engine) as conn:
                S.metadata.create_all(conn)
        except (sa.exc.SQLAlchemyError, ImportError) as e:
            raise InputError(f"The ledger database {self.display_url} could not be opened "
                             f"({type(e).__name__}: {e}). Check --db or REVIEW_BOARD_DB.") from e

    # -- writing ---------------------------------------------------------------------------
    def _commit(self, work, *, by: str | None = None):
        """Run ``work(conn)`` under the write lock, between two checks: before it, the chain must
        verify from the anchored head to the current one (``anchor.check_before_write``: a break
        raises :class:`~reports.ledger.anchor.LedgerRefused` and nothing is written); after it,
        the new head is signed with the ledger's key in the same transaction, and the anchor file
        moves forward once it commits. The first write of a new ledger creates its key."""
        with chain.write_lock(self.engine) as conn:
            top = chain.head(conn)[0]
            key = keys.load_key(self.key_path)
            if top == 0:
                A.check_empty(conn, self.anchor_path, self.display_url)
                key = key or keys.create_key_file(self.key_path)
                A.register_key(conn, key, reason="the ledger's first key", by=by)
            else:
                A.check_before_write(conn, key, key_path=self.key_path,
                                     anchor_path=self.anchor_path, url=self.display_url)
            result = work(conn)
            signed = A.seal_head(conn, key, since=top, url=self.display_url)
        if signed:
            A.write_anchor(self.anchor_path, signed)
        return result

    def reanchor(self, *, reason: str, by: str | None = None) -> dict:
        """Accept the chain's current head as the anchored one: an administrator's explicit act
        after checking the ledger (a lost key or anchor file, a ledger written before heads were
        signed, or a break the board has investigated).

        Records a ``reanchors`` event with what ``verify`` found at that moment (the problems it
        accepts) and the anchor file it replaces, creates a new key when the key is missing,
        signs the head and rewrites the anchor file. It repairs nothing inside the chain: edited
        or deleted rows stay reported by ``verify``; the signed heads that no longer match are
        recorded as accepted and no longer checked (every other one still is). Returns the new
        head, the key's fingerprint and the accepted problems.
        """
        if not (reason or "").strip():
            raise InputError("A re-anchoring needs its reason, in words (--reason on the "
                             "command line): it is recorded in the ledger.")
        with chain.write_lock(self.engine) as conn:
            seq, hash_ = chain.head(conn)
            if seq == 0:
                raise InputError(f"The ledger {self.display_url} is empty: there is no head to "
                                 "re-anchor.")
            found = self._verify(conn)
            accepted = found.problems
            key = keys.load_key(self.key_path)
            new_key = key is None
            key = key or keys.create_key_file(self.key_path)
            if keys.fingerprint(key) not in A.registered_keys(conn):
                A.register_key(conn, key, reason=f"re-anchoring: {reason.strip()}", by=by)
            stale = A.failing_heads(conn)
            previous = A.read_anchor(self.anchor_path)
            chain.append(conn, "reanchors", {
                "seq": seq, "hash": hash_, "key_fingerprint": keys.fingerprint(key),
                "previous_anchor": json.dumps(previous, sort_keys=True) if previous else None,
                "accepted": json.dumps(accepted), "heads_accepted": json.dumps(stale),
                "reason": reason.strip(), "at": chain.now(), "by": by},
                kind="reanchor", run_id=None, actor=by)
            signed = A.seal_head(conn, key, since=seq, url=self.display_url)
        A.write_anchor(self.anchor_path, signed, force=True)
        return {"seq": signed["seq"], "hash": signed["hash"], "key_fingerprint": signed["key"],
                "new_key": new_key, "accepted": accepted}

    def record_run(self, report: AuditReport, *, by: str | None = None,
                   source: str = "cli") -> int:
        """Record an audit run (a self-check until it is submitted); returns its run id."""
        text = report.to_json()
        name = str(report.subject.get("name", "model"))

        def work(conn):
            model = conn.execute(sa.select(S.models.c.id).where(S.models.c.name == name)).scalar()
            if model is None:
                model, _ = chain.append(conn, "models", {"name": name, "at": chain.now(),
                                                         "by": by}, kind="model_created",
                                        run_id=None, actor=by)
            run, _ = chain.append(conn, "runs", {
                "model_id": model, "report_id": report.report_id,
                "report_sha256": S.sha256_text(text), "report_json": text, "source": source,
                "at": chain.now(), "by": by}, kind="run_recorded", run_id=None, actor=by)
            return run
        return self._commit(work)

    def submit(self, run: int | str, *, by: str | None = None) -> dict:
        """Submit a self-check run to the board: it becomes the model's next version, frozen,
        linked to the previous version as its parent."""
        run_id = self.resolve(run)

        def work(conn):
            info = self._run_row(conn, run_id)
            if info["status"] != "draft":
                raise InputError(f"Run {run_id} is already submitted ({info['status']}); a run "
                                 "is submitted once. Audit again for a new version.")
            report = self._report(conn, run_id)
            if not report.verify():
                raise InputError(f"The stored report of run {run_id} does not match its id; "
                                 "run review-board ledger verify.")
            prev = conn.execute(sa.select(S.submissions).where(
                S.submissions.c.model_id == info["model_id"])
                .order_by(S.submissions.c.version.desc()).limit(1)).mappings().first()
            if prev is not None and self._status(conn, prev["run_id"]) in _OPEN:
                raise InputError(f"Version {prev['version']} of {info['model']} (run "
                                 f"{prev['run_id']}) is still under review; decide it first "
                                 "(for instance, the board records 'changes requested' on "
                                 f"it; on the command line: review-board decide "
                                 f"{prev['run_id']} --decision changes).")
            version = (prev["version"] + 1) if prev else 1
            at = chain.now()
            chain.append(conn, "submissions", {
                "run_id": run_id, "model_id": info["model_id"], "version": version,
                "parent_run_id": prev["run_id"] if prev else None, "at": at, "by": by},
                kind="submitted", run_id=run_id, actor=by, at=at)
            self._set_status(conn, run_id, "submitted", by)
            return {"run": run_id, "model": info["model"], "version": version,
                    "parent_run": prev["run_id"] if prev else None}
        return self._commit(work)

    def _set_status(self, conn, run_id: int, status: str, by: str | None) -> None:
        chain.append(conn, "status_changes", {"run_id": run_id, "status": status,
                                              "at": chain.now(), "by": by},
                     kind=f"status:{status}", run_id=run_id, actor=by)

    def _open_for_review(self, conn, run_id: int, by: str | None, what: str) -> str:
        status = self._status(conn, run_id)
        if status == "draft":
            raise InputError(f"Run {run_id} is a self-check (draft); submit it to the board "
                             f"before recording {what} (on the command line: review-board "
                             f"submit {run_id}).")
        if status == "submitted":
            self._set_status(conn, run_id, "under_review", by)
            status = "under_review"
        return status

    def _reviewer(self, conn, run_id, name, role, independent, declaration) -> None:
        last = conn.execute(sa.select(S.reviewers).where(
            (S.reviewers.c.run_id == run_id) & (S.reviewers.c.name == name))
            .order_by(S.reviewers.c.id.desc()).limit(1)).mappings().first()
        if last is None or (last["role"], last["independent"], last["declaration"]) != \
                (role, bool(independent), declaration):
            chain.append(conn, "reviewers", {"run_id": run_id, "name": name, "role": role,
                                             "independent": bool(independent),
                                             "declaration": declaration, "at": chain.now()},
                         kind="reviewer", run_id=run_id, actor=name)

    def _vote(self, conn, run_id, reviewer, decision, role, note, independent,
              declaration) -> int:
        if decision not in _FINAL:
            raise InputError(f"Decision {decision!r}; valid decisions: {list(DECISION_CHOICES)}.")
        self._reviewer(conn, run_id, reviewer, role, independent, declaration)
        at = chain.now()
        vote_id, _ = chain.append(conn, "votes", {
            "run_id": run_id, "reviewer": reviewer, "role": role, "decision": decision,
            "note": note, "at": at}, kind="vote", run_id=run_id, actor=reviewer, at=at)
        report_id = self._report_id(conn, run_id)
        statement = {"name": reviewer, "role": role, "at": at, "report_id": report_id,
                     "vote": decision, "independent": bool(independent)}
        chain.append(conn, "signatures", {
            "run_id": run_id, "vote_id": vote_id, "name": reviewer, "role": role,
            "report_id": report_id, "statement": S.canonical(statement).decode(),
            "digest": S.sha256_text(S.canonical(statement)), "at": at},
            kind="signature", run_id=run_id, actor=reviewer, at=at)
        return vote_id

    def record_vote(self, run: int | str, reviewer: str, decision: str, *, role: str | None = None,
                    note: str | None = None, independent: bool = False,
                    declaration: str | None = None) -> int:
        """A reviewer's vote, signed (attestation bound to the report hash); returns its id."""
        run_id = self.resolve(run)
        decision = DECISION_CHOICES.get(decision, decision)

        def work(conn):
            status = self._open_for_review(conn, run_id, reviewer, "a vote")
            if status not in _OPEN:
                raise InputError(f"Run {run_id} was already decided ({status}); votes are closed.")
            return self._vote(conn, run_id, reviewer, decision, role, note, independent,
                              declaration)
        return self._commit(work)

    def decide(self, run: int | str, decision: str, *, reviewer: str, role: str | None = None,
               note: str | None = None, conditions: Sequence[dict] = (),
               independent: bool = False, declaration: str | None = None) -> dict:
        """Record the board's decision (with the deciding reviewer's signed vote).

        ``decision``: approve, conditions (approve with conditions), reject or changes (changes
        requested). Conditions are dicts with ``text``, ``owner``, ``due``. Overruling the
        recommended decision needs a ``note`` (the recorded reason).
        """
        run_id = self.resolve(run)
        decision = DECISION_CHOICES.get(decision, decision)
        if decision == "approve_with_conditions" and not conditions:
            raise InputError("An approval with conditions needs at least one condition, with "
                             "its owner and due date (--condition TEXT --owner --due on the "
                             "command line).")
        for c in conditions:
            if not (c.get("text") or "").strip():
                raise InputError("A condition needs its text (--condition TEXT on the command "
                                 "line).")

        def work(conn):
            status = self._open_for_review(conn, run_id, reviewer, "a decision")
            if status not in _OPEN:
                raise InputError(f"Run {run_id} was already decided ({status}); a decision is "
                                 "final. Audit and submit a new version.")
            recommended = self._report(conn, run_id).summary.get("recommended_decision")
            if decision not in (recommended, "changes_requested") and not note:
                raise InputError(f"The decision {decision!r} overrules the recommended "
                                 f"{recommended!r}; give the reason in the note (--note on "
                                 "the command line).")
            self._vote(conn, run_id, reviewer, decision, role, note, independent, declaration)
            did, _ = chain.append(conn, "decisions", {
                "run_id": run_id, "decision": decision, "by": reviewer, "role": role,
                "note": note, "at": chain.now()}, kind="decision", run_id=run_id,
                actor=reviewer)
            for c in conditions:
                chain.append(conn, "conditions", {
                    "run_id": run_id, "decision_id": did, "text": c["text"].strip(),
                    "owner": c.get("owner"), "due": c.get("due"), "at": chain.now()},
                    kind="condition", run_id=run_id, actor=reviewer)
            self._set_status(conn, run_id, _FINAL[decision], reviewer)
            return {"run": run_id, "decision": decision, "status": _FINAL[decision]}
        return self._commit(work)

    def comment(self, run: int | str, by: str, text: str, *, finding: str | None = None) -> int:
        """A reviewer's comment on the run or on one finding."""
        run_id = self.resolve(run)

        def work(conn):
            self._open_for_review(conn, run_id, by, "a comment")
            self._check_finding(conn, run_id, finding)
            cid, _ = chain.append(conn, "comments", {"run_id": run_id, "finding_id": finding,
                                                     "by": by, "text": text, "at": chain.now()},
                                  kind="comment", run_id=run_id, actor=by)
            return cid
        return self._commit(work)

    def dispose(self, run: int | str, finding: str, disposition: str, *, by: str,
                owner: str | None = None, due: str | None = None, residual: str | None = None,
                note: str | None = None) -> int:
        """A finding's disposition (mitigate, accept, transfer, avoid) for the risk register."""
        run_id = self.resolve(run)
        if disposition not in DISPOSITIONS:
            raise InputError(f"Disposition {disposition!r}; valid: {list(DISPOSITIONS)}.")
        if residual is not None and residual not in RESIDUAL:
            raise InputError(f"Residual risk {residual!r}; valid: {list(RESIDUAL)}.")

        def work(conn):
            self._open_for_review(conn, run_id, by, "a disposition")
            self._check_finding(conn, run_id, finding)
            did, _ = chain.append(conn, "dispositions", {
                "run_id": run_id, "finding_id": finding, "disposition": disposition,
                "owner": owner, "due": due, "residual": residual, "note": note, "by": by,
                "at": chain.now()}, kind="disposition", run_id=run_id, actor=by)
            return did
        return self._commit(work)

    def record_export(self, run: int | str, fmt: str, files: dict[str, str], *,
                      head: tuple[int, str], by: str | None = None) -> int:
        """Record an export: its format, each file's SHA-256 and the chain head it printed."""
        run_id = self.resolve(run)
        return self._commit(lambda conn: chain.append(conn, "exports", {
            "run_id": run_id, "format": fmt, "files": json.dumps(files, sort_keys=True),
            "chain_seq": head[0], "chain_head": head[1], "by": by, "at": chain.now()},
            kind="export", run_id=run_id, actor=by)[0])

    def _check_finding(self, conn, run_id: int, finding: str | None) -> None:
        if finding is None:
            return
        ids = [f.id for f in self._report(conn, run_id).findings]
        if finding not in ids:
            raise InputError(f"Run {run_id} has no finding {finding!r}; its findings: {ids}.")
