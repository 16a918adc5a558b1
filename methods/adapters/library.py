"""Importing an optional library and building its classes by name, with errors that say what is allowed.

Used by the Optuna and Syne Tune adapters: ``import_optional`` imports the library when an
adapter is built (``import methods`` never does), ``classes_of`` lists the public subclasses of a
base class in a module (the names a study spec may use), ``build`` instantiates one by name with
its arguments checked against its signature.

Example:
    >>> import fractions
    >>> classes_of(fractions, object)["Fraction"] is fractions.Fraction
    True
    >>> build(fractions, "Fraction", {"numerator": 3, "denominator": 6}, base=object, what="number")
    Fraction(1, 2)
"""
from __future__ import annotations

import difflib
import importlib
import inspect
from types import ModuleType
from typing import Any, Mapping, Sequence

from methods.arguments import check_keywords
from blackbox_repo.configspace import ConfigurationSpace
from methods.base import MethodError, Scheduler

__all__ = ["import_optional", "classes_of", "build", "accepts"]


def import_optional(module: str, extra: str) -> ModuleType:
    """``import module``, or a ``MethodError`` telling how to install it (``pip install 'hposim[extra]'``)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MethodError(f"this method needs the optional library {module!r}, which is not installed ({e}); "
                          f"install it with: pip install 'hposim[{extra}]'") from None


def classes_of(module: ModuleType, base: type) -> dict[str, type]:
    """Public classes of ``module`` (its ``__all__`` or its names) that subclass ``base``."""
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    out = {}
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isclass(obj) and issubclass(obj, base) and not name.startswith("Base"):
            out[name] = obj
    return out


def accepts(cls: type, name: str) -> bool:
    """Whether ``cls(...)`` takes a keyword argument ``name``."""
    params = inspect.signature(cls.__init__).parameters
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def build(module: ModuleType | Mapping[str, type], name: Any, args: Mapping[str, Any] | None, *, base: type,
          what: str, defaults: Mapping[str, Any] | None = None, where: str | None = None) -> Any:
    """``module.<name>(**defaults, **args)`` for a class ``name`` subclassing ``base`` (``module``
    may be a mapping of names to classes, ``where`` then says where they come from).

    ``defaults`` apply only where the class takes them and ``args`` does not set them. A name
    that is not such a class, unknown arguments or a failing constructor give a ``MethodError``
    naming what is allowed."""
    if isinstance(module, Mapping):
        allowed = dict(module)
    else:
        allowed = classes_of(module, base)
        where = where or f"names in {module.__name__}"
    if not isinstance(name, str) or name not in allowed:
        close = difflib.get_close_matches(str(name), list(allowed), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MethodError(f"{what} {name!r} is not valid; allowed: {sorted(allowed)} ({where}), "
                          f"or an instance.{hint}")
    cls = allowed[name]
    args = dict(args or {})
    if not isinstance(args, dict):
        raise MethodError(f"{what} arguments must be a mapping of argument names to values, got {args!r}")
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        check_keywords(f"{what} {name}", args, [p for p in params if p != "self"])
    kwargs = {k: v for k, v in (defaults or {}).items() if k not in args and accepts(cls, k)}
    kwargs.update(args)
    try:
        return cls(**kwargs)
    except ImportError as e:
        raise MethodError(f"{what} {name} needs a library that is not installed: {e}") from None
    except (TypeError, ValueError, AssertionError) as e:
        raise MethodError(f"{what} {name} could not be built with arguments {kwargs}: {e}") from None


class BindsLater(Scheduler):
    """An adapter that may be built without its problem: ``simulate`` binds it to the blackbox
    (``Scheduler.bind``); built with a configuration space, it is set up at once. Subclasses
    implement ``_setup`` (the same arguments as ``bind``) and name what they optimize in
    ``several_word`` (for the message when ``metric`` is missing).

    Example:
        >>> from methods.adapters import OptunaScheduler
        >>> issubclass(OptunaScheduler, BindsLater)
        True
    """

    several_word = "a multi-objective study"

    def _setup_or_defer(self, config_space: ConfigurationSpace | None, *, metric: Any, mode: Any,
                        fidelity_values: Any, seed: int, candidates: Any) -> None:
        """Set up now when ``config_space`` is given, else wait for ``bind`` (nothing of the
        problem may be given without the space)."""
        if config_space is None:
            given = sorted(k for k, v in (("metric", metric), ("fidelity_values", fidelity_values),
                                          ("candidates", candidates)) if v is not None)
            if given:
                raise MethodError(f"{given} given without a configuration space; give config_space too, or none "
                                  f"of them (simulate binds the scheduler to the blackbox)")
            return
        if metric is None:
            raise MethodError(f"metric is required with a configuration space (the name of the objective to "
                              f"optimize, or several names for {self.several_word})")
        self._setup(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                    candidates=candidates)

    def bind(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
             mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
             candidates: Sequence[Mapping[str, Any]] | None = None) -> None:
        if self.bound:
            super().bind(config_space, metric=metric)   # refuses, with its message
        self._setup(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                    candidates=candidates)

