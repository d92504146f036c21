"""Review page: the board signs in, records its comments and a disposition per finding, votes, the
conditions and its decision in the ledger, sees where it stands (the roster, the tally, who has
voted, what a decision still needs), and reads the history of the model's versions.

The page only calls the ledger (``reports.ledger``, the same operations as the ``review-board``
board commands, with the same rules and messages) and ``reports.review_session``. Signing in:
``views.review_signin``; the audit's and the findings' forms: ``views.review_forms``; the board's
sections: ``views.review_votes``. While the page is open it looks at the ledger's head every few
seconds (``views.review_forms.follow``) and, when another member wrote, reruns so that their
comments, votes and the tally show; the forms keep what is being typed (``views.review_drafts``).
The follower is called last, after every form has read its click (see ``follow``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reports import review_session as rs
from reports.diff import diff_reports, format_diff
from reports.render.document import DECISION_LABELS
from views import review_forms as forms
from views import review_signin as signin
from views import review_votes as votes
from views import state
from views.review_style import tone_of, verdict_box

st.title("Review")
st.caption("The board's record of this audit: comments and dispositions per finding, signed "
           "votes and the decision, kept in the ledger, where every entry is chained by hash so "
           "that it cannot be edited quietly.")
forms.show_notice()

try:
    led = forms.ledger()
    seen = led.head()[0]
except rs.LEDGER_ERRORS as e:
    st.error(str(e))
    st.stop()
with st.container(border=True):
    signin.identity(led)
report = state.require_report()  # with the Load page's inventory stored in it

try:
    run = rs.find_run(led, report, prefer=st.session_state.get(state.RUN_ID))
except rs.LEDGER_ERRORS as e:
    st.error(str(e))
    st.stop()
if run is not None:
    st.session_state[state.RUN_ID] = run["id"]
else:
    st.session_state.pop(state.RUN_ID, None)

st.subheader("In the ledger")
forms.ledger_status(led, report, run)
board = led.board_record(run["id"], with_diff=False) if run else None
recommended = report.summary.get("recommended_decision", "")

tab_findings, tab_decision, tab_board, tab_history = st.tabs(
    ["Findings", "Votes and decision", "The board", "History of versions"])

with tab_findings:
    st.caption("Worst first. For each finding, the board records comments and a disposition "
               "(how the risk is treated: mitigate, accept, transfer or avoid) for the risk "
               "register; the latest disposition counts. A decision needs one for every finding "
               "that fails or needs attention.")
    notes = rs.notes_by_finding(board)
    for f in sorted(report.findings, key=lambda f: (-f.severity.rank, f.id)):
        forms.finding_panel(led, run, f, notes)

with tab_decision:
    if run is None or run["status"] == "draft":
        st.info("Votes and the decision are recorded once the audit is submitted to the board.")
    else:
        rec_label = DECISION_LABELS.get(recommended, recommended)
        verdict_box("The audit recommends: ", rec_label, ".", tone=tone_of(recommended))
        st.caption("Any failing finding: reject; any finding that needs attention: approve with "
                   "conditions; otherwise approve (THRESHOLDS.md). The board may decide "
                   "otherwise: any decision but the recommended one or *Changes requested* "
                   "overrules it and needs the reason in the note.")
        st.subheader("Where the board stands")
        votes.standing(led, run, board)
        st.subheader("Your vote")
        votes.vote_form(led, run, board)
        st.subheader("Comments on the audit as a whole")
        forms.comments(rs.notes_by_finding(board).get(None, {"comments": []})["comments"])
        if st.session_state.get(state.SIGNED_IN) is not None:
            forms.comment_form(led, run, None)
        st.subheader("The board's decision")
        if board["decision"]:
            votes.recorded_decision(board, recommended)
        votes.decision_form(led, run, board)
        st.subheader("Signatures")
        votes.signatures_table(board)

with tab_board:
    st.caption("The board's members as the ledger's roster has them now, with the key that signs "
               "for each.")
    votes.roster(led)

with tab_history:
    model = str(report.subject.get("name", "model"))
    runs = led.runs(model=model)
    if not runs:
        st.info(f"No run of {model} is in the ledger yet.")
    else:
        st.markdown(f"Every run of **{model}** in the ledger, oldest first. A run becomes a "
                    "version when it is submitted; after *Changes requested* the next submitted "
                    "run is the next version.")
        st.dataframe(pd.DataFrame(rs.history_rows(led, model)), hide_index=True,
                     key="history_table")
        if len(runs) < 2:
            st.caption("The comparison of two versions needs a second run of this model.")
        else:
            ids = [r["id"] for r in runs]
            label = {r["id"]: rs.run_label(r) for r in runs}
            later_default = ids.index(run["id"]) if run and run["id"] in ids else len(ids) - 1
            a, b = st.columns(2)
            old = a.selectbox("Earlier run", ids, index=max(later_default - 1, 0),
                              format_func=label.get, key="diff_old")
            new = b.selectbox("Later run", ids, index=max(later_default, 1),
                              format_func=label.get, key="diff_new")
            if old == new:
                st.caption("Choose two different runs to compare.")
            else:
                try:
                    url = led.url
                    diff = diff_reports(forms.stored_report(url, old),
                                        forms.stored_report(url, new))
                except rs.LEDGER_ERRORS as e:
                    st.error(str(e))
                else:
                    before = DECISION_LABELS.get(diff["old_recommended"],
                                                 diff["old_recommended"])
                    after = DECISION_LABELS.get(diff["new_recommended"], diff["new_recommended"])
                    st.markdown(f"Recommended decision: **{before} → {after}**. "
                                f"{len(diff['appeared'])} new, {len(diff['resolved'])} no "
                                f"longer found, {len(diff['changed'])} changed severity, "
                                f"{diff['unchanged']} unchanged.")
                    rows = rs.diff_rows(diff)
                    if rows:
                        st.dataframe(pd.DataFrame(rows), hide_index=True, key="diff_table")
                    else:
                        st.caption("The two runs have the same findings with the same "
                                   "severities.")
                    with st.expander("As the command line prints it (review-board diff)"):
                        st.code(format_diff(diff), language=None)

forms.follow(led, seen)  # last: after every form on the page has read its click
