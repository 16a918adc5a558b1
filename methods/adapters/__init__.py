"""Schedulers of other libraries running unchanged in hposim: Optuna samplers/pruners and Syne Tune schedulers.

``OptunaScheduler`` (method ``"optuna"``) and ``SyneTuneScheduler`` (method ``"synetune"``)
implement hposim's scheduler protocol (``methods.base``) on top of the real libraries, which are
optional extras (``pip install 'hposim[optuna]'``, ``'hposim[synetune]'``) imported only when an
adapter is built: ``import methods`` (which registers both names) never imports them. The two
classes are loaded on first access (``from methods.adapters import OptunaScheduler``).

Example:
    >>> import methods.adapters as adapters
    >>> sorted(adapters.__all__)
    ['OptunaScheduler', 'SyneTuneScheduler']
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["OptunaScheduler", "SyneTuneScheduler"]

_WHERE = {"OptunaScheduler": "methods.adapters.optuna_adapter",
          "SyneTuneScheduler": "methods.adapters.synetune_adapter"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'methods.adapters' has no attribute {name!r}; it has {sorted(_WHERE)}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_WHERE))
