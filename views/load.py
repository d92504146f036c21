"""Load page: what the board audits, the roles of its columns, the trust a model file needs, and
the feature inventory.

A built-in sample, or an uploaded model with its members (training rows) and non-members (holdout
rows), or one data file and the column that splits it. Uploads are saved by content hash
(:mod:`reports.uploads`) so the audit cache finds earlier audits of the same files. Column roles are
pre-selected from :mod:`reports.suggestions`, each suggestion with its reason. A skops file's
untrusted types must each be trusted by name; a pickle only after its warning is acknowledged.
"Use this model" validates everything (``reports.source.AuditSource.load``) and stores the
source, the profile and the inventory in session state (``views.state``); errors name the form
fields (``state.show_error``) and everything entered stays. Widgets keep their
values across page switches (``persist_state="session"``); the inventory's edits are kept as a
draft in ``state.LOAD_FORM``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from audits.core import messages as msg
from audits.core.errors import InputError
from audits.core.loading import file_sha256, load_table
from reports.context import LEGAL_BASES, ORIGINS
from reports.context_files import normalise_inventory
from reports.rights_suggestions import suggest_rights
from reports.source import SAMPLE_NAMES, AuditSource, sample_files, sample_manifest
from reports.suggestions import (
    suggest_personal,
    suggest_positive_label,
    suggest_quasi_identifiers,
    suggest_sensitive,
    suggest_split_column,
    suggest_target,
)
from reports.uploads import inspect_model_file, save_upload
from views import state
from views.texts import md

SAMPLE, UPLOAD = "A built-in sample", "My own model (upload files)"
TWO_FILES, ONE_FILE = "Two files: members and non-members", "One file with a column that splits it"
KEEP = {"persist_state": "session"}
INV_FIELDS = ("origin", "purpose", "legal_basis", "retention")
CHOICE_FIELDS = ("origin", "legal_basis")  # the inventory's drop-down columns
NOT_GIVEN = "(not given)"  # their empty choice, shown in words

form = st.session_state.setdefault(state.LOAD_FORM, {})
uploads = st.session_state.setdefault(state.UPLOADS, {})


@st.cache_data(show_spinner="Preparing the sample...", max_entries=8)
def _manifest(name: str) -> dict:
    return sample_manifest(name)


@st.cache_data(show_spinner="Reading the columns...", max_entries=8)
def _profile(path: str, sha: str) -> dict:
    """Columns, the values of the few-valued ones, and the role suggestions of a data file."""
    frame = load_table(path, what="data file")
    return {"columns": [str(c) for c in frame.columns],
            "values": {str(c): _sorted(frame[c].dropna().unique()) for c in frame.columns
                       if frame[c].nunique() <= 20},
            "sensitive": [s.to_dict() for s in suggest_sensitive(frame)],
            "personal": [s.to_dict() for s in suggest_personal(frame)],
            "quasi": [s.to_dict() for s in suggest_quasi_identifiers(frame.columns)]}


def _sorted(values) -> list:
    plain = [v.item() if hasattr(v, "item") else v for v in values]
    try:
        return sorted(plain)
    except TypeError:
        return sorted(plain, key=str)


@st.cache_data(show_spinner=False, max_entries=8)
def _model_info(path: str, sha: str) -> dict:
    return inspect_model_file(path).to_dict()


@st.cache_data(show_spinner="Reading the model's inputs...", max_entries=8)
def _inputs(source_json: str) -> list[str]:
    return AuditSource.from_dict(json.loads(source_json)).model_inputs()


def _suggested(items: list[dict], columns: list[str]) -> None:
    shown = [s for s in items if s["column"] in columns]
    if shown:
        st.caption("Suggested: " + "; ".join(
            f"**{md(s['column'])}**: {md(s['reason'].split('; ')[0])}" for s in shown))


def _roles(profile: dict, options: list[str], defaults: dict, prefix: str) -> dict:
    """The three column-role multiselects; returns the choices in the data's column order."""
    out = {}
    specs = (("sensitive", "Sensitive fields (fairness is checked across their groups)",
              "GDPR Art. 9 special categories and protected characteristics, such as gender, "
              "ethnicity, age, religion, disability, pregnancy or parenthood.", "sensitive"),
             ("personal", "Personal columns (direct identifiers, never shown raw)",
              "Names, emails, phone numbers, customer ids: redacted in every table and "
              "pseudonymised with a keyed hash.", "personal"),
             ("quasi_identifiers", "Quasi-identifiers (together they may single a person out)",
              "Ordinary attributes such as age, gender and postcode; the audit measures how "
              "many training customers are unique on them.", "quasi"))
    for role, label, help_text, suggestions in specs:
        default = [c for c in options if c in defaults[role]]
        chosen = st.multiselect(label, options, default=default, key=f"{prefix}_{role}",
                                help=help_text, **KEEP)
        _suggested(profile[suggestions], options)
        out[role] = [c for c in options if c in chosen]
    return out


