"""The probe registry: the one place a probe is plugged in.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None) -> ProbeResult``. Order is the run order: the
cheap data checks first, then the probes that share the proxy screen, then the reference-model
pool's attacks, which share one pool.
"""

from __future__ import annotations

from attacks.attribute_inference import run_attribute_inference
from attacks.erasure import run_erasure
from attacks.privacy_probe import run_membership, run_memorisation
from audits.data_exposure import run_data_exposure
from audits.data_rights import run_data_rights
from audits.explainability import run_explainability
from audits.fairness import run_fairness
from audits.performance import run_performance

__all__ = ["PROBES"]

PROBES = {
    "data_exposure": (run_data_exposure, "data"),
    "data_rights": (run_data_rights, "data"),
    "performance": (run_performance, "performance"),
    "fairness": (run_fairness, "fairness"),
    "explainability": (run_explainability, "explainability"),
    "membership": (run_membership, "privacy"),
    "memorisation": (run_memorisation, "privacy"),
    "erasure": (run_erasure, "privacy"),
    "attribute_inference": (run_attribute_inference, "privacy"),
}
