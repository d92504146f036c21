"""Export page: download the report as PDF, HTML, Markdown and JSON.

Every file comes from ``reports.export.render(report, fmt, board)``, the engine the command line
uses. ``board`` is the ledger's record of the run (``Ledger.board_record``) when the report is
recorded in the ledger (the run holding this exact report id, ``state.RUN_ID`` preferred, as on
the Review page), else None: a self-check, watermarked as such.

Rendering is cached per (report id, format, board record), so switching pages never re-renders;
the board record includes the ledger's chain head, which every export prints, so an export made
after a ledger event prints the newer head. The PDF (a few seconds) is rendered only when its
button is clicked (Streamlit's deferred download). When the run is in the ledger, each download
is recorded there (``Ledger.record_export``: the file's SHA-256 and the head it printed), as
``review-board export`` records its files.
"""

from __future__ import annotations

import json
import re
from functools import partial

import streamlit as st

from audits.core.errors import InputError
from reports.export import render
from reports.ledger import open_ledger
from reports.ledger.schema import sha256_text
from reports.render.document import (
    DECISION_LABELS,
    WATERMARK_REVIEW,
    WATERMARK_SELF_CHECK,
    watermark,
)
from reports.report import AuditReport
from reports.review_session import LEDGER_ERRORS, find_run
from views import state
from views.texts import decision_box, md, show_html

#: format -> (button label, file extension, MIME type); labels are stable (tests find them).
FORMATS = {"pdf": ("Download PDF", "pdf", "application/pdf"),
           "html": ("Download HTML", "html", "text/html"),
           "md": ("Download Markdown", "md", "text/markdown"),
           "json": ("Download JSON", "json", "application/json")}
# the model card (Mitchell et al. 2019) and the standards map (reports.standards), from the same
# reports.export.render as the formats above
FORMATS |= {"model-card": ("Download model card", "model-card.md", "text/markdown"),
            "standards": ("Download standards map", "standards.json", "application/json")}
DEFERRED = {"pdf"}  # rendered on click only
RENDER_ERRORS = (InputError, OSError, ValueError)


@st.cache_data(show_spinner=False, max_entries=32)
def rendered(report_id: str, fmt: str, board_key: str, _report: AuditReport,
             _board: dict | None) -> bytes:
    """The report in one format, rendered once per (report id, format, board record)."""
    return render(_report, fmt, _board)


def board_key(board: dict | None) -> str:
    return json.dumps(board, sort_keys=True, default=str) if board else ""


def file_name(report: AuditReport, ext: str, board: dict | None = None) -> str:
    """The ledger's name for a run's exports (as ``review-board export`` names them:
    ``<model>-v<version>-run<id>``); outside the ledger, the model and the report id's prefix."""
    stem = ((board or {}).get("run") or {}).get("file_stem")
    if stem:
        return f"{stem}.{ext}"
    model = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(report.subject.get("name", "model"))) or "model"
    return f"{model}-{report.report_id[:12]}.{ext}"


def status_words(board: dict | None) -> str:
    """Whose record the exports are, in words."""
    if not board:
        return (f"**Self-check.** This report is not recorded in the board's ledger, so every "
                f"export carries the watermark \u201c{WATERMARK_SELF_CHECK}\u201d. Record and "
                "submit it on the Review page to make it the board's record.")
    run = board.get("run") or {}
    where = f"run {run.get('id')}" + (f", version {run['version']}" if run.get("version") else "")
    d = board.get("decision")
    if d:
        label = DECISION_LABELS.get(d["decision"], d["decision"])
        by = ", ".join(v for v in (d.get("by"), d.get("role")) if v)
        return (f"**The board's record.** The board decided: **{label}** ({by}, {d.get('at')}) "
                f"on {where}. Exports carry no watermark; they print the decision, the votes "
                "and signatures, and the ledger's chain head.")
    if watermark(board) == WATERMARK_REVIEW:
        return (f"**Under review.** {where.capitalize()} is with the board and has no decision "
                f"yet, so every export carries the watermark \u201c{WATERMARK_REVIEW}\u201d.")
    return (f"**Self-check, recorded in the ledger** ({where}, not submitted), so every export "
            f"carries the watermark \u201c{WATERMARK_SELF_CHECK}\u201d. Submit it on the Review "
            "page to put it before the board.")


