"""The Blackbox model and its tabulated implementation.

A blackbox answers ``evaluate(config, fidelity, seed)`` with a dict objective -> value.
``TabularBlackbox`` holds a table: ``hyperparameters`` (one row per configuration) and a
float32 ``objectives`` array shaped ``(n_configs, n_seeds, n_fidelities, n_objectives)``.

NaN cells mean "evaluation failed or missing": they are kept as NaN in every lookup and
the simulator reports them to schedulers as failed evaluations.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

import blackbox_repo
from blackbox_repo.configspace import (Choice, ConfigurationError, ConfigurationSpace, Ordinal,
                                       nearest_values)
from blackbox_repo.errors import InputError

__all__ = ["Blackbox", "TabularBlackbox", "BlackboxError"]


class BlackboxError(InputError):
    """Bad input to a blackbox (unknown objective, fidelity, seed, or configuration); an
    ``InputError`` (exit status 2), hence also a ``ValueError``."""


class Blackbox(ABC):
    """Anything that maps (configuration, fidelity, seed) to objective values.

    Attributes every blackbox has: ``configuration_space``, ``fidelity_name``,
    ``fidelity_values`` (sorted 1-D array), ``objectives_names``, ``metric_elapsed_time``
    (the cumulative elapsed-time objective, or ``None``), default ``metric`` and ``mode``,
    ``num_seeds`` and ``metadata`` (free-form provenance).

    Example:
        >>> import numpy as np, pandas as pd
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.arange(4).reshape(2, 1, 2, 1),
        ...                      fidelity_values=[1, 3], objectives_names=["loss"])
        >>> isinstance(bb, Blackbox), bb.metric, bb.mode, bb.num_seeds, bb.fidelity_index(3)
        (True, 'loss', 'min', 1, 1)
        >>> bb.evaluate({"x": 2})       # every fidelity at once
        {'loss': array([2., 3.], dtype=float32)}
    """

    configuration_space: ConfigurationSpace
    fidelity_name: str
    fidelity_values: np.ndarray
    objectives_names: list[str]
    metric_elapsed_time: str | None
    metric: str
    mode: str
    num_seeds: int
    metadata: dict

    @abstractmethod
    def evaluate(self, config: Mapping[str, Any], fidelity: Any = None,
                 seed: int | None = None) -> dict[str, Any]:
        """objective -> value at ``fidelity``; objective -> array over all fidelities
        when ``fidelity`` is None. ``seed`` is an index in ``0..num_seeds-1`` (default 0)."""

    # helpers shared by every implementation -----------------------------------------
    @property
    def fidelity_space(self) -> str:
        return self.fidelity_name

    def objective_index(self, name: str) -> int:
        try:
            return self.objectives_names.index(name)
        except ValueError:
            raise BlackboxError(
                f"unknown objective {name!r}; this blackbox has {self.objectives_names}") from None

    def fidelity_index(self, fidelity: Any) -> int:
        fv = self.fidelity_values
        i = int(np.searchsorted(fv, fidelity))
        if i < len(fv) and fv[i] == fidelity:
            return i
        near = nearest_values_list(fv.tolist(), fidelity)
        raise BlackboxError(
            f"fidelity {self.fidelity_name}={fidelity!r} is not tabulated; nearest valid values: {near} "
            f"(range {fv[0]}..{fv[-1]}, {len(fv)} levels)")

    def check_seed(self, seed: int | None) -> int:
        if seed is None:
            return 0
        if isinstance(seed, (bool, float)) or not 0 <= int(seed) < self.num_seeds or int(seed) != seed:
            raise BlackboxError(
                f"seed {seed!r} is not valid; seeds are indices 0..{self.num_seeds - 1}")
        return int(seed)

    def check_metric(self, metric: str, mode: str) -> None:
        self.objective_index(metric)
        if mode not in ("min", "max"):
            raise BlackboxError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'")

    # the simulator's protocol (blackbox_repo.curve_source.CurveSource): defaults for a blackbox
    # that only evaluates; tables and surrogates override them ---------------------------
    #: whether ``prefetch_curves`` computes ahead (the simulator then shows it upcoming configurations)
    prefetches: bool = False

    def rows(self) -> "TabularBlackbox | None":
        """The table whose rows are this blackbox's curves; ``None``: curves are computed per
        configuration."""
        return None

    def config_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray:
        """The curve of ``config`` at ``seed``, ``(n_fidelities, n_objectives)`` float32 (columns in
        ``objectives_names`` order); here from ``evaluate(config, None, seed)``."""
        ev = self.evaluate(config, None, seed)
        return np.column_stack([np.asarray(ev[n], dtype=np.float32) for n in self.objectives_names])

    def cached_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray | None:
        """``config_curve(config, seed)`` when it needs no computation, else ``None`` (here: never)."""
        return None

    def prefetch_curves(self, configs: Sequence[Mapping[str, Any]],
                        seeds: Sequence[int]) -> list[np.ndarray | None]:
        """Compute ``configs`` ahead in one batch and return the curves of the first
        ``len(seeds)`` at their seeds; here nothing is computed ahead (all ``None``)."""
        return [None] * len(seeds)


def nearest_values_list(values: Sequence[Any], value: Any, k: int = 3) -> list:
    try:
        x = float(value)
        return sorted(values, key=lambda v: abs(float(v) - x))[:k]
    except (TypeError, ValueError):
        return list(values[:k])


_PLAIN_KEY_TYPES = frozenset({str, float})


def _key_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return float(v)
    return v


def row_key(values: Sequence[Any]) -> tuple:
    """Hashable key of one configuration: numbers compare by value (1 == 1.0).

    Example:
        >>> row_key([1, "a"]) == row_key([1.0, "a"])
        True
    """
    plain = _PLAIN_KEY_TYPES
    return tuple([v if type(v) in plain else _key_value(v) for v in values])


class TabularBlackbox(Blackbox):
    """A blackbox given by a table of precomputed evaluations.

    Example:
        >>> import numpy as np, pandas as pd
        >>> hp = pd.DataFrame({"lr": [0.1, 0.01], "act": ["relu", "tanh"]})
        >>> obj = np.zeros((2, 1, 3, 2), dtype=np.float32)
        >>> obj[..., 0] = [[[0.5, 0.4, 0.3]], [[0.6, 0.5, 0.2]]]    # error
        >>> obj[..., 1] = [[[10, 20, 30]], [[5, 10, 15]]]           # elapsed time
        >>> bb = TabularBlackbox(hp, obj, fidelity_values=[1, 2, 3],
        ...                      objectives_names=["error", "time"], metric_elapsed_time="time")
        >>> bb.evaluate({"lr": 0.01, "act": "tanh"}, fidelity=3)["error"]
        0.2...
    """

    def __init__(
        self,
        hyperparameters: pd.DataFrame,
        objectives: np.ndarray,
        fidelity_values: Sequence[Any],
        objectives_names: Sequence[str],
        *,
        configuration_space: ConfigurationSpace | None = None,
        fidelity_name: str = "epoch",
        metric_elapsed_time: str | None = None,
        metric: str | None = None,
        mode: str = "min",
        metadata: Mapping[str, Any] | None = None,
    ):
        # a memmap becomes a plain ndarray view of the same mapped memory (no copy): indexing a
        # plain view skips np.memmap's Python-level __getitem__/__array_finalize__ on every lookup
        objectives = np.asarray(objectives)
        if objectives.ndim != 4:
            raise BlackboxError(
                f"objectives must be shaped (n_configs, n_seeds, n_fidelities, n_objectives), "
                f"got shape {objectives.shape}")
        if objectives.dtype != np.float32:
            objectives = objectives.astype(np.float32)
        n_configs, n_seeds, n_fid, n_obj = objectives.shape
        hyperparameters = hyperparameters.reset_index(drop=True)
        for c in hyperparameters.columns:
            if hyperparameters[c].dtype == object:
                # the dtype a fresh DataFrame infers (pandas 3: arrow-backed strings), as tables
                # read from Parquet have: result frames built from it then need no inference
                hyperparameters[c] = pd.Series(hyperparameters[c].tolist(), name=c)
        if len(hyperparameters) != n_configs:
            raise BlackboxError(
                f"{len(hyperparameters)} hyperparameter rows but objectives has {n_configs} configs")
        fidelity_values = np.asarray(fidelity_values)
        if fidelity_values.ndim != 1 or len(fidelity_values) != n_fid:
            raise BlackboxError(f"{len(fidelity_values)} fidelity values for {n_fid} fidelity levels")
        if n_fid > 1 and np.any(np.diff(fidelity_values) <= 0):
            raise BlackboxError(f"fidelity values must be strictly increasing, got {fidelity_values}")
        objectives_names = list(objectives_names)
        if len(objectives_names) != n_obj:
            raise BlackboxError(f"{len(objectives_names)} objective names for {n_obj} objectives")
        if len(set(objectives_names)) != n_obj:
            raise BlackboxError(f"objective names must be distinct, got {objectives_names}")
        self.hyperparameters = hyperparameters
        self.objectives = objectives
        self.fidelity_values = fidelity_values
        self.fidelity_name = fidelity_name
        self.objectives_names = objectives_names
        if metric_elapsed_time is not None and metric_elapsed_time not in objectives_names:
            raise BlackboxError(
                f"elapsed-time objective {metric_elapsed_time!r} is not among {objectives_names}")
        self.metric_elapsed_time = metric_elapsed_time
        if metric is None:
            others = [o for o in objectives_names if o != metric_elapsed_time]
            metric = others[0] if others else objectives_names[0]
        self.metric, self.mode = metric, mode
        self.check_metric(metric, mode)
        self.num_seeds = n_seeds
        self.configuration_space = configuration_space or ConfigurationSpace.from_values(
            {c: hyperparameters[c].tolist() for c in hyperparameters.columns})
        if list(self.configuration_space) != list(hyperparameters.columns):
            raise BlackboxError(
                f"configuration space {list(self.configuration_space)} does not match the table's "
                f"columns {list(hyperparameters.columns)}")
        self.metadata = dict(metadata or {})
        self._index: dict[tuple, int] | None = None
        self._configs: list[dict] | None = None

    # ------------------------------------------------------------------ shape
    @property
    def n_configs(self) -> int:
        return self.objectives.shape[0]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.objectives.shape)  # type: ignore[return-value]

    def __repr__(self) -> str:
        n, s, f, o = self.shape
        name = self.metadata.get("name", "")
        task = self.metadata.get("task", "")
        label = f"{name}/{task} " if name else ""
        return (f"TabularBlackbox({label}{n} configs x {s} seeds x {f} {self.fidelity_name} "
                f"x {o} objectives {self.objectives_names})")

    # ------------------------------------------------------------------ lookup
    def row_index(self) -> dict[tuple, int]:
        """``{row_key(values): row}`` of every tabulated configuration (built once; duplicates:
        the first row)."""
        if self._index is None:
            cols = [self.hyperparameters[c].tolist() for c in self.hyperparameters.columns]
            index: dict[tuple, int] = {}
            for i, row in enumerate(zip(*cols)):
                index.setdefault(row_key(row), i)
            self._index = index
        return self._index

    def config_id(self, config: Mapping[str, Any]) -> int:
        """Row of ``config`` in the table (O(1)); an error names the nearest valid values."""
        names = list(self.hyperparameters.columns)
        missing = [k for k in names if k not in config]
        if missing:
            raise BlackboxError(
                f"configuration {dict(config)!r} lacks hyperparameters {missing}; expected {names}")
        key = row_key([config[k] for k in names])
        i = self.row_index().get(key)
        if i is not None:
            return i
        raise BlackboxError(self._missing_config_message(config))

    def _missing_config_message(self, config: Mapping[str, Any]) -> str:
        parts = []
        for k in self.hyperparameters.columns:
            tabulated = self.tabulated_values(k)
            if row_key([config[k]]) not in {row_key([v]) for v in tabulated.values}:
                parts.append(f"'{k}'={config[k]!r} is not tabulated; nearest valid values: "
                             f"{nearest_values(tabulated, config[k])}")
        if parts:
            return "configuration not in the table: " + "; ".join(parts)
        # every value exists, the combination does not: name the nearest rows
        try:
            x = self.configuration_space.encode([config])
            table = self.encoded()
            d = np.abs(table - x).sum(axis=1)
            near = np.argsort(d, kind="stable")[:3]
            rows = [self.config(int(i)) for i in near]
        except ConfigurationError:
            rows = []
        return (f"configuration {dict(config)!r} is not in the table (each value exists, the "
                f"combination does not); nearest tabulated configurations: {rows}")

    def tabulated_values(self, name: str) -> Ordinal | Choice:
        """The distinct values column ``name`` takes in the table (as a finite domain)."""
        uniq = list(dict.fromkeys(v.item() if isinstance(v, np.generic) else v
                                  for v in self.hyperparameters[name].tolist()))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in uniq)
        return Ordinal(sorted(uniq)) if numeric else Choice(uniq)

    def encoded(self) -> np.ndarray:
        """The table's configurations encoded to ``[0, 1]^d`` (cached)."""
        if getattr(self, "_encoded", None) is None:
            self._encoded = self.configuration_space.encode_columns(
                {c: self.hyperparameters[c].tolist() for c in self.hyperparameters.columns})
        return self._encoded

    def config(self, config_id: int) -> dict:
        """The configuration in row ``config_id`` as a dict of Python scalars."""
        i = int(config_id)
        # column by column: a row Series would upcast ints to floats in mixed tables
        return {k: (v.item() if isinstance(v, np.generic) else v)
                for k, v in ((c, self.hyperparameters[c].iat[i]) for c in self.hyperparameters.columns)}

    def configs(self) -> list[dict]:
        """Every configuration, in row order (built once; copy a dict before changing it,
        the dicts are shared by every caller)."""
        if self._configs is None:
            cols = {c: self.hyperparameters[c].tolist() for c in self.hyperparameters.columns}
            self._configs = [dict(zip(cols, vals)) for vals in zip(*cols.values())]
        return list(self._configs)

    def curves(self, config_ids: np.ndarray | Sequence[int], seeds: np.ndarray | Sequence[int] | int = 0
               ) -> np.ndarray:
        """Whole curves for many configurations at once: ``(n, n_fidelities, n_objectives)``.

        ``seeds`` is one seed index for all, or one per configuration. Vectorized: one
        fancy-indexing operation on the (possibly memory-mapped) array.
        """
        ids = np.asarray(config_ids, dtype=np.intp)
        s = np.asarray(seeds, dtype=np.intp)
        return self.objectives[ids, s]

    def curve(self, config_id: int, seed: int = 0) -> np.ndarray:
        """One configuration's curve, ``(n_fidelities, n_objectives)``."""
        return self.objectives[int(config_id), int(seed)]

    def rows(self) -> "TabularBlackbox":
        """This table: its rows are the curves (``CurveSource``)."""
        return self

    def config_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray:
        """The curve of the row of ``config`` at ``seed``, ``(n_fidelities, n_objectives)``."""
        return self.curve(self.config_id(config), self.check_seed(seed))

    def cached_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray | None:
        """A table computes nothing: ``config_curve``."""
        return self.config_curve(config, seed)

    def evaluate(self, config: Mapping[str, Any], fidelity: Any = None,
                 seed: int | None = None) -> dict[str, Any]:
        seed = self.check_seed(seed)
        i = self.config_id(config)
        if fidelity is None:
            curve = np.asarray(self.objectives[i, seed])
            return {name: curve[:, j].copy() for j, name in enumerate(self.objectives_names)}
        k = self.fidelity_index(fidelity)
        row = self.objectives[i, seed, k]
        return {name: float(row[j]) for j, name in enumerate(self.objectives_names)}

    # ------------------------------------------------------------------ storage
    def save(self, name: str, task: str = "default", **kwargs: Any) -> Path:
        """Save this table into the blackbox cache as ``name/task``; returns its folder.

        Same as ``blackbox_repo.save_blackbox(self, name, task)``; ``load_blackbox(name, task)``
        opens it again.
        """
        # through the package's public (lazily imported) name: the repository imports this
        # module, so this module does not import the repository
        return blackbox_repo.save_blackbox(self, name, task, **kwargs)

    # ------------------------------------------------------------------ views
    def objective(self, name: str) -> np.ndarray:
        """``(n_configs, n_seeds, n_fidelities)`` view of one objective."""
        return self.objectives[..., self.objective_index(name)]

    def elapsed_time(self) -> np.ndarray | None:
        if self.metric_elapsed_time is None:
            return None
        return self.objective(self.metric_elapsed_time)

    def to_long_dataframe(self, task: str | None = None) -> pd.DataFrame:
        """One row per config x seed x fidelity (the import format)."""
        n, s, f, _ = self.shape
        idx = np.indices((n, s, f)).reshape(3, -1)
        df = self.hyperparameters.iloc[idx[0]].reset_index(drop=True)
        df["seed"] = idx[1]
        df[self.fidelity_name] = self.fidelity_values[idx[2]]
        flat = np.asarray(self.objectives).reshape(-1, len(self.objectives_names))
        for j, name in enumerate(self.objectives_names):
            df[name] = flat[:, j]
        if task is not None:
            df.insert(0, "task", task)
        return df
