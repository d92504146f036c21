"""The board's ledger: append-only, hash-chained events in SQLite or PostgreSQL, signed heads, a
roster of members with roles and keys, and signed votes and decisions.

- :mod:`~reports.ledger.schema` the tables and the hashes that bind each row to the chain;
- :mod:`~reports.ledger.chain` appending under a write lock, recomputing the chain;
- :mod:`~reports.ledger.keys` Ed25519 keys, fingerprints, key files, sealed private keys;
- :mod:`~reports.ledger.anchor` the ledger's key, signed heads, the anchor file, re-anchoring;
- :mod:`~reports.ledger.roster` members, roles, password hashes and public keys as events;
- :mod:`~reports.ledger.identity` signing in (local accounts, single sign-on), sessions, roles;
- :mod:`~reports.ledger.admin` the roster's administration and the board's settings;
- :mod:`~reports.ledger.rules` the board's rules (conflicts, quorum, dispositions, conditions);
- :mod:`~reports.ledger.signing` members' signatures on votes and decisions, and their check;
- :mod:`~reports.ledger.read` reading runs, their board record and history, ``verify``;
- :mod:`~reports.ledger.workflow` the review workflow's writes;
- :mod:`~reports.ledger.store` :class:`Ledger`, the writes' common path.
"""

from reports.ledger.anchor import LedgerRefused
from reports.ledger.identity import Session
from reports.ledger.roster import ROLE_LABELS, ROLES
from reports.ledger.rules import BoardRuleError
from reports.ledger.store import (
                                  DECISION_CHOICES,
                                  DISPOSITIONS,
                                  RESIDUAL,
                                  STATUS_LABELS,
                                  Ledger,
                                  default_url,
                                  open_ledger,
)

__all__ = ["Ledger", "open_ledger", "default_url", "STATUS_LABELS", "DECISION_CHOICES",
           "DISPOSITIONS", "RESIDUAL", "Session", "BoardRuleError", "LedgerRefused", "ROLES",
           "ROLE_LABELS"]
