"""Conformance suite: every registered method (and some argument variants) must pass.

Methods registered later run here automatically: the cases are built from ``METHODS``. Each
method is driven through the event loop of ``conftest.py``, which raises on protocol
violations (resuming a trial that is not paused, returning something that is not a
``Suggestion`` or a ``Decision``), on a toy table with failing (NaN) configurations.
"""
from __future__ import annotations

import pytest

from methods import METHODS, MethodError, Suggestion, create

#: extra argument sets for methods with several behaviours; every method also runs with {}
VARIANTS: dict[str, list[dict]] = {
    "ASHA": [{"type": "promotion"}, {"brackets": 3}, {"type": "promotion", "brackets": 4}],
    "SyncHyperband": [{"brackets": 2}],
    "RandomSearch": [{"allow_duplicates": True}],
}

CASES = [(name, kw) for name in sorted(METHODS) for kw in [{}] + VARIANTS.get(name, [])]
IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw in CASES]


def make(problem, name: str, kwargs: dict, *, metric: str = "loss", mode: str = "min",
         seed: int = 0, candidates: list[dict] | None = None):
    return create(name, problem.space, metric=metric, mode=mode, fidelity_values=problem.fidelities,
                  candidates=problem.configs if candidates is None else candidates, seed=seed, **kwargs)


def signature(log):
    return log.suggestions, [(r[0], r[1], r[4]) for r in log.reports], log.configs


@pytest.fixture(scope="session")
def failing(toy):
    """Like the toy problem (``conftest.ToyProblem``) but 30% of the configurations fail
    within the first three levels."""
    return type(toy)(nan_fraction=0.3, seed=1, fail_by=3)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_mode_max_on_the_negated_metric_makes_the_same_decisions(toy, run_loop, name, kwargs):
    low = run_loop(make(toy, name, kwargs, metric="loss", mode="min"), toy, n_workers=4,
                   metric="loss", max_trials=80)
    high = run_loop(make(toy, name, kwargs, metric="acc", mode="max"), toy, n_workers=4,
                    metric="acc", max_trials=80)
    assert signature(low) == signature(high)
    assert high.best("max") == -low.best("min")


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_mode_is_followed(toy, run_loop, name, kwargs):
    """Minimizing the loss never ends with a worse best loss than maximizing it."""
    def best_final(mode):
        log = run_loop(make(toy, name, kwargs, mode=mode), toy, n_workers=4, max_trials=120)
        top = [r[2] for r in log.reports if r[1] == toy.n_fid]
        return min(top) if top else float("inf")
    assert best_final("min") <= best_final("max")


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("n_workers", [1, 16])
def test_failed_trials_are_handled(failing, run_loop, name, kwargs, n_workers):
    log = run_loop(make(failing, name, kwargs), failing, n_workers=n_workers, max_trials=150)
    statuses = list(log.statuses.values())
    assert statuses.count("failed") >= 5
    assert len(statuses) == 150                  # failures did not jam the method
    # a failed trial is never resumed (the loop raises otherwise) nor reported after failing
    failed = {t for t, s in log.statuses.items() if s == "failed"}
    reported_after = {r[0] for r in log.reports if r[0] in failed and r[4] == "failed"}
    assert not reported_after


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("n_workers", [1, 16])
def test_works_with_one_and_sixteen_workers(toy, run_loop, name, kwargs, n_workers):
    log = run_loop(make(toy, name, kwargs), toy, n_workers=n_workers, max_trials=150)
    assert log.max_running == n_workers         # the method keeps every worker busy at some point
    assert any(r[1] == toy.n_fid for r in log.reports)   # some trial reached the largest fidelity
    assert all(1 <= r[1] <= toy.n_fid for r in log.reports)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_nothing_now_when_candidates_run_out(toy, run_loop, name, kwargs):
    few = toy.configs[:7]
    scheduler = make(toy, name, kwargs, candidates=few)
    log = run_loop(scheduler, toy, n_workers=16, max_trials=200)
    if kwargs.get("allow_duplicates"):           # sampling with replacement never runs out
        assert len(log.statuses) == 200 and log.nothing_now == 0
        return
    assert log.nothing_now >= 1
    assert len(log.statuses) <= 7
    # asked again and again after the end, the method stays calm: nothing, or a paused trial
    paused = {t for t, s in log.statuses.items() if s == "paused"}
    for t in range(5):
        s = scheduler.suggest(1e9 + t)
        assert s is None or (isinstance(s, Suggestion) and (s.config is not None or s.resume in paused))


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_deterministic_under_a_seed(toy, failing, run_loop, name, kwargs):
    for problem in (toy, failing):
        runs = [run_loop(make(problem, name, kwargs, seed=11), problem, n_workers=8, max_trials=100)
                for _ in range(2)]
        assert signature(runs[0]) == signature(runs[1])


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_works_on_its_space_without_candidates(toy, name, kwargs):
    """Started without candidates, suggestions are valid configurations of the space."""
    try:
        scheduler = create(name, toy.space, metric="loss", fidelity_values=toy.fidelities, seed=0, **kwargs)
    except MethodError as e:                     # e.g. grid search on a continuous space
        assert "finite" in str(e)
        return
    for _ in range(20):
        s = scheduler.suggest(0.0)
        if s is None:
            break
        if s.config is not None:
            toy.space.validate(s.config)


