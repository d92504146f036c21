"""Every message a bad input gets, as constants that tests assert exactly (fairlearn's habit).

A message follows the project's formula (DESIGN.md, "Error messages"): what is wrong, in which
file and column, and the fix, listing the valid options where there are some. It names each field
the user can change once, in a neutral form, and carries it as data so each front end says it in
its own words:

- ``{f[target]}`` in a template names a fixed field (keys of :data:`FIELDS`);
- a value whose name starts with ``field`` (``field``, ``field2``, ``fields``) is a field key, or a
  list of them, chosen where the error is raised (e.g. which of the two data files).

``render(labels, **values)`` fills the template; ``labels`` maps a field to a front end's words
(the command line: ``"the target column (--target)"``; the app: its form label), and fields it
does not map keep :data:`FIELDS`' neutral words. Values that came from the data are never the
values of a personal column: messages print column names, counts and shares instead.
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["Message", "FIELDS", "field_label"]

#: The fields a user fills in, in neutral words (the command line and the app add their own).
FIELDS: dict[str, str] = {
    "sample": "the built-in sample",
    "model": "the model file",
    "train": "the training (members) file",
    "holdout": "the holdout (non-members) file",
    "split_column": "the split column",
    "target": "the target column",
    "positive_label": "the positive label",
    "sensitive": "the sensitive fields",
    "personal": "the personal columns",
    "quasi_identifiers": "the quasi-identifiers",
    "id_column": "the id column",
    "decision_threshold": "the decision threshold",
    "favourable": "the favourable decision",
    "favourable_action": "the favourable action",
    "trusted": "the trusted model types",
    "trust_pickle": "the explicit trust in a pickle file",
    "seed": "the seed",
    "config": "the threshold profile",
    "out": "the output folder",
    "formats": "the report formats",
    "probes": "the probes to run",
    "fail_on": "the release gate",
    "context": "the context file",
    "inventory": "the feature inventory",
    "source": "the model and data chosen for the audit",
    "task": "the model's task",
    "recipe": "the training recipe",
    "consent": "the consent columns",
    "purpose": "the model's purposes",
    "collected_at": "the collection-date column",
    "data_source": "the data-source column",
    "opt_out": "the opt-out column",
    "erased": "the erased-customers file",
    "trained_at": "the model's training date",
    "rights": "the data-rights declaration",
}


def field_label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """How a front end names one field (its own words, else the neutral ones)."""
    if labels and key in labels:
        return labels[key]
    return FIELDS.get(key, key.replace("_", " "))


class _Labels(dict):
    """``{f[key]}`` lookups: the front end's words, else the neutral ones."""

    def __init__(self, labels: Mapping[str, str] | None) -> None:
        super().__init__()
        self.labels = labels

    def __missing__(self, key: str) -> str:
        return field_label(key, self.labels)


@dataclass(frozen=True)
class Message:
    """A message template: ``{name}`` for a value, ``{f[field]}`` for a field the user sets."""

    template: str
    code: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The fixed fields the template names, in order."""
        out = []
        for _, name, _, _ in string.Formatter().parse(self.template):
            if name and name.startswith("f[") and name.endswith("]"):
                key = name[2:-1]
                if key not in out:
                    out.append(key)
        return tuple(out)

    def fields_of(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """Every field a rendered message names: the fixed ones and those given as values."""
        out = list(self.fields)
        for k, v in values.items():
            if k.startswith("field"):
                for key in ([v] if isinstance(v, str) else list(v)):
                    if key not in out:
                        out.append(key)
        return tuple(out)

    def render(self, labels: Mapping[str, str] | None = None, /, **values: Any) -> str:
        """The message with its values filled in and its fields in the front end's words."""
        filled = {}
        for k, v in values.items():
            if k.startswith("field"):
                keys = [v] if isinstance(v, str) else list(v)
                v = _join([field_label(x, labels) for x in keys])
            filled[k] = v
        text = self.template.format(f=_Labels(labels), **filled)
        return text[:1].upper() + text[1:]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


