"""What the app audits (a *source*), the key its report is cached under, and that cache on disk.

A source is a small JSON-safe dict, the app's record of what the user chose on the Load page:

- ``{"kind": "sample", "name": "churn"}``, a built-in sample; or
- ``{"kind": "files", "model": PATH, "train": PATH, "holdout": PATH | None, "split_column": ...,
  "target": ..., "positive_label": ..., "sensitive": [...], "personal": [...],
  "quasi_identifiers": [...], "trusted": [...], "trust_pickle": bool, "name": ...}``, uploaded
  files saved under the tool's folder (``audits.loading.home_dir() / "uploads"``).

The cache key is the SHA-256 of the files' SHA-256 hashes, every option of the source, the audit
profile's hash and the seed: the same files and choices give the same key, so an audit is computed
once and a page switch, a browser reload or a restart of the app reads it back from
``home_dir() / "cache"`` instead of recomputing. Nothing here imports streamlit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from audits.config import AuditConfig
from audits.errors import InputError
from audits.loading import file_sha256, home_dir, load_sample, load_subject
from audits.subject import AuditSubject
from reports.build import run_audit
from reports.report import AuditReport

__all__ = ["sample_source", "source_files", "audit_key", "cached_report", "store_report",
           "subject_from_source", "audit_source", "cache_dir"]

_FILE_KEYS = ("model", "train", "holdout")


def sample_source(name: str) -> dict:
    return {"kind": "sample", "name": name}


def cache_dir() -> Path:
    return home_dir() / "cache" / "reports"


def source_files(source: dict) -> dict[str, Path]:
    """The files a source reads, by role (the sample's built files for a sample)."""
    if source.get("kind") == "sample":
        from sample_models import generate

        generate.build_samples([source["name"]])
        folder = generate.sample_dir(source["name"])
        return {"model": folder / "model.skops", "train": folder / "members.csv",
                "holdout": folder / "nonmembers.csv"}
    if source.get("kind") != "files":
        raise InputError(f"Unknown source kind {source.get('kind')!r}: choose a sample or upload "
                         "files on the Load page.")
    return {k: Path(source[k]) for k in _FILE_KEYS if source.get(k)}


def audit_key(source: dict, config: AuditConfig) -> str:
    """SHA-256 of the files' hashes, the source's options and the configuration."""
    files = source_files(source)
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise InputError(f"The file(s) {missing} are gone; load the model and data again on the "
                         "Load page.")
    options = {k: v for k, v in source.items() if k not in _FILE_KEYS}
    doc = {"files": {k: file_sha256(p) for k, p in sorted(files.items())}, "options": options,
           "profile_hash": config.profile_hash, "config": config.to_dict()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def cached_report(key: str) -> str | None:
    """The report's JSON stored under ``key``, or None."""
    path = cache_dir() / f"{key}.json"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def store_report(key: str, text: str) -> Path:
    """Write the report's JSON atomically (a reader never sees half a file)."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def subject_from_source(source: dict) -> AuditSubject:
    """Load and validate the subject a source describes (raises InputError on bad input)."""
    if source.get("kind") == "sample":
        return load_sample(source["name"])
    files = source_files(source)
    return load_subject(
        files["model"], files["train"], files.get("holdout"), target=source.get("target") or "",
        sensitive=source.get("sensitive") or (), positive_label=source.get("positive_label"),
        personal=source.get("personal") or (),
        quasi_identifiers=source.get("quasi_identifiers") or (),
        split_column=source.get("split_column"), trusted=source.get("trusted") or (),
        trust_pickle=bool(source.get("trust_pickle")), id_column=source.get("id_column"),
        name=source.get("name"))


def audit_source(source: dict, config: AuditConfig, *,
                 progress: Callable[[str, str, float], None] | None = None) -> tuple[str, str]:
    """The report of ``source`` under ``config``: read from the cache, else computed and stored.

    Returns ``(key, report_json)``. ``progress`` is passed to :func:`reports.build.run_audit`.
    """
    key = audit_key(source, config)
    text = cached_report(key)
    if text is None:
        report: AuditReport = run_audit(subject_from_source(source), config, progress=progress)
        text = report.to_json()
        store_report(key, text)
    return key, text
