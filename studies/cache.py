"""Blackboxes loaded once per process: a module-level cache keyed by (name, task).

Worker processes of every engine (loky, Dask, Ray) keep this module imported between
runs, so a blackbox is loaded (memory-mapped) once per worker, not once per run.

Example:
    >>> from studies.cache import cache_info
    >>> sorted(cache_info())
    ['loaded', 'loads', 'pid']
"""
from __future__ import annotations

import os
import threading
from typing import Any

from blackbox_repo.errors import InputError

__all__ = ["get_blackbox", "blackbox_tasks", "cache_info", "clear_cache"]

_CACHE: dict[tuple[str, str | None], Any] = {}
_LOADS = 0
_LOCK = threading.Lock()


def get_blackbox(name: str, task: str | None) -> Any:
    """The blackbox ``name/task``, loaded on first use in this process."""
    global _LOADS
    key = (name, task)
    with _LOCK:
        bb = _CACHE.get(key)
        if bb is None:
            from blackbox_repo import load_blackbox

            bb = load_blackbox(name, task)
            if isinstance(bb, dict):
                if len(bb) != 1:
                    raise InputError(f"blackbox {name!r} has tasks {sorted(bb)}; name one as {name}/<task>")
                bb = next(iter(bb.values()))
            _CACHE[key] = bb
            _LOADS += 1
        return bb


def was_loaded(name: str, task: str | None) -> bool:
    """Whether ``name/task`` is already in this process's cache."""
    return (name, task) in _CACHE


def blackbox_tasks(name: str) -> list[str]:
    """The task names of blackbox ``name`` (from the repository listing, else by loading it)."""
    from blackbox_repo import list_blackboxes

    for rec in list_blackboxes():
        if rec.name == name and rec.tasks:
            return list(rec.tasks)
    from blackbox_repo import load_blackbox

    loaded = load_blackbox(name)
    if isinstance(loaded, dict):
        for t, bb in loaded.items():
            _CACHE.setdefault((name, t), bb)
        return list(loaded)
    return [loaded.metadata.get("task", "default")]


def cache_info() -> dict:
    """This process's pid, how many loads it did, and which blackboxes it holds."""
    return {"pid": os.getpid(), "loads": _LOADS, "loaded": sorted(f"{n}/{t}" for n, t in _CACHE)}


def clear_cache() -> None:
    global _LOADS
    with _LOCK:
        _CACHE.clear()
        _LOADS = 0
