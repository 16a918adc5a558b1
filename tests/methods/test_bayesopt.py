"""GP-based Bayesian optimization: the searcher and the ``BayesianOptimization`` method."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, constant, loguniform, randint, uniform
from methods import MethodError, Trial, TrialStatus, create
from methods.bayesopt import GPSearcher
from simulator import Stop, make_scheduler, simulate

SPACE = ConfigurationSpace({"x": uniform(0, 1), "lr": loguniform(1e-4, 1e-1), "n": randint(1, 8),
                            "act": choice(["relu", "tanh", "sigmoid"])})


def loss(c: dict) -> float:
    return ((c["x"] - 0.7) ** 2 + 0.3 * (np.log10(c["lr"]) + 2.5) ** 2 + 0.02 * (c["n"] - 5) ** 2
            + {"relu": 0.0, "tanh": 0.2, "sigmoid": 0.5}[c["act"]])


def bound(searcher: GPSearcher, space=SPACE, seed: int = 0, candidates=None) -> GPSearcher:
    searcher.bind(space, metric="loss", mode="min", rng=np.random.default_rng(seed), candidates=candidates)
    return searcher


def feed(s: GPSearcher, n: int, f=loss) -> None:
    for i in range(n):
        c = s.next_config()
        t = Trial(i, c)
        s.on_start(t)
        s.observe(t, 1, {"loss": f(c)})
        s.on_end(t, TrialStatus.COMPLETED)


@pytest.fixture(scope="module")
def grid_table() -> TabularBlackbox:
    """A single-fidelity table over a 2-D grid with one smooth optimum (plus noise)."""
    rng = np.random.default_rng(0)
    xs, ys = np.meshgrid(np.linspace(0, 1, 40), np.linspace(0, 1, 40))
    hp = pd.DataFrame({"x": np.round(xs.ravel(), 6), "y": np.round(ys.ravel(), 6)})
    f = (hp["x"] - 0.73) ** 2 + (hp["y"] - 0.21) ** 2 + 0.01 * rng.random(len(hp))
    obj = np.zeros((len(hp), 1, 1, 2), np.float32)
    obj[:, 0, 0, 0] = f
    obj[:, 0, 0, 1] = 100.0
    return TabularBlackbox(hp, obj, fidelity_values=[1], objectives_names=["loss", "time"],
                           metric_elapsed_time="time")


def test_beats_random_search_on_a_smooth_table(grid_table):
    def best(method: str, seed: int) -> float:
        sched = make_scheduler(method, grid_table, seed=seed)
        res = simulate(grid_table, sched, n_workers=4, stop=Stop(max_trials=30), seed=seed)
        return float(res.results["loss"].min())
    bo = np.mean([best("BayesianOptimization", s) for s in range(5)])
    rs = np.mean([best("RandomSearch", s) for s in range(5)])
    # measured: BO about 0.002, random search about 0.012 (1,600 cells, 30 trials)
    assert bo < 0.5 * rs


def test_converges_on_a_continuous_space():
    s = bound(GPSearcher())
    feed(s, 40)
    _, y, _ = s.history.data(1)
    assert y[:10].min() > y.min()                # the model improved on the random start
    assert y.min() < 0.05


def test_four_workers_asking_at_once_get_different_points():
    """The kriging believer spreads a batch of pending suggestions; ignoring them clusters it."""
    def batch(n_obs: int, aware: bool) -> list[float]:
        s = bound(GPSearcher(), space=ConfigurationSpace({"x": uniform(0, 1)}))
        feed(s, n_obs, lambda c: np.sin(6 * c["x"]) + c["x"])
        out = []
        for _ in range(4):                           # four workers ask before any starts
            c = s.suggest(s.history.pending_configs() if aware else [])
            s.history.suggested(c)
            out.append(c["x"])
        return sorted(out)
    for n_obs in (4, 6):
        aware, blind = batch(n_obs, True), batch(n_obs, False)
        assert len(set(aware)) == 4
        # measured: 4 observations, spread 0.32 vs 0.002; 6 observations, 0.26 vs 0.0006
        assert aware[-1] - aware[0] > 0.1 > 10 * (blind[-1] - blind[0])


def test_deterministic_under_a_seed():
    runs = []
    for _ in range(2):
        s = bound(GPSearcher(), seed=5)
        feed(s, 15)
        runs.append([s.history.configs[i] for i in range(15)])
    assert runs[0] == runs[1]


def test_candidates_only_unused_rows_then_none():
    rows = [{"x": float(v)} for v in np.linspace(0, 1, 12)]
    s = bound(GPSearcher(num_init_random=2), space=ConfigurationSpace({"x": uniform(0, 1)}), candidates=rows)
    got = []
    for i in range(12):
        c = s.next_config()
        assert any(c is r for r in rows)
        got.append(c["x"])
        t = Trial(i, c)
        s.on_start(t)
        s.observe(t, 1, {"loss": (c["x"] - 0.4) ** 2})
    assert len(set(got)) == 12
    assert s.next_config() is None


def test_asha_with_the_gp_models_the_highest_fidelity_with_enough_points():
    rng = np.random.default_rng(1)
    n, nf = 300, 9
    hp = pd.DataFrame({"x": np.round(rng.random(n), 6)})
    obj = np.zeros((n, 1, nf, 2), np.float32)
    obj[..., 0] = ((hp["x"].to_numpy() - 0.3) ** 2)[:, None, None] + 1.0 / np.arange(1, nf + 1)
    obj[..., 1] = np.cumsum(np.ones((n, 1, nf)), axis=2)
    bb = TabularBlackbox(hp, obj, fidelity_values=np.arange(1, nf + 1), objectives_names=["loss", "time"],
                         metric_elapsed_time="time")
    sched = make_scheduler("ASHA", bb, seed=0, searcher="bayesopt")
    simulate(bb, sched, n_workers=4, stop=Stop(max_trials=60), seed=0)
    s = sched.searcher
    assert s.history.model_fidelity(s.num_init_random) == 9
    assert s._gp_fidelity == 9


def test_refits_on_a_schedule_and_extends_the_factor_in_between(monkeypatch):
    from methods import gp as gp_module
    refits, adds = [], []
    fit, add = gp_module.GaussianProcess.fit, gp_module.GaussianProcess.add
    monkeypatch.setattr(gp_module.GaussianProcess, "fit",
                        lambda self, X, y, **kw: (refits.append(len(y)), fit(self, X, y, **kw))[1])
    monkeypatch.setattr(gp_module.GaussianProcess, "add",
                        lambda self, X, y: (adds.append(len(y)), add(self, X, y))[1])
    s = bound(GPSearcher(refit_every_below=10, refit_growth=0.5), space=ConfigurationSpace({"x": uniform(0, 1)}))
    feed(s, 40, lambda c: (c["x"] - 0.3) ** 2)
    # every observation below 10, then at 15, 22/23, 33/34 (50% growth); increments in between
    assert refits[:7] == list(range(3, 10)) and len(refits) < 12
    assert adds and all(a == 1 for a in adds)


def test_bad_input_fails_before_the_run():
    with pytest.raises(MethodError, match="not a constant"):
        create("BayesianOptimization", ConfigurationSpace({"a": constant(1)}), metric="loss")
    with pytest.raises(MethodError, match="num_init_candidates must be an integer >= 1, got 0"):
        create("BayesianOptimization", SPACE, metric="loss", num_init_candidates=0)
    with pytest.raises(MethodError, match="local_search_width"):
        create("BayesianOptimization", SPACE, metric="loss", local_search_width=-0.1)
    with pytest.raises(MethodError, match="allow_duplicates must be a boolean"):
        create("BayesianOptimization", SPACE, metric="loss", allow_duplicates="maybe")
    with pytest.raises(MethodError, match="unknown searcher 'bayesop'.*Did you mean 'bayesopt'"):
        create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher="bayesop")
    with pytest.raises(MethodError, match="does not take argument"):
        create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher="bayesopt",
               searcher_args={"num_init_randm": 3})


def test_a_searcher_instance_serves_one_scheduler():
    s = GPSearcher()
    create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher=s)
    with pytest.raises(MethodError, match="already used by a scheduler"):
        create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher=s)
