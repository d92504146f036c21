"""Where the app may be served from: this machine only, unless the operator says otherwise.

``.streamlit/config.toml`` binds the app to ``localhost``. Serving a board from a shared host is an
explicit setting with its requirements:

- ``REVIEW_BOARD_PUBLIC_URL``, the ``https://`` address members open, served by a reverse proxy
  that terminates TLS (the app itself speaks plain HTTP) and forwards to the app, which may then
  stay bound to ``localhost`` on that host (or to another address: ``--server.address``);
- with single sign-on, the identity provider's redirect address (``redirect_uri`` in the ``[auth]``
  section of ``.streamlit/secrets.toml``, registered with the provider) is that address followed
  by ``/oauth2callback``.

An app bound to another address than this machine's loopback without that setting shows why and
stops before any page runs, so data is never served to the network by accident.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import streamlit as st

__all__ = ["PUBLIC_URL_ENV", "LOOPBACK", "host_problems", "check_host"]

PUBLIC_URL_ENV = "REVIEW_BOARD_PUBLIC_URL"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
_HOW = "(README, Serving a board from a shared host)"


def host_problems(address: str | None, public_url: str | None,
                  redirect_uri: str | None = None) -> list[str]:
    """Why the app must not serve as configured (empty when it may).

    Parameters
    ----------
    address : Streamlit's ``server.address`` (empty: every network interface).
    public_url : ``REVIEW_BOARD_PUBLIC_URL``, or None.
    redirect_uri : the ``[auth]`` section's ``redirect_uri`` when single sign-on is configured.
    """
    out = []
    public = (public_url or "").strip().rstrip("/")
    if public:
        parsed = urlparse(public)
        if parsed.scheme != "https" or not parsed.hostname:
            out.append(f"{PUBLIC_URL_ENV}={public_url!r}: a shared host is served over TLS "
                       f"through a reverse proxy; give its https:// address {_HOW}.")
    elif (address or "").strip() not in LOOPBACK:
        where = address or "every network interface"
        out.append(f"The app is bound to {where}, not to this machine only. Serving a board from "
                   f"a shared host is an explicit setting: put the app behind a reverse proxy "
                   f"with TLS and set {PUBLIC_URL_ENV} to its https:// address {_HOW}; "
                   "otherwise keep server.address = \"localhost\" (.streamlit/config.toml).")
    if redirect_uri:
        where = urlparse(redirect_uri)
        if public and not out and redirect_uri.rstrip("/") != public + "/oauth2callback":
            out.append(f"The identity provider's redirect address (redirect_uri in "
                       f".streamlit/secrets.toml) is {redirect_uri}; on this shared host it is "
                       f"{public}/oauth2callback, registered with the provider too {_HOW}.")
        elif not public and where.hostname not in LOOPBACK:
            out.append(f"The identity provider's redirect address {redirect_uri} is not on this "
                       f"machine: a board served from a shared host sets {PUBLIC_URL_ENV} "
                       f"{_HOW}.")
    return out


def _redirect_uri() -> str | None:
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file
        return None
    uri = auth.get("redirect_uri") if hasattr(auth, "get") else None
    if uri and "{port}" in str(uri):
        uri = str(uri).replace("{port}", str(st.get_option("server.port")))
    return str(uri) if uri else None


def check_host() -> None:
    """Stop the app, saying why and what to set, when :func:`host_problems` finds any."""
    problems = host_problems(st.get_option("server.address"), os.environ.get(PUBLIC_URL_ENV),
                             _redirect_uri())
    if problems:
        st.title("Model Review Board")
        for p in problems:
            st.error(p)
        st.stop()