M = Message
# -- files -------------------------------------------------------------------------------------
FILE_MISSING = M("The {what} {path} does not exist. Check {field}.")
FILE_IS_FOLDER = M("The {what} path {path} is a folder, not a file. Check {field}.")
TABLE_SUFFIX = M("The {what} {path} has suffix {suffix!r}; supported are .csv and .parquet. "
                 "Convert or rename it, and check {field}.")
TABLE_EMPTY = M("The {what} {path} is empty. Check {field}.")
TABLE_UNREADABLE = M("The {what} {path} could not be read as {kind} ({error}). Check that it is "
                     "a valid {kind} file, and check {field}.")
TABLE_NO_ROWS = M("The {what} {path} has no rows; an audit needs data. Check {field}.")

# -- partitioned input (a Parquet dataset: a folder or a glob) ----------------------------------
DATASET_NO_FILES = M("The {what} {path} names no Parquet file (.parquet or .pq). Give a folder of "
                     "Parquet files, a glob such as data/part-*.parquet, or one file, and check "
                     "{field}.")
DATASET_NOT_PARQUET = M("The {what} {path} holds files that are not Parquet: {files}. A "
                        "partitioned input is read as Parquet only; convert them or narrow the "
                        "glob, and check {field}.")
DATASET_COLUMNS_DIFFER = M(
    "The file {file} of the {what} does not have the columns of {first}: missing {missing}, "
    "extra {extra}. Every file of a dataset needs the same columns; rewrite {file} with them or "
    "leave it out, and check {field}.")
DATASET_TYPE_DIFFERS = M(
    "The column {column!r} is {type} in {file} but {first_type} in {first}, both files of the "
    "{what}. Every file of a dataset needs the same column types; rewrite {file} with the type "
    "of {first}, and check {field}.")
DATASET_TARGET_VALUES = M(
    "The target column {column!r} has {n:,} empty value(s) in {file}. Every row needs a target "
    "value; fill or drop those rows, and check {f[target]}.")
DATASET_TARGET_UNKNOWN = M(
    "The target column {column!r} holds {values} in {file}, which the model does not know "
    "(classes {classes}). Check the target and the positive label ({f[target]}).")
DATASET_INFINITE = M("The column {column!r} has {n:,} infinite value(s) in {file}. Replace them "
                     "with a number or an empty value.")
CLUSTER_FAILED = M(
    "The Dask cluster at {address} could not finish the audit's work ({error}). Nothing was "
    "recorded. Check that the scheduler and its workers are running and have the memory for one "
    "partition, or run without a cluster.")
CLUSTER_UNREACHABLE = M(
    "No Dask scheduler answers at {address} ({error}). Start one (dask scheduler; dask worker "
    "{address}), fix the address in REVIEW_BOARD_DASK or --dask, or run without a cluster.")

# -- the model ---------------------------------------------------------------------------------
MODEL_NOT_SKOPS = M("The model file {path} is not a readable skops file ({error}). Save the "
                    "model with skops.io.dump(model, 'model.skops').")
MODEL_LOOKS_LIKE_PICKLE = M(
    "The model file {path} is not a readable skops file ({error}); it looks like a pickle. "
    "Loading a pickle runs code, so rename it to .pkl and give {f[trust_pickle]} only if you "
    "trust its author; or save the model with skops.io.dump(model, 'model.skops').")
MODEL_UNTRUSTED_TYPES = M(
    "The model file {path} contains types that skops does not trust by default: {types}. "
    "Loading them could run their code. If you trust the model's author, add each by name to "
    "{f[trusted]}.")
MODEL_SKOPS_FAILED = M("The model file {path} could not be loaded by skops ({error}). Re-save it "
                       "with skops.io.dump.")
MODEL_PICKLE_REFUSED = M(
    "The model file {path} is a pickle. Loading a pickle runs any code its author put in it, so "
    "it is refused by default. Save the model with skops (skops.io.dump) instead, or give "
    "{f[trust_pickle]} if you trust the file's author.")
MODEL_PICKLE_FAILED = M("The model file {path} could not be unpickled ({error}). Check that it is "
                        "a joblib or pickle file.")
