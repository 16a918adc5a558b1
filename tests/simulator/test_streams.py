"""The run's random stream is independent of a scheduler seeded with the same integer."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from blackbox_repo import TabularBlackbox
from simulator import make_scheduler, simulate


def test_blackbox_seeds_do_not_follow_the_rows_a_scheduler_draws_with_the_same_seed():
    n, n_seeds = 300, 3
    hp = pd.DataFrame({"x": np.arange(n)})
    obj = np.ones((n, n_seeds, 1, 2), np.float32)
    obj[..., 1] = 10.0                                   # elapsed time
    bb = TabularBlackbox(hp, obj, [1], ["loss", "time"], metric_elapsed_time="time")
    rows, seeds = [], []
    for seed in range(20):
        sched = make_scheduler("RandomSearch", bb, seed=seed, allow_duplicates=True)
        res = simulate(bb, sched, n_workers=4, stop={"max_trials": 100}, seed=seed)
        rows += res.trials["x"].tolist()
        seeds += res.trials["blackbox_seed"].tolist()
    # with one shared stream the seed was a function of the row (row * 3 // n): test independence
    table = pd.crosstab(np.asarray(rows) * 3 // n, np.asarray(seeds))
    assert table.shape == (3, 3)
    assert stats.chi2_contingency(table.to_numpy()).pvalue > 1e-3
