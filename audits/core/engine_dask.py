"""The Dask engine behind :func:`audits.core.parallel.parallel_map` (an operator's setting).

An audit runs in-process unless the operator points it at a ``dask.distributed`` scheduler:
``--dask ADDRESS`` on the command line, or the environment variable ``REVIEW_BOARD_DASK``
(which the app reads too: the address is never a field of the app). Then every parallel map
(the partition maps that count, the reference-model fits, SHAP and LIME chunks, the refits of
data minimisation) runs on the cluster's workers. Nothing about Dask appears above this layer:
probes call ``parallel_map`` and do not know where it runs.

Dask moves pickled functions and data between the scheduler and its workers, and a pickle runs
code when it is loaded: the cluster must be trusted as much as this process. TLS is switched on
with a ``tls://`` address and Dask's own configuration (``DASK_DISTRIBUTED__COMM__TLS__*``
environment variables or ``~/.config/dask/*.yaml``); see the README.

A worker lost in the middle of a run is handled by Dask: its tasks are run again elsewhere (a
map's task is a pure function of its item, so the result does not change). When Dask gives up
(a task that killed ``distributed.scheduler.allowed-failures`` workers) or the scheduler goes
away, :class:`ClusterError` stops the audit with a clear message; the runner lets it through
rather than recording a half-done probe, so nothing reaches the ledger.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from audits.core import messages as msg

__all__ = ["ENV", "ClusterError", "use_cluster", "cluster_address", "current_client",
           "run_on_cluster"]

ENV = "REVIEW_BOARD_DASK"
#: How long to wait for the scheduler to answer.
CONNECT_TIMEOUT = "10s"

_override: dict[str, Any] = {"address": None, "client": None}
_clients: dict[str, Any] = {}


class ClusterError(RuntimeError):
    """The cluster could not finish the work: the audit stops, nothing is recorded."""

    def __init__(self, address: str, error: str) -> None:
        self.address, self.error = address, error
        super().__init__(msg.CLUSTER_FAILED.render(address=address, error=error))


def use_cluster(target: Any = None) -> None:
    """Send the parallel maps of this process to a cluster: an address (``tcp://host:8786``,
    ``tls://...``), a ``distributed.Client``, or None to go back to the environment variable's
    choice (and, without it, to running in-process)."""
    if target is None or isinstance(target, str):
        _override["address"], _override["client"] = (target or None), None
    else:
        _override["address"], _override["client"] = _address_of(target), target


def cluster_address() -> str | None:
    """The configured scheduler address (``--dask`` first, then ``REVIEW_BOARD_DASK``)."""
    if _override["client"] is not None:
        return _address_of(_override["client"])
    return _override["address"] or (os.environ.get(ENV) or "").strip() or None


def _address_of(client: Any) -> str:
    try:
        return str(client.scheduler.address)
    except Exception:
        return "the given client"


def current_client() -> Any:
    """The ``distributed.Client`` of the configured cluster, or None to run in-process.

    Raises :class:`~audits.core.errors.InputError` when no scheduler answers at the address.
    """
    if _override["client"] is not None:
        return _override["client"]
    address = cluster_address()
    if address is None:
        return None
    if address not in _clients:
        from distributed import Client

        from audits.core.errors import InputError

        try:
            _clients[address] = Client(address, timeout=CONNECT_TIMEOUT,
                                      set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(msg.CLUSTER_UNREACHABLE, address=address,
                             error=f"{type(e).__name__}: {str(e)[:200]}") from e
    return _clients[address]


def run_on_cluster(client: Any, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``fn`` over ``items`` on the cluster, results in item order; a cluster failure (a lost
    scheduler, a task that kept killing workers) raises :class:`ClusterError`."""
    from distributed import KilledWorker

    try:
        futures = client.map(fn, list(items), pure=False)
        return client.gather(futures)
    except (KilledWorker, OSError, TimeoutError) as e:
        raise ClusterError(_address_of(client), f"{type(e).__name__}: {str(e)[:300]}") from e
    except Exception as e:
        if type(e).__module__.startswith(("distributed", "tornado")):
            raise ClusterError(_address_of(client), f"{type(e).__name__}: {str(e)[:300]}") from e
        raise
