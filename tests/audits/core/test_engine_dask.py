"""The Dask engine (issue 15) on a real ``dask.distributed.LocalCluster`` with two worker
processes: the partitioned path gives the in-memory results, a worker killed in the middle of
a map changes nothing, and a cluster that cannot finish stops the run with a clear message and
records nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audits.core import engine_dask
from audits.core.engine_dask import ClusterError
from audits.core.parallel import parallel_map
from tests.audits.core.scale_data import _load, _results, _same

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, memory_limit="1GiB",
                                      silence_logs=40) as lc:
            with distributed.Client(lc, set_as_default=False) as client:
                yield client


@pytest.fixture
def on_cluster(cluster):
    engine_dask.use_cluster(cluster)
    yield cluster
    engine_dask.use_cluster(None)


def test_partitioned_on_cluster_equals_in_memory(churn_parts, audited, on_cluster):
    engine_dask.use_cluster(None)
    _, expected = audited("in-memory sampled")  # in-process (shared with test_partitions)
    engine_dask.use_cluster(on_cluster)
    part = _load(churn_parts, partition_rows=0, sample_rows=8_000)
    _same(_results(part), expected)
    assert part.population.path == "partitioned"
    ran = on_cluster.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert {"scan", "population_map", "qi_map", "proxy_map"} <= set(ran)  # ran on the workers


def _square_or_die(item):
    """Kill this worker's process the first time item 3 runs (a marker file remembers)."""
    x, marker = item
    if x == 3 and not Path(marker).exists():
        Path(marker).write_text("killed once")
        os._exit(1)
    return x * x


def _always_die(item):
    os._exit(1)


def test_worker_killed_mid_run_changes_nothing(on_cluster, tmp_path):
    marker = tmp_path / "killed"
    out = parallel_map(_square_or_die, [(i, str(marker)) for i in range(8)])
    assert marker.exists()  # a worker really died
    assert out == [i * i for i in range(8)]


def test_cluster_that_cannot_finish_fails_clearly(on_cluster):
    with pytest.raises(ClusterError) as e:
        parallel_map(_always_die, [1, 2])
    assert "Nothing was recorded" in str(e.value)
    assert "Dask cluster" in str(e.value)


def test_cluster_failure_is_not_recorded_as_a_probe_result(monkeypatch):
    """The runner lets a cluster failure through instead of recording a not-assessed probe, so
    no report (and no ledger entry) is made from a half-done run."""
    from reports import build

    def broken(subject, config, *, progress=None, cache=None):
        raise ClusterError("tcp://x:8786", "KilledWorker: gone")

    monkeypatch.setitem(build.PROBES, "performance", (broken, "performance"))
    monkeypatch.setattr(build, "unmet_needs", lambda *a, **k: [])
    with pytest.raises(ClusterError):
        build.run_probe("performance", object(), object())


@pytest.mark.xfail(strict=True, reason="a runner that records every exception as not assessed "
                   "would put a half-done run in the ledger")
def test_a_runner_catching_everything_would_record_a_half_done_run(monkeypatch):
    from reports import build

    def broken(subject, config, *, progress=None, cache=None):
        raise ClusterError("tcp://x:8786", "KilledWorker: gone")

    monkeypatch.setitem(build.PROBES, "performance", (broken, "performance"))
    monkeypatch.setattr(build, "unmet_needs", lambda *a, **k: [])
    monkeypatch.setattr(build, "ClusterError", type("Never", (Exception,), {}))
    with pytest.raises(ClusterError):
        build.run_probe("performance", object(), object())


def test_unreachable_scheduler_is_an_input_error(monkeypatch):
    from audits.core.errors import InputError

    monkeypatch.setenv(engine_dask.ENV, "tcp://127.0.0.1:9")
    monkeypatch.setattr(engine_dask, "CONNECT_TIMEOUT", "2s")
    engine_dask.use_cluster(None)
    with pytest.raises(InputError) as e:
        engine_dask.current_client()
    assert "tcp://127.0.0.1:9" in str(e.value) and "REVIEW_BOARD_DASK" in str(e.value)


def test_command_line_refuses_an_unreachable_cluster_before_any_work(monkeypatch, tmp_path,
                                                                      capsys):
    """--dask names the scheduler; one that does not answer is bad input (exit 2), found before
    the data is read or anything is written."""
    import review_board

    monkeypatch.setattr(engine_dask, "CONNECT_TIMEOUT", "2s")
    out = tmp_path / "out"
    try:
        code = review_board.main(["audit", "--sample", "churn", "--dask", "tcp://127.0.0.1:9",
                                  "--out", str(out), "--quiet"])
    finally:
        engine_dask.use_cluster(None)
    assert code == 2
    err = capsys.readouterr().err
    assert "tcp://127.0.0.1:9" in err and "dask scheduler" in err
    assert not out.exists()
