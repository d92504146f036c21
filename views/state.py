"""Session-state keys and the cached calls into the engine, in one place.

The contract between the pages (each page reads and writes only these keys):

- ``SOURCE``: what is audited, a JSON-safe dict (``reports.source``); default: the churn
  sample. Set by the Load page.
- ``PROFILE``: ``"default"`` (THRESHOLDS.md) or ``"light"`` (``AuditConfig.light()``).
- ``INVENTORY``: the feature inventory filled in on the Load page, a dict in the form of
  ``reports.context_files.normalise_inventory`` (stored with the submission), or absent.
- ``REPORT``: the current report as its JSON text, with ``AUDIT_KEY`` its cache key. Set by the
  Run page (or seeded by a test); every result page reads it and computes nothing.
- ``RUN_ID``: the ledger run id once the report is recorded (Review page), ``SIGNED_IN`` the
  signed-in member's session (``reports.ledger.Session``: name, roles, the key that signs) and
  ``REVIEWER`` their name.

The engine is reached only through the functions below, each cached so that moving between pages
never recomputes: the report is parsed once per JSON text, the subject loaded once per source.
"""

from __future__ import annotations

import json

import streamlit as st

from audits.core.config import AuditConfig
from reports.report import AuditReport

SOURCE = "source"
PROFILE = "profile"
INVENTORY = "inventory"
REPORT = "report_json"
AUDIT_KEY = "audit_key"
RUN_ID = "run_id"
REVIEWER = "reviewer"
REVIEWER_ROLE = "reviewer_role"  # the reviewer's role on the board (Review page), or absent
SIGNED_IN = "signed_in"  # the signed-in member's reports.ledger.Session (Review page), or absent
REVIEW_NOTICE = "review_notice"  # the Review page's last confirmation, shown once after a rerun
UPLOADS = "uploads"        # Load page: saved upload paths by role (model/train/holdout)
LOAD_FORM = "load_form"    # Load page: its widgets' last values, restored after a page switch

#: The audit profiles (PROFILE values) and how the pages name them.
PROFILE_LABELS = {"default": "Full audit (default thresholds)",
                  "light": "Quick look (light profile: fewer bootstrap replicates, 4 reference "
                           "models)"}
#: Plain-language names of the probes (reports.registry.PROBES), for progress and notes.
PROBE_LABELS = {"data_exposure": "Personal data in the training data",
                "performance": "How well the model predicts",
                "fairness": "Fairness across customer groups",
                "explainability": "What drives the scores",
                "membership": "Membership inference",
                "memorisation": "Memorisation of individual customers",
                "attribute_inference": "Guessing sensitive fields from the model"}

DEFAULT_SAMPLE = "churn"

#: Page files, for st.page_link and AppTest.switch_page.
PAGES = {"load": "views/load.py", "run": "views/run.py", "findings": "views/findings.py",
         "fairness": "views/fairness.py", "explainability": "views/explainability.py",
         "privacy": "views/privacy.py", "review": "views/review.py", "export": "views/export.py"}


def source() -> dict:
    """The source under review (the default sample when nothing was chosen)."""
    from reports.source import sample_source

    if SOURCE not in st.session_state:
        st.session_state[SOURCE] = sample_source(DEFAULT_SAMPLE)
    return st.session_state[SOURCE]


def config() -> AuditConfig:
    return AuditConfig.light() if st.session_state.get(PROFILE) == "light" else AuditConfig()


@st.cache_resource(show_spinner=False, max_entries=8)
def parse_report(text: str) -> AuditReport:
    """The report of a JSON text, parsed once (reports are frozen: sharing is safe)."""
    return AuditReport.from_json(text)


@st.cache_resource(show_spinner=False, max_entries=8)
def _with_inventory(text: str, inventory_json: str) -> AuditReport:
    from reports.review_session import submission_report

    rep = parse_report(text)
    return submission_report(rep, json.loads(inventory_json)) if inventory_json else rep


def report() -> AuditReport | None:
    """The current report with the inventory of the Load page attached (its findings included),
    so every page shows, exports and records the same report (the same report id)."""
    text = st.session_state.get(REPORT)
    if not text:
        return None
    inventory = st.session_state.get(INVENTORY)
    return _with_inventory(text, json.dumps(inventory, sort_keys=True) if inventory else "")


def require_report() -> AuditReport:
    """The current report, or a pointer to the Run page and a stop."""
    rep = report()
    if rep is None:
        st.info("No audit yet. Choose a model on the Load page, then run the audit.")
        st.page_link(PAGES["run"], label="Go to Run the audit")
        st.stop()
    return rep


@st.cache_resource(show_spinner=False, max_entries=4)
def _subject(source_json: str):
    from reports.source import subject_from_source

    return subject_from_source(json.loads(source_json))


def subject():
    """The loaded subject of the current source (for on-demand drill-downs), loaded once."""
    return _subject(json.dumps(source(), sort_keys=True))
