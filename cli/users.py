"""Signing in on the command line, and the roster's commands of ``review-board``: ``users add |
list | roles | email | reset-password | password | revoke | host-key`` and ``board show | set``.

Signing in: board actions take ``--user NAME`` (default ``REVIEW_BOARD_USER``) and ask for the
password at a prompt that does not echo it (``getpass``); scripts and tests set
``REVIEW_BOARD_PASSWORD`` instead. A member whose password was set by an administrator chooses
their own at this first sign-in (asked twice, or ``REVIEW_BOARD_NEW_PASSWORD``), which issues
their signing key. A new password for someone else (``users add``, ``users reset-password``) is
asked the same way. Single sign-on is for the app; the command line uses local accounts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from audits.core.errors import InputError

__all__ = ["add_user_commands", "run_users", "run_board_settings", "sign_in", "add_user_option",
           "USER_COMMANDS"]

USER_COMMANDS = ("users", "board")


def add_user_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="your account on the board (default: $REVIEW_BOARD_USER); the "
                                  "password is asked at a prompt, or read from "
                                  "$REVIEW_BOARD_PASSWORD")


def _secret(env: str, prompt: str, *, twice: bool = False) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise InputError(f"{prompt} is needed: run the command in a terminal to type it, or set "
                         f"{env} (for scripts).")
    first = getpass.getpass(f"{prompt}: ")
    if twice and getpass.getpass(f"{prompt} (again): ") != first:
        raise InputError("The two passwords differ; nothing was changed. Type the same one "
                         "twice.")
    return first


def sign_in(ledger, args):
    """The session of ``--user`` (or ``REVIEW_BOARD_USER``), signed in with the password; a
    first sign-in after an administrator set the password chooses the member's own."""
    name = getattr(args, "user", None) or os.environ.get("REVIEW_BOARD_USER")
    if not name:
        raise InputError("This is a board action: sign in with --user NAME (or set "
                         "REVIEW_BOARD_USER); the password is asked at a prompt or read from "
                         "REVIEW_BOARD_PASSWORD.")
    session = ledger.sign_in(name, _secret("REVIEW_BOARD_PASSWORD", f"Password of {name}"))
    if session.must_change:
        print(f"{name}: your password was set by an administrator; choose your own (it "
              "protects your signing key).", file=sys.stderr)
        new = _secret("REVIEW_BOARD_NEW_PASSWORD", "Your new password", twice=True)
        session = ledger.change_password(session, new)
        print(f"{name}: password changed; your signing key is {session.key_fingerprint}.",
              file=sys.stderr)
    return session


def add_user_commands(sub, add_db_option) -> None:
    """Add ``users`` and ``board`` to the ``review-board`` parser."""
    u = sub.add_parser("users", help="the board's roster: members, roles, passwords, keys")
    usub = u.add_subparsers(dest="users_action", required=True)
    a = usub.add_parser("add", help="add a member (the first one: an administrator, who chooses "
                                    "their own password)")
    a.add_argument("name")
    a.add_argument("--role", action="append", required=True,
                   choices=("administrator", "submitter", "reviewer", "chair"),
                   help="a role (repeat for several)")
    a.add_argument("--email", help="the member's e-mail (single sign-on matches it)")
    a.add_argument("--sso-only", action="store_true",
                   help="no password: the member signs in through single sign-on only")
    lst = usub.add_parser("list", help="list the members, their roles and keys")
    lst.add_argument("--json", action="store_true")
    r = usub.add_parser("roles", help="set a member's roles")
    r.add_argument("name")
    r.add_argument("--role", action="append", required=True,
                   choices=("administrator", "submitter", "reviewer", "chair"))
    e = usub.add_parser("email", help="set a member's e-mail (for single sign-on)")
    e.add_argument("name")
    e.add_argument("email")
    rp = usub.add_parser("reset-password", help="give a member a temporary password; their key "
                                                "is revoked and they choose a new password")
    rp.add_argument("name")
    usub.add_parser("password", help="choose a new password (issues a new signing key)")
    rv = usub.add_parser("revoke", help="revoke a member (their signatures still verify)")
    rv.add_argument("name")
    rv.add_argument("--reason", required=True)
    hk = usub.add_parser("host-key", help="register this host's key, which signs for members "
                                          "signed in through single sign-on")
    hk.add_argument("--label", required=True, help="the host's name, e.g. its DNS name")
    for p in (a, lst, r, e, rp, usub.choices["password"], rv, hk):
        add_db_option(p)
        add_user_option(p)

    b = sub.add_parser("board", help="the board's settings (quorum, trusted identity providers)")
    bsub = b.add_subparsers(dest="board_action", required=True)
    show = bsub.add_parser("show", help="print the settings")
    st = bsub.add_parser("set", help="change a setting (an administrator)")
    st.add_argument("name", choices=("quorum", "sso_issuers"))
    st.add_argument("value", help="quorum: a number of votes; sso_issuers: issuer URLs, "
                                  "comma-separated")
    for p in (show, st):
        add_db_option(p)
        add_user_option(p)


