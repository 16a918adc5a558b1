"""Multi-objective schedulers in the simulator: make_scheduler's checks, every objective kept."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.errors import InputError
from methods import MethodError
from simulator import SimulationError, Stop, make_scheduler, simulate


@pytest.fixture(scope="module")
def bb() -> TabularBlackbox:
    rng = np.random.default_rng(0)
    n, f = 60, 9
    final = rng.random(n)
    err = final[:, None, None] + 0.5 / np.arange(1, f + 1)[None, None, :]
    size = np.broadcast_to(rng.random(n)[:, None, None] * 10, err.shape)     # a second, conflicting objective
    elapsed = np.cumsum(np.broadcast_to(10 + 50 * rng.random(n)[:, None, None], err.shape), axis=2)
    obj = np.stack([err, size, elapsed], axis=-1).astype(np.float32)
    return TabularBlackbox(pd.DataFrame({"x": np.arange(n)}), obj, list(range(1, f + 1)),
                           ["error", "size", "elapsed"], metric_elapsed_time="elapsed", metric="error")


@pytest.mark.parametrize("method", ["MOASHA", "MORandomSearch", "MOREA", "NSGA2"])
def test_runs_keep_every_objective_and_record_the_metrics(bb, method):
    sched = make_scheduler(method, bb, metric="error,size", mode="min,min", seed=1)
    res = simulate(bb, sched, n_workers=3, stop=Stop(max_trials=30), seed=1)
    assert {"error", "size", "elapsed"} <= set(res.results.columns)
    assert res.metadata["metrics"] == ["error", "size"] and res.metadata["modes"] == ["min", "min"]
    assert res.metadata["metric"] == "error"          # the first metric: target and summary
    again = simulate(bb, make_scheduler(method, bb, metric=["error", "size"], mode=["min", "min"], seed=1),
                     n_workers=3, stop=Stop(max_trials=30), seed=1)
    pd.testing.assert_frame_equal(res.results.drop(columns="decision_time"),
                                  again.results.drop(columns="decision_time"))


def test_moasha_stops_some_trials(bb):
    res = simulate(bb, make_scheduler("MOASHA", bb, metric="error,size", mode="min,max"), n_workers=2,
                   stop=Stop(max_trials=40))
    assert (res.trials["status"] == "stopped").any()


@pytest.mark.parametrize("method, kwargs, error, match", [
    ("MOASHA", {}, MethodError, r"'MOASHA' is multi-objective: it needs at least two metrics.*\['error'\]"),
    ("MOASHA", {"metric": "error,size"}, MethodError, r"need one mode each, e\.g\. mode='max,min'.*--mode"),
    ("MOASHA", {"metric": "error,size", "mode": "min,min,max"}, MethodError, r"2 metrics .* but 3 modes"),
    ("ASHA", {"metric": "error,size", "mode": "min,max"}, MethodError, r"'ASHA' optimizes one metric, got 2"),
    ("MOASHA", {"metric": "error,sise", "mode": "min,max"}, SimulationError,
     r"metric 'sise' is not an objective .*\['error', 'size', 'elapsed'\].*'size'"),
])
def test_bad_objectives_are_rejected_before_the_run(bb, method, kwargs, error, match):
    with pytest.raises(error, match=match) as e:
        make_scheduler(method, bb, **kwargs)
    if error is MethodError:
        assert isinstance(e.value, InputError)