MODEL_NOT_A_MODEL = M("The file {path} holds a {kind}, which is not a model (it has no predict "
                      "method). Check {f[model]}: it must be a fitted classifier.")
MODEL_NO_PROBA = M("The model in {path} ({kind}) has no predict_proba; the audit needs "
                   "probability scores. Use a probabilistic classifier, or wrap it in "
                   "sklearn.calibration.CalibratedClassifierCV.")
MODEL_NOT_FITTED = M("The model in {path} ({kind}) is not fitted (it has no classes_). Fit it "
                     "before saving.")
MODEL_ONE_CLASS = M("The model in {path} has {n} class; an audit needs a classifier with at "
                    "least two classes, or a regression.")
REGRESSION_NO_LABEL = M("The model in {path} is a regression: it has no classes, so "
                        "{f[positive_label]} does not apply. Leave it out, and give "
                        "{f[favourable]} as higher or lower (which predictions benefit the "
                        "customer).")
THRESHOLD_MULTICLASS = M("A decision threshold applies to a binary classifier or a regression; "
                         "the model is a multiclass classifier with classes {classes}, which "
                         "decides by its most probable class. Leave out "
                         "{f[decision_threshold]}.")
MODEL_NO_FEATURE_NAMES = M(
    "The model in {path} does not record its input column names (it was fitted on a NumPy "
    "array). Refit it on a pandas DataFrame so the audit can match columns by name.")
MODEL_TAKES_TARGET = M("The model in {path} takes the target column {column!r} as an input. "
                       "Check {f[target]}.")
MODEL_FEATURES_MISSING = M(
    "The model in {path} expects feature column(s) {missing} that {file} lacks. Columns in the "
    "file: {columns}. Add them, or check that you gave the right data.")
MODEL_FAILS = M("The model in {path} fails on the rows of {file} ({error}). Check that the data "
                "has the columns and types the model was trained on.")

# -- native model files (audits/core/formats.py) -----------------------------------------------
_NATIVE = ("Supported: skops (.skops), XGBoost JSON/UBJSON (.json, .ubj, Booster.save_model), "
           "LightGBM text (.txt, Booster.save_model) and ONNX (.onnx).")
NATIVE_UNKNOWN_FORMAT = M("The model file {path} is not an XGBoost, LightGBM or ONNX file. "
                          + _NATIVE)
NATIVE_UNNAMED_INPUTS = M("The model in {name} does not record its input column names "
                          "({names}...). {how} so the audit can match columns by name.")
XGBOOST_UNREADABLE = M("The model file {path} is not a readable XGBoost model ({error}). Save it "
                       "with Booster.save_model('model.json') or ('model.ubj').")
XGBOOST_OBJECTIVE = M("The XGBoost model in {name} has the objective {objective!r}{targets}; the "
                      "audit takes binary (binary:logistic), multiclass (multi:softprob) and "
                      "single-target regression (reg:*, count:poisson) models.")
XGBOOST_CATEGORIES = M("The XGBoost model in {name} has the categorical input {column!r} but does "
                       "not record its categories (files of XGBoost before 3.1). Re-save it with "
                       "XGBoost 3.1 or later, trained on a DataFrame with pandas categories.")
LIGHTGBM_UNREADABLE = M("The model file {path} is not a readable LightGBM text model ({error}). "
                        "Save it with booster.save_model('model.txt').")
LIGHTGBM_OBJECTIVE = M("The LightGBM model in {name} has the objective {objective!r}; the audit "
                       "takes binary, multiclass and regression objectives (ranking and custom "
                       "objectives say nothing of how a score becomes a prediction).")
ONNX_UNREADABLE = M("The model file {path} is not a readable ONNX model ({error}). Export it "
                    "with skl2onnx or onnxmltools.")
ONNX_CANNOT_RUN = M("onnxruntime cannot run the ONNX model in {name} ({error}). Check the "
                    "exporter's opset.")
ONNX_CUSTOM_OPERATORS = M("The ONNX model in {name} uses custom operators (domains {domains}); "
                          "they need native libraries, which run code, so they are not loaded. "
                          "Export it with standard operators only.")
