"""Session-state keys and the cached calls into the engine, in one place.

The contract between the pages (each page reads and writes only these keys):

- ``SOURCE``: what is audited, the JSON-safe dict of a ``reports.source.AuditSource``
  (``AuditSource.to_dict()``); default: the churn sample. Set by the Load page; read with
  :func:`source`, which returns the ``AuditSource``.
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
Engine errors are shown with :func:`show_error`, which names each field by its form label on the
Load page (:data:`FIELD_LABELS`).
"""

from __future__ import annotations

import json

import streamlit as st

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from reports.report import AuditReport
from reports.source import AuditSource

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
                "attribute_inference": "Guessing sensitive fields from the model",
                "data_rights": "Consent and data rights",
                "erasure": "Erased customers exposed through the model"}

DEFAULT_SAMPLE = "churn"

#: How the app names the fields an engine message points at: the Load page's form labels.
FIELD_LABELS = {
    "sample": "the sample (Sample model, on the Load page)",
    "model": "the model file (Model file, on the Load page)",
    "train": "the training rows (the Members or Data upload, on the Load page)",
    "holdout": "the holdout rows (the Non-members upload, on the Load page)",
    "split_column": "the split column (the column that marks training and holdout rows, on the "
                    "Load page)",
    "target": "the target column (Target, on the Load page)",
    "positive_label": "the positive label (Positive label, on the Load page)",
    "sensitive": "the sensitive fields (Sensitive fields, on the Load page)",
    "personal": "the personal columns (Personal columns, on the Load page)",
    "quasi_identifiers": "the quasi-identifiers (Quasi-identifiers, on the Load page)",
    "trusted": "the trusted model types (the Trust boxes, on the Load page)",
    "trust_pickle": "the explicit trust in a pickle file (I trust this file and its author, on "
                    "the Load page)",
    "config": "the audit profile (Audit profile, on the Load page)",
    "inventory": "the feature inventory (the table on the Load page)",
    "source": "the model and data on the Load page",
    "consent": "the consent columns (Consent columns, on the Load page)",
    "purpose": "the model's purposes (The model's purposes, on the Load page)",
    "collected_at": "the collection-date column (Collection date column, on the Load page)",
    "data_source": "the data-source column (Data source column, on the Load page)",
    "opt_out": "the opt-out column (Opt-out of automated decisions column, on the Load page)",
    "erased": "the erased-customers file (Erased customers, on the Load page)",
    "trained_at": "the model's training date (When the model was trained, on the Load page)",
    "rights": "the data-rights declaration (Consent and data rights, on the Load page)",
}

#: Page files, for st.page_link and AppTest.switch_page.
PAGES = {"load": "views/load.py", "run": "views/run.py", "findings": "views/findings.py",
         "fairness": "views/fairness.py", "explainability": "views/explainability.py",
         "privacy": "views/privacy.py", "review": "views/review.py", "export": "views/export.py"}


def show_error(error: InputError, suffix: str = "") -> None:
    """An engine error as the app shows it: ``st.error`` with the fields named by their form
    labels (never a traceback)."""
    st.error(error.render(FIELD_LABELS) + (f" {suffix}" if suffix else ""))


def source() -> AuditSource:
    """The source under review (the default sample when nothing was chosen)."""
    if SOURCE not in st.session_state:
        st.session_state[SOURCE] = AuditSource(sample=DEFAULT_SAMPLE).to_dict()
    return AuditSource.from_dict(st.session_state[SOURCE])


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
    return AuditSource.from_dict(json.loads(source_json)).load()


def subject():
    """The loaded subject of the current source (for on-demand drill-downs), loaded once."""
    return _subject(json.dumps(source().to_dict(), sort_keys=True))
