"""``verify_folder``: every file a blackbox folder's writers produced, re-hashed against the
one list of them in ``metadata.json`` (the table's files, and any a writer added, e.g. a
surrogate's), the metadata's consistency with the data, and the derived cache (a corrupt one is
invalidated so the next load rebuilds it) (docs/architecture.md#blackbox-folders).

Example:
    >>> import tempfile, numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> from blackbox_repo.storage import save_tabular
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
    ...                      fidelity_values=[1], objectives_names=["y"])
    >>> verify_folder(save_tabular(bb, tempfile.mkdtemp() + "/b/t", name="b", task="t"))
    []
"""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from blackbox_repo.blackbox import BlackboxError
from blackbox_repo.checksums import sha256_file
from blackbox_repo.storage.array_cache import cache_dir_of, verify_cache
from blackbox_repo.storage.files import HYPERPARAMETERS, OBJECTIVES, CorruptBlackboxError
from blackbox_repo.storage.parquet_format import check_consistency, read_hyperparameters, read_metadata

__all__ = ["verify_folder"]


def verify_folder(folder: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Re-hash every file of a blackbox folder (and its cache); one string per problem found.

    An empty list means every canonical file matches its recorded sha256, the metadata is
    consistent with the data, and the cache (if built) matches its own record. The cache
    is looked for where ``load_tabular`` puts it (``cache_dir``, else the folder, else the
    default cache folder of a read-only blackbox); a corrupt cache is invalidated, so the
    next load rebuilds it.
    """
    folder = Path(folder).absolute()
    problems: list[str] = []
    try:
        meta = read_metadata(folder, remedy="re-import or re-fetch it")
    except (BlackboxError, CorruptBlackboxError) as e:
        return [str(e)]
    files = meta.get("files") or {}
    ok: set[str] = set()
    for fname, entry in files.items():
        path = folder / fname
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = sha256_file(path)
        size = path.stat().st_size
        if actual != entry.get("sha256"):
            problems.append(f"{path}: sha256 {actual}, expected {entry.get('sha256')} "
                            f"({size} bytes, expected {entry.get('bytes')})")
        else:
            ok.add(fname)
    try:
        hp = read_hyperparameters(folder, meta, "") if HYPERPARAMETERS in ok else None
        check_consistency(folder, meta, hp, "")
    except (BlackboxError, CorruptBlackboxError) as e:
        problems.append(str(e).rstrip("; "))
    if OBJECTIVES in ok:
        try:
            n_rows = pq.ParquetFile(folder / OBJECTIVES).metadata.num_rows
            n, s, f, _ = (int(x) for x in meta["shape"])
            if n_rows != n * s * f:
                problems.append(f"{folder / OBJECTIVES} has {n_rows} rows, expected {n * s * f}")
        except (pa.ArrowException, OSError, KeyError, TypeError, ValueError) as e:
            problems.append(f"{folder / OBJECTIVES} cannot be read ({e})")
    problems += verify_cache(cache_dir_of(folder, cache_dir, lambda: meta))
    return problems