def _sample_section() -> AuditSource:
    current = state.source()
    default = current.sample if current.kind == "sample" else state.DEFAULT_SAMPLE
    manifests = {n: _manifest(n) for n in SAMPLE_NAMES}
    name = st.radio("Sample model", SAMPLE_NAMES, index=SAMPLE_NAMES.index(default),
                    captions=[manifests[n]["description"] for n in SAMPLE_NAMES],
                    key="load_sample", **KEEP)
    m = manifests[name]
    st.markdown(f"Target: **{md(m['target'])}**; the model's score is the probability of "
                f"**{md(repr(m['positive_label']))}** ({md(m['favourable_action'])}).")
    members = Path(_sample_members(name))
    profile = _profile(str(members), file_sha256(members))
    options = [c for c in profile["columns"] if c != m["target"]]
    manifest_roles = {"sensitive": m["sensitive_fields"], "personal": m["personal_columns"],
                      "quasi_identifiers": m["quasi_identifiers"]}
    chosen = _roles(profile, options, manifest_roles, f"load_{name}")
    changed = {k: (v if v != [c for c in options if c in manifest_roles[k]] else None)
               for k, v in chosen.items()}
    return AuditSource.of_sample(name, **changed)


def _sample_members(name: str) -> str:
    return str(sample_files(name)["train"])


def _saved(role: str, label: str, types: list[str], help_text: str) -> Path | None:
    """An uploader whose file is saved by hash; the saved path outlives the widget."""
    up = st.file_uploader(label, type=types, key=f"load_up_{role}", help=help_text)
    if up is not None:
        ids = form.setdefault("saved_ids", {})
        if up.file_id not in ids:
            ids[up.file_id] = str(save_upload(up.name, up.getvalue()))
        uploads[role] = ids[up.file_id]
    path = uploads.get(role)
    if path and not Path(path).is_file():
        uploads.pop(role)
        return None
    if path and up is None:
        st.caption(f"Using the file uploaded earlier: {md(Path(path).name)}. Upload another to "
                   "replace it.")
    return Path(path) if path else None


def _trust(model: Path, blockers: list[str]) -> tuple[list[str], bool]:
    """The trust widgets of a model file: (trusted types, trust_pickle)."""
    sha = file_sha256(model)
    try:
        info = _model_info(str(model), sha)
    except InputError as e:
        state.show_error(e)
        blockers.append("upload a model file that can be read")
        return [], False
    if info["format"] == "pickle":
        st.warning("This is a pickle file (.pkl, .joblib, .pickle). Loading a pickle runs any "
                   "code its author put in it, with your permissions, on this computer. Load it "
                   "only if you trust the file and the person who made it. A model saved with "
                   "skops (skops.io.dump) loads without running code.")
        ok = st.checkbox("I trust this file and its author", value=False,
                         key=f"load_trust_pickle_{sha[:16]}", **KEEP)
        if not ok:
            blockers.append("confirm that you trust the pickle file and its author")
        return [], ok
    untrusted = info["untrusted"]
    if not untrusted:
        st.caption("skops file: every type in it is one skops trusts, so loading it runs no "
                   "code.")
        return [], False
    st.markdown("This skops file contains types that skops does not trust by default. skops only "
                "builds the types you allow, so nothing else in the file can run; a type you "
                "allow runs its own loading code. Trust each one only if you trust the model's "
                "author.")
    trusted = [t for t in untrusted
               if st.checkbox(f"Trust {t}", value=False, key=f"load_trust_{sha[:16]}_{t}",
                              **KEEP)]
    if len(trusted) < len(untrusted):
        blockers.append(f"trust each listed type of the model file ({len(untrusted) - len(trusted)}"
                        " not yet trusted)")
    return trusted, False


