"""pd1 end to end on a miniature pd1.tar.gz with pd1/pd1_{matched,unmatched}_phase1_results.jsonl.gz
(gzip JSON lines with flat 'hps.*' keys and per-evaluation lists, null for unevaluated runs)."""
from __future__ import annotations

import dataclasses
import gzip
import io
import json
import tarfile

import numpy as np
import pytest
from classic_helpers import serve, simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.pd1 import PD1, TASKS


def row(i: int, dataset: str, model: str, act, bs: int, n_eval: int | None) -> dict:
    rng = np.random.default_rng(i)
    lists = None if n_eval is None else {
        "valid/error_rate": np.sort(rng.uniform(0.1, 0.9, n_eval))[::-1].tolist(),
        "valid/ce_loss": rng.uniform(1, 2, n_eval).tolist(),
        "eval_time": rng.uniform(5, 6, n_eval).tolist(), "global_step": list(range(100, 100 * (n_eval + 1), 100)),
        "epoch": [0.5 * (k + 1) for k in range(n_eval)], "train/ce_loss": rng.uniform(1, 2, n_eval).tolist()}
    out = {"dataset": dataset, "model": model, "hps.activation_fn": act, "hps.batch_size": bs,
           "hps.lr_hparams.initial_value": float(10 ** rng.uniform(-4, 0)), "hps.lr_hparams.power": 1.5,
           "hps.lr_hparams.decay_steps_factor": float(rng.uniform(0.02, 0.98)),
           "hps.opt_hparams.momentum": float(rng.uniform(0.1, 0.99)), "study_group": "x", "trial_dir": f"/t/{i}",
           "status": "done" if n_eval else "diverged"}
    for k in ("valid/error_rate", "valid/ce_loss", "eval_time", "global_step", "epoch", "train/ce_loss"):
        out[k] = None if lists is None else lists[k]
    return out


def jsonl_gz(rows) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())


def archive() -> bytes:
    matched = [row(i, "mnist", "max_pooling_cnn", "tanh", 256, 5 if i != 2 else 3) for i in range(4)]
    unmatched = [row(10 + i, "uniref50", "transformer", None, 128, 4 if i else None) for i in range(3)]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, rows in (("pd1_matched_phase1_results.jsonl.gz", matched),
                           ("pd1_unmatched_phase1_results.jsonl.gz", unmatched)):
            data = jsonl_gz(rows)
            info = tarfile.TarInfo(f"pd1/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_convert_cache_load_simulate(server, register_temporarily):
    served = serve(PD1, server, {PD1.files[0].filename: archive()})
    recipe = register_temporarily(dataclasses.replace(served, tasks=(
        "mnist_max_pooling_cnn_tanh_batch_size_256", "uniref50_transformer_batch_size_128")))
    tasks = load_blackbox("pd1")
    assert sorted(tasks) == ["mnist_max_pooling_cnn_tanh_batch_size_256", "uniref50_transformer_batch_size_128"]
    bb = tasks["mnist_max_pooling_cnn_tanh_batch_size_256"]
    assert bb.shape == (4, 1, 5, 3) and bb.metric == "metric_valid_error_rate"
    r = row(1, "mnist", "max_pooling_cnn", "tanh", 256, 5)
    cfg = bb.config(1)
    assert cfg["one_minus_momentum"] == pytest.approx(1 - r["hps.opt_hparams.momentum"])
    out = bb.evaluate(cfg)
    assert np.allclose(out["metric_valid_error_rate"], r["valid/error_rate"], rtol=1e-6)
    assert np.allclose(out["metric_elapsed_time"], np.cumsum(r["eval_time"]), rtol=1e-5)
    short = bb.evaluate(bb.config(2))["metric_valid_error_rate"]
    assert np.isfinite(short[:3]).all() and np.isnan(short[3:]).all()
    other = tasks["uniref50_transformer_batch_size_128"]
    assert np.isnan(other.evaluate(other.config(0))["metric_valid_error_rate"]).all()
    simulate_briefly(bb)
    assert recipe.is_cached()


def test_declared_tasks_follow_the_naming_rule():
    assert len(TASKS) == 23 and "imagenet_resnet_batch_size_512" in TASKS
    from blackbox_repo.recipes.pd1 import task_name
    assert task_name("mnist", "max_pooling_cnn", "tanh", 256) in TASKS
    assert task_name("uniref50", "transformer", None, 128.0) in TASKS
