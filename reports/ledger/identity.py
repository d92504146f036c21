"""Who acts on the board: signing in (a local account, or single sign-on matched to the roster by
e-mail), the signed-in :class:`Session` and the role checks every board action makes
(:func:`authorise`). Mixed into :class:`reports.ledger.Ledger`; the administrator's roster
commands are in :mod:`reports.ledger.admin`.

- **Local accounts.** An administrator adds a member with a temporary password; the member's first
  sign-in must choose their own password, which issues their Ed25519 key pair, the private key
  sealed by that password (``reports.ledger.keys.seal``). So an administrator who sets or resets a
  password never holds a key that signs for the member. A password reset revokes the member's key;
  the next password issues a new pair. The first member of an empty roster is an administrator who
  chooses their own password.
- **Single sign-on** (OpenID Connect through Streamlit's ``st.login``): the identity provider's
  issuer must be one the board trusts (the ``sso_issuers`` setting), its ``email`` claim must
  match an active member's e-mail, and the app's host signs for that member with its own key
  (registered in the roster as a host key), recording the issuer and subject in every signature.
- **A session** holds the member's name and, in memory only, the private key that signs; every
  action re-reads the roster under the write lock (:func:`authorise`), so a role or key revoked
  meanwhile takes effect at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from audits.core.errors import InputError
from audits.core.paths import home_dir
from reports.ledger import keys
from reports.ledger import roster as R
from reports.ledger import schema as S
from reports.ledger.rules import BoardRuleError

__all__ = ["Session", "authorise", "host_key_path", "IdentityMixin", "WRONG_SIGN_IN", "roles_of",
           "first_hash"]

WRONG_SIGN_IN = "The name or the password is wrong."


@dataclass(frozen=True)
class Session:
    """A signed-in member. ``method``: "password" (a local account; ``key`` is the member's own
    key) or "sso" (single sign-on; ``key`` is the app host's, ``issuer`` and ``subject`` say whom
    the identity provider vouched for). ``ledger`` is the hash of the ledger's first event."""

    name: str
    method: str
    ledger: str
    key_fingerprint: str | None
    roles: tuple[str, ...] = ()
    issuer: str | None = None
    subject: str | None = None
    email: str | None = None
    must_change: bool = False
    key: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """Who am I, as plain data (no key)."""
        return {"name": self.name, "method": self.method, "roles": list(self.roles),
                "key_fingerprint": self.key_fingerprint, "issuer": self.issuer,
                "subject": self.subject, "email": self.email,
                "must_change_password": self.must_change}


def host_key_path() -> Path:
    """The app host's signing key for single sign-on (``REVIEW_BOARD_HOST_KEY``, default
    ``home_dir()/keys/host.pem``)."""
    env = os.environ.get("REVIEW_BOARD_HOST_KEY")
    return Path(env) if env else home_dir() / "keys" / "host.pem"


def first_hash(conn) -> str | None:
    """The hash of the ledger's first event: what a session is bound to."""
    return conn.execute(sa.select(S.events.c.hash).where(S.events.c.seq == 1)).scalar()


def authorise(roster: R.Roster, session, *, ledger_first: str | None, roles: Sequence[str],
              action: str, need_key: bool = True,
              allow_must_change: bool = False) -> R.Member:
    """The member acting through ``session``, when they may do ``action`` with one of ``roles``
    now; otherwise a :class:`BoardRuleError` saying what is missing."""
    if not isinstance(session, Session):
        raise BoardRuleError(f"{action} needs a signed-in member of the board (on the command "
                             "line: --user NAME, or REVIEW_BOARD_USER, and your password).",
                             ["a signed-in member"])
    if session.ledger != ledger_first:
        raise BoardRuleError(f"{session.name} signed in to another ledger; sign in to this one.",
                             ["a sign-in to this ledger"])
    m = roster.members.get(session.name)
    if m is None or not m.active:
        raise BoardRuleError(f"The account {session.name!r} is not an active member of the board "
                             f"(revoked {m.revoked_at if m else 'or unknown'}); ask an "
                             "administrator.", ["an active account"])
    if session.must_change and not allow_must_change:
        raise BoardRuleError(f"{m.name}'s password was set by an administrator: choose your own "
                             "password first (review-board users password); it issues your "
                             "signing key.", ["your own password"])
    if not set(roles) & set(m.roles):
        want = " or ".join(roles)
        raise BoardRuleError(f"{action} needs the {want} role; {m.name} holds "
                             f"{', '.join(m.roles) or 'none'}. An administrator grants roles "
                             f"(review-board users roles {m.name} --role {roles[0]}).",
                             [f"the {want} role"])
    if need_key and session.method == "password" and (
            session.key is None or m.key != session.key_fingerprint
            or keys.fingerprint(session.key) != session.key_fingerprint):
        raise BoardRuleError(f"{m.name}'s signing key {session.key_fingerprint} is no longer "
                             "the active one (a password reset revokes it); sign in again.",
                             ["a current signing key"])
    if need_key and session.method == "sso":
        rec = roster.keys.get(session.key_fingerprint or "")
        if rec is None or rec.kind != "host" or rec.revoked_seq is not None or \
                session.key is None or keys.fingerprint(session.key) != rec.fingerprint:
            raise BoardRuleError(f"This host's signing key {session.key_fingerprint} is not a "
                                 "registered host key of the board (review-board users "
                                 "host-key).", ["a registered host key"])
    return m


