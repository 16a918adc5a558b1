"""Surrogate blackboxes: a regressor fitted on a table answers any configuration of a space.

``add_surrogate(table, model=...)`` fits a model that maps an encoded configuration to its
*whole* curve -- every fidelity level x every objective (x every seed, with
``seeds="separate"``) at once, as one multi-output regression -- so a predicted curve is
coherent, and wraps it in a ``SurrogateBlackbox``, which is a ``Blackbox`` like the table.

Models:

- ``knn`` (default; ``n_neighbors=1``): the mean curve of the nearest tabulated
  configurations in the encoded space (exact numpy search; ties go to the first row, like
  ``TabularBlackbox.config_id``). With one neighbour it reproduces the table exactly on
  tabulated configurations, NaN cells included.
- ``random_forest``, ``mlp`` (scikit-learn) and ``xgboost`` (extra ``hposim[surrogates]``,
  one multi-output tree per boosting round). Targets are standardized and, when a curve has
  more than 32 numbers, compressed to 32 principal components (``n_components``). The
  cumulative elapsed time is learnt as per-level increments; predicted increments are
  clipped at 0 and summed, so predicted elapsed time never decreases. Training rows with
  NaN cells are dropped (their columns imputed with the mean when too few rows remain).

Encoding: each hyperparameter's ``[0, 1]`` encoding from the surrogate's configuration
space, categorical choices with more than two values one-hot. The space defaults to the
table's; a different one (e.g. ``loguniform`` instead of the tabulated grid of values) lets
the surrogate answer configurations that are not in the table. Methods then sample from it:
``simulator.make_scheduler`` passes table rows as ``candidates`` only for tabular blackboxes.

Speed: curves are predicted in batches and cached per configuration. The first request of
a tabulated configuration predicts every row of the table at once (one array, indexed like
the table); other configurations go through an LRU cache (``cache_bytes``), and
``curves_for(configs)`` predicts all cache misses of a batch in one call. ``prefetch(configs)``
predicts every uncached configuration of a list in one call; the simulator uses it on a cache
miss with the configurations the scheduler has already drawn (``upcoming_configs``), so
sampling a continuous space costs one model call per batch of trials. The cache holds each
configuration's latent vector (knn: its nearest rows; regressors: the 32 predicted principal
components) and the curves of the seeds asked for so far; the simulator also passes the seeds
the upcoming trials will run with, so each configuration's batch computes the one seed's curve
a trial reads (back-projected with one product per seed) and a trial pays for one seed,
not for every seed. A curve is the same, bit for bit, predicted alone or in any batch, whole or
one seed at a time, so batching never changes a simulation's results.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> hp = pd.DataFrame({"x": np.linspace(0, 1, 20)})
    >>> obj = np.zeros((20, 1, 3, 2), np.float32)
    >>> obj[..., 0] = (hp["x"].to_numpy()[:, None, None] - 0.3) ** 2 + [1.0, 0.5, 0.2]
    >>> obj[..., 1] = [10.0, 20.0, 30.0]
    >>> table = TabularBlackbox(hp, obj, [1, 2, 3], ["loss", "time"], metric_elapsed_time="time")
    >>> sur = add_surrogate(table)                       # knn, k=1
    >>> float(sur.evaluate({"x": float(hp["x"][4])}, fidelity=3)["loss"]) == float(obj[4, 0, 2, 0])
    True
    >>> sur.card.model, sur.num_seeds
    ('knn', 1)
"""
from __future__ import annotations

import contextlib
import difflib
import json
import os
import time
import uuid
import warnings
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox, _row_key
from blackbox_repo.configspace import Choice, ConfigurationError, ConfigurationSpace, _Finite, values_getter
from blackbox_repo.repository import BlackboxRecord, CacheProvider, register_provider
from blackbox_repo.report_card import ReportCard, count_decreases, held_out_errors, spearman_per_fidelity

__all__ = ["SurrogateBlackbox", "SurrogateError", "add_surrogate", "load_surrogate", "MODELS",
           "SEED_MODES", "SURROGATE_JSON", "SURROGATE_MODEL", "SurrogateProvider", "verify_surrogate"]

MODELS = ("knn", "random_forest", "mlp", "xgboost")
SEED_MODES = ("separate", "average")
SURROGATE_JSON = "surrogate.json"
SURROGATE_MODEL = "surrogate.joblib"
SURROGATE_FORMAT_VERSION = 1
#: curves with more numbers than this are compressed to this many principal components
AUTO_COMPONENTS = 32
DEFAULT_CACHE_BYTES = 256 * 2 ** 20

_DEFAULTS: dict[str, dict[str, Any]] = {
    "knn": {"n_neighbors": 1},
    "random_forest": {"n_estimators": 50, "max_features": 0.5, "min_samples_leaf": 1, "n_jobs": 1},
    "mlp": {"hidden_layer_sizes": (128, 128), "max_iter": 1000, "early_stopping": True,
            "learning_rate_init": 1e-3, "alpha": 1e-4},
    "xgboost": {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.05, "subsample": 0.9,
                "tree_method": "hist", "multi_strategy": "multi_output_tree", "n_jobs": 1},
}


class SurrogateError(BlackboxError):
    """Bad input to ``add_surrogate`` or a surrogate that cannot be loaded."""


def _choose(value: Any, allowed: Sequence[str], what: str) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise SurrogateError(f"{what} {value!r} is not valid; allowed: {list(allowed)}.{hint}")


_MISSING = object()


