"""Signing in to the board on the Review page, with the identity back-ends the operator chose.

- **Local accounts** (``local``): the member's name and password, checked by the ledger
  (``Ledger.sign_in``: Argon2id, the signing key opened with the password). A member whose
  password is still the administrator's temporary one chooses their own here
  (``Ledger.change_password``), which issues their signing key.
- **Single sign-on** (``sso``): OpenID Connect through Streamlit's ``st.login``, configured in the
  ``[auth]`` section of ``.streamlit/secrets.toml`` (``redirect_uri``, ``cookie_secret``,
  ``client_id``, ``client_secret``, ``server_metadata_url``). The identity provider sends the
  browser back to the app's first page with an identity cookie; the Review page then matches the
  ID token's claims to the roster (``Ledger.sso_sign_in``: the issuer must be one the board
  trusts, the ``email`` claim an active member's e-mail) and this host's key signs for them.

The back-ends are an operator's setting, never a field of the page: ``REVIEW_BOARD_IDENTITY`` is
``local`` (the default), ``sso``, or ``local,sso``. A self-check needs no sign-in: only the
board's acts do. Every refusal is the ledger's message, and the form keeps what was typed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import streamlit as st

from audits.core.errors import InputError
from reports import review_session as rs
from views import state
from views.review_style import badge_html

__all__ = ["IDENTITY_ENV", "BACKENDS", "SSO_SETTINGS", "identity_backends", "sso_problems",
           "identity", "NAME_LABEL", "PASSWORD_LABEL"]

IDENTITY_ENV = "REVIEW_BOARD_IDENTITY"
BACKENDS = {"local": "local accounts (name and password)",
            "sso": "single sign-on (OpenID Connect)"}
#: The settings ``st.login`` needs in the ``[auth]`` section of ``.streamlit/secrets.toml``.
SSO_SETTINGS = ("redirect_uri", "cookie_secret", "client_id", "client_secret",
                "server_metadata_url")
NAME_LABEL = "Your account on the board"
PASSWORD_LABEL = "Password"
NEW_PASSWORD_LABEL = "Your new password (12 characters at least)"
REPEAT_LABEL = "The new password again"
_METHOD = {"password": "local account", "sso": "single sign-on"}


def identity_backends(value: str | None = None) -> tuple[str, ...]:
    """The identity back-ends the app offers, from ``REVIEW_BOARD_IDENTITY`` (or ``value``):
    ``("local",)`` by default.

    Raises
    ------
    InputError
        A value other than ``local``, ``sso`` or both, comma-separated.
    """
    raw = os.environ.get(IDENTITY_ENV) if value is None else value
    parts = [p.strip().lower() for p in (raw or "local").split(",") if p.strip()]
    bad = [p for p in parts if p not in BACKENDS]
    if not parts or bad:
        raise InputError(f"{IDENTITY_ENV}={raw!r} is not an identity back-end: give local, sso or "
                         "local,sso (the operator's setting; README, Running a board).")
    return tuple(dict.fromkeys(parts))


def _auth_section() -> Mapping | None:
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all (Streamlit raises its own FileNotFoundError)
        return None
    return auth if isinstance(auth, Mapping) else None


def sso_problems(auth: Mapping | None) -> list[str]:
    """What the ``[auth]`` section lacks for single sign-on through the default provider
    (empty when it is complete)."""
    if not auth:
        return ["Single sign-on is chosen (REVIEW_BOARD_IDENTITY) but .streamlit/secrets.toml "
                "has no [auth] section: the operator adds redirect_uri, cookie_secret, client_id, "
                "client_secret and server_metadata_url (README, Running a board)."]
    missing = [k for k in SSO_SETTINGS if not str(auth.get(k) or "").strip()]
    if missing:
        return [f"The [auth] section of .streamlit/secrets.toml lacks {', '.join(missing)}; the "
                "operator adds them (README, Running a board)."]
    return []


# -- who is signed in ---------------------------------------------------------------------------
def _forget() -> None:
    for k in (state.SIGNED_IN, state.REVIEWER, state.MUST_CHANGE):
        st.session_state.pop(k, None)


def _signed_in_panel(session) -> None:
    how = _METHOD.get(session.method, session.method)
    if session.method == "sso":
        how += f" through {session.issuer} as {session.email}; this app's host key signs for you"
    roles = " ".join(badge_html(r, "neutral", symbol=False) for r in session.roles)
    left, right = st.columns([5, 1])
    left.markdown(f"Signed in as **{session.name}** {roles} ({how}). Your votes and decisions "
                  f"are signed with the key `{session.key_fingerprint}`.",
                  unsafe_allow_html=True)
    if right.button("Sign out", key="sign_out"):
        _forget()
        if session.method == "sso":
            st.logout()  # clears the identity cookie too (a new session starts)
        st.rerun()


def _sso(led) -> None:
    """Single sign-on: sign the provider's user in to the board, or offer the provider."""
    problems = sso_problems(_auth_section())
    if problems:
        st.error(" ".join(problems))
        return
    user = st.user
    if user.get("is_logged_in"):
        try:
            session = led.sso_sign_in(issuer=str(user.get("iss") or ""),
                                      subject=str(user.get("sub") or ""),
                                      email=user.get("email"),
                                      email_verified=user.get("email_verified"))
        except rs.LEDGER_ERRORS as e:
            st.error(f"Single sign-on: {e}")
            if st.button("Sign out of single sign-on", key="sso_sign_out"):
                st.logout()
            return
        st.session_state[state.SIGNED_IN] = session
        st.session_state[state.REVIEWER] = session.name
        st.rerun()
    st.caption("Your organisation's identity provider signs you in; it sends you back to the "
               "app's first page, and this page then recognises you by your e-mail on the "
               "board's roster.")
    if st.button("Sign in with single sign-on", key="sso_sign_in", type="primary"):
        st.login()


