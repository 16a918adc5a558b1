"""TabularBlackbox: lookups, errors naming nearest values, curves, evaluate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo import BlackboxError, ConfigurationSpace, TabularBlackbox, choice, loguniform, randint


def _table() -> TabularBlackbox:
    hp = pd.DataFrame({"lr": [0.1, 0.01, 0.001, 0.1], "layers": [1, 2, 3, 3], "act": ["relu", "tanh", "relu", "tanh"]})
    obj = np.arange(4 * 2 * 3 * 2, dtype=np.float32).reshape(4, 2, 3, 2)
    obj[3, 1, 2, 0] = np.nan
    space = ConfigurationSpace({"lr": loguniform(1e-3, 1e-1), "layers": randint(1, 3), "act": choice(["relu", "tanh"])})
    return TabularBlackbox(hp, obj, fidelity_values=[1, 2, 3], objectives_names=["err", "time"],
                           configuration_space=space, metric_elapsed_time="time")


def test_config_keeps_int_columns_int_in_mixed_tables():
    bb = _table()
    cfg = bb.config(1)
    assert cfg == {"lr": 0.01, "layers": 2, "act": "tanh"}
    assert type(cfg["layers"]) is int and type(cfg["lr"]) is float
    assert bb.configs()[1] == cfg


def test_evaluate_point_curve_and_nan():
    bb = _table()
    assert bb.evaluate({"lr": 0.01, "layers": 2, "act": "tanh"}, fidelity=2, seed=1) == {"err": 20.0, "time": 21.0}
    curve = bb.evaluate({"lr": 0.1, "layers": 3, "act": "tanh"}, seed=1)
    assert np.isnan(curve["err"][2]) and curve["time"].tolist() == [43.0, 45.0, 47.0]
    np.testing.assert_array_equal(bb.curves([1, 3], [1, 0])[:, 1, 0], [20.0, 38.0])


def test_lookup_is_by_value_and_errors_name_nearest_values():
    bb = _table()
    assert bb.config_id({"lr": 0.1, "layers": 3.0, "act": "tanh"}) == 3
    with pytest.raises(BlackboxError, match=r"'lr'=0.05 is not tabulated; nearest valid values: \[0.01, 0.001, 0.1\]"):
        bb.config_id({"lr": 0.05, "layers": 1, "act": "relu"})
    with pytest.raises(BlackboxError, match="combination does not"):
        bb.config_id({"lr": 0.001, "layers": 1, "act": "relu"})
    with pytest.raises(BlackboxError, match=r"fidelity epoch=4 is not tabulated; nearest valid values: \[3, 2, 1\]"):
        bb.evaluate(bb.config(0), fidelity=4)
    with pytest.raises(BlackboxError, match=r"seed 2 is not valid; seeds are indices 0..1"):
        bb.evaluate(bb.config(0), seed=2)
    with pytest.raises(BlackboxError, match=r"unknown objective 'acc'; this blackbox has \['err', 'time'\]"):
        bb.objective("acc")


def test_bad_shapes_are_rejected():
    hp = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(BlackboxError, match="shaped"):
        TabularBlackbox(hp, np.zeros((2, 3)), [1], ["y"])
    with pytest.raises(BlackboxError, match="strictly increasing"):
        TabularBlackbox(hp, np.zeros((2, 1, 2, 1)), [2, 1], ["y"])
    with pytest.raises(BlackboxError, match="3 hyperparameter rows"):
        TabularBlackbox(pd.DataFrame({"x": [1, 2, 3]}), np.zeros((2, 1, 1, 1)), [1], ["y"])
