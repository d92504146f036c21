"""The probe registry: the one place a probe is plugged in.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None, cache=None) -> ProbeResult`` (``cache``: the
run's :class:`audits.core.cache.RunCache`, through which probes share computations). Order is the
run order: the cheap data checks first, then the probes that share the proxy screen, then the
reference-model pool's attacks, which share one pool.

``PROBE_TASKS`` says which tasks (``audits.core.task.TASKS``) a probe supports; a probe it does not
list supports binary classifiers only. The runner marks a probe that does not support the
subject's task not_assessed, with the reason, instead of running it.
"""

from __future__ import annotations

from attacks.attribute_inference import run_attribute_inference
from attacks.privacy_probe import run_membership, run_memorisation
from audits.data_exposure import run_data_exposure
from audits.explainability import run_explainability
from audits.fairness import run_fairness
from audits.performance import run_performance

__all__ = ["PROBES", "PROBE_TASKS", "probe_tasks"]

PROBES = {
    "data_exposure": (run_data_exposure, "data"),
    "performance": (run_performance, "performance"),
    "fairness": (run_fairness, "fairness"),
    "explainability": (run_explainability, "explainability"),
    "membership": (run_membership, "privacy"),
    "memorisation": (run_memorisation, "privacy"),
    "attribute_inference": (run_attribute_inference, "privacy"),
}

#: Tasks each probe supports, beyond binary (the default). Data exposure reads only the data.
PROBE_TASKS: dict[str, tuple[str, ...]] = {
    "data_exposure": ("binary", "multiclass", "regression"),
}


def probe_tasks(name: str) -> tuple[str, ...]:
    """The tasks the probe ``name`` supports (binary only unless ``PROBE_TASKS`` says more)."""
    return PROBE_TASKS.get(name, ("binary",))
