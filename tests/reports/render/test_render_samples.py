"""Each sample's audit renders to PDF, HTML, Markdown and JSON with every section, and no
personal value of the sample's data appears in any of them."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from reports.render.document import SECTIONS

SAMPLES = ("churn", "lead_scoring", "purchase_propensity")


@pytest.fixture(scope="module")
def rendered(sample_report, tmp_path_factory):
    """``rendered(name)``: the sample's report in every format (PDF as its extracted text)."""
    import pypdfium2 as pdfium

    from reports.export import render

    cache = {}

    def get(name: str) -> dict:
        if name not in cache:
            report = sample_report(name, light=True)
            pdf = render(report, "pdf")
            doc = pdfium.PdfDocument(pdf)
            text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
            out = tmp_path_factory.mktemp(f"pdf-{name}")
            (out / "report.pdf").write_bytes(pdf)
            cache[name] = {"pdf": pdf, "pdf_text": text, "pages": len(doc),
                           "html": render(report, "html").decode(),
                           "md": render(report, "md").decode(),
                           "json": render(report, "json").decode(), "report": report}
        return cache[name]
    return get


@pytest.mark.parametrize("name", SAMPLES)
def test_pdf_has_every_section(rendered, name):
    r = rendered(name)
    assert r["pdf"].startswith(b"%PDF")
    text = re.sub(r"\s+", " ", r["pdf_text"])
    for _, heading in SECTIONS:
        assert heading in text, f"{heading!r} missing from the PDF of {name}"
    assert "SELF-CHECK: NOT A BOARD DECISION" in text
    assert r["report"].report_id in text
    assert "No threshold is a legal verdict" in text and "four-fifths rule" in text
    assert "NIST" in text
    for area in ("Data", "Performance", "Explainability", "Fairness", "Privacy"):
        assert area in text


@pytest.mark.parametrize("name", SAMPLES)
def test_html_and_markdown_have_every_section(rendered, name):
    r = rendered(name)
    for _, heading in SECTIONS:
        assert heading in r["html"]
        assert f"## {heading}" in r["md"]


def test_pdf_charts_are_vector_graphics(rendered):
    """Charts are inline SVG, drawn as vector paths: the PDF embeds no raster image."""
    r = rendered("churn")
    assert "<svg" in r["html"]
    assert b"/Subtype /Image" not in r["pdf"] and b"/Subtype/Image" not in r["pdf"]


def test_html_is_self_contained(rendered):
    html = rendered("churn")["html"]
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "@font-face" not in html and "url(http" not in html


def test_every_area_is_judged_or_says_not_assessed(rendered):
    r = rendered("churn")
    scorecard = r["report"].summary["scorecard"]
    for area, sev in scorecard.items():
        if sev == "not_assessed" and not any(p.area == area
                                             for p in r["report"].probes.values()):
            assert f"Not assessed: no {area} probe ran" in r["html"]


# -- personal data ----------------------------------------------------------------------------
_TOKEN = re.compile(r"[\w@.+'&/-]+")


def _ngrams(text: str, n_max: int = 6) -> set[str]:
    tokens = [t.strip(".,;:'") for t in _TOKEN.findall(text)]
    tokens = [t for t in tokens if t]
    grams = set()
    for n in range(1, n_max + 1):
        for i in range(len(tokens) - n + 1):
            grams.add(" ".join(tokens[i:i + n]))
    return grams


def personal_values(name: str) -> set[str]:
    """Every value of every personal column of the sample's member and non-member files."""
    from sample_models.generate import load_manifest, sample_dir

    cols = load_manifest(name)["personal_columns"]
    values = set()
    for part in ("members.csv", "nonmembers.csv"):
        frame = pd.read_csv(sample_dir(name) / part, usecols=cols, dtype=str)
        for c in cols:
            values.update(" ".join(v.split()) for v in frame[c].dropna())
    return values


