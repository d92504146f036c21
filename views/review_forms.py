"""The Review page's forms for the audit and its findings: recording and submitting the audit, and
a comment and a disposition per finding (votes and the decision: ``views.review_votes``; signing
in: ``views.review_signin``).

Each form writes one thing to the ledger as the signed-in member (the same operations as the
``review-board`` board commands, with the same rules) and shows the ledger's own message with
``st.error`` when it refuses. The forms are keyed by their finding and the member, never by what
others wrote, and keep their drafts until the write succeeds (``views.review_drafts``), so
another member's write neither empties nor swallows them.
"""

from __future__ import annotations

import datetime as _dt

import streamlit as st

from reports import review_session as rs
from reports.ledger import DISPOSITIONS, RESIDUAL, STATUS_LABELS, default_url, open_ledger
from reports.render.document import ICON
from reports.report import AuditReport
from views import review_drafts as drafts
from views import state
from views.review_style import badge_html, tone_of, verdict_box

__all__ = ["ledger", "stored_report", "write", "show_notice", "keep_notice", "follow",
           "signer", "ledger_status",
           "comment_form", "disposition_form", "finding_panel", "comments"]


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
def write(action, done, *, draft: tuple | None = None, tone=None) -> None:
    """Run one ledger write. On success: the form's drafts are dropped and its keys move on
    (``draft``: the form, target, member and widget keys), the confirmation is remembered and
    the page reruns (so every section reads the new record). On refusal: the ledger's message,
    and the form stays as typed.

    ``tone`` (a tone of ``views.review_style``, or a function of the write's result giving one)
    shows the confirmation in that verdict's colours instead of the plain green of a done write:
    a recorded reject is confirmed in red, never in a green box."""
    try:
        result = action()
    except rs.LEDGER_ERRORS as e:
        st.error(str(e))
        return
    if draft is not None:
        drafts.written(*draft)
    text = done(result) if callable(done) else done
    st.session_state[state.REVIEW_NOTICE] = (text, tone(result) if callable(tone) else tone)
    st.rerun()


def show_notice() -> None:
    """The confirmation of this member's last write, once (kept aside for :func:`keep_notice`)."""
    msg = st.session_state.pop(state.REVIEW_NOTICE, None)
    st.session_state[state.REVIEW_LAST_NOTICE] = msg
    text, tone = msg if isinstance(msg, tuple) else (msg, None)
    if text and tone in (None, "pass"):
        st.success(text)
    elif text:
        verdict_box(text, "", tone=tone)


def keep_notice() -> None:
    """Show the last confirmation again on the next run (a rerun to follow another member's
    write must not wipe this member's own confirmation)."""
    if st.session_state.get(state.REVIEW_LAST_NOTICE):
        st.session_state[state.REVIEW_NOTICE] = st.session_state[state.REVIEW_LAST_NOTICE]


#: How often an open Review page checks the ledger for other members' writes.
REFRESH_SECONDS = 3.0


@st.fragment(run_every=REFRESH_SECONDS)
def follow(led, seen: int) -> None:
    """Rerun the page when the ledger's head moved past ``seen`` (another member wrote).

    Every few seconds it runs on its own; once per page run it also runs inline, where the page
    calls it, and must be called after every form: a rerun requested there ends the run, and
    Streamlit resets the clicks of that run (``SessionState.on_script_finished`` resets the
    triggers however the run ended), so a form not yet drawn would never see its click. Called
    before the forms, a member's comment submitted while another member's write landed was
    lost (one of four simultaneous comments in the browser meeting)."""
    try:
        now = led.head()[0]
    except rs.LEDGER_ERRORS:
        return
    if now != seen:
        keep_notice()
        st.rerun()


def signer():
    """The signed-in member's session, or an error asking to sign in (nothing is recorded
    without one)."""
    session = st.session_state.get(state.SIGNED_IN)
    if session is None:
        st.error("Sign in at the top of the page first: the ledger records who wrote each entry, "
                 "and votes and decisions are signed with your key.")
    return session


def _member() -> str | None:
    session = st.session_state.get(state.SIGNED_IN)
    return session.name if session is not None else None


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
            by = signer()
            if by:
                def record():
                    run_id = led.record_run(report, by=by.name, source="app")
                    st.session_state[state.RUN_ID] = run_id
                    return run_id
                write(record, lambda r: f"Recorded as run {r}, a self-check until it is "
                                        "submitted to the board.")
        return
    status = badge_html(STATUS_LABELS[run["status"]], tone_of(run["status"]))
    version = f" (version {run['version']})" if run["version"] else ""
    st.markdown(f"**Run {run['id']}**{version} {status} — model "
                f"{run['model']}, recorded {run['recorded_at']} (UTC) by "
                f"{run['recorded_by'] or 'not recorded'}; report id `{run['report_id'][:16]}`.",
                unsafe_allow_html=True)
    if run["status"] == "draft":
        st.info("This run is a self-check: the board comments, votes and decides once it is "
                "submitted. Submitting freezes the report and makes it the model's next "
                "version.")
        if st.button("Submit to the board", type="primary", key="submit_run"):
            by = signer()
            if by:
                def submitted(r):
                    parent = f", parent run {r['parent_run']}" if r["parent_run"] else ""
                    return (f"Run {r['run']} submitted as {r['model']} v{r['version']}{parent}; "
                            "it is frozen.")
                write(lambda: led.submit(run["id"], by=by), submitted)


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


