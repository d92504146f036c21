"""The probe registry: the one place a probe is plugged in.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None, cache=None) -> ProbeResult`` (``cache``: the
run's :class:`audits.core.cache.RunCache`, through which probes share computations). Order is the
run order: the cheap data checks first, then the probes that share the proxy screen, then the
reference-model pool's attacks, which share one pool.
"""

from __future__ import annotations

from attacks.attribute_inference import run_attribute_inference
from attacks.privacy_probe import run_membership, run_memorisation
from audits.data_exposure import run_data_exposure
from audits.explainability import run_explainability
from audits.fairness import run_fairness
from audits.performance import run_performance

__all__ = ["PROBES"]

PROBES = {
    "data_exposure": (run_data_exposure, "data"),
    "performance": (run_performance, "performance"),
    "fairness": (run_fairness, "fairness"),
    "explainability": (run_explainability, "explainability"),
    "membership": (run_membership, "privacy"),
    "memorisation": (run_memorisation, "privacy"),
    "attribute_inference": (run_attribute_inference, "privacy"),
}
