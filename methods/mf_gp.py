"""Multi-fidelity Gaussian-process searchers: the surrogate models of MOBSTER and Hyper-Tune.

A multi-fidelity scheduler (``ASHA``, ``SyncHyperband``, ``HyperTune``) passes the searcher the
reports at its rung levels; the searcher models the score ``f(x, r)`` of configuration ``x`` at
fidelity ``r`` in one of two ways (Syne Tune 0.13's ``GPMultiFidelitySearcher`` models):

- ``model="joint"`` (Syne Tune's ``gp_multitask`` with its default resource kernel
  ``exp-decay-sum``; Tiao, Klein, Lienart, Archambeau & Seeger 2020 after Swersky, Snoek &
  Adams 2014, freeze-thaw): one GP over ``(x, r)`` with

      k((x, r), (x', r')) = k_x(x, x') + gamma^2 [kappa(r + r') - kappa(r) kappa(r')]
      mean(x, r)          = mu + gamma kappa(r),    kappa(u) = (beta / (u + beta))^alpha,
                                                     beta = alpha / mean_lam,

  ``k_x`` the ARD Matérn-5/2 kernel of ``methods.gp`` (with its variance), ``r`` scaled to
  ``r / r_max``. Hyperparameters (besides ``methods.gp``'s, same bounds and priors): ``alpha`` in
  [1e-6, 250], ``mean_lam`` in [1e-4, 50], ``gamma`` in [1e-4, 1] (initial 1, 0.5, 0.5; no priors),
  as in Syne Tune's ``ExponentialDecayResourcesKernelFunction`` with ``delta = 0``.
- ``model="independent"`` (Syne Tune's ``gp_independent``): one GP per rung level sharing the ARD
  lengthscales and the noise variance, each with its own constant mean ``mu_r`` and covariance
  scale ``c_r`` (LogNormal(0, 1) prior); the hyperparameters of all levels are fitted together
  (the sum of the levels' marginal likelihoods, one noise prior).

Targets are normalized over all levels together. Both models are fitted by L-BFGS-B from the
current values and ``fit_restarts`` random starts (Syne Tune's ``opt_nstarts=2``) on at most
``max_size_data`` (250) observations, chosen as Syne Tune's ``max_size_data_for_model`` (500 there;
hposim halves it for speed: a posterior for 250 candidates costs O(n^2) per candidate): the
observations at high levels and of the trials that reached them are kept first, lower ones are
subsampled, seeded.
Hyperparameters are refitted on BO's schedule (``methods.bayesopt``: every new observation below
``refit_every_below``, then when the data grew by ``refit_growth``); in between, new observations
extend the Cholesky factor incrementally (Syne Tune refits at every new observation), and the
observations the size cap left out at the last refit stay out until the next one (so the model holds
at most ``max_size_data`` plus the observations since the last refit). Two more
savings of hposim's: the hyperparameters are fitted on at most ``max_size_fit`` (150) of the
model's observations (chosen by the same rule), the posterior conditions on all of them; and the
random restarts run while the fit has at most 100 observations, later refits refine the previous
optimum (the warm start) only.

Acquisition (MOBSTER; Klein, Tiao, Lienart, Archambeau & Seeger 2020): expected improvement at
the resource ``r_acq`` = the largest level with at least ``resource_acq_threshold`` (3)
observations, else the smallest observed level (Syne Tune's ``resource_acq="bohb"``), over
``num_init_candidates`` random configurations (unused table rows) plus a local search, as
``methods.bayesopt.GPSearcher``; the incumbent is the lowest posterior mean at ``r_acq`` among
the configurations observed there. The first ``num_init_random`` (6) configurations are random.
Pending configurations without an observation at ``r_acq`` are conditioned on at ``r_acq`` by
the kriging believer (``methods.gp``); Syne Tune draws fantasies at each pending trial's next
milestone instead. Trials paused by a promotion scheduler are not pending (the schedulers of
``methods.mobster`` and ``methods.hypertune`` report pauses and resumptions to the searcher).

``HyperTuneSearcher`` (``"hypertune"``; Li et al. 2022) uses the independent model by default and
replaces the acquisition model by Hyper-Tune's ensemble: with weights ``theta_r`` over the rung
levels, mean ``sum theta_r mu_r(x)`` and variance ``sum theta_r^2 sigma_r^2(x)``. The weights come
from ranking losses (fraction of discordant pairs against the observed scores at the highest
level with >= 6 observations) of 50 joint posterior samples per level; the top level's losses by
K-fold cross-validation (K = min(n // 2, 5)); ``theta_r`` = the fraction of samples in which level
``r`` has the smallest loss (weights below 0.01 dropped). It also gives the scheduler its bracket
distribution ``w_k ~ theta_k / r_k`` (Syne Tune's ``HyperTuneIndependentGPModel``).
With the joint model the ensemble's configuration part (kernel and triangular product) is
computed once for all its levels (``JointGP.ensemble_predictor``), equal up to rounding.

Example:
    >>> import numpy as np
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> from methods.base import Trial
    >>> s = MultiFidelityGPSearcher(model="independent", num_init_random=2)
    >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
    ...        rng=np.random.default_rng(0), fidelity_values=[1, 3, 9])
    >>> for i in range(6):
    ...     c = s.next_config(); t = Trial(i, c); s.on_start(t)
    ...     s.observe(t, 1, {"loss": (c["x"] - 0.3) ** 2 + 0.1})
    >>> 0 <= s.next_config()["x"] <= 1, s.acquisition_level()
    (True, 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.optimize
from scipy.linalg import blas, lapack, solve_triangular

from methods.acquisition import AcquisitionSearcher
from methods.arguments import check_choice, check_int
from methods.base import MethodError
from methods.gp import (INITIAL_NOISE, LBFGS_TOL, MIN_POSTERIOR_VARIANCE, NOISE_PRIOR_RATE, NOISE_PRIOR_SHAPE,
                        SQRT5, STD_FLOOR, GaussianProcess, GPHyperparameters, cholesky_factor,
                        ei_factor, extend_inverse_factor, inverse_lower, matern52_scaled, neg_log_posterior, row_sq, theta_bounds)
from methods.searcher import register_searcher

__all__ = ["MODELS", "exp_decay_kappa", "exp_decay_kernel", "JointHyperparameters", "JointGP", "IndependentGPs",
           "MultiFidelityGPSearcher", "HyperTuneSearcher", "subsample_rows", "ranking_loss"]

#: values of ``model``
MODELS = ("joint", "independent")

_MOBSTER_PAPER = ("Klein, Tiao, Lienart, Archambeau & Seeger 2020, Model-based Asynchronous Hyperparameter "
                  "and Neural Architecture Search (arXiv:2003.10865)")
_HYPERTUNE_PAPER = ("Li, Shen, Jiang, Zhang, Zhao, Cui & Yang 2022, Hyper-Tune: Towards Efficient "
                    "Hyper-parameter Tuning at Scale (VLDB)")

# Syne Tune's ExponentialDecayResourcesKernelFunction (max_metric_value = 1 in normalized units)
_ALPHA_BOUNDS = (1e-6, 250.0)
_MEAN_LAM_BOUNDS = (1e-4, 50.0)
_GAMMA_BOUNDS = (1e-4, 1.0)
_RESOURCE_INIT = (1.0, 0.5, 0.5)            # alpha, mean_lam, gamma
_LOG_2PI = math.log(2.0 * math.pi)
_HT_MIN_POINTS = 6                           # Hyper-Tune: a level is supported from 6 observations
_HT_MIN_WEIGHT = 0.01


# ----------------------------------------------------------------------------- the resource kernel
def exp_decay_kappa(u: np.ndarray, alpha: float, mean_lam: float) -> np.ndarray:
    """``kappa(u) = (beta / (u + beta))^alpha`` with ``beta = alpha / mean_lam``.

    Example:
        >>> float(exp_decay_kappa(np.array([0.0]), 1.0, 0.5)[0]), round(float(exp_decay_kappa(np.array([2.0]), 1.0, 0.5)[0]), 4)
        (1.0, 0.5)
    """
    beta = alpha / mean_lam
    return (beta / (np.asarray(u, dtype=float) + beta)) ** alpha


def exp_decay_kernel(r1: np.ndarray, r2: np.ndarray, alpha: float, mean_lam: float, gamma: float) -> np.ndarray:
    """The resource part ``gamma^2 [kappa(r + r') - kappa(r) kappa(r')]`` for all pairs of ``r1`` x ``r2``.

    Example:
        >>> K = exp_decay_kernel(np.array([0.5]), np.array([0.5, 1.0]), 1.0, 0.5, 0.5)
        >>> K.shape, bool(K[0, 0] > 0)
        ((1, 2), True)
    """
    a = np.asarray(r1, dtype=float).reshape(-1, 1)
    b = np.asarray(r2, dtype=float).reshape(1, -1)
    return gamma * gamma * (exp_decay_kappa(a + b, alpha, mean_lam)
                            - exp_decay_kappa(a, alpha, mean_lam) * exp_decay_kappa(b, alpha, mean_lam))


def _kappa_and_log_derivatives(u: np.ndarray, alpha: float, mean_lam: float):
    """kappa(u) and its derivatives with respect to log alpha and log mean_lam."""
    beta = alpha / mean_lam
    kap = (beta / (u + beta)) ** alpha
    frac = u / (u + beta)
    d_alpha = kap * alpha * (math.log(beta) - np.log(u + beta) + frac)
    d_lam = kap * (-alpha * frac)
    return kap, d_alpha, d_lam


@dataclass(eq=False)
class JointHyperparameters:
    """Hyperparameters of ``JointGP``: the configuration kernel's (``base``: lengthscales,
    variance, noise, mean ``mu``) and the resource kernel's ``alpha``, ``mean_lam``, ``gamma``.

    Example:
        >>> hp = JointHyperparameters.default(2)
        >>> hp.alpha, hp.mean_lam, hp.gamma, len(hp.to_theta())
        (1.0, 0.5, 0.5, 8)
    """

    base: GPHyperparameters
    alpha: float
    mean_lam: float
    gamma: float

    @classmethod
    def default(cls, dim: int) -> "JointHyperparameters":
        return cls(GPHyperparameters.default(dim), *_RESOURCE_INIT)

    def to_theta(self) -> np.ndarray:
        """``[log lengthscales, log variance, log noise, mu, log alpha, log mean_lam, log gamma]``."""
        return np.concatenate([self.base.to_theta(),
                               np.log([self.alpha, self.mean_lam, self.gamma])])

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> "JointHyperparameters":
        a, lam, g = np.exp(theta[-3:])
        return cls(GPHyperparameters.from_theta(theta[:-3]), float(a), float(lam), float(g))


def _joint_bounds(dim: int) -> list[tuple[float | None, float | None]]:
    logs = [(math.log(lo), math.log(hi)) for lo, hi in (_ALPHA_BOUNDS, _MEAN_LAM_BOUNDS, _GAMMA_BOUNDS)]
    return theta_bounds(dim) + logs


def joint_neg_log_posterior(theta: np.ndarray, X: np.ndarray, level: np.ndarray, r: np.ndarray,
                            z: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus negative log priors of ``JointGP`` and its gradient.
    ``level[i]`` indexes observation ``i``'s resource in the distinct scaled resources ``r``."""
    n, d = X.shape
    v, noise, mu = math.exp(theta[d]), math.exp(theta[d + 1]), float(theta[d + 2])
    alpha, mean_lam, gamma = (math.exp(t) for t in theta[d + 3:d + 6])
    Xs = X * (SQRT5 / np.exp(theta[:d]))
    sq = row_sq(Xs)
    dist = Xs @ (-2.0 * Xs).T
    dist += sq[:, None]
    dist += sq[None, :]
    np.maximum(dist, 0.0, out=dist)
    np.sqrt(dist, out=dist)
    e = np.exp(-dist)
    Kx = (dist * (dist + 3.0) + 3.0) * e * (v / 3.0)
    # resource part on the few distinct levels
    S = r[:, None] + r[None, :]
    kS, aS, lS = _kappa_and_log_derivatives(S, alpha, mean_lam)
    k1, a1, l1 = _kappa_and_log_derivatives(r, alpha, mean_lam)
    g2 = gamma * gamma
    Kr = g2 * (kS - np.outer(k1, k1))
    dKr_alpha = g2 * (aS - np.outer(a1, k1) - np.outer(k1, a1))
    dKr_lam = g2 * (lS - np.outer(l1, k1) - np.outer(k1, l1))
    K = Kx + Kr[np.ix_(level, level)]
    K.flat[::n + 1] += noise
    L = cholesky_factor(K, v + g2 + noise)
    resid = z - (mu + gamma * k1[level])
    alpha_v, info = lapack.dpotrs(L, resid, lower=1)
    if info != 0:
        raise MethodError("singular Cholesky factor in the joint multi-fidelity GP")
    value = 0.5 * float(resid @ alpha_v) + float(np.log(np.diag(L)).sum()) + 0.5 * n * _LOG_2PI
    Kinv, info = lapack.dpotri(L, lower=1)
    if info != 0:
        raise MethodError("singular Cholesky factor in the joint multi-fidelity GP")
    W = Kinv + np.tril(Kinv, -1).T
    W -= np.outer(alpha_v, alpha_v)
    grad = np.empty(d + 6)
    A = W * ((1.0 + dist) * e * (v / 3.0))
    grad[:d] = A.sum(axis=1) @ (Xs * Xs) - np.einsum("ij,ij->j", Xs, A @ Xs)
    grad[d] = 0.5 * float(np.vdot(W, Kx))
    grad[d + 1] = 0.5 * noise * float(np.trace(W))
    grad[d + 2] = -float(alpha_v.sum())
    onehot = np.zeros((n, len(r)))
    onehot[np.arange(n), level] = 1.0
    Wl = onehot.T @ W @ onehot
    grad[d + 3] = 0.5 * float(np.vdot(Wl, dKr_alpha)) - gamma * float(alpha_v @ a1[level])
    grad[d + 4] = 0.5 * float(np.vdot(Wl, dKr_lam)) - gamma * float(alpha_v @ l1[level])
    grad[d + 5] = float(np.vdot(Wl, Kr)) - gamma * float(alpha_v @ k1[level])
    # priors of methods.gp: LogNormal(0, 1) variance, Gamma(0.1, 0.1) noise, Normal(0, 1) mean
    log_v, log_noise = theta[d], theta[d + 1]
    value += log_v + 0.5 * log_v * log_v + (1.0 - NOISE_PRIOR_SHAPE) * log_noise + NOISE_PRIOR_RATE * noise
    value += 0.5 * mu * mu
    grad[d] += 1.0 + log_v
    grad[d + 1] += (1.0 - NOISE_PRIOR_SHAPE) + NOISE_PRIOR_RATE * noise
    grad[d + 2] += mu
    return value, grad