def comments(items: list[dict]) -> None:
    for c in items:
        st.markdown(f"**{c['by']}** ({c['at']} UTC): {c['text']}")


def comment_form(led, run: dict, finding: str | None) -> None:
    """One comment on a finding (or on the run when ``finding`` is None), by the signed-in
    member; the engine refuses an empty one in its own words."""
    tag, who = finding or "run", _member()
    k = drafts.keys("comment", tag, who, "text")
    drafts.seed(k["text"], "")
    with st.form(f"comment_form_{tag}", clear_on_submit=False, border=False):
        text = st.text_area("Comment" if finding else "Comment on the audit as a whole",
                            key=k["text"])
        go = st.form_submit_button("Add the comment", key=f"comment_btn_{tag}")
    if go:
        drafts.keep({k["text"]: text})
        by = signer()
        if by:
            write(lambda: led.comment(run["id"], text, by=by, finding=finding),
                  f"Comment recorded on run {run['id']}.",
                  draft=("comment", tag, who, k.values()))


def _due(value: str | None) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def disposition_form(led, run: dict, finding: str, current: dict | None) -> None:
    """The finding's disposition for the risk register (the latest one recorded counts); a new
    form starts from the one recorded."""
    cur, who = current or {}, _member()
    k = drafts.keys("dispose", finding, who, "how", "owner", "due", "residual", "note")
    drafts.seed(k["how"], cur.get("disposition") if cur.get("disposition") in DISPOSITIONS
                else DISPOSITIONS[0])
    drafts.seed(k["owner"], cur.get("owner") or "")
    drafts.seed(k["due"], _due(cur.get("due")))
    drafts.seed(k["residual"], cur.get("residual") if cur.get("residual") in RESIDUAL else None)
    drafts.seed(k["note"], cur.get("note") or "")
    with st.form(f"dispose_form_{finding}", clear_on_submit=False, border=False):
        how = st.selectbox("Disposition", DISPOSITIONS, format_func=rs.DISPOSITION_LABELS.get,
                           key=k["how"])
        a, b, c = st.columns(3)
        owner = a.text_input("Owner", key=k["owner"])
        due = b.date_input("Due date", value=None, key=k["due"])
        residual = c.selectbox("Residual risk", RESIDUAL, index=None,
                               format_func=rs.RESIDUAL_LABELS.get, placeholder="not stated",
                               key=k["residual"])
        note = st.text_area("Note", key=k["note"])
        go = st.form_submit_button("Record the disposition", key=f"dispose_btn_{finding}")
    if go:
        drafts.keep({k["how"]: how, k["owner"]: owner, k["due"]: due,
                     k["residual"]: residual, k["note"]: note})
        by = signer()
        if by:
            write(lambda: led.dispose(run["id"], finding, how, by=by,
                                      owner=owner.strip() or None, due=rs.iso_date(due),
                                      residual=residual, note=note.strip() or None),
                  f"{finding}: {how} recorded on run {run['id']}.",
                  draft=("dispose", finding, who, k.values()))


def finding_panel(led, run: dict | None, finding, notes: dict) -> None:
    """A finding's statement, what the board wrote about it, and its two forms (once the run
    is submitted and a member is signed in)."""
    sev = finding.severity
    mine = notes.get(finding.id) or {"comments": [], "disposition": None}
    with st.expander(f"{ICON[sev.value]} {sev.label}: {finding.title}",
                     expanded=sev.value in ("fail", "attention") and not mine["disposition"]):
        st.caption(f"Finding id `{finding.id}` · area {finding.area or 'n/a'}")
        st.markdown(finding.statement)
        if finding.action:
            st.markdown(f"**Recommended action:** {finding.action}")
        if mine["disposition"]:
            st.markdown("Disposition: " + _fmt_disposition(mine["disposition"]))
        elif sev.value in ("fail", "attention"):
            st.markdown(badge_html("No disposition yet", "attention"), unsafe_allow_html=True)
        comments(mine["comments"])
        if run is None or run["status"] == "draft":
            st.caption("Record and submit the audit to comment on this finding.")
            return
        if _member() is None:
            st.caption("Sign in at the top of the page to comment or record a disposition.")
            return
        left, right = st.columns(2)
        with left:
            comment_form(led, run, finding.id)
        with right:
            disposition_form(led, run, finding.id, mine["disposition"])
