"""The Privacy page's "Consent and data rights" section: the data-rights and erasure findings in
plain words, worst first, and the two probes' tables (counts under the suppression bound arrive
empty from the probes and are shown as "fewer than N"). Reads the report alone."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audits.core.numbers import fmt
from reports.render.rights_section import RIGHTS_TITLE, is_rights_finding
from views.texts import badge, esc, md, show_html, show_table

__all__ = ["show_rights"]


def _frame(table, suppress: int) -> pd.DataFrame:
    columns = list(table.columns)
    cells = [[("—" if c.endswith(("_low", "_high")) else f"fewer than {suppress}") if v is None
              else fmt(v) for c, v in zip(columns, r)] for r in table.rows]
    return pd.DataFrame(cells, columns=[c.replace("_low", ", interval low").replace(
        "_high", ", interval high") for c in columns])


def show_rights(report) -> None:
    """Draw the section (a note when nothing was declared)."""
    st.header(RIGHTS_TITLE)
    findings = [f for f in report.findings if is_rights_finding(f.id)]
    declared = report.subject.get("rights")
    if not declared or not findings:
        st.info("No consent, collection-date, source or opt-out column and no erasure requests "
                "were declared, so the customers' rights were not checked (which is not a "
                "pass). Declare them on the Load page.")
        return
    for f in findings:
        show_html(f"<p>{badge(f.severity.value)} <b>{esc(f.title)}</b><br>{esc(f.statement)}"
                  f"<br><i>Action:</i> {esc(f.action)}</p>")
    suppress = int(report.config.get("suppress_below", 10))
    for name in ("data_rights", "erasure"):
        probe = report.probes.get(name)
        for t in (probe.tables if probe is not None else ()):
            st.caption(md(t.title))
            show_table(_frame(t, suppress))
            if t.note:
                st.caption(md(t.note))
