from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from methods.base import MethodError
from methods.gp import GaussianProcess, GPHyperparameters, Matern52, ei_factor, neg_log_posterior


def _fixed_gp(hp: GPHyperparameters, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
    gp = GaussianProcess(rng=np.random.default_rng(0), hyperparameters=hp)
    gp.fit(X, y, refit_hyperparameters=False)
    return gp


def _log_priors(hp: GPHyperparameters) -> float:
    """Negative log priors of the objective (same constants dropped)."""
    lv, ln = math.log(hp.variance), math.log(hp.noise)
    return lv + 0.5 * lv * lv + 0.9 * ln + hp.noise + 0.5 * hp.mean ** 2


# ------------------------------------------------------------------ (1) scikit-learn
@pytest.mark.parametrize("dim, lengthscales", [(1, [0.3]), (3, [0.2, 0.7, 3.0])])
def test_fixed_hyperparameters_match_scikit_learn(dim, lengthscales):
    rng = np.random.default_rng(dim)
    X = rng.uniform(size=(25, dim))
    y = 3.0 + 2.0 * np.sin(5 * X[:, 0]) + X[:, -1] + 0.05 * rng.standard_normal(25)
    Xc = rng.uniform(size=(40, dim))
    hp = GPHyperparameters(np.array(lengthscales), variance=1.7, noise=0.02, mean=0.0)
    gp = _fixed_gp(hp, X, y)
    mean, std = gp.posterior(Xc)

    kernel = (ConstantKernel(1.7, constant_value_bounds="fixed")
              * Matern(length_scale=lengthscales, length_scale_bounds="fixed", nu=2.5)
              + WhiteKernel(0.02, noise_level_bounds="fixed"))
    sk = GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=True, alpha=0.0)
    sk.fit(X, y)
    sk_mean, sk_std = sk.predict(Xc, return_std=True)
    np.testing.assert_allclose(mean, sk_mean, rtol=0, atol=1e-6)
    # scikit-learn's std includes the WhiteKernel noise; ours is the latent function's
    np.testing.assert_allclose(std ** 2, sk_std ** 2 - 0.02 * y.std() ** 2, rtol=0, atol=1e-6)
    # both compute the marginal likelihood of the normalized targets
    assert gp.log_marginal_likelihood() == pytest.approx(sk.log_marginal_likelihood_value_,
                                                         abs=1e-6)
    # the public kernel is scikit-learn's Matérn too
    np.testing.assert_allclose(Matern52(np.array(lengthscales), 1.7)(X, Xc),
                               (kernel.k1)(X, Xc), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ (2) gradient
def test_analytic_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    n, d = 30, 3
    X = rng.uniform(size=(n, d))
    z = rng.standard_normal(n)
    for _ in range(5):
        theta = np.concatenate([rng.normal(-1.0, 0.7, d), rng.normal(0.0, 0.7, 1),
                                rng.normal(-3.0, 1.5, 1), rng.normal(0.0, 1.0, 1)])
        _, grad = neg_log_posterior(theta, X, z)
        h = 1e-6
        fd = np.array([(neg_log_posterior(theta + h * e, X, z)[0]
                        - neg_log_posterior(theta - h * e, X, z)[0]) / (2 * h)
                       for e in np.eye(len(theta))])
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())


def test_objective_is_minus_log_marginal_likelihood_plus_priors():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(15, 2))
    y = rng.standard_normal(15)
    hp = GPHyperparameters(np.array([0.4, 1.5]), variance=0.8, noise=0.1, mean=0.3)
    gp = _fixed_gp(hp, X, y)
    value, _ = neg_log_posterior(hp.to_theta(), X, (y - y.mean()) / y.std())
    assert value == pytest.approx(-gp.log_marginal_likelihood() + _log_priors(hp), rel=1e-12)


