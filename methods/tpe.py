"""Tree-structured Parzen estimator, BOHB's multivariate variant: ``TPESearcher`` and ``TPE``.

The algorithm of Falkner et al. 2018 (BOHB's model, HpBandSter's ``config_generators/bohb.py``)
as Syne Tune 0.13.0's ``KernelDensityEstimator`` implements it (Bergstra et al. 2011's TPE with
one multivariate kernel density per group instead of one per hyperparameter):

1. The observations at the model fidelity -- the largest fidelity with enough observations for
   both densities (BOHB's rule; the largest one in a single-fidelity scheduler) -- are sorted by
   score. The best ``n_good = max(n_min, floor(top_n_percent * n / 100))`` are "good", the next
   ``n_bad = max(n_min, floor((100 - top_n_percent) * n / 100))`` "bad" (HpBandSter's split;
   ``n_min = num_min_data_points``, by default ``d + 1`` for ``d`` hyperparameters). A model is
   fitted once both parts have more than ``d`` points (HpBandSter and Syne Tune check this):
   below that, suggestions are random.
2. ``l`` is the kernel density of the good points, ``g`` that of the bad ones (see below).
3. With probability ``random_fraction`` (one draw from the scheduler's generator) the suggestion
   is ``random_config()``. Otherwise ``num_candidates`` points are sampled from ``l`` with the
   numeric bandwidths multiplied by ``bandwidth_factor`` (a good point drawn uniformly; each
   numeric feature from a normal around it truncated to [0, 1]; each categorical kept with
   probability ``1 - lambda``, else drawn uniformly) and the one maximizing ``l(x) / g(x)``
   (computed in log space, all candidates at once) that was not handed out before wins; if all
   were, a random configuration.

The densities are product kernels on the ``FeatureEncoder`` features, computed here in numpy
(the reference implementations call ``statsmodels``' ``KDEMultivariate``): a Gaussian kernel,
not truncated (as statsmodels'), for every numeric column (ranges on their [0, 1] or log scale,
ordinals by rank: BOHB treats integers as continuous too), and an Aitchison-Aitken kernel for
every categorical hyperparameter (``1 - lambda`` for the same value, ``lambda / (c - 1)`` for
another of its ``c`` values). Bandwidths follow statsmodels' ``normal_reference`` (Scott's rule):
``1.06 * std * n ** (-1 / (4 + d))`` per variable (population std), a categorical's std taken on
its code ``index / c`` as Syne Tune encodes it, then floored at ``min_bandwidth``. Two deliberate
departures from the statsmodels kernel: ``c`` is the number of values of the hyperparameter
(statsmodels counts the values present in the data, so a value absent from the good points
makes ``l`` infinite there), and ``lambda`` is capped at ``(c - 1) / c`` (the uniform kernel;
only a ``min_bandwidth`` above that could exceed it). A choice of one value carries no
information and is left out of the model, like a constant.

Pending configurations (running, or handed out and not started, without an observation at the
model fidelity) are handled by Optuna's *constant liar* (``TPESampler(constant_liar=True)``
puts running trials in the "above", bad, group): their feature rows join the bad points for
``g`` (and its bandwidths), so that the density ratio drops around them and workers asking at
once get different points.

Restricted to ``candidates`` (a table's rows), the samples from ``l`` are decoded as in the
space: a sample that is a candidate (always, on a table holding a whole grid of ordinals and
choices, e.g. NAS-Bench-201 or FCNet) stays itself and is skipped if used; one that is no
candidate (continuous values) moves to the nearest unused candidate (Euclidean distance in
feature space). These candidate rows are scored by ``l / g`` at their own features and the best
wins (a random unused candidate if none is left; ``None`` once all are used). Sampling from
``l`` keeps BOHB's search around the good points, where scoring ``candidate_pool(k)`` rows
would propose rows drawn uniformly from the table (random search filtered by ``l / g``). The
table is encoded once, at the first sample off the table; finding the nearest rows is one
matrix product (``num_candidates`` x rows x features).

Cost, measured on a busy 2-core machine with 500 observations and a model-based suggestion (a
refit every time): 0.4-0.5 ms over 8 or 10 hyperparameters in the space, 0.6-0.9 ms with 16
pending configurations or on a 15,625-row grid table (6 choices of 5 values), about 3.5 ms on a
15,625-row table of random continuous rows (10 features; the nearest-row search dominates). Both
log densities come from one matrix product each (``(x - y)^2`` expanded, the Aitchison-Aitken
factors folded into the one-hot columns), computed in blocks small enough for OpenBLAS to keep
them on one thread; the feature rows of the observations are stacked incrementally and the
split is cached on the model fidelity and the version of its observations
(``history.versions``), so reports at other fidelities do not cause a refit.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from scipy.special import ndtr, ndtri

from blackbox_repo.configspace import ConfigurationSpace, FeatureEncoder
from methods.arguments import check_float, check_int
from methods.base import MethodError
from methods.fifo import FIFO
from methods.registry import register
from methods.searcher import Searcher, register_searcher

__all__ = ["TPESearcher", "TPE", "ProductKDE"]

_PAPER = ("Bergstra, Bardenet, Bengio & Kégl 2011, Algorithms for Hyper-Parameter Optimization "
          "(NeurIPS); Falkner, Klein & Hutter 2018, BOHB: Robust and Efficient Hyperparameter "
          "Optimization at Scale (ICML)")
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: multiply-adds per matrix product block: OpenBLAS (numpy's BLAS) runs a product of up to
#: 4 x 65,536 on the calling thread and spreads larger ones over its threads, which on a busy
#: machine made a 64 x 30 x 425 product (one density) 10-100 times slower than on one thread
_BLOCK = 4 * 65536


def _times_transposed(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B.T``, computed in blocks of rows of ``B`` small enough for one thread."""
    step = max(1, _BLOCK // max(1, A.shape[0] * A.shape[1]))
    if B.shape[0] <= step:
        return A @ B.T
    out = np.empty((A.shape[0], B.shape[0]))
    for s in range(0, B.shape[0], step):
        np.matmul(A, B[s:s + step].T, out=out[:, s:s + step])
    return out


class ProductKDE:
    """A product-kernel density on feature rows: Gaussian numeric columns, Aitchison-Aitken groups.

    ``numeric`` are the numeric column indices, ``starts`` / ``sizes`` the first column and the
    number of values of each categorical (one-hot) group; bandwidths by statsmodels'
    ``normal_reference`` over ``d = len(numeric) + len(sizes)`` variables, floored at
    ``min_bandwidth`` (a categorical's ``lambda`` capped at ``(c - 1) / c``).

    Example:
        >>> import numpy as np
        >>> data = np.array([[0.2, 1.0, 0.0], [0.4, 0.0, 1.0]])      # x, then a 2-value choice
        >>> kde = ProductKDE(data, numeric=np.array([0]), starts=np.array([1]), sizes=np.array([2]),
        ...                  min_bandwidth=1e-3)
        >>> h, lam = kde.bandwidth[0], kde.lam[0]          # 1.06 * std * 2 ** (-1 / 6)
        >>> round(float(h), 4), round(float(lam), 4)
        (0.0944, 0.2361)
        >>> by_hand = (np.exp(-0.5 * (0.1 / h) ** 2) / np.sqrt(2 * np.pi) / h) * ((1 - lam) + lam) / 2
        >>> bool(np.isclose(np.exp(kde.log_pdf(np.array([[0.3, 1.0, 0.0]]))[0]), by_hand))
        True
    """

    def __init__(self, data: np.ndarray, *, numeric: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                 min_bandwidth: float):
        self.data = data
        self.numeric, self.starts, self.sizes = numeric, starts, sizes
        n = data.shape[0]
        scale = 1.06 * n ** (-1.0 / (4 + len(numeric) + len(sizes)))
        #: Gaussian bandwidth of each numeric column
        self.bandwidth = np.maximum(scale * data[:, numeric].std(axis=0), min_bandwidth)
        self._cat_cols = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, sizes)]) \
            if len(sizes) else np.zeros(0, dtype=np.intp)
        self._group_offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        local = self._cat_cols - np.repeat(starts, sizes)           # value index within its group
        #: the data's value index in each categorical group, ``(n, groups)``
        self.codes = np.add.reduceat(data[:, self._cat_cols] * local, self._group_offsets, axis=1
                                     ).astype(np.intp) if len(sizes) else np.zeros((n, 0), dtype=np.intp)
        lam = np.maximum(scale * (self.codes / sizes).std(axis=0), min_bandwidth)
        #: Aitchison-Aitken bandwidth of each categorical group
        self.lam = np.minimum(lam, (sizes - 1) / sizes)
        other = np.log(self.lam / (sizes - 1))          # log kernel of a different value
        same = np.log1p(-self.lam)                      # log kernel of the same value
        # log K(q, x_j) summed over variables = q' @ B.T + c_j + const, with q' = [q_num / h, q_cat]
        z = data[:, numeric] / self.bandwidth
        weights = np.repeat(same - other, sizes)
        self._B = np.hstack([z, data[:, self._cat_cols] * weights])
        self._row_const = -0.5 * np.einsum("ij,ij->i", z, z)
        self._const = (-np.log(self.bandwidth).sum() - len(numeric) * _LOG_SQRT_2PI + other.sum()
                       - math.log(n))

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """``log`` of the density at each row of ``X`` (one-hot groups exactly 0/1)."""
        zq = X[:, self.numeric] / self.bandwidth
        Q = np.hstack([zq, X[:, self._cat_cols]])
        logk = _times_transposed(Q, self._B)
        logk += self._row_const
        top = logk.max(axis=1)
        s = np.log(np.exp(logk - top[:, None]).sum(axis=1)) + top
        return s - 0.5 * np.einsum("ij,ij->i", zq, zq) + self._const

    def sample(self, rng: np.random.Generator, size: int, factor: float) -> np.ndarray:
        """``size`` rows: a data row drawn uniformly, numeric columns from a normal around it with
        ``factor`` times the bandwidth truncated to [0, 1], each categorical kept with probability
        ``1 - lambda`` else drawn uniformly (BOHB's sampling; ``factor`` applies to numbers only)."""
        idx = rng.integers(self.data.shape[0], size=size)
        out = self.data[idx].copy()
        if len(self.numeric):
            mu = out[:, self.numeric]
            s = self.bandwidth * factor
            lo, hi = ndtr(-mu / s), ndtr((1.0 - mu) / s)
            u = rng.random(mu.shape)
            out[:, self.numeric] = np.clip(mu + s * ndtri(lo + u * (hi - lo)), 0.0, 1.0)
        if len(self.sizes):
            keep = rng.random((size, len(self.sizes))) >= self.lam
            fresh = (rng.random((size, len(self.sizes))) * self.sizes).astype(np.intp)
            codes = np.where(keep, self.codes[idx], fresh)
            out[:, self._cat_cols] = 0.0
            out[np.arange(size)[:, None], self.starts + codes] = 1.0
        return out


