"""Tabulated blackboxes: the data model, Parquet storage, the cache and the repository.

The public names below are imported lazily (PEP 562), on first access: ``import methods``
needs only ``blackbox_repo.configspace``, which must not drag pandas, pyarrow and the rest
of the repository in. ``from blackbox_repo import load_blackbox`` works as before; the
repository plugs its providers (the recipes, the surrogate-aware cache) in at its first
lookup, whichever module it was imported from.

Example:
    >>> import blackbox_repo
    >>> blackbox_repo.load_blackbox.__module__, "load_blackbox" in dir(blackbox_repo)
    ('blackbox_repo.repository', True)
    >>> blackbox_repo.no_such_name
    Traceback (most recent call last):
        ...
    AttributeError: module 'blackbox_repo' has no attribute 'no_such_name'
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["Blackbox", "BlackboxError", "TabularBlackbox"], "blackbox"),
    **dict.fromkeys(["ConfigurationError", "ConfigurationSpace", "FeatureEncoder", "choice", "constant",
                     "loguniform", "lograndint", "ordinal", "randint", "uniform"], "configspace"),
    **dict.fromkeys(["from_dataframe", "import_table", "ImportResult", "ImportReport"], "importing"),
    **dict.fromkeys(["generate", "GenerationError", "GenerationReport"], "generate"),
    **dict.fromkeys(["load_blackbox", "list_blackboxes", "DEFAULT_BLACKBOX", "save_blackbox",
                     "BlackboxRecord"], "repository"),
    "CorruptBlackboxError": "storage",
    **dict.fromkeys(["RECIPES", "Recipe", "get_recipe"], "recipes"),
    **dict.fromkeys(["SurrogateBlackbox", "SurrogateError", "add_surrogate", "load_surrogate"], "surrogate"),
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value          # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package's module type: when ``blackbox_repo.generate`` (the submodule) loads, the
    import system binds it on the package, where the public name is the function
    ``generate``; the function is kept."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
