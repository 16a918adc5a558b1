"""Curve models of surrogates: features ``(n, p)`` -> curves ``(n, n_seeds, n_fidelities,
n_objectives)``, one class per model family behind one protocol (``CurveModel``).

Every model predicts in two steps: ``latent`` -- per configuration, what the model computes
from its features (knn: the nearest rows; regressors: the standardized targets in
principal-component space) -- then ``expand``, the curve of one seed from the latent vectors.
A cache keeps latent vectors and expands the seed a trial runs, so a trial pays for one seed's
curve; whole curves are expanded seed by seed, the same numbers.

Families (``CURVE_MODELS``, names in ``MODELS``):

- ``knn`` (``KnnCurveModel``): the mean curve of the nearest tabulated configurations (exact
  numpy search; ties go to the first row, like ``TabularBlackbox.config_id``);
- ``random_forest``, ``mlp``, ``xgboost`` (``RegressorCurveModel`` subclasses): a multi-output
  regressor of the standardized curve (compressed to principal components when asked), the
  cumulative elapsed time learnt as per-level increments, clipped at 0 and summed.

Example:
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 6)[:, None]
    >>> Y = np.stack([X * [1.0, 2.0], np.ones((6, 2))], -1)[:, None].astype(np.float32)
    >>> m = CURVE_MODELS["knn"](elapsed_index=1, random_state=0, n_components=None, model_kwargs={}).fit(X, Y)
    >>> m.predict(np.array([[0.41]]))[0, 0, :, 0].tolist()
    [0.4000000059604645, 0.800000011920929]
"""
from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from blackbox_repo.blackbox import BlackboxError
from blackbox_repo.report_card import count_decreases
from blackbox_repo.surrogate.kernels import (blas_threads, blocked_product, clip_decreases, forest_predict,
                                             mlp_forward, rows_matmul, running_max)

__all__ = ["SurrogateError", "CurveModel", "KnnCurveModel", "RegressorCurveModel", "RandomForestCurveModel",
           "MLPCurveModel", "XGBoostCurveModel", "CURVE_MODELS", "MODELS", "LegacyCurveModel"]


#: curves with more numbers than this are compressed to this many principal components
AUTO_COMPONENTS = 32


class SurrogateError(BlackboxError):
    """Bad input to ``add_surrogate`` or a surrogate that cannot be loaded."""


