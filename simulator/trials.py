"""The state of every trial during a run: parallel plain lists indexed by trial id.

The event loop (``simulator.simulate``) reads and writes these lists directly (they are its
hottest data); the per-trial facts the results need (table row, blackbox seed, curve,
configuration) live in the run's ``Buffers`` and are shared, not copied.

A new trial gets an entry in every list at once (``simulator.simulate._EventLoop.start``:
level -1, state ``RUNNING``).

Example:
    >>> from simulator.assemble import Buffers
    >>> trials = TrialState(Buffers())
    >>> trials.state.append(RUNNING); trials.level.append(-1)
    >>> len(trials), trials.resume_problem(0, 2, [1, 2, 3], t=5.0)
    (1, 'scheduler asked to resume trial 0 at time 5.0, but that trial is running; only paused trials can be resumed')
"""
from __future__ import annotations

from typing import Any

from simulator.assemble import Buffers

__all__ = ["TrialState", "RUNNING", "PAUSED", "DONE", "STATE_NAMES"]

RUNNING, PAUSED, DONE = 0, 1, 2
STATE_NAMES = {RUNNING: "running", PAUSED: "paused", DONE: "finished (completed, stopped or failed)"}


class TrialState:
    """Per trial (index = trial id): ``level`` (last recorded level index, -1: none), ``end``
    (the segment's end level), ``origin`` (level ``k`` is reported at ``origin + elapsed(k)``),
    ``worker``, ``state`` (``RUNNING``, ``PAUSED``, ``DONE``), ``trial`` (the scheduler's
    ``Trial``); and, shared with ``buf``, ``cid`` (table row or -1), ``seed``, ``curve``,
    ``configs``.

    Example:
        >>> from simulator.assemble import Buffers
        >>> buf = Buffers()
        >>> trials = TrialState(buf)
        >>> trials.seed.append(2)
        >>> buf.t_seed
        [2]
    """

    __slots__ = ("cid", "seed", "curve", "configs", "trial", "level", "end", "origin", "worker", "state")

    def __init__(self, buf: Buffers) -> None:
        self.cid = buf.t_cid
        self.seed = buf.t_seed
        self.curve = buf.t_curve
        self.configs = buf.t_configs
        self.trial: list[Any] = []
        self.level: list[int] = []
        self.end: list[int] = []
        self.origin: list[float] = []
        self.worker: list[int] = []
        self.state: list[int] = []

    def __len__(self) -> int:
        return len(self.state)

    def resume_problem(self, tid: Any, m: int, fid_list: list, t: float) -> str | None:
        """Why trial ``tid`` cannot be resumed to level ``m`` at time ``t``, or ``None`` if it can."""
        known = isinstance(tid, int) and 0 <= tid < len(self.state)
        if not known or self.state[tid] != PAUSED:
            state = STATE_NAMES[self.state[tid]] if known else "never started"
            return (f"scheduler asked to resume trial {tid!r} at time {t}, but that trial is {state}; "
                    f"only paused trials can be resumed")
        if m <= self.level[tid]:
            return (f"scheduler asked to resume trial {tid} to fidelity {fid_list[m]!r}, but it is "
                    f"already at {fid_list[self.level[tid]]!r}; the max_fidelity of a resume must be larger")
        return None