# ---------------------------------------------------------------------------- features
class _Features:
    """Configuration -> feature vector: each domain's ``[0, 1]`` encoding, choices with more
    than two values one-hot."""

    def __init__(self, space: ConfigurationSpace):
        self.space = space
        self.names = list(space)
        self.onehot = {k: len(d.values) for k, d in space.items()
                       if isinstance(d, Choice) and len(d.values) > 2}

    @property
    def width(self) -> int:
        return sum(self.onehot.get(k, 1) for k in self.names)

    def columns(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        parts = []
        for k, dom in self.space.items():
            vals = list(columns[k])
            try:
                if k in self.onehot:
                    idx = np.fromiter((dom.index_of(v) for v in vals), dtype=np.intp, count=len(vals))
                    oh = np.zeros((len(vals), self.onehot[k]))
                    oh[np.arange(len(vals)), idx] = 1.0
                    parts.append(oh)
                else:
                    parts.append(np.asarray(dom.encode_array(vals), dtype=np.float64).reshape(-1, 1))
            except (ConfigurationError, TypeError, ValueError) as e:
                raise ConfigurationError(f"hyperparameter '{k}': {e}") from None
        return np.hstack(parts) if parts else np.zeros((0, 0))

    def configs(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if len(configs) == 1:
            return self.one(configs[0])
        return self.columns({k: [c[k] for c in configs] for k in self.names})

    def one(self, config: Mapping[str, Any]) -> np.ndarray:
        """Features of one configuration, ``(1, width)`` (a fast path with per-value tables)."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self._fast = self._build_fast()
        x = np.zeros((1, self.width))
        for k, dom, col, table in fast:
            if table is None:
                x[0, col] = dom.encode_array([config[k]])[0]
                continue
            try:
                v = table[dom._key(config[k])]
            except (KeyError, TypeError):
                dom.index_of(config[k])      # raises the error naming the allowed values
                raise
            if k in self.onehot:
                x[0, col + v] = 1.0
            else:
                x[0, col] = v
        return x

    def checked(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Features of many configurations, ``(n, width)``, and a boolean mask of those valid
        in the space (the same check as ``ConfigurationSpace.validate``; rows of invalid ones
        are not meaningful). Encodings are those of ``configs`` and ``one``."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self._fast = self._build_fast()
        raw_tables = self.__dict__.get("_raw")
        if raw_tables is None:
            # plain-string values map straight to their code (no normalization needed)
            raw_tables = self._raw = {k: {v: table[dom._key(v)] for v in dom.values if type(v) is str}
                                      if table is not None else {} for k, dom, col, table in fast}
        n, width = len(configs), len(self.names)
        X = np.zeros((n, self.width))
        ok = np.fromiter((len(c) == width for c in configs), dtype=bool, count=n)
        for k, dom, col, table in fast:
            values = [c.get(k, _MISSING) for c in configs]
            if table is None:
                good = np.fromiter((v is not _MISSING and dom.contains(v) for v in values), dtype=bool, count=n)
                ok &= good
                rows = np.flatnonzero(good)
                if len(rows):
                    X[rows, col] = dom.encode_array([values[i] for i in rows])
                continue
            key, plain = dom._key, raw_tables[k]
            codes = [plain.get(v) if type(v) is str else None for v in values]
            for i, e in enumerate(codes):
                if e is None:           # not a plain string: the general lookup
                    try:
                        codes[i] = table[key(values[i])]
                    except (KeyError, TypeError):
                        ok[i] = False
                        codes[i] = -1
            found = np.asarray(codes)
            rows = np.flatnonzero(found >= 0)
            if k in self.onehot:
                X[rows, col + found[rows].astype(np.intp)] = 1.0
            else:
                X[rows, col] = found[rows]
        return X, ok

    def _build_fast(self) -> list:
        out, col = [], 0
        for k, dom in self.space.items():
            table = None
            if isinstance(dom, _Finite):
                if k in self.onehot:
                    table = {dom._key(v): i for i, v in enumerate(dom.values)}
                else:
                    enc = dom.encode_array(dom.values)
                    table = {dom._key(v): float(e) for v, e in zip(dom.values, enc)}
            out.append((k, dom, col, table))
            col += self.onehot.get(k, 1)
        return out

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_fast", "_raw")}


# ---------------------------------------------------------------------------- the curve model
class _CurveModel:
    """Features ``(n, p)`` -> curves ``(n, n_seeds, n_fidelities, n_objectives)``.

    ``predict(X, raw=True)`` also returns the cumulative elapsed time before the repair
    (``(n, n_seeds, n_fidelities)``) so the report card can count decreasing steps.
    """

    def __init__(self, model: str, *, elapsed_index: int | None, random_state: int,
                 n_components: int | None, model_kwargs: Mapping[str, Any]):
        self.model = model
        self.ei = elapsed_index
        self.random_state = int(random_state)
        self.n_components = n_components
        self.model_kwargs = dict(model_kwargs)
        self.curve_shape: tuple[int, int, int] = (0, 0, 0)
        self.n_dropped_nan = 0
        self.used_components: int | None = None

    # ----------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, Y: np.ndarray) -> "_CurveModel":
        n = X.shape[0]
        self.curve_shape = tuple(Y.shape[1:])  # type: ignore[assignment]
        if self.model == "knn":
            k = int(self.model_kwargs.get("n_neighbors", 1))
            # duplicates: keep the first row, like TabularBlackbox.config_id
            _, first = np.unique(X, axis=0, return_index=True)
            first.sort()
            self.X = np.ascontiguousarray(X[first])
            self.Y = np.ascontiguousarray(Y[first], dtype=np.float32)
            self.sq = (self.X ** 2).sum(axis=1)
            self.k = min(k, len(first))
            # averages of non-decreasing curves do not decrease: no repair needed then
            self.monotone = self.ei is None or count_decreases(self.Y[..., self.ei])[0] == 0
            return self
        T = self._to_targets(Y)
        bad = ~np.isfinite(T).all(axis=1)
        self.n_dropped_nan = int(bad.sum())
        if bad.any():
            if (~bad).sum() >= max(2, 0.1 * n):
                X, T = X[~bad], T[~bad]
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    fill = np.nanmean(T, axis=0)
                fill[~np.isfinite(fill)] = 0.0
                T = np.where(np.isfinite(T), T, fill)
        self.mean = T.mean(axis=0)
        sd = T.std(axis=0)
        self.std = np.where(sd > 1e-12, sd, 1.0)
        Z = (T - self.mean) / self.std
        self.components = None
        nc = self.n_components
        if nc is not None and nc < Z.shape[1]:
            from sklearn.decomposition import PCA
            nc = max(1, min(int(nc), Z.shape[0], Z.shape[1]))
            pca = PCA(n_components=nc, random_state=self.random_state).fit(Z)
            self.components = pca.components_.astype(np.float64)
            self.pca_mean = pca.mean_.astype(np.float64)
            Z = pca.transform(Z)
            self.used_components = nc
        self.single_output = Z.shape[1] == 1
        self.regressor = _make_regressor(self.model, self.random_state, self.model_kwargs)
        self.regressor.fit(X, Z[:, 0] if self.single_output else Z)
        return self

    def _to_targets(self, Y: np.ndarray) -> np.ndarray:
        T = np.array(Y, dtype=np.float64)
        if self.ei is not None:
            T[..., self.ei] = np.diff(T[..., self.ei], axis=2, prepend=0.0)
        return T.reshape(T.shape[0], -1)

    # ----------------------------------------------------------------- prediction
    # Every model predicts in two steps: ``latent`` -- per configuration, what the model
    # computes from its features (knn: the nearest rows; regressors: the standardized targets
    # in principal-component space) -- then ``expand``, the curve of one seed from the latent
    # vectors. A cache keeps latent vectors and expands the seed a trial runs, so a trial pays
    # for one seed's curve; whole curves are expanded seed by seed, the same numbers.
    def predict(self, X: np.ndarray, raw: bool = False, latent: bool = False):
        """Curves ``(n, n_seeds, n_fidelities, n_objectives)`` float32 of features ``X``;
        with ``latent=True`` only each row's latent vector, which ``expand`` turns into the
        curve of one seed (the same numbers as here). With ``raw=True`` also the cumulative
        elapsed time before the repair, ``(n, n_seeds, n_fidelities)`` (``None`` without an
        elapsed-time objective)."""
        with _blas_threads(X.shape[0]):
            L = self._latent(X)
            return L if latent else self._curves(L, raw)

    def curves(self, L: np.ndarray) -> np.ndarray:
        """Whole curves ``(n, n_seeds, n_fidelities, n_objectives)`` of latent vectors ``L``."""
        with _blas_threads(L.shape[0]):
            return self._curves(L, False)

    def expand(self, L: np.ndarray, seed: int, raw: bool = False):
        """Curves of one seed, ``(n, n_fidelities, n_objectives)`` float32, from latent vectors
        ``L`` (``predict(X, latent=True)``); a row's curve does not depend on the other rows.
        With ``raw=True`` also the cumulative elapsed time before the repair,
        ``(n, n_fidelities)`` (``None`` when there is nothing to repair)."""
        with _blas_threads(L.shape[0]):
            return self._expand(L, seed, raw)

    def predict_seeds(self, X: np.ndarray, seeds: Sequence[int | None]) -> tuple[np.ndarray, dict]:
        """Latent vectors of ``X`` and, for each row with a seed in ``seeds`` (aligned with
        the rows; ``None`` = unknown), the curve of that seed: ``(L, {seed: (rows, curves)})``,
        each seed's rows expanded in one batch."""
        with _blas_threads(X.shape[0]):
            L = self._latent(X)
            rows: dict[int, list[int]] = {}
            for i, s in enumerate(seeds):
                if s is not None:
                    rows.setdefault(int(s), []).append(i)
            return L, {s: (r, self._expand(L[r], s, False)) for s, r in sorted(rows.items())}

    def _latent(self, X: np.ndarray) -> np.ndarray:
        if self.model == "knn":
            return self._neighbours(X)
        return _regressor_predict(self.model, self.regressor, X).reshape(X.shape[0], -1)

    def _curves(self, L: np.ndarray, raw: bool):
        n = L.shape[0]
        s, f, o = self.curve_shape
        out = np.empty((n, s, f, o), np.float32)
        before = np.empty((n, s, f)) if raw and self.ei is not None else None
        for seed in range(s):
            got = self._expand(L, seed, raw)
            if raw:
                got, t = got
                if before is not None:
                    before[:, seed] = t
            out[:, seed] = got
        return (out, before) if raw else out

    def _expand(self, L: np.ndarray, seed: int, raw: bool):
        s, f, o = self.curve_shape
        if self.model == "knn":
            if self.k == 1:
                curves = self.Y[L[:, 0], seed]
            else:
                curves = self.Y[L, seed].mean(axis=1, dtype=np.float64).astype(np.float32)
            if self.ei is None or (self.monotone and not raw):
                return (curves, None) if raw else curves
            t = curves[..., self.ei].astype(np.float64)
            fixed = _running_max(t)
            if not np.array_equal(fixed, t, equal_nan=True):
                curves[..., self.ei] = fixed
            return (curves, t) if raw else curves
        n = L.shape[0]
        W, b = self._seed_projection(seed)
        if self.components is not None:
            T = _blocked_product(L, W)
        else:
            T = np.asarray(L[:, seed * f * o:(seed + 1) * f * o], dtype=np.float32) * W
            T += b
        T = T.reshape(n, f, o)
        before = None
        if self.ei is not None:
            if self.components is None:     # targets are increments: sum them up
                T[..., self.ei] = np.cumsum(T[..., self.ei], axis=1, dtype=np.float64)
            cum = T[..., self.ei]
            if raw:
                before = cum.astype(np.float64)
            fixed = _clip_decreases(cum)
            if fixed is not None:
                rows, repaired = fixed
                T[rows, :, self.ei] = repaired
        return (T, before) if raw else T

    def _seed_projection(self, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``(W, b)``, float32, giving one seed's curves ``(n, n_fidelities * n_objectives)``
        from latent vectors ``L``: with principal components, curves = ``[L, 1] @ W`` -- the
        back-projection, de-standardization and mean folded into one product, and the
        elapsed-time increments already summed over fidelities (a sum of increments is linear
        in them), so the product gives cumulative time; ``b`` is ``None``. Without, curves =
        ``L[:, seed's columns] * W + b`` (elapsed time as increments). Computed once per
        seed, not saved."""
        folded = self.__dict__.get("_folded")
        if folded is None:
            folded = self._folded = {}
        got = folded.get(seed)
        if got is None:
            s, f, o = self.curve_shape
            cols = slice(seed * f * o, (seed + 1) * f * o)
            if self.components is not None:
                W = np.vstack([self.components[:, cols] * self.std[cols],
                               (self.pca_mean[cols] * self.std[cols] + self.mean[cols])[None, :]])
                if self.ei is not None:
                    W3 = W.reshape(W.shape[0], f, o)
                    W3[..., self.ei] = np.cumsum(W3[..., self.ei], axis=1)
                got = (np.ascontiguousarray(W, dtype=np.float32), None)
            else:
                got = (self.std[cols].astype(np.float32), self.mean[cols].astype(np.float32))
            folded[seed] = got
        return got

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_folded"}

    def _neighbours(self, X: np.ndarray) -> np.ndarray:
        """Rows of the ``k`` nearest training configurations, ``(n, k)`` (ties: the first row)."""
        n_train = self.X.shape[0]
        chunk = max(1, 4_000_000 // max(n_train, 1))
        out = [np.zeros((0, self.k), np.intp)]
        for a in range(0, X.shape[0], chunk):
            q = X[a:a + chunk]
            d2 = self.sq[None, :] - 2.0 * _rows_matmul(q, self.X.T)   # |q|^2 left out: same for every row
            if self.k == 1:
                out.append(np.argmin(d2, axis=1)[:, None])
            else:
                out.append(np.argpartition(d2, self.k - 1, axis=1)[:, :self.k])
        return np.concatenate(out, axis=0)


_BLAS: list = []


def _blas_threads(n_rows: int):
    """A context running BLAS on one thread for a batch of ``n_rows`` > 1 (nothing for one
    row: setting the limit costs about 15 us). Predictions are small products that threads do
    not speed up; on a busy machine (or with parallel simulations) BLAS threads made a batch of
    256 curves 10x slower. (Threads split a product by rows and columns, not along the sum,
    so the numbers are the same either way.)"""
    if n_rows <= 1:
        return contextlib.nullcontext()
    if not _BLAS:
        from threadpoolctl import ThreadpoolController
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


#: rows per product in ``_blocked_product``
PRODUCT_BLOCK = 16


def _blocked_product(L: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``[L, 1] @ W`` in float32, ``(n, W.shape[1])``, computed in products of exactly
    ``PRODUCT_BLOCK`` rows (the last block padded with zeros). A BLAS product's rounding can
    depend on its shape (single precision switches kernels with the number of rows), never on
    the other rows of a product of the same shape; fixed-size blocks make a row's result the
    same whichever batch it is in, at single precision's speed."""
    n, k = L.shape
    blocks = -(-n // PRODUCT_BLOCK)
    A = np.zeros((blocks * PRODUCT_BLOCK, k + 1), np.float32)
    A[:n, :k] = L
    A[:n, k] = 1.0
    out = np.empty((blocks * PRODUCT_BLOCK, W.shape[1]), np.float32)
    for a in range(0, blocks * PRODUCT_BLOCK, PRODUCT_BLOCK):
        np.matmul(A[a:a + PRODUCT_BLOCK], W, out=out[a:a + PRODUCT_BLOCK])
    return out[:n]


def _rows_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` whose rows do not depend on how many rows ``a`` has: a single row goes
    through the BLAS matrix-matrix kernel as well (doubled), not the matrix-vector one, which
    rounds differently. A configuration's predicted curve is then the same bit for bit whether
    it is predicted alone or in a batch (so batching and prefetching never change results)."""
    if a.shape[0] == 1:
        return (np.concatenate([a, a]) @ b)[:1]
    return a @ b


_ACTIVATIONS = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0, out=z),
                "tanh": lambda z: np.tanh(z, out=z), "logistic": lambda z: 1.0 / (1.0 + np.exp(-z))}


def _regressor_predict(model: str, reg: Any, X: np.ndarray) -> np.ndarray:
    """The fitted regressor's prediction, without scikit-learn's per-call overhead where the
    model is simple to evaluate directly (the same numbers up to float rounding)."""
    if model == "random_forest":
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        out = np.zeros((len(X), reg.n_outputs_))
        for tree, leaf_row, leaf_values in _forest_leaves(reg):
            out += leaf_values[leaf_row[tree.apply(X32)]]
        out /= len(reg.estimators_)
        return out
    if model == "mlp":
        act = _ACTIVATIONS[reg.activation]
        z = np.asarray(X, dtype=np.float64)
        last = len(reg.coefs_) - 1
        for i, (w, b) in enumerate(zip(reg.coefs_, reg.intercepts_)):
            z = _rows_matmul(z, w) + b
            if i < last:
                z = act(z)
        return z
    if model == "xgboost":
        # the booster directly: the scikit-learn wrapper's predict builds a DMatrix per call
        # (with the wrapper's choice of trees: up to the best iteration after early stopping)
        try:
            rounds = {"iteration_range": (0, reg.best_iteration + 1)}
        except AttributeError:
            rounds = {}
        return np.asarray(reg.get_booster().inplace_predict(X, **rounds), dtype=np.float64)
    return np.asarray(reg.predict(X), dtype=np.float64)


_LEAVES: "weakref.WeakKeyDictionary[Any, list]" = weakref.WeakKeyDictionary()


def _forest_leaves(forest: Any) -> list:
    """Per tree of a fitted forest: ``(tree_, leaf_row, leaf_values)``, where
    ``leaf_values[leaf_row[node]]`` is a leaf's prediction (``(n_leaves, n_outputs)``, the leaves
    only, contiguous: a batch's lookups touch a fraction of the memory of scikit-learn's
    ``(n_nodes, n_outputs, 1)`` value arrays). Built once per forest."""
    got = _LEAVES.get(forest)
    if got is None:
        got = []
        for est in forest.estimators_:
            tree = est.tree_
            leaves = np.flatnonzero(tree.children_left == -1)
            leaf_row = np.zeros(tree.node_count, np.intp)
            leaf_row[leaves] = np.arange(len(leaves))
            got.append((tree, leaf_row, np.ascontiguousarray(tree.value[leaves, :, 0])))
        _LEAVES[forest] = got
    return got


def _running_max(t: np.ndarray) -> np.ndarray:
    """Cumulative maximum along the last axis over finite values; NaN cells stay NaN."""
    nan = np.isnan(t)
    fixed = np.maximum.accumulate(np.where(nan, -np.inf, t), axis=-1)
    fixed[nan] = np.nan
    return fixed


def _clip_decreases(cum: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Predicted cumulative times ``(n, n_fidelities)`` that go down somewhere: ``(rows,
    repaired)``, where a repaired row sums its increments clipped at 0 (a drop is ignored,
    later increases still count); ``None`` when every row is non-decreasing (and starts
    at >= 0). Rows are repaired independently of each other."""
    bad = (cum[:, 1:] < cum[:, :-1]).any(axis=1)
    bad |= cum[:, 0] < 0
    if not bad.any():
        return None
    rows = np.flatnonzero(bad)
    inc = np.diff(cum[rows], axis=1, prepend=0.0)
    return rows, np.cumsum(np.maximum(inc, 0.0), axis=1)


def _make_regressor(model: str, random_state: int, kwargs: Mapping[str, Any]):
    params = {**_DEFAULTS[model], **kwargs}
    if model == "random_forest":
        from sklearn.ensemble import RandomForestRegressor as cls
    elif model == "mlp":
        from sklearn.neural_network import MLPRegressor as cls
    else:
        try:
            from xgboost import XGBRegressor as cls
        except ImportError:
            raise SurrogateError(
                "model 'xgboost' needs the xgboost package, which is not installed; install it with "
                "`pip install hposim[surrogates]` (the CPU-only xgboost-cpu wheel)") from None
    valid = set(cls().get_params())
    unknown = [k for k in params if k not in valid]
    if unknown and model != "xgboost":
        raise SurrogateError(f"unknown arguments {unknown} for model {model!r}; valid: {sorted(valid)}")
    params.setdefault("random_state", random_state)
    return cls(**params)


def _check_model_kwargs(model: str, kwargs: Mapping[str, Any]) -> None:
    if model == "knn":
        unknown = [k for k in kwargs if k != "n_neighbors"]
        if unknown:
            raise SurrogateError(f"unknown arguments {unknown} for model 'knn'; valid: ['n_neighbors']")
        k = kwargs.get("n_neighbors", 1)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise SurrogateError(f"n_neighbors={k!r} is not valid; it must be an integer >= 1")


# ---------------------------------------------------------------------------- the blackbox
class _Entry:
    """A configuration in the cache: its latent vector (``(1, ...)``) and the curves of its
    seeds computed so far (read-only; ``None`` = not yet)."""

    __slots__ = ("latent", "seeds")

    def __init__(self, latent: np.ndarray, seeds: list):
        self.latent = latent
        self.seeds = seeds


class SurrogateBlackbox(Blackbox):
    """A ``Blackbox`` answering any configuration of its space with a fitted model's curves.

    Attributes are those of every blackbox (``configuration_space`` -- the surrogate's,
    ``fidelity_values``, ``objectives_names``, ``metric_elapsed_time``, ``metric``,
    ``mode``, ``num_seeds`` -- 1 when seeds are averaged -- and ``metadata``, which holds
    the report card under ``"surrogate_report_card"``), plus ``table`` (the
    ``TabularBlackbox`` it was fitted on; ``hyperparameters``, ``objectives``, ``shape``
    and ``n_configs`` are the table's), ``card`` (a ``ReportCard``) and ``seeds``.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> obj = np.zeros((10, 2, 2, 2), np.float32)
        >>> obj[..., 0] = np.linspace(1, 0, 10)[:, None, None]; obj[..., 1] = [5.0, 9.0]
        >>> t = TabularBlackbox(pd.DataFrame({"x": np.arange(10) / 10}), obj, [1, 2],
        ...                     ["loss", "time"], metric_elapsed_time="time")
        >>> sur = add_surrogate(t, configuration_space=ConfigurationSpace({"x": uniform(0, 1)}),
        ...                     seeds="average")
        >>> sur.evaluate({"x": 0.93}, fidelity=2)["time"]
        9.0
    """

    #: ``prefetch_curves`` predicts batches (``CurveSource``); ``False`` on an instance switches it off
    prefetches = True

    def __init__(self, table: TabularBlackbox, model: _CurveModel, features: _Features, *,
                 seeds: str, card: ReportCard, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.table = table
        self._model = model
        self._features = features
        self.configuration_space = features.space
        self.fidelity_name = table.fidelity_name
        self.fidelity_values = np.asarray(table.fidelity_values)
        self.objectives_names = list(table.objectives_names)
        self.metric_elapsed_time = table.metric_elapsed_time
        self.metric, self.mode = table.metric, table.mode
        self.seeds = seeds
        self.num_seeds = int(table.num_seeds) if seeds == "separate" else 1
        self.card = card
        self.metadata = {**table.metadata, "surrogate_report_card": card.to_dict()}
        self._names = list(table.hyperparameters.columns)
        self._values_of = values_getter(self._names)
        self._per_config = self.num_seeds * len(self.fidelity_values) * len(self.objectives_names) * 4
        self.cache_bytes = int(cache_bytes)
        self._lru: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lru_max = max(1024, self.cache_bytes // max(self._per_config, 1))
        self._table_pred: np.ndarray | None = None
        self.hits = 0
        self.misses = 0
        self.seeds_on_demand = 0

    # ------------------------------------------------------------------ table views
    @property
    def hyperparameters(self) -> pd.DataFrame:
        return self.table.hyperparameters

    @property
    def objectives(self) -> np.ndarray:
        return self.table.objectives

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.table.shape

    @property
    def n_configs(self) -> int:
        return self.table.n_configs

    def __repr__(self) -> str:
        md = self.metadata
        label = f"{md.get('name')}/{md.get('task')} " if md.get("name") else ""
        return (f"SurrogateBlackbox({label}model {self.card.model}, seeds {self.seeds}, fitted on "
                f"{self.table.n_configs} configs; {len(self.fidelity_values)} {self.fidelity_name} x "
                f"{len(self.objectives_names)} objectives {self.objectives_names})")

    # ------------------------------------------------------------------ prediction
    def _key(self, config: Mapping[str, Any]) -> tuple:
        try:
            return _row_key(self._values_of(config))
        except KeyError:
            missing = [k for k in self._names if k not in config]
            raise BlackboxError(f"configuration {dict(config)!r} lacks hyperparameters {missing}; "
                                f"expected {self._names}") from None

    def predict_table(self) -> np.ndarray:
        """Predicted curves of every tabulated configuration, ``(n_configs, num_seeds,
        n_fidelities, n_objectives)`` float32 (computed once, in batches)."""
        if self._table_pred is None:
            cols = {c: self.table.hyperparameters[c].tolist() for c in self._names}
            X = self._features.columns(cols)
            out = np.empty((len(X),) + self._model.curve_shape, np.float32)
            step = max(1, (64 * 2 ** 20) // max(self._per_config, 1))
            for a in range(0, len(X), step):
                out[a:a + step] = self._model.predict(X[a:a + step])
            out.setflags(write=False)
            self._table_pred = out
        return self._table_pred

    def _table_rows(self) -> dict | None:
        """``{key: row}`` of the tabulated configurations when the whole table's predictions
        fit the cache (they are then served by ``predict_table``), else ``None``."""
        if self.table.n_configs * self._per_config > self.cache_bytes:
            return None
        return self.table._lookup()

    def _table_row(self, key: tuple) -> int | None:
        rows = self._table_rows()
        return None if rows is None else rows.get(key)

    def _predict_into_cache(self, keys: Sequence[tuple], configs: Sequence[Mapping[str, Any]],
                            X: np.ndarray | None = None, seeds: Sequence[int | None] | None = None,
                            needed_first: bool = False) -> list[_Entry]:
        """Predict ``configs`` (distinct, not cached; ``X`` their features if known) in one
        model call and cache them: their latent vectors, plus, for those with a seed in
        ``seeds`` (aligned with ``configs``), the curve of that seed (expanded in one batch
        per seed). Other seeds are expanded when first asked for (``_seed_curve``): the same
        numbers. The last configuration becomes the most recently used, or the first with
        ``needed_first``."""
        X = self._features.configs(configs) if X is None else X
        self.misses += len(configs)
        if seeds is None:
            L, by_seed = self._model.predict(X, latent=True), {}
        else:
            L, by_seed = self._model.predict_seeds(X, seeds)
        entries = [_Entry(L[i:i + 1], [None] * self.num_seeds) for i in range(len(keys))]
        for seed, (rows, curves) in by_seed.items():
            curves.setflags(write=False)
            for i, curve in zip(rows, curves):
                entries[i].seeds[seed] = curve
        lru = self._lru
        order = range(len(keys) - 1, -1, -1) if needed_first else range(len(keys))
        for i in order:
            lru[keys[i]] = entries[i]
        while len(lru) > self._lru_max:
            lru.popitem(last=False)
        return entries

    def _seed_curve(self, entry: _Entry, seed: int) -> np.ndarray:
        curve = entry.seeds[seed]
        if curve is None:
            self.seeds_on_demand += 1
            curve = self._model.expand(entry.latent, seed)[0]
            curve.setflags(write=False)
            entry.seeds[seed] = curve
        return curve

    def _whole_curves(self, entries: Sequence[_Entry]) -> np.ndarray:
        """``(len(entries), num_seeds, n_fidelities, n_objectives)``: every seed of each entry,
        expanded in one batch per seed."""
        if not entries:
            return np.empty((0,) + self._model.curve_shape, np.float32)
        return self._model.curves(np.concatenate([e.latent for e in entries]))

    def curves_for(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Curves of many configurations, ``(n, num_seeds, n_fidelities, n_objectives)``:
        cache hits are looked up, all misses are predicted in one batch."""
        keys = [self._key(c) for c in configs]
        out = np.empty((len(keys),) + self._model.curve_shape, np.float32)
        todo: dict[tuple, list[int]] = {}
        entries: list[_Entry] = []
        where: list[list[int]] = []
        for i, key in enumerate(keys):
            row = self._table_row(key)
            if row is not None:
                out[i] = self.predict_table()[row]
                self.hits += 1
                continue
            got = self._lru.get(key)
            if got is not None:
                self._lru.move_to_end(key)
                entries.append(got)
                where.append([i])
                self.hits += 1
            else:
                todo.setdefault(key, []).append(i)
        if todo:
            first = [configs[idx[0]] for idx in todo.values()]
            for c in first:
                self.configuration_space.validate(c)
            entries += self._predict_into_cache(list(todo), first)
            where += list(todo.values())
        if entries:
            for idx, curve in zip(where, self._whole_curves(entries)):
                out[idx] = curve
        return out

    def cached_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray | None:
        """``config_curve(config, seed)`` if it is cached (no model call), else ``None``."""
        key = self._key(config)
        got = self._lru.get(key)
        if got is not None:
            self.hits += 1
            self._lru.move_to_end(key)
            return self._seed_curve(got, seed)
        if self._table_pred is not None:
            row = self._table_row(key)
            if row is not None:
                self.hits += 1
                return self._table_pred[row, seed]
        return None

    def prefetch(self, configs: Sequence[Mapping[str, Any]], seeds: Sequence[int] | None = None) -> int:
        """Predict every configuration of ``configs`` that is not cached yet in one model
        call and cache them; returns how many were predicted. ``seeds`` (optional, aligned
        with the first configurations; may be shorter): the seed each will run with, whose
        curve is then computed in the same batch. The cache holds each configuration's latent
        vector (knn: its nearest rows; regressors: the predicted principal components) and
        computes the curve of another seed when it is first asked for, so a trial pays for
        one seed's curve, not for every seed's.

        The simulator calls it on a cache miss with the configuration it needs followed by
        those the scheduler will suggest next (``Scheduler.upcoming_configs``) and the seeds
        the next trials will draw, so a run over a continuous space costs one model call per
        batch of new configurations instead of one per trial. Results do not change: a curve
        is the same predicted alone or in a batch, whole or one seed at a time. At most as
        many configurations as the cache holds are predicted (the first ones); configurations
        that are not valid in the space are left for ``config_curve`` to reject when they
        are actually asked for. Tabulated configurations are served by ``predict_table``
        when the whole table fits the cache.

        Example:
            >>> import numpy as np, pandas as pd
            >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
            >>> obj = np.zeros((10, 1, 2, 1), np.float32); obj[..., 0] = np.arange(10)[:, None, None]
            >>> t = TabularBlackbox(pd.DataFrame({"x": np.arange(10) / 10}), obj, [1, 2], ["loss"])
            >>> sur = add_surrogate(t, configuration_space=ConfigurationSpace({"x": uniform(0, 1)}))
            >>> sur.prefetch([{"x": 0.12}, {"x": 0.55}, {"x": 0.12}, {"x": 7.0}], seeds=[0, 0])
            2
            >>> sur.cached_curve({"x": 0.55}) is not None, sur.cache_info()["misses"]
            (True, 2)
            >>> [None if c is None else c[:, 0].tolist() for c in sur.prefetch_curves([{"x": 0.12}, {"x": 7.0}], [0, 0])]
            [[1.0, 1.0], None]
        """
        return self._prefetch(configs, seeds, curves=False)[0]

    def prefetch_curves(self, configs: Sequence[Mapping[str, Any]],
                        seeds: Sequence[int]) -> list[np.ndarray | None]:
        """``prefetch(configs, seeds)``, returning the curve of each of the first
        ``len(seeds)`` configurations at its seed (``None`` for one that is not valid in the
        space: ``config_curve`` explains what is wrong with it). The simulator takes the curves
        of its upcoming trials from here, without looking each one up again (example: see
        ``prefetch``)."""
        return self._prefetch(configs, seeds, curves=True)[1]

    def _prefetch(self, configs: Sequence[Mapping[str, Any]], seeds: Sequence[int] | None,
                  curves: bool) -> tuple[int, list]:
        n_hints = 0 if seeds is None else len(seeds)
        for seed in (seeds or ()):
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < self.num_seeds:
                raise BlackboxError(f"prefetch seed {seed!r} is not valid; seeds are integers in "
                                    f"[0, {self.num_seeds - 1}]")
        keys: list[tuple] = []
        todo: list[Mapping[str, Any]] = []
        hints: list[int | None] = []
        asked: list[tuple | None] = []          # the key of each configuration with a seed
        wanted: set[tuple] = set()
        table_rows = False
        lru, tabulated, room = self._lru, self._table_rows() or {}, self._lru_max
        key_of, values_of = _row_key, self._values_of
        for i, c in enumerate(configs):
            if len(todo) >= room:
                break
            try:
                key = key_of(values_of(c))
            except (KeyError, TypeError):
                key = None
            if i < n_hints:
                asked.append(key)
            if key is None or key in wanted or key in lru:
                continue
            if key in tabulated:
                table_rows = True
                continue
            wanted.add(key)
            keys.append(key)
            todo.append(c)
            hints.append(seeds[i] if i < n_hints else None)
        if table_rows:
            self.predict_table()
        if todo:
            X, ok = self._features.checked(todo)
            if not ok.all():
                keys = [k for k, good in zip(keys, ok) if good]
                todo = [c for c, good in zip(todo, ok) if good]
                hints = [h for h, good in zip(hints, ok) if good]
                X = X[ok]
        if todo:
            # the configuration needed first becomes the most recently used: under pressure
            # the cache drops those needed last first
            self._predict_into_cache(keys, todo, X, seeds=hints if n_hints else None, needed_first=True)
        if not curves:
            return len(todo), []
        out: list[np.ndarray | None] = []
        for key, seed in zip(asked, seeds):
            entry = lru.get(key) if key is not None else None
            if entry is not None:
                self.hits += 1
                out.append(self._seed_curve(entry, seed))
            elif key is not None and key in tabulated:
                self.hits += 1
                out.append(self.predict_table()[tabulated[key], seed])
            else:
                out.append(None)
        out += [None] * (n_hints - len(out))       # beyond the cache's room
        return len(todo), out

    def config_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray:
        """One configuration's curve at one seed, ``(n_fidelities, n_objectives)`` (read-only;
        objectives in ``objectives_names`` order). The simulator asks for curves this way."""
        key = self._key(config)
        row = self._table_row(key)
        if row is not None:
            self.hits += 1
            return self.predict_table()[row, seed]
        got = self._lru.get(key)
        if got is None:
            self.configuration_space.validate(config)
            got = self._predict_into_cache([key], [config], seeds=[seed])[0]
        else:
            self.hits += 1
            self._lru.move_to_end(key)
        return self._seed_curve(got, seed)

    def evaluate(self, config: Mapping[str, Any], fidelity: Any = None,
                 seed: int | None = None) -> dict[str, Any]:
        seed = self.check_seed(seed)
        curve = self.config_curve(config, seed)
        if fidelity is None:
            return {name: curve[:, j].copy() for j, name in enumerate(self.objectives_names)}
        k = self.fidelity_index(fidelity)
        return {name: float(curve[k, j]) for j, name in enumerate(self.objectives_names)}

    def clear_cache(self, table: bool = False) -> None:
        """Forget every cached configuration (and, with ``table=True``, the table's batch
        prediction); counters are kept."""
        self._lru.clear()
        if table:
            self._table_pred = None

    def cache_info(self) -> dict:
        """Cache hits, misses (configurations predicted one batch at a time), sizes, and
        ``seeds_on_demand``: curves of a cached configuration's seed computed on their own
        because that seed was not the one foreseen when it was predicted."""
        return {"hits": self.hits, "misses": self.misses, "seeds_on_demand": self.seeds_on_demand,
                "lru_size": len(self._lru), "lru_max": self._lru_max,
                "table_predicted": self._table_pred is not None}

    # ------------------------------------------------------------------ storage
    def save(self, name: str, task: str | None = None, *, force: bool = False) -> Path:
        """Save into the blackbox cache as ``name/task`` (default task: the table's): the
        table's folder, ``surrogate.joblib`` (the fitted model) and ``surrogate.json``
        (settings, report card, sha256 of the model file), all renamed into place at once.
        ``load_blackbox(name, task)`` returns it as a ``SurrogateBlackbox``; ``hposim
        blackbox info`` shows the card. An existing ``name/task`` is an error unless
        ``force=True``; names of embedded blackboxes and recipes are reserved."""
        import joblib

        from blackbox_repo.checksums import sha256_file
        from blackbox_repo.repository import save_blackbox

        task = task or str(self.table.metadata.get("task") or "default")
        origin = "/".join(str(x) for x in (self.table.metadata.get("name"),
                                           self.table.metadata.get("task")) if x)
        table_source = self.table.metadata.get("source")
        source = f"{self.card.model} surrogate of {origin or 'a table'}" + (
            f" (table source: {table_source})" if table_source else "")
        card = self.card.to_dict()

        def write_model(staging: Path) -> None:
            model_file = staging / SURROGATE_MODEL
            joblib.dump({"model": self._model, "features": self._features}, model_file, compress=3)
            doc = {
                "format_version": SURROGATE_FORMAT_VERSION,
                "name": name, "task": task, "surrogate_of": origin or None,
                "model": self.card.model, "seeds": self.seeds,
                "configuration_space": self.configuration_space.to_dict(),
                "versions": _versions(self.card.model),
                "files": {SURROGATE_MODEL: {"sha256": sha256_file(model_file),
                                            "bytes": model_file.stat().st_size}},
                "report_card": card,
            }
            _write_doc(staging / SURROGATE_JSON, doc)

        folder = save_blackbox(self.table, name, task, source=source,
                               extra={"surrogate_report_card": card}, force=force, write_extra=write_model)
        self.metadata.update({"name": name, "task": task, "folder": str(folder)})
        return folder


def _versions(model: str) -> dict:
    import sklearn
    out = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if model == "xgboost":
        try:
            import xgboost
            out["xgboost"] = xgboost.__version__
        except ImportError:
            pass
    return out


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _write_doc(path: Path, doc: dict) -> None:
    from blackbox_repo.checksums import sha256_bytes
    body = {k: v for k, v in doc.items() if k != "document_sha256"}
    full = {**body, "document_sha256": sha256_bytes(_canonical(body))}
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_doc(folder: Path) -> dict:
    from blackbox_repo.checksums import sha256_bytes
    from blackbox_repo.storage import CorruptBlackboxError
    path = folder / SURROGATE_JSON
    remedy = "refit it with `hposim blackbox surrogate`"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurrogateError(f"{folder} holds no surrogate ({SURROGATE_JSON} is missing)") from None
    except (OSError, ValueError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be read ({e}); {remedy}") from None
    if not isinstance(doc, dict):
        raise CorruptBlackboxError(path, f"{path} is not a JSON object; {remedy}")
    body = {k: v for k, v in doc.items() if k != "document_sha256"}
    actual = sha256_bytes(_canonical(body))
    if actual != doc.get("document_sha256"):
        raise CorruptBlackboxError(path, f"{path} does not match its checksum (sha256 {actual}, "
                                         f"recorded {doc.get('document_sha256')}); {remedy}",
                                   expected=doc.get("document_sha256"), actual=actual)
    if doc.get("format_version", 0) > SURROGATE_FORMAT_VERSION:
        raise SurrogateError(f"{path} has format version {doc.get('format_version')}; this hposim reads "
                             f"up to {SURROGATE_FORMAT_VERSION}: upgrade hposim")
    return doc


def verify_surrogate(folder: str | os.PathLike) -> list[str]:
    """Problems with a saved surrogate's own files (``surrogate.json`` and the model file);
    the table beside them is checked by ``storage.verify_folder``. Empty list = fine."""
    from blackbox_repo.checksums import sha256_file
    folder = Path(folder)
    from blackbox_repo.storage import CorruptBlackboxError
    try:
        doc = _read_doc(folder)
    except (BlackboxError, CorruptBlackboxError) as e:
        return [str(e)]
    problems = []
    for fname, entry in (doc.get("files") or {}).items():
        path = folder / fname
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = sha256_file(path)
        if actual != entry.get("sha256"):
            problems.append(f"{path}: sha256 {actual}, expected {entry.get('sha256')} "
                            f"({path.stat().st_size} bytes, expected {entry.get('bytes')})")
    return problems


def load_surrogate(folder: str | os.PathLike) -> SurrogateBlackbox:
    """Open a surrogate saved by ``SurrogateBlackbox.save`` (checksums verified)."""
    import joblib

    from blackbox_repo.storage import CorruptBlackboxError, load_tabular
    folder = Path(folder).absolute()
    doc = _read_doc(folder)
    problems = verify_surrogate(folder)
    if problems:
        raise CorruptBlackboxError(folder / SURROGATE_MODEL, "; ".join(problems) +
                                   "; refit it with `hposim blackbox surrogate`")
    saved = doc.get("versions") or {}
    now = _versions(str(doc.get("model")))
    changed = {k: (saved[k], now[k]) for k in saved if k in now and k != "numpy" and saved[k] != now[k]}
    if changed:
        warnings.warn(f"surrogate {folder} was fitted with {changed} (saved, installed); its "
                      f"predictions may differ: refit it with `hposim blackbox surrogate`", stacklevel=2)
    table = load_tabular(folder)
    state = joblib.load(folder / SURROGATE_MODEL)
    features = state["features"]
    features.space = ConfigurationSpace.from_dict(doc["configuration_space"])
    card = ReportCard.from_dict(doc.get("report_card") or {"model": doc.get("model"), "seeds": doc.get("seeds")})
    sur = SurrogateBlackbox(table, state["model"], features, seeds=str(doc["seeds"]), card=card)
    return sur


# ---------------------------------------------------------------------------- fitting
@dataclass
class _Split:
    used: np.ndarray
    train: np.ndarray
    test: np.ndarray


def _split(n: int, max_configs: int | None, holdout: float, rng: np.random.Generator) -> _Split:
    """Subsample to ``max_configs`` configurations, then hold out a share of them."""
    used = np.arange(n)
    if max_configs is not None and max_configs < n:
        used = np.sort(rng.choice(n, size=max_configs, replace=False))
    perm = rng.permutation(used)
    n_test = 0
    if holdout > 0 and len(used) >= 5:
        n_test = min(max(1, int(round(holdout * len(used)))), len(used) - 2)
    return _Split(used=used, train=np.sort(perm[n_test:]), test=np.sort(perm[:n_test]))


def _seed_mean(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=1, keepdims=True)


def _targets(table: TabularBlackbox, rows: np.ndarray, seeds: str) -> np.ndarray:
    Y = np.asarray(table.objectives[rows], dtype=np.float32)
    return _seed_mean(Y).astype(np.float32) if seeds == "average" else Y


def _with_zero(t: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(t.shape[:-1] + (1,)), t], axis=-1)


def add_surrogate(blackbox: TabularBlackbox, model: str = "knn", configuration_space: ConfigurationSpace | None = None,
                  seeds: str = "separate", max_configs: int | None = None, random_state: int = 0, *,
                  n_components: int | str | None = "auto", holdout: float = 0.2,
                  cache_bytes: int = DEFAULT_CACHE_BYTES, **model_kwargs: Any) -> SurrogateBlackbox:
    """Fit a surrogate of ``blackbox`` (a table) and measure it; returns a ``SurrogateBlackbox``.

    ``model``: one of ``MODELS``; ``model_kwargs`` go to the model (``n_neighbors`` for
    knn, scikit-learn / XGBoost arguments otherwise). ``configuration_space``: the space the
    surrogate answers (default: the table's); every tabulated value must belong to it.
    ``seeds``: ``"separate"`` (one curve per seed, as tabulated) or ``"average"`` (the mean
    over seeds; the surrogate has one seed). ``max_configs``: fit on a random subset of that
    many configurations (large tables). ``n_components``: principal components of the
    (standardized) curves the regressor predicts; ``"auto"`` = 32 when a curve has more
    numbers (never for knn), ``None`` = no compression. ``holdout``: share of configurations
    held out to measure the report card (the final model is then fitted on all).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> x = np.linspace(0, 1, 30)
        >>> obj = np.stack([np.broadcast_to((x[:, None] - 0.5) ** 2, (30, 4)),
        ...                 np.broadcast_to(np.arange(1, 5) * (1 + x[:, None]), (30, 4))], -1)
        >>> t = TabularBlackbox(pd.DataFrame({"x": x}), obj[:, None], [1, 2, 3, 4], ["loss", "time"],
        ...                     metric_elapsed_time="time")
        >>> sur = add_surrogate(t, "random_forest", n_estimators=20)
        >>> sur.card.spearman["mean"] > 0.5
        True
    """
    if isinstance(blackbox, SurrogateBlackbox):
        blackbox = blackbox.table
    if not isinstance(blackbox, TabularBlackbox):
        raise SurrogateError(f"add_surrogate fits a TabularBlackbox, got {type(blackbox).__name__}")
    model = _choose(model, MODELS, "model")
    seeds = _choose(seeds, SEED_MODES, "seeds")
    if max_configs is not None and (isinstance(max_configs, bool) or not isinstance(max_configs, (int, np.integer))
                                    or max_configs < 2):
        raise SurrogateError(f"max_configs={max_configs!r} is not valid; it must be an integer >= 2 or None")
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout < 1:
        raise SurrogateError(f"holdout={holdout!r} is not valid; it must be a number in [0, 1)")
    _check_model_kwargs(model, model_kwargs)
    if model != "knn":
        _make_regressor(model, random_state, model_kwargs)  # argument and import errors first
    table = blackbox
    space = configuration_space if configuration_space is not None else table.configuration_space
    if not isinstance(space, ConfigurationSpace):
        raise SurrogateError(f"configuration_space must be a ConfigurationSpace, got {type(space).__name__}")
    columns = list(table.hyperparameters.columns)
    if sorted(space) != sorted(columns):
        raise SurrogateError(f"the configuration space's hyperparameters {list(space)} differ from the "
                             f"table's {columns}")
    for k, dom in space.items():
        outside = [v for v in pd.unique(table.hyperparameters[k]) if not dom.contains(v)]
        if outside:
            raise SurrogateError(f"tabulated values of '{k}' lie outside the configuration space "
                                 f"({dom.describe()}): {outside[:5]}")
    features = _Features(space)
    X_all = features.columns({k: table.hyperparameters[k].tolist() for k in space})
    n, s, f, o = table.shape
    ei = table.objective_index(table.metric_elapsed_time) if table.metric_elapsed_time else None
    s_out = s if seeds == "separate" else 1
    n_out = s_out * f * o
    if n_components == "auto":
        nc = None if model == "knn" or n_out <= AUTO_COMPONENTS else AUTO_COMPONENTS
    elif n_components is None:
        nc = None
    elif isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise SurrogateError(f"n_components={n_components!r} is not valid; it must be 'auto', None or "
                             f"an integer >= 1")
    else:
        nc = int(n_components)
    rng = np.random.default_rng(random_state)
    sp = _split(n, max_configs, float(holdout), rng)

    def new_model() -> _CurveModel:
        return _CurveModel(model, elapsed_index=ei, random_state=random_state, n_components=nc,
                           model_kwargs=model_kwargs)

    mi = table.objective_index(table.metric)
    card = ReportCard(model=model, seeds=seeds, model_kwargs=_jsonable_kwargs(model, model_kwargs),
                      n_configs=n, n_used=len(sp.used), n_train=len(sp.train), n_test=len(sp.test),
                      metric=table.metric,
                      configuration_space="table" if space == table.configuration_space else "custom",
                      versions=_versions(model))
    mono: dict[str, Any] = {"elapsed_time": table.metric_elapsed_time}
    if ei is not None:
        mono["table"], _ = count_decreases(_with_zero(np.asarray(table.objectives[..., ei], np.float64)))
    # ---------------------------------------------------------- held-out evaluation
    if len(sp.test):
        m = new_model()
        t0 = time.perf_counter()
        m.fit(X_all[sp.train], _targets(table, sp.train, seeds))
        card.eval_fit_seconds = round(time.perf_counter() - t0, 4)
        pred, raw_t = m.predict(X_all[sp.test], raw=True)
        true = _targets(table, sp.test, seeds)
        card.errors = held_out_errors(true, pred, table.objectives_names)
        rho = spearman_per_fidelity(_seed_mean(true[..., mi])[:, 0], _seed_mean(pred[..., mi])[:, 0])
        finite = [r for r in rho if r is not None]
        card.spearman = {"fidelity_values": [v.item() if isinstance(v, np.generic) else v
                                             for v in table.fidelity_values.tolist()],
                         "rho": rho, "mean": round(float(np.mean(finite)), 4) if finite else None,
                         "at_max_fidelity": rho[-1] if rho else None}
        if raw_t is not None:
            mono["held_out"], mono["held_out_steps"] = count_decreases(_with_zero(raw_t))
    # ---------------------------------------------------------- final model
    final = new_model()
    t0 = time.perf_counter()
    final.fit(X_all[sp.used], _targets(table, sp.used, seeds))
    card.fit_seconds = round(time.perf_counter() - t0, 4)
    card.n_dropped_nan = final.n_dropped_nan
    card.n_components = final.used_components
    sample_rng = np.random.default_rng(random_state + 1)
    batch = space.sample(sample_rng, 1024)
    Xb = features.configs(batch)
    t0 = time.perf_counter()
    pred_b, raw_b = final.predict(Xb, raw=True)
    card.throughput_configs_per_s = round(len(batch) / max(time.perf_counter() - t0, 1e-9), 1)
    if raw_b is not None:
        mono["random"], mono["random_steps"] = count_decreases(_with_zero(raw_b[:256]))
        after, _ = count_decreases(_with_zero(np.asarray(pred_b[..., ei], np.float64)))
        mono["after_repair"] = after
    singles = []
    for c in batch[:20]:
        x = features.configs([c])
        t0 = time.perf_counter()
        final.predict(x)
        singles.append(time.perf_counter() - t0)
    card.single_config_ms = round(1000 * float(np.median(singles)), 4)
    card.monotonicity = mono if ei is not None else {}
    return SurrogateBlackbox(table, final, features, seeds=seeds, card=card, cache_bytes=cache_bytes)


def _jsonable_kwargs(model: str, kwargs: Mapping[str, Any]) -> dict:
    merged = {**_DEFAULTS[model], **kwargs}
    out = {}
    for k, v in merged.items():
        try:
            json.dumps(v)
            out[k] = v
        except TypeError:
            out[k] = repr(v)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


# ---------------------------------------------------------------------------- repository
class SurrogateProvider(CacheProvider):
    """The cache provider, surrogate-aware: a cached task folder holding a
    ``surrogate.json`` loads as a ``SurrogateBlackbox``, any other as a table. It replaces
    the plain ``CacheProvider`` (same kind, same place in the lookup order).

    Example:
        >>> SurrogateProvider().kind
        'cached'
    """

    def load(self, name: str, task: str) -> Blackbox:
        from blackbox_repo.storage import CorruptBlackboxError
        folder = self.folder(name, task)
        if (folder / SURROGATE_JSON).is_file():
            return load_surrogate(folder)
        if (folder / SURROGATE_MODEL).is_file():
            # the model without its record would silently load as the plain table
            raise CorruptBlackboxError(folder / SURROGATE_JSON, f"{folder / SURROGATE_JSON} is missing beside "
                                       f"{SURROGATE_MODEL}: the surrogate cannot be checked or loaded; refit it "
                                       f"with `hposim blackbox surrogate ... --name {name} --force`")
        return super().load(name, task)

    def record(self, name: str) -> BlackboxRecord:
        rec = super().record(name)
        models = []
        for t in rec.tasks:
            path = self.root() / name / t / SURROGATE_JSON
            if path.is_file():
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                    models.append(f"{doc.get('model')} surrogate of {doc.get('surrogate_of') or '?'}")
                except (OSError, ValueError):
                    models.append("surrogate (unreadable surrogate.json)")
        if models and not rec.description:
            rec.description = "; ".join(dict.fromkeys(models))
        return rec


def _register() -> None:
    register_provider(SurrogateProvider())


_register()
