"""What the app audits (a *source*), the key its report is cached under, and that cache on disk.

A source is a small JSON-safe dict, the app's record of what the user chose on the Load page:

- ``{"kind": "sample", "name": "churn"}``, a built-in sample as its manifest describes it, with
  optional ``"sensitive"``, ``"personal"``, ``"quasi_identifiers"`` lists that replace the
  manifest's choice (present only when the user changed it); or
- ``{"kind": "files", "model": PATH, "train": PATH, "holdout": PATH | None, "split_column": ...,
  "target": ..., "positive_label": ..., "sensitive": [...], "personal": [...],
  "quasi_identifiers": [...], "trusted": [...], "trust_pickle": bool, "name": ...}``, uploaded
  files saved under the tool's folder (``audits.core.loading.home_dir() / "uploads"``), with an
  optional ``"rights"``: the data-rights declaration's plain form
  (``audits.core.rights.declaration_from_spec``; an uploaded erasure file is saved by hash, so
  its path, part of the cache key, names its content).

The cache key is the SHA-256 of the files' SHA-256 hashes, every option of the source, the audit
profile's hash (every parameter and threshold) and the tool's and report schema's versions (the
subject's seed is the loader's fixed default): the same files and choices give the same key, so an
audit is computed once and a page switch, a browser reload or a restart of the app reads it back
from ``home_dir() / "cache"`` instead of recomputing. Nothing here imports streamlit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.loading import file_sha256, load_subject
from audits.core.paths import home_dir
from audits.core.rights import declaration_from_spec
from audits.core.subject import AuditSubject
from reports.build import TOOL_VERSION, run_audit
from reports.report import SCHEMA_VERSION, AuditReport

__all__ = ["SAMPLE_NAMES", "build_samples", "sample_manifest", "sample_files", "load_sample",
           "sample_source", "files_source", "source_files", "audit_key", "cached_report",
           "store_report", "subject_from_source", "audit_source", "cache_dir", "model_inputs",
           "describe_source", "ROLE_KEYS"]

_FILE_KEYS = ("model", "train", "holdout")
#: The column roles a sample source may override (each a list of column names).
ROLE_KEYS = ("sensitive", "personal", "quasi_identifiers")


def _generator():
    from sample_models import generate

    return generate


#: The built-in samples, in the order the front ends list them.
SAMPLE_NAMES: tuple[str, ...] = tuple(_generator().SAMPLE_NAMES)


def build_samples(names=SAMPLE_NAMES, *, force: bool = False) -> list[Path]:
    """Build the named samples when missing (or always with ``force``); their folders."""
    return _generator().build_samples(list(names), force=force)


def sample_manifest(name: str) -> dict:
    """A sample's manifest (built first when missing): columns, roles, planted effects."""
    generate = _generator()
    if name not in generate.SAMPLE_NAMES:
        raise InputError(f"There is no sample {name!r}; samples: {list(generate.SAMPLE_NAMES)}.")
    generate.build_samples([name])
    return generate.load_manifest(name)


def sample_files(name: str) -> dict[str, Path]:
    """A sample's files by role (model, train, holdout), built first when missing."""
    generate = _generator()
    generate.build_samples([name])
    folder = generate.sample_dir(name)
    return {"model": folder / "model.skops", "train": folder / "members.csv",
            "holdout": folder / "nonmembers.csv"}


def load_sample(name: str, **overrides: Any) -> AuditSubject:
    """Load one of the built-in samples (built first when missing), trusting the skops types
    that this installation recorded when it built the sample's model."""
    m = sample_manifest(name)
    files = sample_files(name)
    kwargs = dict(target=m["target"], sensitive=m["sensitive_fields"],
                  positive_label=m["positive_label"], personal=m["personal_columns"],
                  quasi_identifiers=m["quasi_identifiers"], trusted=m["trusted_types"],
                  favourable=m["favourable_label"], favourable_action=m["favourable_action"],
                  id_column=m["id_column"], name=name)
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    if "rights" not in overrides:  # the sample's declared rights columns and erasure requests
        kwargs["rights"] = declaration_from_spec(m.get("rights"), base_dir=files["train"].parent,
                                                 id_column=kwargs.get("id_column"))
    return load_subject(files["model"], files["train"], files["holdout"], **kwargs)


def sample_source(name: str, **roles: Sequence[str] | None) -> dict:
    """A sample's source; ``roles`` (keys of :data:`ROLE_KEYS`) replace the manifest's lists,
    a None role keeps the manifest's."""
    unknown = sorted(set(roles) - set(ROLE_KEYS))
    if unknown:
        raise InputError(f"Unknown column role(s) {unknown} for a sample; valid: "
                         f"{list(ROLE_KEYS)}.")
    return {"kind": "sample", "name": name} | {k: [str(c) for c in v] for k, v in roles.items()
                                               if v is not None}


