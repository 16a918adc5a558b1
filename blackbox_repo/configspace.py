"""Configuration-space vocabulary shared by blackboxes and methods.

This module imports nothing else of hposim: it is the only part of ``blackbox_repo``
that ``methods`` may import (see docs/architecture.md#layering).

A configuration space is an ordered mapping ``name -> Domain``. Every domain can sample
(seeded), encode a value to ``[0, 1]`` (one column per parameter, categorical values by
their index spread over ``[0, 1]``), decode, validate a value with an error naming the
parameter, the bad value and what is allowed, and round-trip through JSON. Models (GPs,
KDEs) use ``FeatureEncoder`` instead: choices one-hot, ordinals by rank, constants dropped.

Example:
    >>> import numpy as np
    >>> space = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "layers": randint(1, 4),
    ...                             "act": choice(["relu", "tanh"])})
    >>> cfg = space.sample(np.random.default_rng(0))
    >>> space.validate(cfg)
    >>> space.decode(space.encode([cfg]))[0] == cfg
    True
"""
from __future__ import annotations

import bisect
import difflib
import itertools
import json
import math
import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, cast, overload

import numpy as np

from blackbox_repo.errors import InputError

__all__ = [
    "Domain", "Choice", "Ordinal", "Integer", "Float", "Constant", "ConfigurationSpace",
    "choice", "ordinal", "randint", "lograndint", "uniform", "loguniform", "constant",
    "ConfigurationError", "values_getter", "FeatureEncoder", "value_key",
]


def values_getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple]:
    """``config -> tuple of its values`` in ``names`` order, in one C call (``KeyError`` for a
    missing name).

    Example:
        >>> values_getter(["b", "a"])({"a": 1, "b": "x"})
        ('x', 1)
    """
    names = list(names)
    if len(names) == 1:
        name = names[0]
        return lambda config: (config[name],)
    if not names:
        return lambda config: ()
    return operator.itemgetter(*names)


class ConfigurationError(InputError):
    """A configuration or a value does not belong to its space."""


def _python_scalar(value: Any) -> Any:
    """Numpy scalars become Python scalars so JSON and hashing behave."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Domain(ABC):
    """One hyperparameter's set of allowed values.

    ``values`` is the finite list of allowed values, or ``None`` for a continuous range.

    Example:
        >>> lr = loguniform(1e-4, 1e-1)
        >>> isinstance(lr, Domain), lr.is_finite, lr.contains(0.5)
        (True, False, False)
        >>> domain_from_dict(lr.to_dict()) == lr
        True
        >>> lr.validate(0.5, name="lr")
        Traceback (most recent call last):
            ...
        blackbox_repo.configspace.ConfigurationError: hyperparameter 'lr' = 0.5 is not allowed; ...
    """

    kind: str = ""
    values: list | None = None

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One value (``size=None``) or a list of ``size`` values."""

    @abstractmethod
    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        """Values to floats in ``[0, 1]``."""

    @abstractmethod
    def decode_array(self, x: np.ndarray) -> list:
        """Floats in ``[0, 1]`` back to values (the nearest allowed value)."""

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""

    @abstractmethod
    def describe(self) -> str:
        """What is allowed, for error messages."""

    @abstractmethod
    def to_dict(self) -> dict:
        """JSON-ready description; inverse of ``domain_from_dict``."""

    # shared behaviour -------------------------------------------------------------
    def encode(self, value: Any) -> float:
        return float(self.encode_array([value])[0])

    def decode(self, x: float) -> Any:
        return self.decode_array(np.asarray([x], dtype=float))[0]

    def validate(self, value: Any, name: str = "value") -> None:
        if not self.contains(value):
            raise ConfigurationError(
                f"hyperparameter '{name}' = {value!r} is not allowed; allowed: {self.describe()}")

    @property
    def is_finite(self) -> bool:
        return self.values is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Domain) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


