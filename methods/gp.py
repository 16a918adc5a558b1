"""Gaussian-process surrogate for Bayesian optimization (numpy/scipy only).

The model follows the defaults of Syne Tune's GP searcher (``syne_tune/optimizer/schedulers/
searchers/bayesopt/gpautograd``): an ARD Matérn-5/2 kernel, a constant mean, Gaussian
observation noise, targets normalized to zero mean and unit standard deviation, and
hyperparameters fitted by L-BFGS-B on the negative log marginal likelihood plus the negative
log densities of the priors, from the current values and random restarts.

Hyperparameters live in normalized-target units and are optimized in an internal vector
``theta = [log lengthscales (d), log variance, log noise, mean]`` with these bounds and
priors (Syne Tune's constants and distributions; its priors are densities of the parameter
values, not of their logarithms, and we keep it that way):

=================  =================  ===================  =================================
parameter          initial value      bounds               prior
=================  =================  ===================  =================================
lengthscale        1                  [1e-2, 1e4]          uniform on the inverse (1e-4..100)
variance           1                  [1e-3, 1e3]          LogNormal(0, 1)
noise variance     1e-3               [1e-9, 1e6]          Gamma(mean 0.1, shape 0.1)
mean               0                  unbounded            Normal(0, 1)
=================  =================  ===================  =================================

The constant mean is a fitted hyperparameter (as in Syne Tune), not pinned to 0. Syne Tune's
defaults ``opt_nstarts=2`` and ``opt_maxiter=50`` become ``restarts=1`` (one random start
besides the warm start) and ``max_iterations=50``; random starts perturb the initial values by
N(0, 1) in ``theta`` and clip to the bounds, like Syne Tune's restarts.

Target normalization: ``fit`` sets the mean and standard deviation of ``y`` (a spread below
1e-9, e.g. constant ``y`` or one observation, uses 1 instead, where Syne Tune floors at 1e-9:
with frozen constants a later ``add`` of a different value would otherwise become a 1e9-sized
normalized target). The constants stay FROZEN through ``add`` until the next ``fit``, so an
incremental ``add`` gives exactly the posterior of a fresh fit with the same constants and
hyperparameters (a fresh ``fit`` re-normalizes and may differ slightly).

The posterior is kept as the inverse ``Linv`` of the lower Cholesky factor of
``K + noise * I``; ``add`` and pending points extend it by a block update in O(n^2 m), and a
posterior for ``m`` candidates costs the (m, n) kernel block and one triangular (n, n) x (n, m)
product (BLAS ``trmm``). Pending points are conditioned on as observations with the fitted
noise. The ``rng`` is used only for the random restarts.

Example:
    >>> X = np.linspace(0, 1, 8).reshape(-1, 1)
    >>> gp = GaussianProcess(rng=np.random.default_rng(0))
    >>> gp.fit(X, np.sin(6 * X[:, 0]))
    >>> mean, std = gp.posterior(np.array([[0.5]]))
    >>> round(float(mean[0]), 2), bool(std[0] < 0.1)
    (0.14, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.optimize
from scipy.linalg import blas, lapack, solve_triangular
from scipy.special import erfc, erfcx

from methods.base import MethodError

__all__ = ["Matern52", "GPHyperparameters", "GaussianProcess", "matern52_scaled", "row_sq", "theta_bounds",
           "cholesky_factor", "inverse_lower", "extend_inverse_factor", "neg_log_posterior", "ei_factor", "LENGTHSCALE_BOUNDS",
           "VARIANCE_BOUNDS", "NOISE_BOUNDS", "INITIAL_NOISE", "NOISE_PRIOR_SHAPE", "NOISE_PRIOR_RATE",
           "MIN_POSTERIOR_VARIANCE", "LBFGS_TOL", "STD_FLOOR", "SQRT5"]

# Syne Tune's gpautograd constants (in normalized-target units).
LENGTHSCALE_BOUNDS = (1e-2, 1e4)           # inverse bandwidths in [1e-4, 100]
VARIANCE_BOUNDS = (1e-3, 1e3)              # covariance scale
NOISE_BOUNDS = (1e-9, 1e6)                 # noise variance
INITIAL_NOISE = 1e-3
NOISE_PRIOR_SHAPE = 0.1                    # Gamma(mean=0.1, alpha=0.1): rate = alpha / mean = 1
NOISE_PRIOR_RATE = NOISE_PRIOR_SHAPE / 0.1
MIN_POSTERIOR_VARIANCE = 1e-12
_JITTER_FACTOR = 1e-9                       # first jitter, relative to the kernel's scale
LBFGS_TOL = 1e-6
STD_FLOOR = 1e-9
SQRT5 = math.sqrt(5.0)
_BLOCK_ENTRIES = 32768                      # kernel entries per cache-sized block
_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _distance(A: np.ndarray, B: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``A`` and ``B`` (``sq_*``: squared row norms),
    by ``|a|^2 - 2 a.b + |b|^2`` clipped at 0."""
    r = A @ (-2.0 * B).T
    r += sq_a[:, None]
    r += sq_b[None, :]
    np.maximum(r, 0.0, out=r)
    return np.sqrt(r, out=r)