def _minimize(fun, current: np.ndarray, initial: np.ndarray, bounds, restarts: int, rng: np.random.Generator,
              max_iterations: int, args: tuple) -> np.ndarray:
    """L-BFGS-B from ``current`` and ``restarts`` N(0, 1) perturbations of ``initial``; the best wins."""
    lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    upper = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    starts = [np.clip(current, lower, upper)] + [
        np.clip(initial + rng.standard_normal(len(initial)), lower, upper) for _ in range(restarts)]
    best, best_value = starts[0], math.inf
    for theta0 in starts:
        try:
            res = scipy.optimize.minimize(fun, theta0, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                                          tol=LBFGS_TOL, options={"maxiter": max_iterations})
        except MethodError:
            continue
        if np.isfinite(res.fun) and res.fun < best_value:
            best, best_value = res.x, float(res.fun)
    return best


def _normalization(y: np.ndarray) -> tuple[float, float]:
    std = float(y.std())
    return float(y.mean()), (std if std > STD_FLOOR else 1.0)


# ----------------------------------------------------------------------------- the joint model
class JointGP:
    """One GP over ``(x, r)`` with the exponential-decay resource kernel (module docstring).
    ``r`` are scaled resources (``r / r_max``); means and stds are in original units.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(size=(12, 1)); r = np.repeat([0.1, 1.0], 6)
        >>> y = (X[:, 0] - 0.5) ** 2 + 0.3 * (r < 1)
        >>> gp = JointGP(rng=np.random.default_rng(1)); gp.fit(X, r, y)
        >>> mean, std = gp.posterior(X[6:8], 1.0)
        >>> bool(np.all(np.abs(mean - y[6:8]) < 0.05))
        True
    """

    def __init__(self, *, restarts: int = 1, rng: np.random.Generator, max_iterations: int = 50):
        self.restarts = restarts
        self.max_iterations = max_iterations
        self._rng = rng
        self._hp: JointHyperparameters | None = None
        self._X: np.ndarray | None = None
        self._r: np.ndarray | None = None
        self._unique_r: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None   # (r, levels, index)

    @property
    def hyperparameters(self) -> JointHyperparameters:
        if self._hp is None:
            raise MethodError("the joint GP has no hyperparameters yet (call fit)")
        return self._hp

    @hyperparameters.setter
    def hyperparameters(self, hp: JointHyperparameters) -> None:
        self._hp = hp
        if self._X is not None:
            self._factorize()

    @property
    def num_data(self) -> int:
        return 0 if self._X is None else len(self._X)

    def fit(self, X: np.ndarray, r: np.ndarray, y: np.ndarray, *, refit_hyperparameters: bool = True) -> None:
        """Replace the data, re-normalize ``y`` and (by default) refit the hyperparameters."""
        X = np.asarray(X, dtype=float)
        r = np.asarray(r, dtype=float).reshape(-1)
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.ndim != 2 or not len(X) == len(r) == len(y) or not len(y):
            raise MethodError(f"need X (n, d), r (n,) and y (n,), n >= 1; got {X.shape}, {r.shape}, {y.shape}")
        self._y_mean, self._y_scale = _normalization(y)
        self._X, self._r, self._z = X, r, (y - self._y_mean) / self._y_scale
        if self._hp is not None and len(self._hp.base.lengthscales) != X.shape[1]:
            self._hp = None
        if refit_hyperparameters:
            levels, index = np.unique(r, return_inverse=True)
            initial = JointHyperparameters.default(X.shape[1]).to_theta()
            current = initial if self._hp is None else self._hp.to_theta()
            theta = _minimize(joint_neg_log_posterior, current, initial, _joint_bounds(X.shape[1]),
                              self.restarts, self._rng, self.max_iterations, (X, index, levels, self._z))
            self._hp = JointHyperparameters.from_theta(theta)
        elif self._hp is None:
            raise MethodError("refit_hyperparameters=False needs hyperparameters (set them first)")
        self._factorize()

    # kernel pieces (normalized units)
    def _scaled(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) * (SQRT5 / self._hp.base.lengthscales)

    def _levels_of(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``np.unique(r, return_inverse=True)``, kept for the data's resources until they change."""
        cached = self._unique_r
        if cached is not None and cached[0] is r:
            return cached[1], cached[2]
        u, i = np.unique(r, return_inverse=True)
        if r is self._r:
            self._unique_r = (r, u, i)
        return u, i

    def _cross_resource(self, r_a: np.ndarray, r_b: np.ndarray) -> np.ndarray:
        hp = self._hp
        ua, ia = self._levels_of(r_a)
        ub, ib = self._levels_of(r_b)
        return exp_decay_kernel(ua, ub, hp.alpha, hp.mean_lam, hp.gamma)[np.ix_(ia, ib)]

    def _cross(self, Xs_a: np.ndarray, sq_a: np.ndarray, r_a: np.ndarray, Xs_b: np.ndarray, sq_b: np.ndarray,
               r_b: np.ndarray) -> np.ndarray:
        K = matern52_scaled(Xs_a, Xs_b, sq_a, sq_b, self._hp.base.variance)
        K += self._cross_resource(r_a, r_b)
        return K

    def _prior_mean(self, r: np.ndarray) -> np.ndarray:
        hp = self._hp
        return hp.base.mean + hp.gamma * exp_decay_kappa(r, hp.alpha, hp.mean_lam)

    def _prior_var(self, r: np.ndarray) -> np.ndarray:
        hp = self._hp
        kap = exp_decay_kappa(r, hp.alpha, hp.mean_lam)
        return hp.base.variance + hp.gamma ** 2 * (exp_decay_kappa(2 * r, hp.alpha, hp.mean_lam) - kap * kap)

    def _factorize(self) -> None:
        hp = self._hp
        self._Xs = self._scaled(self._X)
        self._sq = row_sq(self._Xs)
        K = self._cross(self._Xs, self._sq, self._r, self._Xs, self._sq, self._r)
        K.flat[::len(K) + 1] += hp.base.noise
        self._Linv = np.ascontiguousarray(inverse_lower(cholesky_factor(K, hp.base.variance + hp.base.noise)))
        self._p = self._Linv @ (self._z - self._prior_mean(self._r))
        self._alpha = self._Linv.T @ self._p

    def _extension(self, Xs_new, sq_new, r_new):
        noise = self._hp.base.noise
        L21 = self._cross(Xs_new, sq_new, r_new, self._Xs, self._sq, self._r) @ self._Linv.T
        S = self._cross(Xs_new, sq_new, r_new, Xs_new, sq_new, r_new) - L21 @ L21.T
        S.flat[::len(S) + 1] += noise
        return L21, cholesky_factor(S, self._hp.base.variance + noise)

    def add(self, X_new: np.ndarray, r_new: np.ndarray, y_new: np.ndarray) -> None:
        """Append observations (hyperparameters and normalization kept), by a block update."""
        X_new = np.asarray(X_new, dtype=float)
        r_new = np.asarray(r_new, dtype=float).reshape(-1)
        Xs_new = self._scaled(X_new)
        sq_new = row_sq(Xs_new)
        L21, L22 = self._extension(Xs_new, sq_new, r_new)
        z_new = (np.asarray(y_new, dtype=float).reshape(-1) - self._y_mean) / self._y_scale
        self._Linv, self._p = extend_inverse_factor(self._Linv, self._p, L21, L22,
                                                    z_new - self._prior_mean(r_new))
        self._X = np.vstack([self._X, X_new])
        self._r = np.concatenate([self._r, r_new])
        self._z = np.concatenate([self._z, z_new])
        self._Xs = np.vstack([self._Xs, Xs_new])
        self._sq = np.concatenate([self._sq, sq_new])
        self._alpha = self._Linv.T @ self._p

    def predictor(self, rc: float, pending: np.ndarray | None = None):
        """A function ``X -> (mean, std)`` of ``f(x, rc)`` (original units), with ``pending`` rows
        conditioned on at ``rc`` by kriging believer; the pending block is factorized once."""
        r_p = None if pending is None or not len(pending) else np.full(len(pending), float(rc))
        if r_p is not None:
            Xps = self._scaled(pending)
            sqp = row_sq(Xps)
            L21, L22 = self._extension(Xps, sqp, r_p)

        hp = self._hp
        one = np.array([float(rc)])
        kr_data = self._cross_resource(one, self._r)[0]            # the resource part, same for every x
        prior_mean = float(self._prior_mean(one)[0])
        prior_var = float(self._prior_var(one)[0])
        kr_self = float(self._cross_resource(one, one)[0, 0])

        def predict(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            Xcs = self._scaled(Xc)
            sqc = row_sq(Xcs)
            Kc = matern52_scaled(Xcs, self._Xs, sqc, self._sq, hp.base.variance)
            Kc += kr_data
            mean = Kc @ self._alpha + prior_mean
            Vt = blas.dtrmm(1.0, self._Linv.T, Kc.T, lower=0, trans_a=1, overwrite_b=1)
            var = prior_var - np.einsum("ij,ij->j", Vt, Vt)
            if r_p is not None:
                U = matern52_scaled(Xps, Xcs, sqp, sqc, hp.base.variance)
                U += kr_self
                U -= L21 @ Vt
                Wm = solve_triangular(L22, U, lower=True, check_finite=False)
                var -= np.einsum("ij,ij->j", Wm, Wm)
            var = np.maximum(var, MIN_POSTERIOR_VARIANCE)
            return self._y_mean + self._y_scale * mean, self._y_scale * np.sqrt(var)

        return predict

    def posterior_mean(self, Xc: np.ndarray, rc: float) -> np.ndarray:
        """The mean of ``posterior(Xc, rc)`` alone (bit for bit), without the variance's
        triangular product (e.g. for the incumbent of expected improvement)."""
        one = np.array([float(rc)])
        kr_data = self._cross_resource(one, self._r)[0]
        prior_mean = float(self._prior_mean(one)[0])
        Xcs = self._scaled(Xc)
        Kc = matern52_scaled(Xcs, self._Xs, row_sq(Xcs), self._sq, self._hp.base.variance)
        Kc += kr_data
        mean = Kc @ self._alpha + prior_mean
        return self._y_mean + self._y_scale * mean

    def _level_terms(self, rc: float) -> tuple[np.ndarray, float, float, float]:
        """At the scaled resource ``rc``: ``Linv kr`` (``kr`` the resource kernel between ``rc`` and
        the data, the same for every configuration), the constant ``kr . alpha + prior mean``, the
        prior variance and the resource kernel at ``(rc, rc)``."""
        one = np.array([float(rc)])
        kr_data = self._cross_resource(one, self._r)[0]
        return (self._Linv @ kr_data, float(kr_data @ self._alpha) + float(self._prior_mean(one)[0]),
                float(self._prior_var(one)[0]), float(self._cross_resource(one, one)[0, 0]))

    def ensemble_predictor(self, rcs: Sequence[float], weights: Sequence[float],
                           pending: np.ndarray | None = None):
        """A function ``X -> (mean, std)`` of Hyper-Tune's ensemble over the scaled resources
        ``rcs``: mean ``sum w mu_rc(x)``, variance ``sum w^2 sigma_rc(x)^2``, each level's posterior
        as ``predictor(rc, pending)`` gives it (kriging believer at ``rc``). The configuration part
        is computed once for all levels: ``k((x, rc), data) = k_x(x, data) + kr(rc, data)`` and
        ``kr`` is the same for every ``x``, so ``Linv k = Linv k_x + Linv kr``: one triangular
        product per call instead of one per level (equal up to rounding)."""
        hp = self._hp
        terms = [self._level_terms(rc) for rc in rcs]
        weights = [float(w) for w in weights]
        pend = None
        if pending is not None and len(pending):
            Xps = self._scaled(pending)
            sqp = row_sq(Xps)
            B = matern52_scaled(Xps, self._Xs, sqp, self._sq, hp.base.variance) @ self._Linv.T
            Kpp = matern52_scaled(Xps, Xps, sqp, sqp, hp.base.variance)
            blocks = []
            for u, _, _, kr_self in terms:
                L21 = B + u[None, :]
                S = (Kpp + kr_self) - L21 @ L21.T
                S.flat[::len(S) + 1] += hp.base.noise
                blocks.append((L21, cholesky_factor(S, hp.base.variance + hp.base.noise)))
            pend = (Xps, sqp, blocks)

        def predict(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            Xcs = self._scaled(Xc)
            sqc = row_sq(Xcs)
            Kx = matern52_scaled(Xcs, self._Xs, sqc, self._sq, hp.base.variance)
            mean_x = Kx @ self._alpha
            A = blas.dtrmm(1.0, self._Linv.T, Kx.T, lower=0, trans_a=1, overwrite_b=1)
            Ux = None if pend is None else matern52_scaled(pend[0], Xcs, pend[1], sqc, hp.base.variance)
            mean, var = 0.0, 0.0
            for j, ((u, const, prior_var, kr_self), w) in enumerate(zip(terms, weights)):
                Vt = A + u[:, None]
                var_l = prior_var - np.einsum("ij,ij->j", Vt, Vt)
                if pend is not None:
                    L21, L22 = pend[2][j]
                    U = Ux + kr_self
                    U -= L21 @ Vt
                    Wm = solve_triangular(L22, U, lower=True, check_finite=False)
                    var_l -= np.einsum("ij,ij->j", Wm, Wm)
                var_l = np.maximum(var_l, MIN_POSTERIOR_VARIANCE)
                m = self._y_mean + self._y_scale * (mean_x + const)
                sd = self._y_scale * np.sqrt(var_l)
                mean = mean + w * m
                var = var + (w * w) * sd * sd
            return mean, np.sqrt(np.maximum(var, MIN_POSTERIOR_VARIANCE))

        return predict

    def ensemble_mean(self, rcs: Sequence[float], weights: Sequence[float]):
        """``X -> mean`` of ``ensemble_predictor(rcs, weights)`` (the same numbers) without variances."""
        consts = [self._level_terms(rc)[1] for rc in rcs]
        weights = [float(w) for w in weights]

        def mean_of(Xc: np.ndarray) -> np.ndarray:
            Xcs = self._scaled(Xc)
            mean_x = matern52_scaled(Xcs, self._Xs, row_sq(Xcs), self._sq, self._hp.base.variance) @ self._alpha
            mean = 0.0
            for const, w in zip(consts, weights):
                mean = mean + w * (self._y_mean + self._y_scale * (mean_x + const))
            return mean

        return mean_of

    def posterior(self, Xc: np.ndarray, rc: float, *, pending: np.ndarray | None = None):
        """Posterior mean and std of ``f(x, rc)`` at the rows of ``Xc`` (``rc`` scaled); ``pending``
        rows are conditioned on at ``rc`` by kriging believer."""
        return self.predictor(rc, pending)(Xc)

    def sample_joint(self, Xc: np.ndarray, rc: float, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        """``(len(Xc), num_samples)`` joint posterior samples of ``f(x, rc)``."""
        Xcs = self._scaled(Xc)
        sqc = row_sq(Xcs)
        r_c = np.full(len(Xcs), float(rc))
        Kc = self._cross(Xcs, sqc, r_c, self._Xs, self._sq, self._r)
        mean = Kc @ self._alpha + self._prior_mean(r_c)
        V = self._Linv @ Kc.T
        cov = self._cross(Xcs, sqc, r_c, Xcs, sqc, r_c) - V.T @ V
        return _sample_gaussian(self._y_mean + self._y_scale * mean, self._y_scale ** 2 * cov, num_samples, rng)

    @property
    def normalization(self) -> tuple[float, float]:
        return self._y_mean, self._y_scale


def _sample_gaussian(mean: np.ndarray, cov: np.ndarray, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    cov = 0.5 * (cov + cov.T)
    scale = max(float(np.max(np.abs(np.diag(cov)))), 1e-12)
    L = cholesky_factor(cov + 1e-9 * scale * np.eye(len(cov)), scale)
    return mean[:, None] + L @ rng.standard_normal((len(mean), num_samples))


# ----------------------------------------------------------------------------- the independent model
def _independent_objective(theta: np.ndarray, data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, np.ndarray]:
    """Sum over levels of ``methods.gp.neg_log_posterior`` with shared lengthscales and noise.
    ``theta = [log lengthscales (d), log noise, (log c_r, mu_r) per level]``."""
    d = len(theta) - 1 - 2 * len(data)
    value, grad = 0.0, np.zeros_like(theta)
    for j, (X, z) in enumerate(data):
        th = np.concatenate([theta[:d], [theta[d + 1 + 2 * j], theta[d], theta[d + 2 + 2 * j]]])
        v, g = neg_log_posterior(th, X, z)
        value += v
        grad[:d] += g[:d]
        grad[d] += g[d + 1]
        grad[d + 1 + 2 * j] = g[d]
        grad[d + 2 + 2 * j] = g[d + 2]
    extra = len(data) - 1           # the noise prior counted once, not per level
    log_noise = theta[d]
    value -= extra * ((1.0 - NOISE_PRIOR_SHAPE) * log_noise + NOISE_PRIOR_RATE * math.exp(log_noise))
    grad[d] -= extra * ((1.0 - NOISE_PRIOR_SHAPE) + NOISE_PRIOR_RATE * math.exp(log_noise))
    return value, grad


class IndependentGPs:
    """One GP per fidelity level, sharing lengthscales and noise (module docstring); each level's
    posterior is a ``methods.gp.GaussianProcess`` (targets normalized over all levels).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(size=(10, 1))
        >>> m = IndependentGPs(rng=np.random.default_rng(1))
        >>> m.fit({1: (X, X[:, 0] + 1.0), 3: (X[:5], X[:5, 0])})
        >>> mean, std = m.level(3).posterior(X[:2])
        >>> bool(np.all(np.abs(mean - X[:2, 0]) < 0.05))
        True
    """

    def __init__(self, *, restarts: int = 1, rng: np.random.Generator, max_iterations: int = 50):
        self.restarts = restarts
        self.max_iterations = max_iterations
        self._rng = rng
        self._theta: dict[str, Any] | None = None     # {"shared": array, level: (log c, mu)}
        self._gps: dict[Any, GaussianProcess] = {}
        self.normalization = (0.0, 1.0)

    @property
    def levels(self) -> list:
        return list(self._gps)

    def level(self, fidelity: Any) -> GaussianProcess:
        return self._gps[fidelity]

    def hyperparameters(self, fidelity: Any) -> GPHyperparameters:
        return self._gps[fidelity].hyperparameters

    def fit(self, data: Mapping[Any, tuple[np.ndarray, np.ndarray]], *, refit_hyperparameters: bool = True) -> None:
        """Fit on ``{level: (X, y)}`` (non-empty levels)."""
        levels = [lv for lv in data if len(data[lv][1])]
        if not levels:
            raise MethodError("IndependentGPs.fit needs data at one level at least")
        y_all = np.concatenate([np.asarray(data[lv][1], dtype=float) for lv in levels])
        self.normalization = mean, scale = _normalization(y_all)
        prepared = [(np.asarray(data[lv][0], dtype=float), (np.asarray(data[lv][1], dtype=float) - mean) / scale)
                    for lv in levels]
        d = prepared[0][0].shape[1]
        if self._theta is not None and len(self._theta["shared"]) != d + 1:
            self._theta = None
        if not refit_hyperparameters and self._theta is not None:
            for lv, (_, z) in zip(levels, prepared):       # a level the fit did not see: its own mean
                self._theta.setdefault(lv, (0.0, float(z.mean())))
        if refit_hyperparameters or self._theta is None or any(lv not in self._theta for lv in levels):
            init_shared = np.concatenate([np.zeros(d), [math.log(INITIAL_NOISE)]])
            initial = np.concatenate([init_shared] + [[0.0, 0.0]] * len(levels))
            if self._theta is None:
                current = initial.copy()
            else:
                current = np.concatenate([self._theta["shared"]] + [
                    list(self._theta.get(lv, (0.0, 0.0))) for lv in levels])
            gb = theta_bounds(d)
            bounds = gb[:d] + [gb[d + 1]] + [gb[d], (None, None)] * len(levels)
            theta = _minimize(_independent_objective, current, initial, bounds, self.restarts, self._rng,
                              self.max_iterations, (prepared,))
            self._theta = {"shared": theta[:d + 1]}
            for j, lv in enumerate(levels):
                self._theta[lv] = (float(theta[d + 1 + 2 * j]), float(theta[d + 2 + 2 * j]))
        shared = self._theta["shared"]
        self._gps = {}
        for lv, (X, _) in zip(levels, prepared):
            log_c, mu = self._theta[lv]
            hp = GPHyperparameters(np.exp(shared[:d]), math.exp(log_c), math.exp(shared[d]), mu)
            gp = GaussianProcess(restarts=0, rng=self._rng, hyperparameters=hp)
            gp.fit(X, np.asarray(data[lv][1], dtype=float), refit_hyperparameters=False,
                   normalization=self.normalization)
            self._gps[lv] = gp

    def add(self, fidelity: Any, X_new: np.ndarray, y_new: np.ndarray) -> bool:
        """Append observations at ``fidelity``; False (nothing done) for a level without a GP yet."""
        gp = self._gps.get(fidelity)
        if gp is None:
            return False
        gp.add(X_new, y_new)
        return True

    def posterior(self, fidelity: Any, Xc: np.ndarray, *, pending: np.ndarray | None = None):
        return self._gps[fidelity].posterior(Xc, pending=pending)


# ----------------------------------------------------------------------------- data selection
def subsample_rows(trial_ids: Sequence[int], levels: Sequence[Any], max_size: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``max_size`` observations (``trial_ids[i]`` at ``levels[i]``), chosen as
    Syne Tune's ``cap_size_tuning_job_state``: from the highest level down, all observations of the
    trials that reached it; where they do not fit, their lowest-level observations are subsampled
    (seeded) first.

    Example:
        >>> ids = [0, 0, 0, 1, 1, 2, 3, 4]; lv = [1, 3, 9, 1, 3, 1, 1, 1]
        >>> sorted(subsample_rows(ids, lv, 6, np.random.default_rng(0)).tolist())[:5]
        [0, 1, 2, 3, 4]
    """
    n = len(trial_ids)
    if n <= max_size:
        return np.arange(n)
    ids = np.asarray(trial_ids)
    lv = np.asarray(levels, dtype=float)
    remaining = np.ones(n, dtype=bool)
    out: list[np.ndarray] = []
    size = 0
    distinct = np.unique(lv)
    for level in distinct[::-1]:
        trials = np.unique(ids[remaining & (lv == level)])
        block = remaining & np.isin(ids, trials)
        remaining &= ~block
        gap = max_size - size
        rows = np.flatnonzero(block)
        if len(rows) > gap:
            for low in distinct[distinct <= level]:
                if low < level:
                    sample = rows[lv[rows] == low]
                    rest = rows[lv[rows] > low]
                else:
                    sample, rest = rows, rows[:0]
                k = gap - len(rest)
                if k > 0:
                    rows = np.concatenate([rest, rng.choice(sample, size=k, replace=False)])
                    break
                rows = rest
        out.append(rows)
        size += len(rows)
        if size >= max_size:
            break
    return np.sort(np.concatenate(out)) if out else np.arange(0)


def ranking_loss(samples: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per sample (column of ``samples``, rows = configurations): the fraction of pairs ordered
    differently than ``targets`` (Hyper-Tune's ranking loss).

    Example:
        >>> ranking_loss(np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]), np.array([0.0, 1.0, 2.0])).tolist()
        [0.0, 1.0]
    """
    n = len(targets)
    if n < 2:
        return np.zeros(samples.shape[1])
    j, k = np.triu_indices(n, 1)
    t = targets[j] < targets[k]
    f = samples[j] < samples[k]
    return np.logical_xor(f, t[:, None]).mean(axis=0)


# ----------------------------------------------------------------------------- the searcher
#: random restarts of the hyperparameter fit while it has at most this many observations; beyond,
#: the previous optimum (warm start) is refined only
_RESTARTS_UP_TO = 100


def _by_level(X: np.ndarray, y: np.ndarray, fids: Sequence[Any]) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for f in dict.fromkeys(fids):
        mask = np.array([g == f for g in fids])
        out[f] = (X[mask], y[mask])
    return out

@register_searcher("gp_multifidelity", "mobster")
class MultiFidelityGPSearcher(AcquisitionSearcher):
    """MOBSTER's searcher: a multi-fidelity GP (``model`` ``"joint"`` or ``"independent"``) and
    expected improvement at the acquisition level (module docstring).

    Defaults follow Syne Tune 0.13's ``GPMultiFidelitySearcher`` (``model="gp_multitask"`` =
    ``"joint"``, ``num_init_random=6``, ``num_init_candidates=250``, ``resource_acq="bohb"`` with
    threshold 3, ``opt_nstarts=2`` = ``fit_restarts=1``); ``max_size_data=250`` (Syne Tune: 500),
    ``max_size_fit``, the refit schedule and the local search are hposim's.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> s = MultiFidelityGPSearcher(model="joint")
        >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
        ...        rng=np.random.default_rng(0), fidelity_values=[1, 3, 9])
        >>> s.model
        'joint'
    """

    paper = _MOBSTER_PAPER
    #: the default of ``model``
    default_model = "joint"

    def __init__(self, *, model: str | None = None, num_init_random: int = 6, num_init_candidates: int = 250,
                 local_search_starts: int = 5, local_search_steps: int = 10, local_search_width: float = 0.1,
                 fit_restarts: int = 1, refit_every_below: int = 30, refit_growth: float = 0.1,
                 max_size_data: int = 250, max_size_fit: int = 150, resource_acq_threshold: int = 3,
                 allow_duplicates: bool = False):
        super().__init__(allow_duplicates=allow_duplicates)
        self.model = check_model(self.default_model if model is None else model)
        self.set_search(num_init_random=num_init_random, num_init_candidates=num_init_candidates,
                        local_search_starts=local_search_starts, local_search_steps=local_search_steps,
                        local_search_width=local_search_width, fit_restarts=fit_restarts,
                        refit_every_below=refit_every_below, refit_growth=refit_growth)
        self.max_size_data = check_int("max_size_data", max_size_data, low=2)
        self.max_size_fit = check_int("max_size_fit", max_size_fit, low=2)
        self.resource_acq_threshold = check_int("resource_acq_threshold", resource_acq_threshold, low=1)
        self.rung_levels: list | None = None

    def setup(self) -> None:
        if self.encoder.dim == 0:
            raise MethodError(
                f"a Gaussian-process searcher needs at least one hyperparameter that is not a constant; "
                f"the space {dict(self.config_space)} has none (use GridSearch or RandomSearch)")
        if self.fidelity_values is None or not all(isinstance(f, (int, float)) and not isinstance(f, bool)
                                                   and f > 0 for f in self.fidelity_values):
            raise MethodError(f"the multi-fidelity GP searcher needs positive numeric fidelities, got "
                              f"{self.fidelity_values!r}")
        self._r_max = float(self.fidelity_values[-1])
        self._joint: JointGP | None = None
        self._independent: IndependentGPs | None = None
        self._rows: list[tuple[int, Any]] = []     # (trial id, fidelity) of the model's data, in order
        self._left_out: set[tuple[int, Any]] = set()   # observations the last refit's size cap left out
        self._fitted_version = -1
        self._n_at_refit = 0
        super().setup()                            # the local search's masks
        self._paused: set[int] = set()

    def paused(self, trial_id: int) -> None:
        """The scheduler paused ``trial_id`` (promotion): not pending until ``resumed``."""
        self._paused.add(trial_id)

    def resumed(self, trial_id: int) -> None:
        """The scheduler resumed ``trial_id``: pending again (at its next level)."""
        self._paused.discard(trial_id)

    def set_rung_levels(self, levels: Sequence[Any]) -> None:
        """The scheduler's rung levels (the largest fidelity last); Hyper-Tune's weights run over them."""
        self.rung_levels = list(levels)

    # ------------------------------------------------------------------ data and model
    def acquisition_level(self) -> Any:
        """Syne Tune's ``resource_acq="bohb"``: the largest level with >= ``resource_acq_threshold``
        observations, else the smallest observed level (None without observations)."""
        scores = self.history.scores
        if not scores:
            return None
        level = self.history.model_fidelity(self.resource_acq_threshold)
        return level if level is not None else next(iter(scores))

    def _all_rows(self) -> list[tuple[int, Any]]:
        return [(t, f) for f, at in self.history.scores.items() for t in at]

    def _update_model(self) -> bool:
        """Bring the model up to date with the history; False when there is no data."""
        if self._fitted_version == self.history.version:
            return True
        rows = self._all_rows()
        if not rows:
            return False
        known, left_out = set(self._rows), self._left_out   # left out stays out until the next refit
        same = len(self._rows) <= len(rows) and all(
            self.history.scores.get(f, {}).get(t) is not None for t, f in self._rows)
        new = [row for row in rows if row not in known and row not in left_out]
        n_total = len(rows)
        refit = (not same or (self._joint is None and self._independent is None)
                 or n_total < self.refit_every_below or n_total >= (1 + self.refit_growth) * self._n_at_refit)
        if not refit and self.model == "independent":
            refit = any(f not in self._independent.levels for _, f in new)
        if refit:
            self._fit(rows)
            self._n_at_refit = n_total
        elif new:
            self._extend(new)
        self._fitted_version = self.history.version
        self._after_update(refit)
        return True

    def _xy(self, rows: Sequence[tuple[int, Any]]):
        scores = self.history.scores
        X = self.history.rows([t for t, _ in rows])
        y = np.array([scores[f][t] for t, f in rows], dtype=float)
        return X, y

    def _fit(self, rows: list[tuple[int, Any]]) -> None:
        keep = subsample_rows([t for t, _ in rows], [f for _, f in rows], self.max_size_data, self.rng)
        kept = [rows[i] for i in keep.tolist()]
        self._left_out = set(rows).difference(kept)
        rows = kept
        self._rows = rows
        X, y = self._xy(rows)
        fit_rows = np.arange(len(rows))
        if len(rows) > self.max_size_fit:       # hyperparameters from a subsample (same rule)
            fit_rows = subsample_rows([t for t, _ in rows], [f for _, f in rows], self.max_size_fit, self.rng)
        restarts = self.fit_restarts if len(fit_rows) <= _RESTARTS_UP_TO else 0
        fids = [f for _, f in rows]
        if self.model == "joint":
            if self._joint is None:
                self._joint = JointGP(restarts=self.fit_restarts, rng=self.rng)
            self._joint.restarts = restarts
            r = np.array(fids, dtype=float) / self._r_max
            self._joint.fit(X[fit_rows], r[fit_rows], y[fit_rows])
            if len(fit_rows) < len(rows):
                self._joint.fit(X, r, y, refit_hyperparameters=False)
        else:
            if self._independent is None:
                self._independent = IndependentGPs(restarts=self.fit_restarts, rng=self.rng)
            self._independent.restarts = restarts
            self._independent.fit(_by_level(X[fit_rows], y[fit_rows], [fids[i] for i in fit_rows.tolist()]))
            if len(fit_rows) < len(rows):
                self._independent.fit(_by_level(X, y, fids), refit_hyperparameters=False)

    def _extend(self, new: list[tuple[int, Any]]) -> None:
        X, y = self._xy(new)
        if self.model == "joint":
            self._joint.add(X, np.array([f for _, f in new], dtype=float) / self._r_max, y)
        else:
            for f in dict.fromkeys(f for _, f in new):
                mask = np.array([g == f for _, g in new])
                self._independent.add(f, X[mask], y[mask])
        self._rows.extend(new)

    def _after_update(self, refit: bool) -> None:
        """Hook for subclasses after the model changed."""

    def posterior(self, fidelity: Any, X: np.ndarray, *, pending: np.ndarray | None = None):
        """Posterior mean and std of the score at ``fidelity`` (one of the observed levels for the
        independent model) at the feature rows ``X``."""
        if not self._update_model():
            raise MethodError("the multi-fidelity GP has no data yet")
        if self.model == "joint":
            return self._joint.posterior(X, float(fidelity) / self._r_max, pending=pending)
        return self._independent.posterior(fidelity, X, pending=pending)

    def predictor(self, fidelity: Any, pending: np.ndarray | None = None):
        """A function ``X -> (mean, std)`` of the score at ``fidelity`` given ``pending`` rows."""
        if not self._update_model():
            raise MethodError("the multi-fidelity GP has no data yet")
        if self.model == "joint":
            return self._joint.predictor(float(fidelity) / self._r_max, pending)
        return self._independent.level(fidelity).predictor(pending)

    def _acquisition_model(self, level: Any, pending: np.ndarray | None):
        """The ``X -> (mean, std)`` function that EI is computed on."""
        return self.predictor(level, pending)

    def _level_mean(self, level: Any):
        """``X -> mean`` of the score at ``level``, the mean of ``predictor(level)`` bit for bit."""
        if not self._update_model():
            raise MethodError("the multi-fidelity GP has no data yet")
        if self.model == "joint":
            rc = float(level) / self._r_max
            return lambda X: self._joint.posterior_mean(X, rc)
        return self._independent.level(level).posterior_mean

    def _acquisition_mean(self, level: Any):
        """``X -> mean`` of ``_acquisition_model(level, None)``, bit for bit, without variances."""
        return self._level_mean(level)

    # ------------------------------------------------------------------ suggestions
    def suggest(self, pending: Sequence[dict]) -> dict | None:
        handed = len(self.history.configs) + len(self.history.waiting)
        if handed < self.num_init_random or not self._update_model():
            return self.random_config()
        level = self.acquisition_level()
        if self._paused:        # paused trials (promotion) are not pending, as in Syne Tune
            paused = {id(self.history.running[t]) for t in self._paused if t in self.history.running}
            pending = [c for c in pending if id(c) not in paused]
        Xp = self.pending_rows(pending, level)
        observed = list(self.history.scores[level])
        known = self.history.rows(observed) if Xp is None else np.vstack([self.history.rows(observed), Xp])
        best = float(self._acquisition_mean(level)(known).min())      # the incumbent needs no variances
        predict = self._acquisition_model(level, Xp)

        def ei(X: np.ndarray) -> np.ndarray:
            mean, std = predict(X)
            return std * ei_factor((best - mean) / std)

        return self.maximize_acquisition(ei)


def check_model(model: Any) -> str:
    """``model`` as one of ``MODELS``, or an error naming the value and what is allowed."""
    return check_choice("model", model, MODELS)


@register_searcher("hypertune")
class HyperTuneSearcher(MultiFidelityGPSearcher):
    """Hyper-Tune's searcher: the multi-fidelity GP (default ``model="independent"``, as Syne Tune's
    ``HyperTuneSearcher``) with EI on the fidelity-weighted ensemble, and the bracket distribution
    for the scheduler (module docstring). ``num_samples`` (50): ranking-loss samples per level
    (Syne Tune's ``hypertune_distribution_num_samples``).

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> s = HyperTuneSearcher()
        >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
        ...        rng=np.random.default_rng(0), fidelity_values=[1, 3, 9])
        >>> s.model, s.ensemble_weights()
        ('independent', None)
    """

    paper = _HYPERTUNE_PAPER
    default_model = "independent"

    def __init__(self, *, model: str | None = None, num_samples: int = 50, num_init_random: int = 6,
                 num_init_candidates: int = 250, local_search_starts: int = 5, local_search_steps: int = 10,
                 local_search_width: float = 0.1, fit_restarts: int = 1, refit_every_below: int = 30,
                 refit_growth: float = 0.1, max_size_data: int = 250, max_size_fit: int = 150,
                 resource_acq_threshold: int = 3, allow_duplicates: bool = False):
        super().__init__(model=model, num_init_random=num_init_random, num_init_candidates=num_init_candidates,
                         local_search_starts=local_search_starts, local_search_steps=local_search_steps,
                         local_search_width=local_search_width, fit_restarts=fit_restarts,
                         refit_every_below=refit_every_below, refit_growth=refit_growth,
                         max_size_data=max_size_data, max_size_fit=max_size_fit,
                         resource_acq_threshold=resource_acq_threshold,
                         allow_duplicates=allow_duplicates)
        self.num_samples = check_int("num_samples", num_samples, low=1)

    def setup(self) -> None:
        super().setup()
        self._weights: dict[Any, float] | None = None
        self._theta: np.ndarray | None = None
        self._signature: tuple | None = None

    def _levels(self) -> list:
        if self.rung_levels is not None:
            return list(self.rung_levels)
        levels = list(self.history.scores)
        if self.max_fidelity not in levels:
            levels.append(self.max_fidelity)
        return levels

    def _supported(self) -> int:
        """Number of leading rung levels supported: the highest level with >= 6 observations."""
        levels = self._levels()
        k = len(levels)
        while k > 1 and self.history.count(levels[k - 1]) < _HT_MIN_POINTS:
            k -= 1
        return k

    def _after_update(self, refit: bool) -> None:
        k = self._supported()
        if k < 2:
            return
        levels = self._levels()[:k]
        top = levels[-1]
        signature = (k, self.history.count(top))
        if signature == self._signature:
            return
        self._signature = signature
        losses = self.ranking_losses(levels)
        best = losses.min(axis=0, keepdims=True)
        theta = (losses == best).sum(axis=1).astype(float)
        theta /= theta.sum()
        self._theta = theta
        self._weights = {lv: float(w) for lv, w in zip(levels, theta) if w > _HT_MIN_WEIGHT}

    def ranking_losses(self, levels: Sequence[Any]) -> np.ndarray:
        """``(len(levels), num_samples)`` sampled ranking losses against the data at ``levels[-1]``
        (the last row by cross-validation)."""
        top = levels[-1]
        ids = list(self.history.scores[top])
        X_top = self.history.rows(ids)
        y_top = np.fromiter(self.history.scores[top].values(), dtype=float, count=len(ids))
        out = np.zeros((len(levels), self.num_samples))
        for i, lv in enumerate(levels[:-1]):
            out[i] = ranking_loss(self._sample_level(lv, X_top), y_top)
        n = len(ids)
        folds = min(n // 2, 5)
        sizes = np.full(folds, n // folds)
        sizes[folds - (n - (n // folds) * folds):] += 1
        start = 0
        for size in sizes.tolist():
            test = np.arange(start, start + size)
            train = np.setdiff1d(np.arange(n), test)
            start += size
            gp = self._top_fold_gp(top, X_top[train], y_top[train])
            out[-1] += ranking_loss(_sample_gp(gp, X_top[test], self.num_samples, self.rng), y_top[test])
        out[-1] /= folds
        return out

    def _sample_level(self, level: Any, X: np.ndarray) -> np.ndarray:
        if self.model == "joint":
            return self._joint.sample_joint(X, float(level) / self._r_max, self.num_samples, self.rng)
        gp = self._independent.level(level) if level in self._independent.levels else None
        if gp is None:          # a level subsampled away: the prior of its nearest fitted level
            gp = self._independent.level(min(self._independent.levels, key=lambda f: abs(f - level)))
        return _sample_gp(gp, X, self.num_samples, self.rng)

    def _top_fold_gp(self, top: Any, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The GP at the top level, with the fitted hyperparameters, conditioned on ``(X, y)`` only."""
        if self.model == "joint":
            hp = self._joint.hyperparameters
            rc = float(top) / self._r_max
            kap = float(exp_decay_kappa(np.array([rc]), hp.alpha, hp.mean_lam)[0])
            const = float(exp_decay_kernel(np.array([rc]), np.array([rc]), hp.alpha, hp.mean_lam, hp.gamma)[0, 0])
            # the clamped kernel is k_x + const: a constant kernel term shifts no ranking between
            # configurations conditioned on the same data, so k_x (variance + const) stands for it
            base = GPHyperparameters(hp.base.lengthscales, hp.base.variance + const, hp.base.noise,
                                     hp.base.mean + hp.gamma * kap)
            normalization = self._joint.normalization
        else:
            fitted = self._independent.level(top) if top in self._independent.levels else None
            base = fitted.hyperparameters if fitted is not None else self._independent.hyperparameters(
                self._independent.levels[-1])
            normalization = self._independent.normalization
        gp = GaussianProcess(restarts=0, rng=self.rng, hyperparameters=base)
        gp.fit(X, y, refit_hyperparameters=False, normalization=normalization)
        return gp

    def ensemble_weights(self) -> dict[Any, float] | None:
        """Hyper-Tune's weights ``theta_r`` over the supported levels (None until two levels have
        >= 6 observations)."""
        self._update_model()
        return None if self._weights is None else dict(self._weights)

    def bracket_distribution(self, default: np.ndarray) -> np.ndarray:
        """Hyper-Tune's distribution over the scheduler's brackets: ``theta_k / r_k`` over the
        supported head (renormalized to the head's mass under ``default``), ``default`` before."""
        self._update_model()
        default = np.asarray(default, dtype=float)
        if self._theta is None:
            return default
        levels = self._levels()
        w = self._theta / np.array([float(r) for r in levels[:len(self._theta)]])
        w = w[:len(default)]
        total = w.sum()
        if total > 1e-14:
            w = w / total
        else:
            w = np.zeros_like(w)
            w[0] = 1.0
        if len(w) == len(default):
            return w
        out = default.copy()
        out[:len(w)] = w * default[:len(w)].sum()
        return out

    def _acquisition_model(self, level: Any, pending: np.ndarray | None):
        weights = self._weights
        if not weights:
            return super()._acquisition_model(level, pending)
        fitted = [lv for lv in weights if self.model == "joint" or lv in self._independent.levels]
        if not fitted:
            return super()._acquisition_model(level, pending)
        if self.model == "joint":       # one triangular product for all levels
            return self._joint.ensemble_predictor([float(lv) / self._r_max for lv in fitted],
                                                  [weights[lv] for lv in fitted], pending)
        parts = [(self.predictor(lv, pending), weights[lv]) for lv in fitted]

        def predict(X: np.ndarray):
            mean, var = 0.0, 0.0
            for part, w in parts:
                m, s = part(X)
                mean = mean + w * m
                var = var + (w * w) * s * s
            return mean, np.sqrt(np.maximum(var, MIN_POSTERIOR_VARIANCE))

        return predict

    def _acquisition_mean(self, level: Any):
        weights = self._weights
        if not weights:
            return super()._acquisition_mean(level)
        fitted = [lv for lv in weights if self.model == "joint" or lv in self._independent.levels]
        if not fitted:
            return super()._acquisition_mean(level)
        if self.model == "joint":
            return self._joint.ensemble_mean([float(lv) / self._r_max for lv in fitted],
                                             [weights[lv] for lv in fitted])
        parts = [(self._level_mean(lv), weights[lv]) for lv in fitted]

        def mean_of(X: np.ndarray) -> np.ndarray:
            mean = 0.0
            for part, w in parts:
                mean = mean + w * part(X)
            return mean

        return mean_of


def _sample_gp(gp: GaussianProcess, X: np.ndarray, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``(len(X), num_samples)`` joint posterior samples of a ``methods.gp.GaussianProcess``."""
    mean, cov = gp.posterior_covariance(X)
    return _sample_gaussian(mean, cov, num_samples, rng)