@register_searcher("tpe", "kde")
class TPESearcher(Searcher):
    """Tree-structured Parzen estimator (BOHB's multivariate KDEs): maximize l(x) / g(x) over samples of l.

    Defaults follow Syne Tune 0.13.0's ``KernelDensityEstimator`` (``top_n_percent=15``,
    ``min_bandwidth=1e-3``, ``num_candidates=64``, ``bandwidth_factor=3``,
    ``random_fraction=0.33``) except ``num_min_data_points``: ``None`` means ``d + 1`` for ``d``
    hyperparameters, HpBandSter's ``min_points_in_model`` (Syne Tune uses ``d`` and fits a model
    only once the top ``top_n_percent`` alone hold more than ``d`` points, about ``6.7 (d + 1)``
    observations, where BOHB needs ``2 (d + 1)``); smaller values than ``d + 1`` are refused, as
    HpBandSter raises them. Pending configurations join the bad density (Optuna's constant liar).
    See the module docstring for the algorithm and the kernels.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from methods.base import Trial
        >>> s = TPESearcher(random_fraction=0.0)
        >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
        ...        rng=np.random.default_rng(0))
        >>> for i in range(20):                    # a model from 2 (d + 1) = 4 observations on
        ...     trial = Trial(i, s.next_config()); s.on_start(trial)
        ...     s.observe(trial, 1, {"loss": (trial.config["x"] - 0.7) ** 2})
        >>> s.min_points, abs(s.next_config()["x"] - 0.7) < 0.1
        (4, True)
    """

    paper = _PAPER
    needs_features = True
    encoder: FeatureEncoder                          # bind sets it (needs_features)

    def __init__(self, *, num_min_data_points: int | None = None, top_n_percent: float = 15,
                 min_bandwidth: float = 1e-3, num_candidates: int = 64, bandwidth_factor: float = 3,
                 random_fraction: float = 0.33, allow_duplicates: bool = False):
        super().__init__(allow_duplicates=allow_duplicates)
        self.num_min_data_points = None if num_min_data_points is None else check_int(
            "num_min_data_points", num_min_data_points, low=1)
        self.top_n_percent = check_float("top_n_percent", top_n_percent, 0, 100,
                                         low_open=True, high_open=True)
        self.min_bandwidth = check_float("min_bandwidth", min_bandwidth, 0, low_open=True)
        self.num_candidates = check_int("num_candidates", num_candidates, low=1)
        self.bandwidth_factor = check_float("bandwidth_factor", bandwidth_factor, 0, low_open=True)
        self.random_fraction = check_float("random_fraction", random_fraction, 0, 1)

    def setup(self) -> None:
        enc = self.encoder
        if enc.dim == 0:
            raise MethodError(f"TPE needs at least one non-constant hyperparameter; every hyperparameter "
                              f"of {self.config_space!r} is constant")
        groups = [cols for _, cols in enc.categorical_groups if len(cols) > 1]
        self._numeric = np.flatnonzero(enc.numeric_mask)
        self._starts = np.array([cols[0] for cols in groups], dtype=np.intp)
        self._sizes = np.array([len(cols) for cols in groups], dtype=np.intp)
        d = len(self._numeric) + len(groups)
        if d == 0:
            raise MethodError(f"TPE needs at least one non-constant hyperparameter; the choices of "
                              f"{self.config_space!r} have one value each")
        #: number of model variables: numeric columns and categorical hyperparameters
        self.num_variables = d
        n_min = self.num_min_data_points
        if n_min is None:
            n_min = d + 1
        elif n_min < d + 1:
            raise MethodError(f"num_min_data_points must be >= d + 1 = {d + 1} for the {d} hyperparameters "
                              f"of this space (BOHB's minimum), got {n_min}")
        self._n_min = n_min
        n = n_min
        while n - self._n_good(n) <= d:           # the bad part needs more than d points too
            n += 1
        #: observations needed at a fidelity to fit the densities there
        self.min_points = n
        self._fit_key: tuple | None = None
        #: the model fidelity at the last suggestion: the largest fidelity with at least
        #: ``min_points`` observations (BOHB's rule), None while there is none
        self.model_fidelity: Any = None
        self._good: ProductKDE | None = None
        self._bad_rows = np.empty((0, enc.dim))
        self._bad: ProductKDE | None = None
        self._cand_A: np.ndarray | None = None      # encoded candidates (built at first need)
        self._data_X: dict[Any, np.ndarray] = {}    # fidelity -> feature rows of its observations

    def _n_good(self, n: int) -> int:
        return max(self._n_min, int(self.top_n_percent * n // 100))

    def _kde(self, rows: np.ndarray) -> ProductKDE:
        return ProductKDE(rows, numeric=self._numeric, starts=self._starts, sizes=self._sizes,
                          min_bandwidth=self.min_bandwidth)

    def _fit(self, fidelity: Any) -> None:
        """Split the observations at ``fidelity`` into good and bad: a model per fidelity, refitted
        when the observations at that fidelity change (HpBandSter's BOHB keeps a KDE per budget)."""
        key = (self.history.versions.get(fidelity, 0), fidelity)
        if key == self._fit_key:
            return
        at = self.history.scores[fidelity]
        y = np.fromiter(at.values(), dtype=float, count=len(at))
        X = self._data_X.get(fidelity)
        if X is None or len(X) < len(at):            # new trials come last (insertion order)
            new = self.history.rows(list(itertools.islice(at, 0 if X is None else len(X), None)))
            X = self._data_X[fidelity] = new if X is None else np.vstack([X, new])
        order = np.argsort(y, kind="stable")
        n = len(y)
        n_good = self._n_good(n)
        n_bad = max(self._n_min, int((100 - self.top_n_percent) * n // 100))
        self._good = self._kde(X[order[:n_good]])
        self._bad_rows = X[order[n_good:n_good + n_bad]]
        self._bad = self._kde(self._bad_rows)
        self._fit_key = key

    def suggest(self, pending: Sequence[dict]) -> dict | None:
        fidelity = self.model_fidelity = self.history.model_fidelity(self.min_points)
        if fidelity is None or self.rng.random() < self.random_fraction:
            return self.random_config()
        self._fit(fidelity)
        good, bad = self._good, self._bad
        assert good is not None and bad is not None    # _fit made both
        liars = self.pending_rows(pending, fidelity)
        bad = bad if liars is None else self._kde(np.vstack([self._bad_rows, liars]))
        samples = good.sample(self.rng, self.num_candidates, self.bandwidth_factor)
        avoid = {self._key(c) for c in pending} if self.allow_duplicates and pending else None
        if self.candidates is not None:
            return self._best_candidate(samples, good, bad, avoid)
        score = good.log_pdf(samples) - bad.log_pdf(samples)
        for config in self._decoded(samples[np.argsort(-score, kind="stable")]):
            if not self.is_used(config) and (avoid is None or self._key(config) not in avoid):
                return config
        return self.random_config()

    def _decoded(self, X: np.ndarray) -> Iterator[dict]:
        """The configurations of the rows of ``X`` in order: the first decoded alone (it is
        usually new), the others in one batch when needed."""
        yield self.encoder.decode(X[0])[0]
        yield from self.encoder.decode(X[1:])

    # ------------------------------------------------------------------ candidates (a table)
    def _best_candidate(self, samples: np.ndarray, good: ProductKDE, bad: ProductKDE, avoid: set | None
                        ) -> dict | None:
        """The unused candidate with the largest ``l / g`` among the samples' candidates: a sample
        that decodes to a candidate is that one (skipped if used, as in the space); one that
        decodes to no candidate moves to the nearest unused one."""
        index = self._candidate_key_index()
        key = self._key
        picked: dict[int, None] = {}                 # candidate rows, in sample order
        off: list[int] = []
        for j, config in enumerate(self.encoder.decode(samples)):
            k = key(config)
            i = index.get(k)
            if i is None:
                off.append(j)
            elif not self.is_used(config) and (avoid is None or k not in avoid):
                picked[i] = None
        if off:
            for i in self._nearest_free(samples[off], avoid):
                picked.setdefault(i)
        candidates = self.candidates
        assert candidates is not None                  # suggest calls this for candidates only
        rows = [candidates[i] for i in picked]
        rows = [c for c in rows if not self.is_used(c)]   # (a table may repeat a configuration)
        if not rows:
            return self.random_config()
        X = self.encoder.encode(rows)
        score = good.log_pdf(X) - bad.log_pdf(X)
        return rows[int(np.argmax(score))]

    def _nearest_free(self, samples: np.ndarray, avoid: set | None) -> list[int]:
        """For each sample, the nearest candidate (Euclidean, in feature space) not handed out
        (with ``allow_duplicates``: not pending); none when there is none. The table is encoded
        once, with ``-|c|^2 / 2`` appended so that one product ranks the rows by ``s.c - |c|^2 / 2``
        (the nearest has the largest); started trials' rows are listed for good (the history
        only grows), waiting ones afresh at each call."""
        if self._cand_A is None:
            X = self.candidate_features()
            self._cand_A = np.hstack([X, -0.5 * np.einsum("ij,ij->i", X, X)[:, None]])
            self._taken: list[int | None] = []
            self._marked = 0
        index = self._candidate_key_index()
        key = self._key
        if self.allow_duplicates:
            blocked = [index.get(k) for k in avoid or ()]
        else:
            configs = self.history.configs
            self._taken += [index.get(key(c)) for c in itertools.islice(configs.values(), self._marked, None)]
            self._marked = len(configs)
            blocked = self._taken + [index.get(key(c)) for c in self.history.waiting]
        rows = [i for i in blocked if i is not None]
        if len(set(rows)) == len(self.candidates or ()):
            return []
        S = np.hstack([samples, np.ones((len(samples), 1))])
        closeness = _times_transposed(S, self._cand_A)
        closeness[:, rows] = -np.inf
        return np.argmax(closeness, axis=1).tolist()


@register("TPE")
class TPE(FIFO):
    """Tree-structured Parzen estimator (BOHB's KDEs): each trial to the largest fidelity.

    ``FIFO`` with ``TPESearcher``. Defaults follow Syne Tune 0.13.0's ``KernelDensityEstimator``
    (``num_min_data_points`` HpBandSter's); the arguments: ``num_min_data_points``
    (``None``: ``d + 1``), ``top_n_percent=15``, ``min_bandwidth=1e-3``, ``num_candidates=64``,
    ``bandwidth_factor=3``, ``random_fraction=0.33``, ``allow_duplicates=False``. For BOHB use
    ``SyncBOHB`` or ``AsyncBOHB`` (``methods.bohb``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform, choice
        >>> tpe = TPE(ConfigurationSpace({"x": uniform(0, 1), "c": choice(["a", "b"])}),
        ...           metric="loss", fidelity_values=[1, 9], top_n_percent=20)
        >>> s = tpe.suggest(0.0)
        >>> s.max_fidelity, tpe.searcher.top_n_percent, tpe.searcher.min_points
        (9, 20.0, 6)
    """

    paper = _PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None,
                 num_min_data_points: int | None = None, top_n_percent: float = 15,
                 min_bandwidth: float = 1e-3, num_candidates: int = 64, bandwidth_factor: float = 3,
                 random_fraction: float = 0.33, allow_duplicates: bool = False):
        searcher = TPESearcher(num_min_data_points=num_min_data_points, top_n_percent=top_n_percent,
                               min_bandwidth=min_bandwidth, num_candidates=num_candidates,
                               bandwidth_factor=bandwidth_factor, random_fraction=random_fraction,
                               allow_duplicates=allow_duplicates)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates, searcher=searcher)
