"""``CurveSource``: the one protocol through which the simulator reads a blackbox.

The simulator needs whole learning curves, ``(n_fidelities, n_objectives)`` float32 arrays in
``objectives_names`` order, one per (configuration, seed), and nothing else of a blackbox but
its descriptive attributes. Every ``Blackbox`` implements this protocol (the base class computes
curves with ``evaluate`` and prefetches nothing); ``TabularBlackbox`` serves them by table row,
``SurrogateBlackbox`` from its cache and prefetches batches. See
docs/architecture.md#simulator-contract.

- ``rows()``: the table whose rows *are* the curves (``TabularBlackbox.rows()`` is the table
  itself), or ``None`` for a blackbox that computes curves per configuration. With rows, the
  simulator looks a configuration up by row (``config_id``), reads ``objectives[row, seed]``,
  gives schedulers the rows as candidates (``configs()``) and records the row of each trial.
- ``config_curve(config, seed)``: the curve of any configuration of the space.
- ``prefetches``: whether ``prefetch_curves`` computes ahead (only then does the simulator show
  it the configurations a scheduler will suggest next); ``prefetch_curves(configs, seeds)``
  computes ``configs`` in one batch and returns the curves of the first ``len(seeds)`` at their
  seeds (``None`` where it has none); ``cached_curve(config, seed)`` returns a curve only if it
  costs no computation, else ``None``.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.arange(4.0).reshape(2, 1, 2, 1), [1, 2], ["loss"])
    >>> isinstance(bb, CurveSource), bb.rows() is bb, bb.prefetches
    (True, True, False)
    >>> bb.config_curve({"x": 2}, seed=0).tolist()
    [[2.0], [3.0]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from blackbox_repo.blackbox import TabularBlackbox
    from blackbox_repo.configspace import ConfigurationSpace

__all__ = ["CurveSource"]


@runtime_checkable
class CurveSource(Protocol):
    """What the simulator asks of a blackbox (module docstring: what each member means).

    Example (a blackbox with only ``evaluate`` gets the base class's members):
        >>> import numpy as np
        >>> from blackbox_repo.blackbox import Blackbox
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> class Square(Blackbox):
        ...     configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
        ...     fidelity_values = np.array([1, 2]); objectives_names = ["loss"]
        ...     def evaluate(self, config, fidelity=None, seed=None):
        ...         return {"loss": [config["x"] ** 2, config["x"] ** 3]}
        >>> sq = Square()
        >>> sq.rows(), sq.prefetches, sq.config_curve({"x": 0.5}).tolist(), sq.cached_curve({"x": 0.5})
        (None, False, [[0.25], [0.125]], None)
    """

    # the attributes of blackbox_repo.blackbox.Blackbox, restated on purpose: a Protocol declares
    # what the simulator reads, independently of the base class that implements it
    configuration_space: ConfigurationSpace
    fidelity_name: str
    fidelity_values: np.ndarray
    objectives_names: list[str]
    metric_elapsed_time: str | None
    metric: str
    mode: str
    num_seeds: int
    metadata: dict
    prefetches: bool

    def fidelity_index(self, fidelity: Any) -> int:
        """The level of a fidelity value (``BlackboxError`` naming the nearest ones)."""

    def check_seed(self, seed: int | None) -> int:
        """A valid seed index (``BlackboxError`` naming the range)."""

    def rows(self) -> TabularBlackbox | None:
        """The table whose rows are this blackbox's curves, or ``None``."""

    def config_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray:
        """The curve of ``config`` at ``seed``, ``(n_fidelities, n_objectives)``."""

    def cached_curve(self, config: Mapping[str, Any], seed: int = 0) -> np.ndarray | None:
        """``config_curve(config, seed)`` if it needs no computation, else ``None``."""

    def prefetch_curves(self, configs: Sequence[Mapping[str, Any]],
                        seeds: Sequence[int]) -> list[np.ndarray | None]:
        """Compute ``configs`` in one batch; the curves of the first ``len(seeds)`` at their seeds."""
