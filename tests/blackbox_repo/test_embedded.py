"""The embedded default blackbox mlp-sklearn: shipped, loadable offline, and genuinely multi-fidelity."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

import blackbox_repo
from blackbox_repo import DEFAULT_BLACKBOX, load_blackbox
from blackbox_repo.configspace import Choice, Float, Integer
from blackbox_repo.embedded_training import OBJECTIVES, SPACE, embedded_root, quality_figures, train_mlp


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HPOSIM_HOME", str(tmp_path_factory.mktemp("hposim-home")))
        yield load_blackbox(DEFAULT_BLACKBOX)


def test_default_blackbox_is_the_embedded_mlp(tasks):
    assert DEFAULT_BLACKBOX == "mlp-sklearn"
    assert len(tasks) >= 2
    assert {"digits", "breast_cancer"} <= set(tasks)
    record = [r for r in blackbox_repo.list_blackboxes() if r.name == DEFAULT_BLACKBOX]
    assert record and record[0].kind == "embedded"


def test_shapes_space_and_objectives(tasks):
    for task, bb in tasks.items():
        n_configs, n_seeds, n_fid, n_obj = bb.shape
        assert n_configs >= 500 and n_seeds >= 3 and n_fid >= 20, task
        assert bb.objectives_names == OBJECTIVES
        assert bb.metric == "valid_error" and bb.mode == "min"
        assert bb.metric_elapsed_time == "elapsed_time" and bb.fidelity_name == "epoch"
        assert bb.fidelity_values.tolist() == list(range(1, n_fid + 1))
        space = bb.configuration_space
        assert space == SPACE and len(space) >= 4
        kinds = {type(d) for d in space.values()}
        assert {Float, Integer, Choice} <= kinds
        assert any(isinstance(d, Float) and d.log for d in space.values())
        configs = bb.configs()
        assert len({tuple(c.values()) for c in configs}) == n_configs
        for c in configs:
            space.validate(c)
            for k, d in space.items():
                if isinstance(d, Float):
                    assert c[k] == float(f"{c[k]:.4g}"), (task, k, c[k])
        # every categorical value and a spread of the log-scale ranges is present
        for k, d in space.items():
            if isinstance(d, Choice):
                assert set(bb.hyperparameters[k]) == set(d.values), (task, k)
        lr = bb.hyperparameters["learning_rate_init"].to_numpy()
        assert lr.min() < 3e-4 and lr.max() > 3e-2


def test_values_are_sane(tasks):
    for task, bb in tasks.items():
        t = bb.objective("elapsed_time")
        ok = ~np.isnan(t)
        assert ok.mean() > 0.95, f"{task}: too many failed evaluations"
        assert np.all(t[ok] > 0)
        diffs = np.diff(t, axis=-1)
        assert np.all(diffs[~np.isnan(diffs)] >= 0), f"{task}: elapsed time decreases"
        for name in ("valid_error", "test_error"):
            v = bb.objective(name)
            v = v[~np.isnan(v)]
            assert v.min() >= 0 and v.max() <= 1
        # training helps: the best final validation error is far below the best first-epoch one
        valid = np.nanmean(bb.objective("valid_error"), axis=1)
        assert np.nanmin(valid[:, -1]) < 0.1
        assert np.nanmedian(valid[:, -1]) < np.nanmedian(valid[:, 0])


def test_genuinely_multi_fidelity(tasks):
    """Epoch 1 ranks configurations far from how epoch N does, most of all among the good ones."""
    for task, bb in tasks.items():
        valid = np.nanmean(bb.objective("valid_error"), axis=1)
        valid = valid[~np.isnan(valid).any(axis=1)]
        first, last = valid[:, 0], valid[:, -1]
        rho = spearmanr(first, last).statistic
        assert rho < 0.9, f"{task}: first and last epochs rank configurations alike (rho={rho:.3f})"
        good = last <= np.quantile(last, 0.25)
        rho_good = spearmanr(first[good], last[good]).statistic
        assert rho_good < 0.6, f"{task}: among the best quarter, rho={rho_good:.3f}"
        top_first = set(np.argsort(first, kind="stable")[:10])
        top_last = set(np.argsort(last, kind="stable")[:10])
        assert len(top_first & top_last) <= 3, f"{task}: the top-10 sets of epoch 1 and N nearly agree"
        quality = bb.metadata["quality"]
        assert quality["spearman_first_last"] == pytest.approx(rho, abs=1e-9)
        assert quality["spearman_first_last_best_quarter"] == pytest.approx(rho_good, abs=1e-9)
        assert quality["top10_overlap_first_last"] == len(top_first & top_last)
        assert quality_figures(bb) == quality
    rhos = [bb.metadata["quality"]["spearman_first_last"] for bb in tasks.values()]
    assert min(rhos) < 0.8


def test_provenance_is_recorded(tasks):
    for task, bb in tasks.items():
        meta = bb.metadata
        assert meta["name"] == DEFAULT_BLACKBOX and meta["task"] == task
        assert "scikit-learn" in str(meta["source"]) and "embedded_training" in str(meta["source"])
        assert meta["generation"]["generation_seconds"] > 0
        assert meta["generation"]["n_configs"] == bb.n_configs
        assert meta["dataset"]["n_train"] > meta["dataset"]["n_valid"] > 0


def test_evaluate_matches_the_table(tasks):
    bb = tasks["digits"]
    rng = np.random.default_rng(0)
    for i in rng.choice(bb.n_configs, size=5, replace=False):
        config = bb.config(int(i))
        seed = int(rng.integers(bb.num_seeds))
        res = bb.evaluate(config, fidelity=bb.fidelity_values[-1], seed=seed)
        assert math.isclose(res["valid_error"], float(bb.objectives[i, seed, -1, 2]), rel_tol=0,
                            abs_tol=0) or math.isnan(res["valid_error"])
        curve = bb.evaluate(config, seed=seed)
        assert curve["elapsed_time"].shape == (len(bb.fidelity_values),)


def test_table_comes_from_the_training_code(tasks):
    """Retraining one row for a few epochs reproduces its tabulated errors and loss exactly."""
    import sklearn

    bb = tasks["breast_cancer"]
    source = str(bb.metadata["source"])
    if f"scikit-learn {sklearn.__version__} " not in source:
        pytest.skip(f"table made with another scikit-learn version: {source[:60]}")
    sizes = bb.hyperparameters["n_units"] * bb.hyperparameters["n_layers"] / bb.hyperparameters["batch_size"]
    i = int(np.argmin(sizes.to_numpy()))
    seed = 1
    curves = train_mlp(bb.config(i), bb.metadata["seeds"][seed],
                       task="breast_cancer", n_epochs=4)
    table = bb.curve(i, seed)
    for j, name in enumerate(OBJECTIVES):
        if name == "elapsed_time":
            continue
        np.testing.assert_allclose(table[:4, j], curves[name], rtol=1e-5, err_msg=name)


def test_embedded_files_are_small():
    total = sum(p.stat().st_size for p in embedded_root().rglob("*") if p.is_file())
    assert 0 < total <= 10 * 1024 * 1024
    folders = [p for p in embedded_root().iterdir() if p.is_dir()]
    assert len(folders) >= 2
    for folder in folders:
        assert {"hyperparameters.parquet", "objectives.parquet", "metadata.json"} <= \
            {p.name for p in folder.iterdir()}