def _plain(value: Any) -> Any:
    """A JSON-safe scalar (NumPy scalars become Python ones)."""
    value = value.item() if hasattr(value, "item") else value
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def files_source(model: str | Path, train: str | Path, holdout: str | Path | None = None, *,
                 target: str, positive_label: Any = None, sensitive: Sequence[str] = (),
                 personal: Sequence[str] = (), quasi_identifiers: Sequence[str] = (),
                 split_column: str | None = None, trusted: Sequence[str] = (),
                 trust_pickle: bool = False, id_column: str | None = None,
                 name: str | None = None) -> dict:
    """The JSON-safe source of uploaded files (paths as text, trusted types sorted).

    Raises InputError when neither a holdout file nor a split column is given.
    """
    if holdout is None and not split_column:
        raise InputError("No non-members: upload the holdout file (rows the model never saw), or "
                         "choose the column of the data file that marks training and holdout "
                         "rows.")
    return {"kind": "files", "model": str(model), "train": str(train),
            "holdout": None if holdout is None else str(holdout),
            "split_column": None if holdout is not None else split_column,
            "target": str(target), "positive_label": _plain(positive_label),
            "sensitive": [str(c) for c in sensitive], "personal": [str(c) for c in personal],
            "quasi_identifiers": [str(c) for c in quasi_identifiers],
            "trusted": sorted({str(t) for t in trusted}), "trust_pickle": bool(trust_pickle),
            "id_column": id_column, "name": name or Path(model).stem}


def cache_dir() -> Path:
    return home_dir() / "cache" / "reports"


def source_files(source: dict) -> dict[str, Path]:
    """The files a source reads, by role (the sample's built files for a sample)."""
    if source.get("kind") == "sample":
        return sample_files(source["name"])
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
    # the profile hash covers every parameter but n_jobs, which changes no result
    doc = {"files": {k: file_sha256(p) for k, p in sorted(files.items())}, "options": options,
           "profile_hash": config.profile_hash, "tool": TOOL_VERSION, "schema": SCHEMA_VERSION}
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
        return load_sample(source["name"], **{k: list(source[k]) for k in ROLE_KEYS
                                              if source.get(k) is not None})
    files = source_files(source)
    return load_subject(
        files["model"], files["train"], files.get("holdout"), target=source.get("target") or "",
        sensitive=source.get("sensitive") or (), positive_label=source.get("positive_label"),
        personal=source.get("personal") or (),
        quasi_identifiers=source.get("quasi_identifiers") or (),
        split_column=source.get("split_column"), trusted=source.get("trusted") or (),
        trust_pickle=bool(source.get("trust_pickle")), id_column=source.get("id_column"),
        name=source.get("name"),
        rights=declaration_from_spec(source.get("rights"), id_column=source.get("id_column")))


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


def model_inputs(source: dict) -> list[str]:
    """The model's input columns, for the feature inventory.

    A sample's come from its manifest; uploaded files' from the model's ``feature_names_in_``
    when it loads with the trust given, else the data's columns without the target and the split
    column. Raises InputError when the data file cannot be read.
    """
    if source.get("kind") == "sample":
        return list(sample_manifest(source["name"])["feature_columns"])
    from audits.core.loading import load_table
    from reports.uploads import model_input_columns

    files = source_files(source)
    try:
        names = model_input_columns(files["model"], trusted=source.get("trusted") or (),
                                    trust_pickle=bool(source.get("trust_pickle")))
    except InputError:
        names = None
    if names:
        return names
    columns = list(load_table(files["train"], role="training (members)").columns)
    drop = {source.get("target"), source.get("split_column")}
    return [str(c) for c in columns if c not in drop]


def describe_source(source: dict) -> str:
    """One plain line naming what is audited (file names only, never a folder)."""
    if source.get("kind") == "sample":
        text = f"the built-in sample '{source.get('name')}'"
        changed = [k.replace("_", "-") for k in ROLE_KEYS if source.get(k) is not None]
        return text + (f" (with your own choice of {', '.join(changed)} columns)" if changed
                       else "")
    names = {k: Path(source[k]).name for k in _FILE_KEYS if source.get(k)}
    data = (f"members {names.get('train')}, non-members {names['holdout']}" if "holdout" in names
            else f"data {names.get('train')} split by the column '{source.get('split_column')}'")
    sensitive = ", ".join(source.get("sensitive") or []) or "none"
    return (f"the uploaded model {names.get('model')} ({data}); target '{source.get('target')}' "
            f"(positive: {source.get('positive_label')!r}); sensitive fields: {sensitive}")