def matern52_scaled(A: np.ndarray, B: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray,
                     variance: float) -> np.ndarray:
    """The Matérn-5/2 kernel matrix ``v (1 + r + r^2/3) exp(-r)`` of inputs already scaled by
    ``sqrt(5) / lengthscales`` (so that ``r`` is their plain distance). The element-wise work
    runs over blocks of rows small enough to stay in cache (about 1.5x faster for 1e6 entries)."""
    out = np.empty((len(A), len(B)))
    minus_2b = -2.0 * B
    rows = max(1, _BLOCK_ENTRIES // max(len(B), 1))
    r = np.empty((min(rows, len(A)), len(B)))
    e = np.empty_like(r)
    for start in range(0, len(A), rows):
        k = out[start:start + rows]
        rb, eb = r[:len(k)], e[:len(k)]
        np.matmul(A[start:start + rows], minus_2b.T, out=rb)
        rb += sq_a[start:start + rows, None]
        rb += sq_b[None, :]
        np.maximum(rb, 0.0, out=rb)
        np.sqrt(rb, out=rb)
        np.negative(rb, out=eb)
        np.exp(eb, out=eb)
        eb *= variance / 3.0
        np.add(rb, 3.0, out=k)
        k *= rb
        k += 3.0
        k *= eb
    return out


def row_sq(A: np.ndarray) -> np.ndarray:
    """Squared Euclidean norms of the rows of ``A``."""
    return np.einsum("ij,ij->i", A, A)


class Matern52:
    """ARD Matérn-5/2 kernel ``k(x, x') = v (1 + sqrt(5) s + 5 s^2 / 3) exp(-sqrt(5) s)`` with
    ``s = ||(x - x') / lengthscales||`` (squared distances by the ``|a|^2 - 2 a.b + |b|^2``
    form, clipped at 0).

    Example:
        >>> k = Matern52(lengthscales=np.array([0.5, 2.0]), variance=2.0)
        >>> K = k(np.zeros((1, 2)), np.array([[0.0, 0.0], [0.5, 0.0]]))
        >>> K.shape, round(float(K[0, 0]), 6), round(float(K[0, 1]), 4)
        ((1, 2), 2.0, 1.048)
    """

    def __init__(self, lengthscales: np.ndarray, variance: float):
        self.lengthscales = np.asarray(lengthscales, dtype=float)
        self.variance = float(variance)

    def __call__(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        A = np.asarray(X1, dtype=float) * (SQRT5 / self.lengthscales)
        B = np.asarray(X2, dtype=float) * (SQRT5 / self.lengthscales)
        return matern52_scaled(A, B, row_sq(A), row_sq(B), self.variance)


@dataclass(eq=False)
class GPHyperparameters:
    """GP hyperparameters in normalized-target units (compare fields, not objects).

    Example:
        >>> hp = GPHyperparameters.default(3)
        >>> hp.lengthscales.tolist(), hp.variance, hp.noise, hp.mean
        ([1.0, 1.0, 1.0], 1.0, 0.001, 0.0)
    """

    lengthscales: np.ndarray
    variance: float
    noise: float
    mean: float

    @classmethod
    def default(cls, dim: int) -> GPHyperparameters:
        """Syne Tune's initial values for ``dim`` input features."""
        return cls(np.ones(dim), 1.0, INITIAL_NOISE, 0.0)

    def to_theta(self) -> np.ndarray:
        """The internal vector ``[log lengthscales, log variance, log noise, mean]``."""
        return np.concatenate([np.log(self.lengthscales),
                               [math.log(self.variance), math.log(self.noise), self.mean]])

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> GPHyperparameters:
        """The inverse of ``to_theta``."""
        d = len(theta) - 3
        return cls(np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1]),
                   float(theta[d + 2]))


