"""Read and generate the submitter's files: the context (YAML) and the feature inventory (YAML/CSV).

Every problem raises :class:`audits.core.errors.InputError` naming the file, the key and the valid
options, so the command line exits 2 with a clear message. Answers are normalised: empty values
become None ("not provided" in the report), yes/no answers become ``"yes"``/``"no"``, origins and
legal bases are matched loosely ("third_party", "Legitimate interests") to their canonical names.
Each normalised file records its name and SHA-256 under ``source`` so the report traces it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any, Sequence

from audits.core import messages as msg
from audits.core.errors import InputError
from reports.context import DPIA_QUESTIONS, LEGAL_BASES, ORIGINS

__all__ = ["load_context", "load_inventory", "context_template", "inventory_template",
           "normalise_context", "normalise_inventory"]

_TOP = ("submitter", "intended_use", "purposes", "out_of_scope_uses", "affected_people",
        "decisions", "dpia_screening") + ("design_choices", "training_data", "monitoring",
                                          "societal_impact", "ethical_considerations")
#: free-text answers the standards mapping asks for (reports.standards.CONTEXT_QUESTIONS)
_DOCUMENTATION = ("design_choices", "training_data", "monitoring", "societal_impact",
                  "ethical_considerations")
_SUBMITTER = ("name", "role", "team")
_DECISIONS = ("mode", "legal_or_similar_effect", "human_review", "profiling")
_MODES = ("automated", "advisory")
_INV_FIELDS = ("origin", "purpose", "legal_basis", "retention")
_ORIGIN_WORDS = {"first party": "first-party", "firstparty": "first-party", "own": "first-party",
                 "third party": "third-party", "partner": "third-party",
                 "third party broker": "third-party broker",
                 "broker": "third-party broker", "data broker": "third-party broker",
                 "derived": "derived", "first-party": "first-party"}


def _read(path: str | Path, what: str, field: str) -> tuple[Path, bytes]:
    path = Path(path)
    if not path.is_file():
        raise InputError(msg.SUBMITTER_FILE_MISSING, what=what, path=path, field=field,
                         template=what.split()[0])
    return path, path.read_bytes()


def _yaml(path: Path, data: bytes, field: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        error = " ".join(str(e).split())
        raise InputError(msg.YAML_INVALID, path=path, error=error, field=field,
                         template=field) from e


def _source(path: Path, data: bytes) -> dict:
    return {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text or None


def _yes_no(value: Any, where: str, path: Path) -> str | None:
    text = _text(value)
    if text is None:
        return None
    low = text.lower()
    if low in ("yes", "y", "true"):
        return "yes"
    if low in ("no", "n", "false"):
        return "no"
    if low in ("unknown", "?", "not sure"):
        return None
    raise InputError(msg.YES_NO, path=path, where=where, value=text)


def _mapping(value: Any, where: str, path: Path, keys: Sequence[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(msg.NOT_A_MAPPING, path=path, where=where, valid=list(keys),
                         kind=type(value).__name__)
    unknown = sorted(str(k) for k in set(value) - set(keys))
    if unknown:
        raise InputError(msg.MAPPING_UNKNOWN_KEYS, path=path, where=where, bad=unknown,
                         valid=list(keys))
    return value


def normalise_context(doc: Any, path: Path = Path("context")) -> dict:
    """Validate a parsed context document and return its normalised form (no ``source``)."""
    top = _mapping(doc, "the document", path, _TOP)
    sub = _mapping(top.get("submitter"), "submitter", path, _SUBMITTER)
    dec = _mapping(top.get("decisions"), "decisions", path, _DECISIONS)
    dpia = _mapping(top.get("dpia_screening"), "dpia_screening", path,
                    tuple(DPIA_QUESTIONS) + ("dpia_reference",))
    mode = _text(dec.get("mode"))
    if mode is not None:
        mode = mode.lower().replace("solely ", "").replace("solely_", "")
        if mode not in _MODES:
            raise InputError(msg.MODE_UNKNOWN, path=path, value=dec.get("mode"),
                             valid=list(_MODES))
    purposes = top.get("purposes")
    purposes = purposes if isinstance(purposes, list) else \
        ([] if purposes is None else str(purposes).split("|"))
    scope = top.get("out_of_scope_uses")
    scope = scope if isinstance(scope, list) else ([] if scope is None else [scope])
    return {
        "submitter": {k: _text(sub.get(k)) for k in _SUBMITTER},
        "intended_use": _text(top.get("intended_use")),
        "purposes": [t for t in (_text(p) for p in purposes) if t],
        "out_of_scope_uses": [t for t in (_text(s) for s in scope) if t],
        "affected_people": _text(top.get("affected_people")),
        "decisions": {"mode": mode,
                      "legal_or_similar_effect": _yes_no(dec.get("legal_or_similar_effect"),
                                                         "decisions.legal_or_similar_effect",
                                                         path),
                      "human_review": _text(dec.get("human_review")),
                      "profiling": _yes_no(dec.get("profiling"), "decisions.profiling", path)},
        "dpia_screening": {**{k: _yes_no(dpia.get(k), f"dpia_screening.{k}", path)
                              for k in DPIA_QUESTIONS},
                           "dpia_reference": _text(dpia.get("dpia_reference"))},
    } | {k: _text(top.get(k)) for k in _DOCUMENTATION if _text(top.get(k)) is not None}


def load_context(path: str | Path) -> dict:
    """Read a context file (YAML); raise InputError when it is missing or invalid."""
    path, data = _read(path, "context", "context")
    doc = _yaml(path, data, "context")
    return normalise_context(doc, path) | {"source": _source(path, data)}


def _origin(value: Any, feature: str, path: Path) -> str | None:
    text = _text(value)
    if text is None:
        return None
    key = text.lower().replace("_", " ").replace("-", " ").strip()
    key = " ".join(key.split())
    canon = _ORIGIN_WORDS.get(key) or _ORIGIN_WORDS.get(key.replace(" ", ""))
    if canon is None:
        canon = next((o for o in ORIGINS if o.replace("-", " ") == key), None)
    if canon is None:
        raise InputError(msg.ORIGIN_UNKNOWN, path=path, feature=feature, value=text,
                         valid=list(ORIGINS))
    return canon


def _basis(value: Any, feature: str, path: Path) -> str | None:
    text = _text(value)
    if text is None:
        return None
    key = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    key = key[:-1] if key.endswith("interests") and key != "vital interests" else key
    if key in LEGAL_BASES:
        return key
    raise InputError(msg.BASIS_UNKNOWN, path=path, feature=feature, value=text,
                     valid=list(LEGAL_BASES))


def normalise_inventory(entries: dict, path: Path = Path("inventory"),
                        features: Sequence[str] | None = None) -> dict:
    """Validate ``feature -> {origin, purpose, legal_basis, retention}`` (no ``source``)."""
    out = {}
    for feature, e in entries.items():
        e = _mapping(e, f"the entry of {feature!r}", path, _INV_FIELDS)
        out[str(feature)] = {"origin": _origin(e.get("origin"), feature, path),
                             "purpose": _text(e.get("purpose")),
                             "legal_basis": _basis(e.get("legal_basis"), feature, path),
                             "retention": _text(e.get("retention"))}
    if features is not None:
        unknown = [f for f in out if f not in features]
        if unknown:
            raise InputError(msg.INVENTORY_NOT_INPUTS, path=path, bad=unknown,
                             valid=list(features))
    return {"features": out}


def load_inventory(path: str | Path, features: Sequence[str] | None = None) -> dict:
    """Read an inventory file: YAML (``features: {name: {...}}``) or CSV (columns ``feature,
    origin, purpose, legal_basis, retention``). ``features``: the model's inputs, to reject names
    that are not inputs."""
    path, data = _read(path, "inventory", "inventory")
    if path.suffix.lower() == ".csv":
        try:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(msg.INVENTORY_NOT_CSV, path=path, error=e) from e
        if not rows or "feature" not in rows[0]:
            raise InputError(msg.INVENTORY_NO_HEADER, path=path,
                             valid=["feature", *_INV_FIELDS])
        extra = sorted(set(rows[0]) - {"feature", *_INV_FIELDS})
        if extra:
            raise InputError(msg.INVENTORY_UNKNOWN_COLUMNS, path=path, bad=extra,
                             valid=["feature", *_INV_FIELDS])
        entries = {r["feature"].strip(): {k: r.get(k) for k in _INV_FIELDS} for r in rows
                   if (r.get("feature") or "").strip()}
    else:
        doc = _yaml(path, data, "inventory")
        doc = _mapping(doc, "the document", path, ("features",))
        entries = doc.get("features") or {}
        if isinstance(entries, list):
            entries = {str(e.get("feature")): {k: v for k, v in e.items() if k != "feature"}
                       for e in entries if isinstance(e, dict)}
        if not isinstance(entries, dict):
            raise InputError(msg.INVENTORY_FEATURES, path=path)
    return normalise_inventory(entries, path, features) | {"source": _source(path, data)}


def context_template() -> str:
    """The context file a submitter fills in (``review-board template context``)."""
    dpia = "\n".join(f"  {k}:    # yes | no. {q}" for k, q in DPIA_QUESTIONS.items())
    return f"""\