@pytest.mark.parametrize("name", SAMPLES)
def test_no_personal_value_in_any_rendering(rendered, name):
    values = personal_values(name)
    assert len(values) > 1000  # the scan has something to find
    r = rendered(name)
    for fmt in ("html", "md", "json", "pdf_text"):
        text = r[fmt]
        if fmt == "html":
            text = re.sub(r"<[^>]+>", " ", text)
        leaked = _ngrams(text) & values
        assert not leaked, f"personal values in the {fmt} of {name}: {sorted(leaked)[:5]}"


def test_the_personal_value_scan_can_fail(rendered):
    """Null check: the scan finds a planted value (so a pass above means something)."""
    values = personal_values("churn")
    planted = sorted(values)[7]
    text = rendered("churn")["md"] + f"\nContact: {planted}."
    assert _ngrams(text) & values == {planted}


def test_json_rendering_is_the_stored_report(rendered):
    r = rendered("churn")
    assert json.loads(r["json"])["report_id"] == r["report"].report_id


# -- what the audit could not establish -------------------------------------------------------

def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.replace("\\", "")))


def test_inconclusive_checks_and_the_recommendation_beside_them_in_every_format(rendered):
    """The control's intersections are too small to settle every pair: inconclusive checks are
    listed with what would settle them, and the recommendation carries their count."""
    r = rendered("lead_scoring")
    report = r["report"]
    words = report.summary["recommendation"]
    n = report.summary["counts"]["inconclusive"]
    assert n > 0 and words.startswith("Approve; ") and f"{n} checks inconclusive" in words
    inconclusive = [f for f in report.findings if f.severity.value == "inconclusive"]
    assert {f.id for f in inconclusive} <= set(report.summary["could_not_establish"])
    for fmt in ("html", "md", "pdf_text"):
        text = _plain(r[fmt])
        assert words in text, fmt
        assert f"Inconclusive ({n})" in text, fmt
        assert "These rows cannot establish" in text and "would settle it" in text, fmt
    assert json.loads(r["json"])["summary"]["recommendation"] == words


def test_an_incomplete_audit_says_why_in_every_format(sample_subject, monkeypatch):
    from audits.core.config import AuditConfig
    from reports import build
    from reports.export import render

    def broken(subject, config, *, progress=None, cache=None):
        raise RuntimeError("no pool")
    monkeypatch.setitem(build.PROBES, "performance", (broken, "performance"))
    report = build.run_audit(sample_subject("lead_scoring"), AuditConfig.light(),
                             probes=["performance"])
    # not assessed: the probe that could not run, and the feature inventory nobody gave
    words = ("Incomplete: no approval recommended yet (the performance probe could not run); "
             "2 not assessed")
    assert report.summary["recommendation"] == words
    assert json.loads(render(report, "json"))["summary"]["incomplete"] == [
        "the performance probe could not run"]
    for fmt in ("html", "md"):
        text = _plain(render(report, fmt).decode())
        assert words in text and "Why the audit is incomplete" in text, fmt


def _finding_numbers(report) -> dict[str, tuple[str, str]]:
    """Each judged finding's value and interval, as the report's one formatting prints them."""
    from audits.core.numbers import fmt, fmt_ci

    return {f.id: (fmt(f.metric.value), fmt_ci(f.metric.ci)) for f in report.findings
            if f.metric is not None and f.metric.value is not None and f.metric.ci}


