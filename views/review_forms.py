"""The Review page's forms: signing in (a local account of the board's roster), recording and
submitting the audit, a comment and a disposition per finding, votes and the board's decision.
Each form writes one thing to the ledger as the signed-in member (the same operations as the
``review-board`` board commands, with the same rules) and shows the ledger's own message with
``st.error`` when it refuses; the forms keep what was typed (``clear_on_submit`` is off, and a
form's keys only change after a successful write, which empties it).

This is the minimal sign-in the engine now demands (issue 13's phase 1); the full Review page
(roster, single sign-on through ``st.login``, the tally) comes with phase 2.
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd
import streamlit as st

from reports import review_session as rs
from reports.ledger import DISPOSITIONS, RESIDUAL, default_url, open_ledger
from reports.render.texts import ATTESTATION
from reports.report import AuditReport
from views import state

NAME_LABEL = "Your account on the board"
PASSWORD_LABEL = "Password"
INDEPENDENT_LABEL = "I am independent of the model's development team"
DECLARATION_LABEL = "Declaration of interests (in words)"
_OPEN = ("submitted", "under_review")


# -- engine access, cached ----------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _ledger(url: str):
    return open_ledger(url)


def ledger():
    """The ledger (``REVIEW_BOARD_DB``, else the SQLite file in the home folder), opened once."""
    return _ledger(default_url())


@st.cache_resource(show_spinner=False, max_entries=8)
def stored_report(url: str, run_id: int) -> AuditReport:
    """A run's stored report (rows are insert-only, so it never changes), parsed once."""
    return _ledger(url).report(run_id)


# -- writing ------------------------------------------------------------------------------------
def _write(action, done) -> None:
    """Run one ledger write; on success remember the confirmation and rerun (so every section
    reads the new record), on refusal show the ledger's message and keep the form as typed."""
    try:
        result = action()
    except rs.LEDGER_ERRORS as e:
        st.error(str(e))
        return
    st.session_state[state.REVIEW_NOTICE] = done(result) if callable(done) else done
    st.rerun()


def show_notice() -> None:
    msg = st.session_state.pop(state.REVIEW_NOTICE, None)
    if msg:
        st.success(msg)


def _signer():
    """The signed-in member's session, or an error asking to sign in (nothing is recorded
    without one)."""
    session = st.session_state.get(state.SIGNED_IN)
    if session is None:
        st.error("Sign in at the top of the page first: the ledger records who wrote each entry, "
                 "and votes and decisions are signed with your key.")
    return session


def _missing(what: str) -> None:
    st.error(f"Choose {what} first.")


def identity(led) -> None:
    """Sign in with a local account (kept in ``state.SIGNED_IN`` across pages), or who is signed
    in, with a button to sign out."""
    session = st.session_state.get(state.SIGNED_IN)
    if session is not None and getattr(session, "ledger", None) == _ledger_id(led):
        left, right = st.columns([5, 1])
        left.markdown(f"Signed in as **{session.name}** ({', '.join(session.roles)}); your "
                      f"signing key `{session.key_fingerprint}`.")
        if right.button("Sign out", key="sign_out"):
            st.session_state.pop(state.SIGNED_IN, None)
            st.session_state.pop(state.REVIEWER, None)
            st.rerun()
        return
    st.session_state.pop(state.SIGNED_IN, None)
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
        if session.must_change:
            st.error(f"{session.name}: your password was set by an administrator; choose your "
                     "own first (review-board users password), then sign in here.")
            return
        st.session_state[state.SIGNED_IN] = session
        st.session_state[state.REVIEWER] = session.name
        st.rerun()


def _ledger_id(led) -> str | None:
    return led.ledger_id()


