"""What to audit (an :class:`AuditSource`), the key its report is cached under, and that cache.

An :class:`AuditSource` is one frozen record of what the user chose, shared by the command line
and the app: a built-in sample (``AuditSource(sample="churn")``, optionally with its column roles
or target replaced), or a model file with its data files and options (``AuditSource(model=...,
train=..., holdout=..., target=...)``). It is JSON-safe (:meth:`~AuditSource.to_dict`, the form the
app keeps in session state, and :meth:`~AuditSource.from_dict`), and its typed options are checked
when it is made (:func:`audits.core.validation.check_options`: a finite decision threshold, a
seed in range), so a bad value is refused before anything is read.

- :meth:`~AuditSource.load` validates the files and builds the subject
  (:func:`audits.core.loading.load_subject`: every check happens there, before any work);
- :meth:`~AuditSource.key` is the report cache key: the SHA-256 of the files' SHA-256 hashes,
  every option of the source, the audit profile's hash (every parameter and threshold) and the
  tool's and report schema's versions. Equal sources have equal keys; the same files and choices
  give the same key, so an audit is computed once and a page switch, a browser reload or a
  restart of the app reads it back from ``home_dir() / "cache"`` instead of recomputing.
- ``rights`` carries the data-rights declaration's plain form
  (:func:`audits.core.rights.declaration_from_spec`); an uploaded erasure file is saved by hash,
  so its path, part of the cache key, names its content.

Nothing here imports streamlit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.loading import file_sha256, load_subject
from audits.core.paths import home_dir
from audits.core.rights import declaration_from_spec
from audits.core.subject import AuditSubject
from audits.core.validation import check_options
from reports.build import TOOL_VERSION, run_audit
from reports.report import SCHEMA_VERSION, AuditReport

__all__ = ["AuditSource", "SAMPLE_NAMES", "ROLE_KEYS", "build_samples", "sample_manifest",
           "sample_files", "load_sample", "audit_source", "cached_report", "store_report",
           "cache_dir"]

_FILE_KEYS = ("model", "train", "holdout")
#: The column roles a sample source may replace (each a list of column names).
ROLE_KEYS = ("sensitive", "personal", "quasi_identifiers")


def _generator():
    from sample_models import generate

    return generate


#: The built-in samples, in the order the front ends list them.
SAMPLE_NAMES: tuple[str, ...] = tuple(_generator().SAMPLE_NAMES)


def build_samples(names=SAMPLE_NAMES, *, force: bool = False) -> list[Path]:
    """Build the named samples when missing (or always with ``force``); their folders."""
    return _generator().build_samples(list(names), force=force)


def _check_sample(name: str) -> None:
    if name not in SAMPLE_NAMES + tuple(getattr(_generator(), "PHASE_B_SAMPLES", ())):
        raise InputError(msg.SAMPLE_UNKNOWN, name=name, valid=list(SAMPLE_NAMES))


def sample_manifest(name: str) -> dict:
    """A sample's manifest (built first when missing): columns, roles, planted effects."""
    _check_sample(name)
    generate = _generator()
    generate.build_samples([name])
    return generate.load_manifest(name)


def sample_files(name: str) -> dict[str, Path]:
    """A sample's files by role (model, train, holdout), built first when missing."""
    _check_sample(name)
    generate = _generator()
    generate.build_samples([name])
    folder = generate.sample_dir(name)
    model = generate.load_manifest(name).get("model_file", "model.skops")
    return {"model": folder / model, "train": folder / "members.csv",
            "holdout": folder / "nonmembers.csv"}


def load_sample(sample: str, /, **overrides: Any) -> AuditSubject:
    """Load one of the built-in samples (built first when missing), trusting the skops types
    that this installation recorded when it built the sample's model; ``overrides`` (keyword
    arguments of :func:`~audits.core.loading.load_subject`) replace the manifest's choices."""
    m = sample_manifest(sample)
    files = sample_files(sample)
    kwargs = dict(target=m["target"], sensitive=m["sensitive_fields"],
                  positive_label=m["positive_label"], personal=m["personal_columns"],
                  quasi_identifiers=m["quasi_identifiers"], trusted=m["trusted_types"],
                  favourable=m["favourable_label"], favourable_action=m["favourable_action"],
                  id_column=m["id_column"], name=sample)
    if m.get("task") == "regression":  # the other tasks' samples (issue 14)
        kwargs["favourable"] = m.get("favourable_direction")
    if m.get("decision_threshold") is not None:
        kwargs["decision_threshold"] = m["decision_threshold"]
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    if "rights" not in overrides:  # the sample's declared rights columns and erasure requests
        kwargs["rights"] = declaration_from_spec(m.get("rights"), base_dir=files["train"].parent,
                                                 id_column=kwargs.get("id_column"))
    return load_subject(files["model"], files["train"], files["holdout"], **kwargs)


