"""The ledger's tables (SQLAlchemy Core) and the hashes that bind them to the event chain.

Every table is insert-only. Each row is created together with one event in ``events`` whose
``row_hash`` is the SHA-256 of the row's canonical JSON (all its columns, id included), and each
event's ``hash`` covers the previous event's hash: editing or deleting any row, or any event,
breaks a hash that ``reports.ledger.chain.verify`` recomputes and names. State (a run's status, a
finding's disposition) is never updated in place: it is the latest row of its kind.

Tables: ``models``, ``runs`` (report JSON and hashes), ``submissions`` (model versions and their
parents), ``status_changes``, ``reviewers``, ``votes``, ``signatures``, ``decisions``,
``conditions``, ``dispositions``, ``comments``, ``exports``, ``ledger_keys`` (the public keys that
sign the chain's heads), ``reanchors`` (an administrator's explicit re-anchoring), ``roster`` (the
board's users, roles, password hashes and public keys, as events), ``settings`` (board settings
such as the quorum), ``user_signatures`` (Ed25519 signatures of votes and decisions) and
``events``.

``heads`` is the one table outside the chain: each write's new head, signed with the ledger's key
(``reports.ledger.anchor``). It is the signature *of* the chain, so it cannot be inside it.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

__all__ = ["metadata", "TABLES", "ROW_TABLES", "events", "heads", "canonical", "sha256_text",
           "row_hash", "event_hash", "GENESIS"]

metadata = sa.MetaData()
GENESIS = "0" * 64


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _run() -> sa.Column:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True)


_T = sa.Text
models = sa.Table("models", metadata, _id(), sa.Column("name", _T, nullable=False, unique=True),
                  sa.Column("at", _T, nullable=False), sa.Column("by", _T))
runs = sa.Table("runs", metadata, _id(),
                sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
                sa.Column("report_id", _T, nullable=False, index=True),
                sa.Column("report_sha256", _T, nullable=False),
                sa.Column("report_json", _T, nullable=False),
                sa.Column("source", _T), sa.Column("at", _T, nullable=False),
                sa.Column("by", _T))
submissions = sa.Table("submissions", metadata, _id(), _run(),
                       sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"),
                                 nullable=False),
                       sa.Column("version", sa.Integer, nullable=False),
                       sa.Column("parent_run_id", sa.Integer, nullable=True),
                       sa.Column("at", _T, nullable=False), sa.Column("by", _T))
status_changes = sa.Table("status_changes", metadata, _id(), _run(),
                          sa.Column("status", _T, nullable=False),
                          sa.Column("at", _T, nullable=False), sa.Column("by", _T))
reviewers = sa.Table("reviewers", metadata, _id(), _run(), sa.Column("name", _T, nullable=False),
                     sa.Column("role", _T), sa.Column("independent", sa.Boolean, nullable=False),
                     sa.Column("declaration", _T), sa.Column("at", _T, nullable=False))
votes = sa.Table("votes", metadata, _id(), _run(), sa.Column("reviewer", _T, nullable=False),
                 sa.Column("role", _T), sa.Column("decision", _T, nullable=False),
                 sa.Column("note", _T), sa.Column("at", _T, nullable=False))
signatures = sa.Table("signatures", metadata, _id(), _run(),
                      sa.Column("vote_id", sa.Integer, sa.ForeignKey("votes.id")),
                      sa.Column("name", _T, nullable=False), sa.Column("role", _T),
                      sa.Column("report_id", _T, nullable=False),
                      sa.Column("statement", _T, nullable=False),
                      sa.Column("digest", _T, nullable=False),
                      sa.Column("at", _T, nullable=False))
decisions = sa.Table("decisions", metadata, _id(), _run(),
                     sa.Column("decision", _T, nullable=False),
                     sa.Column("by", _T, nullable=False), sa.Column("role", _T),
                     sa.Column("note", _T), sa.Column("at", _T, nullable=False))
conditions = sa.Table("conditions", metadata, _id(), _run(),
                      sa.Column("decision_id", sa.Integer, sa.ForeignKey("decisions.id")),
                      sa.Column("text", _T, nullable=False), sa.Column("owner", _T),
                      sa.Column("due", _T), sa.Column("at", _T, nullable=False))
dispositions = sa.Table("dispositions", metadata, _id(), _run(),
                        sa.Column("finding_id", _T, nullable=False),
                        sa.Column("disposition", _T, nullable=False), sa.Column("owner", _T),
                        sa.Column("due", _T), sa.Column("residual", _T), sa.Column("note", _T),
                        sa.Column("by", _T), sa.Column("at", _T, nullable=False))
comments = sa.Table("comments", metadata, _id(), _run(), sa.Column("finding_id", _T),
                    sa.Column("by", _T, nullable=False), sa.Column("text", _T, nullable=False),
                    sa.Column("at", _T, nullable=False))
exports = sa.Table("exports", metadata, _id(), _run(), sa.Column("format", _T, nullable=False),
                   sa.Column("files", _T, nullable=False),
                   sa.Column("chain_seq", sa.Integer), sa.Column("chain_head", _T),
                   sa.Column("by", _T), sa.Column("at", _T, nullable=False))
ledger_keys = sa.Table("ledger_keys", metadata, _id(), sa.Column("fingerprint", _T, nullable=False),
                       sa.Column("public_key", _T, nullable=False), sa.Column("reason", _T),
                       sa.Column("at", _T, nullable=False), sa.Column("by", _T))
reanchors = sa.Table("reanchors", metadata, _id(), sa.Column("seq", sa.Integer, nullable=False),
                     sa.Column("hash", _T, nullable=False), sa.Column("previous_anchor", _T),
                     sa.Column("accepted", _T, nullable=False),
                     sa.Column("key_fingerprint", _T, nullable=False),
                     sa.Column("heads_accepted", _T, nullable=False),
                     sa.Column("reason", _T, nullable=False), sa.Column("at", _T, nullable=False),
                     sa.Column("by", _T))
roster = sa.Table("roster", metadata, _id(), sa.Column("action", _T, nullable=False),
                  sa.Column("name", _T, nullable=False, index=True),
                  sa.Column("data", _T, nullable=False), sa.Column("at", _T, nullable=False),
                  sa.Column("by", _T))
settings = sa.Table("settings", metadata, _id(), sa.Column("name", _T, nullable=False),
                    sa.Column("value", _T, nullable=False), sa.Column("at", _T, nullable=False),
                    sa.Column("by", _T))
user_signatures = sa.Table("user_signatures", metadata, _id(), _run(),
                           sa.Column("signer", _T, nullable=False), sa.Column("role", _T),
                           sa.Column("key_fingerprint", _T, nullable=False),
                           sa.Column("method", _T, nullable=False), sa.Column("issuer", _T),
                           sa.Column("subject", _T), sa.Column("statement", _T, nullable=False),
                           sa.Column("signature", _T, nullable=False),
                           sa.Column("at", _T, nullable=False))
heads = sa.Table("heads", metadata, _id(), sa.Column("seq", sa.Integer, nullable=False, index=True),
                 sa.Column("hash", _T, nullable=False), sa.Column("events", _T, nullable=False),
                 sa.Column("key_fingerprint", _T, nullable=False),
                 sa.Column("signature", _T, nullable=False), sa.Column("at", _T, nullable=False))
events = sa.Table("events", metadata,
                  sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
                  sa.Column("at", _T, nullable=False), sa.Column("kind", _T, nullable=False),
                  sa.Column("run_id", sa.Integer), sa.Column("actor", _T),
                  sa.Column("row_table", _T), sa.Column("row_id", sa.Integer),
                  sa.Column("row_hash", _T), sa.Column("prev_hash", _T, nullable=False),
                  sa.Column("hash", _T, nullable=False, unique=True))

ROW_TABLES = {t.name: t for t in (models, runs, submissions, status_changes, reviewers, votes,
                                  signatures, decisions, conditions, dispositions, comments,
                                  exports, ledger_keys, reanchors, roster, settings,
                                  user_signatures)}
TABLES = ROW_TABLES | {"events": events, "heads": heads}


def canonical(obj) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def sha256_text(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def row_hash(table: str, row: dict) -> str:
    """SHA-256 of a row's canonical JSON: its table name and every column, id included."""
    cols = [c.name for c in ROW_TABLES[table].columns]
    return sha256_text(canonical({"table": table, "row": {c: row.get(c) for c in cols}}))


_EVENT_FIELDS = ("seq", "at", "kind", "run_id", "actor", "row_table", "row_id", "row_hash",
                 "prev_hash")


def event_hash(event: dict) -> str:
    """SHA-256 of an event's canonical JSON (every field but its own hash), so it covers the
    previous event's hash and the row it records: ``hash_n = H(seq_n, ..., row_hash_n,
    hash_{n-1})`` with ``hash_0`` = 64 zeros."""
    return sha256_text(canonical({k: event.get(k) for k in _EVENT_FIELDS}))
