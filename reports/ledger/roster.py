"""The board's roster as chained ledger events: members, their roles, password hashes and public
keys, and the board's settings.

Nothing about a member is updated in place: every change is a ``roster`` row (with its event in
the chain) and the roster is the fold of those rows, oldest first (:func:`load_roster`). Swapping a
public key or a password hash in the database is therefore an edited row, which ``verify``
names, and a rewritten chain, which the signed heads catch (``reports.ledger.anchor``).

Actions (``roster.action``) and their data: ``user_added`` (e-mail, roles, Argon2 password hash,
whether the password must be changed), ``password_set`` (a new hash), ``key_registered`` (an
Ed25519 public key, its fingerprint and, for a local account, the private key sealed by the
member's password; ``kind`` "host" for an app host's key that signs for single sign-on users),
``key_revoked``, ``roles_set``, ``email_set`` and ``user_revoked``. Keys are revoked, never
deleted: a signature stays checkable against the key that was valid when it was made.

Passwords are hashed with Argon2id (``argon2-cffi``'s ``PasswordHasher``, RFC 9106 low-memory
parameters). Board settings (``settings`` rows, the latest of each name counts): ``quorum`` (the
independent votes a decision needs, default 2) and ``sso_issuers`` (the OpenID Connect issuers
whose users may sign in, default none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from audits.core.errors import InputError
from reports.ledger import chain
from reports.ledger import schema as S

__all__ = ["ROLES", "ROLE_LABELS", "Member", "KeyRecord", "Roster", "load_roster",
           "roster_append", "SETTINGS", "board_settings", "check_setting", "hash_password",
           "password_matches", "check_password", "check_name", "normalise_email",
           "MIN_PASSWORD"]

ROLES = ("administrator", "submitter", "reviewer", "chair")
ROLE_LABELS = {"administrator": "Administrator (keeps the roster and the board's settings)",
               "submitter": "Submitter (submits a model, answers the board)",
               "reviewer": "Reviewer (comments, dispositions, votes)",
               "chair": "Chair (records the board's decision)"}
MIN_PASSWORD = 12
#: Board settings and their defaults (changed by an administrator, as ledger events).
SETTINGS = {"quorum": 2, "sso_issuers": []}


@dataclass(frozen=True)
class KeyRecord:
    """A public key in the roster, with when it was valid (event sequence numbers)."""

    fingerprint: str
    public_key: str
    owner: str
    kind: str  # "user" (a local account's key) or "host" (signs for single sign-on users)
    registered_seq: int
    registered_at: str
    revoked_seq: int | None = None
    revoked_at: str | None = None
    sealed: dict | None = field(default=None, repr=False, compare=False)

    def valid_at(self, seq: int) -> bool:
        """True when the key was registered before event ``seq`` and not revoked by then."""
        return self.registered_seq < seq and (self.revoked_seq is None or seq < self.revoked_seq)

    def to_dict(self) -> dict:
        return {"fingerprint": self.fingerprint, "owner": self.owner, "kind": self.kind,
                "registered_at": self.registered_at, "revoked_at": self.revoked_at}


@dataclass(frozen=True)
class Member:
    """One member of the board as the roster stands now."""

    name: str
    email: str | None
    roles: tuple[str, ...]
    active: bool
    must_change: bool
    added_at: str
    revoked_at: str | None = None
    key: str | None = None  # fingerprint of the active signing key
    password_hash: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """Plain data for a front end (no password hash, no sealed key)."""
        return {"name": self.name, "email": self.email, "roles": list(self.roles),
                "active": self.active, "must_change_password": self.must_change,
                "added_at": self.added_at, "revoked_at": self.revoked_at, "key": self.key}


@dataclass(frozen=True)
class Roster:
    members: dict[str, Member]
    keys: dict[str, KeyRecord]

    def has_administrator(self) -> bool:
        return any(m.active and "administrator" in m.roles for m in self.members.values())

    def by_email(self, email: str | None) -> Member | None:
        email = normalise_email(email)
        return next((m for m in self.members.values() if email and m.email == email), None)

    def active_key(self, name: str) -> KeyRecord | None:
        m = self.members.get(name)
        return self.keys.get(m.key) if m and m.key else None

    def host_keys(self) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.kind == "host"]


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def load_roster(conn) -> Roster:
    """The roster now: the fold of every ``roster`` row, oldest first."""
    q = (sa.select(S.roster, S.events.c.seq)
         .join(S.events, (S.events.c.row_table == "roster") & (S.events.c.row_id == S.roster.c.id))
         .order_by(S.roster.c.id))
    state: dict[str, dict] = {}
    keyrecs: dict[str, dict] = {}
    for r in conn.execute(q).mappings():
        d, name, action = json.loads(r["data"]), r["name"], r["action"]
        if action == "user_added":
            state[name] = {"name": name, "email": normalise_email(d.get("email")),
                           "roles": tuple(d.get("roles", ())), "active": True,
                           "must_change": bool(d.get("must_change")), "added_at": r["at"],
                           "password_hash": d.get("password_hash"), "key": None}
        elif action == "key_registered":
            keyrecs[d["fingerprint"]] = {
                "fingerprint": d["fingerprint"], "public_key": d["public_key"], "owner": name,
                "kind": d.get("kind", "user"), "registered_seq": r["seq"],
                "registered_at": r["at"], "sealed": d.get("sealed")}
            if name in state and d.get("kind", "user") == "user":
                state[name]["key"] = d["fingerprint"]
        elif action == "key_revoked" and d.get("fingerprint") in keyrecs:
            keyrecs[d["fingerprint"]] |= {"revoked_seq": r["seq"], "revoked_at": r["at"]}
            if name in state and state[name]["key"] == d["fingerprint"]:
                state[name]["key"] = None
        elif name in state and action == "password_set":
            state[name] |= {"password_hash": d["password_hash"],
                            "must_change": bool(d.get("must_change"))}
        elif name in state and action == "roles_set":
            state[name]["roles"] = tuple(d["roles"])
        elif name in state and action == "email_set":
            state[name]["email"] = normalise_email(d.get("email"))
        elif name in state and action == "user_revoked":
            state[name] |= {"active": False, "revoked_at": r["at"]}
    return Roster(members={n: Member(**s) for n, s in state.items()},
                  keys={f: KeyRecord(**k) for f, k in keyrecs.items()})


def roster_append(conn, action: str, name: str, data: dict, *, by: str | None) -> None:
    chain.append(conn, "roster", {"action": action, "name": name,
                                  "data": json.dumps(data, sort_keys=True), "at": chain.now(),
                                  "by": by}, kind=f"roster:{action}", run_id=None, actor=by)


# -- passwords ---------------------------------------------------------------------------------
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id, RFC 9106 low-memory parameters (t=3, m=64 MiB, p=4)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


#: A hash to check against when the name is unknown, so that a wrong name and a wrong password
#: take the same time.
_DUMMY = ("$argon2id$v=19$m=65536,t=3,p=4$Vz+xTuac7YbNe0fdtM/n6Q$"
          "4tUhxoQWZpgBkABvoxYGsSzERNChTGOPyxiXGraOSTE")


def password_matches(hashed: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(hashed or _DUMMY, password) and hashed is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str | None, *, field: str = "The password") -> str:
    """A new password: at least :data:`MIN_PASSWORD` characters (NIST SP 800-63B asks for a
    length, not for character classes)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"{field} needs at least {MIN_PASSWORD} characters (a passphrase of a "
                         "few words is easiest to remember).")
    return password