def _scalar(value: Any) -> Any:
    """A JSON-safe scalar (NumPy scalars become Python ones, anything else its text)."""
    value = value.item() if hasattr(value, "item") else value
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def _columns(value: Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    return tuple(str(c) for c in value)


@dataclass(frozen=True)
class AuditSource:
    """What to audit: a built-in sample, or a model file with its data files, and the options.

    Parameters
    ----------
    sample : the name of a built-in sample (then ``model``, ``train``, ``holdout`` stay None).
    model, train, holdout : the model file and the members and non-members files (paths as text);
        ``holdout`` may be None when ``split_column`` marks the rows of ``train``.
    split_column, target, positive_label, id_column : as for
        :func:`~audits.core.loading.load_subject`.
    sensitive, personal, quasi_identifiers : column roles; None keeps a sample's manifest (for
        files: none).
    decision_threshold : decide positive when P(positive) >= this (a probability in (0, 1); text is
        parsed); None uses the model's ``predict``.
    favourable, favourable_action : the decision that benefits the customer and its action.
    trusted : skops types trusted by name; ``trust_pickle`` allows a pickle (it runs code).
    seed : the audit's seed, in ``[0, MAX_SEED]`` (text is parsed).
    name : the name printed on the report (default: the sample's name, or the model file's stem).
    rights : the data-rights declaration in its plain form (consent, collection date, source,
        opt-out and erasure columns: :func:`audits.core.rights.declaration_from_spec`); None
        keeps a sample's own declaration (for files: none).
    task : the declared task (``binary``, ``multiclass``, ``regression``), checked against the
        model's; None infers it.
    recipe : the training recipe: a skops file of an unfitted estimator, or one of
        ``audits.core.recipe.NAMED_RECIPES``; None uses the one the model file gives. A file's
        SHA-256 is part of the cache key.
    """

    sample: str | None = None
    model: str | None = None
    train: str | None = None
    holdout: str | None = None
    split_column: str | None = None
    target: str | None = None
    positive_label: Any = None
    sensitive: tuple[str, ...] | None = None
    personal: tuple[str, ...] | None = None
    quasi_identifiers: tuple[str, ...] | None = None
    id_column: str | None = None
    decision_threshold: float | None = None
    favourable: Any = None
    favourable_action: str | None = None
    trusted: tuple[str, ...] = ()
    trust_pickle: bool = False
    seed: int = 0
    name: str | None = None
    rights: dict | None = None
    task: str | None = None
    recipe: str | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        for key in _FILE_KEYS:
            value = getattr(self, key)
            put(self, key, None if value in (None, "") else str(value))
        for key in ROLE_KEYS:
            put(self, key, _columns(getattr(self, key)))
        for key in ("split_column", "target", "id_column", "name", "favourable_action", "task",
                    "recipe"):
            value = getattr(self, key)
            put(self, key, None if value in (None, "") else str(value))
        put(self, "positive_label", _scalar(self.positive_label))
        put(self, "favourable", _scalar(self.favourable))
        put(self, "trusted", tuple(sorted({str(t) for t in self.trusted or ()})))
        put(self, "trust_pickle", bool(self.trust_pickle))
        options = check_options(decision_threshold=self.decision_threshold, seed=self.seed,
                                favourable_action=self.favourable_action)
        put(self, "decision_threshold", options["decision_threshold"])
        put(self, "seed", options["seed"])
        put(self, "favourable_action", options["favourable_action"] or None)
        if self.sample is not None:
            _check_sample(self.sample)
            given = [k for k in _FILE_KEYS if getattr(self, k)]
            if given:
                raise InputError(msg.SAMPLE_WITH_FILES, fields=given)
            return
        missing = [k for k in ("model", "train", "target") if not getattr(self, k)]
        if missing:
            raise InputError(msg.FILES_NOT_GIVEN, fields=missing)
        if self.holdout is None and not self.split_column:
            raise InputError(msg.HOLDOUT_MISSING)
        if self.holdout is not None:
            put(self, "split_column", None)

    # -- what it is ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"sample"`` or ``"files"``."""
        return "sample" if self.sample is not None else "files"

    def files(self) -> dict[str, Path]:
        """The files it reads, by role (a sample's built files for a sample)."""
        if self.sample is not None:
            return sample_files(self.sample)
        return {k: Path(getattr(self, k)) for k in _FILE_KEYS if getattr(self, k)}

    def to_dict(self) -> dict:
        """JSON-safe (lists for tuples): ``{"kind": "sample", "name": ...}`` with the options
        that differ from the manifest's, or ``{"kind": "files", ...}`` with every option."""
        out = {"kind": self.kind}
        if self.sample is not None:
            out["name"] = self.sample
        for f in dataclasses.fields(self):
            if f.name == "sample":
                continue
            value = getattr(self, f.name)
            if self.sample is not None and value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "AuditSource":
        """The source a :meth:`to_dict` (or the app's older dict) describes."""
        d = dict(d)
        kind = d.pop("kind", None)
        if kind == "sample":
            d["sample"] = d.pop("name", None)
        elif kind != "files":
            raise InputError(msg.SOURCE_KIND_UNKNOWN, kind=kind)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def of_sample(cls, name: str, **options: Any) -> "AuditSource":
        """A built-in sample; ``options`` (e.g. ``sensitive=[...]``) replace the manifest's."""
        unknown = sorted(set(options) - {f.name for f in dataclasses.fields(cls)} -
                         set(_FILE_KEYS))
        if unknown:
            raise InputError(msg.ROLE_UNKNOWN, bad=unknown, valid=list(ROLE_KEYS))
        return cls(sample=name, **options)

    # -- what it does --------------------------------------------------------------------------
    def load(self, **scale: Any) -> AuditSubject:
        """Validate everything and build the subject (raises InputError on bad input).

        ``scale``: ``sample_rows``, ``partition_rows``, ``n_jobs`` of
        :func:`~audits.core.loading.load_subject` (the profile's values; defaults when absent).
        """
        options = dict(positive_label=self.positive_label, personal=self.personal,
                       sensitive=self.sensitive, quasi_identifiers=self.quasi_identifiers,
                       id_column=self.id_column, decision_threshold=self.decision_threshold,
                       favourable=self.favourable, favourable_action=self.favourable_action,
                       seed=self.seed, task=self.task, recipe=self.recipe,
                       **{k: v for k, v in scale.items() if v is not None})
        if self.sample is not None:
            m = sample_manifest(self.sample)
            trusted = sorted(set(m["trusted_types"]) | set(self.trusted))
            if self.rights is not None:
                options["rights"] = declaration_from_spec(self.rights, id_column=self.id_column)
            return load_sample(self.sample, target=self.target, trusted=trusted,
                               name=self.name, **options)
        options = {k: (() if v is None and k in ROLE_KEYS else v) for k, v in options.items()}
        return load_subject(self.model, self.train, self.holdout, target=self.target,
                            split_column=self.split_column, trusted=self.trusted,
                            trust_pickle=self.trust_pickle, name=self.name,
                            rights=declaration_from_spec(self.rights, id_column=self.id_column),
                            **options)

    def key(self, config: AuditConfig) -> str:
        """The report cache key: SHA-256 of the files' hashes, every option, the profile's hash
        and the tool's and schema's versions. Raises InputError when a file is gone."""
        files = self.files()
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise InputError(msg.SOURCE_FILES_GONE, missing=missing)
        options = {k: v for k, v in self.to_dict().items() if k not in _FILE_KEYS}
        # the profile hash covers every parameter but n_jobs, which changes no result
        if self.recipe is not None and Path(self.recipe).is_file():
            files = {**files, "recipe": Path(self.recipe)}
        doc = {"files": {k: file_sha256(p) for k, p in sorted(files.items())},
               "options": options, "profile_hash": config.profile_hash, "tool": TOOL_VERSION,
               "schema": SCHEMA_VERSION}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()

    def describe(self) -> str:
        """One plain line naming what is audited (file names only, never a folder)."""
        if self.sample is not None:
            text = f"the built-in sample '{self.sample}'"
            changed = [k.replace("_", "-") for k in ROLE_KEYS if getattr(self, k) is not None]
            return text + (f" (with your own choice of {', '.join(changed)} columns)" if changed
                           else "")
        names = {k: Path(getattr(self, k)).name for k in _FILE_KEYS if getattr(self, k)}
        data = (f"members {names['train']}, non-members {names['holdout']}" if "holdout" in names
                else f"data {names['train']} split by the column '{self.split_column}'")
        sensitive = ", ".join(self.sensitive or ()) or "none"
        label = "" if self.positive_label is None else f" (positive: {self.positive_label!r})"
        return (f"the uploaded model {names['model']} ({data}); target '{self.target}'{label}; "
                f"sensitive fields: {sensitive}")

    def model_inputs(self) -> list[str]:
        """The model's input columns, for the feature inventory.

        A sample's come from its manifest; uploaded files' from the model's ``feature_names_in_``
        when it loads with the trust given, else the data's columns without the target and the
        split column. Raises InputError when the data file cannot be read.
        """
        if self.sample is not None:
            return list(sample_manifest(self.sample)["feature_columns"])
        from audits.core.loading import load_table
        from reports.uploads import model_input_columns

        files = self.files()
        try:
            names = model_input_columns(files["model"], trusted=self.trusted,
                                        trust_pickle=self.trust_pickle)
        except InputError:
            names = None
        if names:
            return names
        columns = list(load_table(files["train"], what="training (members) file").columns)
        drop = {self.target, self.split_column}
        return [str(c) for c in columns if c not in drop]


# -- the report cache --------------------------------------------------------------------------
def cache_dir() -> Path:
    return home_dir() / "cache" / "reports"


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


def audit_source(source: AuditSource, config: AuditConfig, *,
                 progress: Callable[[str, str, float], None] | None = None) -> tuple[str, str]:
    """The report of ``source`` under ``config``: read from the cache, else computed and stored.

    Returns ``(key, report_json)``. ``progress`` is passed to :func:`reports.build.run_audit`.
    """
    key = source.key(config)
    text = cached_report(key)
    if text is None:
        report: AuditReport = run_audit(source.load(), config, progress=progress)
        text = report.to_json()
        store_report(key, text)
    return key, text
