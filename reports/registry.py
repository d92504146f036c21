"""The probe registry: the one place a probe is plugged in.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None) -> ProbeResult``. Order is the run order.
"""

from __future__ import annotations

from attacks.attribute_inference import run_attribute_inference
from audits.data_exposure import run_data_exposure
from audits.performance import run_performance

__all__ = ["PROBES"]

PROBES = {
    "data_exposure": (run_data_exposure, "data"),
    "performance": (run_performance, "performance"),
    "attribute_inference": (run_attribute_inference, "privacy"),
}