ONNX_EXTERNAL_DATA = M("The ONNX model in {name} keeps its weights in external files, which are "
                       "not read (their paths could point anywhere). Save it as one file: "
                       "onnx.save(model, path, save_as_external_data=False).")
ONNX_INPUT_TYPE = M("The ONNX model in {name} has the input {input!r} of type {type}; the audit "
                    "feeds numbers or text columns.")
ONNX_UNNAMED_TENSOR = M("The ONNX model in {name} takes one tensor of {width} columns and does "
                        "not name them. Export it with one input per column "
                        "(skl2onnx.to_onnx(model, X.head()) on a DataFrame) or add the metadata "
                        "property 'feature_names' (a JSON list) so the audit can match columns "
                        "by name.")
ONNX_SEVERAL_TENSORS = M("The ONNX model in {name} takes several multi-column tensors {inputs}; "
                         "export it with one input per column.")
ONNX_NO_CLASSES = M("The ONNX model in {name} outputs probabilities but its class labels cannot "
                    "be found. Add the metadata property 'classes' (a JSON list in the "
                    "probabilities' column order).")
ONNX_OUTPUTS = M("The ONNX model in {name} has outputs {outputs}: neither a classifier (a label "
                 "and a probabilities output) nor a regression (one numeric output).")

# -- the two parts -----------------------------------------------------------------------------
HOLDOUT_MISSING = M("There are no holdout rows: give {f[holdout]}, rows the model never saw, or "
                    "{f[split_column]}, the column of the data that marks them.")
SPLIT_COLUMN_MISSING = M("The split column {column!r} is not in {file}. Columns in the file: "
                         "{columns}. Check {f[split_column]}.")
SPLIT_VALUES_UNKNOWN = M(
    "The split column {column!r} in {file} has values {values} that are neither training "
    "(train/member/1/true) nor holdout (test/holdout/0/false). Fix the column, or check "
    "{f[split_column]}.")
SPLIT_PART_EMPTY = M("The split column {column!r} in {file} marks no {part} rows; an audit needs "
                     "both. Fix the column, or check {f[split_column]}.")
COLUMNS_DIFFER = M(
    "The members file {members} and the non-members file {nonmembers} have different columns: "
    "only in members {only_members}, only in non-members {only_nonmembers}. Both files need the "
    "same columns.")
FILES_IDENTICAL = M(
    "The training file {members} and the holdout file {nonmembers} have the same content "
    "(SHA-256 {sha256}): 100% of the holdout rows are training rows, so nothing the audit "
    "measures on unseen customers would mean anything. Check {f[holdout]}: it must hold rows "
    "the model never saw.")
ROWS_SHARED = M(
    "{share} of the holdout rows ({n} of {total}) in {nonmembers} are also training rows in "
    "{members} (matched by {how}); above {limit} the holdout no longer measures customers the "
    "model never saw. Remove those rows from the holdout, or check {field}.")

# -- columns and their roles -------------------------------------------------------------------
TARGET_NOT_IN_FILE = M("The target column {column!r} is not in {file}. Columns in the file: "
                       "{columns}. Check {f[target]}.")
TARGET_EMPTY_VALUES = M("The target column {column!r} has {n} empty values in {file}. Drop or "
                        "fill those rows.")
TARGET_MULTICLASS = M("The target column {column!r} has {n} distinct values in {file}, but the "
                      "model is a binary classifier: a multiclass target is not supported by a "
                      "binary model. Check {f[target]}, or give the model trained on this "
                      "target.")
TARGET_ONE_CLASS = M("The target column {column!r} has 1 distinct value ({value!r}) in {file}; "
                     "an audit needs at least two classes. Check {f[target]} and "
                     "{f[positive_label]}.")
TARGET_UNKNOWN_VALUES = M("The target column {column!r} in {file} has values {values} that are "
                          "not the model's classes {classes}. Check {f[target]}.")
LABEL_NOT_A_CLASS = M("The {what} {value!r} is not one of the model's classes {classes}. Check "
                      "{field}.")