# ------------------------------------------------------------------ (3) incremental add
def test_incremental_add_equals_a_fresh_fit():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(24, 3))
    y = rng.standard_normal(20)
    mu, sigma = y.mean(), y.std()
    # pairs mu +- sigma keep the mean and std, so a fresh fit normalizes exactly like the
    # frozen constants of the incremental one
    y_all = np.concatenate([y, [mu + sigma, mu - sigma, mu + sigma, mu - sigma]])
    hp = GPHyperparameters(np.array([0.3, 0.5, 0.8]), variance=1.3, noise=1e-3, mean=0.2)
    gp = _fixed_gp(hp, X[:20], y)
    gp.add(X[20:22], y_all[20:22])          # a block of two
    gp.add(X[22:23], y_all[22:23])          # and single rows
    gp.add(X[23:24], y_all[23:24])
    fresh = _fixed_gp(hp, X, y_all)
    Xc = np.vstack([rng.uniform(size=(50, 3)), X])
    for (m1, s1), (m2, s2) in [(gp.posterior(Xc), fresh.posterior(Xc)),
                               (gp.posterior(Xc, pending=Xc[:3]), fresh.posterior(Xc, pending=Xc[:3]))]:
        np.testing.assert_allclose(m1, m2, rtol=0, atol=1e-8)
        np.testing.assert_allclose(s1, s2, rtol=0, atol=1e-8)
    assert gp.log_marginal_likelihood() == pytest.approx(fresh.log_marginal_likelihood(), abs=1e-8)


def test_add_keeps_the_normalization_frozen():
    X = np.array([[0.1], [0.9], [0.5]])
    y = np.array([1.0, 3.0, 100.0])
    hp = GPHyperparameters(np.array([0.5]), 1.0, 1e-2, 0.3)
    gp = _fixed_gp(hp, X[:2], y[:2])                       # mean 2, std 1
    gp.add(X[2:], y[2:])
    Xc = np.linspace(0, 1, 7).reshape(-1, 1)
    kernel = Matern52(hp.lengthscales, hp.variance)
    K = kernel(X, X) + hp.noise * np.eye(3)
    Kc = kernel(Xc, X)
    z = (y - 2.0) / 1.0                                     # the constants of the first fit
    mean = 2.0 + 1.0 * (hp.mean + Kc @ np.linalg.solve(K, z - hp.mean))
    var = hp.variance - np.einsum("ij,ji->i", Kc, np.linalg.solve(K, Kc.T))
    got_mean, got_std = gp.posterior(Xc)
    np.testing.assert_allclose(got_mean, mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got_std, np.sqrt(var), rtol=0, atol=1e-10)


# ------------------------------------------------------------------ (4) kriging believer
def test_pending_points_keep_the_mean_and_reduce_the_std():
    rng = np.random.default_rng(4)
    X = rng.uniform(size=(30, 2))
    y = 10.0 + np.cos(4 * X[:, 0]) * X[:, 1]
    hp = GPHyperparameters(np.array([0.3, 0.4]), variance=1.0, noise=1e-4, mean=0.0)
    gp = _fixed_gp(hp, X, y)
    pending = np.array([[0.05, 0.95], [0.97, 0.03]])        # away from most data
    Xc = np.vstack([pending, rng.uniform(size=(200, 2))])
    mean0, std0 = gp.posterior(Xc)
    mean1, std1 = gp.posterior(Xc, pending=pending)
    np.testing.assert_allclose(mean1, mean0, rtol=0, atol=1e-10)
    assert np.all(std1 <= std0 + 1e-12)
    noise_std = math.sqrt(hp.noise) * y.std()
    assert np.all(std0[:2] > 5 * noise_std)
    assert np.all(std1[:2] <= 1.01 * noise_std)             # ~ the noise level
    # the same as adding the pending points with their posterior means as targets
    added = copy.deepcopy(gp)
    added.add(pending, mean0[:2])
    mean2, std2 = added.posterior(Xc)
    np.testing.assert_allclose(mean2, mean0, rtol=0, atol=1e-8)
    np.testing.assert_allclose(std2, std1, rtol=0, atol=1e-10)
    # an empty pending set changes nothing
    np.testing.assert_array_equal(gp.posterior(Xc, pending=np.empty((0, 2)))[1], std0)