class _Finite(Domain):
    """Shared code of domains with an explicit list of values (choice, ordinal)."""

    values: list

    def __init__(self, values: Iterable[Any]):
        values = [_python_scalar(v) for v in values]
        if not values:
            raise ConfigurationError(f"{self.kind} needs at least one value, got none")
        if len(set(map(repr, values))) != len(values):
            raise ConfigurationError(f"{self.kind} values must be distinct, got {values!r}")
        self.values = values
        self._index = {self._key(v): i for i, v in enumerate(values)}
        # plain-typed lookups for whole columns (``FeatureEncoder``): strings by themselves,
        # ints and floats by value (1 and 1.0 are one key, as in ``_key``; bools are never here)
        self._str_index = {v: i for i, v in enumerate(values) if type(v) is str}
        self._num_index = {float(v): i for i, v in enumerate(values) if type(v) in (int, float)}

    @staticmethod
    def _key(value: Any) -> Any:
        value = _python_scalar(value)
        if isinstance(value, bool):
            return ("b", value)
        if isinstance(value, (int, float)):
            return ("n", float(value))
        return ("o", value)

    def index_of(self, value: Any) -> int:
        try:
            return self._index[self._key(value)]
        except (KeyError, TypeError):
            raise ConfigurationError(
                f"{value!r} is not allowed; allowed: {self.describe()}") from None

    def contains(self, value: Any) -> bool:
        try:
            return self._key(value) in self._index
        except TypeError:
            return False

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        idx = rng.integers(len(self.values), size=size)
        if size is None:
            return self.values[int(idx)]
        values = self.values
        return [values[i] for i in idx.tolist()]

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        n = len(self.values)
        idx = np.fromiter((self.index_of(v) for v in values), dtype=float, count=len(values))
        return (idx + 0.5) / n

    def decode_array(self, x: np.ndarray) -> list:
        n = len(self.values)
        idx = np.clip(np.floor(np.asarray(x, dtype=float) * n), 0, n - 1).astype(int)
        return [self.values[i] for i in idx]

    def describe(self) -> str:
        return f"one of {self.values!r}"

    def to_dict(self) -> dict:
        return {"type": self.kind, "values": list(self.values)}


#: the key finite domains (``choice``, ``ordinal``) index their values by: numbers by value
#: (``1`` and ``1.0`` are one key), booleans apart from numbers, anything else by itself
value_key = _Finite._key


class Choice(_Finite):
    """Categorical values without order. ``choice(["relu", "tanh"])``.

    Example:
        >>> act = Choice(["relu", "tanh", "gelu"])
        >>> act.encode("tanh"), act.decode(0.9), act.contains("elu")
        (0.5, 'gelu', False)
    """

    kind = "choice"


class Ordinal(_Finite):
    """Ordered values (numbers or labels); neighbours in the list are close in encoding.

    For numeric ordinals, ``nearest`` finds the closest allowed value.

    Example:
        >>> width = Ordinal([16, 32, 64, 128])
        >>> width.nearest(50), width.encode(32), width.decode(1.0)
        (64, 0.375, 128)
    """

    kind = "ordinal"

    def nearest(self, value: float) -> Any:
        return min(self.values, key=lambda v: abs(float(v) - float(value)))


