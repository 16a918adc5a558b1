from __future__ import annotations

import numpy as np
import pytest

from methods.base import MethodError
from methods.rungs import (PromotionRung, StoppingRung, check_brackets, hyperband_distribution,
                           resolve_levels, rung_levels, sorted_quantile, sync_bracket)


def test_geometric_levels_end_with_the_maximum():
    assert rung_levels(list(range(1, 82)), 1, 3, 81) == [1, 3, 9, 27, 81]
    assert rung_levels(list(range(1, 201)), 1, 3, 200) == [1, 3, 9, 27, 81, 200]
    assert rung_levels(list(range(1, 201)), 2, 2, 16) == [2, 4, 8, 16]


def test_levels_snap_up_to_tabulated_fidelities_without_duplicates():
    assert rung_levels([1, 2, 4, 8, 16, 32, 64, 100], 1, 3, 100) == [1, 4, 16, 32, 100]
    # 1 and 3 both snap to 4: one rung only
    assert rung_levels([4, 12, 50, 100], 1, 3, 100) == [4, 12, 50, 100]
    # grace period between levels snaps up
    assert rung_levels([1, 5, 10, 20], 3, 3, 20) == [5, 10, 20]


def test_float_reduction_factor_and_float_fidelities():
    assert rung_levels([0.25, 0.5, 1.0], 0.25, 2.0, 1.0) == [0.25, 0.5, 1.0]


def test_defaults_are_smallest_and_largest_fidelity():
    assert resolve_levels(np.arange(1, 28), None, 3, None) == [1, 3, 9, 27]


@pytest.mark.parametrize("kwargs, message", [
    ({"grace_period": 1, "reduction_factor": 3, "max_fidelity": 50}, "max_fidelity=50 is not a tabulated"),
    ({"grace_period": 100, "reduction_factor": 3, "max_fidelity": 81}, "grace_period=100 is above"),
    ({"grace_period": 0, "reduction_factor": 3, "max_fidelity": 81}, "grace_period must be a positive"),
    ({"grace_period": 1, "reduction_factor": 1, "max_fidelity": 81}, "reduction_factor must be a number > 1"),
    ({"grace_period": 1, "reduction_factor": "3", "max_fidelity": 81}, "reduction_factor must be"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(MethodError, match=message):
        rung_levels([1, 3, 9, 27, 81], **kwargs)


def test_non_numeric_fidelities_are_rejected():
    with pytest.raises(MethodError, match="positive numeric fidelity values"):
        resolve_levels(np.array(["low", "high"]), None, 3, None)


def test_brackets_must_fit_the_levels():
    assert check_brackets(5, [1, 3, 9, 27, 81]) == 5
    with pytest.raises(MethodError, match=r"1\.\.5"):
        check_brackets(6, [1, 3, 9, 27, 81])
    with pytest.raises(MethodError):
        check_brackets(0, [1, 3, 9, 27, 81])


def test_sync_bracket_sizes_match_hyperband_paper_table():
    # Li et al. 2018, Table 1 (R = 81, eta = 3)
    levels = [1, 3, 9, 27, 81]
    assert [sync_bracket(levels, 3, b) for b in range(5)] == [
        ([81, 27, 9, 3, 1], [1, 3, 9, 27, 81]),
        ([34, 11, 3, 1], [3, 9, 27, 81]),
        ([15, 5, 1], [9, 27, 81]),
        ([8, 2], [27, 81]),
        ([5], [81]),
    ]


def test_hyperband_distribution_is_proportional_to_bracket_sizes():
    p = hyperband_distribution([1, 3, 9, 27, 81], 5)
    expected = np.array([81, 33.75, 15, 7.5, 5])
    np.testing.assert_allclose(p, expected / expected.sum())
    np.testing.assert_allclose(hyperband_distribution([1, 3, 9, 27, 81], 2), [81 / 114.75, 33.75 / 114.75])


def test_sorted_quantile_equals_numpy():
    rng = np.random.default_rng(0)
    for n in range(1, 30):
        v = sorted(rng.normal(size=n).tolist())
        for q in (0, 1 / 3, 0.5, 2 / 3, 1):
            assert sorted_quantile(v, q) == pytest.approx(np.quantile(v, q), abs=1e-12)


def test_stopping_rung_keeps_the_top_third():
    rung = StoppingRung()
    assert [rung.record_and_decide(s, 1 / 3) for s in [5, 3, 4, 1, 6, 2]] == \
        [True, True, False, True, False, True]


def test_promotion_rung_promotes_best_waiting_in_top_fraction():
    rung = PromotionRung()
    for tid, s in enumerate([0.5, 0.2, 0.9]):
        rung.record(tid, s)
    assert rung.pop_promotable(3, set()) == 1
    assert rung.pop_promotable(3, set()) is None       # top 1 already promoted
    for tid, s in [(3, 0.6), (4, 0.7), (5, 0.8)]:
        rung.record(tid, s)
    assert rung.pop_promotable(3, set()) == 0           # 6 recorded: top 2 = trials 1, 0
    assert rung.pop_promotable(3, set()) is None


def test_promotion_rung_skips_ended_trials_and_breaks_ties_by_trial_id():
    rung = PromotionRung()
    for tid in (4, 2, 7, 1, 9, 3):
        rung.record(tid, 1.0)
    assert rung.pop_promotable(3, {1}) == 2
    # 6 equal scores: top 2 are trials 1 and 2 by id; 1 has ended, so only 2 is promotable
    assert rung.pop_promotable(3, {1}) is None
