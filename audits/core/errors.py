"""The error every bad input raises: a message that names the file or column and the fix.

Front ends catch :class:`InputError` and show its message (the command line exits 2, the app shows
``st.error``); nothing the user did wrong ends in a traceback.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input: a missing or unreadable file, a wrong column, an untrusted model type."""
