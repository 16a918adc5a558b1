"""nasbench201 end to end on a miniature NATS-tss '-simple' archive in the genuine layout:
meta.pickle.pbz2 + one bz2 pickle per architecture with OrderedDicts and numpy scalars."""
from __future__ import annotations

import bz2
import hashlib
import collections
import dataclasses
import io
import itertools
import pickle
import tarfile

import numpy as np
import pytest
from classic_helpers import serve, simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.download import ChecksumError
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.nasbench201 import NASBENCH201, OPERATIONS, SEEDS, TASKS, arch_operations
from blackbox_repo.recipes.unpinned import UNPINNED, recorded_sha256

N_ARCH = 5


def arch_str(i: int) -> str:
    ops = list(itertools.islice(itertools.product(OPERATIONS, repeat=6), i * 37, i * 37 + 1))[0]
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def result(task: str, i: int, seed: int) -> dict:
    rng = np.random.default_rng([i, seed, len(task)])
    names = ["ori-test"] if task == "cifar10" else ["ori-test", "x-valid", "x-test"]
    acc = np.sort(rng.uniform(10, 90, 200))
    ev_acc = {f"ori-test@{e}": float(acc[e] - 1) for e in range(200)}
    ev_acc.update({f"{n}@199": float(acc[-1]) for n in names[1:]})
    return {"name": task, "train_acc1es": {e: float(acc[e]) for e in range(200)}, "train_acc5es": None,
            "train_losses": {e: float(1 / (e + 1)) for e in range(200)},
            "train_times": collections.OrderedDict((e, 10.0 + i) for e in range(200)),
            "arch_config": {"channel": 16, "num_cells": 5, "arch_str": arch_str(i), "genotype": None},
            "params": np.float64(0.1 * (i + 1)), "flop": 10.0 + i, "seed": f"0{seed}", "epochs": 200,
            "latency": [np.float64(0.01 * (i + 1))], "eval_names": names, "eval_acc1es": ev_acc,
            "eval_times": {f"{n}@{e}": 1.5 for n in names for e in range(200)},
            "eval_losses": {f"ori-test@{e}": 1.0 for e in range(200)}, "net_state_dict": None}


def arch_doc(i: int, missing_seed: bool) -> dict:
    seeds = SEEDS[:2] if missing_seed else SEEDS
    res = {(t, s): result(t, i, s) for t in ("cifar10-valid",) + TASKS for s in seeds}
    info = {"arch_index": i, "arch_str": arch_str(i), "all_results": res,
            "dataset_seed": {t: list(seeds) for t in ("cifar10-valid",) + TASKS}, "clear_net_done": True}
    return {"12": {**info, "all_results": {}}, "200": info}


def pbz2(obj) -> bytes:
    return bz2.compress(pickle.dumps(obj, protocol=4))


def archive(n: int = N_ARCH) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        members = {"meta.pickle.pbz2": pbz2({"meta_archs": [arch_str(i) for i in range(n)], "total_archs": n,
                                             "arch2infos": None, "evaluated_indexes": set(range(n))})}
        members.update({f"{i:06d}.pickle.pbz2": pbz2(arch_doc(i, missing_seed=(i == 3))) for i in range(n)})
        for name, data in members.items():
            info = tarfile.TarInfo(f"NATS-tss-v1_0-3ffb9-simple/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_convert_cache_load_simulate(server, register_temporarily):
    blob = archive()
    recipe = register_temporarily(serve(NASBENCH201, server, {NASBENCH201.files[0].filename: blob}))
    tasks = load_blackbox("nasbench201")
    assert list(tasks) == list(TASKS)
    bb = tasks["cifar100"]
    assert bb.shape == (N_ARCH, 3, 200, 7) and bb.metric == "metric_valid_error"
    cfg = bb.config(2)
    assert list(cfg.values()) == arch_operations(arch_str(2))
    r = result("cifar100", 2, 888)
    out = bb.evaluate(cfg, fidelity=7, seed=1)
    assert out["metric_valid_error"] == pytest.approx(1 - r["eval_acc1es"]["ori-test@6"] / 100, rel=1e-6)
    assert out["metric_elapsed_time"] == pytest.approx(7 * (12.0 + 1.5))
    assert out["metric_params"] == pytest.approx(0.3) and out["metric_latency"] == pytest.approx(0.03)
    # architecture 3 lacks seed 999: imputed with the mean of the other two seeds
    full = bb.evaluate(bb.config(3), seed=2)["metric_valid_error"]
    a = bb.evaluate(bb.config(3), seed=0)["metric_valid_error"]
    b = bb.evaluate(bb.config(3), seed=1)["metric_valid_error"]
    assert np.allclose(full, (a + b) / 2, rtol=1e-6) and not np.allclose(a, b)
    assert bb.metadata["imputed_seed_curves_all_tasks"] == 3
    assert len(server.requests) == 1
    assert load_blackbox("nasbench201/cifar10").n_configs == N_ARCH and len(server.requests) == 1
    res = simulate_briefly(tasks["ImageNet16-120"])
    for _, g in res.results.groupby("trial_id"):
        assert (np.diff(g.sort_values("fidelity")["metric_elapsed_time"].to_numpy()) > 0).all()
    assert recipe.is_cached()


def test_unpinned_checksum_is_recorded_at_first_download_and_enforced(server, register_temporarily):
    blob = archive(3)
    name = NASBENCH201.files[0].filename
    url = server.add(f"nb/{name}", blob)
    recipe = dataclasses.replace(NASBENCH201, files=(dataclasses.replace(NASBENCH201.files[0], url=url),))
    assert recipe.files[0].sha256 == UNPINNED
    tasks = recipe.get(progress=False)
    sha = hashlib.sha256(blob).hexdigest()
    assert recorded_sha256(recipe.raw_dir(), recipe.files[0]) == sha
    assert tasks["cifar10"].metadata["raw_files"][name].startswith(sha)
    raw = recipe.raw_dir() / name
    raw.write_bytes(blob[:-1] + b"x")
    with pytest.raises(ChecksumError, match="recorded"):
        recipe.get(force=True, progress=False)


def test_missing_architecture_file_is_reported(server):
    blob = archive(3)
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(blob)) as src, tarfile.open(fileobj=buf, mode="w") as dst:
        for m in src:
            if not m.name.endswith("000001.pickle.pbz2"):
                dst.addfile(m, src.extractfile(m))
    recipe = serve(NASBENCH201, server, {NASBENCH201.files[0].filename: buf.getvalue()})
    with pytest.raises(RecipeError, match="missing indices"):
        recipe.get(progress=False)


def test_restricted_unpickler_refuses_other_globals():
    from blackbox_repo.recipes.nasbench201 import load_pickle_bz2
    with pytest.raises(RecipeError, match="os.system|posix.system"):
        load_pickle_bz2(bz2.compress(b"cos\nsystem\n(S'true'\ntR."))


def test_offline_lists_the_unpinned_file_and_where_to_put_it(monkeypatch, server):
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    from blackbox_repo.download import OfflineError
    with pytest.raises(OfflineError) as e:
        NASBENCH201.get()
    msg = str(e.value)
    assert NASBENCH201.files[0].url in msg and str(NASBENCH201.raw_dir() / NASBENCH201.files[0].filename) in msg
    assert "unpinned" in msg and server.requests == []
