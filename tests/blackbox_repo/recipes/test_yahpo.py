"""yahpo-lcbench: hposim's onnxruntime evaluation of the real YAHPO Gym LCBench surrogate (in ../shared, tests
only) reproduces YAHPO Gym's own ``objective_function`` outputs (``data/yahpo_lcbench_reference.csv``, made
with yahpo-gym 1.0.2 in a separate venv, see ``data/README.md``); the recipe materializes, caches, loads and
simulates; elapsed time is repaired to be monotone and the repair is reported."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.base import MissingExtraError, RecipeError
from blackbox_repo.recipes.yahpo import (CONT_NAMES, DATA_ENV, Y_NAMES, LCBenchSurrogate, repair_elapsed_time,
                                         yahpo_lcbench_recipe)

DATA = Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[3].parent / "shared" / "data"
            / "yahpo-surrogates")
REFERENCE = Path(__file__).resolve().parent / "data" / "yahpo_lcbench_reference.csv"
HYPERPARAMETERS = ["batch_size", "learning_rate", "max_dropout", "max_units", "momentum", "num_layers",
                   "weight_decay"]

needs_surrogate = pytest.mark.skipif(not (DATA / "lcbench" / "model.onnx").is_file(),
                                     reason=f"no YAHPO surrogates in {DATA}")


@pytest.fixture(scope="module")
def surrogate():
    pytest.importorskip("onnxruntime")
    return LCBenchSurrogate.open(DATA)


def read_reference() -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE, comment="#", dtype={"OpenML_task_id": str})
    assert list(ref.columns) == ["OpenML_task_id", "epoch", *HYPERPARAMETERS, *Y_NAMES]
    return ref


@needs_surrogate
def test_outputs_equal_yahpo_gym_objective_function(surrogate):
    ref = read_reference()
    assert sorted(ref["OpenML_task_id"].unique()) == ["167168", "3945"] and len(ref) == 200
    worst = 0.0
    for task, rows in ref.groupby("OpenML_task_id", sort=False):
        epochs = list(dict.fromkeys(rows["epoch"]))
        configs = rows[HYPERPARAMETERS].drop_duplicates().reset_index(drop=True)
        assert len(configs) == 20 and len(rows) == 20 * len(epochs)
        got = surrogate.predict(configs, task, epochs).reshape(-1, len(Y_NAMES))   # config-major, epoch inner
        want = rows[list(Y_NAMES)].to_numpy(np.float32)
        assert np.array_equal(np.repeat(configs.to_numpy(), len(epochs), axis=0), rows[HYPERPARAMETERS].to_numpy())
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, err_msg=f"task {task}")
        worst = max(worst, float(np.abs(got - want).max()))
    print(f"max abs difference to yahpo_gym 1.0.2: {worst:g}")


@needs_surrogate
def test_inputs_are_built_like_yahpo_gym(surrogate):
    hp = pd.DataFrame([{"batch_size": 64, "learning_rate": 0.01, "max_dropout": 0.25, "max_units": 128,
                        "momentum": 0.5, "num_layers": 3, "weight_decay": 0.001}])
    x_cont, x_cat = surrogate.inputs(hp, "3945", [1, 52])
    assert x_cont.dtype == np.float32 and x_cat.dtype == np.int32 and x_cat.shape == (2, 1)
    assert CONT_NAMES[0] == "epoch" and x_cont[:, 0].tolist() == [1, 52]
    assert x_cont[0, 1:].tolist() == pytest.approx([64, 0.01, 0.5, 0.001, 3, 128, 0.25], rel=1e-7)
    assert x_cat.ravel().tolist() == [34, 34]          # encoding.json's code, not the position (0) in config_space.json
    # the task code changes the prediction, so using the wrong one would be caught
    assert not np.allclose(surrogate.predict(hp, "3945", [52]), surrogate.predict(hp, "7593", [52]))


@needs_surrogate
def test_space_tasks_and_epochs_come_from_the_data_folder(surrogate):
    assert list(surrogate.space) == HYPERPARAMETERS
    assert surrogate.space["learning_rate"].log and surrogate.space["batch_size"].log
    assert not surrogate.space["weight_decay"].log
    assert len(surrogate.tasks) == 34 and surrogate.epochs == tuple(range(1, 53))


@needs_surrogate
def test_invalid_inputs_are_rejected_like_yahpo_checks_them(surrogate):
    good = {"batch_size": 64, "learning_rate": 0.01, "max_dropout": 0.25, "max_units": 128, "momentum": 0.5,
            "num_layers": 3, "weight_decay": 0.001}
    with pytest.raises(RecipeError, match="learning_rate=1.0"):
        surrogate.predict(pd.DataFrame([{**good, "learning_rate": 1.0}]), "3945")
    with pytest.raises(RecipeError, match="batch_size=64.5"):
        surrogate.predict(pd.DataFrame([{**good, "batch_size": 64.5}]), "3945")
    with pytest.raises(RecipeError, match="epoch=53"):
        surrogate.predict(pd.DataFrame([good]), "3945", [53])
    with pytest.raises(RecipeError, match="no task '167083'"):
        surrogate.predict(pd.DataFrame([good]), "167083")      # coded in encoding.json, not a task of the space
    with pytest.raises(RecipeError, match=r"lack columns \['weight_decay'\]"):
        surrogate.predict(pd.DataFrame([good]).drop(columns="weight_decay"), "3945")


@needs_surrogate
def test_materialize_load_simulate(surrogate, monkeypatch, register_temporarily):
    from simulator import make_scheduler, simulate
    monkeypatch.setenv(DATA_ENV, str(DATA))
    recipe = register_temporarily(yahpo_lcbench_recipe(tasks=("3945", "167168"), n_configs=6, seed=1))
    tasks = load_blackbox("yahpo-lcbench")
    assert sorted(tasks) == ["167168", "3945"] and recipe.is_cached()
    bb = tasks["3945"]
    assert bb.shape == (6, 1, 52, 6) and (bb.metric, bb.mode, bb.metric_elapsed_time) == ("val_accuracy", "max", "time")
    assert bb.metadata["data"] == "surrogate output" and bb.metadata["kind"] == "surrogate output"
    assert len(bb.metadata["surrogate_files"]["lcbench/model.onnx"]) == 64
    for name, dom in bb.configuration_space.items():
        assert all(dom.contains(v) for v in bb.hyperparameters[name]), name
    # the table is the verified evaluation path, with only the elapsed time repaired
    raw = surrogate.predict(bb.hyperparameters, "3945")
    fixed, repairs = repair_elapsed_time(raw[..., 0].astype(np.float64))
    assert bb.metadata["time_repairs"] == repairs
    np.testing.assert_array_equal(bb.objective("time")[:, 0], fixed.astype(np.float32))
    np.testing.assert_array_equal(bb.objective("val_accuracy")[:, 0], raw[..., 1])
    t = bb.objective("time")
    assert np.isfinite(t).all() and (np.diff(t, axis=-1) >= 0).all() and (t >= 0).all()
    acc = bb.objective("val_accuracy")
    assert np.isfinite(acc).all() and 0 < acc.mean() < 100
    assert not np.allclose(tasks["3945"].objective("val_accuracy"), tasks["167168"].objective("val_accuracy"))
    res = simulate(bb, make_scheduler("RandomSearch", bb, seed=0), n_workers=2, stop={"max_trials": 5}, seed=0)
    assert res.metadata["n_trials"] == 5 and set(res.trials["status"]) == {"completed"}
    assert np.isfinite(res.results["val_accuracy"]).all() and (res.results["time"] > 0).all()


def test_repair_reports_what_it_changed():
    fixed, rep = repair_elapsed_time(np.array([[1.0, 3.0, 2.0, 2.5, 4.0], [-0.5, 1.0, 2.0, 3.0, 4.0]]))
    assert np.array_equal(fixed, [[1, 3, 3, 3, 4], [0, 1, 2, 3, 4]])
    assert rep == {"negative_cells": 1, "non_monotone_cells": 2}


def test_missing_onnxruntime_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'hposim\[yahpo\]'"):
        LCBenchSurrogate.open(DATA)


def test_missing_data_folder_says_how_to_set_it(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(RecipeError, match=DATA_ENV):
        yahpo_lcbench_recipe(tasks=("3945",), n_configs=2, name="yahpo-nodata").get(progress=False)
    with pytest.raises(RecipeError, match="lacks"):
        yahpo_lcbench_recipe(data_path=str(tmp_path), tasks=("3945",), n_configs=2, name="yahpo-x").get()
    with pytest.raises(RecipeError, match="unknown YAHPO"):
        yahpo_lcbench_recipe(tasks=("99999",))
