"""The seeds new trials run with: drawn in blocks, visible ahead without changing them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from blackbox_repo import TabularBlackbox
from simulator import make_scheduler, simulate
from simulator.seeds import BLOCK, TrialSeeds


def test_looking_ahead_never_changes_the_seeds():
    plain = TrialSeeds(np.random.default_rng(5), num_seeds=4)
    want = [plain.next() for _ in range(3 * BLOCK + 10)]
    # the same stream drawn in blocks of BLOCK by hand
    rng = np.random.default_rng(5)
    by_hand = [s for _ in range(4) for s in rng.integers(0, 4, size=BLOCK).tolist()]
    assert want == by_hand[:len(want)]
    peeking = TrialSeeds(np.random.default_rng(5), num_seeds=4)
    got: list[int] = []
    for step, ahead in enumerate([0, 3, 1000, 1500, 1, 2000, 7]):
        shown = peeking.upcoming(ahead)
        assert len(shown) == ahead
        taken = [peeking.next() for _ in range(ahead // 2 + step)]
        assert shown[:len(taken)] == taken[:len(shown)]
        got += taken
    got += [peeking.next() for _ in range(len(want) - len(got))]
    assert got == want
    assert set(want) == {0, 1, 2, 3}


def test_a_fixed_seed_or_a_single_seed_is_constant():
    fixed = TrialSeeds(np.random.default_rng(0), num_seeds=3, fixed=2)
    assert fixed.upcoming(4) == [2, 2, 2, 2] and [fixed.next() for _ in range(5)] == [2] * 5
    single = TrialSeeds(np.random.default_rng(0), num_seeds=1)
    assert single.upcoming(2) == [0, 0] and single.next() == 0


def test_simulated_trials_take_the_seeds_in_start_order():
    n, n_seeds = 50, 3
    hp = pd.DataFrame({"x": np.arange(n)})
    obj = np.ones((n, n_seeds, 2, 2), np.float32)
    obj[..., 1] = [5.0, 10.0]
    bb = TabularBlackbox(hp, obj, [1, 2], ["loss", "time"], metric_elapsed_time="time")
    res = simulate(bb, make_scheduler("RandomSearch", bb, seed=1), n_workers=3, stop={"max_trials": 40}, seed=9)
    want = TrialSeeds(np.random.default_rng(np.random.SeedSequence(9, spawn_key=(1,))), n_seeds)
    assert res.trials.sort_values("trial_id")["blackbox_seed"].tolist() == [want.next() for _ in range(40)]


def test_a_budget_of_trials_bounds_what_is_shown_ahead():
    seeds = TrialSeeds(np.random.default_rng(0), num_seeds=3, max_trials=5)
    assert len(seeds.upcoming(10)) == 5
    ahead = seeds.upcoming(3)
    assert [seeds.next() for _ in range(3)] == ahead
    assert len(seeds.upcoming(10)) == 2
    seeds.next(), seeds.next()
    assert seeds.upcoming(10) == []
    assert TrialSeeds(np.random.default_rng(0), 3, fixed=1, max_trials=1).upcoming(4) == [1]
