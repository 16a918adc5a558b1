"""Configuration spaces: sampling, encoding, validation, JSON round trips, the model-facing
``FeatureEncoder`` (with hypothesis)."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackbox_repo.configspace import (Choice, ConfigurationError, ConfigurationSpace, Constant, FeatureEncoder,
                                       Float, Integer, Ordinal, choice, constant, domain_from_dict, lograndint,
                                       loguniform, nearest_values, ordinal, randint, uniform)

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


# ---------------------------------------------------------------- FeatureEncoder
MIXED = ConfigurationSpace({
    "lr": loguniform(1e-4, 1e-1),
    "units": lograndint(8, 512),
    "layers": randint(1, 4),
    "act": choice(["relu", "tanh", "gelu"]),
    "heads": choice([1, 2, 4, "auto"]),
    "batch": ordinal([32, 64, 128]),
    "opt": constant("adam"),
    "momentum": uniform(0.0, 0.99),
})


def _same_config(space: ConfigurationSpace, got: dict, want: dict) -> None:
    assert list(got) == list(space)
    for k, dom in space.items():
        if isinstance(dom, Float):
            assert math.isclose(got[k], want[k], rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(dom.upper))), k
        else:
            assert got[k] == want[k] and type(got[k]) is type(want[k]), k


def test_encoder_layout_and_metadata():
    enc = FeatureEncoder(MIXED)
    assert enc.dim == 1 + 1 + 1 + 3 + 4 + 1 + 1
    assert [(name, kind, (s.start, s.stop)) for name, kind, s in enc.columns] == [
        ("lr", "float", (0, 1)), ("units", "int", (1, 2)), ("layers", "int", (2, 3)),
        ("act", "choice", (3, 6)), ("heads", "choice", (6, 10)), ("batch", "ordinal", (10, 11)),
        ("momentum", "float", (11, 12))]                       # the constant has no column
    assert enc.numeric_mask.tolist() == [True] * 3 + [False] * 7 + [True] * 2
    assert [(name, idx.tolist()) for name, idx in enc.categorical_groups] == [
        ("act", [3, 4, 5]), ("heads", [6, 7, 8, 9])]
    assert enc.bounds.shape == (12, 2) and enc.bounds.dtype == np.float64
    assert (enc.bounds[:, 0] == 0).all() and (enc.bounds[:, 1] == 1).all()
    with pytest.raises(ValueError):                           # shared metadata is read-only
        enc.numeric_mask[0] = False


def test_encoder_round_trip_on_a_mixed_space():
    enc = FeatureEncoder(MIXED)
    cfgs = MIXED.sample(np.random.default_rng(3), 500)
    X = enc.encode(cfgs)
    assert X.shape == (500, enc.dim) and X.dtype == np.float64
    assert np.all((X >= 0) & (X <= 1))
    back = enc.decode(X)
    for got, want in zip(back, cfgs):
        _same_config(MIXED, got, want)
    _same_config(MIXED, enc.decode(X[7])[0], cfgs[7])        # one (dim,) row
    assert enc.encode([]).shape == (0, enc.dim) and enc.decode(np.zeros((0, enc.dim))) == []


def test_encode_one_is_encode_bit_for_bit():
    enc = FeatureEncoder(MIXED)
    cfgs = MIXED.sample(np.random.default_rng(4), 2000)
    X = enc.encode(cfgs)
    for i, c in enumerate(cfgs):
        assert np.array_equal(enc.encode_one(c), X[i]), c
    edges = [{**cfgs[0], "lr": 1e-4, "units": 512, "layers": 1, "momentum": 0.99},
             {**cfgs[0], "lr": 0.1, "units": 8, "layers": 4, "momentum": 0.0, "heads": np.int64(4)},
             {**cfgs[0], "lr": np.float32(0.003), "units": np.int32(100), "momentum": 1e-12 + 0.99}]
    assert np.array_equal(np.array([enc.encode_one(c) for c in edges]), enc.encode(edges))


def test_one_hot_is_exact():
    enc = FeatureEncoder(MIXED)
    cfgs = MIXED.sample(np.random.default_rng(5), 300)
    X = enc.encode(cfgs)
    for name, idx in enc.categorical_groups:
        block = X[:, idx]
        assert set(np.unique(block).tolist()) <= {0.0, 1.0}
        assert (block.sum(axis=1) == 1.0).all()
        values = MIXED[name].values
        assert [values[i] for i in block.argmax(axis=1)] == [c[name] for c in cfgs]
    row = enc.encode_one({**cfgs[0], "act": "tanh", "heads": "auto"})
    assert row[3:6].tolist() == [0.0, 1.0, 0.0] and row[6:10].tolist() == [0.0, 0.0, 0.0, 1.0]
    # 2 and 2.0 are the same allowed value, as for validate
    assert enc.encode_one({**cfgs[0], "heads": 2.0})[6:10].tolist() == [0.0, 1.0, 0.0, 0.0]


def test_numeric_columns_scale_like_their_domain():
    space = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "x": uniform(-2, 2), "n": lograndint(1, 1024),
                                "k": randint(1, 4), "w": ordinal([16, 32, 64, 128, 256])})
    enc = FeatureEncoder(space)
    row = enc.encode_one({"lr": 10 ** -2.5, "x": 1.0, "n": 32, "k": 1, "w": 64})
    assert row[0] == pytest.approx(0.5, abs=1e-12)                 # log scale: the middle decade
    assert row[1] == 0.75
    assert row[2] == pytest.approx(0.5, abs=1e-12)                 # log int: the integer's log
    assert row[3] == space["k"].encode(1) == pytest.approx(0.125)  # linear int, as Domain.encode
    assert row[4] == 0.5                                           # ordinal: rank / (n - 1)
    assert enc.encode([{"lr": 1e-4, "x": -2, "n": 1, "k": 4, "w": 256}]).tolist() == [
        [0.0, 0.0, 0.0, space["k"].encode(4), 1.0]]
    # decoding rounds ints and ordinals to the nearest allowed value, clips, takes the argmax
    assert enc.decode([[0.5, 2.0, 0.501, 0.99, 0.3]]) == [
        {"lr": pytest.approx(10 ** -2.5), "x": 2.0, "n": 32, "k": 4, "w": 32}]
    assert FeatureEncoder(ConfigurationSpace({"c": choice(["a", "b", "c"])})).decode(
        [[0.2, 0.7, 0.1], [0.4, 0.4, 0.1]]) == [{"c": "b"}, {"c": "a"}]


def test_a_space_of_constants_has_no_features():
    space = ConfigurationSpace({"opt": constant("adam"), "seed": constant(3)})
    enc = FeatureEncoder(space)
    assert enc.dim == 0 and enc.columns == [] and enc.categorical_groups == []
    assert enc.numeric_mask.shape == (0,) and enc.bounds.shape == (0, 2)
    cfg = {"opt": "adam", "seed": 3}
    assert enc.encode([cfg, cfg]).shape == (2, 0) and enc.encode_one(cfg).shape == (0,)
    assert enc.decode(np.zeros((2, 0))) == [cfg, cfg]
    assert FeatureEncoder(ConfigurationSpace({})).decode(np.zeros((3, 0))) == [{}, {}, {}]
    # single-valued ordinals and equal bounds still encode to a fixed number
    single = FeatureEncoder(ConfigurationSpace({"w": ordinal([8]), "x": uniform(1, 1), "k": randint(2, 2)}))
    assert single.encode_one({"w": 8, "x": 1.0, "k": 2}).tolist() == [0.0, 0.5, 0.5]
    assert single.decode([[0.3, 0.9, 0.1]]) == [{"w": 8, "x": 1.0, "k": 2}]


@pytest.mark.parametrize("name, value, allowed", [
    ("lr", 0.5, r"float in \[0.0001, 0.1\], log scale"),
    ("lr", "0.01", r"float in \[0.0001, 0.1\], log scale"),
    ("units", 600, r"int in \[8, 512\], log scale"),
    ("layers", 2.5, r"int in \[1, 4\]"),
    ("layers", True, r"int in \[1, 4\]"),
    ("layers", 10 ** 400, r"int in \[1, 4\]"),
    ("momentum", math.nan, r"float in \[0.0, 0.99\]"),
    ("act", "elu", r"one of \['relu', 'tanh', 'gelu'\]"),
    ("act", ["relu"], r"one of \['relu', 'tanh', 'gelu'\]"),
    ("heads", 3, r"one of \[1, 2, 4, 'auto'\]"),
    ("batch", 100, r"one of \[32, 64, 128\]"),
    ("opt", "sgd", r"the constant 'adam'"),
])
def test_encoder_rejects_values_outside_the_domain(name, value, allowed):
    enc = FeatureEncoder(MIXED)
    cfgs = MIXED.sample(np.random.default_rng(6), 3)
    bad = {**cfgs[1], name: value}
    message = rf"hyperparameter '{name}' = {re.escape(repr(value))} is not allowed; allowed: {allowed}"
    with pytest.raises(ConfigurationError, match=message):
        enc.encode([cfgs[0], bad, cfgs[2]])
    with pytest.raises(ConfigurationError, match=message):
        enc.encode_one(bad)


def test_encoder_rejects_missing_hyperparameters_and_bad_rows():
    enc = FeatureEncoder(MIXED)
    cfg = MIXED.sample(np.random.default_rng(7))
    for name in ("momentum", "act", "opt"):
        partial = {k: v for k, v in cfg.items() if k != name}
        with pytest.raises(ConfigurationError, match=f"has no value for hyperparameter '{name}'"):
            enc.encode([cfg, partial])
        with pytest.raises(ConfigurationError, match=f"has no value for hyperparameter '{name}'"):
            enc.encode_one(partial)
    with pytest.raises(ConfigurationError, match=r"rows of 12 features .* shape \(1, 11\)"):
        enc.decode(np.zeros((1, 11)))
    with pytest.raises(ConfigurationError, match="finite"):
        enc.decode(np.full((1, 12), np.nan))


def test_encoder_is_exported_by_the_package():
    import blackbox_repo
    assert blackbox_repo.FeatureEncoder is FeatureEncoder


@settings(max_examples=80, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**32 - 1))
def test_property_encoder_round_trips_and_matches_encode_one(space, seed):
    enc = FeatureEncoder(space)
    cfgs = space.sample(np.random.default_rng(seed), 5)
    X = enc.encode(cfgs)
    assert X.shape == (5, enc.dim) and np.all((X >= 0) & (X <= 1))
    assert enc.dim == sum(len(d.values) if isinstance(d, Choice) else 0 if isinstance(d, Constant) else 1
                          for d in space.values())
    for c, row in zip(cfgs, X):
        assert np.array_equal(enc.encode_one(c), row)
    for c, d in zip(cfgs, enc.decode(X)):
        for k, dom in space.items():
            if isinstance(dom, Float):
                assert math.isclose(d[k], c[k], rel_tol=1e-6, abs_tol=1e-6 * max(1.0, abs(dom.upper)))
            else:
                assert d[k] == c[k]
        space.validate(d)


@settings(max_examples=50, deadline=None)
@given(space=spaces, u=st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_property_encoder_decode_of_any_point_is_valid(space, u):
    enc = FeatureEncoder(space)
    x = np.resize(np.asarray(u, dtype=float), (1, enc.dim))
    decoded = enc.decode(x)[0]
    space.validate(decoded)
    ordered = [k for k, d in space.items() if isinstance(d, Ordinal)]
    assert all(decoded[k] in space[k].values for k in ordered)