DIRECTION_UNKNOWN = M("The favourable direction {value!r} of a regression is not one of {valid}: "
                      "say whether higher or lower predictions benefit the customer. Check "
                      "{f[favourable]}.")
ROLE_COLUMNS_MISSING = M("{field} name(s) {missing}, which are not columns of {file}. Columns in "
                         "the file: {columns}.")
ROLE_DUPLICATES = M("{field} name(s) {names} more than once. Name each column once.")
TARGET_IN_ROLE = M("The target column {column!r} is also named in {field}; the target is the "
                   "outcome the model predicts, not a {role}. Drop it from that list.")
COLUMN_IN_TWO_ROLES = M(
    "The column {column!r} is named both in {field} and in {field2}. {why} Name it in one list "
    "only.")
SENSITIVE_LOOKS_PERSONAL = M(
    "The sensitive field {column!r} looks like a personal column ({evidence}); its groups would "
    "print personal values in the report. Declare it in {f[personal]} instead of "
    "{f[sensitive]}, or give a coded or banded version of it as the sensitive field.")
TOO_MANY_GROUPS = M(
    "The sensitive field {column!r} has {n} groups in {file}; a board cannot read more than "
    "{limit} groups per field, and each would be printed. Band it into fewer groups (e.g. age "
    "bands, regions) or, if it identifies people, declare it in {f[personal]} instead of "
    "{f[sensitive]}.")
INFINITE_VALUES = M("The column {column!r} has {n} infinite values in {file}. Replace them with "
                    "numbers, leave them empty (missing), or drop those rows.")
INPUT_ALL_MISSING = M(
    "The model input {column!r} is empty in every row of {file}, so the audit cannot see how the "
    "model uses it. Fill the column, or check {field}.")
COLUMN_TYPE_DIFFERS = M("The column {column!r} holds numbers in one file and text in {file}. Fix "
                        "the values so both files have the same type.")
COLUMN_NOT_NUMERIC = M("The column {column!r} in {file} should hold numbers but has text values "
                       "such as {values}. Fix or drop those rows.")
PERSONAL_NOT_NUMERIC = M(
    "The column {column!r} in {file} should hold numbers but has {n} text values (not shown: "
    "it is a personal column). Fix or drop those rows.")
COLUMN_EMPTY_VALUES = M("The column {column!r} has {n} empty values in {file}, and the model "
                        "({kind}) cannot score rows with missing values. Fill or drop those rows.")

# -- options -----------------------------------------------------------------------------------
THRESHOLD_NOT_A_NUMBER = M(
    "The decision threshold {value!r} is not a number. Give {f[decision_threshold]} as a "
    "probability strictly between 0 and 1 (e.g. 0.5), or leave it out to use the model's own "
    "predict.")
THRESHOLD_OUT_OF_RANGE = M(
    "The decision threshold {value} lies outside (0, 1): the model would decide the same for "
    "every customer, so no rate could be compared. Give {f[decision_threshold]} as a probability "
    "strictly between 0 and 1 (e.g. 0.5), or leave it out to use the model's own predict.")
SEED_NOT_AN_INTEGER = M("The seed {value!r} is not a whole number. Give {f[seed]} as an integer "
                        "from 0 to {max}.")
SEED_OUT_OF_RANGE = M("The seed {value} lies outside 0 to {max}. Give {f[seed]} as an integer in "
                      "that range.")
FORMATS_UNKNOWN = M("{f[formats]} name {bad}, which are not available; available: {valid}.")
PROBES_UNKNOWN = M("{f[probes]} name {bad}, which are not probes; available probes: {valid}.")
PROBES_NONE = M("{f[probes]} name no probe. Name at least one of {valid}, or leave the option "
                "out to run them all.")
GATE_UNKNOWN = M("{f[fail_on]} is {value!r}; valid: {valid}.")
SAMPLE_UNKNOWN = M("There is no sample {name!r}; samples: {valid}. Check {f[sample]}.")
SAMPLE_WITH_FILES = M("{f[sample]} is audited with its own files: leave out {fields}, or leave "
                      "out {f[sample]}.")
