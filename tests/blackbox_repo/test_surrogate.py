"""Surrogate blackboxes: fitting, the report card, monotone elapsed time, the simulator,
save/load through the repository, and ``hposim blackbox surrogate``."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from blackbox_repo import list_blackboxes, load_blackbox, save_blackbox
from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.configspace import (ConfigurationError, ConfigurationSpace, choice, loguniform, randint,
                                         uniform)
from blackbox_repo.storage import CorruptBlackboxError
from blackbox_repo.surrogate import (SURROGATE_JSON, SURROGATE_MODEL, SurrogateBlackbox, SurrogateError,
                                     add_surrogate, load_surrogate, verify_surrogate)
from simulator import make_scheduler, simulate
from simulator.lookup import FIRST_BATCH

LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
WIDTHS = [16, 32, 64, 128, 256]
ACTS = ["relu", "tanh", "sigmoid"]
#: small settings so every model fits in about a second
FAST = {"knn": {}, "random_forest": {"n_estimators": 30},
        "mlp": {"hidden_layer_sizes": (64,), "max_iter": 300},
        "xgboost": {"n_estimators": 40, "max_depth": 4}}


def make_table(seed: int = 0) -> TabularBlackbox:
    """90 configurations (lr x width x activation) x 2 seeds x 12 epochs; learning curves
    whose level and speed depend on the configuration, noisy per seed, a cumulative time
    growing with the width, and one configuration failing from epoch 7 (NaN)."""
    rng = np.random.default_rng(seed)
    hp = pd.DataFrame([(lr, w, a) for lr in LRS for w in WIDTHS for a in ACTS],
                      columns=["lr", "width", "act"])
    n, n_seeds, n_ep = len(hp), 2, 12
    ep = np.arange(1, n_ep + 1)
    llr = np.log10(hp["lr"].to_numpy())
    width = hp["width"].to_numpy()
    asym = (0.08 + 0.05 * (llr + 2.5) ** 2 + hp["act"].map({"relu": 0.0, "tanh": 0.03, "sigmoid": 0.08})
            .to_numpy() + 0.02 * np.log2(256 / width))
    speed = 0.15 + 0.5 * (llr + 4) / 2.5
    obj = np.zeros((n, n_seeds, n_ep, 3), np.float32)
    for s in range(n_seeds):
        err = asym[:, None] + (0.9 - asym[:, None]) * np.exp(-speed[:, None] * ep) + rng.normal(0, 0.01, (n, n_ep))
        obj[:, s, :, 0] = err
        obj[:, s, :, 1] = 2.0 * err + rng.normal(0, 0.02, (n, n_ep))
        obj[:, s, :, 2] = np.cumsum((0.2 + width / 64.0)[:, None] * rng.uniform(0.9, 1.1, (n, n_ep)), axis=1)
    failing = np.flatnonzero((hp["lr"] == 3e-2) & (hp["act"] == "sigmoid") & (hp["width"] == 16))
    obj[failing, :, 6:, :2] = np.nan
    return TabularBlackbox(hp, obj, ep, ["valid_error", "train_loss", "elapsed_time"],
                           metric_elapsed_time="elapsed_time", metadata={"name": "toy", "task": "t"})


CONTINUOUS = ConfigurationSpace({"lr": loguniform(1e-4, 3e-2), "width": randint(16, 256),
                                 "act": choice(ACTS)})


@pytest.fixture(scope="module")
def table() -> TabularBlackbox:
    return make_table()


@pytest.fixture(scope="module")
def fitted(table) -> dict[str, SurrogateBlackbox]:
    return {m: add_surrogate(table, m, **kw) for m, kw in FAST.items()}


@pytest.fixture(scope="module")
def continuous(table) -> dict[str, SurrogateBlackbox]:
    return {m: add_surrogate(table, m, configuration_space=CONTINUOUS, random_state=1, **kw)
            for m, kw in FAST.items()}


# ---------------------------------------------------------------------------- report card
@pytest.mark.parametrize("model", list(FAST))
def test_report_card_numbers_are_sane(fitted, table, model):
    card = fitted[model].card
    assert (card.model, card.seeds, card.configuration_space) == (model, "separate", "table")
    assert (card.n_configs, card.n_used, card.n_train, card.n_test) == (90, 90, 72, 18)
    assert set(card.errors) == set(table.objectives_names)
    for name, e in card.errors.items():
        assert 0 < e["mae"] <= e["rmse"], (name, e)
        assert e["n"] > 0
    # worse than perfect, far better than guessing for every model on this smooth table
    assert card.errors["elapsed_time"]["nrmse"] < 0.9
    assert card.spearman["fidelity_values"] == list(range(1, 13))
    assert len(card.spearman["rho"]) == 12
    assert card.spearman["mean"] > (0.9 if model in ("random_forest", "xgboost") else 0.3)
    assert card.monotonicity["elapsed_time"] == "elapsed_time"
    assert card.monotonicity["after_repair"] == 0
    assert card.monotonicity["held_out_steps"] == 18 * 2 * 12
    assert card.monotonicity["random_steps"] == 256 * 2 * 12
    assert card.monotonicity["table"] == 0
    assert card.fit_seconds > 0 and card.throughput_configs_per_s > 0 and card.single_config_ms > 0
    if model == "knn":
        assert card.n_components is None
    else:
        assert card.n_dropped_nan == 1 and card.n_components == 32      # 2 x 12 x 3 = 72 numbers a curve
    text = card.text()
    assert f"model {model}" in text and "Spearman" in text and "configs/s" in text
    assert json.loads(json.dumps(card.to_dict())) == card.to_dict()


def test_better_models_beat_the_nearest_neighbour_on_held_out_configs(fitted):
    knn = fitted["knn"].card
    for model in ("random_forest", "xgboost"):
        card = fitted[model].card
        assert card.errors["valid_error"]["rmse"] < knn.errors["valid_error"]["rmse"]
        assert card.spearman["mean"] > knn.spearman["mean"]


def test_knn_reproduces_the_table_exactly(fitted, table):
    sur = fitted["knn"]
    assert np.array_equal(sur.predict_table(), table.objectives, equal_nan=True)
    for i in (0, 17, 89):
        cfg = table.config(i)
        for seed in range(2):
            got = sur.evaluate(cfg, seed=seed)
            want = table.evaluate(cfg, seed=seed)
            for name in table.objectives_names:
                assert np.array_equal(got[name], want[name], equal_nan=True)
    fail = table.config_id({"lr": 3e-2, "width": 16, "act": "sigmoid"})
    assert np.isnan(sur.evaluate(table.config(fail), fidelity=12, seed=1)["valid_error"])
    assert sur.evaluate(table.config(5), fidelity=3, seed=1) == table.evaluate(table.config(5), fidelity=3, seed=1)


def test_knn_with_averaged_seeds_reproduces_the_seed_mean(table):
    sur = add_surrogate(table, seeds="average", holdout=0)
    assert sur.num_seeds == 1 and sur.card.seeds == "average" and sur.card.n_test == 0
    with pytest.warns(RuntimeWarning, match="empty slice"):   # the failed cells: NaN in both seeds
        mean = np.nanmean(table.objectives, axis=1, keepdims=True)
    assert np.allclose(sur.predict_table(), mean, equal_nan=True, rtol=0, atol=1e-6)
    with pytest.raises(BlackboxError, match="seeds are indices 0..0"):
        sur.evaluate(table.config(0), seed=1)


def test_more_neighbours_average_their_curves(table):
    sur = add_surrogate(table, n_neighbors=3, holdout=0)
    got = sur.config_curve({"lr": 1e-3, "width": 64, "act": "tanh"}, seed=0)
    assert got.shape == (12, 3)
    assert not np.array_equal(got, table.curve(table.config_id({"lr": 1e-3, "width": 64, "act": "tanh"})))


def test_subsampling_fits_on_max_configs(table):
    sur = add_surrogate(table, "random_forest", max_configs=40, n_estimators=10)
    card = sur.card
    assert (card.n_configs, card.n_used, card.n_train + card.n_test, card.n_test) == (90, 40, 40, 8)


# ---------------------------------------------------------------------------- other spaces
@pytest.mark.parametrize("model", list(FAST))
def test_elapsed_time_is_monotone_for_random_configurations_of_a_continuous_space(continuous, model):
    sur = continuous[model]
    assert sur.card.configuration_space == "custom"
    configs = CONTINUOUS.sample(np.random.default_rng(7), 200)
    curves = sur.curves_for(configs)
    assert curves.shape == (200, 2, 12, 3)
    t = curves[..., 2]
    assert np.all(np.isfinite(t)) and np.all(t >= 0)
    assert np.all(np.diff(t, axis=-1) >= 0)
    # the same numbers one by one, from the cache
    assert sur.cache_info()["misses"] == 200
    one = sur.evaluate(configs[3], seed=1)
    assert np.array_equal(one["elapsed_time"], curves[3, 1, :, 2])
    assert sur.cache_info()["misses"] == 200


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_components", [None, 4])
def test_regressors_repair_decreasing_time_predictions(n_components):
    # a table whose time increments alternate wildly: raw predictions of unseen configs go down
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 40)
    inc = np.where(np.arange(8) % 2 == 0, 5.0, 0.0)[None, :] * (1 + np.sin(9 * x)[:, None]
                                                                 + rng.uniform(0, 1, (40, 8)))
    t = np.cumsum(inc, axis=1)                      # flat on every other level
    obj = np.stack([np.broadcast_to(x[:, None], (40, 8)), t], axis=-1)[:, None]
    table = TabularBlackbox(pd.DataFrame({"x": x}), obj, np.arange(1, 9), ["loss", "time"],
                            metric_elapsed_time="time")
    sur = add_surrogate(table, "mlp", configuration_space=ConfigurationSpace({"x": uniform(0, 1)}),
                        hidden_layer_sizes=(8,), max_iter=50, n_components=n_components)
    assert sur.card.n_components == n_components
    mono = sur.card.monotonicity
    assert mono["after_repair"] == 0
    curves = sur.curves_for([{"x": v} for v in np.linspace(0, 1, 50)])
    assert np.all(np.diff(curves[..., 1], axis=-1) >= 0) and np.all(curves[..., 1] >= 0)
    # predictions: the model's targets (time as increments) back-projected, increments summed
    m = sur._model
    X = sur._features.configs([{"x": v} for v in np.linspace(0, 1, 50)])
    Z = m._latent(X)
    T = Z if m.components is None else Z @ m.components + m.pca_mean
    T = (T * m.std + m.mean).reshape(50, 1, 8, 2)
    assert np.allclose(curves[..., 1], np.cumsum(np.maximum(T[..., 1], 0.0), axis=-1), rtol=1e-5, atol=1e-4)
    assert np.allclose(curves[..., 0], T[..., 0], rtol=1e-5, atol=1e-5)
    if n_components is None:
        assert mono["random"] > 0 or mono["held_out"] > 0
    # far-off latent vectors go down for sure: a drop is ignored, later rises still count
    L = np.random.default_rng(1).normal(0, 30, (200, Z.shape[1]))
    repaired, before = m.expand(L, 0, raw=True)
    steps = np.diff(before, axis=1, prepend=0.0)
    down = (steps < 0).any(axis=1)
    assert 0 < down.sum() < 200
    want = np.where(down[:, None], np.cumsum(np.maximum(steps, 0.0), axis=1), before)
    assert np.allclose(repaired[..., 1], want, rtol=1e-6, atol=1e-4)
    assert np.array_equal(repaired[~down, :, 1], before[~down].astype(np.float32))


def test_configurations_outside_the_space_are_errors(continuous, fitted, table):
    with pytest.raises(ConfigurationError, match="lr"):
        continuous["random_forest"].evaluate({"lr": 1.0, "width": 20, "act": "relu"})
    with pytest.raises(BlackboxError, match="lacks hyperparameters"):
        continuous["knn"].evaluate({"lr": 1e-3})
    with pytest.raises(ConfigurationError, match="width"):
        fitted["knn"].evaluate({"lr": 1e-3, "width": 20, "act": "relu"})   # the table's space is a grid
    small = ConfigurationSpace({"lr": loguniform(1e-4, 1e-2), "width": randint(16, 256), "act": choice(ACTS)})
    with pytest.raises(SurrogateError, match="'lr' lie outside"):
        add_surrogate(table, configuration_space=small)
    other = ConfigurationSpace({"lr": loguniform(1e-4, 3e-2), "depth": randint(1, 4), "act": choice(ACTS)})
    with pytest.raises(SurrogateError, match="differ from the table's"):
        add_surrogate(table, configuration_space=other)


def test_bad_arguments_name_what_is_allowed(table, monkeypatch):
    with pytest.raises(SurrogateError, match="Did you mean 'xgboost'"):
        add_surrogate(table, "xgbost")
    with pytest.raises(SurrogateError, match="'separate', 'average'"):
        add_surrogate(table, seeds="mean")
    with pytest.raises(SurrogateError, match="unknown arguments \\['n_trees'\\]"):
        add_surrogate(table, "random_forest", n_trees=3)
    with pytest.raises(SurrogateError, match="valid: \\['n_neighbors'\\]"):
        add_surrogate(table, k=3)
    with pytest.raises(SurrogateError, match="max_configs=1"):
        add_surrogate(table, max_configs=1)
    with pytest.raises(SurrogateError, match="fits a TabularBlackbox"):
        add_surrogate("table")
    monkeypatch.setitem(sys.modules, "xgboost", None)
    with pytest.raises(SurrogateError, match=r"pip install hposim\[surrogates\]"):
        add_surrogate(table, "xgboost")


def test_lru_cache_is_bounded_and_batches_misses(table):
    sur = add_surrogate(table, "random_forest", configuration_space=CONTINUOUS, n_estimators=5, holdout=0,
                        cache_bytes=1)
    configs = CONTINUOUS.sample(np.random.default_rng(3), 1500)
    first = sur.curves_for(configs + configs[:10])
    info = sur.cache_info()
    assert (info["misses"], info["hits"], info["lru_max"], info["lru_size"]) == (1500, 0, 1024, 1024)
    assert np.array_equal(first[:10], first[1500:])
    again = sur.curves_for(configs[-5:])
    assert sur.cache_info()["hits"] == 5 and np.array_equal(again, first[1495:1500])


def _fresh(sur: SurrogateBlackbox, **kw) -> SurrogateBlackbox:
    """The same fitted model behind an empty cache."""
    return SurrogateBlackbox(sur.table, sur._model, sur._features, seeds=sur.seeds, card=sur.card, **kw)


def _in_lru(sur: SurrogateBlackbox, config) -> bool:
    return sur._key(config) in sur._lru


def _count_model_calls(sur: SurrogateBlackbox, monkeypatch) -> list[int]:
    """Sizes of the batches the model itself evaluates (every prediction path goes through it)."""
    calls: list[int] = []
    latent = sur._model._latent

    def counting(X):
        calls.append(len(X))
        return latent(X)
    monkeypatch.setattr(sur._model, "_latent", counting)
    return calls


@pytest.mark.parametrize("model", list(FAST))
def test_a_curve_is_the_same_predicted_alone_or_in_any_batch(continuous, model):
    sur = continuous[model]
    # widths half-way between tabulated ones: nearest-neighbour ties that rounding could break
    halfway = [{"lr": lr, "width": w, "act": a} for lr in LRS[:2] for w in (24, 48, 96) for a in ACTS]
    configs = halfway + CONTINUOUS.sample(np.random.default_rng(11), 102)
    whole = _fresh(sur).curves_for(configs)
    alone = np.stack([_fresh(sur).curves_for([c])[0] for c in configs[:40]])
    assert np.array_equal(alone, whole[:40], equal_nan=True)
    pieces = _fresh(sur)
    parts = np.concatenate([pieces.curves_for(configs[a:b]) for a, b in [(0, 2), (2, 3), (3, 50), (50, 120)]])
    assert np.array_equal(parts, whole, equal_nan=True)


def test_prefetch_predicts_all_new_configurations_in_one_call(continuous, monkeypatch):
    sur = _fresh(continuous["mlp"])
    configs = CONTINUOUS.sample(np.random.default_rng(4), 50)
    expected = _fresh(sur).curves_for(configs[:20])[:, 1]
    calls = _count_model_calls(sur, monkeypatch)         # (the fitted model is shared with _fresh copies)
    sur.config_curve(configs[3])
    bad = [{"lr": 5.0, "width": 32, "act": "relu"}, {"lr": 1e-3}, {"lr": 1e-3, "width": 32, "act": "gelu"},
           {"lr": 2e-3, "width": 32, "act": "relu", "extra": 1}, {"lr": 2e-3, "width": 999, "act": "relu"}]
    assert sur.prefetch(configs[:10] + bad + configs[:20]) == 19      # cached, repeated, invalid: skipped
    assert calls == [1, 19]
    assert all(_in_lru(sur, c) for c in configs[:20]) and not _in_lru(sur, configs[20])
    curves = [sur.config_curve(c, seed=1) for c in configs[:20]]
    assert calls == [1, 19] and sur.cache_info()["hits"] == 20
    assert np.array_equal(np.stack(curves), expected, equal_nan=True)
    assert sur.prefetch(configs[:20]) == 0 and calls == [1, 19]
    with pytest.raises(ConfigurationError, match="lr"):     # invalid ones still fail when asked for
        sur.config_curve(bad[0])


@pytest.mark.parametrize("model", list(FAST))
def test_prefetch_computes_the_foreseen_seed_of_each_configuration_in_the_batch(continuous, model, monkeypatch):
    sur = _fresh(continuous[model])
    configs = CONTINUOUS.sample(np.random.default_rng(8), 30)
    whole = _fresh(sur).curves_for(configs)
    expanded: list[tuple[int, int]] = []
    expand = sur._model._expand

    def counting(L, seed, raw):
        expanded.append((len(L), seed))
        return expand(L, seed, raw)
    monkeypatch.setattr(sur._model, "_expand", counting)
    seeds = [1, 0, 1, 1] * 5                              # the first 20 foreseen, the rest not
    assert sur.prefetch(configs, seeds) == 30
    assert sorted(expanded) == [(5, 0), (15, 1)]          # one batch per seed
    for c, s in zip(configs[:20], seeds):
        assert np.array_equal(sur.cached_curve(c, s), whole[configs.index(c), s], equal_nan=True)
    assert len(expanded) == 2 and sur.cache_info()["seeds_on_demand"] == 0
    # another seed, or a configuration without a foreseen seed: computed when asked, same numbers
    assert np.array_equal(sur.cached_curve(configs[0], 0), whole[0, 0], equal_nan=True)
    assert np.array_equal(sur.config_curve(configs[25], 1), whole[25, 1], equal_nan=True)
    assert expanded[2:] == [(1, 0), (1, 1)] and sur.cache_info()["seeds_on_demand"] == 2
    with pytest.raises(BlackboxError, match=r"prefetch seed 2 is not valid; seeds are integers in \[0, 1\]"):
        sur.prefetch(configs, [0, 2])


def test_a_simulation_computes_each_trial_seed_with_its_configuration(continuous, monkeypatch):
    sur = _fresh(continuous["mlp"])
    calls = _count_model_calls(sur, monkeypatch)
    sched = make_scheduler("ASHA", sur, seed=3)
    res = simulate(sur, sched, n_workers=4, stop={"max_trials": 600}, seed=2)
    assert res.metadata["n_trials"] == 600 and sorted(set(res.trials["blackbox_seed"])) == [0, 1]
    info = sur.cache_info()
    # the simulator foresaw every new trial's seed: no seed's curve was computed on its own
    assert info["misses"] >= 600 and info["seeds_on_demand"] == 0 and len(calls) <= 7


def test_prefetch_respects_the_cache_budget_and_uses_the_table_batch(continuous, fitted, table, monkeypatch):
    sur = _fresh(continuous["random_forest"], cache_bytes=1)          # room for 1024 curves
    calls = _count_model_calls(sur, monkeypatch)
    configs = CONTINUOUS.sample(np.random.default_rng(5), 1500)
    assert sur.prefetch(configs) == 1024 and calls == [1024]
    assert _in_lru(sur, configs[0]) and _in_lru(sur, configs[1023]) and not _in_lru(sur, configs[1024])
    sur.prefetch(configs[1024:1100])
    info = sur.cache_info()
    # the first configurations, needed soonest, are kept; the last of the first batch made room
    assert info["lru_size"] == 1024 and _in_lru(sur, configs[0]) and not _in_lru(sur, configs[1023])
    assert np.array_equal(sur.cached_curve(configs[1050], seed=1), sur.curves_for([configs[1050]])[0, 1])
    assert sur.cached_curve(configs[1023]) is None
    rows = _fresh(fitted["knn"])                                     # a table that fits: one table batch
    rows_calls = _count_model_calls(rows, monkeypatch)
    assert rows.cached_curve(table.config(7)) is None
    assert rows.prefetch(table.configs()[:30]) == 0 and rows_calls == [table.n_configs]
    assert np.array_equal(rows.cached_curve(table.config(7), seed=1), table.objectives[7, 1])   # knn, k=1


# ---------------------------------------------------------------------------- simulator
def test_knn_surrogate_simulates_exactly_like_the_table(fitted, table, monkeypatch):
    sur = fitted["knn"]

    def no_dicts(*args, **kwargs):
        raise AssertionError("the simulator asks a surrogate for whole curves (config_curve)")
    monkeypatch.setattr(sur, "evaluate", no_dicts)
    ref = simulate(table, make_scheduler("ASHA", table, seed=1), n_workers=4, stop={"max_trials": 60}, seed=3)
    got = simulate(sur, make_scheduler("ASHA", sur, seed=1, candidates=table.configs()), n_workers=4,
                   stop={"max_trials": 60}, seed=3)
    cols = [c for c in ref.results.columns if c != "decision_time"]
    pd.testing.assert_frame_equal(ref.results[cols], got.results[cols], check_dtype=False)
    assert got.metadata["n_trials"] == 60


def test_surrogate_over_a_continuous_space_drives_a_simulation(continuous, table):
    sur = continuous["xgboost"]
    sched = make_scheduler("ASHA", sur, seed=2)
    assert sched.candidates is None            # methods sample from the surrogate's space
    res = simulate(sur, sched, n_workers=3, stop={"max_trials": 25}, seed=0)
    assert res.metadata["n_trials"] == 25
    trials = res.trials
    tabulated = {(r.lr, r.width, r.act) for r in table.hyperparameters.itertuples()}
    assert not any((r.lr, r.width, r.act) in tabulated for r in trials.itertuples())
    assert set(res.results["decision"]) <= {"continue", "stop", "complete", "pause"}
    for _tid, rows in res.results.groupby("trial_id"):
        assert np.all(np.diff(rows["elapsed_time"].to_numpy()) >= 0)
    assert sur.cache_info()["misses"] >= 25


@pytest.mark.parametrize("model", list(FAST))
@pytest.mark.parametrize("method,kw", [("RandomSearch", {}), ("ASHA", {"type": "promotion", "brackets": 2}),
                                       ("SyncHyperband", {}), ("MedianStopping", {})])
def test_simulation_results_are_identical_with_and_without_prefetch(continuous, model, method, kw, monkeypatch):
    def run(sur):
        sched = make_scheduler(method, sur, seed=4, **kw)
        return simulate(sur, sched, n_workers=3, stop={"max_trials": 300}, seed=6)

    without = _fresh(continuous[model])
    monkeypatch.setattr(without, "prefetches", False)
    ref = run(without)
    with_prefetch = _fresh(continuous[model])
    calls = _count_model_calls(with_prefetch, monkeypatch)
    got = run(with_prefetch)
    cols = [c for c in ref.results.columns if c != "decision_time"]
    pd.testing.assert_frame_equal(got.results[cols], ref.results[cols], check_exact=True)
    pd.testing.assert_frame_equal(got.trials, ref.trials, check_exact=True)
    n = got.metadata["n_trials"]
    assert n == ref.metadata["n_trials"] >= 250
    assert without.cache_info()["misses"] == n
    # a budget of trials: whole batches of drawn configurations (never beyond the trials left),
    # one model call per batch, not one per trial
    assert sum(calls) == n and len(calls) <= 1 + -(-n // 1024)


# ---------------------------------------------------------------------------- save / load
def test_save_and_load_round_trip_through_the_repository(continuous, hposim_home):
    sur = continuous["random_forest"]
    folder = sur.save("toy-rf", "t")
    assert folder == hposim_home / "blackboxes" / "toy-rf" / "t"
    assert (folder / SURROGATE_JSON).is_file() and (folder / SURROGATE_MODEL).is_file()
    assert verify_surrogate(folder) == []
    back = load_blackbox("toy-rf/t")
    assert isinstance(back, SurrogateBlackbox)
    assert back.card == sur.card and back.configuration_space == CONTINUOUS
    assert back.metadata["surrogate_report_card"]["model"] == "random_forest"
    configs = CONTINUOUS.sample(np.random.default_rng(11), 30)
    assert np.array_equal(back.curves_for(configs), sur.curves_for(configs))
    rec = next(r for r in list_blackboxes() if r.name == "toy-rf")
    assert rec.kind == "cached" and "random_forest surrogate of toy/t" in rec.description
    assert rec.source == "random_forest surrogate of toy/t"
    # a modified model file is detected
    with open(folder / SURROGATE_MODEL, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    assert verify_surrogate(folder)
    with pytest.raises(CorruptBlackboxError, match="surrogate.joblib: sha256"):
        load_surrogate(folder)
    doc = json.loads((folder / SURROGATE_JSON).read_text())
    doc["model"] = "mlp"
    (folder / SURROGATE_JSON).write_text(json.dumps(doc))
    with pytest.raises(CorruptBlackboxError, match="does not match its checksum"):
        load_surrogate(folder)
    # issue 11: a surrogate whose record is gone must not load as the plain table
    (folder / SURROGATE_JSON).unlink()
    with pytest.raises(CorruptBlackboxError, match=r"surrogate.json is missing beside surrogate.joblib"):
        load_blackbox("toy-rf/t")
    with pytest.raises(BlackboxError, match=r"toy-rf/t already exists"):
        sur.save("toy-rf", "t")
    sur.save("toy-rf", "t", force=True)
    assert isinstance(load_blackbox("toy-rf/t"), SurrogateBlackbox)


def test_tables_without_a_surrogate_still_load_as_tables(table):
    save_blackbox(table, "plain", "t")
    assert type(load_blackbox("plain/t")) is TabularBlackbox


# ---------------------------------------------------------------------------- CLI
def test_cli_fits_prints_saves_and_info_shows_the_card(table, capsys):
    from studies.cli import main
    save_blackbox(table, "toy", "t")
    code = main(["blackbox", "surrogate", "toy/t", "--model", "random_forest", "--param", "n_estimators=10",
                 "--seeds", "average", "--max-configs", "60"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "surrogate report card: model random_forest, seeds average" in out
    assert "90 in the table, 60 used" in out and "saved toy-random_forest/t" in out
    sur = load_blackbox("toy-random_forest/t")
    assert isinstance(sur, SurrogateBlackbox) and sur.num_seeds == 1
    assert sur.card.model_kwargs["n_estimators"] == 10
    assert main(["blackbox", "info", "toy-random_forest/t"]) == 0
    info = capsys.readouterr().out
    assert "surrogate report card:" in info and "spearman:" in info and "fit_seconds:" in info
    # refuses to overwrite without --force; bad model names are usage errors
    assert main(["blackbox", "surrogate", "toy/t", "--model", "random_forest"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["blackbox", "surrogate", "toy/t", "--model", "forest"]) == 2
    assert "invalid choice: 'forest'" in capsys.readouterr().err
    assert main(["blackbox", "surrogate", "toy/t", "--name", "toy-knn", "--param", "n_neighbors=2"]) == 0
    assert load_blackbox("toy-knn/t").card.model_kwargs == {"n_neighbors": 2}


@pytest.mark.parametrize("model", ["random_forest", "mlp", "xgboost"])
def test_fast_prediction_paths_agree_with_scikit_learn(continuous, model):
    from blackbox_repo.surrogate import CURVE_MODELS
    sur = continuous[model]
    configs = CONTINUOUS.sample(np.random.default_rng(5), 40)
    X = sur._features.configs(configs)
    one_by_one = np.vstack([sur._features.one(c) for c in configs])
    assert np.array_equal(X, one_by_one)
    reg = sur._model.regressor
    want = np.asarray(reg.predict(X)).reshape(len(X), -1)
    assert np.allclose(CURVE_MODELS[model].predict_regressor(reg, X), want, rtol=1e-9, atol=1e-9)
    bad = [{"lr": 1e-3, "width": 20, "act": "gelu"}, {"lr": 1e-3, "width": 20}, {"lr": 9.0, "width": 20, "act": "relu"}]
    Xc, ok = sur._features.checked(configs[:20] + bad + configs[20:])
    assert ok.tolist() == [True] * 20 + [False] * 3 + [True] * 20
    assert np.array_equal(Xc[ok], X)
    with pytest.raises(ConfigurationError, match="'relu', 'tanh', 'sigmoid'"):
        sur._features.one({"lr": 1e-3, "width": 20, "act": "gelu"})


def test_a_short_run_predicts_few_configurations_it_never_starts(continuous):
    # a time budget does not say how many trials will start: batches grow from FIRST_BATCH
    sur = _fresh(continuous["mlp"])
    res = simulate(sur, make_scheduler("RandomSearch", sur, seed=1), n_workers=2, stop={"max_time": 2000},
                   seed=0)
    n = res.metadata["n_trials"]
    assert 10 < n < FIRST_BATCH and sur.cache_info()["misses"] == FIRST_BATCH + 1
    longer = _fresh(continuous["mlp"])
    res = simulate(longer, make_scheduler("RandomSearch", longer, seed=1), n_workers=2,
                   stop={"max_time": 2000 * 1000 // n}, seed=0)
    n = res.metadata["n_trials"]
    assert n > 3 * FIRST_BATCH and longer.cache_info()["misses"] < n + 2 * FIRST_BATCH
