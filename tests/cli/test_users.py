"""The roster's commands (``review-board users``, ``review-board board``) and signing in on the
command line: passwords from the environment for scripts, refusals as exit 2 with the message."""

from __future__ import annotations

import pytest

import review_board
from reports.ledger import open_ledger

ADMIN_PW = "admin's long passphrase"
TEMP_PW = "a temporary password"
BOB_PW = "bob's own passphrase"


@pytest.fixture
def db(tmp_path, monkeypatch):
    for var in ("REVIEW_BOARD_USER", "REVIEW_BOARD_PASSWORD", "REVIEW_BOARD_NEW_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REVIEW_BOARD_HOST_KEY", str(tmp_path / "host.pem"))
    return str(tmp_path / "board.db")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = review_board.main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def as_(monkeypatch, user=None, password=None, new=None) -> None:
    for var, value in (("REVIEW_BOARD_USER", user), ("REVIEW_BOARD_PASSWORD", password),
                       ("REVIEW_BOARD_NEW_PASSWORD", new)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)


def test_a_board_set_up_from_the_command_line(db, capsys, monkeypatch):
    as_(monkeypatch, new=ADMIN_PW)
    code, out, _ = run(capsys, "users", "add", "admin", "--role", "administrator", "--db", db)
    assert code == 0 and out.strip() == "added admin (administrator)"

    as_(monkeypatch, new=TEMP_PW)  # the administrator must sign in to add the next member
    code, _, err = run(capsys, "users", "add", "bob", "--role", "reviewer", "--db", db)
    assert code == 2 and "sign in with --user NAME" in err
    as_(monkeypatch, user="admin", password="not the password", new=TEMP_PW)
    code, _, err = run(capsys, "users", "add", "bob", "--role", "reviewer", "--db", db)
    assert code == 2 and err.strip() == "error: The name or the password is wrong."
    as_(monkeypatch, user="admin", password=ADMIN_PW, new=TEMP_PW)
    code, out, _ = run(capsys, "users", "add", "bob", "--role", "reviewer", "--email",
                       "Bob@Example.com", "--db", db)
    assert code == 0 and "they choose their own password at their first sign-in" in out

    # bob's first sign-in chooses his own password, which issues his key
    as_(monkeypatch, user="bob", password=TEMP_PW, new=BOB_PW)
    code, out, err = run(capsys, "board", "set", "quorum", "3", "--db", db)
    assert code == 2 and "password changed; your signing key is ed25519:" in err
    assert "Changing a board setting needs the administrator role; bob holds reviewer" in err
    bob = open_ledger(db).roster_state().members["bob"]
    assert bob.key and not bob.must_change and bob.email == "bob@example.com"

    as_(monkeypatch, user="admin", password=ADMIN_PW)
    assert run(capsys, "board", "set", "quorum", "3", "--db", db)[:2] == (0, "quorum: 3\n")
    code, out, _ = run(capsys, "board", "show", "--db", db)
    assert "quorum: 3" in out and "sso_issuers: []" in out
    assert run(capsys, "users", "roles", "bob", "--role", "reviewer", "--role", "chair",
               "--db", db)[:2] == (0, "bob: reviewer, chair\n")
    code, out, _ = run(capsys, "users", "list", "--db", db)
    assert "reviewer,chair" in out and bob.key in out
    code, out, _ = run(capsys, "users", "host-key", "--label", "board.example", "--db", db)
    assert code == 0 and "registered" in out

    as_(monkeypatch, user="admin", password=ADMIN_PW, new=TEMP_PW)
    code, out, _ = run(capsys, "users", "reset-password", "bob", "--db", db)
    assert code == 0 and "key revoked" in out
    assert open_ledger(db).roster_state().members["bob"].must_change
    code, _, err = run(capsys, "users", "revoke", "bob", "--reason", "left", "--db", db)
    assert code == 0
    as_(monkeypatch, user="bob", password=TEMP_PW)
    code, _, err = run(capsys, "users", "password", "--db", db)
    assert code == 2 and "'bob' was revoked" in err
    as_(monkeypatch)
    assert run(capsys, "ledger", "verify", "--db", db)[0] == 0


def test_no_password_and_no_terminal_is_a_clear_error(db, capsys, monkeypatch):
    as_(monkeypatch, new=ADMIN_PW)
    run(capsys, "users", "add", "admin", "--role", "administrator", "--db", db)
    as_(monkeypatch, user="admin")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "board", "set", "quorum", "2", "--db", db)
    assert code == 2
    assert "Password of admin is needed: run the command in a terminal to type it, or set " \
           "REVIEW_BOARD_PASSWORD (for scripts)." in err
