"""Where the tool keeps its own files: the home folder and the installation's secret.

``REVIEW_BOARD_HOME`` (default ``~/.review_board``) holds the pseudonymisation secret, the default
SQLite ledger, the report cache, uploads and the reference-pool cache.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["home_dir", "installation_secret"]


def home_dir() -> Path:
    """The tool's per-user folder (``REVIEW_BOARD_HOME``, default ``~/.review_board``)."""
    return Path(os.environ.get("REVIEW_BOARD_HOME", Path.home() / ".review_board"))


def installation_secret() -> bytes:
    """The per-installation key for pseudonyms, created on first use (file mode 0600)."""
    path = home_dir() / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()
