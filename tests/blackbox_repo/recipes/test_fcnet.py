"""fcnet end to end on a miniature fcnet_tabular_benchmarks.tar.gz: one HDF5 file per task, one
group per configuration named json.dumps(config, sort_keys=True), float64 datasets as upstream."""
from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest
from classic_helpers import serve, simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.fcnet import FCNET, TASKS

h5py = pytest.importorskip("h5py")

CONFIGS = [{"activation_fn_1": a, "activation_fn_2": "relu", "batch_size": b, "dropout_1": 0.0, "dropout_2": 0.3,
            "init_lr": 0.001, "lr_schedule": "cosine", "n_units_1": 64, "n_units_2": u}
           for a in ("tanh", "relu") for b in (8, 64) for u in (16, 512)]


def hdf5_bytes(task: str, path) -> bytes:
    with h5py.File(path, "w") as f:
        for i, cfg in enumerate(CONFIGS):
            g = f.create_group(json.dumps(cfg, sort_keys=True))
            rng = np.random.default_rng([i, len(task)])
            curve = np.sort(rng.uniform(0.01, 1.0, (4, 100)), axis=1)[:, ::-1]
            for k in ("train_loss", "train_mse", "valid_loss", "valid_mse"):
                g.create_dataset(k, data=curve * (2.0 if k.startswith("train") else 1.0))
            g.create_dataset("final_test_error", data=curve[:, -1] + 0.01)
            g.create_dataset("n_params", data=np.full(4, 1000.0 + i))
            g.create_dataset("runtime", data=np.array([100.0, 110.0, 120.0, 130.0]) + i)
    return path.read_bytes()


def archive(tmp_path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for task in TASKS:
            data = hdf5_bytes(task, tmp_path / f"{task}.hdf5")
            info = tarfile.TarInfo(f"fcnet_tabular_benchmarks/fcnet_{task}_data.hdf5")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_convert_cache_load_simulate(server, register_temporarily, tmp_path):
    recipe = register_temporarily(serve(FCNET, server, {FCNET.files[0].filename: archive(tmp_path)}))
    tasks = load_blackbox("fcnet")
    assert sorted(tasks) == sorted(TASKS)
    bb = tasks["protein_structure"]
    assert bb.shape == (len(CONFIGS), 4, 100, 5) and bb.metric == "metric_valid_loss"
    cfg = {f"hp_{k}": v for k, v in CONFIGS[5].items()}
    out = bb.evaluate(cfg, fidelity=50, seed=2)
    with h5py.File(tmp_path / "protein_structure.hdf5", "r") as f:
        g = f[json.dumps(CONFIGS[5], sort_keys=True)]
        assert out["metric_valid_loss"] == pytest.approx(g["valid_loss"][2, 49], rel=1e-6)
        assert out["metric_train_loss"] == pytest.approx(g["train_loss"][2, 49], rel=1e-6)
    assert out["metric_elapsed_time"] == pytest.approx((125.0) * 50 / 100)
    assert out["metric_n_params"] == 1005.0
    for name, dom in bb.configuration_space.items():
        assert all(dom.contains(v) for v in bb.hyperparameters[name]), name
    simulate_briefly(bb)
    assert recipe.is_cached() and len(server.requests) == 1
