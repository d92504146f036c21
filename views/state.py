"""Session-state keys and the cached calls into the engine, in one place."""

from __future__ import annotations

import streamlit as st

SAMPLE = "sample"          # name of the sample under review
REPORT = "report_json"     # the current report, as its JSON text

DEFAULT_SAMPLE = "churn"


@st.cache_data(show_spinner=False)
def sample_report(name: str, light: bool = False) -> str:
    """Audit a built-in sample once per (name, profile); returns the report's JSON."""
    from audits.config import AuditConfig
    from audits.loading import load_sample
    from reports.build import run_audit

    config = AuditConfig.light() if light else AuditConfig()
    return run_audit(load_sample(name), config).to_json()
