"""One task on disk: ``save_tabular`` writes a ``TabularBlackbox`` as a folder (tabular
format and cache, staged beside the target and swapped into place under ``<folder>.lock``);
``load_tabular`` opens it, the objectives a read-only memory map of the derived cache
(docs/architecture.md#blackbox-folders).

Example:
    >>> import tempfile, numpy as np, pandas as pd
    >>> bb = TabularBlackbox(pd.DataFrame({"lr": [0.1, 0.01]}), np.zeros((2, 1, 3, 1), np.float32),
    ...                      fidelity_values=[1, 2, 3], objectives_names=["error"])
    >>> folder = save_tabular(bb, tempfile.mkdtemp() + "/toy/default", name="toy", task="default")
    >>> load_tabular(folder).shape
    (2, 1, 3, 1)
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.configspace import ConfigurationError, ConfigurationSpace
from blackbox_repo.fs import hold_lock, remove_leftovers, staging_folder, swap_in
from blackbox_repo.locations import validate_name
from blackbox_repo.storage.array_cache import NeedsLock, cache_dir_of, open_cache, write_cache
from blackbox_repo.storage.files import METADATA, OBJECTIVES, CorruptBlackboxError, default_remedy
from blackbox_repo.storage.parquet_format import check_consistency, read_hyperparameters, read_metadata, write_folder

__all__ = ["save_tabular", "load_tabular", "open_folder"]


def save_tabular(bb: TabularBlackbox, folder: str | os.PathLike, *, name: str, task: str,
                 source: Any = None, extra: Mapping[str, Any] | None = None,
                 build_cache: bool = True,
                 write_extra: Callable[[Path], Iterable[str]] | None = None) -> Path:
    """Write ``bb`` as a blackbox folder (atomically, under ``<folder>.lock``); returns the folder.

    ``source`` (provenance: a URL, a file name, a dict) defaults to ``bb.metadata["source"]``;
    ``extra`` adds metadata entries to those of ``bb.metadata``. With ``build_cache`` the
    memory-mapped cache is written too, so the first load does not convert the Parquet file.
    ``write_extra(staging)`` writes more files (e.g. a surrogate model) into the staging
    folder before it is renamed into place, so they appear together with the table, and
    returns their names: ``metadata.json`` lists them with the table's files (their sha256
    and size), so ``verify_folder`` checks them too.
    An existing folder is replaced: callers that must not overwrite check under a lock
    (``repository.save_blackbox``).

    Example:
        >>> import tempfile, numpy as np, pandas as pd
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> save_tabular(bb, tempfile.mkdtemp() + "/b/t", name="b", task="t").name
        't'
    """
    if not isinstance(bb, TabularBlackbox):
        raise BlackboxError(f"save_tabular stores a TabularBlackbox, got {type(bb).__name__}")
    validate_name(name, "blackbox name")
    validate_name(task, "task name")
    folder = Path(folder).absolute()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with hold_lock(folder):
        remove_leftovers(folder)
        tmp = staging_folder(folder)
        try:
            doc = write_folder(bb, tmp, name=name, task=task, source=source, extra=extra, write_extra=write_extra)
            if build_cache:
                write_cache(np.asarray(bb.objectives, dtype=np.float32), tmp, source_folder=tmp,
                            source_sha=doc["files"][OBJECTIVES]["sha256"], reason="written by save_tabular", meta=doc)
            swap_in(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return folder


def open_folder(folder: Path, cache_dir: Path, *, locked: bool, remedy: str | None) -> TabularBlackbox:
    meta = read_metadata(folder, remedy=remedy)
    remedy = remedy or default_remedy(meta.get("name"))
    check_consistency(folder, meta, None, remedy)
    hp = read_hyperparameters(folder, meta, remedy)
    check_consistency(folder, meta, hp, remedy)
    objectives = open_cache(folder, cache_dir, meta, locked=locked, remedy=remedy)
    try:
        space = ConfigurationSpace.from_dict(meta["configuration_space"])
    except (ConfigurationError, KeyError, TypeError) as e:
        raise CorruptBlackboxError(folder / METADATA, f"{folder / METADATA} has an invalid "
                                                      f"configuration space ({e}); {remedy}") from None
    fidelity_values = np.asarray(meta["fidelity_values"], dtype=np.dtype(meta["fidelity_dtype"]))
    metadata = dict(meta.get("extra") or {})
    metadata.update({k: meta.get(k) for k in ("name", "task", "source", "created", "hposim_version",
                                              "format_version")})
    metadata["folder"] = str(folder)
    return TabularBlackbox(hp, objectives, fidelity_values, meta["objectives_names"],
                           configuration_space=space, fidelity_name=meta["fidelity_name"],
                           metric_elapsed_time=meta["metric_elapsed_time"], metric=meta["metric"],
                           mode=meta["mode"], metadata=metadata)


def _swap_in_progress(folder: Path) -> bool:
    return any(folder.parent.glob(f".{folder.name}.old-*")) if folder.parent.is_dir() else False


def load_tabular(folder: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
                 remedy: str | None = None) -> TabularBlackbox:
    """Open a blackbox folder; the objectives are a read-only memory map of the cache.

    ``cache_dir`` is where ``objectives.npy``/``cache.json`` live (default: the folder
    itself, or ``$HPOSIM_HOME/cache/<name>/<task>`` when the folder is read-only).
    ``remedy`` is the advice appended to ``CorruptBlackboxError`` messages.

    Example:
        >>> import tempfile, numpy as np, pandas as pd
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
        ...                      fidelity_values=[1], objectives_names=["y"])
        >>> f = save_tabular(bb, tempfile.mkdtemp() + "/b/t", name="b", task="t")
        >>> load_tabular(f).evaluate({"x": 2}, fidelity=1)
        {'y': 1.0}
    """
    folder = Path(folder).absolute()
    if not (folder / METADATA).is_file() and not _swap_in_progress(folder):
        read_metadata(folder)  # raises the "not a blackbox folder" error
    cdir = cache_dir_of(folder, cache_dir, lambda: read_metadata(folder, remedy=remedy))
    try:
        return open_folder(folder, cdir, locked=False, remedy=remedy)
    except (NeedsLock, CorruptBlackboxError, OSError, BlackboxError):
        # either work that needs the lock, or a concurrent save swapped the folder under us:
        # retry with the lock held (saves hold the same lock), where errors are final
        pass
    with hold_lock(cdir):
        return open_folder(folder, cdir, locked=True, remedy=remedy)