FILES_NOT_GIVEN = M("To audit a model, give {fields} (missing), or choose {f[sample]}.")
TEXT_TOO_LONG = M("{field} is {n} characters long; at most {limit} are printed on a report. "
                  "Shorten it.")
ROLE_UNKNOWN = M("Unknown column role(s) {bad} for a sample; valid: {valid}.")

# -- where the report goes ---------------------------------------------------------------------
OUT_IS_FILE = M("The output folder {path} is an existing file. Check {f[out]}: name a folder "
                "(it is created when missing).")
OUT_BELOW_FILE = M("The output folder {path} cannot be created: {parent} is a file, not a "
                   "folder. Check {f[out]}.")
OUT_NOT_WRITABLE = M("The output folder {path} cannot be written ({reason}). Check {f[out]}, or "
                     "choose a folder you can write to.")
FORMAT_UNKNOWN = M("Unknown format {value!r}; formats: {valid}.")

# -- the threshold profile ---------------------------------------------------------------------
PROFILE_NOT_TOML = M("The threshold profile {path} is not valid TOML: {error}. Fix the file, or "
                     "leave out {f[config]} for the default profile.")
PROFILE_UNKNOWN_KEYS = M("The threshold profile {path} sets unknown {what} {bad}; valid: "
                         "{valid}.")
PROFILE_UNKNOWN_THRESHOLD = M("The threshold profile {path} names unknown threshold {name!r}; "
                              "valid thresholds: {valid}.")
PROFILE_BAD_VALUE = M("The threshold profile {path} sets {key} to {value}; it must be {expected}. "
                      "Fix the file, or leave out {f[config]} for the default profile.")
PROFILE_BOUNDS_ORDER = M(
    "The threshold profile {path} sets {name!r} to attention {attention} and fail {fail}; where "
    "{direction} is worse, the attention bound must not lie beyond the fail bound. Fix the file.")
PROFILE_BAND_BOUNDS = M(
    "The threshold profile {path} sets {keys} of {name!r}, which is judged on a band (default "
    "{band}): its severity comes from the band alone, so those keys would be ignored. Set "
    "band = [low, high] instead, and fix the file.")

# -- what is audited (the app's source) and what it was ----------------------------------------
SOURCE_FILES_GONE = M("The file(s) {missing} are gone; choose {f[source]} again.")
SOURCE_KIND_UNKNOWN = M("Unknown source kind {kind!r}: choose a sample or upload files "
                        "({f[source]}).")
SUBJECT_CHANGED = M(
    "The model and data loaded now ({now!r}) are not the ones this report audited ({then!r}): "
    "{diffs}. Choose the same files ({f[source]}), or run the audit again, before recomputing.")
UPLOAD_NAME = M("The uploaded file name {name!r} is not a plain file name. Rename the file and "
                "upload it again.")
UPLOAD_GONE = M("The model file {name} is gone; upload it again ({f[model]}).")
UPLOAD_NOT_SKOPS = M("The model file {name} is not a readable skops file ({error}). Save the "
                     "model with skops.io.dump(model, 'model.skops'), or upload a .pkl/.joblib "
                     "file and give {f[trust_pickle]}.")

# -- the runner: probes and what they need -----------------------------------------------------
ROWS_TOO_FEW = M(
    "The data has {members} training rows and {nonmembers} holdout rows; every probe asked for "
    "needs at least {need} rows in the parts it reads, so none could judge anything. Give more "
    "rows in {f[train]} and {f[holdout]}.")
NEED_TASK = M("The {probe} probe does not support {task} models yet, so its checks were not "
               "assessed.")
NEED_ROWS = M("The {probe} probe needs at least {need} {part}; {file} has {n}, too few for any "
              "judgement, so its checks were not assessed.")
NEED_SENSITIVE = M("The {probe} probe needs at least one sensitive field, and none was given, so "
                   "its checks were not assessed.")
NEED_REFIT = M("The {probe} probe re-runs the training recipe, and the model cannot be cloned "
               "and refitted ({error}), so its checks were not assessed.")
NEED_ID_COLUMN = M("The {probe} probe needs an id column, and none was given, so its checks "
                   "were not assessed.")
