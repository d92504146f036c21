"""The probe registry: the one place a probe is plugged in, with what it needs to judge anything.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None, cache=None) -> ProbeResult`` (``cache``: the
run's :class:`audits.core.cache.RunCache`, through which probes share computations). Order is the
run order: the cheap data checks first, then the probes that share the proxy screen, then the
reference-model pool's attacks, which share one pool.
signature ``run(subject, config, *, progress=None) -> ProbeResult``. Order is the run order: the
cheap data checks first, then the probes that share the proxy screen, then the reference-model
pool's attacks, which share one pool.

``NEEDS`` declares, per probe, what it needs (:class:`Needs`): the parts whose rows it reads (each
needs at least ``config.min_group_size`` rows, the size THRESHOLDS.md calls too small to judge), at
least one sensitive field, a model that can be cloned and refitted (the training recipe re-run), an
id column, the tasks it supports (binary, multiclass, regression). The runner checks the needs
before it runs a probe (:func:`unmet_needs`) and records ``not_assessed`` with the reason when one
is missing, so a 2-row file never yields a confident finding. A probe without an entry needs rows in
both parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from attacks.attribute_inference import run_attribute_inference
from attacks.erasure import run_erasure
from attacks.privacy_probe import run_membership, run_memorisation
from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.subject import PARTS, AuditSubject
from audits.data_exposure import run_data_exposure
from audits.data_rights import run_data_rights
from audits.explainability import run_explainability
from audits.fairness_tasks import run_fairness_tasks
from audits.performance import run_performance

__all__ = ["PROBES", "NEEDS", "Needs", "Unmet", "needs_of", "unmet_needs"]

PROBES = {
    "data_exposure": (run_data_exposure, "data"),
    "data_rights": (run_data_rights, "data"),
    "performance": (run_performance, "performance"),
    "fairness": (run_fairness_tasks, "fairness"),
    "explainability": (run_explainability, "explainability"),
    "membership": (run_membership, "privacy"),
    "memorisation": (run_memorisation, "privacy"),
    "erasure": (run_erasure, "privacy"),
    "attribute_inference": (run_attribute_inference, "privacy"),
}


#: Every task: a probe that reads only the data, not the model's outputs.
ALL_TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Needs:
    """What a probe needs before it can judge anything.

    Parameters
    ----------
    parts : the parts whose rows the probe reads; each needs ``config.min_group_size`` rows.
    sensitive_fields : at least one sensitive field.
    refit : a model that ``sklearn.base.clone`` can copy (the training recipe is re-run).
    id_column : a record id column.
    tasks : the tasks it supports (``audits.core.task.TASKS``); binary only unless it says more.
    """

    parts: tuple[str, ...] = PARTS
    sensitive_fields: bool = False
    refit: bool = False
    id_column: bool = False
    tasks: tuple[str, ...] = ("binary",)


NEEDS: dict[str, Needs] = {
    # re-identification is measured on the training rows; personal columns on both
    "data_exposure": Needs(parts=("members",), tasks=ALL_TASKS),
    # a census of both parts' rows against the declared consent, retention, source and erasures
    "data_rights": Needs(tasks=ALL_TASKS),
    "performance": Needs(tasks=ALL_TASKS),
    # groups, the proxy screen and the what-if are on the holdout rows
    "fairness": Needs(parts=("nonmembers",), sensitive_fields=True, tasks=ALL_TASKS),
    # SHAP on holdout rows against a background of training rows; minimisation retrains (it
    # reports its own not_assessed finding when the model cannot be cloned)
    "explainability": Needs(tasks=ALL_TASKS),
    # LOSS and the gap attack need no retraining; LiRA and RMIA say when they could not run
    "membership": Needs(tasks=ALL_TASKS),
    "memorisation": Needs(refit=True, tasks=ALL_TASKS),
    # the erased customers' exposure through the strongest attack of the membership pool
    "erasure": Needs(tasks=ALL_TASKS),
    "attribute_inference": Needs(sensitive_fields=True, tasks=ALL_TASKS),
}

_PART_WORDS = {"members": "training rows (members)", "nonmembers": "holdout rows (non-members)"}


@dataclass(frozen=True)
class Unmet:
    """One need a subject does not meet: its kind (``rows_members``, ``sensitive_fields``, ...),
    the statement a board member reads, and what would supply it."""

    kind: str
    statement: str
    supply: str


def needs_of(name: str) -> Needs:
    """A probe's declared needs (both parts' rows when it declares none)."""
    return NEEDS.get(name, Needs())


def _file(subject: AuditSubject, part: str) -> str:
    files = subject.files or {}
    entry = files.get(part) or files.get("data")
    return entry["path"] if entry and entry.get("path") else f"the {part} data"


def unmet_needs(name: str, subject: AuditSubject, config: AuditConfig) -> list[Unmet]:
    """The needs of probe ``name`` that ``subject`` does not meet (empty when it can run)."""
    needs = needs_of(name)
    out = []
    if subject.task not in needs.tasks:
        out.append(Unmet("task", msg.NEED_TASK.render(probe=name, task=subject.task),
                         f"a version of the {name} probe for {subject.task} models"))
    for part in needs.parts:
        n = len(subject.frame(part))
        if n < config.min_group_size:
            out.append(Unmet(f"rows_{part}", msg.NEED_ROWS.render(
                probe=name, need=config.min_group_size, part=_PART_WORDS[part],
                file=_file(subject, part), n=n), f"at least {config.min_group_size} "
                f"{_PART_WORDS[part]}"))
    if needs.sensitive_fields and not subject.sensitive_fields:
        out.append(Unmet("sensitive_fields", msg.NEED_SENSITIVE.render(probe=name),
                         "the sensitive fields, e.g. gender, age or ethnicity, even when they are "
                         "not model inputs"))
    if needs.refit and getattr(subject, "recipe", None) is None:
        try:
            from sklearn.base import clone

            clone(subject.model)
        except Exception as e:  # noqa: BLE001 - clone raises TypeError/RuntimeError and others
            out.append(Unmet("refit", msg.NEED_REFIT.render(
                probe=name, error=f"{type(e).__name__}: {e}"),
                "a training recipe: a scikit-learn estimator or Pipeline that can be cloned and "
                "refitted, or a recipe named for the model"))
    if needs.id_column and not subject.id_column:
        out.append(Unmet("id_column", msg.NEED_ID_COLUMN.render(probe=name),
                         "the record id column"))
    return out
