"""Where a trial's learning curve comes from, through the blackbox's ``CurveSource`` protocol.

``trial_curves`` gives the event loop one function ``(config, seed) -> (row, curve)`` per run.
A blackbox with rows (``blackbox.rows()``, a table) is indexed directly: ``row_index`` maps a
configuration's values to its row once per table, and the curve of a trial is
``objectives[row, seed]``, shape ``(n_fidelities, n_objectives)``; a configuration the table does
not have raises ``NotInTable``. Any other blackbox gets row -1 and ``curve_source``: its
``config_curve``, and, for a blackbox that ``prefetches`` and a scheduler with
``upcoming_configs``, the configurations the scheduler will suggest next, computed in the same batch.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2, 2]}), np.arange(3.0).reshape(3, 1, 1, 1), [1], ["loss"])
    >>> index, keys = row_index(bb)
    >>> index[(2,)], keys
    (1, ['x'])
    >>> row, curve = trial_curves(bb, None)({"x": 2}, 0)
    >>> row, curve.tolist()
    (1, [[1.0]])
"""
from __future__ import annotations

import weakref
from collections import deque
from typing import Any, Callable, Mapping

import numpy as np

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.curve_source import CurveSource

__all__ = ["row_index", "curve_source", "trial_curves", "NotInTable"]


class NotInTable(BlackboxError):
    """A configuration the table does not have (the message says why)."""


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


def trial_curves(blackbox: CurveSource, scheduler: Any,
                 upcoming_seeds: Callable[[int], list[int]] | None = None,
                 first_batch: int | None = None) -> Callable[[Mapping[str, Any], int], tuple[int, np.ndarray]]:
    """``(config, seed) -> (table row or -1, curve)`` for one run (see the module docstring;
    ``upcoming_seeds`` and ``first_batch``: ``curve_source``)."""
    table = blackbox.rows()
    if table is None:
        curve = curve_source(blackbox, scheduler, upcoming_seeds, first_batch)

        def computed(cfg: Mapping[str, Any], bseed: int) -> tuple[int, np.ndarray]:
            return -1, curve(cfg, bseed)
        return computed

    # a plain ndarray view of the (memory-mapped) table: same memory, no memmap indexing overhead
    objectives = np.asarray(table.objectives)
    row_of, keys = row_index(table)
    config_id = table.config_id

    def by_row(cfg: Mapping[str, Any], bseed: int) -> tuple[int, np.ndarray]:
        try:
            cid = row_of[tuple([cfg[h] for h in keys])]
        except (KeyError, TypeError):   # not a plain match: config_id normalizes values or explains
            try:
                cid = config_id(cfg)
            except (BlackboxError, TypeError, ValueError, KeyError) as e:
                raise NotInTable(str(e)) from None
        return cid, objectives[cid, bseed]
    return by_row


def curve_source(blackbox: CurveSource, scheduler: Any,
                 upcoming_seeds: Callable[[int], list[int]] | None = None,
                 first_batch: int | None = None) -> Callable[[Mapping[str, Any], int], np.ndarray]:
    """``curve(config, seed) -> (n_fidelities, n_objectives)`` for a blackbox without rows.

    For a blackbox that ``prefetches``, a scheduler with ``upcoming_configs`` and
    ``upcoming_seeds``: on a cache miss, the configuration asked for and those the
    scheduler will suggest next go to ``prefetch_curves`` in one batch, with their seeds: the one
    asked for, then ``upcoming_seeds(n)`` (the seeds the next ``n`` new trials will draw,
    fewer when fewer trials are left to start, which bounds the batch; they pair with the
    upcoming configurations when each new trial takes the next one). The first miss of a run
    predicts the next ``first_batch`` configurations (default ``FIRST_BATCH``), each later miss
    twice as many as the one before, so a run that ends early (a time budget) does not pay for
    many configurations it never starts; a run bounded by a number of trials, whose seeds
    ``upcoming_seeds`` never shows beyond it, can start with whole batches. The blackbox returns
    those curves, and the next trials take them in order -- the very configuration object
    foreseen, with the seed foreseen -- without being looked up again; any other trial is looked
    up by value (``cached_curve``), and computed alone (``config_curve``) if that misses too.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from blackbox_repo.blackbox import Blackbox
        >>> class Square(Blackbox):
        ...     configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
        ...     fidelity_values = np.array([1, 2]); objectives_names = ["loss"]
        ...     def evaluate(self, config, fidelity=None, seed=None):
        ...         return {"loss": [config["x"] ** 2, config["x"] ** 3]}
        >>> curve_source(Square(), None)({"x": 0.5}, 0).tolist()
        [[0.25], [0.125]]
    """
    compute = blackbox.config_curve
    upcoming = getattr(scheduler, "upcoming_configs", None)    # optional for duck-typed schedulers
    if not blackbox.prefetches or upcoming_seeds is None or not callable(upcoming):
        return compute
    batch = _Batches(first_batch or FIRST_BATCH)
    prefetch_curves = blackbox.prefetch_curves
    cached_curve = blackbox.cached_curve

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
