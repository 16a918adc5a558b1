"""The blackbox repository: named blackboxes, where they live, and how they are found.

A blackbox is a family of tasks (``nasbench201`` -> ``cifar10``, ``ImageNet16-120``, ...),
each task a folder in the storage layout of ``blackbox_repo.storage``. Providers are tried
in order; the first that knows a (name, task) loads it:

1. ``CacheProvider``: ``$HPOSIM_HOME/blackboxes/<name>/<task>/`` (default home
   ``~/.cache/hposim``): imported, generated, saved or fetched blackboxes.
2. ``EmbeddedProvider``: ``blackbox_repo/embedded/<name>/<task>/`` inside the installed
   package (read-only; its memory-mapped cache goes to ``$HPOSIM_HOME/cache/<name>/<task>/``).
   Any folder there is an embedded blackbox; ``DEFAULT_BLACKBOX`` is the one shipped.

More providers (a mirror, download recipes) plug in with ``register_provider``. The
modules in ``_PLUGINS`` (the recipes, the surrogate-aware cache) do so when imported; they
import this module, so it imports them at its first lookup or registration, whoever
imported it.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
    ...                      fidelity_values=[1], objectives_names=["y"])
    >>> _ = save_blackbox(bb, "toy", "t1")
    >>> load_blackbox("toy/t1").shape
    (2, 1, 1, 1)
    >>> parse_blackbox_ref("nasbench201/ImageNet16-120")
    ('nasbench201', 'ImageNet16-120')
"""
from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox
from blackbox_repo.fs import hold_lock, remove_leftovers, staging_folder, swap_in
from blackbox_repo.locations import (blackbox_folder, blackboxes_root, cache_root, default_cache_dir, embedded_root,
                                     hposim_home, validate_name)
from blackbox_repo.reserved_columns import RESULT_COLUMNS, reserved_metric_error
from blackbox_repo.storage import METADATA, CorruptBlackboxError, load_tabular, save_tabular, verify_folder

__all__ = [
    "DEFAULT_BLACKBOX", "BlackboxRecord", "BlackboxProvider", "FolderProvider", "CacheProvider",
    "EmbeddedProvider", "UnknownBlackboxError", "hposim_home", "blackboxes_root", "cache_root",
    "default_cache_dir", "embedded_root", "blackbox_folder", "save_blackbox", "load_blackbox",
    "list_blackboxes", "parse_blackbox_ref", "providers", "register_provider", "save_blackboxes",
    "BlackboxExistsError", "check_free_name", "repair_advice", "damaged_tasks", "verify_task",
]

DEFAULT_BLACKBOX = "mlp-sklearn"


class UnknownBlackboxError(BlackboxError):
    """No provider knows the requested blackbox name or task."""


class BlackboxExistsError(BlackboxError):
    """A save would replace a blackbox in the cache, and ``force=True`` was not given."""


def parse_blackbox_ref(ref: str) -> tuple[str, str | None]:
    """``"name/task"`` -> ``(name, task)``; ``"name"`` -> ``(name, None)``.

    Example:
        >>> parse_blackbox_ref("mlp-sklearn")
        ('mlp-sklearn', None)
    """
    if not isinstance(ref, str) or not ref:
        raise BlackboxError(f"blackbox reference {ref!r} is not valid; expected 'name' or 'name/task'")
    parts = ref.split("/")
    if len(parts) > 2:
        raise BlackboxError(f"blackbox reference {ref!r} is not valid; expected 'name' or "
                            f"'name/task' (one '/' at most)")
    name = validate_name(parts[0], "blackbox name")
    task = validate_name(parts[1], "task name") if len(parts) == 2 else None
    return name, task


# ---------------------------------------------------------------------------- records
@dataclass
class BlackboxRecord:
    """What ``list_blackboxes`` knows about one blackbox.

    ``kind`` is where it comes from ("embedded", "cached" or "recipe"); ``cached`` says
    whether its files are on this machine (no download needed); ``size_bytes`` is the size
    of those files (0 when not local).

    Example:
        >>> BlackboxRecord("toy", ["a", "b"], "cached", True, 1024).tasks
        ['a', 'b']
    """

    name: str
    tasks: list[str]
    kind: str
    cached: bool
    size_bytes: int = 0
    source: Any = None
    description: str = ""
    extra: dict = field(default_factory=dict)


