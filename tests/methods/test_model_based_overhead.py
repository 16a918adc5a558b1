"""Decision time of the model-based methods (issue 10, requirement 3): recorded per decision,
charged to simulated time in the measured-overhead mode, and never affecting a run when that
mode is off (runs stay reproducible bit for bit)."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo import load_blackbox
from methods import METHODS
from simulator import Overhead, Stop, make_scheduler, simulate

MODEL_BASED = ["BayesianOptimization", "TPE", "DEHB", "SyncBOHB", "AsyncBOHB", "MOBSTER", "SyncMOBSTER",
               "HyperTune"]


@pytest.fixture(scope="module")
def digits():
    return load_blackbox("mlp-sklearn", "digits")


def _run(bb, method: str, overhead: Overhead | None = None):
    sched = make_scheduler(method, bb, metric="valid_error", mode="min", seed=3)
    return simulate(bb, sched, n_workers=4, stop=Stop(max_time=12), seed=3, overhead=overhead)


@pytest.mark.parametrize("method", MODEL_BASED)
def test_decision_time_recorded_and_off_mode_reproducible(digits, method):
    if method not in METHODS:
        pytest.fail(f"{method} is not registered")
    a, b = _run(digits, method), _run(digits, method)
    cols = [c for c in a.results.columns if c != "decision_time"]
    assert a.results[cols].equals(b.results[cols]) and a.trials.equals(b.trials)
    assert a.results["decision_time"].sum() > 0      # the model's time is measured, not hidden


@pytest.mark.parametrize("method", MODEL_BASED)
def test_measured_overhead_charges_decisions_to_simulated_time(digits, method):
    off = _run(digits, method)
    # 1 ms of decision = 2 simulated seconds: a model-based method then has visibly fewer
    # reports inside the same simulated budget, and every report lies later than without it
    on = _run(digits, method, Overhead(measured=True, scale=2000))
    assert len(on.results) < len(off.results)
    first_off = off.results.groupby("trial_id")["time"].min()
    first_on = on.results.groupby("trial_id")["time"].min()
    common = first_off.index.intersection(first_on.index)[:4]
    assert len(common) and np.all(first_on.loc[common].to_numpy() > first_off.loc[common].to_numpy())
