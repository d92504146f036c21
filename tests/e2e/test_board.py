"""The board's meeting in real browsers (``tests/e2e/board_flow.py``): members signed in with local
accounts (a submitter, reviewers, a chair, each choosing their own password in the app) and one
through a real OpenID Connect provider on localhost; four reviewers comment on one finding and
vote at the same moment, each in their own browser context; the chair's typed reason survives
the others' writes; the decision needs the quorum of two independent votes; every signature
verifies. Screenshots of the Review page go to ``build/e2e/``.
"""

from __future__ import annotations

import pytest

from tests.e2e import board_flow as B
from tests.e2e.conftest import MEETING

pytestmark = pytest.mark.skipif(
    not MEETING, reason="REVIEW_BOARD_E2E_MEETING=0 leaves the four-member meeting out")


def test_four_simultaneous_comments_and_votes_are_all_recorded(flow):
    m = flow.meeting
    print(f"\nmeeting: {m.seconds}")
    assert sorted((c["by"], c["text"]) for c in m.comments) == sorted(
        (name, f"{name}: region stands in for ethnicity.")
        for name in (*B.LOCAL_REVIEWERS, B.SSO_REVIEWER))
    votes = {v["reviewer"]: v["decision"] for v in m.board["votes"]}
    assert votes == {"E2E Reviewer A": "reject", "E2E Reviewer B": "reject",
                     "E2E Reviewer C": "approve_with_conditions", B.SSO_REVIEWER: "reject"}
    assert len(m.board["votes"]) == 4  # one each: none lost, none doubled


def test_the_meeting_ends_in_a_signed_decision_on_the_quorum(flow):
    m = flow.meeting
    board = m.board
    assert board["run"]["status"] == "rejected"
    assert (board["decision"]["decision"], board["decision"]["by"]) == ("reject", B.CHAIR)
    assert board["decision"]["note"] == B.CHAIR_NOTE  # typed before the votes, kept
    tally = board["tally"]
    assert tally["quorum"] == 2 and tally["independent"] == 2 and tally["quorum_met"]
    assert sorted(v["name"] for v in tally["voters"] if v["counts"]) == sorted(B.INDEPENDENT)
    submission = [r for r in board["reviewers"] if r["name"] == B.SUBMITTER]
    assert submission == []  # the submitter never reviewed
    assert m.board["dispositions"][B.FID]["by"] == B.LOCAL_REVIEWERS[0]
    sigs = {(g["name"], g["act"]): g for g in board["signatures"]}
    assert set(sigs) == {(n, "vote") for n in (*B.LOCAL_REVIEWERS, B.SSO_REVIEWER)} | {
        (B.CHAIR, "decision")}
    assert {g["verification"] for g in sigs.values()} == {"verified"}
    sso = sigs[(B.SSO_REVIEWER, "vote")]
    assert (sso["method"], sso["subject"], sso["key_fingerprint"]) == (
        "sso", B.SSO_SUBJECT, m.host_key)
    assert sso["issuer"].startswith("http://localhost:")
    assert {sigs[(n, "vote")]["method"] for n in B.LOCAL_REVIEWERS} == {"password"}
    assert m.verify_ok, m.verify_problems


def test_single_sign_on_through_a_real_provider(flow):
    m = flow.meeting
    print(f"\nsingle sign-on: signed in at attempt {m.sso_attempts}")
    assert m.sso_attempts >= 1
    assert m.sso_signed_in.startswith(f"Signed in as {B.SSO_REVIEWER}")
    assert "single sign-on through http://localhost:" in m.sso_signed_in
    assert B.SSO_EMAIL in m.sso_signed_in


def test_the_chairs_draft_survived_and_the_others_writes_showed(flow):
    saw = flow.meeting.chair_saw
    assert saw["reason"] == B.CHAIR_NOTE
    assert all(n >= 1 for n in saw["comments"]), saw  # every reviewer's comment, unprompted
    assert saw["nothing_missing"] >= 1


def test_the_meeting_pages_stay_on_this_machine_and_raise_nothing(flow):
    m = flow.meeting
    assert m.page_errors == []
    assert m.external_requests == []
    for name in ("review-signed-in", "review-sso", "review-missing", "review-standing",
                 "review-decided"):
        assert m.screenshots[name].stat().st_size > 10_000, name
