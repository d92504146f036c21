"""The threshold profile's schema, derived from the dataclasses, and its validation.

The schema is JSON Schema (draft 2020-12, checked with ``jsonschema``), built from the fields of
:class:`~audits.core.config.AuditConfig` and :class:`~audits.core.results.Threshold` and their type
hints, so a parameter added to ``AuditConfig`` is validated without being listed here:

- ``int`` is a whole number (a TOML float such as ``200.0`` is refused), ``float`` any finite
  number, ``bool`` true/false, ``str`` text, ``tuple[float, ...]`` an array of numbers, ``dict`` a
  table, a nested dataclass a table of its own fields; ``X | None`` is ``X`` (TOML has no null);
- ranges come from each field's metadata (``low``, ``high``, ``choices``: the range documented
  beside the field in ``AuditConfig``), then from :data:`RANGES` for the few that need more (an
  exclusive bound); a number without either must be at least 0 (counts, sizes and bounds);
  every number must be finite (TOML allows ``inf`` and ``nan``);
- unknown keys are refused at every level, with the valid keys listed.

Then the rules a schema cannot say: a threshold judged on a band takes no attention or fail bound
(it would be ignored); the attention bound of a threshold does not lie beyond its fail
bound, a band's low end lies below its high end, band edges (``age_bands``) strictly increase.
Each problem raises :class:`~audits.core.errors.InputError` naming the file, the key, the value
given and what it must be.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import lru_cache
from typing import Any

from audits.core import messages as msg
from audits.core.errors import InputError

__all__ = ["RANGES", "profile_schema", "validate_profile"]

#: Ranges that the fields' own metadata cannot say (exclusive bounds, -1 for "all cores").
RANGES: dict[str, dict] = {
    "confidence": {"exclusiveMinimum": 0.5, "exclusiveMaximum": 1},
    "n_jobs": {"minimum": -1, "not": {"const": 0}},
    "age_bands": {"minItems": 1, "maxItems": 48},
}
_THRESHOLD_KEYS_FIXED = ("name", "direction")  # a profile moves bounds, never the check's meaning
_KINDS = ("REG", "TOOL", "HEUR")


def _schema_of(hint: Any) -> dict:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _schema_of(args[0]) if len(args) == 1 else {}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer", "minimum": 0}
    if hint is float:
        return {"type": "number", "minimum": 0}
    if hint is str:
        return {"type": "string", "maxLength": 2000}
    if origin in (tuple, list):
        args = typing.get_args(hint)
        item = _schema_of(args[0]) if args else {}
        out = {"type": "array", "items": {k: v for k, v in item.items() if k != "minimum"}}
        if args and len(args) > 1 and args[-1] is not Ellipsis:
            out |= {"minItems": len(args), "maxItems": len(args)}
        return out
    if origin is dict or hint is dict:
        return {"type": "object"}
    if dataclasses.is_dataclass(hint):
        return _object(hint, skip=())
    return {}


def _metadata_range(f: dataclasses.Field) -> dict:
    """The range documented in a field's metadata, as JSON Schema."""
    meta, out = f.metadata, {}
    if meta.get("choices"):
        out["enum"] = list(meta["choices"])
    if meta.get("low") is not None:
        out["minimum"] = meta["low"]
    if meta.get("high") is not None:
        out["maximum"] = meta["high"]
    return out


def _object(cls, *, skip) -> dict:
    hints = typing.get_type_hints(cls)
    props = {}
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        schema = _schema_of(hints[f.name])
        if f.name in RANGES:  # replaces the metadata's range
            schema = {k: v for k, v in schema.items() if k != "minimum"} | RANGES[f.name]
        else:
            schema |= _metadata_range(f)
        props[f.name] = schema
    return {"type": "object", "properties": props, "additionalProperties": False}


@lru_cache(maxsize=1)
def profile_schema() -> dict:
    """The JSON Schema of a profile file: ``name``, ``[params]`` and ``[thresholds.NAME]``."""
    from audits.core.config import AuditConfig
    from audits.core.results import Threshold

    threshold = _object(Threshold, skip=_THRESHOLD_KEYS_FIXED)
    for key in ("attention", "fail"):
        threshold["properties"][key].pop("minimum", None)
    threshold["properties"]["kind"] = {"enum": list(_KINDS)}
    return {
        "type": "object", "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "params": _object(AuditConfig, skip=("name", "thresholds")),
            "thresholds": {"type": "object", "additionalProperties": threshold},
        },
    }


def _validator():
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)).redefine(
        "number", lambda _, x: isinstance(x, (int, float)) and not isinstance(x, bool))
    return jsonschema.validators.extend(base, type_checker=checker)(profile_schema())


