"""The board's rules, enforced by the engine (issue 13, items 1 and 2): accounts and sign-in,
roles, the conflict between submitting and reviewing a model, the quorum of independent votes,
dispositions before a decision, a decision that is not a vote, conditions with an owner and a
due date, single sign-on matched to the roster by e-mail. Every refusal is checked for the words
it shows; three strict xfails show the rules can fail when switched off.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from audits.core.errors import InputError
from reports.ledger import BoardRuleError, Ledger, Session
from reports.ledger import schema as S
from tests.reports.ledger.board import (
    PASSWORD,
    TEMPORARY,
    dispose_all,
    make_board,
    quorum_votes,
    recommended_option,
)
from tests.reports.ledger.test_ledger import open_at

ISSUER = "http://localhost:9400"


@pytest.fixture(scope="module")
def report(sample_report):
    return sample_report("churn", light=True)


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory):
    """A ledger holding only the board (admin, ds, alice, bob, carol) and its sessions, which
    stay valid in every copy (same ledger, same roster, same keys)."""
    d = tmp_path_factory.mktemp("board")
    ledger = open_at(f"sqlite:///{d / 'ledger.db'}", d / "anchor.json")
    sessions = make_board(ledger)
    ledger.engine.dispose()
    return d, sessions


@pytest.fixture
def board(board_dir, tmp_path) -> tuple[Ledger, dict[str, Session]]:
    d, sessions = board_dir
    for name in ("ledger.db", "anchor.json", "ledger.pem"):
        shutil.copy(d / name, tmp_path / name)
    return open_at(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path / "anchor.json"), sessions


def submitted(ledger, report, s) -> int:
    run = ledger.record_run(report, by="ds")
    ledger.submit(run, by=s["ds"])
    return run


def other_model(report, name="lead_other"):
    return dataclasses.replace(report, subject={**report.subject, "name": name}, report_id="")


# -- accounts and sign-in -----------------------------------------------------------------------
def test_the_first_member_is_an_administrator_who_then_adds_the_others(tmp_path):
    ledger = open_at(f"sqlite:///{tmp_path / 'l.db'}", tmp_path / "anchor.json")
    with pytest.raises(BoardRuleError, match="first member of the board must be an "
                                             "administrator"):
        ledger.add_user("ds", roles=["submitter"], password=PASSWORD)
    with pytest.raises(InputError, match="at least 12 characters"):
        ledger.add_user("admin", roles=["administrator"], password="short")
    with pytest.raises(InputError, match="give one or more of"):
        ledger.add_user("admin", roles=["boss"], password=PASSWORD)
    ledger.add_user("admin", roles=["administrator"], password=PASSWORD)
    with pytest.raises(BoardRuleError, match="needs a signed-in member"):
        ledger.add_user("ds", roles=["submitter"], password=TEMPORARY)
    admin = ledger.sign_in("admin", PASSWORD)
    ledger.add_user("ds", roles=["submitter"], password=TEMPORARY, by=admin)
    ds = ledger.change_password(ledger.sign_in("ds", TEMPORARY), PASSWORD)
    with pytest.raises(BoardRuleError, match="Adding a member needs the administrator role"):
        ledger.add_user("eve", roles=["reviewer"], password=TEMPORARY, by=ds)
    with pytest.raises(InputError, match="already in the roster"):
        ledger.add_user("ds", roles=["reviewer"], password=TEMPORARY, by=admin)
    roster = {m["name"]: m for m in ledger.roster()}
    assert roster["ds"]["roles"] == ["submitter"] and roster["ds"]["key"] == ds.key_fingerprint
    assert "password_hash" not in roster["ds"]
    # the roster is chained events: a user added, a password set, keys registered and revoked
    with ledger.engine.connect() as conn:
        kinds = [r.kind for r in conn.execute(S.events.select().order_by(S.events.c.seq))]
    assert kinds.count("roster:user_added") == 2 and "roster:key_revoked" not in kinds
    assert kinds.count("roster:key_registered") == 2 and ledger.verify().ok


def test_sign_in_refusals_say_what_is_wrong(board):
    ledger, s = board
    for name, password in (("bob", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(BoardRuleError) as e:
            ledger.sign_in(name, password)
        assert str(e.value) == "The name or the password is wrong."
    bob = ledger.sign_in("bob", PASSWORD)
    assert bob.key_fingerprint == s["bob"].key_fingerprint and bob.method == "password"
    me = ledger.whoami(bob)
    assert me["roles"] == ["reviewer"] and me["roster"]["active"] and "key" not in me
    ledger.revoke_user("bob", reason="left the company", by=s["admin"])
    with pytest.raises(BoardRuleError, match="'bob' was revoked on"):
        ledger.sign_in("bob", PASSWORD)


def test_a_temporary_password_must_be_changed_before_any_board_action(board, report):
    ledger, s = board
    ledger.add_user("erin", roles=["reviewer"], password=TEMPORARY, by=s["admin"])
    run = submitted(ledger, report, s)
    temp = ledger.sign_in("erin", TEMPORARY)
    assert temp.must_change and temp.key is None
    with pytest.raises(BoardRuleError, match="choose your own password first") as e:
        ledger.record_vote(run, "reject", by=temp)
    assert e.value.missing == ("your own password",)
    with pytest.raises(InputError, match="at least 12"):
        ledger.change_password(temp, "short")
    erin = ledger.change_password(temp, "erin's own passphrase")
    assert erin.key_fingerprint and not erin.must_change
    ledger.record_vote(run, "reject", by=erin, independent=True)
    with pytest.raises(BoardRuleError, match="wrong"):
        ledger.sign_in("erin", TEMPORARY)


def test_the_new_password_cannot_be_the_administrators_temporary_one(board):
    ledger, s = board
    ledger.add_user("erin", roles=["reviewer"], password=TEMPORARY, by=s["admin"])
    temp = ledger.sign_in("erin", TEMPORARY)
    with pytest.raises(BoardRuleError, match="was set by an administrator; choose one that only "
                                             "you know") as e:
        ledger.change_password(temp, TEMPORARY)
    assert e.value.missing == ("a new password",)
    assert ledger.sign_in("erin", TEMPORARY).must_change  # nothing was written
    erin = ledger.change_password(temp, "erin's own passphrase")
    with pytest.raises(BoardRuleError, match="is your current one"):
        ledger.change_password(erin, "erin's own passphrase")


def test_roles_are_enforced_by_the_engine(board, report):
    ledger, s = board
    run = ledger.record_run(report, by="ds")
    for who, act in (("bob", lambda b: ledger.submit(run, by=b)),
                     ("alice", lambda b: ledger.submit(run, by=b))):
        with pytest.raises(BoardRuleError, match="Submitting a model needs the submitter role"):
            act(s[who])
    ledger.submit(run, by=s["ds"])
    with pytest.raises(BoardRuleError, match="Voting needs the reviewer role; alice holds "
                                             "chair.") as e:
        ledger.record_vote(run, "reject", by=s["alice"])
    assert e.value.missing == ("the reviewer role",)
    assert "review-board users roles alice --role reviewer" in str(e.value)
    with pytest.raises(BoardRuleError, match="Recording the board's decision needs the chair"):
        ledger.decide(run, "reject", by=s["bob"])
    with pytest.raises(BoardRuleError, match="disposition needs the reviewer or chair role"):
        ledger.dispose(run, "performance.generalisation_gap.auc", "accept", by=s["admin"])
    for nobody in (None, "bob"):  # a typed name is not a sign-in
        with pytest.raises(BoardRuleError, match="needs a signed-in member"):
            ledger.record_vote(run, "reject", by=nobody)
    with pytest.raises(BoardRuleError, match="signed in to another ledger"):
        ledger.record_vote(run, "reject", by=dataclasses.replace(s["bob"], ledger="0" * 64))
    assert ledger.board_record(run)["votes"] == []


def test_the_submitter_of_a_model_cannot_review_it_nor_a_reviewer_submit_it(board, report):
    ledger, s = board
    admin = s["admin"]
    ledger.set_roles("ds", ["submitter", "reviewer"], by=admin)  # two roles: allowed
    ledger.add_user("eve", roles=["submitter"], password=TEMPORARY, by=admin)
    eve = ledger.change_password(ledger.sign_in("eve", TEMPORARY), PASSWORD)
    mine = submitted(ledger, report, s)
    with pytest.raises(BoardRuleError, match="ds submitted churn, so cannot vote on it: one "
                                             "person may hold several roles, but not submitter "
                                             "and reviewer of the same model."):
        ledger.record_vote(mine, "approve", by=s["ds"], independent=True)
    with pytest.raises(BoardRuleError, match="ds submitted churn, so cannot dispose"):
        ledger.dispose(mine, "performance.generalisation_gap.auc", "accept", by=s["ds"])
    # another model, submitted by eve: ds may review it, and then may not submit it
    theirs = ledger.record_run(other_model(report), by="eve")
    ledger.submit(theirs, by=eve)
    ledger.record_vote(theirs, "reject", by=s["ds"], independent=True)
    dispose_all(ledger, theirs, s["bob"])
    quorum_votes(ledger, theirs, s, "changes")
    ledger.decide(theirs, "changes", by=s["alice"])
    again = ledger.record_run(other_model(report), by="ds")
    with pytest.raises(BoardRuleError, match="ds reviewed lead_other, so cannot submit it"):
        ledger.submit(again, by=s["ds"])
    ledger.submit(again, by=eve)


def test_comments_come_from_reviewers_the_chair_and_the_models_submitter(board, report):
    ledger, s = board
    admin = s["admin"]
    ledger.add_user("eve", roles=["submitter"], password=TEMPORARY, by=admin)
    eve = ledger.change_password(ledger.sign_in("eve", TEMPORARY), PASSWORD)
    run = submitted(ledger, report, s)
    ledger.comment(run, "Why is postcode an input?", by=s["bob"])
    ledger.comment(run, "It was in the legacy feature set; we drop it in v2.", by=s["ds"])
    ledger.comment(run, "Noted.", by=s["alice"])
    with pytest.raises(BoardRuleError, match="Commenting"):
        ledger.comment(run, "Looks fine to me.", by=eve)  # a submitter, not of this model
    with pytest.raises(InputError, match="The comment is empty"):
        ledger.comment(run, "  ", by=s["bob"])
    assert [c["by"] for c in ledger.board_record(run)["comments"]] == ["bob", "ds", "alice"]


def test_a_decision_needs_every_disposition_and_a_quorum_of_independent_votes(board, report):
    ledger, s = board
    run = submitted(ledger, report, s)
    choice = recommended_option(report)
    with pytest.raises(BoardRuleError) as e:
        ledger.decide(run, choice, by=s["alice"])
    assert len(e.value.missing) == 2 and str(e.value).startswith(
        "The decision cannot be recorded yet. ")
    todo = [f.id for f in report.findings if f.severity.value in ("fail", "attention")]
    assert e.value.missing[0].startswith(f"{len(todo)} findings that fail or need attention "
                                         "have no disposition yet: ")
    assert all(fid in e.value.missing[0] for fid in todo)
    assert e.value.missing[1].startswith("0 of the 2 votes the quorum needs")
    assert ledger.missing_for_decision(run) == list(e.value.missing)
    dispose_all(ledger, run, s["bob"])
    ledger.record_vote(run, "reject", by=s["bob"], independent=True)
    ledger.record_vote(run, "reject", by=s["carol"])  # no declaration of independence
    missing = ledger.missing_for_decision(run)
    assert missing == ["1 of the 2 votes the quorum needs from independent reviewers: bob "
                       "(carol voted without declaring independence, or submitted the model: "
                       "not counted). Each reviewer votes and declares independence "
                       "(review-board vote --independent on the command line)."]
    with pytest.raises(BoardRuleError, match="1 of the 2 votes"):
        ledger.decide(run, choice, by=s["alice"])
    ledger.record_vote(run, "approve", by=s["carol"], independent=True)  # the latest counts
    t = ledger.tally(run)
    assert t["counts"] == {"reject": 1, "approve": 1} and t["quorum_met"]
    assert ledger.missing_for_decision(run) == []
    note = None if choice == "reject" else "the board's reasons"
    ledger.decide(run, choice, by=s["alice"], note=note,
                  conditions=[{"text": "x", "owner": "DS", "due": "2027-01-31"}]
                  if choice == "conditions" else ())
    board = ledger.board_record(run)
    assert [v["reviewer"] for v in board["votes"]] == ["bob", "carol", "carol"]  # not alice
    assert [g["act"] for g in board["signatures"]] == ["vote", "vote", "vote", "decision"]
    assert ledger.tally(run) == t  # a decision is not a vote


def test_the_quorum_is_a_board_setting_an_administrator_changes(board, report):
    ledger, s = board
    with pytest.raises(BoardRuleError, match="Changing a board setting needs the "
                                             "administrator role"):
        ledger.set_setting("quorum", 1, by=s["alice"])
    for bad in (0, "two", 51):
        with pytest.raises(InputError, match="not a number of votes from 1 to 50"):
            ledger.set_setting("quorum", bad, by=s["admin"])
    with pytest.raises(InputError, match="no board setting 'colour'"):
        ledger.set_setting("colour", "red", by=s["admin"])
    assert ledger.set_setting("quorum", "3", by=s["admin"])["quorum"] == 3
    run = submitted(ledger, report, s)
    dispose_all(ledger, run, s["bob"])
    quorum_votes(ledger, run, s, "reject")
    assert ledger.missing_for_decision(run)[0].startswith("2 of the 3 votes")
    ledger.set_setting("quorum", 2, by=s["admin"])
    assert ledger.missing_for_decision(run) == []
    assert ledger.board_settings()["quorum"] == 2 and ledger.verify().ok


def test_a_condition_needs_its_text_an_owner_and_a_due_date(board, report):
    ledger, s = board
    run = submitted(ledger, report, s)
    dispose_all(ledger, run, s["bob"])
    quorum_votes(ledger, run, s, "conditions")
    bad = [{"text": "Drop postcode", "owner": "", "due": "2027-01-31"},
           {"text": "Re-audit", "owner": "DS", "due": "end of Q1"},
           {"text": "", "owner": "DS", "due": None}]
    with pytest.raises(BoardRuleError) as e:
        ledger.decide(run, "conditions", by=s["alice"], note="n", conditions=bad)
    assert list(e.value.missing) == [
        "Condition 1 ('Drop postcode') needs an owner (--owner NAME on the command line).",
        "Condition 2 ('Re-audit') needs a due date as YYYY-MM-DD, not 'end of Q1' (--due on "
        "the command line).",
        "Condition 3 needs its text (--condition TEXT on the command line).",
        "Condition 3 needs a due date as YYYY-MM-DD (--due on the command line)."]
    assert ledger.board_record(run)["decision"] is None
    ledger.decide(run, "conditions", by=s["alice"], note="n",
                  conditions=[{"text": " Drop postcode ", "owner": "DS", "due": "2027-01-31"}])
    assert ledger.board_record(run)["conditions"] == [
        {"text": "Drop postcode", "owner": "DS", "due": "2027-01-31"}]


def test_one_person_may_chair_and_review(board, report):
    ledger, s = board
    ledger.set_roles("alice", ["chair", "reviewer"], by=s["admin"])
    alice = ledger.sign_in("alice", PASSWORD)
    assert alice.roles == ("chair", "reviewer")
    run = submitted(ledger, report, s)
    dispose_all(ledger, run, alice)
    quorum_votes(ledger, run, {"alice": alice, "bob": s["bob"]}, "reject",
                 voters=("alice", "bob"))
    ledger.decide(run, "reject", by=alice, note="n")
    assert [v["name"] for v in ledger.tally(run)["voters"]] == ["alice", "bob"]


def test_the_last_administrator_stays(board):
    ledger, s = board
    with pytest.raises(BoardRuleError, match="admin is the board's last administrator"):
        ledger.set_roles("admin", ["reviewer"], by=s["admin"])
    with pytest.raises(BoardRuleError, match="last administrator"):
        ledger.revoke_user("admin", reason="x", by=s["admin"])


def test_a_password_reset_issues_a_new_key_and_old_signatures_still_verify(board, report):
    ledger, s = board
    run = submitted(ledger, report, s)
    ledger.record_vote(run, "reject", by=s["bob"], independent=True)
    old = s["bob"].key_fingerprint
    ledger.reset_password("bob", TEMPORARY, by=s["admin"])
    with pytest.raises(BoardRuleError, match="no longer the active one"):
        ledger.record_vote(run, "reject", by=s["bob"])  # the old session's key is revoked
    bob = ledger.change_password(ledger.sign_in("bob", TEMPORARY), "bob's new passphrase")
    assert bob.key_fingerprint != old
    ledger.record_vote(run, "approve", by=bob, independent=True)
    sigs = ledger.board_record(run)["signatures"]
    assert [(g["key_fingerprint"], g["verification"]) for g in sigs] == [
        (old, "verified"), (bob.key_fingerprint, "verified")]
    keys = ledger.roster_state().keys
    assert keys[old].revoked_at is not None and keys[bob.key_fingerprint].revoked_at is None
    assert ledger.verify().ok


# -- single sign-on -----------------------------------------------------------------------------
def test_single_sign_on_is_matched_to_the_roster_by_email(board, report, tmp_path):
    ledger, s = board
    host = tmp_path / "host.pem"
    claims = dict(issuer=ISSUER, subject="sub-bob", email="Bob@Example.com", host_key=host)
    with pytest.raises(BoardRuleError, match="Single sign-on is not set up"):
        ledger.sso_sign_in(**claims)
    ledger.set_setting("sso_issuers", f"{ISSUER}/", by=s["admin"])
    with pytest.raises(InputError, match="not an https:// issuer"):
        ledger.set_setting("sso_issuers", "http://idp.example", by=s["admin"])
    with pytest.raises(BoardRuleError, match="'https://evil.example' is not one this board "
                                             "trusts"):
        ledger.sso_sign_in(**claims | {"issuer": "https://evil.example"})
    with pytest.raises(BoardRuleError, match="No member of the board has the e-mail "
                                             "'zed@example.com'"):
        ledger.sso_sign_in(**claims | {"email": "zed@example.com"})
    with pytest.raises(BoardRuleError, match="has not verified the e-mail"):
        ledger.sso_sign_in(**claims, email_verified=False)
    with pytest.raises(BoardRuleError, match="This host has no registered signing key"):
        ledger.sso_sign_in(**claims)
    with pytest.raises(BoardRuleError, match="Registering a host key needs the administrator"):
        ledger.register_host_key(label="board.example", by=s["bob"], path=host)
    reg = ledger.register_host_key(label="board.example", by=s["admin"], path=host)
    assert reg["new"] and oct(host.stat().st_mode & 0o777) == "0o600"
    bob = ledger.sso_sign_in(**claims, email_verified=True)
    assert (bob.name, bob.method, bob.issuer, bob.subject) == ("bob", "sso", ISSUER, "sub-bob")
    run = submitted(ledger, report, s)
    ledger.record_vote(run, "reject", by=bob, independent=True)
    g = ledger.board_record(run)["signatures"][0]
    assert (g["method"], g["issuer"], g["subject"], g["key_fingerprint"], g["verification"]) \
        == ("sso", ISSUER, "sub-bob", reg["fingerprint"], "verified")
    ledger.revoke_user("bob", reason="left", by=s["admin"])
    with pytest.raises(BoardRuleError, match="'bob' was revoked"):
        ledger.sso_sign_in(**claims)
    with pytest.raises(BoardRuleError, match="not an active member"):
        ledger.record_vote(run, "reject", by=bob)
    assert ledger.verify().ok


# -- each rule can fail: the same checks against a deliberately broken engine -------------------
BROKEN = pytest.mark.xfail(strict=True, raises=(AssertionError, pytest.fail.Exception),
                           reason="broken on purpose: one rule switched off")


@BROKEN
def test_the_submitter_votes_when_the_conflict_rule_is_off(board, report, monkeypatch):
    from reports.ledger.workflow import WorkflowMixin

    ledger, s = board
    monkeypatch.setattr(WorkflowMixin, "_not_submitter", lambda *a, **k: None)
    ledger.set_roles("ds", ["submitter", "reviewer"], by=s["admin"])
    run = submitted(ledger, report, s)
    with pytest.raises(BoardRuleError, match="cannot vote on it"):
        ledger.record_vote(run, "approve", by=s["ds"])


@BROKEN
def test_a_decision_without_votes_passes_when_the_quorum_is_not_counted(board, report,
                                                                        monkeypatch):
    from reports.ledger import rules

    ledger, s = board
    monkeypatch.setattr(rules, "tally", lambda *a, quorum, **k: {
        "voters": [], "counts": {}, "independent": 0, "quorum": quorum, "quorum_met": True})
    run = submitted(ledger, report, s)
    dispose_all(ledger, run, s["bob"])
    with pytest.raises(BoardRuleError, match="votes the quorum needs"):
        ledger.decide(run, "reject", by=s["alice"], note="n")


@BROKEN
def test_a_condition_without_an_owner_passes_when_conditions_are_not_checked(board, report,
                                                                             monkeypatch):
    from reports.ledger import rules

    ledger, s = board
    monkeypatch.setattr(rules, "check_conditions", lambda decision, conditions: list(conditions))
    with pytest.raises(BoardRuleError, match="needs an owner"):
        ledger.decide(submitted(ledger, report, s), "conditions", by=s["alice"], note="n",
                      conditions=[{"text": "t", "owner": None, "due": None}])


@BROKEN
def test_the_temporary_password_is_kept_when_the_check_is_off(board, monkeypatch):
    from reports.ledger import roster

    ledger, s = board
    real = roster.password_matches
    ledger.add_user("erin", roles=["reviewer"], password=TEMPORARY, by=s["admin"])
    temp = ledger.sign_in("erin", TEMPORARY)
    monkeypatch.setattr(roster, "password_matches", lambda h, p: real(h, p) and p != TEMPORARY)
    with pytest.raises(BoardRuleError, match="was set by an administrator"):
        ledger.change_password(temp, TEMPORARY)
