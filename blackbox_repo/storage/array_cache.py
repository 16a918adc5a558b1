"""The derived array cache of a blackbox folder: ``objectives.npy`` (the float32 objectives
array, opened as a read-only memory map) and the signed ``cache.json`` recording what it was
built from, with ``cache.log`` (one line per build or invalidation).

The cache is rebuilt when missing or built from another ``objectives.parquet``;
``objectives.parquet`` and ``objectives.npy`` are re-hashed when their ``stat`` stamp (size,
mtime, inode) changed since the build, and ``objectives.npy`` also on its first load in a
process when it is at most ``HASH_ON_FIRST_LOAD_BYTES`` (bit rot leaves size and mtime alone),
so a warm load never reads a big array. Work that needs the cache lock raises ``NeedsLock`` on
the lock-free path (docs/architecture.md#blackbox-folders).

Example:
    >>> import tempfile, numpy as np, pandas as pd
    >>> from pathlib import Path
    >>> from blackbox_repo.storage import save_tabular
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32),
    ...                      fidelity_values=[1], objectives_names=["y"])
    >>> folder = save_tabular(bb, tempfile.mkdtemp() + "/b/t", name="b", task="t")
    >>> record, problem = read_cache_record(folder / CACHE_JSON)
    >>> problem, record["builds"], verify_cache(folder)
    (None, 1, [])
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from blackbox_repo.checksums import FileStamp, sha256_file
from blackbox_repo.fs import hold_lock, signature, write_signed_json
from blackbox_repo.locations import default_cache_dir
from blackbox_repo.storage.files import (CACHE_JSON, CACHE_LOG, CACHE_NPY, OBJECTIVES, CacheRebuildWarning,
                                         CorruptBlackboxError, check_file)
from blackbox_repo.storage.parquet_format import read_objectives_into

__all__ = ["CACHE_FORMAT_VERSION", "HASH_ON_FIRST_LOAD_BYTES", "RECORD_SIGNATURE", "NeedsLock", "forget_hashes",
           "read_cache_record", "write_cache", "cache_location", "cache_dir_of", "open_cache", "verify_cache"]

CACHE_FORMAT_VERSION = 1
#: caches up to this size are re-hashed on their first load in a process (bit rot that left
#: size and modification time alone is then found and repaired); bigger ones by ``verify``
HASH_ON_FIRST_LOAD_BYTES = 64 * 2 ** 20
#: the key of ``cache.json`` holding the sha256 of the rest of the record
RECORD_SIGNATURE = "record_sha256"
# npy path -> (stamp, sha256) of the caches hashed by this process
HASHED: dict[str, tuple[FileStamp, str]] = {}


class NeedsLock(Exception):
    """The lock-free fast path found work (build, re-hash) that needs the lock."""


def forget_hashes() -> None:
    """Forget which caches this process has hashed (their next load re-hashes them, as in a
    new process)."""
    HASHED.clear()


def cache_dir_of(folder: Path, cache_dir: str | os.PathLike | None, meta: Callable[[], Mapping[str, Any]]) -> Path:
    """Where the cache of ``folder`` lives: ``cache_dir``, else the folder when writable, else
    the default cache folder of its name and task (``meta()``: its metadata, read only then)."""
    cdir = cache_location(folder, cache_dir)
    if cdir is None:
        doc = meta()
        cdir = default_cache_dir(str(doc.get("name")), str(doc.get("task")))
    return cdir


def read_cache_record(path: Path) -> tuple[dict | None, str | None]:
    """(record, problem): problem is None when fine, "missing", or a description."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    try:
        rec = json.loads(raw)
        if not isinstance(rec, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"{path} is corrupt or truncated (not valid JSON: {e})"
    actual = signature(rec, RECORD_SIGNATURE)
    if rec.get(RECORD_SIGNATURE) != actual:
        return None, (f"{path} is corrupt: the sha256 of its content is {actual}, expected "
                      f"{rec.get('record_sha256')}")
    try:
        FileStamp.from_dict(rec["npy_stamp"])
        FileStamp.from_dict(rec["source_stamp"])
        int(rec["npy_bytes"]), str(rec["npy_sha256"]), str(rec["source_sha256"])
    except (KeyError, TypeError, ValueError) as e:
        return None, f"{path} lacks an entry ({type(e).__name__}: {e})"
    return rec, None



def write_cache(array: np.ndarray | None, cache_dir: Path, *, source_folder: Path, source_sha: str,
                 reason: str, meta: Mapping[str, Any], builds: int = 0) -> None:
    """Write ``objectives.npy`` and cache.json.

    The array is ``array`` when given (at save time), else converted from the folder's
    objectives.parquet as described by ``meta``.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    npy, cj = cache_dir / CACHE_NPY, cache_dir / CACHE_JSON
    cj.unlink(missing_ok=True)
    tmp = cache_dir / f".{CACHE_NPY}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        if array is not None:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=array.shape)
            out[...] = array
        else:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=tuple(int(x) for x in meta["shape"]))
            read_objectives_into(source_folder / OBJECTIVES, out, meta)
        out.flush()
        del out
        os.replace(tmp, npy)
    finally:
        tmp.unlink(missing_ok=True)
    stamp = FileStamp.of(npy)
    npy_sha = sha256_file(npy)
    HASHED[str(npy)] = (stamp, npy_sha)
    record = {
        "cache_format_version": CACHE_FORMAT_VERSION,
        "source_sha256": source_sha,
        "source_stamp": FileStamp.of(source_folder / OBJECTIVES).to_dict(),
        "npy_sha256": npy_sha,
        "npy_bytes": stamp.size,
        "npy_stamp": stamp.to_dict(),
        "builds": builds + 1,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_signed_json(cj, record, RECORD_SIGNATURE)
    with open(cache_dir / CACHE_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{record['built']} pid={os.getpid()} build {record['builds']}: {reason}\n")



def writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def cache_location(folder: Path, cache_dir: str | os.PathLike | None) -> Path | None:
    """Where the cache of ``folder`` goes; ``None``: read-only folder, use the default location."""
    if cache_dir is not None:
        return Path(cache_dir).absolute()
    return folder if writable(folder) else None


def open_cache(folder: Path, cache_dir: Path, meta: Mapping[str, Any], *, locked: bool,
                remedy: str) -> np.ndarray:
    """The objectives as a read-only memory map, (re)building the cache when needed."""
    npy, cj = cache_dir / CACHE_NPY, cache_dir / CACHE_JSON
    src = folder / OBJECTIVES
    src_entry = meta["files"][OBJECTIVES]
    shape = tuple(int(x) for x in meta["shape"])
    record, problem = read_cache_record(cj)
    reason = None  # why the cache must be rebuilt
    warn = None  # what to report when it is
    update_stamps = False
    if record is None:
        reason = "no cache yet" if problem == "missing" else problem
        warn = None if problem == "missing" else problem
    elif record["source_sha256"] != src_entry["sha256"]:
        reason = f"stale: built from another {OBJECTIVES}"
    if reason is None:
        try:
            src_stamp = FileStamp.of(src)
        except FileNotFoundError:
            raise CorruptBlackboxError(src, f"{src} is missing; {remedy}",
                                       expected=src_entry["sha256"]) from None
        if src_stamp != FileStamp.from_dict(record["source_stamp"]):
            if not locked:
                raise NeedsLock
            check_file(src, None, src_entry, remedy)
            update_stamps = True
        try:
            npy_stamp = FileStamp.of(npy)
        except FileNotFoundError:
            npy_stamp = None
            reason = f"{npy} is missing"
        if npy_stamp is not None and npy_stamp.size != int(record["npy_bytes"]):
            reason = warn = (f"{npy} is truncated or corrupt: {npy_stamp.size} bytes, expected "
                             f"{record['npy_bytes']}")
        elif npy_stamp is not None and npy_stamp != FileStamp.from_dict(record["npy_stamp"]):
            if not locked:
                raise NeedsLock
            actual = sha256_file(npy)
            if actual != record["npy_sha256"]:
                reason = warn = (f"{npy} is corrupt: sha256 {actual}, expected "
                                 f"{record['npy_sha256']} (recorded in {cj})")
            else:
                update_stamps = True
                HASHED[str(npy)] = (npy_stamp, actual)
        elif (npy_stamp is not None and npy_stamp.size <= HASH_ON_FIRST_LOAD_BYTES
              and HASHED.get(str(npy)) != (npy_stamp, record["npy_sha256"])):
            # first load of this cache in this process: re-hash it (bit rot keeps size and mtime)
            actual = sha256_file(npy)
            if actual == record["npy_sha256"]:
                HASHED[str(npy)] = (npy_stamp, actual)
            elif not locked:
                raise NeedsLock
            else:
                reason = warn = (f"{npy} is corrupt: sha256 {actual}, expected {record['npy_sha256']} "
                                 f"(recorded in {cj}; size and modification time unchanged)")
    if reason is None:
        try:
            arr = np.load(npy, mmap_mode="r")
            if arr.shape != shape or arr.dtype != np.float32 or not arr.flags.c_contiguous:
                raise ValueError(f"holds {arr.dtype} {arr.shape}, expected float32 {shape}")
        except (ValueError, OSError) as e:
            reason = warn = f"{npy} cannot be opened ({e})"
    if reason is not None:
        if not locked:
            raise NeedsLock
        if warn is not None:
            warnings.warn(f"{warn}; rebuilding it from {src}", CacheRebuildWarning, stacklevel=4)
        check_file(src, None, src_entry, remedy)
        try:
            write_cache(None, cache_dir, source_folder=folder, source_sha=src_entry["sha256"],
                         reason=reason, meta=meta, builds=int(record["builds"]) if record else 0)
        except CorruptBlackboxError as e:
            raise CorruptBlackboxError(e.path, f"{e}; {remedy}") from None
        return np.load(npy, mmap_mode="r")
    if update_stamps:
        new = dict(record)
        new.pop(RECORD_SIGNATURE, None)
        new["source_stamp"] = FileStamp.of(src).to_dict()
        new["npy_stamp"] = FileStamp.of(npy).to_dict()
        # a read-only cache stays correct, only slower to check next time
        with contextlib.suppress(OSError):
            write_signed_json(cj, new, RECORD_SIGNATURE)
    return arr



def verify_cache(cdir: Path) -> list[str]:
    """Re-hash the derived cache in ``cdir``; a corrupt one is invalidated (removed, under
    the cache lock), so the next load rebuilds it whatever its size."""
    cj, npy = cdir / CACHE_JSON, cdir / CACHE_NPY
    if not (cj.exists() or npy.exists()):
        return []
    record, problem = read_cache_record(cj)
    if record is None:
        bad = f"{cj} is missing" if problem == "missing" else problem
    elif not npy.is_file():
        bad = f"{npy} is missing"
    else:
        actual = sha256_file(npy)
        bad = None if actual == record["npy_sha256"] else (
            f"{npy}: sha256 {actual}, expected {record['npy_sha256']} (recorded in {cj})")
    if bad is None:
        return []
    try:
        with hold_lock(cdir):
            cj.unlink(missing_ok=True)
            npy.unlink(missing_ok=True)          # open memory maps keep their (old) pages
            HASHED.pop(str(npy), None)
            with open(cdir / CACHE_LOG, "a", encoding="utf-8") as fh:
                stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
                fh.write(f"{stamp} pid={os.getpid()} invalidated by verify: {bad}\n")
    except OSError as e:
        return [f"cache: {bad}; it cannot be invalidated ({e}): delete {cdir} to have it rebuilt"]
    return [f"cache: {bad} (invalidated: it will be rebuilt on the next load)"]