def _number_mismatches(r: dict) -> list[str]:
    """Findings whose value or judged interval differs between the JSON, the HTML, the Markdown
    and the PDF's text (each finding's block, wherever it is printed)."""
    import html as html_lib

    from audits.core.numbers import fmt, fmt_ci
    from reports.render.to_markdown import md_escape

    bad = []
    stored = {f["id"]: f for f in json.loads(r["json"])["findings"]}
    html_text = html_lib.unescape(r["html"])
    pdf = re.sub(r"\s+", "", r["pdf_text"])
    for fid, (value, ci) in _finding_numbers(r["report"]).items():
        m = stored[fid]["metric"]
        if (fmt(m["value"]), fmt_ci(m["ci"])) != (value, ci):
            bad.append(f"JSON {fid}")
        blocks = re.findall(rf'id="f-{re.escape(fid)}">(.*?)</div>\s*(?=<div class="finding|<|$)',
                            html_text, re.S)
        if not blocks or any(f"{value} " not in b or f"(interval {ci})" not in b
                             for b in blocks):
            bad.append(f"HTML {fid}")
        md_blocks = [b for b in r["md"].split("\n#### ")[1:]
                     if f"*Finding id* `{fid}`" in b]
        if not md_blocks or any(f":** {value} (interval {md_escape(ci)})" not in b
                                for b in md_blocks):
            bad.append(f"Markdown {fid}")
        key = "Findingid" + fid.replace(" ", "")
        ends = [k.start() for k in re.finditer(re.escape(key) + r"\.", pdf)]
        if not ends:
            bad.append(f"PDF {fid} (not found)")
        for end in ends:
            start = pdf.rfind("Findingid", 0, end)
            window = pdf[start:end]
            if value.replace(" ", "") not in window or \
                    f"(interval{ci.replace(' ', '')})" not in window:
                bad.append(f"PDF {fid}")
    return bad


@pytest.mark.parametrize("name", SAMPLES)
def test_every_finding_prints_the_same_numbers_in_every_format(rendered, name):
    """One source of numbers: the value and the judged interval beside each finding's severity
    are the same in the JSON, the HTML, the Markdown and the PDF, and the board summary's
    reasons quote the same interval (tests/reports/test_summary.py checks their rounding)."""
    assert _number_mismatches(rendered(name)) == []


@pytest.mark.xfail(strict=True, reason="broken on purpose: the PDF prints another interval")
def test_the_number_comparison_can_fail(rendered):
    r = dict(rendered("churn"))
    fid, (value, ci) = next(iter(_finding_numbers(r["report"]).items()))
    r["pdf_text"] = r["pdf_text"].replace(ci, "[0.000, 9.999]")
    assert _number_mismatches(r) == []


def test_the_sign_off_page_has_lines_for_handwritten_signatures(rendered):
    """A self-check printed for a meeting has no recorded signature yet: the sign-off page still
    gives the chair and the reviewers a line to sign on by hand, with the date."""
    text = re.sub(r"\s+", " ", rendered("churn")["pdf_text"])
    start = text.index("Decision and sign-off", text.index("Every finding that fails"))
    sign_off = text[start:text.index("Appendix", start)]
    assert "Where the board signs by hand" in sign_off
    assert sign_off.count("Signature Date") >= 3 and "Chair: name and role" in sign_off


def test_every_format_says_how_the_rows_were_read(rendered):
    """The scope sentence from ``subject.summary()["data_path"]`` (issue 15): in-memory for the
    sample in every format (the PDF too), and the partitioned path's counts, files and sample
    when the report says it ran so."""
    from reports.render.to_html import render_html
    from reports.render.to_markdown import render_md
    from reports.report import AuditReport

    r = rendered("churn")
    assert r["report"].subject["data_path"]["path"] == "in-memory"
    for fmt in ("html", "md", "pdf_text"):
        assert "Read whole, in memory; every part of the audit used every row." in \
            _plain(r[fmt]), fmt
    d = json.loads(r["json"])
    d["subject"]["data_path"] = {"path": "partitioned",
                                 "rows": {"members": 5_000_000, "nonmembers": 5_000_000},
                                 "sampled_rows": {"members": 400_222, "nonmembers": 400_483},
                                 "partitions": {"members": 10, "nonmembers": 12}}
    other = AuditReport.from_dict(d)
    want = ("Read partition by partition (10 training and 12 holdout files). Counts over all "
            "5,000,000 training and 5,000,000 holdout rows: performance, fairness, "
            "re-identification and the proxy screen; the other parts read a keyed-hash sample "
            "of 400,222 training and 400,483 holdout rows.")
    assert want in _plain(render_html(other))
    assert want in _plain(render_md(other))