def _folder_size(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            continue
    return total


def _peek_metadata(folder: Path) -> dict:
    """metadata.json without verification (for listings; loading verifies it)."""
    try:
        doc = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------- providers
class BlackboxProvider(ABC):
    """A source of named blackboxes, tried by ``load_blackbox`` in registration order.

    Subclasses give ``kind``, ``names()``, ``tasks(name)`` (empty when unknown),
    ``load(name, task)`` and ``record(name)``.

    Example:
        >>> [p.kind for p in providers()][:2]
        ['cached', 'embedded']
    """

    kind: str = ""

    @abstractmethod
    def names(self) -> list[str]:
        """Blackbox names this provider knows."""

    @abstractmethod
    def tasks(self, name: str) -> list[str]:
        """Task names of ``name`` (``[]`` when this provider does not know it)."""

    @abstractmethod
    def load(self, name: str, task: str) -> Blackbox:
        """Load one task."""

    @abstractmethod
    def record(self, name: str) -> BlackboxRecord:
        """The listing entry of ``name``."""

    def verify(self, folder: Path, cache_dir: str | os.PathLike | None = None) -> list[str]:
        """Every problem of a task folder this provider stores: each file ``metadata.json``
        lists and the derived cache (``storage.verify_folder``). Empty list = fine."""
        return verify_folder(folder, cache_dir=cache_dir)


class FolderProvider(BlackboxProvider):
    """Blackboxes stored as ``<root>/<name>/<task>/`` folders (hidden entries ignored).

    Example:
        >>> CacheProvider().root() == blackboxes_root()
        True
    """

    def root(self) -> Path:
        raise BlackboxError(f"{type(self).__name__} has no root folder")

    @staticmethod
    def _visible_dirs(path: Path) -> list[Path]:
        try:
            return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def names(self) -> list[str]:
        return [p.name for p in self._visible_dirs(self.root()) if self.tasks(p.name)]

    def tasks(self, name: str) -> list[str]:
        return [p.name for p in self._visible_dirs(self.root() / name) if (p / METADATA).is_file()]

    def folder(self, name: str, task: str) -> Path:
        return self.root() / validate_name(name, "blackbox name") / validate_name(task, "task name")

    def record(self, name: str) -> BlackboxRecord:
        tasks = self.tasks(name)
        meta = _peek_metadata(self.root() / name / tasks[0]) if tasks else {}
        extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
        return BlackboxRecord(name=name, tasks=tasks, kind=self.kind, cached=True,
                              size_bytes=sum(_folder_size(self.root() / name / t) for t in tasks),
                              source=meta.get("source"), description=str(extra.get("description", "")))


class CacheProvider(FolderProvider):
    """Blackboxes in ``$HPOSIM_HOME/blackboxes`` (the cache is read-write).

    Example:
        >>> import os, tempfile, numpy as np, pandas as pd
        >>> os.environ["HPOSIM_HOME"] = tempfile.mkdtemp()
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> _ = save_blackbox(bb, "toy", "t1")
        >>> cache = CacheProvider()
        >>> cache.names(), cache.tasks("toy"), cache.load("toy", "t1").shape
        (['toy'], ['t1'], (2, 1, 1, 1))
    """

    kind = "cached"

    def root(self) -> Path:
        return blackboxes_root()

    def load(self, name: str, task: str) -> TabularBlackbox:
        folder = self.folder(name, task)
        try:
            return load_tabular(folder, remedy=repair_advice(name, task))
        except (CorruptBlackboxError, BlackboxError):
            # a save of the family (e.g. `hposim blackbox import --force`) may have swapped the
            # folder under us: writers hold the family lock, so a retry under it is final
            with hold_lock(folder.parent):
                return load_tabular(folder, remedy=repair_advice(name, task))


class EmbeddedProvider(FolderProvider):
    """Blackboxes shipped inside the package, in ``blackbox_repo/embedded/<name>/<task>``.

    Example:
        >>> import os, tempfile
        >>> os.environ["HPOSIM_HOME"] = tempfile.mkdtemp()     # where the memory-mapped cache goes
        >>> embedded = EmbeddedProvider()
        >>> embedded.tasks(DEFAULT_BLACKBOX)
        ['breast_cancer', 'digits', 'wine']
        >>> embedded.load(DEFAULT_BLACKBOX, "digits")
        TabularBlackbox(mlp-sklearn/digits 500 configs x 3 seeds x 27 epoch x 4 objectives [...])
    """

    kind = "embedded"

    def root(self) -> Path:
        return embedded_root()

    def load(self, name: str, task: str) -> TabularBlackbox:
        return load_tabular(self.folder(name, task), cache_dir=default_cache_dir(name, task), remedy=(
            "the embedded blackbox ships with hposim: reinstall it "
            "(`pip install --force-reinstall hposim`, or `git checkout blackbox_repo/embedded` "
            "in a source checkout)"))


_PROVIDERS: list[BlackboxProvider] = [CacheProvider(), EmbeddedProvider()]

#: modules that register providers when imported, loaded by ``_registered``
_PLUGINS = ("blackbox_repo.recipes", "blackbox_repo.surrogate")
_plugins_loaded = False


def _registered() -> list[BlackboxProvider]:
    """``_PROVIDERS``, once the ``_PLUGINS`` are imported (the first call imports them)."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True       # first: the plugins call register_provider as they load
        try:
            for module in _PLUGINS:
                importlib.import_module(module)
        except BaseException:
            _plugins_loaded = False
            raise
    return _PROVIDERS


def providers() -> list[BlackboxProvider]:
    """The registered providers, in lookup order."""
    return list(_registered())


def register_provider(provider: BlackboxProvider, *, before: str | None = None) -> None:
    """Add ``provider`` to the lookup order (replacing one of the same ``kind``).

    ``before`` is the kind of the provider it goes in front of; default: last.
    """
    if not isinstance(provider, BlackboxProvider):
        raise BlackboxError(f"expected a BlackboxProvider, got {type(provider).__name__}")
    kinds = [p.kind for p in _registered()]
    if provider.kind in kinds:
        _PROVIDERS[kinds.index(provider.kind)] = provider
        return
    if before is None:
        _PROVIDERS.append(provider)
        return
    if before not in kinds:
        raise BlackboxError(f"no provider of kind {before!r}; registered kinds: {kinds}")
    _PROVIDERS.insert(kinds.index(before), provider)


# ---------------------------------------------------------------------------- public API
def _known_names() -> list[str]:
    return sorted({n for p in _registered() for n in p.names()})


def _suggest(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_name(name: str) -> UnknownBlackboxError:
    known = _known_names()
    if not known:
        return UnknownBlackboxError(
            f"unknown blackbox {name!r}: no blackboxes are known (cache {blackboxes_root()}, "
            f"embedded {embedded_root()}); import one with `hposim blackbox import`")
    return UnknownBlackboxError(
        f"unknown blackbox {name!r}{_suggest(name, known)}; known blackboxes: {known}")


def _is_recipe(name: str) -> bool:
    return any(p.kind == "recipe" and name in p.names() for p in _registered())


def repair_advice(name: str, task: str) -> str:
    """How to repair a damaged cached blackbox ``name/task``, depending on where it came
    from: a recipe is fetched again, a surrogate refitted, an imported table re-imported
    (naming the file it came from when ``metadata.json`` still says), anything else re-saved.

    Example:
        >>> repair_advice("my-table", "default")
        're-import it (`hposim blackbox import FILE --name my-table --force ...`) or re-save it (save_blackbox(..., force=True))'
    """
    if _is_recipe(name):
        return f"run `hposim blackbox get {name} --force` to fetch it again"
    folder = blackboxes_root() / name / task
    meta = _peek_metadata(folder)
    extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
    if (folder / "surrogate.json").exists() or (folder / "surrogate.joblib").exists() \
            or "surrogate_report_card" in extra:
        return (f"refit it: `hposim blackbox surrogate NAME/{task} --name {name} --force` "
                f"(NAME: the tabulated blackbox it imitates)")
    source = meta.get("source")
    if "import_report" in extra and isinstance(source, str) and source != "DataFrame":
        return f"re-import it: `hposim blackbox import {source} --name {name} --force ...` (same options as before)"
    return (f"re-import it (`hposim blackbox import FILE --name {name} --force ...`) or re-save it "
            f"(save_blackbox(..., force=True))")


def damaged_tasks(name: str) -> list[str]:
    """Task folders of the cached blackbox ``name`` that lack ``metadata.json`` (damaged:
    they cannot be loaded, and are not listed as tasks)."""
    family = blackboxes_root() / name
    return [p.name for p in FolderProvider._visible_dirs(family) if not (p / METADATA).is_file()]


def _damaged_error(name: str, task: str) -> CorruptBlackboxError:
    folder = blackboxes_root() / name / task
    return CorruptBlackboxError(
        folder / METADATA, f"blackbox {name}/{task} is damaged: {folder / METADATA} is missing, so its "
                           f"files cannot be checked or read; {repair_advice(name, task)}")


def verify_task(folder: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Every problem of one stored task, as the cache provider sees it (``BlackboxProvider.verify``):
    each file its ``metadata.json`` lists (the table's, and a surrogate's model files) and the
    derived cache (``storage.verify_folder``, which invalidates a corrupt cache so the next load
    rebuilds it). Empty list = fine.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1]}), np.ones((1, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> verify_task(save_blackbox(bb, "checked"))
        []
    """
    folder = Path(folder)
    if not (folder / METADATA).is_file():
        return [f"{folder / METADATA} is missing (the folder is damaged)"]
    cache = next(p for p in _registered() if p.kind == CacheProvider.kind)
    return cache.verify(folder, cache_dir)


def _tasks_of(name: str) -> list[tuple[str, BlackboxProvider]]:
    """(task, first provider that has it) for every task of ``name``, in provider order."""
    seen: dict[str, BlackboxProvider] = {}
    for p in _registered():
        for t in p.tasks(name):
            seen.setdefault(t, p)
    return list(seen.items())


def load_blackbox(name: str, task: str | None = None) -> dict[str, Blackbox] | Blackbox:
    """``{task: blackbox}`` for every task of ``name``, or one blackbox when ``task`` is given.

    ``name`` may also be a ``"name/task"`` reference. Unknown names or tasks are errors
    listing what exists, with a close-match suggestion.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1]}), np.ones((1, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> _ = save_blackbox(bb, "one", "a")
        >>> sorted(load_blackbox("one"))
        ['a']
    """
    if task is None and isinstance(name, str) and "/" in name:
        name, task = parse_blackbox_ref(name)
    validate_name(name, "blackbox name")
    if task is not None:
        validate_name(task, "task name")
    tasks = _tasks_of(name)
    damaged = damaged_tasks(name)
    if damaged and (task in damaged or (task is None and (not tasks or any(t not in dict(tasks)
                                                                              for t in damaged)))):
        raise _damaged_error(name, task if task is not None else damaged[0])
    if not tasks:
        raise _unknown_name(name)
    if task is None:
        return {t: p.load(name, t) for t, p in tasks}
    for t, p in tasks:
        if t == task:
            return p.load(name, t)
    names = [t for t, _ in tasks]
    raise UnknownBlackboxError(
        f"blackbox {name!r} has no task {task!r}{_suggest(task, names)}; its tasks: {names}")


def list_blackboxes() -> list[BlackboxRecord]:
    """One record per known blackbox (all providers merged), sorted by name.

    A name known to several providers is listed once: ``kind`` is where it comes from
    (embedded or recipe over cached), ``cached`` is true if any copy is local, tasks are
    the union, and size/source/description come from the first provider in lookup order.
    """
    merged: dict[str, list[BlackboxRecord]] = {}
    for p in _registered():
        for n in p.names():
            merged.setdefault(n, []).append(p.record(n))
    out = []
    for n in sorted(merged):
        recs = merged[n]
        first = recs[0]
        tasks = list(dict.fromkeys(t for r in recs for t in r.tasks))
        origin = next((r.kind for r in recs if r.kind != "cached"), first.kind)
        out.append(BlackboxRecord(
            name=n, tasks=tasks, kind=origin, cached=any(r.cached for r in recs),
            size_bytes=first.size_bytes or max(r.size_bytes for r in recs),
            source=next((r.source for r in recs if r.source), None),
            description=next((r.description for r in recs if r.description), ""),
            extra={k: v for r in reversed(recs) for k, v in r.extra.items()}))
    return out


def check_free_name(name: str) -> str:
    """``name`` if the cache may hold a blackbox of that name: not the name of an embedded
    blackbox or a recipe (those names are reserved: a table saved under one would silently
    replace the benchmark everyone means by it).

    Example:
        >>> check_free_name("my-table")
        'my-table'
    """
    validate_name(name, "blackbox name")
    for p in _registered():
        if p.kind != CacheProvider.kind and name in p.names():
            what = "an embedded blackbox" if p.kind == "embedded" else f"a {p.kind}"
            raise BlackboxError(f"{name!r} is the name of {what} and is reserved; choose another name")
    return name


def _check_metric_name(bb: Any) -> None:
    """A metric named like a simulator result column would be read from the wrong column."""
    if isinstance(bb, TabularBlackbox) and bb.metric in RESULT_COLUMNS:
        raise reserved_metric_error(bb.metric, BlackboxError)


def _family(name: str) -> Path:
    return blackboxes_root() / validate_name(name, "blackbox name")


def save_blackbox(bb: TabularBlackbox, name: str, task: str = "default", *, source: Any = None,
                  extra: dict | None = None, force: bool = False,
                  write_extra: Callable[[Path], None] | None = None) -> Path:
    """Save ``bb`` into the cache as ``name/task``; returns its folder.

    An existing ``name/task`` is an error unless ``force=True`` (then it is replaced
    atomically). The check and the write are one step under the lock of the family
    ``name``, so of two concurrent saves without ``force`` exactly one succeeds. Names of
    embedded blackboxes and recipes are reserved (``check_free_name``). ``write_extra``
    adds files to the folder before it appears (see ``storage.save_tabular``).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1]}), np.ones((1, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> save_blackbox(bb, "mine").name
        'default'
        >>> save_blackbox(bb, "mine", force=True).name
        'default'
    """
    check_free_name(name)
    _check_metric_name(bb)
    folder = blackbox_folder(name, task)
    with hold_lock(folder.parent):
        remove_leftovers(folder)
        if folder.exists() and not force:
            state = "" if (folder / METADATA).is_file() else f" (damaged: {METADATA} is missing)"
            raise BlackboxExistsError(
                f"blackbox {name}/{task} already exists in the cache{state} at {folder}; pass "
                f"force=True to replace it, or choose another name or task")
        return save_tabular(bb, folder, name=name, task=task, source=source, extra=extra,
                            write_extra=write_extra)


def save_blackboxes(blackboxes: Mapping[str, TabularBlackbox], name: str, *, force: bool = False,
                    source: Any = None, extra: dict | None = None) -> dict[str, Path]:
    """Save every task of a family at once as blackbox ``name``; returns ``{task: folder}``.

    All or nothing: the tasks are written into a hidden staging folder which then replaces
    the family folder in one rename, under the family's lock. An existing blackbox ``name``
    (any task) is an error unless ``force=True``, which replaces the whole family (tasks
    not in ``blackboxes`` are removed). Reserved names as in ``save_blackbox``.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1]}), np.ones((1, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> sorted(save_blackboxes({"a": bb, "b": bb}, "pair"))
        ['a', 'b']
    """
    check_free_name(name)
    if not blackboxes:
        raise BlackboxError(f"save_blackboxes({name!r}) got no tasks to save")
    for task, bb in blackboxes.items():
        validate_name(task, "task name")
        if not isinstance(bb, TabularBlackbox):
            raise BlackboxError(f"task {task!r}: expected a TabularBlackbox, got {type(bb).__name__}")
        _check_metric_name(bb)
    family = _family(name)
    family.parent.mkdir(parents=True, exist_ok=True)
    with hold_lock(family):
        remove_leftovers(family)
        existing = FolderProvider._visible_dirs(family)
        if existing and not force:
            raise BlackboxExistsError(
                f"a blackbox named {name!r} already exists in the cache (tasks: "
                f"{', '.join(p.name for p in existing)}) at {family}; pass force=True to replace it, "
                f"or choose another name")
        staging = staging_folder(family)
        try:
            for task, bb in blackboxes.items():
                save_tabular(bb, staging / task, name=name, task=task, source=source, extra=extra)
            for lock in staging.glob("*.lock"):
                lock.unlink()
            swap_in(staging, family)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return {task: family / task for task in blackboxes}