# ------------------------------------------------------------------ (5) fitted hyperparameters
def test_fitted_hyperparameters_are_sensible():
    rng = np.random.default_rng(5)

    def f(X):
        return np.sin(2 * np.pi * X[:, 0]) + 0.5 * X[:, 1] ** 2    # X[:, 2] is irrelevant

    X = rng.uniform(size=(60, 3))
    y = 5.0 + 2.0 * f(X) + 0.01 * rng.standard_normal(60)
    gp = GaussianProcess(rng=np.random.default_rng(0))
    gp.fit(X, y)
    Xt = rng.uniform(size=(300, 3))
    yt = 5.0 + 2.0 * f(Xt)
    rmse = math.sqrt(np.mean((gp.posterior(Xt)[0] - yt) ** 2))
    assert rmse < 0.05 * yt.std()
    ls = gp.hyperparameters.lengthscales
    assert ls[2] > 5 * ls[0] and ls[2] > 5 * ls[1]
    assert gp.hyperparameters.noise < 0.01
    theta = gp.hyperparameters.to_theta()
    lower = np.log([1e-2] * 3 + [1e-3, 1e-9])
    upper = np.log([1e4] * 3 + [1e3, 1e6])
    assert np.all(theta[:5] >= lower - 1e-12) and np.all(theta[:5] <= upper + 1e-12)
    # a refit starts from the previous optimum and does not get worse on the same data
    value = neg_log_posterior(theta, X, (y - y.mean()) / y.std())[0]
    gp.fit(X, y)
    assert neg_log_posterior(gp.hyperparameters.to_theta(), X,
                              (y - y.mean()) / y.std())[0] <= value + 1e-9


# ------------------------------------------------------------------ (6) expected improvement
def test_ei_factor_is_accurate_nonnegative_and_silent():
    u = np.linspace(-8, 8, 161)
    reference = norm.pdf(u) + u * norm.cdf(u)
    np.testing.assert_allclose(ei_factor(u), reference, rtol=1e-9, atol=1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = ei_factor(np.array([-30.0, -40.0, -1e3, -1e150, 1e150]))
    assert np.all(far >= 0) and np.all(np.isfinite(far))
    assert far[0] > 0 and far[0] < 1e-190 and far[2] == 0.0 and far[4] == 1e150
    assert np.all(np.diff(ei_factor(u)) > 0)               # larger for a lower mean


def test_expected_improvement_of_the_gp():
    X = np.array([[0.2], [0.8]])
    y = np.array([0.0, 1.0])
    gp = _fixed_gp(GPHyperparameters(np.array([0.3]), 1.0, 1e-3, 0.0), X, y)
    Xc = np.array([[0.2], [0.8], [0.5], [0.0]])
    mean, std = gp.posterior(Xc)
    assert std[0] == pytest.approx(std[1], rel=1e-9)        # symmetric design
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ei = gp.expected_improvement(Xc, best=0.5)
        assert np.all(ei >= 0)
        assert ei[0] > ei[1]                                 # lower mean, same std
        # improving by 100 stds is impossible
        assert np.all(gp.expected_improvement(Xc, best=float(np.min(mean - 100 * std))) < 1e-12)
        # at an observed point with (nearly) no noise the std is floored, not zero
        exact = _fixed_gp(GPHyperparameters(np.array([0.3]), 1.0, 1e-9, 0.0), X, y)
        ei_exact = exact.expected_improvement(X, best=-1.0)
    assert np.all(np.isfinite(ei_exact)) and np.all(ei_exact >= 0)
    np.testing.assert_allclose(ei, std * ei_factor((0.5 - mean) / std), rtol=1e-12)
    # pending points are passed through to the posterior
    _, std_p = gp.posterior(Xc, pending=Xc[2:3])
    np.testing.assert_allclose(gp.expected_improvement(Xc, best=0.5, pending=Xc[2:3]),
                               std_p * ei_factor((0.5 - mean) / std_p), rtol=1e-9)


# ------------------------------------------------------------------ (7) determinism
def test_same_seed_gives_bit_identical_hyperparameters():
    rng = np.random.default_rng(7)
    X = rng.uniform(size=(40, 4))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
    fits = []
    for _ in range(2):
        gp = GaussianProcess(rng=np.random.default_rng(11), restarts=2)
        gp.fit(X[:30], y[:30])
        gp.fit(X, y)                     # warm start plus fresh random draws
        fits.append(gp.hyperparameters.to_theta())
    assert np.array_equal(fits[0], fits[1])


# ------------------------------------------------------------------ (8) degenerate data
def test_constant_targets_and_a_single_observation():
    rng = np.random.default_rng(8)
    Xc = rng.uniform(size=(10, 2))
    gp = GaussianProcess(rng=np.random.default_rng(0))
    gp.fit(rng.uniform(size=(5, 2)), np.full(5, 0.7))
    mean, std = gp.posterior(Xc)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    np.testing.assert_allclose(mean, 0.7, atol=1e-6)
    assert np.all(np.isfinite(gp.expected_improvement(Xc, best=0.7, pending=Xc[:2])))

    single = GaussianProcess(rng=np.random.default_rng(0))
    single.fit(np.array([[0.3, 0.3]]), np.array([2.5]))
    mean, std = single.posterior(Xc)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)
    assert np.isfinite(single.log_marginal_likelihood())
    single.add(np.array([[0.6, 0.6]]), np.array([3.5]))     # spread 1 is the frozen scale
    mean, std = single.posterior(np.array([[0.6, 0.6]]))
    assert np.isfinite(mean[0]) and abs(mean[0] - 3.5) < 0.5
    # duplicated rows with (almost) no noise still factorize
    dup = _fixed_gp(GPHyperparameters(np.array([0.5, 0.5]), 1.0, 1e-9, 0.0),
                    np.vstack([Xc[:3], Xc[:3]]), np.arange(6.0))
    dup.add(Xc[:2], np.array([0.0, 1.0]))
    assert np.all(np.isfinite(dup.posterior(Xc, pending=Xc[:3])[1]))


