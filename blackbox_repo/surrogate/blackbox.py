"""``SurrogateBlackbox``: a ``Blackbox`` answering any configuration of its space with a
fitted curve model's curves, predicted in batches and cached per configuration.

The first request of a tabulated configuration predicts every row of the table at once (one
array, indexed like the table); other configurations go through an LRU cache
(``cache_bytes``), and ``curves_for(configs)`` predicts all cache misses of a batch in one call.
``prefetch(configs)`` predicts every uncached configuration of a list in one call; the simulator
uses it on a cache miss with the configurations the scheduler has already drawn
(``upcoming_configs``). The cache holds each configuration's latent vector and the curves of
the seeds asked for so far (``CacheEntry``). A curve is the same, bit for bit, predicted alone
or in any batch, whole or one seed at a time, so batching never changes a simulation's results.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox, row_key
from blackbox_repo.configspace import values_getter
from blackbox_repo.report_card import ReportCard
from blackbox_repo.repository import save_blackbox
from blackbox_repo.surrogate.features import Features
from blackbox_repo.surrogate.models import CurveModel
from blackbox_repo.surrogate.persistence import read_surrogate, write_surrogate_files

__all__ = ["SurrogateBlackbox", "CacheEntry", "load_surrogate", "DEFAULT_CACHE_BYTES"]

DEFAULT_CACHE_BYTES = 256 * 2 ** 20


class CacheEntry:
    """A configuration in the cache: its latent vector (``(1, ...)``) and the curves of its
    seeds computed so far (read-only; ``None`` = not yet).

    Example:
        >>> import numpy as np
        >>> CacheEntry(np.zeros((1, 3)), [None, None]).seeds
        [None, None]
    """

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
        >>> from blackbox_repo.surrogate import add_surrogate
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

    def __init__(self, table: TabularBlackbox, model: CurveModel, features: Features, *,
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
        self._lru: OrderedDict[tuple, CacheEntry] = OrderedDict()
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
            return row_key(self._values_of(config))
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
        return self.table.row_index()

    def _table_row(self, key: tuple) -> int | None:
        rows = self._table_rows()
        return None if rows is None else rows.get(key)

    def _predict_into_cache(self, keys: Sequence[tuple], configs: Sequence[Mapping[str, Any]],
                            X: np.ndarray | None = None, seeds: Sequence[int | None] | None = None,
                            needed_first: bool = False) -> list[CacheEntry]:
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
        entries = [CacheEntry(L[i:i + 1], [None] * self.num_seeds) for i in range(len(keys))]
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

    def _seed_curve(self, entry: CacheEntry, seed: int) -> np.ndarray:
        curve = entry.seeds[seed]
        if curve is None:
            self.seeds_on_demand += 1
            curve = self._model.expand(entry.latent, seed)[0]
            curve.setflags(write=False)
            entry.seeds[seed] = curve
        return curve

    def _whole_curves(self, entries: Sequence[CacheEntry]) -> np.ndarray:
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
        entries: list[CacheEntry] = []
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
            >>> from blackbox_repo.surrogate import add_surrogate
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
        key_of, values_of = row_key, self._values_of
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
        task = task or str(self.table.metadata.get("task") or "default")
        origin = "/".join(str(x) for x in (self.table.metadata.get("name"),
                                           self.table.metadata.get("task")) if x)
        table_source = self.table.metadata.get("source")
        source = f"{self.card.model} surrogate of {origin or 'a table'}" + (
            f" (table source: {table_source})" if table_source else "")
        card = self.card.to_dict()

        def write_model(staging: Path) -> list[str]:
            return write_surrogate_files(staging, self._model, self._features, name=name, task=task,
                                         origin=origin or None, seeds=self.seeds, card=card)

        folder = save_blackbox(self.table, name, task, source=source,
                               extra={"surrogate_report_card": card}, force=force, write_extra=write_model)
        self.metadata.update({"name": name, "task": task, "folder": str(folder)})
        return folder


def load_surrogate(folder: str | os.PathLike) -> SurrogateBlackbox:
    """Open a surrogate saved by ``SurrogateBlackbox.save`` (checksums verified)."""
    saved = read_surrogate(Path(folder).absolute())
    return SurrogateBlackbox(saved.table, saved.model, saved.features, seeds=saved.seeds, card=saved.card)
