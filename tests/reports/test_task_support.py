"""The runner marks the probes that do not support the subject's task not_assessed, with the
reason, and still runs those that do (the registry's task table)."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

from tests.task_models import subject, write_task_files


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_task_files(tmp_path_factory.mktemp("runner-task"))


def test_runner_marks_unsupported_probes_not_assessed(files, monkeypatch):
    from audits.core import messages as msg
    from audits.core.config import AuditConfig
    from reports import registry
    from reports.build import run_audit
    from reports.registry import PROBES, needs_of

    # every probe supports every task (issue 14): the gate is checked on two declared binary-only
    for name in ("performance", "membership"):
        monkeypatch.setitem(registry.NEEDS, name, registry.Needs(tasks=("binary",)))

    assert all(set(needs_of(p).tasks) <= {"binary", "multiclass", "regression"} for p in PROBES)
    for model, target, task in (("value.txt", "value", "regression"),
                                ("offer.onnx", "offer", "multiclass")):
        s = subject(files, model, target)
        report = run_audit(s, AuditConfig.light(), probes=["data_exposure", "performance",
                                                           "membership"])
        assert report.subject["task"] == task
        assert report.probes["data_exposure"].status == "ok"
        for name in ("performance", "membership"):
            result = report.probes[name]
            assert result.status == "not_assessed"
            assert result.notes == (msg.NEED_TASK.render(probe=name, task=task),)
            (finding,) = result.findings
            assert finding.id == f"{name}.needs.task"
            assert finding.severity.value == "not_assessed"
        assert report.summary["recommended_decision"] == "incomplete"


@pytest.mark.xfail(strict=True, reason="a registry that claims every probe supports every task "
                                       "runs binary-only probes on a regression")
def test_runner_gate_catches_a_registry_that_claims_too_much(files, monkeypatch):
    from audits.core import messages as msg
    from audits.core.config import AuditConfig
    from reports import build, registry

    def binary_only(subject, config, **kw):  # a probe that supports binary models only
        raise ValueError("binary only")

    monkeypatch.setitem(registry.PROBES, "performance", (binary_only, "performance"))
    monkeypatch.setitem(registry.NEEDS, "performance",
                        registry.Needs(tasks=registry.ALL_TASKS))
    report = build.run_audit(subject(files, "value.txt", "value"), AuditConfig.light(),
                             probes=["performance"])
    assert report.probes["performance"].notes == (
        msg.NEED_TASK.render(probe="performance", task="regression"),)
