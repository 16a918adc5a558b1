"""lcbench end to end on a miniature data_2k_lw.zip (one JSON member
{dataset: {config_id: {config, log, results}}}, 52 logged entries per curve)."""
from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import numpy as np
import pytest
from classic_helpers import serve, simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.lcbench import LCBENCH, TAGS

TASKS2 = ("Fashion-MNIST", "credit-g")


def run(task: str, i: int) -> dict:
    rng = np.random.default_rng([i, len(task)])
    acc = np.sort(rng.uniform(40, 95, 52)).tolist()
    log = {"time": np.cumsum(rng.uniform(1, 2, 52)).tolist(), "epoch": list(range(1, 53)),
           "Train/loss": [1.0] * 52, "Train/lr": [0.01] * 52}
    for tag in TAGS.values():
        log.setdefault(tag, acc if "accuracy" in tag or tag == "Train/test_result" else [0.5] * 52)
    config = {"batch_size": int(rng.integers(16, 512)), "imputation_strategy": "mean",
              "learning_rate_scheduler": "cosine_annealing", "loss": "cross_entropy_weighted",
              "network": "shapedmlpnet", "max_dropout": float(rng.uniform()), "normalization_strategy": "standardize",
              "optimizer": "sgd", "cosine_annealing_T_max": 50, "cosine_annealing_eta_min": 1e-08,
              "activation": "relu", "max_units": int(rng.integers(64, 1024)), "mlp_shape": "funnel",
              "num_layers": True if i == 0 else int(2 + i % 3), "learning_rate": float(10 ** rng.uniform(-4, -1)),
              "momentum": float(rng.uniform(0.1, 0.99)), "weight_decay": float(rng.uniform(1e-5, 0.1))}
    results = {"model_parameters": 1234, "final_val_accuracy": acc[-1], "OpenML_task_id": 31, "test_split": 0.33,
               "budget": 50, "seed": 1, "instances": 1000.0, "classes": 2.0, "features": 20.0}
    return {"log": log, "results": results, "config": config}


def archive(tasks=TASKS2, n=6) -> bytes:
    doc = {t: {str(i): run(t, i) for i in range(n)} for t in tasks}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data_2k_lw.json", json.dumps(doc))
    return buf.getvalue()


def test_download_convert_cache_load_simulate(server, register_temporarily):
    served = serve(LCBENCH, server, {LCBENCH.files[0].filename: archive()})
    recipe = register_temporarily(dataclasses.replace(served, tasks=TASKS2))
    tasks = load_blackbox("lcbench")
    assert sorted(tasks) == sorted(TASKS2)
    bb = tasks["credit-g"]
    assert bb.shape == (6, 1, 52, 7) and (bb.metric, bb.mode) == ("val_accuracy", "max")
    r = run("credit-g", 4)
    cfg = bb.config(4)
    assert cfg["num_layers"] == str(r["config"]["num_layers"]) and bb.config(0)["num_layers"] == "True"
    out = bb.evaluate(cfg)
    assert np.allclose(out["val_accuracy"], r["log"]["Train/val_accuracy"], rtol=1e-6)
    assert np.allclose(out["time"], r["log"]["time"], rtol=1e-6)
    assert bb.metadata["OpenML_task_id"] == 31
    simulate_briefly(bb)
    assert recipe.is_cached()


def test_declared_tasks_must_match(server):
    recipe = serve(LCBENCH, server, {LCBENCH.files[0].filename: archive()})
    with pytest.raises(RecipeError, match="missing"):
        recipe.get(progress=False)
