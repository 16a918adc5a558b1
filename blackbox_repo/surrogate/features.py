"""Features of a surrogate's model: configurations encoded as rows of numbers.

Each hyperparameter's ``[0, 1]`` encoding from the surrogate's configuration space, choices
with more than two values one-hot (``Features``); whole columns, one configuration (a fast
path with per-value tables) and many configurations with a validity mask give the same
numbers, bit for bit.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import Choice, ConfigurationError, ConfigurationSpace, Ordinal, value_key

__all__ = ["Features"]

#: a configuration's missing value (``None`` may be a value)
MISSING = object()


class Features:
    """Configuration -> feature vector of a surrogate's model: each domain's ``[0, 1]``
    encoding, choices with more than two values one-hot. (Not ``configspace.FeatureEncoder``,
    which one-hots every choice: saved surrogates keep the encoding they were fitted with.)

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice, uniform
        >>> f = Features(ConfigurationSpace({"x": uniform(0, 2), "act": choice(["a", "b", "c"])}))
        >>> f.width, f.one({"x": 1.0, "act": "b"}).tolist()
        (4, [[0.5, 0.0, 1.0, 0.0]])
    """

    def __init__(self, space: ConfigurationSpace):
        self.space = space
        self.names = list(space)
        self.onehot = {k: len(d.values) for k, d in space.items()
                       if isinstance(d, Choice) and len(d.values) > 2}

    @property
    def width(self) -> int:
        return sum(self.onehot.get(k, 1) for k in self.names)

    def columns(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        parts = []
        for k, dom in self.space.items():
            vals = list(columns[k])
            try:
                if k in self.onehot:
                    idx = np.fromiter((dom.index_of(v) for v in vals), dtype=np.intp, count=len(vals))
                    oh = np.zeros((len(vals), self.onehot[k]))
                    oh[np.arange(len(vals)), idx] = 1.0
                    parts.append(oh)
                else:
                    parts.append(np.asarray(dom.encode_array(vals), dtype=np.float64).reshape(-1, 1))
            except (ConfigurationError, TypeError, ValueError) as e:
                raise ConfigurationError(f"hyperparameter '{k}': {e}") from None
        return np.hstack(parts) if parts else np.zeros((0, 0))

    def configs(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if len(configs) == 1:
            return self.one(configs[0])
        return self.columns({k: [c[k] for c in configs] for k in self.names})

    def one(self, config: Mapping[str, Any]) -> np.ndarray:
        """Features of one configuration, ``(1, width)`` (a fast path with per-value tables)."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self._fast = self._build_fast()
        x = np.zeros((1, self.width))
        for k, dom, col, table in fast:
            if table is None:
                x[0, col] = dom.encode_array([config[k]])[0]
                continue
            try:
                v = table[value_key(config[k])]
            except (KeyError, TypeError):
                dom.index_of(config[k])      # raises the error naming the allowed values
                raise
            if k in self.onehot:
                x[0, col + v] = 1.0
            else:
                x[0, col] = v
        return x

    def checked(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Features of many configurations, ``(n, width)``, and a boolean mask of those valid
        in the space (the same check as ``ConfigurationSpace.validate``; rows of invalid ones
        are not meaningful). Encodings are those of ``configs`` and ``one``."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self._fast = self._build_fast()
        raw_tables = self.__dict__.get("_raw")
        if raw_tables is None:
            # plain-string values map straight to their code (no normalization needed)
            raw_tables = self._raw = {k: {v: table[value_key(v)] for v in dom.values if type(v) is str}
                                      if table is not None else {} for k, dom, col, table in fast}
        n, width = len(configs), len(self.names)
        X = np.zeros((n, self.width))
        ok = np.fromiter((len(c) == width for c in configs), dtype=bool, count=n)
        for k, dom, col, table in fast:
            values = [c.get(k, MISSING) for c in configs]
            if table is None:
                good = np.fromiter((v is not MISSING and dom.contains(v) for v in values), dtype=bool, count=n)
                ok &= good
                rows = np.flatnonzero(good)
                if len(rows):
                    X[rows, col] = dom.encode_array([values[i] for i in rows])
                continue
            key, plain = value_key, raw_tables[k]
            codes = [plain.get(v) if type(v) is str else None for v in values]
            for i, e in enumerate(codes):
                if e is None:           # not a plain string: the general lookup
                    try:
                        codes[i] = table[key(values[i])]
                    except (KeyError, TypeError):
                        ok[i] = False
                        codes[i] = -1
            found = np.asarray(codes)
            rows = np.flatnonzero(found >= 0)
            if k in self.onehot:
                X[rows, col + found[rows].astype(np.intp)] = 1.0
            else:
                X[rows, col] = found[rows]
        return X, ok

    def _build_fast(self) -> list:
        out, col = [], 0
        for k, dom in self.space.items():
            table = None
            if isinstance(dom, (Choice, Ordinal)):
                if k in self.onehot:
                    table = {value_key(v): i for i, v in enumerate(dom.values)}
                else:
                    enc = dom.encode_array(dom.values)
                    table = {value_key(v): float(e) for v, e in zip(dom.values, enc)}
            out.append((k, dom, col, table))
            col += self.onehot.get(k, 1)
        return out

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_fast", "_raw")}