# -- recording and submitting -------------------------------------------------------------------
def ledger_status(led, report: AuditReport, run: dict | None) -> None:
    """Where the audit stands in the ledger, with the button for its next step."""
    if run is None:
        st.markdown("This audit is **not in the ledger yet**. Recording it stores the report and "
                    "its hash as a self-check (a draft); the board reviews it once it is "
                    "submitted.")
        if st.session_state.get(state.INVENTORY):
            st.caption("The feature inventory filled in on the Load page is stored with it.")
        else:
            st.caption("No feature inventory was filled in on the Load page: the report records "
                       "the inventory as not supplied.")
        if st.button("Record this audit in the ledger", type="primary", key="record_run"):
            by = _signer()
            if by:
                def record():
                    run_id = led.record_run(report, by=by.name, source="app")
                    st.session_state[state.RUN_ID] = run_id
                    return run_id
                _write(record, lambda r: f"Recorded as run {r}, a self-check until it is "
                                         "submitted to the board.")
        return
    st.markdown(f"**{rs.run_label(run)}** — model {run['model']}, recorded "
                f"{run['recorded_at']} (UTC) by {run['recorded_by'] or 'not recorded'}; "
                f"report id `{run['report_id'][:16]}`.")
    if run["status"] == "draft":
        st.info("This run is a self-check: the board comments, votes and decides once it is "
                "submitted. Submitting freezes the report and makes it the model's next "
                "version.")
        if st.button("Submit to the board", type="primary", key="submit_run"):
            by = _signer()
            if by:
                def submitted(r):
                    parent = f", parent run {r['parent_run']}" if r["parent_run"] else ""
                    return (f"Run {r['run']} submitted as {r['model']} v{r['version']}{parent}; "
                            "it is frozen.")
                _write(lambda: led.submit(run["id"], by=by), submitted)


# -- findings -----------------------------------------------------------------------------------
def _fmt_disposition(d: dict) -> str:
    parts = [f"**{rs.DISPOSITION_LABELS.get(d['disposition'], d['disposition'])}**"]
    if d.get("owner"):
        parts.append(f"owner {d['owner']}")
    if d.get("due"):
        parts.append(f"due {d['due']}")
    if d.get("residual"):
        parts.append(f"residual risk {d['residual']}")
    text = " · ".join(parts) + f" — recorded by {d.get('by') or '?'}, {d['at']} (UTC)"
    return text + (f". Note: {d['note']}" if d.get("note") else "")


def _comments(comments: list[dict]) -> None:
    for c in comments:
        st.markdown(f"**{c['by']}** ({c['at']} UTC): {c['text']}")


def comment_form(led, run: dict, finding: str | None, n: int) -> None:
    """One comment on a finding (or on the run when ``finding`` is None)."""
    tag = finding or "run"
    with st.form(f"comment_form_{tag}", clear_on_submit=False, border=False):
        text = st.text_area("Comment" if finding else "Comment on the audit as a whole",
                            key=f"comment_{tag}_{n}")
        go = st.form_submit_button("Add the comment", key=f"comment_btn_{tag}")
    if go:
        if not (text or "").strip():
            st.error("The comment is empty; type it first.")
            return
        by = _signer()
        if by:
            _write(lambda: led.comment(run["id"], text.strip(), by=by, finding=finding),
                   f"Comment recorded on run {run['id']}.")


def _due(value: str | None) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def disposition_form(led, run: dict, finding: str, current: dict | None) -> None:
    """The finding's disposition for the risk register (the latest one recorded counts)."""
    cur = current or {}
    opts = list(DISPOSITIONS)
    res = [None, *RESIDUAL]
    with st.form(f"dispose_form_{finding}", clear_on_submit=False, border=False):
        how = st.selectbox("Disposition", opts, format_func=rs.DISPOSITION_LABELS.get,
                           index=opts.index(cur["disposition"]) if cur.get("disposition") in opts
                           else 0, key=f"dispose_{finding}")
        a, b, c = st.columns(3)
        owner = a.text_input("Owner", value=cur.get("owner") or "", key=f"owner_{finding}")
        due = b.date_input("Due date", value=_due(cur.get("due")), key=f"due_{finding}")
        residual = c.selectbox("Residual risk", res, format_func=rs.RESIDUAL_LABELS.get,
                               index=res.index(cur.get("residual")), key=f"residual_{finding}")
        note = st.text_area("Note", value=cur.get("note") or "", key=f"dnote_{finding}")
        go = st.form_submit_button("Record the disposition", key=f"dispose_btn_{finding}")
    if go:
        by = _signer()
        if by:
            _write(lambda: led.dispose(run["id"], finding, how, by=by,
                                       owner=owner.strip() or None, due=rs.iso_date(due),
                                       residual=residual, note=note.strip() or None),
                   f"{finding}: {how} recorded on run {run['id']}.")


