"""One report, several renderers: render a stored report to JSON, HTML, Markdown or PDF, and
export a ledger run (files written, each file's SHA-256 recorded in the ledger).

Every export prints the ledger's chain head at the time of export (the head before the export's
own event, which records the file's hash and so cannot be inside the file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from audits.core import messages as msg
from audits.core.errors import InputError
from reports.ledger.schema import sha256_text
from reports.report import AuditReport

__all__ = ["FORMATS", "render", "export_run"]

FORMATS = ("json", "html", "md", "pdf", "model-card", "standards")
_EXT = {"json": "json", "html": "html", "md": "md", "pdf": "pdf", "model-card": "model-card.md",
        "standards": "standards.json"}


def render(report: AuditReport, fmt: str, board: dict | None = None) -> bytes:
    """The report in one format, as bytes.

    Parameters
    ----------
    report : the stored report.
    fmt : "json" (the report itself, exactly as stored), "html", "md", "pdf", "model-card" (a
        model card in Markdown, :mod:`reports.model_card`) or "standards" (the standards
        mapping as JSON, :mod:`reports.standards`).
    board : the board's record of the run (``Ledger.board_record``), or None for a self-check.
    """
    if fmt == "json":
        return report.to_json().encode("utf-8")
    if fmt == "html":
        from reports.render.to_html import render_html

        return render_html(report, board).encode("utf-8")
    if fmt == "md":
        from reports.render.to_markdown import render_md

        return render_md(report, board).encode("utf-8")
    if fmt == "pdf":
        from reports.render.to_pdf import render_pdf

        return render_pdf(report, board)
    if fmt == "model-card":
        from reports.model_card import render_model_card

        return render_model_card(report).encode("utf-8")
    if fmt == "standards":
        from reports.standards import standards_json

        return standards_json(report).encode("utf-8")
    raise InputError(msg.FORMAT_UNKNOWN, value=fmt, valid=list(FORMATS))


def check_formats(formats: Sequence[str]) -> list[str]:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(msg.FORMATS_UNKNOWN, bad=bad, valid=list(FORMATS))
    return list(dict.fromkeys(formats))


def export_run(ledger, run: int | str, formats: Sequence[str], out_dir: str | Path, *,
               by: str | None = None, stem: str | None = None) -> list[Path]:
    """Render a ledger run in each format into ``out_dir`` and record each export.

    Parameters
    ----------
    ledger : the open :class:`reports.ledger.Ledger`.
    run : run id (or anything ``Ledger.resolve`` accepts).
    formats : some of :data:`FORMATS`. "json" writes the report JSON exactly as stored, plus
        ``<stem>.board.json``, the board's record with the chain head.
    out_dir : folder for the files (created when missing).
    stem : file name stem (default ``<model>-v<version>-run<id>``, or ``...-selfcheck``).

    Returns
    -------
    list of Path
        The files written.
    """
    formats = check_formats(formats)
    run_id = ledger.resolve(run)
    report = ledger.report(run_id)
    board = ledger.board_record(run_id)
    head = (board["ledger"]["head"]["seq"], board["ledger"]["head"]["hash"])
    stem = stem or board["run"]["file_stem"]
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(msg.OUT_NOT_WRITABLE, path=out, reason=f"{type(e).__name__}: {e}") \
            from e
    written = []
    for fmt in formats:
        files = {}
        data = render(report, fmt, board)
        path = out / f"{stem}.{_EXT[fmt]}"
        path.write_bytes(data)
        files[path.name] = sha256_text(data)
        written.append(path)
        if fmt == "json":
            side = out / f"{stem}.board.json"
            blob = json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False).encode()
            side.write_bytes(blob)
            files[side.name] = sha256_text(blob)
            written.append(side)
        ledger.record_export(run_id, fmt, files, head=head, by=by)
    return written