# -- words for a schema ------------------------------------------------------------------------
def _expected(schema: dict) -> str:
    if "enum" in schema:
        return f"one of {schema['enum']}"
    kind = schema.get("type")
    if kind == "object":
        keys = sorted(schema.get("properties", {}))
        return f"a table with the keys {keys}" if keys else "a table"
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        return f"text of {schema.get('minLength', 0)} to {schema.get('maxLength')} characters" \
            if "maxLength" in schema else "text"
    if kind == "array":
        n = schema.get("minItems"), schema.get("maxItems")
        size = (f"{n[0]}" if n[0] == n[1] and n[0] is not None else
                f"{n[0] or 0} to {n[1]}" if n[1] else "any number of")
        return f"an array of {size} finite numbers"
    if kind in ("integer", "number"):
        word = "a whole number" if kind == "integer" else "a finite number"
        parts = []
        if "minimum" in schema:
            parts.append(f"at least {schema['minimum']:,}")
        if "exclusiveMinimum" in schema:
            parts.append(f"above {schema['exclusiveMinimum']}")
        if "maximum" in schema:
            parts.append(f"at most {schema['maximum']:,}")
        if "exclusiveMaximum" in schema:
            parts.append(f"below {schema['exclusiveMaximum']}")
        if "not" in schema:
            parts.append(f"not {schema['not']['const']}")
        return word + (" " + " and ".join(parts) if parts else "")
    return "a valid value"


def _key(path) -> str:
    out = []
    for p in path:
        out.append(f'"{p}"' if isinstance(p, str) and "." in p else str(p))
    return ".".join(out)


def _non_finite(doc: Any, path=()) -> tuple | None:
    if isinstance(doc, float) and not math.isfinite(doc):
        return path
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else ()
    for k, v in items:
        found = _non_finite(v, (*path, k))
        if found is not None:
            return found
    return None


def _schema_at(path) -> dict:
    schema = profile_schema()
    for p in path:
        if isinstance(p, int):
            schema = schema.get("items", {})
        elif p in schema.get("properties", {}):
            schema = schema["properties"][p]
        elif isinstance(schema.get("additionalProperties"), dict):
            schema = schema["additionalProperties"]
    return schema


def validate_profile(doc: dict, path, *, thresholds: dict) -> None:
    """Check a parsed profile against :func:`profile_schema` and the rules a schema cannot say.

    Parameters
    ----------
    doc : the parsed TOML document.
    path : the profile's file (for messages).
    thresholds : the base profile's thresholds by name (an override names one of them).
    """
    unknown_names = sorted(set(doc.get("thresholds", {}) if isinstance(
        doc.get("thresholds"), dict) else ()) - set(thresholds))
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (len(e.absolute_path),
                                                                  list(map(str, e.absolute_path))))
    for e in errors:
        where = list(e.absolute_path)
        if e.validator == "additionalProperties":
            schema = _schema_at(where)
            valid = sorted(schema.get("properties", {}))
            bad = sorted(set(e.instance) - set(valid))
            what = {0: "top-level keys", 1: "parameters" if where == ["params"] else "keys"}\
                .get(len(where), f"keys of {_key(where)}")
            if len(where) == 2 and where[0] == "thresholds":
                what = f"keys of threshold {where[1]!r}"
            raise InputError(msg.PROFILE_UNKNOWN_KEYS, path=path, what=what, bad=bad, valid=valid)
    if unknown_names:
        raise InputError(msg.PROFILE_UNKNOWN_THRESHOLD, path=path, name=unknown_names[0],
                         valid=sorted(thresholds))
    if errors:
        e = errors[0]
        where = list(e.absolute_path)
        field = where[:2] if where and where[0] == "params" else where[:3] \
            if where and where[0] == "thresholds" else where[:1]
        value = doc
        for p in field:
            value = value[p]
        raise InputError(msg.PROFILE_BAD_VALUE, path=path, key=_key(field), value=repr(value),
                         expected=_expected(_schema_at(field)))
    bad = _non_finite(doc)
    if bad is not None:
        field = list(bad[:2] if bad[0] == "params" else bad[:3] if bad[0] == "thresholds"
                     else bad[:1])
        value = doc
        for p in field:
            value = value[p]
        raise InputError(msg.PROFILE_BAD_VALUE, path=path, key=_key(field), value=repr(value),
                         expected=_expected(_schema_at(field)))
    _check_rules(doc, path, thresholds)


def _check_rules(doc: dict, path, thresholds: dict) -> None:
    bands = doc.get("params", {}).get("age_bands")
    if bands is not None and any(b <= a for a, b in zip(bands, bands[1:])):
        raise InputError(msg.PROFILE_BAD_VALUE, path=path, key="params.age_bands",
                         value=repr(bands), expected="band edges that strictly increase")
    for name, over in doc.get("thresholds", {}).items():
        t = thresholds[name].to_dict() | over
        band = t.get("band")
        if band is not None and not band[0] < band[1]:
            raise InputError(msg.PROFILE_BAD_VALUE, path=path, key=_key(["thresholds", name,
                                                                            "band"]),
                             value=repr(list(band)), expected="[low, high] with low below high")
        if thresholds[name].band is not None and {"attention", "fail"} & set(over):
            raise InputError(msg.PROFILE_BAND_BOUNDS, path=path, name=name,
                             keys=" and ".join(k for k in ("attention", "fail") if k in over),
                             band=list(thresholds[name].band))
        att, fail = t.get("attention"), t.get("fail")
        if att is None or fail is None:
            continue
        if (t["direction"] == "above" and att > fail) or (t["direction"] == "below"
                                                          and att < fail):
            raise InputError(msg.PROFILE_BOUNDS_ORDER, path=path, name=name, attention=att,
                             fail=fail, direction={"above": "higher", "below": "lower"}
                             [t["direction"]])
