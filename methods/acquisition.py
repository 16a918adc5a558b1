"""Maximizing an acquisition function over a space or a table: shared by the GP searchers.

``AcquisitionSearcher`` is a ``Searcher`` base for model-based searchers that score points with an
acquisition function (expected improvement of ``methods.bayesopt`` and ``methods.mf_gp``): it
scores ``num_init_candidates`` random points (a table's unused rows when there are candidates),
hill-climbs from the ``local_search_starts`` best for ``local_search_steps`` steps (neighbours: numbers
moved by a Gaussian step of ``local_search_width``, one categorical redrawn; on a table, a mutated
configuration that is a row), and suggests the best-scored configuration not used yet.

Example:
    >>> import numpy as np
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> class Closest(AcquisitionSearcher):
    ...     num_init_candidates, local_search_starts, local_search_steps, local_search_width = 50, 2, 5, 0.1
    ...     def suggest(self, pending):
    ...         return self.maximize_acquisition(lambda X: -np.abs(X[:, 0] - 0.3))
    >>> s = Closest()
    >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min", rng=np.random.default_rng(0))
    >>> round(s.suggest([])["x"], 1)
    0.3
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from blackbox_repo.configspace import FeatureEncoder
from methods.arguments import check_float, check_int
from methods.searcher import Searcher

__all__ = ["AcquisitionSearcher"]

Acquisition = Callable[[np.ndarray], np.ndarray]


class AcquisitionSearcher(Searcher):
    """A searcher that suggests the maximizer of an acquisition function (module docstring).

    Subclasses set ``num_init_candidates``, ``local_search_starts``, ``local_search_steps`` and
    ``local_search_width`` (from their constructor's arguments: ``set_search``) and call
    ``maximize_acquisition(score)`` in ``suggest``.

    Example:
        >>> from methods.bayesopt import GPSearcher
        >>> issubclass(GPSearcher, AcquisitionSearcher)
        True
    """

    needs_features = True
    encoder: FeatureEncoder                          # bind sets it (needs_features)
    num_init_candidates: int
    local_search_starts: int
    local_search_steps: int
    local_search_width: float

    def set_search(self, *, num_init_random: int, num_init_candidates: int, local_search_starts: int,
                   local_search_steps: int, local_search_width: float, fit_restarts: int, refit_every_below: int,
                   refit_growth: float) -> None:
        """Check and set the arguments the GP searchers share (errors name them as constructor
        arguments): ``num_init_random`` random configurations before a model, the acquisition
        search's four, and the model's refit schedule (``fit_restarts`` random starts; a refit at
        every new observation below ``refit_every_below``, then when the data grew by ``refit_growth``)."""
        self.num_init_random = check_int("num_init_random", num_init_random, low=1)
        self.num_init_candidates = check_int("num_init_candidates", num_init_candidates, low=1)
        self.local_search_starts = check_int("local_search_starts", local_search_starts, low=0)
        self.local_search_steps = check_int("local_search_steps", local_search_steps, low=0)
        self.local_search_width = check_float("local_search_width", local_search_width, 0, 1, low_open=True)
        self.fit_restarts = check_int("fit_restarts", fit_restarts, low=0)
        self.refit_every_below = check_int("refit_every_below", refit_every_below, low=0)
        self.refit_growth = check_float("refit_growth", refit_growth, low=0)

    def setup(self) -> None:
        super().setup()
        self._numeric = np.asarray(self.encoder.numeric_mask, dtype=bool)
        self._groups = [np.asarray(cols) for _, cols in self.encoder.categorical_groups]

    def maximize_acquisition(self, score: Acquisition) -> dict | None:
        """The unused configuration with the highest ``score`` among the random points and the
        moves of the local search (a random configuration when all those are used; None when a
        table has no unused row left)."""
        if self.candidates is not None:
            rows = self.candidate_pool_indices(self.num_init_candidates)
            if not rows:
                return None
            configs = [self.candidates[i] for i in rows]
            X = self.candidate_features()[rows]
        else:
            configs = None
            X = self.encoder.encode(self.config_space.sample(self.rng, self.num_init_candidates))
        scores = score(X)
        if self.local_search_starts and self.local_search_steps:
            X, scores, configs = self._local_search(score, X, scores, configs)
        for i in np.argsort(-scores, kind="stable").tolist():
            config = configs[i] if configs is not None else self.encoder.decode(X[i:i + 1])[0]
            if not self.is_used(config):
                return config
        return self.random_config()

    def _local_search(self, score: Acquisition, X: np.ndarray, scores: np.ndarray,
                      configs: list[dict] | None):
        """Hill climbing from the best starts; returns the scored points extended by the moves."""
        starts = np.argsort(-scores, kind="stable")[:self.local_search_starts]
        cur_X, cur_s = X[starts], scores[starts]
        cur_cfg = [configs[i] for i in starts] if configs is not None else None
        all_X, all_s, all_cfg = [X], [scores], [configs] if configs is not None else None
        for _ in range(self.local_search_steps):
            if configs is None:
                nb, idx, nb_cfg = self._neighbours(cur_X), np.arange(len(cur_s)), None
            else:
                assert cur_cfg is not None and self.candidates is not None     # a table's rows
                nb_cfg = [self.mutate(c) for c in cur_cfg]
                hits = [self.candidate_index(c) for c in nb_cfg]
                keep = [j for j, r in enumerate(hits) if r is not None]
                if not keep:
                    break
                nb_rows = [r for r in hits if r is not None]
                nb_cfg = [self.candidates[r] for r in nb_rows]
                nb, idx = self.candidate_features()[nb_rows], np.asarray(keep)
            nb_s = score(nb)
            better = nb_s > cur_s[idx]
            if not better.any():
                continue
            all_X.append(nb[better])
            all_s.append(nb_s[better])
            moved_rows = idx[better]
            cur_X[moved_rows] = nb[better]
            cur_s[moved_rows] = nb_s[better]
            if configs is not None:
                assert nb_cfg is not None and all_cfg is not None and cur_cfg is not None
                moved = [nb_cfg[j] for j in np.flatnonzero(better)]
                all_cfg.append(moved)
                for r, c in zip(moved_rows.tolist(), moved):
                    cur_cfg[r] = c
        out_cfg = None if all_cfg is None else [c for part in all_cfg for c in part]
        return np.concatenate(all_X), np.concatenate(all_s), out_cfg

    def _neighbours(self, X: np.ndarray) -> np.ndarray:
        """One random neighbour per row: numbers moved by a Gaussian step (clipped to [0, 1]),
        and, with probability 1/2 when there are categoricals, one categorical redrawn."""
        nb = X.copy()
        if self._numeric.any():
            step = self.rng.normal(0.0, self.local_search_width, size=(len(X), int(self._numeric.sum())))
            nb[:, self._numeric] = np.clip(nb[:, self._numeric] + step, 0.0, 1.0)
        if self._groups:
            flip = self.rng.random(len(X)) < (0.5 if self._numeric.any() else 1.0)
            which = self.rng.integers(len(self._groups), size=len(X))
            for r in np.flatnonzero(flip).tolist():
                cols = self._groups[which[r]]
                nb[r, cols] = 0.0
                nb[r, cols[int(self.rng.integers(len(cols)))]] = 1.0
        return nb