NEED_ACTION = M("Supply what the probe needs ({what}) and re-run the audit.")

# -- the submitter's files ---------------------------------------------------------------------
SUBMITTER_FILE_MISSING = M("The {what} file {path} does not exist. Check {field}, or generate a "
                           "template with: review-board template {template}.")
YAML_INVALID = M("The file {path} is not valid YAML ({error}). Fix it, or generate a fresh "
                 "template (review-board template {template}), and check {field}.")
YES_NO = M("In {path}, {where} is {value!r}; answer yes or no (or leave it empty).")
NOT_A_MAPPING = M("In {path}, {where} must be a mapping with keys {valid}; got {kind}.")
MAPPING_UNKNOWN_KEYS = M("In {path}, {where} has unknown key(s) {bad}; valid keys: {valid}.")
MODE_UNKNOWN = M("In {path}, decisions.mode is {value!r}; valid values: {valid} (automated: no "
                 "person reviews each decision).")
ORIGIN_UNKNOWN = M("In {path}, the origin of {feature!r} is {value!r}; valid origins: {valid}.")
BASIS_UNKNOWN = M("In {path}, the legal basis of {feature!r} is {value!r}; valid bases (GDPR "
                  "Art. 6(1)): {valid}.")
INVENTORY_NOT_INPUTS = M(
    "The inventory {path} lists {bad}, which are not inputs of the model. Model inputs: {valid}. "
    "Fix the names or regenerate the template (review-board template inventory).")
INVENTORY_NOT_CSV = M("The inventory {path} could not be read as CSV ({error}).")
INVENTORY_NO_HEADER = M("The inventory {path} needs a header row with the columns {valid}.")
INVENTORY_UNKNOWN_COLUMNS = M("The inventory {path} has unknown column(s) {bad}; valid columns: "
                              "{valid}.")
INVENTORY_FEATURES = M("In {path}, features must map each model input to its origin, purpose, "
                       "legal_basis and retention.")

# -- tasks, recipes and declarations of the other tasks (issue 14) -----------------------------
TASK_UNKNOWN = M("The task {value!r} is not one of {valid}. Check {f[task]}.")
TASK_CONTRADICTED = M("The task was declared as {declared!r}, but the model in {model} is {what}. "
                      "Leave {f[task]} out, or give the model trained for a {declared} task.")
REGRESSION_TARGET_EMPTY = M("The target column {target!r} has {n} empty values in {file}. Drop "
                            "or fill those rows, or check {f[target]}.")
REGRESSION_TARGET_TEXT = M("The target column {target!r} in {file} holds text values such as "
                           "{examples}, but the model in {model} is a regressor (it predicts "
                           "numbers). Check {f[target]}, or give a classifier for a categorical "
                           "target.")
REGRESSION_TARGET_INFINITE = M("The target column {target!r} in {file} holds infinite values. "
                               "Drop or fix those rows, or check {f[target]}.")
REGRESSION_TARGET_CONSTANT = M("The target column {target!r} has 1 distinct value in {file}; a "
                               "regression audit needs the target to vary. Check {f[target]}.")
DECLARATION_MISSING = M("The {task} model {name!r} has no {what} declared; give {field}.")
RECIPE_UNKNOWN = M("The recipe {value!r} is neither a file nor one of the named recipes {valid}. "
                   "Check {f[recipe]}.")
RECIPE_NOT_SKOPS = M("The recipe file {path} is not a readable skops file ({error}). Save the "
                     "unfitted estimator with skops.io.dump(estimator, 'recipe.skops'), and "
                     "check {f[recipe]}.")
RECIPE_UNTRUSTED_TYPES = M("The recipe file {path} contains types that skops does not trust by "
                           "default: {types}. If you trust its author, add each by name to "
                           "{f[trusted]}.")
RECIPE_UNLOADABLE = M("The recipe file {path} could not be loaded by skops ({error}). Re-save it "
                      "with skops.io.dump, and check {f[recipe]}.")