# ------------------------------------------------------------------ API and errors
def test_hyperparameter_setter_refactors_and_defaults_are_syne_tunes():
    X = np.array([[0.1], [0.5], [0.9]])
    y = np.array([1.0, 0.0, 2.0])
    gp = GaussianProcess(rng=np.random.default_rng(0))
    gp.fit(X, y)
    hp = GPHyperparameters(np.array([0.2]), 2.0, 0.01, 0.1)
    gp.hyperparameters = hp
    np.testing.assert_array_equal(gp.posterior(X)[1], _fixed_gp(hp, X, y).posterior(X)[1])
    got = gp.hyperparameters
    got.lengthscales[0] = 9.0                                 # a copy
    assert gp.hyperparameters.lengthscales[0] == 0.2
    default = GPHyperparameters.default(2)
    assert default.lengthscales.tolist() == [1.0, 1.0] and default.noise == 1e-3
    back = GPHyperparameters.from_theta(hp.to_theta())
    np.testing.assert_allclose(back.lengthscales, [0.2])
    assert (back.variance, back.noise, back.mean) == pytest.approx((2.0, 0.01, 0.1))


def test_errors_are_method_errors():
    rng = np.random.default_rng(9)
    X, y = rng.uniform(size=(5, 2)), rng.standard_normal(5)
    gp = GaussianProcess(rng=np.random.default_rng(0))
    with pytest.raises(MethodError):
        gp.posterior(X)
    with pytest.raises(MethodError):
        gp.add(X, y)
    with pytest.raises(MethodError):
        _ = gp.hyperparameters
    with pytest.raises(MethodError):
        gp.fit(X, y, refit_hyperparameters=False)
    with pytest.raises(MethodError):
        gp.fit(X, np.where(np.arange(5) == 2, np.nan, y))
    with pytest.raises(MethodError):
        gp.fit(X[:, 0], y)
    gp.fit(X, y)
    with pytest.raises(MethodError):
        gp.posterior(rng.uniform(size=(3, 3)))
    with pytest.raises(MethodError):
        gp.add(rng.uniform(size=(1, 3)), [0.0])
    with pytest.raises(MethodError):
        gp.hyperparameters = GPHyperparameters(np.array([1.0]), 1.0, 1e-3, 0.0)
    with pytest.raises(MethodError):
        gp.hyperparameters = GPHyperparameters(np.array([1.0, -1.0]), 1.0, 1e-3, 0.0)
    for kwargs in ({"restarts": -1}, {"max_iterations": 0}, {"restarts": 1.5}):
        with pytest.raises(MethodError):
            GaussianProcess(rng=np.random.default_rng(0), **kwargs)
    with pytest.raises(MethodError):
        GaussianProcess(rng=0)
