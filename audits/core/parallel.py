"""The parallel map every heavy loop uses: local processes by default, a Dask cluster when given.

Results come back in the order of the items, and each item carries its own integer seed
(:mod:`audits.core.seeds`), so a parallel run equals a sequential one. When the operator has
configured a cluster (``--dask ADDRESS`` or ``REVIEW_BOARD_DASK``: :mod:`audits.core.engine_dask`),
the work goes there; nothing above this layer knows.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

__all__ = ["parallel_map"]


def parallel_map(fn: Callable[[Any], Any], items: Iterable[Any], *, n_jobs: int | None = None,
                 backend: str = "loky", client: Any = None) -> list[Any]:
    """Apply ``fn`` to every item, in parallel, keeping the order of ``items``.

    Parameters
    ----------
    fn : a picklable function of one argument.
    items : its arguments.
    n_jobs : worker processes (None: all cores; 1: run in this process, handy for debugging).
    backend : joblib backend for local runs.
    client : a ``dask.distributed.Client``; when given (or configured by the operator, see
        :func:`audits.core.engine_dask.current_client`), the work goes to that cluster.
    """
    from audits.core.engine_dask import current_client, run_on_cluster

    items = list(items)
    if client is None and items:
        client = current_client()
    if client is not None:
        return run_on_cluster(client, fn, items)
    if n_jobs == 1 or len(items) <= 1:
        return [fn(it) for it in items]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs or -1, backend=backend)(delayed(fn)(it) for it in items)
