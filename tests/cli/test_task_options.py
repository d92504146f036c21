"""The command line's --task and --recipe (issue 14): a regression and a multiclass ONNX model
audited from files, the recipe named on the command line used by the refits, and a task that
contradicts the model refused before any work."""

from __future__ import annotations

import json

import pytest
from threadpoolctl import threadpool_limits

import review_board
from tests.task_models import write_task_files


@pytest.fixture(scope="module")
def task_files(tmp_path_factory):
    d, _ = write_task_files(tmp_path_factory.mktemp("cli-tasks"))
    return d


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def _audit(d, model, target, out, *extra):
    return review_board.main(["audit", "--model", str(d / model), "--train",
                              str(d / "members.csv"), "--holdout", str(d / "nonmembers.csv"),
                              "--target", target, "--sensitive", "gender", "--personal",
                              "customer_id", "--light", "--quiet", "--out", str(out), *extra])


def test_regression_with_direction_threshold_and_task(task_files, tmp_path):
    code = _audit(task_files, "value.txt", "value", tmp_path / "out", "--task", "regression",
                  "--favourable", "higher", "--decision-threshold", "150",
                  "--probes", "performance", "--fail-on", "never")
    assert code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    subject = report["subject"]
    assert subject["task"] == "regression" and subject["favourable_direction"] == "higher"
    assert subject["decision_rule"] == "prediction >= 150"
    assert subject["recipe"]["origin"] == "file"  # the LightGBM file records its parameters


def test_onnx_with_a_named_recipe_runs_the_refits(task_files, tmp_path):
    code = _audit(task_files, "offer.onnx", "offer", tmp_path / "out", "--favourable",
                  "premium", "--recipe", "linear", "--probes", "memorisation",
                  "--fail-on", "never")
    assert code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["subject"]["recipe"]["origin"] == "named"
    assert report["probes"]["memorisation"]["status"] == "ok"


def test_onnx_without_a_recipe_says_memorisation_is_not_assessed(task_files, tmp_path):
    code = _audit(task_files, "offer.onnx", "offer", tmp_path / "out", "--favourable",
                  "premium", "--probes", "memorisation", "--fail-on", "never",
                  "--allow-not-assessed")
    assert code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    result = report["probes"]["memorisation"]
    assert result["status"] == "not_assessed"
    assert "ONNX graph records no training recipe" in " ".join(result["notes"])


def test_a_task_that_contradicts_the_model_is_refused(task_files, tmp_path, capsys):
    code = _audit(task_files, "value.txt", "value", tmp_path / "out", "--task", "binary")
    assert code == 2
    err = capsys.readouterr().err
    assert "declared as 'binary'" in err and "regressor" in err and "--task" in err
    assert not (tmp_path / "out").exists()
