"""Run page: audit the chosen model with one progress bar per probe, or load it from the cache.

The report is cached on disk under the source's key (``reports.source.AuditSource.key``: the files'
SHA-256 hashes, every option and the configuration): a source and profile audited before is read
back, never recomputed, and
coming back to this page with the report in session state shows its summary at once. Probes run
one after the other in this script's thread, so the progress callback updates the bars directly.
"""

from __future__ import annotations

import json
import math

import streamlit as st

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from reports.registry import PROBES
from reports.report import DECISIONS, current_summary
from reports.source import AuditSource, audit_source, cached_report
from views import state
from views.overview_chart import results_by_area
from views.plot_style import show
from views.texts import decision_box, esc, md, show_html

_SEVERITY_WORDS = {"fail": "fail", "attention": "need attention", "inconclusive": "inconclusive",
                   "not_assessed": "not assessed", "pass": "pass"}


def _fraction(value, previous: float) -> float:
    """A progress fraction clamped to [0, 1]; the previous one when it is not a number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return previous
    return previous if math.isnan(value) else min(1.0, max(0.0, value))


def _stage(text) -> str:
    """The stage as one short line of plain text."""
    words = " ".join(str(text if text is not None else "").split())
    return (words[:77] + "...") if len(words) > 80 else (words or "working")


class _Bars:
    """One st.progress per probe, in registry order, fed by run_audit's progress callback."""

    def __init__(self) -> None:
        self.box = st.container()
        self.bars, self.done = {}, {}
        for name in PROBES:
            self._bar(name).progress(0.0, text=f"{self._label(name)}: waiting")

    @staticmethod
    def _label(name: str) -> str:
        return state.PROBE_LABELS.get(name, str(name).replace("_", " ").capitalize())

    def _bar(self, name: str):
        if name not in self.bars:
            self.bars[name], self.done[name] = self.box.empty(), 0.0
        return self.bars[name]

    def __call__(self, probe: str, stage, fraction) -> None:
        value = _fraction(fraction, self.done.get(probe, 0.0))
        self.done[probe] = value
        self._bar(probe).progress(value, text=f"{self._label(probe)}: {_stage(stage)}")


@st.cache_data(show_spinner="Checking the files...", max_entries=32)
def _key(source_json: str, config_json: str, stamps: tuple) -> str:
    """The audit key, hashed again only when a file's size or modification time changes."""
    return AuditSource.from_dict(json.loads(source_json)).key(
        AuditConfig.from_dict(json.loads(config_json)))


def _stamps(source: AuditSource) -> tuple:
    out = []
    for path in source.files().values():
        st_ = path.stat() if path.is_file() else None
        out.append((str(path), st_.st_mtime_ns if st_ else None, st_.st_size if st_ else None))
    return tuple(out)


def _summary() -> None:
    report = state.report()  # with the Load page's inventory and its findings
    summary = current_summary(report)
    decision = summary.get("recommendation") or DECISIONS[summary["recommended_decision"]]
    counts = ", ".join(f"{summary['counts'].get(k, 0)} {w}" for k, w in _SEVERITY_WORDS.items()
                       if summary["counts"].get(k))
    # the decision in its own colour and symbol: a rejection is never a green success box
    show_html(decision_box(summary["recommended_decision"], f"Recommended decision: {decision}",
                           f"<br>Findings: {esc(counts)}."))
    if summary.get("incomplete"):  # no approval can be recommended yet
        st.warning(f"The audit is incomplete ({md('; '.join(summary['incomplete']))}): no "
                   "approval is recommended until every requested probe runs, or the board "
                   "records why it accepts the absence.")
    if summary["counts"].get("inconclusive"):
        st.info(f"{summary['counts']['inconclusive']} inconclusive: these rows cannot tell "
                "whether those checks are met; the Findings page lists what would settle them. "
                "They do not move the recommendation.")
    if report.findings:
        show(results_by_area(report.findings), key="run_overview_chart")
    for name in summary.get("probes_not_run", []):
        probe = report.probes.get(name)
        reason = "; ".join(probe.notes) if probe is not None and probe.notes else "no reason given"
        st.warning(f"{state.PROBE_LABELS.get(name, name)} could not run, so its checks are "
                   f"recorded as not assessed (this is not a pass): {reason}")
    st.page_link(state.PAGES["findings"], label="See the findings")


st.title("Run the audit")
source = state.source()
profile = st.session_state.get(state.PROFILE, "default")
st.markdown(f"**What is audited:** {source.describe()}.  \n"
            f"**Profile:** {state.PROFILE_LABELS.get(profile, profile)}.")
st.page_link(state.PAGES["load"], label="Change the model or the profile on the Load page")

try:
    key = _key(json.dumps(source.to_dict(), sort_keys=True),
               json.dumps(state.config().to_dict()), _stamps(source))
except InputError as e:
    state.show_error(e)
    st.stop()

if st.session_state.get(state.AUDIT_KEY) == key and st.session_state.get(state.REPORT):
    st.caption("This audit is done; its report is loaded.")
    _summary()
    st.stop()

known = cached_report(key) is not None
if known:
    st.info("This audit was already computed for these exact files and settings: running it "
            "loads the stored report without recomputing.")
else:
    st.caption("The full audit takes a few minutes; the quick look about a minute. The result is "
               "stored, so the same files and settings are never audited twice.")
slot = st.empty()
if slot.button("Run the audit", type="primary"):
    # a second click while the audit runs would restart it: show the button disabled meanwhile
    slot.button("Running the audit...", type="primary", disabled=True, key="run_busy")
    try:
        text = cached_report(key) if known else None
        if text is None:
            st.caption("Progress of each check:")
            key, text = audit_source(source, state.config(), progress=_Bars())
    except InputError as e:
        slot.empty()
        state.show_error(e, "Fix it on the Load page, then run the audit again.")
        st.stop()
    slot.empty()
    st.session_state[state.REPORT] = text
    st.session_state[state.AUDIT_KEY] = key
    st.session_state.pop(state.RUN_ID, None)
    if known:
        st.caption("Already computed: loaded from the stored reports.")
    _summary()
