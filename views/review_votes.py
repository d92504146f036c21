"""The Review page's board sections: the roster, where the board stands (the tally, who has voted,
what a decision still needs), the vote and decision forms, the recorded decision and the
signatures.

Everything the board's rules decide comes from the ledger as it says it: the tally
(``Ledger.board_record``'s ``tally``, from ``reports.ledger.rules.tally``: each voter's latest
vote and whether it counts towards the quorum) and what is missing
(``Ledger.missing_for_decision``); the page adds no rule of its own. Verdicts are shown in the
severity colours with their symbol and words (``views.review_style``): a reject is never green.
The forms keep their drafts (``views.review_drafts``) and show the ledger's refusals.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reports import review_session as rs
from reports.render.document import DECISION_LABELS
from reports.render.texts import ATTESTATION
from views import review_drafts as drafts
from views import state
from views.review_forms import signer, write
from views.review_style import SYMBOLS, badge_html, tone_of, verdict_box

__all__ = ["roster", "standing", "vote_form", "recorded_decision", "decision_form",
           "signatures_table", "decision_words", "INDEPENDENT_LABEL", "DECLARATION_LABEL"]

INDEPENDENT_LABEL = "I am independent of the model's development team"
DECLARATION_LABEL = "Declaration of interests (in words)"
_OPEN = ("submitted", "under_review")


def decision_words(decision: str | None) -> str:
    """A decision or vote in words with its symbol: ``✗ Reject``."""
    label = rs.DECISION_LABELS.get(rs.option_of(decision), decision or "")
    return f"{SYMBOLS[tone_of(decision)]} {label}"


def _member() -> str | None:
    session = st.session_state.get(state.SIGNED_IN)
    return session.name if session is not None else None


# -- the roster ---------------------------------------------------------------------------------
def _key_words(m: dict) -> str:
    if m["key"]:
        return m["key"]
    if m["must_change_password"]:
        return "none yet: issued when the member chooses their password"
    if m["email"]:
        return "the app host's key (single sign-on)"
    return "none"


def roster(led) -> None:
    """The board's members (names, roles, signing keys, status), the app hosts' keys and the
    board's settings, as the ledger's roster has them now."""
    try:
        members, settings = led.roster(), led.board_settings()
        hosts = led.roster_state().host_keys()
    except rs.LEDGER_ERRORS as e:
        st.error(str(e))
        return
    if not members:
        st.info("The board has no members yet: an administrator creates the roster on the "
                "command line (review-board users add NAME --role administrator).")
        return
    st.dataframe(pd.DataFrame([{
        "Member": m["name"], "Roles": ", ".join(m["roles"]),
        "Signing key (Ed25519 fingerprint)": _key_words(m),
        "Status": "active" if m["active"] else f"revoked {m['revoked_at']}"}
        for m in members]), hide_index=True, key="roster_table", width="stretch")
    issuers = ", ".join(settings.get("sso_issuers") or []) or "none"
    st.caption(f"Quorum: {settings['quorum']} independent votes. Identity providers trusted for "
               f"single sign-on: {issuers}. An administrator keeps the roster and these settings "
               "(review-board users, review-board board set); every change is a ledger event.")
    if hosts:
        st.markdown("**App hosts' keys** (they sign for members signed in through single "
                    "sign-on)")
        st.dataframe(pd.DataFrame([{
            "Host": h.owner.removeprefix("host:"), "Key fingerprint": h.fingerprint,
            "Registered (UTC)": h.registered_at,
            "Status": "active" if h.revoked_at is None else f"revoked {h.revoked_at}"}
            for h in hosts]), hide_index=True, key="host_keys_table", width="stretch")


# -- where the board stands ---------------------------------------------------------------------
def standing(led, run: dict, board: dict) -> None:
    """The tally (counts per decision, the quorum), who has voted and who has not, and what the
    decision still needs, all as the ledger computes them."""
    t = board["tally"]
    quorum = (badge_html(f"Quorum met: {t['independent']} of {t['quorum']} independent votes",
                         "pass") if t["quorum_met"] else
              badge_html(f"Quorum: {t['independent']} of {t['quorum']} independent votes",
                         "attention"))
    counts = " ".join(badge_html(f"{rs.DECISION_LABELS.get(rs.option_of(d), d)}: {n}",
                                 tone_of(d)) for d, n in sorted(t["counts"].items()))
    st.markdown(f"{quorum} {counts or 'No votes yet.'}", unsafe_allow_html=True)
    if t["voters"]:
        declared = {r["name"]: r for r in board["reviewers"]}
        reasons = {v["reviewer"]: v["note"] for v in board["votes"]}  # the latest vote's reason
        st.dataframe(pd.DataFrame([{
            "Reviewer": v["name"], "Vote": decision_words(v["decision"]),
            "Reason": reasons.get(v["name"]) or "",
            "Independent": "yes" if v["independent"] else "no",
            "Counts towards the quorum": "yes" if v["counts"] else "no",
            "Declaration": declared.get(v["name"], {}).get("declaration") or "",
            "Voted (UTC)": v["at"]} for v in t["voters"]]), hide_index=True,
            key="tally_table", width="stretch")
    try:
        reviewers = [m["name"] for m in led.roster() if m["active"] and "reviewer" in m["roles"]]
    except rs.LEDGER_ERRORS:
        reviewers = []
    waiting = [n for n in reviewers if n not in {v["name"] for v in t["voters"]}]
    if waiting and run["status"] in _OPEN:
        st.caption("Reviewers who have not voted on this run: " + ", ".join(waiting) + ".")
    if board["decision"] is not None:
        return
    try:
        missing = led.missing_for_decision(run["id"])
    except rs.LEDGER_ERRORS as e:
        missing = [str(e)]
    if missing:
        verdict_box("Before the chair can record a decision, ", "the board still needs:",
                    tone="attention", items=missing)
    else:
        verdict_box("Nothing is missing: ", "the chair can record the board's decision.",
                    tone="pass")


# -- votes --------------------------------------------------------------------------------------
def vote_form(led, run: dict, board: dict) -> None:
    """The signed-in reviewer's signed vote (their latest counts); closed once the board has
    decided."""
    if run["status"] not in _OPEN:
        st.caption("Votes are closed: the board has decided.")
        return
    who = _member()
    if who is None:
        st.caption("Sign in at the top of the page to vote.")
        return
    k = drafts.keys("vote", run["id"], who, "choice", "note", "independent", "declaration")
    declared = {r["name"]: r for r in board["reviewers"]}.get(who, {})
    drafts.seed(k["choice"], None)
    drafts.seed(k["note"], "")
    drafts.seed(k["independent"], bool(declared.get("independent")))
    drafts.seed(k["declaration"], declared.get("declaration") or "")
    with st.form("vote_form", clear_on_submit=False):
        st.caption(ATTESTATION)
        vote = st.selectbox("Your vote", rs.DECISION_OPTIONS, index=None,
                            placeholder="Choose your vote", format_func=rs.DECISION_LABELS.get,
                            key=k["choice"])
        note = st.text_area("Reason (optional for a vote)", key=k["note"])
        independent = st.checkbox(INDEPENDENT_LABEL, key=k["independent"])
        declaration = st.text_input(DECLARATION_LABEL, key=k["declaration"])
        go = st.form_submit_button("Sign and record my vote", key="vote_btn")
    if go:
        drafts.keep({k["choice"]: vote, k["note"]: note, k["independent"]: independent,
                     k["declaration"]: declaration})
        if not vote:
            st.error("Choose your vote first.")
            return
        by = signer()
        if by:
            write(lambda: led.record_vote(run["id"], vote, by=by, note=note.strip() or None,
                                          independent=independent,
                                          declaration=declaration.strip() or None),
                  f"Vote recorded and signed by {by.name} on run {run['id']}.",
                  draft=("vote", run["id"], who, k.values()))


# -- the decision -------------------------------------------------------------------------------
_CONDITION_COLUMNS = {
    "text": st.column_config.TextColumn("Condition", help="What must be done", width="large"),
    "owner": st.column_config.TextColumn("Owner", help="Who is responsible"),
    "due": st.column_config.DateColumn("Due date", format="YYYY-MM-DD"),
}


def recorded_decision(board: dict, recommended: str) -> None:
    d = board["decision"]
    label = rs.DECISION_LABELS.get(rs.option_of(d["decision"]), d["decision"])
    role = f" ({d['role']})" if d["role"] else ""
    verdict_box("Decision recorded: ", label, f", by {d['by']}{role}, {d['at']} (UTC).",
                tone=tone_of(d["decision"]))
    if d["decision"] not in (recommended, "changes_requested"):
        st.markdown(f"This decision overrules the recommendation "
                    f"({DECISION_LABELS.get(recommended, recommended)}).")
    if d["note"]:
        st.markdown(f"**Reason:** {d['note']}")
    if board["conditions"]:
        st.markdown("**Conditions of approval**")
        st.dataframe(pd.DataFrame([{"Condition": c["text"], "Owner": c["owner"] or "",
                                    "Due date": c["due"] or ""} for c in board["conditions"]]),
                     hide_index=True, key="conditions_table")


def _conditions_base(key: str) -> pd.DataFrame:
    """The data the conditions editor starts from: the rows kept from a refused decision when
    the editor is drawn afresh (e.g. after a page switch), else none. Kept under its own key so
    that it stays the same while the editor's edits apply to it."""
    base = f"{key}_base"
    if key not in st.session_state:
        st.session_state[base] = drafts.saved(key, [])
    rows = st.session_state[base]
    return pd.DataFrame({"text": pd.Series([r.get("text") for r in rows], dtype="object"),
                         "owner": pd.Series([r.get("owner") for r in rows], dtype="object"),
                         "due": pd.to_datetime(pd.Series([r.get("due") for r in rows],
                                                         dtype="object"), errors="coerce")})