def roles_of(roles) -> tuple[str, ...]:
    """Role names, checked against :data:`reports.ledger.roster.ROLES`."""
    out = tuple(dict.fromkeys(r.strip().lower() for r in roles if r and r.strip()))
    bad = [r for r in out if r not in R.ROLES]
    if not out or bad:
        raise InputError(f"Roles {list(bad) or list(out)}: give one or more of {list(R.ROLES)} "
                         "(--role on the command line, repeated).")
    return out


class IdentityMixin:
    """Reading the roster and signing in (needs ``self.engine``)."""

    # -- reading --------------------------------------------------------------------------------
    def roster_state(self) -> R.Roster:
        with self.engine.connect() as conn:
            return R.load_roster(conn)

    def roster(self) -> list[dict]:
        """Every member (active or revoked), as plain data, in the order they were added."""
        return [m.to_dict() for m in self.roster_state().members.values()]

    def board_settings(self) -> dict:
        with self.engine.connect() as conn:
            return R.board_settings(conn)

    def whoami(self, session: Session) -> dict:
        """The session's member as the roster has them now (roles, key, active)."""
        m = self.roster_state().members.get(getattr(session, "name", None))
        return session.to_dict() | ({"roster": m.to_dict()} if m else {"roster": None})

    # -- signing in -----------------------------------------------------------------------------
    def sign_in(self, name: str, password: str) -> Session:
        """A local account's session; the private key is opened with the password.

        Raises
        ------
        BoardRuleError
            A wrong name or password (one message for both), a revoked account, or a key that
            the password does not open.
        """
        with self.engine.connect() as conn:
            roster, first = R.load_roster(conn), first_hash(conn)
        m = roster.members.get((name or "").strip())
        if not R.password_matches(m.password_hash if m else None, password or ""):
            raise BoardRuleError(WRONG_SIGN_IN, ["a valid name and password"])
        if not m.active:
            raise BoardRuleError(f"The account {m.name!r} was revoked on {m.revoked_at}; ask an "
                                 "administrator.", ["an active account"])
        base = dict(name=m.name, method="password", ledger=first, roles=m.roles, email=m.email)
        if m.must_change:
            return Session(**base, key_fingerprint=None, must_change=True)
        rec = roster.active_key(m.name)
        key = keys.unseal(rec.sealed, password, rec.fingerprint) if rec and rec.sealed else None
        if key is None:
            raise BoardRuleError(f"{m.name}'s signing key cannot be opened with this password "
                                 "(it is missing or was altered in the roster); run review-board "
                                 "ledger verify, and ask an administrator to reset the password.",
                                 ["a signing key"])
        return Session(**base, key_fingerprint=rec.fingerprint, key=key)

    def sso_sign_in(self, *, issuer: str, subject: str, email: str | None,
                    email_verified: bool | None = None,
                    host_key: str | Path | None = None) -> Session:
        """The session of the member the identity provider vouched for (matched by e-mail); this
        host's key signs for them.

        Parameters
        ----------
        issuer, subject, email : the ID token's ``iss``, ``sub`` and ``email`` claims.
        email_verified : the ``email_verified`` claim; False refuses the sign-in.
        host_key : the host's key file (default :func:`host_key_path`).
        """
        issuer = (issuer or "").strip().rstrip("/")
        with self.engine.connect() as conn:
            roster, first, settings = R.load_roster(conn), first_hash(conn), R.board_settings(conn)
        if not settings["sso_issuers"]:
            raise BoardRuleError("Single sign-on is not set up for this board: an administrator "
                                 "names the trusted identity provider (review-board board set "
                                 "sso_issuers URL).", ["a trusted identity provider"])
        if issuer not in settings["sso_issuers"]:
            raise BoardRuleError(f"The identity provider {issuer!r} is not one this board "
                                 f"trusts ({', '.join(settings['sso_issuers'])}).",
                                 ["a trusted identity provider"])
        if not (subject or "").strip():
            raise BoardRuleError("The identity provider sent no subject ('sub' claim).",
                                 ["the subject claim"])
        if email_verified is False:
            raise BoardRuleError(f"The identity provider has not verified the e-mail {email!r}; "
                                 "it cannot be matched to the roster.", ["a verified e-mail"])
        m = roster.by_email(email)
        if m is None:
            raise BoardRuleError(f"No member of the board has the e-mail {email!r}; an "
                                 "administrator adds it (review-board users add NAME --email "
                                 "ADDRESS --role ROLE).", ["a roster entry with this e-mail"])
        if not m.active:
            raise BoardRuleError(f"The account {m.name!r} was revoked on {m.revoked_at}; ask an "
                                 "administrator.", ["an active account"])
        path = Path(host_key) if host_key else host_key_path()
        key = keys.load_key(path)
        fpr = keys.fingerprint(key) if key is not None else None
        rec = roster.keys.get(fpr or "")
        if rec is None or rec.kind != "host" or rec.revoked_seq is not None:
            raise BoardRuleError(f"This host has no registered signing key ({path}"
                                 f"{', fingerprint ' + fpr if fpr else ' is missing'}): an "
                                 "administrator registers it on this host (review-board users "
                                 "host-key).", ["a registered host key"])
        return Session(name=m.name, method="sso", ledger=first, roles=m.roles,
                       key_fingerprint=fpr, issuer=issuer, subject=subject.strip(),
                       email=m.email, key=key)
