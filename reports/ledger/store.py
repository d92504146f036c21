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
becomes version n + 1 with the previous version as its parent. Board actions need a signed-in
member (``reports.ledger.identity``) whose roles allow them (``reports.ledger.rules``); votes and
decisions are signed with the member's Ed25519 key (``reports.ledger.signing``); every write
ends with a head signed by the ledger's key (``reports.ledger.anchor``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa

from audits.core.errors import InputError
from audits.core.paths import home_dir
from reports.ledger import anchor as A
from reports.ledger import chain, keys
from reports.ledger import schema as S
from reports.ledger.admin import AdminMixin
from reports.ledger.identity import IdentityMixin, Session, authorise
from reports.ledger.read import DECISION_CHOICES, STATUS_LABELS, LedgerReader
from reports.ledger.roster import load_roster
from reports.ledger.workflow import DISPOSITIONS, RESIDUAL, WorkflowMixin
from reports.report import AuditReport

__all__ = ["Ledger", "open_ledger", "default_url", "STATUS_LABELS", "DECISION_CHOICES",
           "DISPOSITIONS", "RESIDUAL"]



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


class Ledger(LedgerReader, IdentityMixin, AdminMixin, WorkflowMixin):
    """The review board's ledger in one database: the reading methods (``runs``, ``show``,
    ``verify``, ``board_record``) in :class:`~reports.ledger.read.LedgerReader`, signing in in
    :class:`~reports.ledger.identity.IdentityMixin`, the roster's administration in
    :class:`~reports.ledger.admin.AdminMixin`, the review workflow (``submit``,
    ``comment``, ``dispose``, ``record_vote``, ``decide``, ``tally``,
    ``missing_for_decision``) in :class:`~reports.ledger.workflow.WorkflowMixin`; here the
    writes' common path (``_commit``), recording runs and exports, and re-anchoring.

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

    def reanchor(self, *, reason: str, by: Session | str | None = None) -> dict:
        """Accept the chain's current head as the anchored one: an administrator's explicit act
        after checking the ledger (a lost key or anchor file, a ledger written before heads were
        signed, or a break the board has investigated).

        ``by``: a signed-in administrator once the roster has one (before that, the operating
        system's user name is recorded). Records a ``reanchors`` event with what ``verify``
        found at that moment (the problems it accepts) and the anchor file it replaces, creates
        a new key when the key is missing, signs the head and rewrites the anchor file. It
        repairs nothing inside the chain: edited or deleted rows stay reported by ``verify``;
        the signed heads that no longer match are recorded as accepted and no longer checked
        (every other one still is). Returns the new head, the key's fingerprint and the accepted
        problems.
        """
        if not (reason or "").strip():
            raise InputError("A re-anchoring needs its reason, in words (--reason on the "
                             "command line): it is recorded in the ledger.")
        with chain.write_lock(self.engine) as conn:
            seq, hash_ = chain.head(conn)
            if seq == 0:
                raise InputError(f"The ledger {self.display_url} is empty: there is no head to "
                                 "re-anchor.")
            roster = load_roster(conn)
            if roster.has_administrator() or isinstance(by, Session):
                first = conn.execute(sa.select(S.events.c.hash).where(S.events.c.seq == 1)
                                     ).scalar()
                by = authorise(roster, by, ledger_first=first, roles=("administrator",),
                               action="Re-anchoring the ledger", need_key=False).name
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

    def record_export(self, run: int | str, fmt: str, files: dict[str, str], *,
                      head: tuple[int, str], by: str | None = None) -> int:
        """Record an export: its format, each file's SHA-256 and the chain head it printed."""
        run_id = self.resolve(run)
        return self._commit(lambda conn: chain.append(conn, "exports", {
            "run_id": run_id, "format": fmt, "files": json.dumps(files, sort_keys=True),
            "chain_seq": head[0], "chain_head": head[1], "by": by, "at": chain.now()},
            kind="export", run_id=run_id, actor=by)[0])