def _print_members(members: list[dict]) -> None:
    print(f"{'name':<20} {'roles':<34} {'status':<9} {'e-mail':<26} signing key")
    for m in members:
        status = "active" if m["active"] else "revoked"
        key = m["key"] or ("(chooses a password first)" if m["must_change_password"] else "none")
        print(f"{m['name']:<20} {','.join(m['roles']):<34} {status:<9} {m['email'] or '-':<26} "
              f"{key}")


def run_users(ledger, args) -> int:
    action = args.users_action
    if action == "list":
        members = ledger.roster()
        if args.json:
            print(json.dumps(members, indent=2))
        else:
            _print_members(members)
        return 0
    if action == "add":
        first = not ledger.roster_state().has_administrator()
        by = None if first else sign_in(ledger, args)
        password = None if args.sso_only else _secret(
            "REVIEW_BOARD_NEW_PASSWORD", f"Password for {args.name}" + (
                "" if first else " (temporary: they choose their own at the first sign-in)"),
            twice=True)
        r = ledger.add_user(args.name, roles=args.role, password=password, email=args.email,
                            by=by)
        print(f"added {r['name']} ({', '.join(r['roles'])})"
              + ("; they choose their own password at their first sign-in"
                 if r["must_change_password"] else ""))
        return 0
    if action == "password":
        session = sign_in(ledger, args)
        new = ledger.change_password(session, _secret("REVIEW_BOARD_NEW_PASSWORD",
                                                      "Your new password", twice=True))
        print(f"password changed; your new signing key is {new.key_fingerprint} (the old one is "
              "revoked; what it signed still verifies).")
        return 0
    by = sign_in(ledger, args)
    if action == "roles":
        r = ledger.set_roles(args.name, args.role, by=by)
        print(f"{r['name']}: {', '.join(r['roles'])}")
    elif action == "email":
        r = ledger.set_email(args.name, args.email, by=by)
        print(f"{r['name']}: {r['email']}")
    elif action == "reset-password":
        temp = _secret("REVIEW_BOARD_NEW_PASSWORD", f"Temporary password for {args.name}",
                       twice=True)
        ledger.reset_password(args.name, temp, by=by)
        print(f"{args.name}: password reset, key revoked; they choose a new password (and get a "
              "new key) at their next sign-in.")
    elif action == "revoke":
        ledger.revoke_user(args.name, reason=args.reason, by=by)
        print(f"{args.name}: revoked.")
    elif action == "host-key":
        r = ledger.register_host_key(label=args.label, by=by)
        print(f"host key {r['fingerprint']} ({r['path']}) "
              f"{'registered' if r['new'] else 'was registered already'}.")
    return 0


def run_board_settings(ledger, args) -> int:
    if args.board_action == "show":
        for k, v in ledger.board_settings().items():
            print(f"{k}: {json.dumps(v)}")
        return 0
    settings = ledger.set_setting(args.name, args.value, by=sign_in(ledger, args))
    print(f"{args.name}: {json.dumps(settings[args.name])}")
    return 0
