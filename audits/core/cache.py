"""The per-run cache: values several probes of one audit share, computed once per run.

The runner (``reports.build.run_audit``) makes one :class:`RunCache` per audit and hands it to
every probe; a probe hands it on to the shared computations it calls (the proxy screen, the
personal-column detection, the reference-model pool and its scores, the canary experiment).
Keys name the computation and everything it depends on beyond the subject, so that two audits of
the same subject under two profiles never share a value. Called without a cache (a probe run on
its own, in a test or a notebook), a shared computation is simply computed.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

__all__ = ["RunCache", "shared"]


class RunCache:
    """A dictionary of computed values, keyed by ``(name, *dependencies)``."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value under ``key``, computed by ``compute()`` on first use."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)


def shared(cache: RunCache | None, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``cache.get(key, compute)``, or ``compute()`` when there is no cache."""
    return compute() if cache is None else cache.get(key, compute)