RECIPE_NOT_ESTIMATOR = M("The recipe file {path} holds a {kind}, which is not a scikit-learn "
                         "estimator (no fit/get_params). Save an unfitted estimator or pipeline, "
                         "and check {f[recipe]}.")
RECIPE_NOT_CLONABLE = M("The recipe in {path} ({kind}) cannot be cloned ({error}). Check "
                        "{f[recipe]}.")
RECIPE_WRONG_TASK = M("The recipe in {path} is {what} ({kind}), but the audited model's task is "
                      "{task}. Check {f[recipe]}.")
# -- the customers' data rights (audits/core/rights.py) ---------------------------------------
RIGHTS_CONSENT_FORMAT = M("The consent declaration {text!r} names no purpose; write "
                          "COLUMN=purpose1|purpose2 (e.g. consent_retention=retention offers|"
                          "profiling). Check {f[consent]}.")
RIGHTS_OPT_OUT_FORMAT = M("The opt-out declaration {text!r} has unknown scope {unknown}; write "
                          "COLUMN or COLUMN=decisions|training ('training' when the opt-out also "
                          "covers using the customer's data to train models, GDPR Art. 21). "
                          "Check {f[opt_out]}.")
RIGHTS_NOT_A_DATE = M("{what} is {value!r}, which is not a date. Write it as YYYY-MM-DD, e.g. "
                      "2025-03-31. Check {field}.")
RIGHTS_ERASED_MISSING = M("The erased-customers file {path} does not exist. Check {f[erased]}.")
RIGHTS_ERASED_UNREADABLE = M("The erased-customers file {path} could not be read as CSV "
                             "({error}). Give a CSV with a header row and one customer id per "
                             "row. Check {f[erased]}.")
RIGHTS_ERASED_NO_ID = M("The erased-customers file {path} has no id column: its columns are "
                        "{columns}. Add a column {need} with one erased customer's id per row. "
                        "Check {f[erased]}.")
RIGHTS_NOT_FLAGS = M("The column '{column}' in {file} should hold yes/no flags but has values "
                     "{bad}. Use 1/0, true/false or yes/no, and check {field}.")
RIGHTS_SOURCE_VALUES = M("The data-source column '{column}' in {file} has values {bad}; valid "
                         "values: {valid}. Fix the values or check {f[data_source]}.")
RIGHTS_DATES_ARE_NUMBERS = M("The collection-date column '{column}' in {file} holds numbers, not "
                             "dates. Give the column with the date each row was collected "
                             "(YYYY-MM-DD). Check {f[collected_at]}.")
RIGHTS_DATES_BAD = M("The collection-date column '{column}' in {file} has {n} value(s) that are "
                     "not dates, such as {shown}. Write dates as YYYY-MM-DD and fill every row. "
                     "Check {f[collected_at]}.")
RIGHTS_COLUMN_MISSING = M("The column '{column}' named by {field} is not in {file}. Columns in "
                          "the file: {columns}. Check {field}.")
RIGHTS_COLUMN_IS_INPUT = M("The column '{column}' named by {field} is a model input; a rights "
                           "column records the customer's choices and is not scored. Check "
                           "{field}.")
RIGHTS_NO_PURPOSE = M("Consent columns are declared but not the model's purpose, so no row can be "
                      "checked against it. Give {f[purpose]} (e.g. 'retention offers'), or "
                      "'purposes' in the context file.")
RIGHTS_CONSENT_NO_PURPOSE = M("Say which purposes the consent column(s) {columns} cover, or leave "
                              "them out of {f[consent]}.")
RIGHTS_ERASED_NEEDS_ID = M("Erasure requests ({f[erased]}) are matched on the customers' ids, "
                           "but the data has no id column. Give {f[id_column]}.")
RIGHTS_UNKNOWN_KEYS = M("Unknown data-rights key(s) {bad}; valid keys: {valid}. Check "
                        "{f[rights]}.")

del M
for _name, _value in list(vars(sys.modules[__name__]).items()):
    if isinstance(_value, Message) and not _value.code:
        object.__setattr__(_value, "code", _name)
del _name, _value
__all__ += sorted(k for k, v in vars(sys.modules[__name__]).items() if isinstance(v, Message))