def finding_panel(led, run: dict | None, finding, notes: dict) -> None:
    """A finding's statement, what the board wrote about it, and its two forms."""
    sev = finding.severity
    mine = notes.get(finding.id) or {"comments": [], "disposition": None}
    with st.expander(f"{sev.label}: {finding.title}",
                     expanded=sev.value in ("fail", "attention") and not mine["disposition"]):
        st.caption(f"Finding id `{finding.id}` · area {finding.area or 'n/a'}")
        st.markdown(finding.statement)
        if finding.action:
            st.markdown(f"**Recommended action:** {finding.action}")
        if mine["disposition"]:
            st.markdown("Disposition: " + _fmt_disposition(mine["disposition"]))
        _comments(mine["comments"])
        if run is None or run["status"] == "draft":
            st.caption("Record and submit the audit to comment on this finding.")
            return
        left, right = st.columns(2)
        with left:
            comment_form(led, run, finding.id, len(mine["comments"]))
        with right:
            disposition_form(led, run, finding.id, mine["disposition"])


# -- votes and the decision ---------------------------------------------------------------------
def votes_table(board: dict) -> None:
    who = {r["name"]: r for r in board["reviewers"]}
    if not board["votes"]:
        st.caption("No votes yet.")
        return
    st.dataframe(pd.DataFrame([{
        "Reviewer": v["reviewer"], "Role": v["role"] or "",
        "Vote": rs.DECISION_LABELS.get(rs.option_of(v["decision"]), v["decision"]),
        "Reason": v["note"] or "", "Independent": "yes" if who.get(
            v["reviewer"], {}).get("independent") else "no",
        "Declaration": who.get(v["reviewer"], {}).get("declaration") or "",
        "Recorded (UTC)": v["at"]} for v in board["votes"]]), hide_index=True, key="votes_table")


def signatures_table(board: dict) -> None:
    if board["signatures"]:
        st.dataframe(pd.DataFrame([{
            "Name": g["name"], "Role": g["role"] or "",
            "Signed": f"{g['act'].capitalize()}: {g['vote_label']}", "Signed (UTC)": g["at"],
            "Key fingerprint": g["key_fingerprint"] or "",
            "Signature": rs.VERIFICATION_LABELS.get(g["verification"], g["verification"]),
            "Report id": g["report_id"][:16]} for g in board["signatures"]]),
            hide_index=True, key="signatures_table")
    head = board["ledger"]["head"]
    st.caption(f"Ledger {board['ledger']['url']}: chain head event {head['seq']}, hash "
               f"`{head['hash']}`, signed with the ledger's key "
               f"`{board['ledger'].get('key_fingerprint')}`. Each vote and decision is signed "
               "with its member's Ed25519 key over the report's hash and the recorded entries; "
               "the check uses the public key the roster held when it was signed.")


def _options_index(decision: str | None) -> int | None:
    opt = rs.option_of(decision)
    return rs.DECISION_OPTIONS.index(opt) if opt in rs.DECISION_OPTIONS else None


def vote_form(led, run: dict, board: dict) -> None:
    """A reviewer's signed vote; closed once the board has decided."""
    closed = run["status"] not in _OPEN
    n = len(board["votes"])
    with st.form("vote_form", clear_on_submit=False):
        st.caption(ATTESTATION)
        vote = st.selectbox("Your vote", rs.DECISION_OPTIONS, index=None,
                            placeholder="Choose your vote", format_func=rs.DECISION_LABELS.get,
                            key=f"vote_{n}", disabled=closed)
        note = st.text_area("Reason (optional for a vote)", key=f"vote_note_{n}",
                            disabled=closed)
        independent = st.checkbox(INDEPENDENT_LABEL, key=f"vote_independent_{n}",
                                  disabled=closed)
        declaration = st.text_input(DECLARATION_LABEL, key=f"vote_declaration_{n}",
                                    disabled=closed)
        go = st.form_submit_button("Sign and record my vote", key="vote_btn", disabled=closed)
    if closed:
        st.caption("Votes are closed: the board has decided.")
    if go:
        by = _signer() if vote else _missing("your vote")
        if by:
            _write(lambda: led.record_vote(run["id"], vote, by=by, note=note.strip() or None,
                                           independent=independent,
                                           declaration=declaration.strip() or None),
                   f"Vote recorded and signed by {by.name} on run {run['id']}.")