@dataclass(eq=False, repr=False)
class _Range(Domain):
    lower: float
    upper: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise ConfigurationError(f"{self.kind} bounds must be finite, got [{self.lower}, {self.upper}]")
        if self.lower > self.upper:
            raise ConfigurationError(
                f"{self.kind} lower bound {self.lower} is above the upper bound {self.upper}")
        if self.log and self.lower <= 0:
            raise ConfigurationError(
                f"{self.kind} on a log scale needs a lower bound > 0, got {self.lower}")

    def _unit_affine(self) -> tuple[float, float] | None:
        """``(a, span)``: a value ``v`` encodes to ``(t(v) - a) / span``, ``t`` being ``log`` on
        a log scale and the identity otherwise; ``None`` for a single value (encoded 0.5)."""
        lo, hi = self._bounds()
        if hi == lo:
            return None
        if self.log:
            return math.log(lo), math.log(hi) - math.log(lo)
        return lo, hi - lo

    def _to_unit(self, v: np.ndarray) -> np.ndarray:
        affine = self._unit_affine()
        if affine is None:
            return np.full_like(v, 0.5, dtype=float)
        a, span = affine
        return ((np.log(v) if self.log else v) - a) / span

    def _from_unit(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self._bounds()
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if self.log:
            return np.exp(math.log(lo) + x * (math.log(hi) - math.log(lo)))
        return lo + x * (hi - lo)

    def _bounds(self) -> tuple[float, float]:
        return float(self.lower), float(self.upper)

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return self._to_unit(v)

    @abstractmethod
    def _contains_array(self, v: np.ndarray) -> np.ndarray:
        """``contains`` of each number of a float array (a boolean array)."""

    def describe(self) -> str:
        scale = ", log scale" if self.log else ""
        return f"{self.kind} in [{self.lower}, {self.upper}]{scale}"

    def to_dict(self) -> dict:
        return {"type": self.kind, "lower": self.lower, "upper": self.upper, "log": self.log}


class Float(_Range):
    """A real interval, optionally on a log scale. ``loguniform(1e-4, 1e-1)``.

    Example:
        >>> lr = Float(1e-4, 1e-1, log=True)
        >>> lr.describe(), round(lr.encode(1e-2), 4), round(lr.decode(0.5), 6)
        ('float in [0.0001, 0.1], log scale', 0.6667, 0.003162)
    """

    kind = "float"

    def __post_init__(self) -> None:
        self.lower, self.upper = float(self.lower), float(self.upper)
        super().__post_init__()

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        u = rng.random(size=size)
        out = self._from_unit(np.asarray(u))
        return float(out) if size is None else out.tolist()

    def decode_array(self, x: np.ndarray) -> list:
        return self._from_unit(x).tolist()

    def contains(self, value: Any) -> bool:
        value = _python_scalar(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        tol = 1e-9 * max(1.0, abs(self.upper))
        return self.lower - tol <= value <= self.upper + tol

    def _contains_array(self, v: np.ndarray) -> np.ndarray:
        """``contains`` of each number of a numeric array."""
        tol = 1e-9 * max(1.0, abs(self.upper))
        return (v >= self.lower - tol) & (v <= self.upper + tol)


class Integer(_Range):
    """Integers in ``[lower, upper]`` (both included), optionally on a log scale.

    On a linear scale every integer gets an equal share of ``[0, 1]``; on a log scale the
    encoding is ``log(v)`` rescaled and decoding rounds to the nearest integer.

    Example:
        >>> layers = Integer(1, 4)
        >>> layers.values, layers.decode(0.99), layers.contains(2.0), layers.contains(2.5)
        ([1, 2, 3, 4], 4, True, False)
        >>> Integer(1, 1024, log=True).decode(0.5)
        32
    """

    kind = "int"

    def __post_init__(self) -> None:
        if int(self.lower) != self.lower or int(self.upper) != self.upper:
            raise ConfigurationError(f"int bounds must be integers, got [{self.lower}, {self.upper}]")
        self.lower, self.upper = int(self.lower), int(self.upper)
        super().__post_init__()
        self.values = None if self.upper - self.lower > 10_000 else list(range(self.lower, self.upper + 1))

    def _bounds(self) -> tuple[float, float]:
        if self.log:
            return float(self.lower), float(self.upper)
        return self.lower - 0.5 + 1e-9, self.upper + 0.5 - 1e-9

    def _round(self, v: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(v), self.lower, self.upper).astype(np.int64)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        out = self._round(self._from_unit(np.asarray(rng.random(size=size))))
        return int(out) if size is None else out.tolist()

    def decode_array(self, x: np.ndarray) -> list:
        return self._round(self._from_unit(x)).tolist()

    def contains(self, value: Any) -> bool:
        value = _python_scalar(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (isinstance(value, int) or float(value).is_integer()) and self.lower <= value <= self.upper

    def _contains_array(self, v: np.ndarray) -> np.ndarray:
        """``contains`` of each number of a numeric array."""
        return (v == np.rint(v)) & (v >= self.lower) & (v <= self.upper)


class Constant(Domain):
    """A fixed value; encodes to nothing useful (always 0.5) but is kept in configurations.

    Example:
        >>> import numpy as np
        >>> space = ConfigurationSpace({"opt": Constant("adam"), "x": uniform(0, 1)})
        >>> space.sample(np.random.default_rng(0))["opt"], space["opt"].encode("adam")
        ('adam', 0.5)
    """

    kind = "constant"

    def __init__(self, value: Any):
        self.value = _python_scalar(value)
        self.values = [self.value]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        return self.value if size is None else [self.value] * size

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        for v in values:
            self.validate(v)
        return np.full(len(values), 0.5)

    def decode_array(self, x: np.ndarray) -> list:
        return [self.value] * len(np.atleast_1d(x))

    def contains(self, value: Any) -> bool:
        return _python_scalar(value) == self.value

    def describe(self) -> str:
        return f"the constant {self.value!r}"

    def to_dict(self) -> dict:
        return {"type": self.kind, "value": self.value}


def choice(values: Iterable[Any]) -> Choice:
    return Choice(values)


def ordinal(values: Iterable[Any]) -> Ordinal:
    return Ordinal(values)


def randint(lower: int, upper: int) -> Integer:
    return Integer(lower, upper, log=False)


def lograndint(lower: int, upper: int) -> Integer:
    return Integer(lower, upper, log=True)


def uniform(lower: float, upper: float) -> Float:
    return Float(lower, upper, log=False)


def loguniform(lower: float, upper: float) -> Float:
    return Float(lower, upper, log=True)


def constant(value: Any) -> Constant:
    return Constant(value)


def domain_from_dict(d: Mapping[str, Any]) -> Domain:
    """Inverse of ``Domain.to_dict``."""
    kind = d.get("type")
    if kind == "choice":
        return Choice(d["values"])
    if kind == "ordinal":
        return Ordinal(d["values"])
    if kind == "int":
        return Integer(d["lower"], d["upper"], log=bool(d.get("log", False)))
    if kind == "float":
        return Float(d["lower"], d["upper"], log=bool(d.get("log", False)))
    if kind == "constant":
        return Constant(d["value"])
    raise ConfigurationError(
        f"unknown domain type {kind!r}; allowed: choice, ordinal, int, float, constant")


class ConfigurationSpace(Mapping[str, Domain]):
    """An ordered mapping ``name -> Domain``.

    Example:
        >>> space = ConfigurationSpace({"x": uniform(0, 1), "opt": choice(["sgd", "adam"])})
        >>> space.encode([{"x": 0.25, "opt": "adam"}]).tolist()
        [[0.25, 0.75]]
        >>> ConfigurationSpace.from_json(space.to_json()) == space
        True
    """

    def __init__(self, domains: Mapping[str, Domain] | Iterable[tuple[str, Domain]]):
        items = list(domains.items()) if isinstance(domains, Mapping) else list(domains)
        for name, dom in items:
            if not isinstance(dom, Domain):
                raise ConfigurationError(
                    f"hyperparameter '{name}' has domain {dom!r}; expected a Domain such as "
                    f"choice([...]), randint(a, b), uniform(a, b) or loguniform(a, b)")
        self._domains: dict[str, Domain] = dict(items)

    # Mapping protocol
    def __getitem__(self, name: str) -> Domain:
        return self._domains[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains)

    def __len__(self) -> int:
        return len(self._domains)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigurationSpace):
            return list(self._domains.items()) == list(other._domains.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v!r}" for k, v in self._domains.items())
        return f"ConfigurationSpace({{{inner}}})"

    @property
    def names(self) -> list[str]:
        return list(self._domains)

    @property
    def is_finite(self) -> bool:
        return all(d.is_finite for d in self._domains.values())

    @property
    def size(self) -> float:
        """Number of configurations (``inf`` for continuous spaces)."""
        if not self.is_finite:
            return math.inf
        return float(math.prod(len(d.values or ()) for d in self._domains.values()))

    @overload
    def sample(self, rng: np.random.Generator, n: None = None) -> dict: ...

    @overload
    def sample(self, rng: np.random.Generator, n: int) -> list[dict]: ...

    def sample(self, rng: np.random.Generator, n: int | None = None) -> dict | list[dict]:
        """One configuration (``n=None``) or a list of ``n``, reproducible from ``rng``."""
        if n is None:
            return {k: d.sample(rng) for k, d in self._domains.items()}
        names = list(self._domains)
        if not names:
            return [{} for _ in range(n)]
        cols = [d.sample(rng, size=n) for d in self._domains.values()]
        return [dict(zip(names, row)) for row in zip(*cols)]

    def grid(self) -> Iterator[dict]:
        """Every configuration of a finite space, in lexicographic order of the domains."""
        if not self.is_finite:
            bad = [k for k, d in self._domains.items() if not d.is_finite]
            raise ConfigurationError(f"grid needs a finite space; infinite hyperparameters: {bad}")
        names = self.names
        for combo in itertools.product(*(self._domains[k].values or () for k in names)):
            yield dict(zip(names, combo))

    def validate(self, config: Mapping[str, Any]) -> None:
        missing = [k for k in self._domains if k not in config]
        extra = [k for k in config if k not in self._domains]
        if missing or extra:
            raise ConfigurationError(
                f"configuration {dict(config)!r} does not match the space: missing {missing}, "
                f"unknown {extra}; expected hyperparameters {self.names}")
        for k, d in self._domains.items():
            d.validate(config[k], name=k)

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``(n, d)`` array in ``[0, 1]``, one column per hyperparameter."""
        out = np.empty((len(configs), len(self._domains)))
        for j, (k, d) in enumerate(self._domains.items()):
            try:
                out[:, j] = d.encode_array([c[k] for c in configs])
            except ConfigurationError as e:
                raise ConfigurationError(f"hyperparameter '{k}': {e}") from None
        return out

    def encode_columns(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Like ``encode`` for column-oriented data (e.g. a DataFrame)."""
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.empty((n, len(self._domains)))
        for j, (k, d) in enumerate(self._domains.items()):
            out[:, j] = d.encode_array(list(columns[k]))
        return out

    def decode(self, x: np.ndarray) -> list[dict]:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] != len(self._domains):
            raise ConfigurationError(
                f"decode expects {len(self._domains)} columns ({self.names}), got {x.shape[1]}")
        cols = {k: d.decode_array(x[:, j]) for j, (k, d) in enumerate(self._domains.items())}
        return [{k: cols[k][i] for k in self._domains} for i in range(x.shape[0])]

    def to_dict(self) -> dict:
        return {k: d.to_dict() for k, d in self._domains.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Mapping[str, Any]]) -> "ConfigurationSpace":
        return cls({k: domain_from_dict(v) for k, v in d.items()})

    @classmethod
    def from_json(cls, s: str) -> "ConfigurationSpace":
        return cls.from_dict(json.loads(s))

    @classmethod
    def from_values(cls, columns: Mapping[str, Sequence[Any]]) -> "ConfigurationSpace":
        """Infer a space from tabulated values: numbers become ordinals of their sorted
        distinct values, anything else a choice. Used when importing a table."""
        domains: dict[str, Domain] = {}
        for k, vals in columns.items():
            uniq = list(dict.fromkeys(_python_scalar(v) for v in vals))
            if len(uniq) == 1:
                domains[k] = Constant(uniq[0])
            elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in uniq):
                domains[k] = Ordinal(sorted(uniq))
            else:
                domains[k] = Choice(sorted(uniq, key=str))
        return cls(domains)


