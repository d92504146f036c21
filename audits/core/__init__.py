"""The audit's vocabulary: what every probe, the runner and the front ends share.

- :mod:`~audits.core.errors` the error every bad input raises, and :mod:`~audits.core.messages`
  its messages as constants (each names the field to fix in words any front end can map);
- :mod:`~audits.core.validation` and :mod:`~audits.core.profile_schema`: every input checked
  before any work starts (options, roles, the two parts, values, groups, the output folder; the
  profile against a schema derived from ``AuditConfig``);
- :mod:`~audits.core.results` metrics, thresholds, findings, tables, probe results, ``judge``;
- :mod:`~audits.core.config` ``AuditConfig``, every value that decides a result, with its source;
- :mod:`~audits.core.subject` and :mod:`~audits.core.loading` the audited model and its rows;
- :mod:`~audits.core.formats` and :mod:`~audits.core.adapters` model files that are data, not code
  (XGBoost, LightGBM, ONNX) and their one adapter; :mod:`~audits.core.task` the task (binary,
  multiclass, regression); :mod:`~audits.core.recipe` how to retrain the model;
- :mod:`~audits.core.seeds`, :mod:`~audits.core.paths`, :mod:`~audits.core.parallel`,
  :mod:`~audits.core.bootstrap`, :mod:`~audits.core.groups`, :mod:`~audits.core.pii`: the shared
  mechanics (named seeds, the tool's folder, the parallel map, resampling, groups of a field,
  personal-column detection).

Nothing here imports a probe, an attack, the runner or a front end (``tests/test_layers.py``).
"""