def check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100 or name.startswith("host:") or "\n" in name:
        raise InputError(f"The member's name {name!r} cannot be used: give a name of 1 to 100 "
                         "characters, on one line, not starting with 'host:'.")
    return name


# -- settings ----------------------------------------------------------------------------------
def board_settings(conn) -> dict:
    """The board's settings now: the defaults (:data:`SETTINGS`) overridden by the latest row of
    each name."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in SETTINGS.items()}
    for r in conn.execute(sa.select(S.settings).order_by(S.settings.c.id)).mappings():
        out[r["name"]] = json.loads(r["value"])
    return out


def check_setting(name: str, value):
    """Validate a board setting; returns its normalised value."""
    if name == "quorum":
        try:
            n = int(str(value).strip())
        except ValueError:
            n = None
        if n is None or not 1 <= n <= 50:
            raise InputError(f"The quorum {value!r} is not a number of votes from 1 to 50 (the "
                             "independent reviewers' votes a decision needs; default 2).")
        return n
    if name == "sso_issuers":
        items = value if isinstance(value, list) else [v for v in str(value).split(",")]
        issuers = [v.strip().rstrip("/") for v in items if v.strip()]
        for v in issuers:
            local = v.startswith(("http://localhost", "http://127.0.0.1"))
            if not (v.startswith("https://") or local):
                raise InputError(f"The identity provider {v!r} is not an https:// issuer URL "
                                 "(plain http is accepted for localhost only).")
        return issuers
    raise InputError(f"There is no board setting {name!r}; the settings: {sorted(SETTINGS)}.")
