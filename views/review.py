"""Review page: the board records its comments and a disposition per finding, votes, conditions and
its decision in the ledger, and reads the history of the model's versions with what changed.

The page only calls the ledger (``reports.ledger``, the same operations as the ``review-board``
board commands, with the same rules and messages) and ``reports.review_session``; the forms are
in ``views.review_forms``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reports import review_session as rs
from reports.diff import diff_reports, format_diff
from views import review_forms as forms
from views import state

st.title("Review")
st.caption("The board's record of this audit: comments and dispositions per finding, signed "
           "votes and the decision, kept in the ledger, where every entry is chained by hash so "
           "that it cannot be edited quietly.")
report = state.require_report()  # with the Load page's inventory stored in it
forms.show_notice()

try:
    led = forms.ledger()
    run = rs.find_run(led, report, prefer=st.session_state.get(state.RUN_ID))
except rs.LEDGER_ERRORS as e:
    st.error(str(e))
    st.stop()
forms.identity(led)
if run is not None:
    st.session_state[state.RUN_ID] = run["id"]
else:
    st.session_state.pop(state.RUN_ID, None)

st.subheader("In the ledger")
forms.ledger_status(led, report, run)
board = led.board_record(run["id"], with_diff=False) if run else None
recommended = report.summary.get("recommended_decision", "")

tab_findings, tab_decision, tab_history = st.tabs(
    ["Findings", "Votes and decision", "History of versions"])

with tab_findings:
    st.caption("Worst first. For each finding, the board records comments and a disposition "
               "(how the risk is treated: mitigate, accept, transfer or avoid) for the risk "
               "register; the latest disposition counts.")
    notes = rs.notes_by_finding(board)
    for f in sorted(report.findings, key=lambda f: (-f.severity.rank, f.id)):
        forms.finding_panel(led, run, f, notes)

with tab_decision:
    if run is None or run["status"] == "draft":
        st.info("Votes and the decision are recorded once the audit is submitted to the board.")
    else:
        rec_label = rs.DECISION_LABELS[rs.option_of(recommended)]
        st.markdown(f"**The audit recommends:** {rec_label}.")
        st.caption("Any failing finding: reject; any finding that needs attention: approve with "
                   "conditions; otherwise approve (THRESHOLDS.md). The board may decide "
                   "otherwise: any decision but the recommended one or *Changes requested* "
                   "overrules it and needs the reason in the note.")
        st.subheader("Votes")
        forms.votes_table(board)
        forms.vote_form(led, run, board)
        st.subheader("Comments on the audit as a whole")
        general = rs.notes_by_finding(board).get(None, {"comments": []})["comments"]
        for c in general:
            st.markdown(f"**{c['by']}** ({c['at']} UTC): {c['text']}")
        forms.comment_form(led, run, None, len(general))
        st.subheader("The board's decision")
        if board["decision"]:
            forms.recorded_decision(board, recommended)
        forms.decision_form(led, run, board)
        st.subheader("Signatures")
        forms.signatures_table(board)

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
                    before = rs.DECISION_LABELS[rs.option_of(diff["old_recommended"])]
                    after = rs.DECISION_LABELS[rs.option_of(diff["new_recommended"])]
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
