"""The roster's administration: adding members, their roles, e-mails and passwords, revoking
them, registering an app host's signing key, and the board's settings. Every change is a chained
``roster`` or ``settings`` event (``reports.ledger.roster``) made by a signed-in administrator,
except the first member of an empty roster, an administrator who chooses their own password.
Mixed into :class:`reports.ledger.Ledger`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from audits.core.errors import InputError
from reports.ledger import chain, keys
from reports.ledger import roster as R
from reports.ledger.identity import Session, authorise, first_hash, host_key_path, roles_of
from reports.ledger.rules import BoardRuleError

__all__ = ["AdminMixin"]


class AdminMixin:
    """The administrator's commands (needs ``self._commit``)."""

    # -- administration -------------------------------------------------------------------------
    def _admin(self, conn, by, action: str) -> R.Member:
        roster = R.load_roster(conn)
        if not roster.has_administrator():
            raise BoardRuleError("The roster has no administrator yet: add one first "
                                 "(review-board users add NAME --role administrator).",
                                 ["an administrator"])
        return authorise(roster, by, ledger_first=first_hash(conn), roles=("administrator",),
                         action=action, need_key=False)

    def add_user(self, name: str, *, roles: Sequence[str], password: str | None = None,
                 email: str | None = None, by: Session | None = None) -> dict:
        """Add a member. The first member of an empty roster must be an administrator and
        chooses their own password (no ``by``); later members are added by an administrator
        with a temporary password they change at their first sign-in, or with no password for
        single sign-on only (then ``email`` is needed)."""
        name, roles, email = R.check_name(name), roles_of(roles), R.normalise_email(email)
        if password is None and email is None:
            raise InputError(f"{name} needs a password (a local account) or an e-mail (single "
                             "sign-on), or both (--email on the command line).")
        hashed = R.hash_password(R.check_password(password)) if password is not None else None
        key = keys.new_key()  # sealed only for the first administrator, who chose the password
        sealed = keys.seal(key, password) if password is not None and by is None else None

        def work(conn):
            roster = R.load_roster(conn)
            if name in roster.members:
                raise InputError(f"{name!r} is already in the roster; names are never reused "
                                 "(choose another, e.g. with a middle initial).")
            if email and roster.by_email(email):
                raise InputError(f"The e-mail {email} belongs to {roster.by_email(email).name} "
                                 "already.")
            if roster.has_administrator():
                actor, must_change = self._admin(conn, by, "Adding a member").name, True
            elif "administrator" not in roles:
                raise BoardRuleError("The first member of the board must be an administrator "
                                     "(--role administrator): they keep the roster.",
                                     ["the administrator role"])
            else:
                actor, must_change = name, False
            must_change = must_change and password is not None
            R.roster_append(conn, "user_added", name, {"email": email, "roles": list(roles),
                                                       "password_hash": hashed,
                                                       "must_change": must_change}, by=actor)
            if sealed is not None and not must_change:
                R.roster_append(conn, "key_registered", name, {
                    "fingerprint": keys.fingerprint(key), "public_key": keys.public_b64(key),
                    "kind": "user", "sealed": sealed}, by=actor)
            return {"name": name, "roles": list(roles), "email": email,
                    "must_change_password": must_change}
        return self._commit(work, by=getattr(by, "name", name))

    def change_password(self, session: Session, new_password: str) -> Session:
        """The member chooses a new password: a new key pair is issued (sealed by it) and the old
        key revoked; returns the new session."""
        R.check_password(new_password, field="The new password")
        hashed, key = R.hash_password(new_password), keys.new_key()
        sealed = keys.seal(key, new_password)

        def work(conn):
            roster = R.load_roster(conn)
            if getattr(session, "method", None) != "password":
                raise BoardRuleError("Only a local account has a password here; a single "
                                     "sign-on password is changed with the identity provider.",
                                     ["a local account"])
            m = authorise(roster, session, ledger_first=first_hash(conn), roles=R.ROLES,
                          action="Changing a password", need_key=not session.must_change,
                          allow_must_change=True)
            if R.password_matches(m.password_hash, new_password):
                who = ("was set by an administrator" if session.must_change
                       else "is your current one")
                raise BoardRuleError(f"The new password {who}; choose one that only you know: "
                                     "it protects your signing key.", ["a new password"])
            if m.key:
                R.roster_append(conn, "key_revoked", m.name, {"fingerprint": m.key,
                                                              "reason": "password changed"},
                                by=m.name)
            R.roster_append(conn, "password_set", m.name, {"password_hash": hashed,
                                                           "must_change": False}, by=m.name)
            R.roster_append(conn, "key_registered", m.name, {
                "fingerprint": keys.fingerprint(key), "public_key": keys.public_b64(key),
                "kind": "user", "sealed": sealed}, by=m.name)
            return m
        m = self._commit(work, by=session.name)
        return Session(name=m.name, method="password", ledger=session.ledger, roles=m.roles,
                       email=m.email, key_fingerprint=keys.fingerprint(key), key=key)

    def _member_change(self, name: str, by, action: str, change) -> dict:
        def work(conn):
            admin = self._admin(conn, by, action)
            roster = R.load_roster(conn)
            m = roster.members.get(name)
            if m is None:
                raise InputError(f"There is no member {name!r} in the roster; its members: "
                                 f"{sorted(roster.members)}.")
            change(conn, roster, m, admin.name)
            return R.load_roster(conn).members[name].to_dict()
        return self._commit(work, by=getattr(by, "name", None))

    @staticmethod
    def _keeps_an_administrator(roster: R.Roster, name: str) -> None:
        others = [m for m in roster.members.values()
                  if m.active and "administrator" in m.roles and m.name != name]
        if not others:
            raise BoardRuleError(f"{name} is the board's last administrator; add another "
                                 "administrator first.", ["another administrator"])

    def set_roles(self, name: str, roles: Sequence[str], *, by: Session) -> dict:
        """Set a member's roles (an administrator)."""
        roles = roles_of(roles)

        def change(conn, roster, m, admin):
            if "administrator" in m.roles and "administrator" not in roles:
                self._keeps_an_administrator(roster, m.name)
            R.roster_append(conn, "roles_set", m.name, {"roles": list(roles)}, by=admin)
        return self._member_change(name, by, "Changing roles", change)

    def set_email(self, name: str, email: str | None, *, by: Session) -> dict:
        """Set (or clear) a member's e-mail, which single sign-on matches (an administrator)."""
        email = R.normalise_email(email)

        def change(conn, roster, m, admin):
            owner = roster.by_email(email)
            if owner is not None and owner.name != m.name:
                raise InputError(f"The e-mail {email} belongs to {owner.name} already.")
            R.roster_append(conn, "email_set", m.name, {"email": email}, by=admin)
        return self._member_change(name, by, "Changing an e-mail", change)

    def reset_password(self, name: str, temporary_password: str, *, by: Session) -> dict:
        """An administrator resets a member's password: the member's key is revoked (old
        signatures still verify) and the member chooses a new password, with a new key pair, at
        their next sign-in."""
        hashed = R.hash_password(R.check_password(temporary_password,
                                                  field="The temporary password"))

        def change(conn, roster, m, admin):
            if m.key:
                R.roster_append(conn, "key_revoked", m.name, {
                    "fingerprint": m.key, "reason": f"password reset by {admin}"}, by=admin)
            R.roster_append(conn, "password_set", m.name, {"password_hash": hashed,
                                                           "must_change": True}, by=admin)
        return self._member_change(name, by, "Resetting a password", change)

    def revoke_user(self, name: str, *, reason: str, by: Session) -> dict:
        """Revoke a member (an administrator): they can no longer sign in; their key is revoked,
        never deleted, so what they signed still verifies."""
        if not (reason or "").strip():
            raise InputError("Give the reason for revoking the member (--reason on the command "
                             "line).")

        def change(conn, roster, m, admin):
            if not m.active:
                raise InputError(f"{m.name} was revoked already ({m.revoked_at}).")
            if "administrator" in m.roles:
                self._keeps_an_administrator(roster, m.name)
            if m.key:
                R.roster_append(conn, "key_revoked", m.name, {"fingerprint": m.key,
                                                              "reason": reason.strip()}, by=admin)
            R.roster_append(conn, "user_revoked", m.name, {"reason": reason.strip()}, by=admin)
        return self._member_change(name, by, "Revoking a member", change)

    def register_host_key(self, *, label: str, by: Session,
                          path: str | Path | None = None) -> dict:
        """Register this host's key (created when missing, mode 0600) as a key that signs for
        single sign-on members (an administrator, on the host that serves the app)."""
        label = (label or "").strip()
        if not label:
            raise InputError("Name the host (--label on the command line), e.g. its DNS name.")
        path = Path(path) if path else host_key_path()
        key = keys.load_key(path) or keys.create_key_file(path)
        fpr = keys.fingerprint(key)

        def work(conn):
            admin = self._admin(conn, by, "Registering a host key")
            rec = R.load_roster(conn).keys.get(fpr)
            if rec is not None and rec.revoked_seq is None:
                return {"fingerprint": fpr, "path": str(path), "new": False}
            if rec is not None:
                raise InputError(f"The host key {path} ({fpr}) was revoked; move it aside so "
                                 "that a new one is created.")
            R.roster_append(conn, "key_registered", f"host:{label}", {
                "fingerprint": fpr, "public_key": keys.public_b64(key), "kind": "host"},
                by=admin.name)
            return {"fingerprint": fpr, "path": str(path), "new": True}
        return self._commit(work, by=getattr(by, "name", None))

    def set_setting(self, name: str, value, *, by: Session) -> dict:
        """Change a board setting (an administrator): ``quorum`` or ``sso_issuers``."""
        value = R.check_setting(name, value)

        def work(conn):
            admin = self._admin(conn, by, "Changing a board setting")
            chain.append(conn, "settings", {"name": name, "value": json.dumps(value),
                                            "at": chain.now(), "by": admin.name},
                         kind="setting", run_id=None, actor=admin.name)
            return R.board_settings(conn)
        return self._commit(work, by=getattr(by, "name", None))
