"""The messages of tasks, recipes and declarations (issue 14) are the neutral constants of
audits.core.messages: each error is asserted exactly, in its neutral words and as the command
line renders it (the flag after the field)."""

from __future__ import annotations

import dataclasses

import pytest
from threadpoolctl import threadpool_limits

from audits.core import messages as msg
from audits.core.errors import InputError
from cli.flags import LABELS, render_error
from tests.task_models import subject, write_task_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    with threadpool_limits(1):
        return write_task_files(tmp_path_factory.mktemp("task-messages"))


def _exactly(error: InputError, message, **values):
    assert error.code == message.code
    assert str(error) == message.render(**values)
    assert render_error(error) == message.render(LABELS, **values)
    assert "--" not in str(error)  # the engine's words name no flag


def test_task_messages(files):
    from audits.core.task import infer_task

    with pytest.raises(InputError) as e:
        infer_task(object(), declared="ranking")
    _exactly(e.value, msg.TASK_UNKNOWN, value="ranking",
             valid=["binary", "multiclass", "regression"])
    assert "(--task)" in render_error(e.value)
    with pytest.raises(InputError) as e:
        subject(files, "value.txt", "value", task="binary")
    _exactly(e.value, msg.TASK_CONTRADICTED, declared="binary", model="value.txt",
             what="a regressor (it predicts numbers)")
    with pytest.raises(InputError) as e:
        subject(files, "value.txt", "offer")
    _exactly(e.value, msg.REGRESSION_TARGET_TEXT, target="offer", file="members.csv",
             examples=["basic", "plus", "premium"], model="value.txt")
    assert "the target column (--target)" in render_error(e.value)
    with pytest.raises(InputError) as e:
        subject(files, "value.txt", "value", favourable="more")
    _exactly(e.value, msg.DIRECTION_UNKNOWN, value="more", valid=["higher", "lower"])


def test_regression_target_messages(files, tmp_path):
    import pandas as pd

    d, _ = files
    members = pd.read_csv(d / "members.csv")
    for name, frame, message, values in (
            ("empty.csv", members.assign(value=members["value"].where(members.index > 2)),
             msg.REGRESSION_TARGET_EMPTY, {"n": 3}),
            ("inf.csv", members.assign(value=members["value"].where(members.index > 0,
                                                                   float("inf"))),
             msg.REGRESSION_TARGET_INFINITE, {}),
            ("constant.csv", members.assign(value=1.0), msg.REGRESSION_TARGET_CONSTANT, {})):
        frame.to_csv(tmp_path / name, index=False)
        from audits.core.loading import load_subject

        with pytest.raises(InputError) as e:
            load_subject(d / "value.txt", tmp_path / name, d / "nonmembers.csv",
                         target="value")
        _exactly(e.value, message, target="value", file=name, **values)


def test_declaration_messages(files):
    s = subject(files, "offer.onnx", "offer")
    with pytest.raises(InputError) as e:
        s.favourable("members")
    _exactly(e.value, msg.DECLARATION_MISSING, task="multiclass", name="offer",
             what="favourable class", field="favourable")
    assert render_error(e.value).endswith("give the favourable decision (--favourable).")
    with pytest.raises(InputError) as e:
        s.scores("members")
    _exactly(e.value, msg.DECLARATION_MISSING, task="multiclass", name="offer",
             what="the positive class", field="positive_label")
    r = dataclasses.replace(subject(files, "value.txt", "value"), decision_threshold=None)
    with pytest.raises(InputError) as e:
        r.decisions("members")
    _exactly(e.value, msg.DECLARATION_MISSING, task="regression", name="value",
             what="decision threshold", field="decision_threshold")


def test_recipe_messages(files, tmp_path):
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    from audits.core.recipe import NAMED_RECIPES, load_recipe

    with pytest.raises(InputError) as e:
        load_recipe("gradient_magic", task="binary")
    _exactly(e.value, msg.RECIPE_UNKNOWN, value="gradient_magic", valid=list(NAMED_RECIPES))
    assert "(--recipe)" in render_error(e.value)
    (tmp_path / "junk.skops").write_bytes(b"junk")
    with pytest.raises(InputError) as e:
        load_recipe(tmp_path / "junk.skops", task="binary")
    assert e.value.code == "RECIPE_NOT_SKOPS" and str(e.value) == msg.RECIPE_NOT_SKOPS.render(
        path=tmp_path / "junk.skops", error=e.value.values["error"])
    sio.dump(RandomForestRegressor(), tmp_path / "reg.skops")
    with pytest.raises(InputError) as e:
        load_recipe(tmp_path / "reg.skops", task="multiclass")
    _exactly(e.value, msg.RECIPE_WRONG_TASK, path=tmp_path / "reg.skops", what="a regressor",
             kind="RandomForestRegressor", task="multiclass")
    sio.dump({"not": "an estimator"}, tmp_path / "dict.skops")
    with pytest.raises(InputError) as e:
        load_recipe(tmp_path / "dict.skops", task="binary")
    _exactly(e.value, msg.RECIPE_NOT_ESTIMATOR, path=tmp_path / "dict.skops", kind="dict")
    assert load_recipe(tmp_path / "reg.skops", task="regression").origin == "user"
    sio.dump(RandomForestClassifier(), tmp_path / "clf.skops")
    assert load_recipe(tmp_path / "clf.skops", task="binary").origin == "user"


def test_no_kinds_module_names_a_flag():
    """The kinds modules' words name fields, never a command-line flag."""
    import inspect

    from audits.core import adapters, formats, recipe, task
    from audits.core import subject as subject_module

    for module in (formats, adapters, recipe, task, subject_module):
        source = inspect.getsource(module)
        code = "\n".join(line for line in source.splitlines()
                         if not line.strip().startswith(("#", "``")) and "(``--" not in line)
        for flag in ("--recipe", "--task", "--favourable", "--positive-label",
                     "--decision-threshold", "--target"):
            assert f"{flag}\"" not in code and f"{flag}." not in code and f"{flag})" not in \
                code, (module.__name__, flag)
