"""Same seed, same table (bit for bit), whatever the machine's speed; never more than
n_workers trials at once (property-based)."""
from __future__ import annotations

import random
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from simulator import Stop, make_scheduler, simulate
from tests.simulator.helpers import nb201_like

METHODS = {
    "RandomSearch": {},
    "GridSearch": {},
    "ASHA-stopping": {"type": "stopping", "grace_period": 1, "reduction_factor": 3},
    "ASHA-promotion": {"type": "promotion", "grace_period": 1, "reduction_factor": 3},
    "ASHA-hyperband": {"type": "promotion", "brackets": 3},
    "SyncSH": {},
    "SyncHyperband": {},
    "MedianStopping": {},
}


@pytest.fixture(scope="module")
def bb():
    return nb201_like(n_seeds=3, n_epochs=27, ops=4, seed=1, nan_fraction=0.002)


def make(bb, name, seed):
    return make_scheduler(name.split("-")[0], bb, seed=seed, **METHODS[name])


def without_decision_time(df):
    return df.drop(columns=["decision_time"])


def slowed(sched, rng):
    """Wrap every scheduler call with a random sleep: simulated results must not change."""
    for name in ("suggest", "on_report", "on_end"):
        f = getattr(sched, name)

        def wrapped(*a, _f=f):
            time.sleep(rng.random() * 2e-4)
            return _f(*a)
        setattr(sched, name, wrapped)
    return sched


@pytest.mark.parametrize("name", ["RandomSearch", "ASHA-stopping", "ASHA-promotion"])
def test_same_seed_same_table_bit_for_bit(bb, name):
    a = simulate(bb, make(bb, name, 3), n_workers=4, stop=Stop(max_time=20_000), seed=11)
    b = simulate(bb, slowed(make(bb, name, 3), random.Random(0)), n_workers=4,
                 stop=Stop(max_time=20_000), seed=11)
    pd.testing.assert_frame_equal(without_decision_time(a.results), without_decision_time(b.results),
                                  check_exact=True)
    pd.testing.assert_frame_equal(a.trials, b.trials, check_exact=True)
    assert len(a.results) > 100
    c = simulate(bb, make(bb, name, 3), n_workers=4, stop=Stop(max_time=20_000), seed=12)
    assert not c.results["blackbox_seed"].equals(a.results["blackbox_seed"])


def test_blackbox_seed_drawn_per_trial_or_fixed(bb):
    res = simulate(bb, make(bb, "RandomSearch", 0), n_workers=4, stop=Stop(max_trials=60), seed=0)
    assert set(res.trials["blackbox_seed"]) == {0, 1, 2}
    fixed = simulate(bb, make(bb, "RandomSearch", 0), n_workers=4, stop=Stop(max_trials=60), seed=0,
                     blackbox_seed=2)
    assert set(fixed.results["blackbox_seed"]) == {2}
    # the objectives are the table's values for that seed
    r = fixed.results.iloc[7]
    cid = int(fixed.trials.loc[r["trial_id"], "config_id"])
    k = int(r["fidelity"]) - 1
    assert np.float32(r["error"]) == bb.objectives[cid, 2, k, 0] or np.isnan(r["error"])


def check_workers(bb, res, n_workers):
    """From the tables alone: worker ids in range, and per worker the busy intervals of the
    trials' segments do not overlap (so at most n_workers trials run at any time)."""
    r, tr = res.results, res.trials
    assert r["worker"].between(0, n_workers - 1).all()
    elapsed = bb.objectives[..., bb.objective_index("elapsed")].astype(np.float64)
    intervals = []          # (worker, start, end) of every segment
    for tid, g in r.groupby("trial_id", sort=True):
        g = g.sort_values("fidelity")
        el = elapsed[int(tr.loc[tid, "config_id"]), int(tr.loc[tid, "blackbox_seed"])]
        cur = None
        prev_dec = None
        for time_, dec, w, f in zip(g["time"], g["decision"], g["worker"], g["fidelity"]):
            k = int(f) - 1
            if cur is None:
                cur = [w, float(tr.loc[tid, "start_time"]), time_]
            elif prev_dec == "pause":
                intervals.append(tuple(cur))
                cur = [w, time_ - (el[k] - el[k - 1]), time_]     # the resume's start
            cur[2] = time_
            prev_dec = dec
        if cur is not None:
            intervals.append(tuple(cur))
    by_worker: dict[int, list] = {}
    for w, s, e in intervals:
        by_worker.setdefault(int(w), []).append((s, e))
    for w, iv in by_worker.items():
        iv.sort()
        for (s1, e1), (s2, e2) in zip(iv, iv[1:]):
            assert s2 >= e1 - 1e-9, f"worker {w} runs two trials at once: {(s1, e1)} and {(s2, e2)}"
    # and the sweep: never more than n_workers trials between their first start and last report
    events = sorted([(e, -1) for _, _, e in intervals] + [(s, 1) for _, s, _ in intervals])
    running = 0
    for _, d in events:
        running += d
        assert running <= n_workers


@settings(max_examples=30, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(METHODS)), n_workers=st.integers(1, 12), seed=st.integers(0, 10_000),
       max_time=st.floats(500, 20_000))
def test_never_more_than_n_workers_at_once(bb, name, n_workers, seed, max_time):
    res = simulate(bb, make(bb, name, seed), n_workers=n_workers, stop=Stop(max_time=max_time), seed=seed)
    check_workers(bb, res, n_workers)
    # the results are in the documented order
    key = res.results[["time", "worker", "trial_id", "fidelity"]].to_records(index=False).tolist()
    assert key == sorted(key)
    assert res.results["time"].max() <= max_time
