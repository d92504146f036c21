"""The board's ledger: append-only, hash-chained events in SQLite or PostgreSQL.

- :mod:`~reports.ledger.schema` the tables and the hashes that bind each row to the chain;
- :mod:`~reports.ledger.chain` appending under a write lock, the anchor, ``verify``;
- :mod:`~reports.ledger.read` reading runs, their board record and history;
- :mod:`~reports.ledger.store` :class:`Ledger`, the review workflow's writes.
"""

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
           "DISPOSITIONS", "RESIDUAL"]