def theta_bounds(dim: int) -> list[tuple[float | None, float | None]]:
    """L-BFGS-B bounds of ``theta = [log lengthscales (dim), log variance, log noise, mean]``."""
    logs = lambda b: (math.log(b[0]), math.log(b[1]))  # noqa: E731
    return [logs(LENGTHSCALE_BOUNDS)] * dim + [logs(VARIANCE_BOUNDS), logs(NOISE_BOUNDS),
                                               (None, None)]


def cholesky_factor(K: np.ndarray, scale: float) -> np.ndarray:
    """Lower Cholesky factor of the symmetric ``K``; if it fails, add diagonal jitter
    ``1e-9 * scale`` growing tenfold (Syne Tune's AddJitterOp does the same)."""
    L, info = lapack.dpotrf(K.T, lower=1, clean=1)      # K.T: the same, Fortran-ordered
    jitter = _JITTER_FACTOR * scale
    while info != 0:
        if not jitter <= scale:
            raise MethodError("the GP kernel matrix is not positive definite (non-finite inputs?)")
        L, info = lapack.dpotrf((K + jitter * np.eye(len(K))).T, lower=1, clean=1)
        jitter *= 10.0
    return L


def inverse_lower(L: np.ndarray) -> np.ndarray:
    """Inverse of a lower-triangular matrix (LAPACK ``dtrtri``)."""
    Linv, info = lapack.dtrtri(L, lower=1)
    if info != 0:
        raise MethodError("singular Cholesky factor in the GP")
    return Linv


