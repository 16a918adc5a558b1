"""Configuration spaces: sampling, encoding, validation, JSON round trips (with hypothesis)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackbox_repo.configspace import (ConfigurationError, ConfigurationSpace, Constant, Float, Integer,
                                       choice, constant, domain_from_dict, lograndint, loguniform,
                                       nearest_values, ordinal, randint, uniform)

SPACE = ConfigurationSpace({
    "lr": loguniform(1e-4, 1e-1),
    "momentum": uniform(0.0, 0.99),
    "layers": randint(1, 4),
    "units": lograndint(8, 512),
    "act": choice(["relu", "tanh", "gelu"]),
    "batch": ordinal([32, 64, 128]),
    "opt": constant("adam"),
})


def test_seeded_sampling_is_reproducible_and_valid():
    a = SPACE.sample(np.random.default_rng(7), 50)
    b = SPACE.sample(np.random.default_rng(7), 50)
    assert a == b
    for cfg in a:
        SPACE.validate(cfg)
        assert isinstance(cfg["layers"], int) and isinstance(cfg["lr"], float)
    assert SPACE.sample(np.random.default_rng(8), 50) != a


def test_sampling_covers_the_range_on_the_right_scale():
    rng = np.random.default_rng(0)
    lrs = np.array(loguniform(1e-4, 1e-1).sample(rng, 20000))
    # log-uniform: each decade holds a third of the mass
    frac = np.mean(lrs < 1e-3)
    assert abs(frac - 1 / 3) < 0.02
    ints = np.array(randint(1, 4).sample(rng, 20000))
    assert set(ints) == {1, 2, 3, 4}
    counts = np.bincount(ints)[1:] / len(ints)
    assert np.all(np.abs(counts - 0.25) < 0.02)


def test_encode_decode_round_trip_and_unit_cube():
    cfgs = SPACE.sample(np.random.default_rng(1), 200)
    x = SPACE.encode(cfgs)
    assert x.shape == (200, len(SPACE))
    assert np.all((x >= 0) & (x <= 1))
    back = SPACE.decode(x)
    for c, d in zip(cfgs, back):
        assert d["layers"] == c["layers"] and d["units"] == c["units"] and d["act"] == c["act"]
        assert d["batch"] == c["batch"] and d["opt"] == c["opt"]
        assert math.isclose(d["lr"], c["lr"], rel_tol=1e-9)
        assert math.isclose(d["momentum"], c["momentum"], rel_tol=1e-9, abs_tol=1e-12)


def test_validation_errors_name_parameter_value_and_what_is_allowed():
    cfg = SPACE.sample(np.random.default_rng(0))
    with pytest.raises(ConfigurationError, match=r"hyperparameter 'lr' = 0.5 is not allowed; allowed: float in \[0.0001, 0.1\], log scale"):
        SPACE.validate({**cfg, "lr": 0.5})
    with pytest.raises(ConfigurationError, match=r"hyperparameter 'act' = 'elu' is not allowed; allowed: one of \['relu', 'tanh', 'gelu'\]"):
        SPACE.validate({**cfg, "act": "elu"})
    with pytest.raises(ConfigurationError, match=r"hyperparameter 'layers' = 2.5 is not allowed; allowed: int in \[1, 4\]"):
        SPACE.validate({**cfg, "layers": 2.5})
    with pytest.raises(ConfigurationError, match=r"missing \['opt'\], unknown \['optimizer'\]"):
        SPACE.validate({**{k: v for k, v in cfg.items() if k != "opt"}, "optimizer": "adam"})


def test_bad_domains_are_rejected_with_the_reason():
    with pytest.raises(ConfigurationError, match="log scale needs a lower bound > 0, got 0.0"):
        loguniform(0, 1)
    with pytest.raises(ConfigurationError, match="lower bound 5.0 is above the upper bound 1.0"):
        uniform(5, 1)
    with pytest.raises(ConfigurationError, match="distinct"):
        choice(["a", "a"])
    with pytest.raises(ConfigurationError, match="int bounds must be integers"):
        Integer(0.5, 3)
    with pytest.raises(ConfigurationError, match="unknown domain type 'normal'"):
        domain_from_dict({"type": "normal"})
    with pytest.raises(ConfigurationError, match="expected a Domain"):
        ConfigurationSpace({"x": [1, 2]})


def test_grid_size_and_finiteness():
    space = ConfigurationSpace({"a": choice(["x", "y"]), "b": randint(1, 3), "c": constant(0)})
    assert space.is_finite and space.size == 6
    assert list(space.grid())[:2] == [{"a": "x", "b": 1, "c": 0}, {"a": "x", "b": 2, "c": 0}]
    assert not SPACE.is_finite and SPACE.size == math.inf
    with pytest.raises(ConfigurationError, match=r"infinite hyperparameters: \['lr', 'momentum'\]"):
        next(SPACE.grid())


def test_json_round_trip_and_nearest_values():
    again = ConfigurationSpace.from_json(SPACE.to_json())
    assert again == SPACE and list(again) == list(SPACE)
    assert json.loads(SPACE.to_json())["units"] == {"type": "int", "lower": 8, "upper": 512, "log": True}
    assert nearest_values(ordinal([1, 2, 4, 8, 16]), 7) == [8, 4, 2]
    assert nearest_values(choice(["relu", "tanh"]), "rel")[0] == "relu"


# ---------------------------------------------------------------- property-based
finite_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def domains(draw):
    kind = draw(st.sampled_from(["float", "logfloat", "int", "logint", "choice", "ordinal", "constant"]))
    if kind in ("float", "logfloat"):
        lo = draw(st.floats(min_value=1e-6, max_value=1e3)) if kind == "logfloat" else draw(finite_numbers)
        hi = lo + draw(st.floats(min_value=1e-3, max_value=1e3))
        return Float(lo, hi, log=kind == "logfloat")
    if kind in ("int", "logint"):
        lo = draw(st.integers(1, 1000)) if kind == "logint" else draw(st.integers(-1000, 1000))
        return Integer(lo, lo + draw(st.integers(0, 20000)), log=kind == "logint")
    if kind == "constant":
        return Constant(draw(st.one_of(st.integers(), st.text(max_size=5))))
    values = draw(st.lists(st.one_of(st.integers(-100, 100), st.text(min_size=1, max_size=4)),
                           min_size=1, max_size=8, unique_by=repr))
    if kind == "ordinal":
        values = sorted({v for v in values if isinstance(v, int)}) or [0]
        return ordinal(values)
    return choice(values)


spaces = st.dictionaries(st.text(alphabet="abcdefgh_", min_size=1, max_size=6), domains(),
                         min_size=1, max_size=6).map(ConfigurationSpace)


@settings(max_examples=80, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**32 - 1))
def test_property_samples_are_valid_encode_to_unit_cube_and_decode_back(space, seed):
    cfgs = space.sample(np.random.default_rng(seed), 5)
    for cfg in cfgs:
        space.validate(cfg)
    x = space.encode(cfgs)
    assert np.all((x >= 0) & (x <= 1))
    back = space.decode(x)
    for c, d in zip(cfgs, back):
        for k, dom in space.items():
            if isinstance(dom, Float):
                assert math.isclose(d[k], c[k], rel_tol=1e-6, abs_tol=1e-6 * max(1.0, abs(dom.upper)))
            else:
                assert d[k] == c[k]
        space.validate(d)


@settings(max_examples=80, deadline=None)
@given(space=spaces)
def test_property_json_round_trip(space):
    again = ConfigurationSpace.from_json(space.to_json())
    assert again == space
    assert again.to_json() == space.to_json()


@settings(max_examples=50, deadline=None)
@given(space=spaces, u=st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_property_decode_of_any_point_is_valid(space, u):
    x = np.resize(np.asarray(u, dtype=float), (1, len(space)))
    space.validate(space.decode(x)[0])
