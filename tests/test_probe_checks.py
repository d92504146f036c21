"""Common checks over every registered probe (scikit-learn's estimator checks, for probes).

Each check runs on every entry of ``reports.registry.PROBES`` with a cheap subject (a fitted
pipeline on 300 training and 200 holdout rows) and the light profile:

- the result survives a JSON round trip exactly;
- the same seed gives the same result;
- the probe declares its needs, and each missing need gives ``not_assessed`` with the reason;
- the global NumPy (and ``random``) state is untouched;
- importing the probe does not import Streamlit;
- an empty subject gets a useful message, never a traceback.

Each check also runs once against a deliberately broken probe and must fail there
(``xfail(strict=True)``), so that no check passes vacuously.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys

import numpy as np
import pytest

from audits.core import messages as msg
from audits.core.config import AuditConfig
from audits.core.results import Finding, Metric, ProbeResult, Severity
from audits.core.subject import AuditSubject
from reports import build
from reports.registry import NEEDS, PROBES, Needs, needs_of, unmet_needs
from tests.cli.conftest import FEATURES, make_frame, make_pipeline

NAMES = list(PROBES)


@pytest.fixture(scope="module")
def subject() -> AuditSubject:
    train, holdout = make_frame(300, 11), make_frame(200, 12)
    model = make_pipeline().fit(train[FEATURES], train["churned"])
    return AuditSubject(model=model, members=train, nonmembers=holdout, target="churned",
                        positive_label=np.int64(1), feature_columns=tuple(FEATURES),
                        sensitive_fields=("gender",), personal_columns=("customer_id",),
                        id_column="customer_id", seed=5, secret=b"test-secret", name="cheap",
                        files={"members": {"path": "train.csv", "sha256": "0"},
                               "nonmembers": {"path": "holdout.csv", "sha256": "0"}})


@pytest.fixture(scope="module")
def config() -> AuditConfig:
    return AuditConfig.light()


@pytest.fixture(scope="module")
def results(subject, config) -> dict:
    """Each probe run once (the checks below share the runs)."""
    return {name: build.run_probe(name, subject, config) for name in NAMES}


def fresh(subject: AuditSubject, **changes) -> AuditSubject:
    """A copy of the subject without its memoised scores (its own per-audit caches)."""
    return dataclasses.replace(subject, **changes)


# -- the checks ------------------------------------------------------------------------------
def check_round_trip(result: ProbeResult) -> None:
    text = json.dumps(result.to_dict(), sort_keys=True, allow_nan=False)
    again = ProbeResult.from_dict(json.loads(text))
    assert again == result
    assert json.dumps(again.to_dict(), sort_keys=True) == text


def check_same_seed(fn, subject, config) -> None:
    a = fn(fresh(subject), config)
    b = fn(fresh(subject), config)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


def check_global_state(fn, subject, config) -> None:
    np.random.seed(1234)
    random.seed(1234)
    before, before_py = np.random.get_state(), random.getstate()
    fn(fresh(subject), config)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and \
        before[2:] == after[2:], "the probe touched NumPy's global random state"
    assert random.getstate() == before_py, "the probe touched the random module's state"


def check_no_streamlit(module: str) -> None:
    code = f"import sys, {module}; sys.exit(7 if 'streamlit' in sys.modules else 0)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{module} imports streamlit ({proc.stderr[-300:]})"


def check_declares_needs(name: str) -> None:
    assert name in NEEDS, f"{name} declares no needs in reports.registry.NEEDS"
    assert set(NEEDS[name].parts) <= {"members", "nonmembers"} and NEEDS[name].parts


# -- over every registered probe ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip(results, name):
    assert results[name].status == "ok", results[name].notes
    check_round_trip(results[name])


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_result(subject, config, results, name):
    fn, _ = PROBES[name]
    again = fn(fresh(subject), config)
    assert json.dumps(again.to_dict(), sort_keys=True) == \
        json.dumps(results[name].to_dict(), sort_keys=True)


@pytest.mark.parametrize("name", NAMES)
def test_global_random_state_untouched(subject, config, name):
    check_global_state(PROBES[name][0], subject, config)


@pytest.mark.parametrize("name", NAMES)
def test_no_streamlit_import(name):
    check_no_streamlit(PROBES[name][0].__module__)


@pytest.mark.parametrize("name", NAMES)
def test_needs_are_declared(name):
    check_declares_needs(name)


@pytest.mark.parametrize("name", NAMES)
def test_no_numpy_repr_in_any_text(results, name):
    text = json.dumps(results[name].to_dict())
    for repr_ in ("np.int", "np.float", "np.str_", "np.bool", "numpy."):
        assert repr_ not in text, (name, text[max(0, text.find(repr_) - 80):][:200])


def _unmet(subject: AuditSubject, kind: str) -> AuditSubject:
    """A copy of ``subject`` that lacks one need."""
    if kind == "rows_members":
        return fresh(subject, members=subject.members.head(5).copy())
    if kind == "rows_nonmembers":
        return fresh(subject, nonmembers=subject.nonmembers.head(5).copy())
    if kind == "sensitive_fields":
        return fresh(subject, sensitive_fields=())
    if kind == "refit":
        return fresh(subject, model=Unclonable(subject.model))
    if kind == "id_column":
        return fresh(subject, id_column=None)
    raise AssertionError(kind)


class Unclonable:
    """A fitted model that sklearn.base.clone cannot copy (no get_params)."""

    def __init__(self, model):
        self._model = model
        self.classes_ = model.classes_
        self.feature_names_in_ = model.feature_names_in_

    def predict(self, X):
        return self._model.predict(X)

    def predict_proba(self, X):
        return self._model.predict_proba(X)


def _declared(name: str) -> list[str]:
    needs = needs_of(name)
    kinds = [f"rows_{p}" for p in needs.parts]
    kinds += [k for k in ("sensitive_fields", "refit", "id_column") if getattr(needs, k)]
    return kinds


@pytest.mark.parametrize("name, kind", [(n, k) for n in NAMES for k in _declared(n)])
def test_a_missing_need_gives_not_assessed_with_the_reason(subject, config, name, kind):
    lacking = _unmet(subject, kind)
    result = build.run_probe(name, lacking, config)
    assert result.status == "not_assessed"
    (finding,) = [f for f in result.findings if f.id == f"{name}.needs.{kind}"]
    assert finding.severity is Severity.NOT_ASSESSED
    assert all(f.severity is Severity.NOT_ASSESSED for f in result.findings)
    (unmet,) = [u for u in unmet_needs(name, lacking, config) if u.kind == kind]
    assert finding.statement == unmet.statement and finding.statement in result.notes
    if kind.startswith("rows_"):
        part = kind[5:]
        assert finding.statement == msg.NEED_ROWS.render(
            probe=name, need=config.min_group_size,
            part={"members": "training rows (members)",
                  "nonmembers": "holdout rows (non-members)"}[part],
            file={"members": "train.csv", "nonmembers": "holdout.csv"}[part], n=5)
    check_round_trip(result)


def test_an_id_column_need(subject, config, monkeypatch):
    monkeypatch.setitem(NEEDS, "performance", Needs(id_column=True))
    assert build.run_probe("performance", subject, config).status == "ok"
    result = build.run_probe("performance", fresh(subject, id_column=None), config)
    assert [f.id for f in result.findings] == ["performance.needs.id_column"]
    assert result.findings[0].statement == msg.NEED_ID_COLUMN.render(probe="performance")


@pytest.mark.parametrize("name", NAMES)
def test_a_useful_message_on_an_empty_subject(subject, config, name):
    empty = fresh(subject, members=subject.members.head(0).copy(),
                  nonmembers=subject.nonmembers.head(0).copy())
    result = build.run_probe(name, empty, config)
    assert result.status == "not_assessed"
    assert [f.id for f in result.findings] == [f"{name}.needs.rows_{p}"
                                               for p in needs_of(name).parts]
    assert all("has 0, too few for any judgement" in f.statement for f in result.findings)
    assert all("Traceback" not in f.statement and "Error" not in f.statement
               for f in result.findings)


def test_an_empty_subject_is_bad_input_for_the_runner(subject, config):
    from audits.core.errors import InputError

    empty = fresh(subject, members=subject.members.head(0).copy(),
                  nonmembers=subject.nonmembers.head(0).copy())
    with pytest.raises(InputError) as e:
        build.run_audit(empty, config)
    assert str(e.value) == msg.ROWS_TOO_FEW.render(members=0, nonmembers=0,
                                                   need=config.min_group_size)


# -- each check fails on a deliberately broken probe -------------------------------------------
def _probe(**params):
    def run(subject, config, *, progress=None):
        return ProbeResult(probe="broken", area="data", params=params, findings=(
            Finding("broken.check.all", Severity.PASS, "A check", "It passed."),))
    return run


def test_the_checks_pass_on_a_well_behaved_probe(subject, config):
    fn = _probe(rows=3)
    check_round_trip(fn(subject, config))
    check_same_seed(fn, subject, config)
    check_global_state(fn, subject, config)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: a tuple in "
                   "params does not survive JSON")
def test_round_trip_check_fails_on_a_broken_probe(subject, config):
    check_round_trip(_probe(edges=(1, 2))(subject, config))


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: unseeded")
def test_same_seed_check_fails_on_a_broken_probe(subject, config):
    def run(subject, config, *, progress=None):
        value = float(np.random.default_rng().random())
        return ProbeResult(probe="broken", area="data", metrics=(Metric("x", value),))
    check_same_seed(run, subject, config)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: draws from "
                   "NumPy's global generator")
def test_global_state_check_fails_on_a_broken_probe(subject, config):
    def run(subject, config, *, progress=None):
        np.random.shuffle(np.arange(10))
        return _probe()(subject, config)
    check_global_state(run, subject, config)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: imports "
                   "streamlit")
def test_streamlit_check_fails_on_a_broken_module():
    check_no_streamlit("views.state")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: no needs")
def test_needs_check_fails_on_an_undeclared_probe(monkeypatch):
    monkeypatch.setitem(PROBES, "broken", (_probe(), "data"))
    check_declares_needs("broken")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="broken on purpose: the runner "
                   "does not check the needs, so 5 rows give a confident finding")
def test_rows_need_check_fails_when_the_runner_skips_the_needs(subject, config, monkeypatch):
    monkeypatch.setattr(build, "unmet_needs", lambda *a: [])
    result = build.run_probe("performance", _unmet(subject, "rows_members"), config)
    assert all(f.severity is Severity.NOT_ASSESSED for f in result.findings)