def _local(led) -> None:
    """The name-and-password form; a temporary password leads to choosing one's own."""
    with st.form("sign_in_form", clear_on_submit=False, border=False):
        left, right = st.columns(2)
        name = left.text_input(NAME_LABEL, key="review_name",
                               help="An administrator adds you to the board's roster "
                                    "(review-board users add).")
        password = right.text_input(PASSWORD_LABEL, type="password", key="review_password")
        go = st.form_submit_button("Sign in", key="sign_in_btn")
    if go:
        try:
            session = led.sign_in(name.strip(), password)
        except rs.LEDGER_ERRORS as e:
            st.error(str(e))
            return
        st.session_state.pop("review_password", None)  # not kept once it has done its work
        key = state.MUST_CHANGE if session.must_change else state.SIGNED_IN
        st.session_state[key] = session
        if not session.must_change:
            st.session_state[state.REVIEWER] = session.name
        st.rerun()


def _choose_password(led, session) -> None:
    """A member signed in with the administrator's temporary password chooses their own."""
    st.warning(f"**{session.name}**, your password was set by an administrator. Choose your own "
               "now: it protects the signing key it issues, so that nobody else, the "
               "administrator included, can sign for you.")
    with st.form("new_password_form", clear_on_submit=False, border=False):
        left, right = st.columns(2)
        new = left.text_input(NEW_PASSWORD_LABEL, type="password", key="new_password")
        again = right.text_input(REPEAT_LABEL, type="password", key="new_password_again")
        go = st.form_submit_button("Set my password", key="new_password_btn", type="primary")
    if st.button("Cancel", key="new_password_cancel"):
        _forget()
        st.rerun()
    if go:
        if new != again:
            st.error("The two new passwords differ; type the same one twice.")
            return
        try:
            done = led.change_password(session, new)
        except rs.LEDGER_ERRORS as e:
            st.error(str(e))
            return
        for k in (state.MUST_CHANGE, "new_password", "new_password_again"):
            st.session_state.pop(k, None)
        st.session_state[state.SIGNED_IN] = done
        st.session_state[state.REVIEWER] = done.name
        st.session_state[state.REVIEW_NOTICE] = (f"Password set; your signing key is "
                                                 f"{done.key_fingerprint}.")
        st.rerun()


def identity(led):
    """The sign-in section: who is signed in (with a button to sign out), or the back-ends'
    sign-in forms. Returns the signed-in member's session, or None."""
    ledger_id = led.ledger_id()
    session = st.session_state.get(state.SIGNED_IN)
    if session is not None and session.ledger == ledger_id:
        _signed_in_panel(session)
        return session
    pending = st.session_state.get(state.MUST_CHANGE)
    if pending is not None and pending.ledger == ledger_id:
        _choose_password(led, pending)
        return None
    _forget()
    try:
        backends = identity_backends()
    except InputError as e:
        st.error(str(e))
        return None
    st.markdown("**Sign in to act for the board** (comments, dispositions, votes, the decision). "
                "A self-check needs no sign-in: its exports say so on every page.")
    if "sso" in backends:
        _sso(led)
    if "local" in backends:
        if "sso" in backends:
            st.caption("Or with a local account of the board:")
        _local(led)
    return None
