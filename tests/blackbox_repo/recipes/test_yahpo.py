"""yahpo-lcbench: materialize a few configurations x 52 epochs for two tasks from the real YAHPO Gym
ONNX surrogate in ../shared (tests only), then load and simulate; elapsed time is repaired to be
monotone and the repair is reported."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from classic_helpers import simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.yahpo import DATA_ENV, repair_elapsed_time, yahpo_lcbench_recipe

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "yahpo-surrogates"

pytestmark = pytest.mark.skipif(not (DATA / "lcbench" / "model.onnx").is_file(), reason=f"no surrogates in {DATA}")


@pytest.fixture
def yahpo_home(tmp_path, monkeypatch):
    pytest.importorskip("yahpo_gym")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))        # yahpo_gym writes ~/.config/yahpo_gym
    monkeypatch.setenv(DATA_ENV, str(DATA))


def test_materialize_load_simulate(yahpo_home, register_temporarily):
    recipe = register_temporarily(yahpo_lcbench_recipe(tasks=("3945", "167168"), n_configs=6, seed=1))
    tasks = load_blackbox("yahpo-lcbench")
    assert sorted(tasks) == ["167168", "3945"]
    bb = tasks["3945"]
    assert bb.shape == (6, 1, 52, 6) and (bb.metric, bb.mode, bb.metric_elapsed_time) == ("val_accuracy", "max", "time")
    assert bb.metadata["data"] == "surrogate output" and bb.metadata["kind"] == "surrogate output"
    assert set(bb.metadata["time_repairs"]) == {"negative_cells", "non_monotone_cells"}
    assert len(bb.metadata["surrogate_files"]["lcbench/model.onnx"]) == 64
    t = bb.objective("time")
    assert np.isfinite(t).all() and (np.diff(t, axis=-1) >= 0).all() and (t >= 0).all()
    acc = bb.objective("val_accuracy")
    assert np.isfinite(acc).all() and 0 < acc.mean() < 100
    assert not np.allclose(tasks["3945"].objective("val_accuracy"), tasks["167168"].objective("val_accuracy"))
    for name, dom in bb.configuration_space.items():
        assert all(dom.contains(v) for v in bb.hyperparameters[name]), name
    simulate_briefly(bb)
    assert recipe.is_cached()


def test_repair_reports_what_it_changed():
    fixed, rep = repair_elapsed_time(np.array([[1.0, 3.0, 2.0, 2.5, 4.0], [-0.5, 1.0, 2.0, 3.0, 4.0]]))
    assert np.array_equal(fixed, [[1, 3, 3, 3, 4], [0, 1, 2, 3, 4]])
    assert rep == {"negative_cells": 1, "non_monotone_cells": 2}


def test_missing_data_folder_says_how_to_set_it(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(RecipeError, match=DATA_ENV):
        yahpo_lcbench_recipe(tasks=("3945",), n_configs=2, name="yahpo-nodata").get(progress=False)
    with pytest.raises(RecipeError, match="lacks"):
        yahpo_lcbench_recipe(data_path=str(tmp_path), tasks=("3945",), n_configs=2, name="yahpo-x").get()
    with pytest.raises(RecipeError, match="unknown YAHPO"):
        yahpo_lcbench_recipe(tasks=("99999",))