def _upload_section(blockers: list[str]) -> AuditSource | None:
    model = _saved("model", "Model file (.skops, or a pickle: .pkl, .joblib, .pickle)",
                   ["skops", "pkl", "joblib", "pickle"],
                   "A fitted classifier with predict_proba, saved with skops.io.dump (safe).")
    trusted, trust_pickle = _trust(model, blockers) if model else ([], False)
    layout = st.radio("How is the data given?", [TWO_FILES, ONE_FILE], key="load_layout",
                      horizontal=True, **KEEP)
    train = _saved("train", "Members: the rows the model was trained on (CSV or Parquet)"
                   if layout == TWO_FILES else "Data: training and holdout rows (CSV or Parquet)",
                   ["csv", "parquet"], "Each row a customer; the model's inputs and the target.")
    holdout = _saved("holdout", "Non-members: rows the model never saw (CSV or Parquet)",
                     ["csv", "parquet"], "Same columns as the members file.") \
        if layout == TWO_FILES else None
    if uploads and st.button("Forget the uploaded files"):
        uploads.clear()
        form.pop("saved_ids", None)
        st.rerun()
    if model is None or train is None or (layout == TWO_FILES and holdout is None):
        blockers.append("upload the model file and the data")
        return None
    sha = file_sha256(train)
    try:
        profile = _profile(str(train), sha)
    except InputError as e:
        state.show_error(e)
        blockers.append("upload data files that can be read")
        return None
    columns, prefix = profile["columns"], f"load_{sha[:16]}"
    split = None
    if layout == ONE_FILE:
        guess = suggest_split_column(_binary_frame(profile, columns))
        split = st.selectbox("Column that marks training (train/1) and holdout (holdout/0) rows",
                             columns, index=columns.index(guess) if guess in columns else 0,
                             key=f"{prefix}_split", **KEEP)
    candidates = [c for c in columns if c != split]
    suggested = suggest_target(_binary_frame(profile, candidates))
    target = st.selectbox("Target: the outcome the model predicts", candidates,
                          index=candidates.index(suggested) if suggested in candidates else 0,
                          key=f"{prefix}_target", **KEEP)
    values = profile["values"].get(target, [])
    positive = None
    if values:
        best = suggest_positive_label(values)
        positive = st.selectbox("Positive label: the class whose probability is the score",
                                values, index=values.index(best), key=f"{prefix}_{target}_pos",
                                **KEEP)
    else:
        st.caption(f"The column {md(repr(target))} has many distinct values; a target needs two.")
    options = [c for c in candidates if c != target]
    sens = {s["column"] for s in profile["sensitive"]}
    pers = {s["column"] for s in profile["personal"]}
    quasi = {s["column"] for s in profile["quasi"]}
    defaults = {"sensitive": [c for c in options if c in sens and c not in pers],
                "personal": [c for c in options if c in pers],
                "quasi_identifiers": [c for c in options if c in quasi]}
    roles = _roles(profile, options, defaults, f"{prefix}_{target}")
    name = st.text_input("Name of the model (printed on the report)", value=model.stem,
                         key=f"{prefix}_name", **KEEP)
    return AuditSource(model=model, train=train, holdout=holdout, target=target,
                       positive_label=positive, split_column=split, trusted=trusted,
                       trust_pickle=trust_pickle, name=name.strip() or model.stem, **roles)


def _binary_frame(profile: dict, columns: list[str]) -> pd.DataFrame:
    """A stand-in frame with each two-valued column's values, for suggest_target."""
    return pd.DataFrame({c: pd.Series(profile["values"][c]) for c in columns
                         if len(profile["values"].get(c, [])) == 2})


@st.cache_data(show_spinner="Looking for consent and rights columns...", max_entries=8)
def _rights_profile(path: str, sha: str) -> dict:
    frame = load_table(path, what="data file")
    return {"columns": [str(c) for c in frame.columns],
            "suggested": {r: [x.to_dict() for x in v] for r, v in suggest_rights(frame).items()}}


