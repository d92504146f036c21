"""How the command line names the engine's fields: each field's neutral words and its flag.

The engine's messages name a field once ("Check the target column."); the command line renders
them with :data:`LABELS` ("Check the target column (--target)."), so the user reads which flag to
change. ``review_board.main`` prints every :class:`~audits.core.errors.InputError` this way.
"""

from __future__ import annotations

from audits.core.errors import InputError
from audits.core.messages import FIELDS

__all__ = ["FLAGS", "LABELS", "render_error"]

#: Field -> the flag (or flags) that sets it.
FLAGS: dict[str, str] = {
    "sample": "--sample",
    "model": "--model",
    "train": "--train",
    "holdout": "--holdout",
    "split_column": "--split-column",
    "target": "--target",
    "positive_label": "--positive-label",
    "sensitive": "--sensitive",
    "personal": "--personal",
    "quasi_identifiers": "--quasi-identifiers",
    "id_column": "--id-column",
    "decision_threshold": "--decision-threshold",
    "favourable": "--favourable",
    "favourable_action": "--favourable-action",
    "trusted": "--trust TYPE, once per type",
    "trust_pickle": "--trust-pickle",
    "seed": "--seed",
    "config": "--config",
    "out": "--out",
    "formats": "--format",
    "probes": "--probes",
    "fail_on": "--fail-on",
    "context": "--context",
    "inventory": "--inventory",
    "source": "--sample, or --model, --train and --holdout",
    "consent": "--consent",
    "purpose": "--purpose",
    "collected_at": "--collected-at",
    "data_source": "--data-source",
    "opt_out": "--opt-out",
    "erased": "--erased",
    "trained_at": "--trained-at",
    "rights": "the data-rights options",
}

#: Field -> how the command line names it: the neutral words and the flag.
LABELS: dict[str, str] = {k: f"{FIELDS.get(k, k)} ({flag})" for k, flag in FLAGS.items()}


def render_error(error: InputError) -> str:
    """The error's message with each field followed by its flag."""
    return error.render(LABELS)
