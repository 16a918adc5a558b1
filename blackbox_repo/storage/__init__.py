"""Parquet storage of tabular blackboxes, and the memory-mapped cache derived from it.

The package, one job per module (docs/architecture.md#module-map): ``files`` (file names,
``CorruptBlackboxError``, the sha256 check of one file), ``parquet_format`` (the tabular format
and the signed ``metadata.json``), ``array_cache`` (the derived ``objectives.npy``), ``tabular``
(``save_tabular``, ``load_tabular``) and ``verify`` (``verify_folder``); atomic writes, signed
JSON and folder locks are ``blackbox_repo.fs``'s.

One task of a blackbox is one folder::

    <folder>/
      hyperparameters.parquet   one row per configuration, one column per hyperparameter;
                                column dtypes are kept (int stays int, float64 stays exact,
                                strings stay strings). An object column mixing Python types
                                (e.g. ``[1, "a"]``) is stored as JSON text and decoded on load.
      objectives.parquet        zstd. Long layout: one row per (config, seed, fidelity level),
                                rows in C order of the objectives array, int32 columns
                                ``config_id``, ``seed``, ``fidelity_index`` and one float32
                                column per objective (byte-stream-split encoded). Float32 bits,
                                NaN, infinities and -0.0 round-trip exactly.
      metadata.json             format_version, name, task, configuration_space, fidelity_name,
                                fidelity_values (+ dtype), objectives_names, metric_elapsed_time,
                                metric, mode, num_seeds, shape, source, extra (the blackbox's
                                other metadata), created (UTC), hposim_version,
                                files: {filename: {sha256, bytes}} of every file the writers
                                produced (the two Parquet files, and e.g. a surrogate's), and
                                metadata_sha256, the sha256 of the document's canonical JSON
                                without that field.
      objectives.npy            derived cache: the float32 array (n_configs, n_seeds,
                                n_fidelities, n_objectives), opened with ``np.load(mmap_mode="r")``.
      cache.json                what the cache was built from (sha256 and stat stamp of
                                objectives.parquet), the npy's sha256, size and stat stamp, and
                                a build counter; ``cache.log`` has one line per build.

The three canonical files are written by ``save_tabular`` into a temporary folder beside
the target, which is then renamed into place (an existing folder is swapped out and
removed), all under a ``filelock.FileLock`` on ``<folder>.lock``. The cache lives in the
data folder, or in ``cache_dir`` when the folder is read-only (the embedded blackbox
inside the installed package); it is built under the lock on ``<cache_dir>.lock`` (the
same lock as ``save_tabular`` when the cache sits in the data folder), so concurrent
first loads convert the Parquet file exactly once.

What a load checks: metadata.json parses and matches its own checksum, the sha256 of
hyperparameters.parquet (small, hashed on every load), the consistency of shapes, and the
cache: rebuilt when missing or built from another objectives.parquet; objectives.parquet
and objectives.npy are re-hashed when their ``stat`` stamp (size, mtime, inode) changed
since the cache was built, and objectives.npy also on its first load in a process when it
is at most ``HASH_ON_FIRST_LOAD_BYTES`` (64 MB: bit rot leaves size and mtime alone), so
a warm load never reads a big array. A corrupt or truncated cache is reported
(``CacheRebuildWarning`` naming the file) and rebuilt; a corrupt canonical file raises
``CorruptBlackboxError`` (an ``IntegrityError``: file, expected and actual sha256, what to
do). ``verify_folder`` re-hashes every file ``metadata.json`` lists and removes a corrupt
cache, so the next load rebuilds it whatever its size.

Example:
    >>> import tempfile, numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"lr": [0.1, 0.01]}), np.zeros((2, 1, 3, 1), np.float32),
    ...                      fidelity_values=[1, 2, 3], objectives_names=["error"])
    >>> folder = save_tabular(bb, tempfile.mkdtemp() + "/toy/default", name="toy", task="default")
    >>> load_tabular(folder).shape
    (2, 1, 3, 1)
"""
from __future__ import annotations

from blackbox_repo.fs import LOCK_TIMEOUT, folder_lock, hold_lock, remove_leftovers, swap_in
from blackbox_repo.locations import validate_name
from blackbox_repo.storage.array_cache import HASH_ON_FIRST_LOAD_BYTES
from blackbox_repo.storage.files import (CACHE_JSON, CACHE_LOG, CACHE_NPY, FORMAT_VERSION, HYPERPARAMETERS, METADATA,
                                         OBJECTIVES, CacheRebuildWarning, CorruptBlackboxError)
from blackbox_repo.storage.parquet_format import read_metadata
from blackbox_repo.storage.tabular import load_tabular, save_tabular
from blackbox_repo.storage.verify import verify_folder

__all__ = [
    "FORMAT_VERSION", "CorruptBlackboxError", "CacheRebuildWarning", "save_tabular", "load_tabular",
    "verify_folder", "read_metadata", "validate_name", "folder_lock", "HYPERPARAMETERS", "OBJECTIVES",
    "METADATA", "CACHE_NPY", "CACHE_JSON", "CACHE_LOG", "hold_lock", "remove_leftovers", "swap_in",
    "LOCK_TIMEOUT", "HASH_ON_FIRST_LOAD_BYTES",
]
