"""The error every bad input raises: a message that names the file or column, the field and the fix.

An :class:`InputError` is built from a :class:`~audits.core.messages.Message` (a constant of
:mod:`audits.core.messages`) and the values it names::

    raise InputError(messages.TARGET_NOT_IN_FILE, column="churned", file="train.csv",
                     columns=[...])

The message names each field the user can change once, in a neutral form ("the target column"),
and carries those fields as data (:attr:`InputError.fields`), so each front end says where to fix
it in its own words: the command line adds its flag ("the target column (--target)"), the app its
form field. ``str(error)`` is the neutral text. Front ends catch :class:`InputError` and show
:meth:`InputError.render` (the command line exits 2, the app shows ``st.error``); nothing the user
did wrong ends in a traceback.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input: a missing or unreadable file, a wrong column or value, an untrusted model type.

    Parameters
    ----------
    message : a :class:`~audits.core.messages.Message` constant, or ready text (no fields).
    **values : the values the message's template names (file, column, value, ...).
    """

    def __init__(self, message: Any, /, **values: Any) -> None:
        self.message = message
        self.values = values
        super().__init__(self.render())

    @property
    def fields(self) -> tuple[str, ...]:
        """The input fields the message names (keys of :data:`audits.core.messages.FIELDS`)."""
        fields_of = getattr(self.message, "fields_of", None)
        return tuple(fields_of(self.values)) if fields_of else ()

    @property
    def code(self) -> str | None:
        """The message's constant name in :mod:`audits.core.messages`, or None for ready text."""
        return getattr(self.message, "code", None)

    def render(self, labels: Mapping[str, str] | None = None) -> str:
        """The message with each field named in a front end's words.

        Parameters
        ----------
        labels : field -> how this front end names it (e.g. ``{"target": "the target column
            (--target)"}``); fields it does not name keep their neutral form.
        """
        render = getattr(self.message, "render", None)
        if render is None:
            return str(self.message)
        return render(labels, **self.values)
