"""The probe registry: the one place a probe is plugged in.

``PROBES`` maps a probe's name to ``(run function, report area)``; each run function has the
signature ``run(subject, config, *, progress=None) -> ProbeResult``. Order is the run order.
"""

from __future__ import annotations

# from audits.fairness import run_fairness  # TEMP
from audits.performance import run_performance

__all__ = ["PROBES"]

PROBES = {
    "performance": (run_performance, "performance"),
    # "fairness": (run_fairness, "fairness"),  # TEMP
}
