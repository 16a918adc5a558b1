"""Nearest unused row of a table of encoded configurations (DEHB's offspring on a table).

The nearest row to ``v`` in Euclidean distance is the one with the largest ``v . r - |r|^2 / 2``.
For the columns of a one-hot group every row holds a single 1, so ``v . r`` there is ``v[column
of the row's 1]``: a lookup instead of a product. Consecutive one-hot groups are merged into
chunks of at most ``chunk`` value combinations; the score of every combination of a chunk is
tabulated from ``v`` (an outer sum, a few hundred additions) and each row looks its combination up
(one gather of ``n`` entries per chunk). The other columns (ranges, ordinals, groups that are not
one-hot in this table) go through a product with ``v``. So a table of 15,625 rows and 30 one-hot
columns (6 hyperparameters of 5 values) costs two gathers per query instead of an ``n x 30``
matrix-vector product, and no BLAS call (whose threads cost more than they save at this size).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["NearestRows"]


class NearestRows:
    """Nearest row to a point among the rows not yet used; ties go to the first row.

    ``rows`` is ``(n, d)``; ``groups`` lists the column indices of each one-hot group (e.g.
    ``FeatureEncoder.categorical_groups``' arrays); a group whose columns are not one-hot in every
    row is treated as ordinary columns.

    Example:
        >>> rows = np.array([[1.0, 0.0, 0.2], [0.0, 1.0, 0.9], [0.0, 1.0, 0.1]])
        >>> search = NearestRows(rows, [np.array([0, 1])])
        >>> search.nearest(np.array([0.1, 0.8, 0.0]))
        2
        >>> search.use(2); search.nearest(np.array([0.1, 0.8, 0.0]))
        1
        >>> search.use(0); search.use(1); search.nearest(np.array([0.1, 0.8, 0.0])) is None
        True
    """

    def __init__(self, rows: np.ndarray, groups: Sequence[np.ndarray] = (), chunk: int = 4096):
        rows = np.asarray(rows, dtype=float)
        n, d = rows.shape
        self.n = n
        one_hot: list[tuple[np.ndarray, np.ndarray]] = []        # (columns, code of each row)
        covered = np.zeros(d, dtype=bool)
        for columns in groups:
            columns = np.asarray(columns, dtype=np.intp)
            block = rows[:, columns]
            if n and len(columns) and ((block == 0.0) | (block == 1.0)).all() and (block.sum(axis=1) == 1.0).all():
                one_hot.append((columns, np.argmax(block, axis=1)))
                covered[columns] = True
        # consecutive groups merged while their value combinations stay <= chunk
        self._chunks: list[tuple[list[np.ndarray], np.ndarray]] = []
        for columns, code in one_hot:
            if self._chunks and self._size(self._chunks[-1][0]) * len(columns) <= chunk:
                cols, codes = self._chunks[-1]
                self._chunks[-1] = (cols + [columns], codes * len(columns) + code)
            else:
                self._chunks.append(([columns], code.astype(np.intp)))
        self._dense_columns = np.flatnonzero(~covered)
        self._dense = np.ascontiguousarray(rows[:, self._dense_columns]) if len(self._dense_columns) else None
        #: |r|^2 / 2 of each free row, +inf once used (so a used row never wins)
        self._penalty = 0.5 * np.einsum("ij,ij->i", rows, rows)
        self._half_sq = self._penalty.copy()

    @staticmethod
    def _size(columns: list[np.ndarray]) -> int:
        size = 1
        for c in columns:
            size *= len(c)
        return size

    def is_free(self, row: int) -> bool:
        return bool(self._penalty[row] != np.inf)

    def use(self, row: int) -> None:
        """Mark ``row`` used: ``nearest`` no longer answers it."""
        self._penalty[row] = np.inf

    def release(self, row: int) -> None:
        """Make ``row`` available again."""
        self._penalty[row] = self._half_sq[row]

    def nearest(self, vector: np.ndarray) -> int | None:
        """The free row with the largest ``vector . row - |row|^2 / 2`` (the first on ties), or
        None when every row is used."""
        if not self.n:
            return None
        v = np.asarray(vector, dtype=float)
        score: np.ndarray | None = None
        for columns, codes in self._chunks:
            table = v[columns[0]]
            for cols in columns[1:]:
                table = (table[:, None] + v[cols][None, :]).ravel()
            part = table.take(codes)
            if score is None:
                score = part
            else:
                score += part
        if self._dense is not None:
            part = self._dense @ v[self._dense_columns]
            if score is None:
                score = part
            else:
                score += part
        if score is None:
            score = np.zeros(self.n)
        score -= self._penalty
        row = int(np.argmax(score))
        return row if self._penalty[row] != np.inf else None