class CurveModel(ABC):
    """Features ``(n, p)`` -> curves ``(n, n_seeds, n_fidelities, n_objectives)`` float32.

    A family gives ``family``, ``defaults`` (its arguments' defaults), ``check_arguments``,
    ``fit``, ``_latent`` (features -> latent vectors) and ``_expand`` (latent vectors -> one
    seed's curves); prediction (``predict``, ``curves``, ``expand``, ``predict_seeds``) is
    shared. ``predict(X, raw=True)`` also returns the cumulative elapsed time before the
    repair (``(n, n_seeds, n_fidelities)``) so the report card can count decreasing steps.

    Example:
        >>> sorted(CURVE_MODELS) == sorted(MODELS)
        True
    """

    family: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    #: ``n_components="auto"`` compresses curves with more numbers than this to this many
    #: principal components (``None``: never)
    auto_components: ClassVar[int | None] = None

    def __init__(self, *, elapsed_index: int | None, random_state: int, n_components: int | None,
                 model_kwargs: Mapping[str, Any]):
        self.model = self.family
        self.ei = elapsed_index
        self.random_state = int(random_state)
        self.n_components = n_components
        self.model_kwargs = dict(model_kwargs)
        self.curve_shape: tuple[int, int, int] = (0, 0, 0)
        self.n_dropped_nan = 0
        self.used_components: int | None = None

    # ----------------------------------------------------------------- the family's part
    @classmethod
    @abstractmethod
    def check_arguments(cls, kwargs: Mapping[str, Any], random_state: int) -> None:
        """Raise ``SurrogateError`` for arguments the family does not take (before fitting)."""

    @classmethod
    def versions(cls) -> dict[str, str]:
        """Versions of the libraries whose numbers a fitted model depends on."""
        import sklearn
        return {"numpy": np.__version__, "scikit-learn": sklearn.__version__}

    @abstractmethod
    def fit(self, X: np.ndarray, Y: np.ndarray) -> "CurveModel":
        """Fit on features ``X`` ``(n, p)`` and curves ``Y`` ``(n, n_seeds, n_fidelities, n_objectives)``."""

    @abstractmethod
    def _latent(self, X: np.ndarray) -> np.ndarray:
        """Latent vectors of features ``X``, one row per row of ``X``."""

    @abstractmethod
    def _expand(self, L: np.ndarray, seed: int, raw: bool):
        """Curves of one seed, ``(n, n_fidelities, n_objectives)``, from latent vectors (with
        ``raw``: and the cumulative elapsed time before the repair, or ``None``)."""

    # ----------------------------------------------------------------- prediction
    def predict(self, X: np.ndarray, raw: bool = False, latent: bool = False):
        """Curves ``(n, n_seeds, n_fidelities, n_objectives)`` float32 of features ``X``;
        with ``latent=True`` only each row's latent vector, which ``expand`` turns into the
        curve of one seed (the same numbers as here). With ``raw=True`` also the cumulative
        elapsed time before the repair, ``(n, n_seeds, n_fidelities)`` (``None`` without an
        elapsed-time objective)."""
        with blas_threads(X.shape[0]):
            L = self._latent(X)
            return L if latent else self._curves(L, raw)

    def curves(self, L: np.ndarray) -> np.ndarray:
        """Whole curves ``(n, n_seeds, n_fidelities, n_objectives)`` of latent vectors ``L``."""
        with blas_threads(L.shape[0]):
            return self._curves(L, False)

    def expand(self, L: np.ndarray, seed: int, raw: bool = False):
        """Curves of one seed, ``(n, n_fidelities, n_objectives)`` float32, from latent vectors
        ``L`` (``predict(X, latent=True)``); a row's curve does not depend on the other rows.
        With ``raw=True`` also the cumulative elapsed time before the repair,
        ``(n, n_fidelities)`` (``None`` when there is nothing to repair)."""
        with blas_threads(L.shape[0]):
            return self._expand(L, seed, raw)

    def predict_seeds(self, X: np.ndarray, seeds: Sequence[int | None]) -> tuple[np.ndarray, dict]:
        """Latent vectors of ``X`` and, for each row with a seed in ``seeds`` (aligned with
        the rows; ``None`` = unknown), the curve of that seed: ``(L, {seed: (rows, curves)})``,
        each seed's rows expanded in one batch."""
        with blas_threads(X.shape[0]):
            L = self._latent(X)
            rows: dict[int, list[int]] = {}
            for i, s in enumerate(seeds):
                if s is not None:
                    rows.setdefault(int(s), []).append(i)
            return L, {s: (r, self._expand(L[r], s, False)) for s, r in sorted(rows.items())}

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