# Context of use for a Model Review Board report: review-board audit ... --context context.yaml
# Answer in your own words. Leave an answer empty when you do not know it: the report then says
# "not provided" (it never fills in placeholder text).
submitter:
  name:            # who submits the model
  role:            # e.g. data scientist, product owner
  team:
intended_use:      # what the score is used for, by whom, in which business process
purposes:          # the processing purposes, as the consent columns name them (--consent), e.g.
                   # - profiling for retention offers
out_of_scope_uses: # uses the model must not be put to, one per line starting with "- "
affected_people:   # whose data is scored and how many (e.g. "UK subscribers, monthly")
decisions:
  mode:            # automated | advisory. Automated: no person reviews each decision
  legal_or_similar_effect:   # yes | no. Legal or similarly significant effect on the person?
  human_review:    # who reviews decisions, and can they change them?
  profiling:       # yes | no. Does the model evaluate personal aspects (GDPR Art. 4(4))?
dpia_screening:    # the WP248 rev.01 criteria; two or more usually mean a DPIA is required
{dpia}
  dpia_reference:  # reference of an existing DPIA, if any
# What the audit cannot measure (the report's standards appendix and the model card ask for it:
# EU AI Act Annex IV 2(b), 2(d), 3; ISO/IEC 42001 A.5.5, A.7; Mitchell et al. 2019's model card)
design_choices:    # what the model optimises for, key design choices, their rationale, trade-offs
training_data:     # how the training data was obtained, selected, labelled and cleaned
monitoring:        # how the model is monitored once deployed, and who acts on what
societal_impact:   # effects on society beyond the customers scored
ethical_considerations:  # ethical considerations the team weighed
"""


def inventory_template(features: Sequence[str], *, fmt: str = "yaml") -> str:
    """The inventory template for a model's inputs, as YAML or CSV."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["feature", *_INV_FIELDS])
        for f in features:
            w.writerow([f, "", "", "", ""])
        return buf.getvalue()
    if fmt != "yaml":
        raise InputError(f"Inventory template format {fmt!r}; valid formats: ['yaml', 'csv'].")
    lines = ["# Feature inventory: review-board audit ... --inventory inventory.yaml",
             f"# origin: {' | '.join(ORIGINS)}",
             f"# legal_basis (GDPR Art. 6(1)): {' | '.join(LEGAL_BASES)}",
             "# purpose: why the model uses the input; retention: how long it is kept.",
             "# Leave unknown answers empty: the report says 'not provided'.", "features:"]
    for f in features:
        key = f if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", f) else json.dumps(f)
        lines += [f"  {key}:", "    origin:", "    purpose:", "    legal_basis:", "    retention:"]
    return "\n".join(lines) + "\n"