def extend_inverse_factor(Linv: np.ndarray, p: np.ndarray, L21: np.ndarray, L22: np.ndarray,
                          residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inverse Cholesky factor and ``p = L^-1 (z - mean)`` of a GP's data after ``m`` rows
    join ``n``, in O(n^2 m): ``Linv`` and ``p`` of the ``n`` rows, the new rows' blocks of the
    factor (``L21``, ``m x n``, and the lower-triangular ``L22``) and their ``z - mean``.

    Example:
        >>> K = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> L = np.linalg.cholesky(K)
        >>> Linv, p = extend_inverse_factor(np.linalg.inv(L[:1, :1]), np.array([1.0]), L[1:, :1], L[1:, 1:],
        ...                                 np.array([0.5]))
        >>> np.allclose(Linv, np.linalg.inv(L)), np.allclose(p, np.linalg.inv(L) @ [np.sqrt(2.0), 0.5])
        (True, True)
    """
    L22inv = inverse_lower(L22)
    n, m = len(Linv), len(L22)
    out = np.zeros((n + m, n + m))
    out[:n, :n] = Linv
    out[n:, :n] = -L22inv @ (L21 @ Linv)
    out[n:, n:] = L22inv
    return out, np.concatenate([p, L22inv @ (residual - L21 @ p)])


def neg_log_posterior(theta: np.ndarray, X: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus negative log priors (up to constants) of the
    normalized targets ``z``, and its analytic gradient with respect to ``theta``."""
    n, d = X.shape
    v, noise, m = math.exp(theta[d]), math.exp(theta[d + 1]), float(theta[d + 2])
    Xs = X * (SQRT5 / np.exp(theta[:d]))
    sq = row_sq(Xs)
    r = _distance(Xs, Xs, sq, sq)
    e = np.negative(r)
    np.exp(e, out=e)
    K = r + 3.0
    K *= r
    K += 3.0
    K *= e
    K *= v / 3.0
    K.flat[::n + 1] += noise
    L = cholesky_factor(K, v + noise)
    resid = z - m
    alpha, info = lapack.dpotrs(L, resid, lower=1)    # K^-1 resid (raw LAPACK: this runs
    if info != 0:                                      # thousands of times per experiment)
        raise MethodError("singular Cholesky factor in the GP")
    value = 0.5 * float(resid @ alpha) + float(np.log(np.diag(L)).sum()) + 0.5 * n * _LOG_2PI

    # dNLL/dt = 0.5 tr(W dK/dt) with W = K^-1 - alpha alpha^T. For the variance,
    # tr(W K_f) = n - noise tr(K^-1) - alpha.resid + noise alpha.alpha (as K_f = K - noise I).
    Kinv, info = lapack.dpotri(L, lower=1)      # lower triangle of K^-1, zeros above
    if info != 0:
        raise MethodError("singular Cholesky factor in the GP")
    tr_kinv = float(np.trace(Kinv))
    aa = float(alpha @ alpha)
    grad = np.empty(d + 3)
    grad[d] = 0.5 * (n - noise * tr_kinv - float(alpha @ resid) + noise * aa)   # log variance
    grad[d + 1] = 0.5 * noise * (tr_kinv - aa)                                   # log noise
    grad[d + 2] = -float(alpha.sum())                                             # mean
    # Lengthscales. With Xs = sqrt(5) X / l: dK/dlog l_k = M * (Xs_ik - Xs_jk)^2 for
    # M = (v/3) (1 + r) exp(-r), and for A = W * M:
    #   0.5 sum_ij A_ij (Xs_ik - Xs_jk)^2 = rowsum(A) . Xs_k^2 - Xs_k^T A Xs_k.
    # A = B + B^T - diag(B) - (alpha alpha^T) * M with B = tril(K^-1) * M, so that neither the
    # full K^-1 nor the outer product is formed.
    M = r
    M += 1.0
    M *= e
    M *= v / 3.0
    B = Kinv
    B *= M
    diag_b = np.diag(B).copy()
    aXs = alpha[:, None] * Xs
    rowsum = B.sum(axis=1) + B.sum(axis=0) - diag_b - alpha * (M @ alpha)
    quad = (2.0 * np.einsum("ij,ij->j", Xs, B @ Xs) - diag_b @ (Xs * Xs)
            - np.einsum("ij,ij->j", aXs, M @ aXs))
    grad[:d] = rowsum @ (Xs * Xs) - quad

    # Priors: LogNormal(0, 1) on the variance, Gamma(0.1, 0.1) on the noise, Normal(0, 1) on
    # the mean, uniform on the inverse lengthscales (a constant).
    log_v, log_noise = theta[d], theta[d + 1]
    value += log_v + 0.5 * log_v * log_v
    value += (1.0 - NOISE_PRIOR_SHAPE) * log_noise + NOISE_PRIOR_RATE * noise
    value += 0.5 * m * m
    grad[d] += 1.0 + log_v
    grad[d + 1] += (1.0 - NOISE_PRIOR_SHAPE) + NOISE_PRIOR_RATE * noise
    grad[d + 2] += m
    return value, grad


def ei_factor(u: np.ndarray) -> np.ndarray:
    """``phi(u) + u Phi(u)`` (expected improvement per unit std), without cancellation for
    ``u << 0`` (through the scaled complementary error function) and never negative."""
    out = np.empty_like(u)
    pos = u >= 0.0
    up, un = u[pos], u[~pos]
    out[pos] = _INV_SQRT_2PI * np.exp(-0.5 * up * up) + up * (0.5 * erfc(-up / math.sqrt(2.0)))
    out[~pos] = np.exp(-0.5 * un * un) * (_INV_SQRT_2PI + un * (0.5 * erfcx(-un / math.sqrt(2.0))))
    return np.maximum(out, 0.0, out=out)


class GaussianProcess:
    """GP regression with fitted hyperparameters, incremental updates and kriging-believer
    pending points; see the module docstring for the model, priors and normalization.

    ``hyperparameters`` (constructor or setter) gives initial values; to use them FIXED, call
    ``fit(X, y, refit_hyperparameters=False)``. Means and stds are in original target units.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(size=(30, 2))
        >>> y = (X[:, 0] - 0.3) ** 2 + 0.1 * X[:, 1]
        >>> gp = GaussianProcess(rng=np.random.default_rng(1))
        >>> gp.fit(X, y)
        >>> Xc = rng.uniform(size=(4, 2))
        >>> mean, std = gp.posterior(Xc)
        >>> bool(np.max(np.abs(mean - ((Xc[:, 0] - 0.3) ** 2 + 0.1 * Xc[:, 1]))) < 0.02)
        True
        >>> gp.add(Xc[:1], mean[:1])
        >>> ei = gp.expected_improvement(Xc, best=float(y.min()), pending=Xc[1:2])
        >>> ei.shape, bool(np.all(ei >= 0))
        ((4,), True)
    """

    def __init__(self, *, restarts: int = 1, rng: np.random.Generator, max_iterations: int = 50,
                 hyperparameters: GPHyperparameters | None = None):
        if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 0:
            raise MethodError(f"restarts must be an int >= 0, got {restarts!r}")
        if (isinstance(max_iterations, bool) or not isinstance(max_iterations, int)
                or max_iterations < 1):
            raise MethodError(f"max_iterations must be an int >= 1, got {max_iterations!r}")
        if not isinstance(rng, np.random.Generator):
            raise MethodError(f"rng must be a numpy Generator, got {rng!r}")
        self.restarts = restarts
        self.max_iterations = max_iterations
        self._rng = rng
        self._hp = None if hyperparameters is None else self._checked(hyperparameters)
        self._X: np.ndarray | None = None

    # ----------------------------------------------------------------- hyperparameters
    @staticmethod
    def _checked(hp: GPHyperparameters) -> GPHyperparameters:
        ls = np.array(hp.lengthscales, dtype=float).reshape(-1)
        values = [hp.variance, hp.noise, hp.mean]
        if len(ls) == 0 or not np.all(np.isfinite(ls)) or not np.all(np.isfinite(values)) \
                or np.any(ls <= 0) or hp.variance <= 0 or hp.noise <= 0:
            raise MethodError(f"GP hyperparameters need positive lengthscales, variance and noise "
                              f"and a finite mean, got {hp!r}")
        return GPHyperparameters(ls, float(hp.variance), float(hp.noise), float(hp.mean))

    @property
    def hyperparameters(self) -> GPHyperparameters:
        """The current hyperparameters (a copy; normalized-target units)."""
        if self._hp is None:
            raise MethodError("the GP has no hyperparameters yet (call fit or set them)")
        hp = self._hp
        return GPHyperparameters(hp.lengthscales.copy(), hp.variance, hp.noise, hp.mean)

    @hyperparameters.setter
    def hyperparameters(self, hp: GPHyperparameters) -> None:
        hp = self._checked(hp)
        if self._X is not None and len(hp.lengthscales) != self._X.shape[1]:
            raise MethodError(f"{len(hp.lengthscales)} lengthscales for {self._X.shape[1]} features")
        self._hp = hp
        if self._X is not None:
            self._factorize()

    # ----------------------------------------------------------------- data
    @staticmethod
    def _checked_xy(X: np.ndarray, y: np.ndarray, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
        X = np.array(X, dtype=float)
        y = np.array(y, dtype=float).reshape(-1)
        if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
            raise MethodError(f"need X of shape (n, d) and y of shape (n,), n >= 1; got "
                              f"{X.shape} and {y.shape}")
        if dim is not None and X.shape[1] != dim:
            raise MethodError(f"X has {X.shape[1]} features, the GP was fitted on {dim}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise MethodError("GP inputs and targets must be finite")
        return X, y

    def _checked_x(self, X: np.ndarray) -> np.ndarray:
        if self._X is None:
            raise MethodError("the GP has no data (call fit first)")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self._X.shape[1]:
            raise MethodError(f"need rows of {self._X.shape[1]} features, got shape {X.shape}")
        return X

    def fit(self, X: np.ndarray, y: np.ndarray, *, refit_hyperparameters: bool = True,
            normalization: tuple[float, float] | None = None) -> None:
        """Replace the data by ``(X, y)``, re-normalize ``y`` and (by default) refit the
        hyperparameters: L-BFGS-B from the current ones (Syne Tune's initial values at the
        first fit) and from ``restarts`` random perturbations of the initial values; the best
        objective wins. ``refit_hyperparameters=False`` keeps them and only refactors.
        ``normalization=(mean, scale)`` uses these constants instead of ``y``'s own (for models
        whose hyperparameters were fitted on targets normalized together with other data, e.g.
        one GP per fidelity level of ``methods.mf_gp``)."""
        X, y = self._checked_xy(X, y, None)
        if self._hp is not None and len(self._hp.lengthscales) != X.shape[1]:
            if not refit_hyperparameters:
                raise MethodError(f"{len(self._hp.lengthscales)} lengthscales for "
                                  f"{X.shape[1]} features")
            self._hp = None
        if self._hp is None and not refit_hyperparameters:
            raise MethodError("refit_hyperparameters=False needs hyperparameters (set them first)")
        if normalization is None:
            self._y_mean = float(y.mean())
            std = float(y.std())
            self._y_scale = std if std > STD_FLOOR else 1.0
        else:
            self._y_mean, self._y_scale = float(normalization[0]), float(normalization[1])
            if not (math.isfinite(self._y_mean) and math.isfinite(self._y_scale) and self._y_scale > 0):
                raise MethodError(f"normalization must be a finite (mean, scale > 0), got {normalization!r}")
        self._X = X
        self._z = (y - self._y_mean) / self._y_scale
        if refit_hyperparameters:
            self._hp = self._optimize(X, self._z)
        self._factorize()

    def _optimize(self, X: np.ndarray, z: np.ndarray) -> GPHyperparameters:
        dim = X.shape[1]
        bounds = theta_bounds(dim)
        lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
        upper = np.array([np.inf if b[1] is None else b[1] for b in bounds])
        initial = GPHyperparameters.default(dim).to_theta()
        current = initial if self._hp is None else np.clip(self._hp.to_theta(), lower, upper)
        starts = [current] + [np.clip(initial + self._rng.standard_normal(dim + 3), lower, upper)
                              for _ in range(self.restarts)]
        best_theta, best_value = current, math.inf
        for theta0 in starts:
            res = scipy.optimize.minimize(neg_log_posterior, theta0, args=(X, z), jac=True,
                                          method="L-BFGS-B", bounds=bounds, tol=LBFGS_TOL,
                                          options={"maxiter": self.max_iterations})
            if np.isfinite(res.fun) and res.fun < best_value:
                best_theta, best_value = res.x, float(res.fun)
        return GPHyperparameters.from_theta(best_theta)

    def _factorize(self) -> None:
        hp = self._hp
        self._Xs = self._X * (SQRT5 / hp.lengthscales)
        self._sq = row_sq(self._Xs)
        K = matern52_scaled(self._Xs, self._Xs, self._sq, self._sq, hp.variance)
        K.flat[::len(K) + 1] += hp.noise
        self._Linv = np.ascontiguousarray(inverse_lower(cholesky_factor(K, hp.variance + hp.noise)))
        self._p = self._Linv @ (self._z - hp.mean)
        self._alpha = self._Linv.T @ self._p

    def _extension(self, Xs_new: np.ndarray, sq_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block ``[L21, L22]`` that extends the Cholesky factor by the (scaled) rows."""
        hp = self._hp
        L21 = matern52_scaled(Xs_new, self._Xs, sq_new, self._sq, hp.variance) @ self._Linv.T
        S = matern52_scaled(Xs_new, Xs_new, sq_new, sq_new, hp.variance)
        S -= L21 @ L21.T
        S.flat[::len(S) + 1] += hp.noise
        return L21, cholesky_factor(S, hp.variance + hp.noise)

    def add(self, X_new: np.ndarray, y_new: np.ndarray) -> None:
        """Append observations without refitting hyperparameters or re-normalizing (the
        normalization constants of the last ``fit`` are kept), extending the inverse Cholesky
        factor by a block update in O(n^2 m)."""
        if self._X is None:
            raise MethodError("the GP has no data (call fit first)")
        X_new, y_new = self._checked_xy(X_new, y_new, self._X.shape[1])
        hp = self._hp
        Xs_new = X_new * (SQRT5 / hp.lengthscales)
        sq_new = row_sq(Xs_new)
        L21, L22 = self._extension(Xs_new, sq_new)
        z_new = (y_new - self._y_mean) / self._y_scale
        self._Linv, self._p = extend_inverse_factor(self._Linv, self._p, L21, L22, z_new - hp.mean)
        self._X = np.vstack([self._X, X_new])
        self._z = np.concatenate([self._z, z_new])
        self._Xs = np.vstack([self._Xs, Xs_new])
        self._sq = np.concatenate([self._sq, sq_new])
        self._alpha = self._Linv.T @ self._p

    # ----------------------------------------------------------------- predictions
    def _normalized_predictor(self, pending: np.ndarray | None
                              ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """A function ``Xc -> (mean, variance)`` in normalized units, with the ``pending`` rows'
        block of the factor computed once. Kriging believer: pending rows join as observations
        whose targets are the current posterior means; the mean is then unchanged everywhere and
        only the variance drops."""
        hp = self._hp
        block = None
        if pending is not None and len(pending):
            Xps = self._checked_x(pending) * (SQRT5 / hp.lengthscales)
            sqp = row_sq(Xps)
            block = (Xps, sqp, *self._extension(Xps, sqp))

        def predict(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            Xcs = self._checked_x(Xc) * (SQRT5 / hp.lengthscales)
            sqc = row_sq(Xcs)
            Kc = matern52_scaled(Xcs, self._Xs, sqc, self._sq, hp.variance)
            mean = Kc @ self._alpha
            mean += hp.mean
            # V^T = Linv Kc^T, by a triangular product written over Kc (C-ordered, so Kc^T is
            # Fortran-ordered and Linv^T is the Fortran-ordered upper triangle).
            Vt = blas.dtrmm(1.0, self._Linv.T, Kc.T, lower=0, trans_a=1, overwrite_b=1)
            var = hp.variance - np.einsum("ij,ij->j", Vt, Vt)
            if block is not None:
                Xps, sqp, L21, L22 = block
                U = matern52_scaled(Xps, Xcs, sqp, sqc, hp.variance)
                U -= L21 @ Vt
                W = solve_triangular(L22, U, lower=True, check_finite=False)
                var -= np.einsum("ij,ij->j", W, W)
            return mean, np.maximum(var, MIN_POSTERIOR_VARIANCE, out=var)

        return predict

    def _posterior_normalized(self, Xc: np.ndarray, pending: np.ndarray | None
                              ) -> tuple[np.ndarray, np.ndarray]:
        return self._normalized_predictor(pending)(Xc)

    def posterior_mean(self, Xc: np.ndarray) -> np.ndarray:
        """The posterior mean of ``posterior(Xc)`` alone (bit for bit), without the variance's
        triangular product (e.g. for the incumbent of expected improvement)."""
        hp = self._hp
        Xcs = self._checked_x(Xc) * (SQRT5 / hp.lengthscales)
        mean = matern52_scaled(Xcs, self._Xs, row_sq(Xcs), self._sq, hp.variance) @ self._alpha
        mean += hp.mean
        return self._y_mean + self._y_scale * mean

    def predictor(self, pending: np.ndarray | None = None):
        """A function ``Xc -> (mean, std)``, the same as ``posterior(Xc, pending=pending)`` with the
        pending block factorized once (for many calls with the same pending rows)."""
        if pending is None or not len(pending):
            return self.posterior
        normalized = self._normalized_predictor(pending)

        def predict(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean, var = normalized(Xc)
            return self._y_mean + self._y_scale * mean, self._y_scale * np.sqrt(var)

        return predict

    def posterior(self, Xc: np.ndarray, *, pending: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function (without observation
        noise) at the rows of ``Xc``, in original target units; ``pending`` rows are
        conditioned on by kriging believer (mean unchanged, variance reduced near them)."""
        mean, var = self._posterior_normalized(Xc, pending)
        return self._y_mean + self._y_scale * mean, self._y_scale * np.sqrt(var)

    def posterior_covariance(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and full covariance of the latent function at the rows of ``Xc``, in
        original target units (for joint posterior samples)."""
        hp = self._hp
        Xcs = self._checked_x(Xc) * (SQRT5 / hp.lengthscales)
        sqc = row_sq(Xcs)
        Kc = matern52_scaled(Xcs, self._Xs, sqc, self._sq, hp.variance)
        V = self._Linv @ Kc.T
        cov = matern52_scaled(Xcs, Xcs, sqc, sqc, hp.variance) - V.T @ V
        mean = Kc @ self._alpha + hp.mean
        return self._y_mean + self._y_scale * mean, self._y_scale ** 2 * cov

    @property
    def normalization(self) -> tuple[float, float]:
        """``(mean, scale)`` of the target normalization of the last ``fit``."""
        return self._y_mean, self._y_scale

    def expected_improvement(self, Xc: np.ndarray, best: float, *,
                             pending: np.ndarray | None = None) -> np.ndarray:
        """Expected improvement below ``best`` (minimization) at the rows of ``Xc``, in original
        target units; >= 0, the std is floored (variance 1e-12 in normalized units)."""
        mean, std = self.posterior(Xc, pending=pending)
        return std * ei_factor((float(best) - mean) / std)

    def log_marginal_likelihood(self) -> float:
        """Log marginal likelihood of the current normalized targets (no priors)."""
        if self._X is None:
            raise MethodError("the GP has no data (call fit first)")
        log_det_half = -float(np.log(np.diag(self._Linv)).sum())
        return -0.5 * float(self._p @ self._p) - log_det_half - 0.5 * len(self._p) * _LOG_2PI