def after_download(fmt: str, name: str, run_id, report: AuditReport, board: dict | None,
                   by: str | None) -> None:
    """On a click: check the file rendered, and record the export when the run is in the
    ledger (the same bytes the browser received: the render is cached)."""
    try:
        data = rendered(report.report_id, fmt, board_key(board), report, board)
    except RENDER_ERRORS as e:
        st.error(f"The {fmt.upper()} export could not be rendered: {e}")
        return
    if run_id is None or not board:
        return
    head = board["ledger"]["head"]
    try:
        open_ledger().record_export(run_id, fmt, {name: sha256_text(data)},
                                    head=(head["seq"], head["hash"]), by=by)
    except LEDGER_ERRORS as e:
        st.error(f"The export was downloaded but could not be recorded in the ledger: {e}")
        return
    st.toast(f"Export recorded in the ledger: {name}")


report = state.require_report()
st.title("Export")
st.caption(f"Model: {md(report.subject.get('name', 'model'))} · report "
           f"{report.report_id[:12]}")

run_id, board, ledger = None, None, None
try:
    ledger = open_ledger()
    run = find_run(ledger, report, prefer=st.session_state.get(state.RUN_ID))
    if run is not None:
        run_id = run["id"]
        board = ledger.board_record(run_id)
except LEDGER_ERRORS as e:
    st.error(f"The ledger could not be read, so these exports are self-checks: {e}")
    run_id, board, ledger = None, None, None

with st.container(border=True):
    decided = (board or {}).get("decision")
    if decided:  # the decision in its colour, with its symbol: a rejection is never green
        show_html(decision_box(decided["decision"], "The board decided: " + DECISION_LABELS.get(
            decided["decision"], decided["decision"])))
    st.markdown(status_words(board))

st.subheader("Download")
st.caption("HTML and PDF are rendered from the report JSON alone, with no external resource; "
           "the JSON is the report exactly as stored (its id is the hash of its content). The "
           "PDF takes a few seconds to render after the click.")
by = st.session_state.get(state.REVIEWER)
PER_ROW = 3  # six buttons in one row cut their labels ("Download standa…")
for i, (fmt, (label, ext, mime)) in enumerate(FORMATS.items()):
    if i % PER_ROW == 0:
        cols = st.columns(PER_ROW)
    col = cols[i % PER_ROW]
    name = file_name(report, ext, board)
    key = board_key(board)
    if fmt in DEFERRED:
        data = partial(rendered, report.report_id, fmt, key, report, board)  # on click
    else:
        try:
            data = rendered(report.report_id, fmt, key, report, board)
        except RENDER_ERRORS as e:
            col.error(f"The {fmt.upper()} export could not be rendered: {e}")
            continue
    col.download_button(label, data=data, file_name=name, mime=mime, key=f"export_{fmt}",
                        on_click=after_download,
                        args=(fmt, name, run_id, report, board, by), width="stretch")
    col.caption(name)

if ledger is not None and run_id is not None:
    try:
        exports = ledger.show(run_id)["exports"]
    except LEDGER_ERRORS as e:
        st.error(f"The ledger's export records could not be read: {e}")
        exports = []
    st.subheader("Exports recorded in the ledger")
    if exports:
        st.dataframe([{"When": e["at"], "Format": e["format"], "By": e["by"] or "not given",
                       "Chain head printed": f"#{e['chain_seq']} {e['chain_head'][:12]}…",
                       "Files (SHA-256)": "; ".join(f"{k}: {v[:12]}…"
                                                    for k, v in e["files"].items())}
                      for e in exports],
                     hide_index=True, width="stretch")
    else:
        st.caption("None yet: each download from this page is recorded here.")
