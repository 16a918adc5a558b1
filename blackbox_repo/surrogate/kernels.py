"""Numeric kernels of surrogate models: products whose rows do not depend on the batch,
BLAS on one thread for batches, the elapsed-time repairs, and direct evaluation of fitted
scikit-learn forests and MLPs.

Example:
    >>> import numpy as np
    >>> clip_decreases(np.array([[1.0, 3.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0]]))[1].tolist()
    [[1.0, 3.0, 3.0, 5.0]]
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any

import numpy as np

__all__ = ["PRODUCT_BLOCK", "blas_threads", "blocked_product", "rows_matmul", "running_max", "clip_decreases",
           "forest_leaves", "forest_predict", "mlp_forward", "ACTIVATIONS"]


_BLAS: list = []


def blas_threads(n_rows: int):
    """A context running BLAS on one thread for a batch of ``n_rows`` > 1 (nothing for one
    row: setting the limit costs about 15 us). Predictions are small products that threads do
    not speed up; on a busy machine (or with parallel simulations) BLAS threads made a batch of
    256 curves 10x slower. (Threads split a product by rows and columns, not along the sum,
    so the numbers are the same either way.)"""
    if n_rows <= 1:
        return contextlib.nullcontext()
    if not _BLAS:
        from threadpoolctl import ThreadpoolController
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


#: rows per product in ``blocked_product``
PRODUCT_BLOCK = 16


def blocked_product(L: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``[L, 1] @ W`` in float32, ``(n, W.shape[1])``, computed in products of exactly
    ``PRODUCT_BLOCK`` rows (the last block padded with zeros). A BLAS product's rounding can
    depend on its shape (single precision switches kernels with the number of rows), never on
    the other rows of a product of the same shape; fixed-size blocks make a row's result the
    same whichever batch it is in, at single precision's speed."""
    n, k = L.shape
    blocks = -(-n // PRODUCT_BLOCK)
    A = np.zeros((blocks * PRODUCT_BLOCK, k + 1), np.float32)
    A[:n, :k] = L
    A[:n, k] = 1.0
    out = np.empty((blocks * PRODUCT_BLOCK, W.shape[1]), np.float32)
    for a in range(0, blocks * PRODUCT_BLOCK, PRODUCT_BLOCK):
        np.matmul(A[a:a + PRODUCT_BLOCK], W, out=out[a:a + PRODUCT_BLOCK])
    return out[:n]


def rows_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` whose rows do not depend on how many rows ``a`` has: a single row goes
    through the BLAS matrix-matrix kernel as well (doubled), not the matrix-vector one, which
    rounds differently. A configuration's predicted curve is then the same bit for bit whether
    it is predicted alone or in a batch (so batching and prefetching never change results)."""
    if a.shape[0] == 1:
        return (np.concatenate([a, a]) @ b)[:1]
    return a @ b




_LEAVES: "weakref.WeakKeyDictionary[Any, list]" = weakref.WeakKeyDictionary()


def forest_leaves(forest: Any) -> list:
    """Per tree of a fitted forest: ``(tree_, leaf_row, leaf_values)``, where
    ``leaf_values[leaf_row[node]]`` is a leaf's prediction (``(n_leaves, n_outputs)``, the leaves
    only, contiguous: a batch's lookups touch a fraction of the memory of scikit-learn's
    ``(n_nodes, n_outputs, 1)`` value arrays). Built once per forest."""
    got = _LEAVES.get(forest)
    if got is None:
        got = []
        for est in forest.estimators_:
            tree = est.tree_
            leaves = np.flatnonzero(tree.children_left == -1)
            leaf_row = np.zeros(tree.node_count, np.intp)
            leaf_row[leaves] = np.arange(len(leaves))
            got.append((tree, leaf_row, np.ascontiguousarray(tree.value[leaves, :, 0])))
        _LEAVES[forest] = got
    return got


def running_max(t: np.ndarray) -> np.ndarray:
    """Cumulative maximum along the last axis over finite values; NaN cells stay NaN."""
    nan = np.isnan(t)
    fixed = np.maximum.accumulate(np.where(nan, -np.inf, t), axis=-1)
    fixed[nan] = np.nan
    return fixed


def clip_decreases(cum: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Predicted cumulative times ``(n, n_fidelities)`` that go down somewhere: ``(rows,
    repaired)``, where a repaired row sums its increments clipped at 0 (a drop is ignored,
    later increases still count); ``None`` when every row is non-decreasing (and starts
    at >= 0). Rows are repaired independently of each other."""
    bad = (cum[:, 1:] < cum[:, :-1]).any(axis=1)
    bad |= cum[:, 0] < 0
    if not bad.any():
        return None
    rows = np.flatnonzero(bad)
    inc = np.diff(cum[rows], axis=1, prepend=0.0)
    return rows, np.cumsum(np.maximum(inc, 0.0), axis=1)


#: the activation functions of scikit-learn's ``MLPRegressor``, in place where possible
ACTIVATIONS = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0, out=z),
               "tanh": lambda z: np.tanh(z, out=z), "logistic": lambda z: 1.0 / (1.0 + np.exp(-z))}


def mlp_forward(mlp: Any, X: np.ndarray) -> np.ndarray:
    """A fitted ``MLPRegressor``'s output for ``X``, computed directly (``rows_matmul`` per
    layer: a row's output does not depend on the batch)."""
    act = ACTIVATIONS[mlp.activation]
    z = np.asarray(X, dtype=np.float64)
    last = len(mlp.coefs_) - 1
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        z = rows_matmul(z, w) + b
        if i < last:
            z = act(z)
    return z


def forest_predict(forest: Any, X: np.ndarray) -> np.ndarray:
    """A fitted ``RandomForestRegressor``'s prediction for ``X``, ``(n, n_outputs)``, from the
    leaves of its trees (``forest_leaves``), without scikit-learn's per-call overhead."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    out = np.zeros((len(X), forest.n_outputs_))
    for tree, leaf_row, leaf_values in forest_leaves(forest):
        out += leaf_values[leaf_row[tree.apply(X32)]]
    out /= len(forest.estimators_)
    return out