def decision_form(led, run: dict, board: dict) -> None:
    """The board's decision (the chair's, signed; not a vote), with its conditions and the
    reason; hidden once the decision is recorded (it is final)."""
    if board["decision"] is not None:
        st.caption("A decision is final. To review the model again, audit the new version and "
                   "record it.")
        return
    who = _member()
    if who is None:
        st.caption("Sign in at the top of the page to record the board's decision (the chair).")
        return
    k = drafts.keys("decision", run["id"], who, "choice", "conditions", "note")
    drafts.seed(k["choice"], None)
    drafts.seed(k["note"], "")
    with st.form("decision_form", clear_on_submit=False):
        choice = st.selectbox("Board decision", rs.DECISION_OPTIONS, index=None,
                              placeholder="Choose the board's decision",
                              format_func=rs.DECISION_LABELS.get, key=k["choice"])
        st.markdown("Conditions of approval (needed for *Approve with conditions*): one per "
                    "row, with its owner and due date.")
        rows = st.data_editor(_conditions_base(k["conditions"]), num_rows="dynamic",
                              hide_index=True, column_config=_CONDITION_COLUMNS,
                              key=k["conditions"])
        note = st.text_area("Reason for the decision (required to overrule the recommendation)",
                            key=k["note"])
        go = st.form_submit_button("Sign and record the decision", type="primary",
                                   key="decide_btn")
    if go:
        typed = [{"text": r.get("text"), "owner": r.get("owner"), "due": rs.iso_date(r.get("due"))}
                 for r in rows.to_dict("records")]
        drafts.keep({k["choice"]: choice, k["note"]: note, k["conditions"]: typed})
        if not choice:
            st.error("Choose the board's decision first.")
            return
        by = signer()
        if by:
            conditions = rs.conditions_from_rows(rows.to_dict("records"))
            write(lambda: led.decide(run["id"], choice, by=by, note=note.strip() or None,
                                     conditions=conditions),
                  lambda r: f"Run {r['run']}: {r['status'].replace('_', ' ')} (recorded and "
                            f"signed by {by.name}).",
                  draft=("decision", run["id"], who, k.values()),
                  tone=lambda r: tone_of(r["status"]))


def signatures_table(board: dict) -> None:
    if board["signatures"]:
        st.dataframe(pd.DataFrame([{
            "Name": g["name"], "Role": g["role"] or "",
            "Signed": f"{g['act'].capitalize()}: {g['vote_label']}", "Signed (UTC)": g["at"],
            "Key fingerprint": g["key_fingerprint"] or "",
            "How": ("single sign-on, " + (g["issuer"] or "") if g.get("method") == "sso"
                    else "local account" if g.get("method") else ""),
            "Signature": rs.VERIFICATION_LABELS.get(g["verification"], g["verification"]),
            "Report id": g["report_id"][:16]} for g in board["signatures"]]),
            hide_index=True, key="signatures_table")
    else:
        st.caption("No signatures yet: each vote and the decision is signed.")
    head = board["ledger"]["head"]
    st.caption(f"Ledger {board['ledger']['url']}: chain head event {head['seq']}, hash "
               f"`{head['hash']}`, signed with the ledger's key "
               f"`{board['ledger'].get('key_fingerprint')}`. Each vote and decision is signed "
               "with its member's Ed25519 key (or, for single sign-on, the app host's key) over "
               "the report's hash and the recorded entries; the check uses the public key the "
               "roster held when it was signed.")
