"""The samples of the other tasks audited end to end (issue 14, Done when): the command line
with every report format, each planted effect found and each clean control quiet, as the
manifests expect (light profile: the planted effects are large)."""

from __future__ import annotations

import json

import pytest
from threadpoolctl import threadpool_limits

import review_board
from sample_models import generate as g

#: the light profile with fewer explained rows and LIME runs: the planted effects are large
QUICK = """[params]
n_explain = 500
n_lime_customers = 30
n_lime_seeds = 3
lime_samples = 300
minimise_seeds = 1
n_canaries = 20
"""


@pytest.fixture(scope="module", params=g.PHASE_B_SAMPLES)
def audited(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    (d / "quick.toml").write_text(QUICK)
    out = d / "out"
    with threadpool_limits(1):
        code = review_board.main(["audit", "--sample", request.param, "--light", "--config",
                                  str(d / "quick.toml"), "--format", "json,html,md,pdf",
                                  "--out", str(out), "--fail-on", "never", "--quiet"])
    return request.param, code, out


def test_every_format_is_written(audited):
    name, code, out = audited
    assert code == 0
    for f in ("report.json", "report.html", "report.md", "report.pdf"):
        assert (out / f).is_file() and (out / f).stat().st_size > 1000, f
    report = json.loads((out / "report.json").read_text())
    assert report["subject"]["task"] == g.load_manifest(name)["task"]
    md = (out / "report.md").read_text()
    assert name.replace("_", "\\_") in md  # Markdown escapes the underscore


def test_planted_effects_found_and_controls_quiet(audited):
    name, _, out = audited
    report = json.loads((out / "report.json").read_text())
    found = {f["id"]: f["severity"] for f in report["findings"]}
    for expected in g.load_manifest(name)["expected_findings"]:
        fid, want = expected["finding_id"], expected["severity"]
        assert fid in found, (name, fid)
        if want == "not fail":
            assert found[fid] != "fail", (name, fid, found[fid])
        else:
            assert found[fid] == want, (name, fid, found[fid], expected["why"])


def test_every_probe_ran(audited):
    name, _, out = audited
    report = json.loads((out / "report.json").read_text())
    for probe, result in report["probes"].items():
        assert not any("does not support" in n for n in result.get("notes", [])), (name, probe)


@pytest.mark.parametrize("page, title", [("load", "Load a model and its data"),
                                         ("findings", "Findings"), ("fairness", "Fairness"),
                                         ("explainability", "Explainability"),
                                         ("privacy", "Privacy"), ("export", "Export")])
def test_the_app_shows_every_page(audited, page, title, tmp_path, monkeypatch):
    """The app's pages, seeded with the sample's report, run without an exception."""
    from reports.report import AuditReport
    from tests.app.pages import open_page

    name, _, out = audited
    monkeypatch.setenv("REVIEW_BOARD_HOME", str(tmp_path / "home"))
    report = AuditReport.from_json((out / "report.json").read_text(encoding="utf-8"))
    at = open_page(report, name, page, title)
    assert not at.exception
    assert not [e.value for e in at.error], (page, [e.value for e in at.error])