class KnnCurveModel(CurveModel):
    """The mean curve of the ``n_neighbors`` nearest training configurations (duplicates: the
    first row). With one neighbour it reproduces the table on tabulated configurations, NaN
    cells included; latent vectors are the neighbours' rows.

    Example:
        >>> import numpy as np
        >>> m = KnnCurveModel(elapsed_index=None, random_state=0, n_components=None,
        ...                   model_kwargs={"n_neighbors": 2}).fit(np.eye(3), np.arange(6.0).reshape(3, 1, 2, 1))
        >>> m.predict(np.array([[1.0, 0.1, 0.0]]))[0, 0, :, 0].tolist()
        [1.0, 2.0]
    """

    family = "knn"
    defaults = {"n_neighbors": 1}

    @classmethod
    def check_arguments(cls, kwargs: Mapping[str, Any], random_state: int) -> None:
        unknown = [k for k in kwargs if k != "n_neighbors"]
        if unknown:
            raise SurrogateError(f"unknown arguments {unknown} for model 'knn'; valid: ['n_neighbors']")
        k = kwargs.get("n_neighbors", 1)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise SurrogateError(f"n_neighbors={k!r} is not valid; it must be an integer >= 1")

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "KnnCurveModel":
        self.curve_shape = tuple(Y.shape[1:])  # type: ignore[assignment]
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

    def _latent(self, X: np.ndarray) -> np.ndarray:
        """Rows of the ``k`` nearest training configurations, ``(n, k)`` (ties: the first row)."""
        n_train = self.X.shape[0]
        chunk = max(1, 4_000_000 // max(n_train, 1))
        out = [np.zeros((0, self.k), np.intp)]
        for a in range(0, X.shape[0], chunk):
            q = X[a:a + chunk]
            d2 = self.sq[None, :] - 2.0 * rows_matmul(q, self.X.T)   # |q|^2 left out: same for every row
            if self.k == 1:
                out.append(np.argmin(d2, axis=1)[:, None])
            else:
                out.append(np.argpartition(d2, self.k - 1, axis=1)[:, :self.k])
        return np.concatenate(out, axis=0)

    def _expand(self, L: np.ndarray, seed: int, raw: bool):
        if self.k == 1:
            curves = self.Y[L[:, 0], seed]
        else:
            curves = self.Y[L, seed].mean(axis=1, dtype=np.float64).astype(np.float32)
        if self.ei is None or (self.monotone and not raw):
            return (curves, None) if raw else curves
        t = curves[..., self.ei].astype(np.float64)
        fixed = running_max(t)
        if not np.array_equal(fixed, t, equal_nan=True):
            curves[..., self.ei] = fixed
        return (curves, t) if raw else curves


class RegressorCurveModel(CurveModel):
    """A multi-output regressor of the standardized curve (elapsed time as per-level
    increments), compressed to ``n_components`` principal components when given; training
    rows with NaN cells are dropped (their columns imputed with the mean when too few rows
    remain). A family gives ``regressor_class`` and may speed up ``predict_regressor``.

    Example:
        >>> issubclass(MLPCurveModel, RegressorCurveModel), MLPCurveModel.auto_components
        (True, 32)
    """

    auto_components = AUTO_COMPONENTS

    @classmethod
    @abstractmethod
    def regressor_class(cls) -> type:
        """The regressor's class (imported on first use: a ``SurrogateError`` when missing)."""

    @classmethod
    def make_regressor(cls, random_state: int, kwargs: Mapping[str, Any]) -> Any:
        """A new regressor with the family's defaults and ``kwargs``; unknown arguments are errors."""
        params = {**cls.defaults, **kwargs}
        regressor = cls.regressor_class()
        valid = set(regressor().get_params())
        unknown = [k for k in params if k not in valid]
        if unknown and cls.checks_argument_names:
            raise SurrogateError(f"unknown arguments {unknown} for model {cls.family!r}; valid: {sorted(valid)}")
        params.setdefault("random_state", random_state)
        return regressor(**params)

    #: whether unknown arguments are errors (XGBoost takes booster arguments it does not list)
    checks_argument_names: ClassVar[bool] = True

    @classmethod
    def check_arguments(cls, kwargs: Mapping[str, Any], random_state: int) -> None:
        cls.make_regressor(random_state, kwargs)       # argument and import errors first

    @staticmethod
    def predict_regressor(regressor: Any, X: np.ndarray) -> np.ndarray:
        """The fitted regressor's prediction for ``X``, float64."""
        return np.asarray(regressor.predict(X), dtype=np.float64)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "RegressorCurveModel":
        n = X.shape[0]
        self.curve_shape = tuple(Y.shape[1:])  # type: ignore[assignment]
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
        self.regressor = self.make_regressor(self.random_state, self.model_kwargs)
        self.regressor.fit(X, Z[:, 0] if self.single_output else Z)
        return self

    def _to_targets(self, Y: np.ndarray) -> np.ndarray:
        T = np.array(Y, dtype=np.float64)
        if self.ei is not None:
            T[..., self.ei] = np.diff(T[..., self.ei], axis=2, prepend=0.0)
        return T.reshape(T.shape[0], -1)

    def _latent(self, X: np.ndarray) -> np.ndarray:
        return self.predict_regressor(self.regressor, X).reshape(X.shape[0], -1)

    def _expand(self, L: np.ndarray, seed: int, raw: bool):
        s, f, o = self.curve_shape
        n = L.shape[0]
        W, b = self._seed_projection(seed)
        if self.components is not None:
            T = blocked_product(L, W)
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
            fixed = clip_decreases(cum)
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


# The regressor families below have one shape on purpose (the hooks of RegressorCurveModel:
# family, defaults, regressor_class, predict_regressor): a deliberate repeat, one class per family.
class RandomForestCurveModel(RegressorCurveModel):
    """scikit-learn's ``RandomForestRegressor``, evaluated from its leaves (``forest_predict``).

    Example:
        >>> import numpy as np
        >>> X = np.linspace(0, 1, 8)[:, None]
        >>> m = RandomForestCurveModel(elapsed_index=None, random_state=0, n_components=None,
        ...                            model_kwargs={"n_estimators": 5}).fit(X, np.repeat(X, 2, 1)[:, None, :, None])
        >>> m.predict(X[:2]).shape
        (2, 1, 2, 1)
    """

    family = "random_forest"
    defaults = {"n_estimators": 50, "max_features": 0.5, "min_samples_leaf": 1, "n_jobs": 1}

    @classmethod
    def regressor_class(cls) -> type:
        from sklearn.ensemble import RandomForestRegressor
        return RandomForestRegressor

    @staticmethod
    def predict_regressor(regressor: Any, X: np.ndarray) -> np.ndarray:
        return forest_predict(regressor, X)


class MLPCurveModel(RegressorCurveModel):
    """scikit-learn's ``MLPRegressor``, evaluated layer by layer (``mlp_forward``).

    Example:
        >>> MLPCurveModel.check_arguments({"hidden_layer_sizes": (16,)}, random_state=0)
        >>> MLPCurveModel.defaults["max_iter"]
        1000
    """

    family = "mlp"
    defaults = {"hidden_layer_sizes": (128, 128), "max_iter": 1000, "early_stopping": True,
                "learning_rate_init": 1e-3, "alpha": 1e-4}

    @classmethod
    def regressor_class(cls) -> type:
        from sklearn.neural_network import MLPRegressor
        return MLPRegressor

    @staticmethod
    def predict_regressor(regressor: Any, X: np.ndarray) -> np.ndarray:
        return mlp_forward(regressor, X)


class XGBoostCurveModel(RegressorCurveModel):
    """XGBoost (extra ``hposim[surrogates]``), one multi-output tree per boosting round.

    Example:
        >>> XGBoostCurveModel.defaults["multi_strategy"]
        'multi_output_tree'
    """

    family = "xgboost"
    defaults = {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.05, "subsample": 0.9,
                "tree_method": "hist", "multi_strategy": "multi_output_tree", "n_jobs": 1}
    checks_argument_names = False

    @classmethod
    def regressor_class(cls) -> type:
        try:
            from xgboost import XGBRegressor
        except ImportError:
            raise SurrogateError(
                "model 'xgboost' needs the xgboost package, which is not installed; install it with "
                "`pip install hposim[surrogates]` (the CPU-only xgboost-cpu wheel)") from None
        return XGBRegressor

    @classmethod
    def versions(cls) -> dict[str, str]:
        out = super().versions()
        try:
            import xgboost
            out["xgboost"] = xgboost.__version__
        except ImportError:
            pass
        return out

    @staticmethod
    def predict_regressor(regressor: Any, X: np.ndarray) -> np.ndarray:
        # the booster directly: the scikit-learn wrapper's predict builds a DMatrix per call
        # (with the wrapper's choice of trees: up to the best iteration after early stopping)
        try:
            rounds = {"iteration_range": (0, regressor.best_iteration + 1)}
        except AttributeError:
            rounds = {}
        return np.asarray(regressor.get_booster().inplace_predict(X, **rounds), dtype=np.float64)


#: model family name -> its class, in the order of ``MODELS``
CURVE_MODELS: dict[str, type[CurveModel]] = {
    cls.family: cls for cls in (KnnCurveModel, RandomForestCurveModel, MLPCurveModel, XGBoostCurveModel)}
MODELS = tuple(CURVE_MODELS)


class LegacyCurveModel(ABC):  # noqa: B024 -- ABC: the object layout of the families, so __class__ can be reassigned
    """Unpickles the model of a surrogate saved before the families were classes (one
    ``blackbox_repo.surrogate._CurveModel`` with a ``model`` attribute) as its family's class;
    the state's attributes are the same.

    Example:
        >>> old = LegacyCurveModel.__new__(LegacyCurveModel)
        >>> old.__setstate__({"model": "knn", "k": 1})
        >>> type(old).__name__, old.k
        ('KnnCurveModel', 1)
    """

    def __setstate__(self, state: dict) -> None:
        self.__class__ = CURVE_MODELS[state["model"]]  # type: ignore[assignment]
        self.__dict__.update(state)