_CONDITION_COLUMNS = {
    "text": st.column_config.TextColumn("Condition", help="What must be done", width="large"),
    "owner": st.column_config.TextColumn("Owner", help="Who is responsible"),
    "due": st.column_config.DateColumn("Due date", format="YYYY-MM-DD"),
}


def recorded_decision(board: dict, recommended: str) -> None:
    d = board["decision"]
    label = rs.DECISION_LABELS.get(rs.option_of(d["decision"]), d["decision"])
    role = f" ({d['role']})" if d["role"] else ""
    st.success(f"Decision recorded: **{label}**, by {d['by']}{role}, {d['at']} (UTC).")
    if d["decision"] not in (recommended, "changes_requested"):
        st.markdown(f"This decision overrules the recommendation "
                    f"({rs.DECISION_LABELS[rs.option_of(recommended)]}).")
    if d["note"]:
        st.markdown(f"**Reason:** {d['note']}")
    if board["conditions"]:
        st.markdown("**Conditions of approval**")
        st.dataframe(pd.DataFrame([{"Condition": c["text"], "Owner": c["owner"] or "",
                                    "Due date": c["due"] or ""} for c in board["conditions"]]),
                     hide_index=True, key="conditions_table")


def decision_form(led, run: dict, board: dict) -> None:
    """The board's decision (the chair's, signed; not a vote): what it still needs, then the
    form; shown as recorded, with the form disabled, once it is made."""
    d = board["decision"]
    done = d is not None
    k = "decided" if done else "decision"
    if not done:
        try:
            missing = led.missing_for_decision(run["id"])
        except rs.LEDGER_ERRORS as e:
            missing = [str(e)]
        if missing:
            st.warning("Before the chair can record a decision:\n\n" +
                       "\n".join(f"- {m}" for m in missing))
    with st.form(f"{k}_form", clear_on_submit=False):
        choice = st.selectbox("Board decision", rs.DECISION_OPTIONS,
                              index=_options_index(d["decision"]) if done else None,
                              placeholder="Choose the board's decision",
                              format_func=rs.DECISION_LABELS.get, key=f"{k}_choice",
                              disabled=done)
        rows = None
        if not done:
            st.markdown("Conditions of approval (needed for *Approve with conditions*): one per "
                        "row, with its owner and due date.")
            empty = pd.DataFrame({"text": pd.Series(dtype="object"),
                                  "owner": pd.Series(dtype="object"),
                                  "due": pd.Series(dtype="datetime64[ns]")})
            rows = st.data_editor(empty, num_rows="dynamic", hide_index=True,
                                  column_config=_CONDITION_COLUMNS, key="decision_conditions")
        note = st.text_area("Reason for the decision (required to overrule the recommendation)",
                            value=(d["note"] or "") if done else "", key=f"{k}_note",
                            disabled=done)
        go = st.form_submit_button("Record the decision", type="primary", key="decide_btn",
                                   disabled=done)
    if done:
        st.caption("A decision is final. To review the model again, audit the new version and "
                   "record it.")
    if go and not done:
        by = _signer() if choice else _missing("the board's decision")
        if by:
            conditions = rs.conditions_from_rows(rows.to_dict("records"))
            _write(lambda: led.decide(run["id"], choice, by=by, note=note.strip() or None,
                                      conditions=conditions),
                   lambda r: f"Run {r['run']}: {r['status'].replace('_', ' ')} (recorded and "
                             f"signed by {by.name}).")