def _rights_section(candidate: AuditSource, inventory: dict | None) -> dict | None:
    """Consent, collection date, source, opt-out and erasure requests (issue 18); returns the
    declaration's plain form for the source, or None (a sample keeps its manifest's)."""
    st.subheader("Consent and data rights")
    st.caption("Columns of the customers' rows that record their choices (none is a model "
               "input), the model's purposes, and the customers who asked to be erased (their "
               "ids are never shown, only counted).")
    if candidate.sample is not None:
        declared = _manifest(candidate.sample).get("rights") or {}
        st.caption("Declared by the sample: " + md("; ".join(
            f"{k.replace('_', ' ')}: {v if isinstance(v, str) else ', '.join(v)}"
            for k, v in declared.items() if k in ("consent", "purposes", "collected_at",
                                                   "data_source", "erased", "trained_at"))
            or "nothing") + ".")
        return None
    path = candidate.train
    prof = _rights_profile(path, file_sha256(path))
    cols, sug = prof["columns"], prof["suggested"]
    consent = st.multiselect("Consent columns (yes/no; then say which purposes each covers)",
                             cols, key="load_rights_consent", **KEEP)
    _suggested(sug["consent"], cols)
    covers = {c: st.text_input(f"Purposes that '{c}' covers (separate with |)",
                               key=f"load_rights_covers_{c}", **KEEP) for c in consent}
    purposes = st.text_input("The model's purposes (separate with |), as the consents name "
                             "them", key="load_rights_purposes", **KEEP)
    picked = {}
    for role, label in (("collected_at", "Collection date column"),
                        ("data_source", "Data source column (first party, third party, broker)"),
                        ("opt_out", "Opt-out of automated decisions column")):
        options = ["(none)"] + cols
        default = sug[role][0]["column"] if sug[role] else "(none)"
        value = st.selectbox(label, options, index=options.index(default),
                             key=f"load_rights_{role}", **KEEP)
        _suggested(sug[role], cols)
        picked[role] = None if value == "(none)" else value
    training = picked["opt_out"] is not None and st.radio(
        "The opt-out covers", ("automated decisions", "automated decisions and training"),
        key="load_rights_opt_out_scope", horizontal=True, help="Training: the customer also "
        "objected to their data training models (GDPR Art. 21).", **KEEP) != \
        "automated decisions"
    erased = _saved("erased", "Erased customers (CSV: the id column and requested_at)", ["csv"],
                    "Customers who asked to be erased (GDPR Art. 17), with the request date.")
    trained = st.text_input("When the model was trained (YYYY-MM-DD)", key="load_rights_trained",
                            **KEEP)
    entries = (inventory or {}).get("features") or {}
    spec = {"consent": {c: [p for p in covers[c].split("|") if p.strip()] for c in consent},
            "purposes": [p for p in purposes.split("|") if p.strip()],
            "collected_at": picked["collected_at"], "data_source": picked["data_source"],
            "opt_out": {"column": picked["opt_out"], "covers_training": bool(training)}
            if picked["opt_out"] else None, "erased": str(erased) if erased else None,
            "trained_at": trained.strip() or None,
            "retention": {f: e.get("retention") for f, e in entries.items()},
            "origins": {f: e.get("origin") for f, e in entries.items()}}
    if not any(spec[k] for k in ("consent", "collected_at", "data_source", "opt_out", "erased")):
        return None
    empty = [c for c, p in spec["consent"].items() if not p]
    if empty:
        raise InputError(msg.RIGHTS_CONSENT_NO_PURPOSE, columns=empty)
    return {k: v for k, v in spec.items() if v}