# ---------------------------------------------------------------- through the real simulator
@pytest.fixture(scope="session")
def table():
    """A synthetic tabulated blackbox: 400 configurations x 2 seeds x 27 epochs, loss, acc = -loss
    and cumulative time; 10% of the configurations (row 1 too) fail (NaN) from epoch 4 on."""
    import numpy as np
    import pandas as pd

    from blackbox_repo.blackbox import TabularBlackbox

    rng = np.random.default_rng(0)
    n, nf = 400, 27
    hp = pd.DataFrame({"x": np.round(rng.random(n), 6), "c": rng.choice(["a", "b"], n)})
    f = np.arange(1, nf + 1)
    obj = np.zeros((n, 2, nf, 3), np.float32)
    obj[..., 0] = ((hp["x"].to_numpy() - 0.3) ** 2)[:, None, None] + rng.random((n, 2, 1)) / f
    failing = rng.random(n) < 0.1
    failing[1] = True                        # so that grid search (row order) meets one early
    obj[failing, :, 3:, 0] = np.nan
    obj[..., 1] = -obj[..., 0]
    obj[..., 2] = np.cumsum(10 + 50 * rng.random((n, 2, nf)), axis=2)
    return TabularBlackbox(hp, obj, fidelity_values=f, objectives_names=["loss", "acc", "time"],
                           metric_elapsed_time="time")


def simulated(table, name, kwargs, n_workers, metric="loss", mode="min", seed=0):
    from simulator import Stop, make_scheduler, simulate

    scheduler = make_scheduler(name, table, metric=metric, mode=mode, seed=seed, **kwargs)
    return simulate(table, scheduler, n_workers=n_workers, stop=Stop(max_time=15_000), seed=seed)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("n_workers", [1, 16])
def test_in_the_simulator(table, name, kwargs, n_workers):
    """Mode, failures, determinism and 1/16 workers with ``simulator.simulate`` (which raises on
    a resume of a trial that is not paused)."""
    low = simulated(table, name, kwargs, n_workers).results.drop(columns="decision_time")
    again = simulated(table, name, kwargs, n_workers).results.drop(columns="decision_time")
    high = simulated(table, name, kwargs, n_workers, metric="acc", mode="max").results.drop(
        columns="decision_time")
    assert low.equals(again)
    assert low.equals(high)
    assert (low["decision"] == "failed").any()
    failed_at = low[low["decision"] == "failed"].groupby("trial_id")["time"].max()
    later = low.merge(failed_at.rename("failed_at"), left_on="trial_id", right_index=True)
    assert not (later["time"] > later["failed_at"]).any()
    assert (low["fidelity"] == 27).any()