class FeatureEncoder:
    """Configurations of a space <-> ``float64`` feature rows for models (GPs, KDEs, ...).

    Columns follow the space's order: a ``float`` or ``int`` range gives one column, its
    domain's ``[0, 1]`` encoding (on a log scale when the domain is; an ``int`` maps its
    integer value, as ``Domain.encode`` does); a ``choice`` gives one 0/1 column per value
    (one-hot); an ``ordinal`` one column, its rank ``index / (n - 1)``; a constant no column
    (``decode`` restores it). A space of constants only has ``dim == 0``.

    ``columns`` lists ``(name, kind, slice of columns)`` per encoded hyperparameter;
    ``numeric_mask`` marks the ordered columns (ranges, ordinals), ``categorical_groups``
    lists ``(name, column indices)`` per one-hot group, ``bounds`` is ``(dim, 2)``, all
    ``[0, 1]``. ``encode`` and ``encode_one`` give the same numbers, bit for bit.

    Example:
        >>> space = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "act": choice(["relu", "tanh", "gelu"]),
        ...                             "width": ordinal([16, 32, 64]), "opt": constant("adam")})
        >>> enc = FeatureEncoder(space)
        >>> enc.dim, [(name, kind) for name, kind, _ in enc.columns]
        (5, [('lr', 'float'), ('act', 'choice'), ('width', 'ordinal')])
        >>> x = enc.encode_one({"lr": 10 ** -2.5, "act": "gelu", "width": 32, "opt": "adam"})
        >>> x.round(6).tolist(), enc.numeric_mask.tolist()
        ([0.5, 0.0, 0.0, 1.0, 0.5], [True, False, False, False, True])
        >>> enc.categorical_groups
        [('act', array([1, 2, 3]))]
        >>> back = enc.decode(enc.encode([{"lr": 0.01, "act": "tanh", "width": 64, "opt": "adam"}]))[0]
        >>> round(back["lr"], 12), back["act"], back["width"], back["opt"]
        (0.01, 'tanh', 64, 'adam')
    """

    def __init__(self, space: ConfigurationSpace):
        self.space = space
        self.columns: list[tuple[str, str, slice]] = []
        self.categorical_groups: list[tuple[str, np.ndarray]] = []
        numeric: list[bool] = []
        # (name, domain, first column, per-kind data) per hyperparameter, constants included
        self._plan: list[tuple[str, Domain, int, Any]] = []
        data: Any
        for name, dom in space.items():
            col = len(numeric)
            if isinstance(dom, Constant):
                self._plan.append((name, dom, col, None))
                continue
            if isinstance(dom, _Range):
                width, data = 1, (dom.lower, dom.upper, dom.log, dom._unit_affine())
            elif isinstance(dom, Ordinal):
                n = len(dom.values)
                width, data = 1, [i / (n - 1) if n > 1 else 0.0 for i in range(n)]
            elif isinstance(dom, Choice):
                width, data = len(dom.values), None
                group = np.arange(col, col + width)
                group.flags.writeable = False
                self.categorical_groups.append((name, group))
            else:
                raise ConfigurationError(
                    f"hyperparameter '{name}': FeatureEncoder cannot encode a {type(dom).__name__} domain")
            numeric += [not isinstance(dom, Choice)] * width
            self.columns.append((name, dom.kind, slice(col, col + width)))
            self._plan.append((name, dom, col, data))
        self.dim = len(numeric)
        self.numeric_mask = np.array(numeric, dtype=bool)
        self.bounds = np.tile([0.0, 1.0], (self.dim, 1))
        self.numeric_mask.flags.writeable = self.bounds.flags.writeable = False

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``(len(configs), dim)`` feature rows, computed column by column."""
        n = len(configs)
        X = np.zeros((n, self.dim))
        for name, dom, col, data in self._plan:
            try:
                values = [c[name] for c in configs]
            except KeyError:
                raise self._missing(next(c for c in configs if name not in c), name) from None
            if isinstance(dom, _Range):
                v = self._numbers(name, dom, values)
                X[:, col] = np.clip(dom.encode_array(np.clip(v, dom.lower, dom.upper)), 0.0, 1.0)
            elif isinstance(dom, Constant):
                for value in values:
                    dom.validate(value, name=name)
            elif isinstance(dom, Choice):
                X[np.arange(n), col + self._indices(name, dom, values)] = 1.0
            else:
                X[:, col] = np.asarray(data)[self._indices(name, cast(Ordinal, dom), values)]
        return X

    def encode_one(self, config: Mapping[str, Any]) -> np.ndarray:
        """The ``(dim,)`` feature row of one configuration (``encode([config])[0]``, faster)."""
        x = np.zeros(self.dim)
        for name, dom, col, data in self._plan:
            try:
                value = config[name]
            except KeyError:
                raise self._missing(config, name) from None
            if isinstance(dom, _Finite):
                try:
                    i = dom._index[dom._key(value)]
                except (KeyError, TypeError):
                    dom.validate(value, name=name)
                    raise
                if isinstance(dom, Choice):
                    x[col + i] = 1.0
                else:
                    x[col] = data[i]
                continue
            if not dom.contains(value):
                dom.validate(value, name=name)
            if isinstance(dom, _Range):
                lower, upper, log, affine = data
                if affine is None:
                    x[col] = 0.5
                    continue
                v = min(max(float(value), lower), upper)
                t = float(np.log(v)) if log else v
                x[col] = min(max((t - affine[0]) / affine[1], 0.0), 1.0)
        return x

    def decode(self, X: np.ndarray) -> list[dict]:
        """Feature rows (``(n, dim)``, or one ``(dim,)`` row) back to configurations: ranges
        decoded by their domain (ints rounded), the largest column of a one-hot group, the
        nearest rank of an ordinal, constants restored."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ConfigurationError(
                f"decode expects rows of {self.dim} features {[c[0] for c in self.columns]}, got an "
                f"array of shape {X.shape}")
        if not np.isfinite(X).all():
            raise ConfigurationError("decode expects finite features, got NaN or infinity")
        n = X.shape[0]
        columns = []
        for _name, dom, col, _data in self._plan:
            if isinstance(dom, Constant):
                columns.append([dom.value] * n)
            elif isinstance(dom, _Range):
                columns.append(dom.decode_array(X[:, col]))
            elif isinstance(dom, Choice):
                idx = np.argmax(X[:, col:col + len(dom.values)], axis=1)
                columns.append([dom.values[i] for i in idx.tolist()])
            else:
                dom = cast(Ordinal, dom)
                last = len(dom.values) - 1
                idx = np.clip(np.rint(X[:, col] * last), 0, last).astype(np.intp)
                columns.append([dom.values[i] for i in idx.tolist()])
        names = [name for name, *_ in self._plan]
        return [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in range(n)]

    def __repr__(self) -> str:
        return f"FeatureEncoder({self.dim} features of {self.space!r})"

    @staticmethod
    def _missing(config: Mapping[str, Any], name: str) -> ConfigurationError:
        return ConfigurationError(
            f"configuration {dict(config)!r} has no value for hyperparameter '{name}'")

    @staticmethod
    def _numbers(name: str, dom: _Range, values: list) -> np.ndarray:
        """``values`` as a float array once all are allowed (else the domain's error)."""
        numbers = all(issubclass(t, (int, float, np.integer, np.floating)) and not issubclass(t, bool)
                      for t in set(map(type, values)))
        try:
            v = np.asarray(values, dtype=np.float64) if numbers else None
        except OverflowError:
            v = None
        if v is None or not dom._contains_array(v).all():
            for value in values:
                dom.validate(value, name=name)
        assert v is not None                # a value that is no number failed validate
        return v

    @staticmethod
    def _indices(name: str, dom: _Finite, values: list) -> np.ndarray:
        """Index of each value in ``dom.values`` (else the domain's error naming ``name``)."""
        types = set(map(type, values))
        # fast paths for columns of plain strings or plain numbers (a table's 15,625 rows
        # encode in milliseconds); anything else goes through the domain's canonical keys
        lookup = dom._str_index if types <= {str} else dom._num_index if types <= {int, float} else None
        try:
            if lookup is not None:
                return np.fromiter(map(lookup.__getitem__, values), dtype=np.intp, count=len(values))
            index, key = dom._index, dom._key
            return np.fromiter((index[key(v)] for v in values), dtype=np.intp, count=len(values))
        except (KeyError, TypeError):
            for value in values:
                dom.validate(value, name=name)
            raise


def nearest_values(domain: Domain, value: Any, k: int = 3) -> list:
    """Up to ``k`` allowed values closest to ``value`` (for error messages)."""
    if domain.values is None:
        return []
    vals = domain.values
    try:
        x = float(value)
        numeric = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numeric) == len(vals):
            srt = sorted(numeric)
            i = bisect.bisect_left(srt, x)
            cand = srt[max(0, i - k): i + k]
            return sorted(cand, key=lambda v: abs(v - x))[:k]
    except (TypeError, ValueError):
        pass
    close = difflib.get_close_matches(str(value), [str(v) for v in vals], n=k, cutoff=0.0)
    by_str = {str(v): v for v in vals}
    return [by_str[c] for c in close]