def _inventory_editor(inputs: list[str]) -> dict | None:
    """The editable inventory, one row per model input; returns it normalised, or None if empty."""
    key = "load_inventory_" + hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]
    drafts = form.setdefault("inventory", {})
    if key not in st.session_state or key not in drafts:  # first show, or after a page switch
        saved = (st.session_state.get(state.INVENTORY) or {}).get("features", {})
        rows = drafts.get(key, {}).get("current") or [
            {"feature": f} | {k: (saved.get(f) or {}).get(k) for k in INV_FIELDS} for f in inputs]
        drafts[key] = {"base": rows, "current": rows}
    # an empty cell says so: a missing value would print Python's "None" in the cell
    base = pd.DataFrame(drafts[key]["base"], columns=["feature", *INV_FIELDS])
    base = base.fillna({k: NOT_GIVEN if k in CHOICE_FIELDS else "" for k in INV_FIELDS})
    edited = st.data_editor(
        base, key=key, num_rows="fixed", hide_index=True, disabled=["feature"],
        column_config={
            "feature": st.column_config.TextColumn("Model input"),
            "origin": st.column_config.SelectboxColumn(
                "Origin", options=[NOT_GIVEN, *ORIGINS], help="Where the data comes from."),
            "purpose": st.column_config.TextColumn("Purpose", help="Why the model uses it."),
            "legal_basis": st.column_config.SelectboxColumn(
                "Legal basis", options=[NOT_GIVEN, *LEGAL_BASES], help="GDPR Art. 6(1)."),
            "retention": st.column_config.TextColumn("Retention", help="How long it is kept.")})
    records = edited.astype(object).where(edited.notna(), None).replace(
        {NOT_GIVEN: None}).to_dict("records")
    drafts[key]["current"] = records
    entries = {r["feature"]: {k: r.get(k) for k in INV_FIELDS} for r in records}
    if not any(v not in (None, "") for e in entries.values() for v in e.values()):
        return None
    return normalise_inventory(entries, Path("the inventory table"), inputs)


st.title("Load a model and its data")
st.caption("Choose what the board reviews. Files stay on this computer, in the tool's own "
           "folder; nothing is sent anywhere.")
current = state.source()
chosen_box = st.empty()

kind = st.radio("What to audit", [SAMPLE, UPLOAD], key="load_kind", horizontal=True,
                index=1 if current.kind == "files" else 0, **KEEP)
blockers: list[str] = []
candidate = None
try:
    if kind == SAMPLE:
        candidate = _sample_section()
    else:
        candidate = _upload_section(blockers)
except InputError as e:
    state.show_error(e)
    blockers.append("fix the problem shown above")

inventory = None
if candidate is not None:
    st.subheader("Feature inventory")
    st.caption("For each model input: where it comes from, why the model uses it, the legal "
               "basis for using it (GDPR Art. 6(1)) and how long it is kept. It is stored with "
               "the submission; an input without a purpose or legal basis becomes a finding "
               "(purpose limitation, GDPR Art. 5(1)(b)).")
    try:
        inventory = _inventory_editor(_inputs(json.dumps(candidate.to_dict(), sort_keys=True)))
    except InputError as e:
        state.show_error(e)
    try:
        rights = _rights_section(candidate, inventory)
    except InputError as e:
        state.show_error(e)
        blockers.append("fix the data-rights declaration")
    else:
        if rights:
            candidate = dataclasses.replace(candidate, rights=rights)
    if candidate == current:  # edits to the chosen model's inventory are kept at once
        if inventory is None:
            st.session_state.pop(state.INVENTORY, None)
        else:
            st.session_state[state.INVENTORY] = inventory

st.subheader("How thorough")
profiles = list(state.PROFILE_LABELS)
chosen_profile = st.session_state.get(state.PROFILE, "default")
profile = st.radio("Audit profile", profiles, key="load_profile",
                   format_func=state.PROFILE_LABELS.get,
                   index=profiles.index(chosen_profile) if chosen_profile in profiles else 0,
                   **KEEP)
if blockers:
    st.info("Before the audit can start: " + "; ".join(blockers) + ".")
if st.button("Use this model", type="primary", disabled=bool(blockers) or candidate is None):
    try:
        with st.spinner("Checking the model and its data..."):
            candidate.load()
    except InputError as e:
        state.show_error(e)
    else:
        if candidate != current or profile != st.session_state.get(state.PROFILE, "default"):
            for k in (state.REPORT, state.AUDIT_KEY, state.RUN_ID):
                st.session_state.pop(k, None)
        st.session_state[state.SOURCE] = candidate.to_dict()
        st.session_state[state.PROFILE] = profile
        if inventory is None:
            st.session_state.pop(state.INVENTORY, None)
        else:
            st.session_state[state.INVENTORY] = inventory
        st.success(f"Ready to audit {md(candidate.describe())}.")
st.page_link(state.PAGES["run"], label="Go to Run the audit")
chosen_box.info(f"Chosen for the audit now: {md(state.source().describe())}; "
                f"{state.PROFILE_LABELS.get(st.session_state.get(state.PROFILE, 'default'))}.")
