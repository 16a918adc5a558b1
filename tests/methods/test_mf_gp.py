"""Tests of the multi-fidelity GP models and searchers (methods/mf_gp.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods.base import MethodError, Trial
from methods.mf_gp import (IndependentGPs, JointGP, MultiFidelityGPSearcher, _independent_objective,
                           exp_decay_kappa, exp_decay_kernel, joint_neg_log_posterior, ranking_loss,
                           subsample_rows)
from methods.searcher import make_searcher


def test_exp_decay_kernel_matches_the_hand_computed_formula():
    # alpha = 2, mean_lam = 0.5: beta = 4, kappa(u) = (4 / (u + 4))^2
    alpha, mean_lam, gamma = 2.0, 0.5, 0.3
    r, s = 0.5, 1.0
    kappa = lambda u: (4.0 / (u + 4.0)) ** 2  # noqa: E731
    expected = gamma ** 2 * (kappa(r + s) - kappa(r) * kappa(s))
    assert exp_decay_kernel(np.array([r]), np.array([s]), alpha, mean_lam, gamma)[0, 0] == pytest.approx(expected)
    assert exp_decay_kappa(np.array([r]), alpha, mean_lam)[0] == pytest.approx((4 / 4.5) ** 2)
    # positive semi-definite on a grid of resources, zero at r = 0 (the curves start from the mean)
    grid = np.linspace(0.0, 1.0, 6)
    K = exp_decay_kernel(grid, grid, alpha, mean_lam, gamma)
    assert np.linalg.eigvalsh(K).min() > -1e-12
    assert np.allclose(K[0], 0.0)


def _finite_differences(fun, theta, h=1e-6):
    return np.array([(fun(theta + h * e)[0] - fun(theta - h * e)[0]) / (2 * h) for e in np.eye(len(theta))])


def test_joint_likelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(25, 3))
    level = rng.integers(0, 3, 25)
    r = np.array([0.01, 0.1, 1.0])
    z = rng.standard_normal(25)
    theta = np.concatenate([rng.normal(0, 0.3, 3), [0.2, -3.0, 0.1], np.log([1.5, 0.7, 0.4])])
    _, grad = joint_neg_log_posterior(theta, X, level, r, z)
    fd = _finite_differences(lambda t: joint_neg_log_posterior(t, X, level, r, z), theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_independent_likelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(20, 2))
    data = [(X[:8], rng.standard_normal(8)), (X[8:], rng.standard_normal(12))]
    theta = np.concatenate([rng.normal(0, 0.3, 2), [-2.5], [0.3, 0.1, -0.2, 0.4]])
    _, grad = _independent_objective(theta, data)
    fd = _finite_differences(lambda t: _independent_objective(t, data), theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_independent_model_posterior_at_a_training_point_is_the_observation():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(15, 2))
    f = np.sin(3 * X[:, 0]) + X[:, 1]
    model = IndependentGPs(rng=np.random.default_rng(3))
    model.fit({1: (X, f + 2.0), 9: (X[:8], f[:8])})
    for level, y in ((1, f + 2.0), (9, f[:8])):
        mean, std = model.posterior(level, X[:5])
        np.testing.assert_allclose(mean, y[:5], atol=0.02)
        assert np.all(std < 0.1)
    # the levels share lengthscales and noise, and have their own mean and scale
    h1, h9 = model.hyperparameters(1), model.hyperparameters(9)
    np.testing.assert_array_equal(h1.lengthscales, h9.lengthscales)
    assert h1.noise == h9.noise and h1.mean != h9.mean


def test_joint_model_interpolates_and_extrapolates_the_decay():
    rng = np.random.default_rng(4)
    X = rng.uniform(size=(10, 1))
    levels = np.array([1, 3, 9, 27]) / 27.0
    Xa = np.repeat(X, 4, axis=0)
    ra = np.tile(levels, 10)
    y = (Xa[:, 0] - 0.4) ** 2 + 0.5 * np.exp(-3 * ra * 27 / 9)          # decaying curves
    gp = JointGP(rng=np.random.default_rng(5))
    gp.fit(Xa, ra, y)
    mean, std = gp.posterior(X[:3], 1.0)
    np.testing.assert_allclose(mean, (X[:3, 0] - 0.4) ** 2 + 0.5 * math.exp(-9), atol=0.03)
    # incremental add equals a fit with the same hyperparameters and normalization
    gp2 = JointGP(rng=np.random.default_rng(5))
    gp2.fit(Xa[:30], ra[:30], y[:30])
    hp = gp2.hyperparameters
    gp2.add(Xa[30:], ra[30:], y[30:])
    gp3 = JointGP(rng=np.random.default_rng(5))
    gp3._hp = hp                                       # noqa: SLF001 (same hyperparameters)
    gp3.fit(Xa[:30], ra[:30], y[:30], refit_hyperparameters=False)
    gp3.add(Xa[30:], ra[30:], y[30:])
    np.testing.assert_allclose(gp2.posterior(X, 0.5)[0], gp3.posterior(X, 0.5)[0], rtol=1e-9)


def test_joint_model_pending_points_reduce_the_variance_only():
    rng = np.random.default_rng(6)
    X = rng.uniform(size=(12, 2))
    r = np.repeat([0.1, 1.0], 6)
    gp = JointGP(rng=np.random.default_rng(7))
    gp.fit(X, r, X[:, 0] + r)
    Xc = rng.uniform(size=(4, 2))
    m0, s0 = gp.posterior(Xc, 1.0)
    m1, s1 = gp.posterior(Xc, 1.0, pending=Xc[:1])
    np.testing.assert_allclose(m0, m1)
    assert s1[0] < 0.5 * s0[0] and np.all(s1 <= s0 + 1e-12)


def test_subsample_keeps_the_trials_of_the_highest_levels():
    # trial 0 reached 9, trial 1 reached 3, trials 2..9 only 1
    ids = [0, 0, 0, 1, 1] + list(range(2, 10))
    levels = [1, 3, 9, 1, 3] + [1] * 8
    keep = subsample_rows(ids, levels, 7, np.random.default_rng(0))
    assert len(keep) == 7
    assert {0, 1, 2, 3, 4} <= set(keep.tolist())           # both promoted trials, whole histories
    assert len(subsample_rows(ids, levels, 100, np.random.default_rng(0))) == len(ids)
    # when even the top trials do not fit, their lowest-level rows go first
    keep = subsample_rows(ids, levels, 2, np.random.default_rng(0))
    assert sorted(np.asarray(levels)[keep].tolist()) == [3, 9]


def test_ranking_loss_counts_discordant_pairs():
    y = np.array([0.1, 0.2, 0.3, 0.4])
    samples = np.column_stack([y, y[::-1], [0.1, 0.3, 0.2, 0.4]])
    np.testing.assert_allclose(ranking_loss(samples, y), [0.0, 1.0, 1 / 6])


def test_invalid_model_names_the_value_and_what_is_allowed():
    with pytest.raises(MethodError, match=r"model 'gp_multitask' is not valid; allowed: \['joint', 'independent'\]"):
        make_searcher("gp_multifidelity", model="gp_multitask")
    assert make_searcher("mobster").model == "joint"
    assert make_searcher("hypertune").model == "independent"


def _bound(model: str, seed: int, **kw) -> MultiFidelityGPSearcher:
    s = MultiFidelityGPSearcher(model=model, num_init_random=3, **kw)
    s.bind(ConfigurationSpace({"x": uniform(0, 1), "y": uniform(0, 1)}), metric="loss", mode="min",
           rng=np.random.default_rng(seed), fidelity_values=[1, 3, 9])
    return s


def _drive(s: MultiFidelityGPSearcher, n: int) -> list[dict]:
    configs = []
    for i in range(n):
        c = s.next_config()
        configs.append(c)
        t = Trial(i, c)
        s.on_start(t)
        f = (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2
        for level in (1, 3, 9)[: 1 + i % 3]:
            s.observe(t, level, {"loss": f + 0.3 / level})
    return configs


@pytest.mark.parametrize("model", ["joint", "independent"])
def test_searcher_is_deterministic_and_finds_the_optimum_region(model):
    a, b = _drive(_bound(model, 0), 30), _drive(_bound(model, 0), 30)
    assert a == b
    late = a[20:]
    dist = [math.hypot(c["x"] - 0.3, c["y"] - 0.6) for c in late]
    assert np.median(dist) < 0.25          # random points in the unit square: median distance ~0.45


def test_acquisition_level_is_the_largest_with_three_observations():
    s = _bound("independent", 0)
    assert s.acquisition_level() is None
    for i in range(4):
        t = Trial(i, {"x": 0.1 * i, "y": 0.5})
        s.on_start(t)
        s.observe(t, 1, {"loss": 1.0})
        if i < 2:
            s.observe(t, 3, {"loss": 0.5})
    assert s.acquisition_level() == 1
    t = Trial(2, {"x": 0.2, "y": 0.5})
    s.observe(t, 3, {"loss": 0.4})
    assert s.acquisition_level() == 3


def test_posterior_mean_alone_is_the_mean_of_the_posterior_bit_for_bit():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(20, 2))
    r = np.repeat([0.1, 0.3, 1.0, 0.3], 5)
    y = X.sum(axis=1) + r
    joint = JointGP(rng=np.random.default_rng(0))
    joint.fit(X, r, y)
    joint.add(X[:3] * 0.5, np.array([0.1, 1.0, 1.0]), y[:3])
    Xc = rng.uniform(size=(7, 2))
    for rc in (0.1, 0.3, 1.0):
        assert np.array_equal(joint.posterior_mean(Xc, rc), joint.posterior(Xc, rc)[0])
    indep = IndependentGPs(rng=np.random.default_rng(0))
    indep.fit({1: (X[:10], y[:10]), 3: (X[10:], y[10:])})
    for level in (1, 3):
        gp = indep.level(level)
        assert np.array_equal(gp.posterior_mean(Xc), gp.posterior(Xc)[0])
