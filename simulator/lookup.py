"""Where a trial's learning curve comes from: a table row, or a blackbox that computes it.

A table (``TabularBlackbox``) is indexed directly: ``row_index`` maps a configuration's
values to its row once per blackbox, and the curve of a trial is
``objectives[row, seed]``, shape ``(n_fidelities, n_objectives)``. Any other blackbox
gets ``curve_source``: a function ``(config, seed) -> curve`` that uses the blackbox's
``config_curve`` when it has one (a surrogate), else ``evaluate``, and that, for a
blackbox with ``prefetch``/``cached_curve`` and a scheduler with ``upcoming_configs``,
predicts the configurations the scheduler will suggest next in the same batch.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2, 2]}), np.ones((3, 1, 1, 1)), [1], ["loss"])
    >>> index, keys = row_index(bb)
    >>> index[(2,)], keys
    (1, ['x'])
"""
from __future__ import annotations

import weakref
from collections import deque
from typing import Any, Callable, Mapping

import numpy as np

from blackbox_repo.blackbox import Blackbox, TabularBlackbox

__all__ = ["row_index", "curve_source"]

_ROW_INDEX: "weakref.WeakKeyDictionary[Any, tuple[dict, list[str]]]" = weakref.WeakKeyDictionary()


def row_index(blackbox: TabularBlackbox) -> tuple[dict, list[str]]:
    """``{tuple of a row's values: row}`` (first row of duplicates) and the column order,
    cached per blackbox.

    A plain-tuple lookup is the fast path; anything it misses goes to
    ``blackbox.config_id``, which normalizes values and explains errors."""
    got = _ROW_INDEX.get(blackbox)
    if got is None:
        hp = blackbox.hyperparameters
        keys = list(hp.columns)
        index: dict = {}
        for i, row in enumerate(zip(*[hp[c].tolist() for c in keys])):
            index.setdefault(row, i)
        got = (index, keys)
        _ROW_INDEX[blackbox] = got
    return got


def curve_source(blackbox: Blackbox, scheduler: Any, names: list[str],
                 upcoming_seeds: Callable[[int], list[int]] | None = None,
                 first_batch: int | None = None) -> Callable[[Mapping[str, Any], int], np.ndarray]:
    """``curve(config, seed) -> (n_fidelities, n_objectives)`` for a blackbox that is not a table.

    On a cache miss of a blackbox with ``prefetch``, the configuration asked for and those the
    scheduler will suggest next go to ``prefetch`` in one batch, with their seeds: the one
    asked for, then ``upcoming_seeds(n)`` (the seeds the next ``n`` new trials will draw,
    fewer when fewer trials are left to start, which bounds the batch; they pair with the
    upcoming configurations when each new trial takes the next one). The first miss of a run
    predicts the next ``first_batch`` configurations (default ``FIRST_BATCH``), each later miss
    twice as many as the one before, so a run that ends early (a time budget) does not pay for
    many configurations it never starts; a run bounded by a number of trials, whose seeds
    ``upcoming_seeds`` never shows beyond it, can start with whole batches. With
    ``prefetch_curves`` the blackbox returns those curves, and the next trials take them in
    order -- the very configuration object foreseen, with the seed foreseen -- without being
    looked up again; any other trial is looked up by value (``cached_curve``).

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from blackbox_repo.blackbox import Blackbox
        >>> class Square(Blackbox):
        ...     configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
        ...     fidelity_values = np.array([1, 2]); objectives_names = ["loss"]
        ...     def evaluate(self, config, fidelity=None, seed=None):
        ...         return {"loss": [config["x"] ** 2, config["x"] ** 3]}
        >>> curve_source(Square(), None, ["loss"])({"x": 0.5}, 0).tolist()
        [[0.25], [0.125]]
    """
    whole = getattr(blackbox, "config_curve", None)
    if whole is None:   # only evaluate(): one column per objective
        evaluate = blackbox.evaluate

        def compute(cfg: Mapping[str, Any], bseed: int) -> np.ndarray:
            ev = evaluate(cfg, None, bseed)
            return np.column_stack([np.asarray(ev[n], dtype=np.float32) for n in names])
    else:               # serves (n_fidelities, n_objectives) curves directly, e.g. a SurrogateBlackbox
        compute = whole
    prefetch = getattr(blackbox, "prefetch", None)
    prefetch_curves = getattr(blackbox, "prefetch_curves", None)
    cached_curve = getattr(blackbox, "cached_curve", None)
    upcoming = getattr(scheduler, "upcoming_configs", None)
    if prefetch is None or cached_curve is None or not callable(upcoming):
        return compute
    batch = _Batches(first_batch or FIRST_BATCH)
    if prefetch_curves is None or upcoming_seeds is None:
        def prefetched(cfg: Mapping[str, Any], bseed: int) -> np.ndarray:
            curve = cached_curve(cfg, bseed)
            if curve is None:   # a miss: predict this and the next suggestions in one batch
                prefetch([cfg, *list(upcoming())[:batch.next()]])
                curve = compute(cfg, bseed)
            return curve
        return prefetched

    # the curves of the upcoming trials, in the order they will start: (config, seed, curve)
    pending: deque = deque()

    def foreseen(cfg: Mapping[str, Any], bseed: int) -> np.ndarray:
        if pending:
            c, s, curve = pending.popleft()
            if c is cfg and s == bseed and curve is not None:
                return curve
            pending.clear()     # out of step (not the trial foreseen): look curves up by value
        curve = cached_curve(cfg, bseed)
        if curve is None:       # a miss: predict this and the next suggestions in one batch
            ahead = list(upcoming())[:batch.next()]
            seeds = upcoming_seeds(len(ahead))        # none beyond the trials left to start
            got = prefetch_curves([cfg, *ahead[:len(seeds)]], [bseed, *seeds])
            pending.extend(zip(ahead, seeds, got[1:]))
            curve = got[0] if got[0] is not None else compute(cfg, bseed)
        return curve
    return foreseen


#: upcoming configurations predicted with the first miss of a run; each later miss doubles it
FIRST_BATCH = 256


class _Batches:
    """How many upcoming configurations to predict on each cache miss of a run: 256, 512,
    1,024, ... (each model call costs 0.2-0.5 ms besides its configurations). A run that stops
    after a few trials (a time budget) predicts at most 256 configurations it never starts; a
    long run soon predicts whole batches of the sampler."""

    __slots__ = ("size",)

    def __init__(self, first: int = FIRST_BATCH) -> None:
        self.size = first

    def next(self) -> int:
        size, self.size = self.size, self.size * 2
        return size
