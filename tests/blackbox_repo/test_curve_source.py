"""``CurveSource``: every blackbox implements the simulator's one protocol -- the table by row,
the surrogate from its cache with batched prefetching, any other ``Blackbox`` from ``evaluate``."""
from __future__ import annotations

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import Blackbox, TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, uniform
from blackbox_repo.curve_source import CurveSource
from blackbox_repo.surrogate import add_surrogate


def _table() -> TabularBlackbox:
    obj = np.zeros((10, 2, 3, 2), np.float32)
    obj[..., 0] = np.linspace(1, 0, 10)[:, None, None] + np.array([0.0, 0.5])[None, :, None]
    obj[..., 1] = [1.0, 2.0, 3.0]
    return TabularBlackbox(pd.DataFrame({"x": np.arange(10) / 10}), obj, [1, 2, 3], ["loss", "time"],
                           metric_elapsed_time="time")


class Computed(Blackbox):
    """Only ``evaluate``: the base class supplies the rest of the protocol."""

    configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
    fidelity_name, fidelity_values = "epoch", np.array([1, 2])
    objectives_names, metric_elapsed_time, metric, mode = ["loss", "time"], "time", "loss", "min"
    num_seeds, metadata = 2, {}

    def evaluate(self, config, fidelity=None, seed=None):
        return {"time": np.array([1.0, 2.0]), "loss": np.array([config["x"], config["x"] / 2]) + (seed or 0)}


def test_every_kind_of_blackbox_implements_the_protocol():
    table = _table()
    sur = add_surrogate(table, configuration_space=ConfigurationSpace({"x": uniform(0, 1)}))
    for bb in (table, sur, Computed()):
        assert isinstance(bb, CurveSource)


def test_a_table_serves_curves_by_row():
    table = _table()
    assert table.rows() is table and table.prefetches is False
    assert np.array_equal(table.config_curve({"x": 0.3}, seed=1), table.objectives[3, 1])
    assert np.array_equal(table.cached_curve({"x": 0.3}, seed=1), table.objectives[3, 1])
    assert table.prefetch_curves([{"x": 0.3}, {"x": 0.4}], [0]) == [None]


def test_a_computing_blackbox_gets_curves_from_evaluate_and_prefetches_nothing():
    bb = Computed()
    curve = bb.config_curve({"x": 0.5}, seed=1)
    assert curve.dtype == np.float32 and curve.tolist() == [[1.5, 1.0], [1.25, 2.0]]   # objectives_names order
    assert bb.rows() is None and bb.prefetches is False
    assert bb.cached_curve({"x": 0.5}, 1) is None
    assert bb.prefetch_curves([{"x": 0.5}, {"x": 0.6}], [0, 1]) == [None, None]


def test_a_surrogate_has_no_rows_and_prefetches_batches():
    table = _table()
    sur = add_surrogate(table, configuration_space=ConfigurationSpace({"x": uniform(0, 1)}))
    assert sur.rows() is None and sur.prefetches is True       # its table is what it was fitted on
    got = sur.prefetch_curves([{"x": 0.25}, {"x": 0.75}], [1, 0])
    assert np.array_equal(got[0], sur.config_curve({"x": 0.25}, 1))
    assert np.array_equal(sur.cached_curve({"x": 0.75}, 0), got[1])
    sur.prefetches = False                                       # switched off on one instance
    assert sur.prefetches is False and type(sur).prefetches is True
