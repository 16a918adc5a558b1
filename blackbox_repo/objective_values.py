"""Objective values hposim can store: float32 cells, NaN for a missing or failed evaluation.

A value is storable when it is NaN or finite within float32's range; an elapsed time must also
be >= 0. ``unstorable`` finds the values that are not, for the messages of the two ways in:
tables (``blackbox_repo.importing``) and functions (``blackbox_repo.generate``).

Example:
    >>> import numpy as np
    >>> bad = unstorable(np.array([1.0, np.inf, 1e39, -2.0, np.nan]), elapsed_time=True)
    >>> bad.infinite.tolist(), bad.too_large.tolist(), bad.negative.tolist()
    ([1], [2], [3])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FLOAT32_MAX", "Unstorable", "unstorable"]

#: the largest magnitude a float32 cell holds
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Unstorable:
    """Positions of the values that cannot be stored, by reason (ascending).

    Example:
        >>> import numpy as np
        >>> unstorable(np.array([-1.0, np.nan])).negative.tolist()         # not an elapsed time
        []
    """

    infinite: np.ndarray
    too_large: np.ndarray
    negative: np.ndarray


def unstorable(values: np.ndarray, elapsed_time: bool = False) -> Unstorable:
    """The positions in the float array ``values`` that are infinite, finite beyond float32's
    range, or (for an elapsed time) negative; NaN is storable."""
    with np.errstate(invalid="ignore"):
        return Unstorable(
            infinite=np.flatnonzero(np.isinf(values)),
            too_large=np.flatnonzero(np.isfinite(values) & (np.abs(values) > FLOAT32_MAX)),
            negative=np.flatnonzero(values < 0) if elapsed_time else np.empty(0, dtype=np.int64))
