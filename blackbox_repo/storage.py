"""Parquet storage of tabular blackboxes, and the memory-mapped cache derived from it.

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
                                files: {filename: {sha256, bytes}}, and metadata_sha256, the
                                sha256 of the document's canonical JSON without that field.
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
and objectives.npy are re-hashed only when their ``stat`` stamp (size, mtime, inode)
changed since the cache was built, so a warm load never reads the big array. A corrupt or
truncated cache is reported (``CacheRebuildWarning`` naming the file) and rebuilt; a
corrupt canonical file raises ``CorruptBlackboxError`` (file, expected and actual sha256,
what to do). ``verify_folder`` re-hashes everything.

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

import contextlib
import json
import os
import shutil
import tempfile
import uuid
import warnings
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import filelock
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.checksums import FileStamp, sha256_bytes, sha256_file
from blackbox_repo.configspace import ConfigurationError, ConfigurationSpace
from blackbox_repo.errors import IntegrityError, StorageError

__all__ = [
    "FORMAT_VERSION", "CorruptBlackboxError", "CacheRebuildWarning", "save_tabular", "load_tabular",
    "verify_folder", "read_metadata", "validate_name", "folder_lock", "HYPERPARAMETERS", "OBJECTIVES",
    "METADATA", "CACHE_NPY", "CACHE_JSON", "CACHE_LOG", "hold_lock", "remove_leftovers", "swap_in",
]

FORMAT_VERSION = 1
CACHE_FORMAT_VERSION = 1
HYPERPARAMETERS = "hyperparameters.parquet"
OBJECTIVES = "objectives.parquet"
METADATA = "metadata.json"
CACHE_NPY = "objectives.npy"
CACHE_JSON = "cache.json"
CACHE_LOG = "cache.log"
INDEX_COLUMNS = ("config_id", "seed", "fidelity_index")
LOCK_TIMEOUT = 900.0
#: caches up to this size are re-hashed on their first load in a process (bit rot that left
#: size and modification time alone is then found and repaired); bigger ones by ``verify``
HASH_ON_FIRST_LOAD_BYTES = 64 * 2 ** 20
# npy path -> (stamp, sha256) of the caches hashed by this process
_HASHED: dict[str, tuple[FileStamp, str]] = {}
_ROWS_PER_GROUP = 1 << 20
# keys of metadata.json that describe the stored copy, not the blackbox: not copied into ``extra``
_RESERVED = frozenset({"name", "task", "source", "created", "hposim_version", "format_version",
                       "folder", "files", "metadata_sha256"})


class CorruptBlackboxError(IntegrityError):
    """A stored blackbox file does not match its recorded checksum, is unreadable, or is
    missing from a blackbox folder (an ``IntegrityError``: exit status 3).

    Attributes: ``path`` (the file), ``expected`` and ``actual`` sha256 (``None`` when
    not applicable, e.g. unparseable JSON).

    Example:
        >>> e = CorruptBlackboxError("/x/objectives.parquet", "bad", expected="ab", actual="cd")
        >>> e.path.name
        'objectives.parquet'
    """

    def __init__(self, path: str | os.PathLike, message: str, *, expected: str | None = None,
                 actual: str | None = None):
        super().__init__(message)
        self.path = Path(path)
        self.expected = expected
        self.actual = actual


class CacheRebuildWarning(UserWarning):
    """A corrupt or truncated cache file was found and rebuilt from the Parquet source."""


class _NeedsLock(Exception):
    """Internal: the lock-free fast path found work (build, re-hash) that needs the lock."""


# ---------------------------------------------------------------------------- helpers
def validate_name(value: Any, what: str = "name") -> str:
    """Check that a blackbox or task name is a safe single path component.

    Example:
        >>> validate_name("ImageNet16-120", "task")
        'ImageNet16-120'
    """
    if not isinstance(value, str) or not value.strip():
        raise BlackboxError(f"{what} {value!r} is not valid: it must be a non-empty string")
    bad = [c for c in ("/", "\\", "\x00") if c in value]
    if bad or any(ord(c) < 32 for c in value):
        raise BlackboxError(f"{what} {value!r} is not valid: it must not contain '/', '\\' or "
                            f"control characters")
    if value.startswith(".") or value != value.strip():
        raise BlackboxError(f"{what} {value!r} is not valid: it must not start with '.' nor "
                            f"start or end with whitespace")
    if value.endswith(".lock"):
        raise BlackboxError(f"{what} {value!r} is not valid: names ending in '.lock' are reserved "
                            f"for lock files")
    return value


def folder_lock(path: str | os.PathLike) -> filelock.FileLock:
    """The lock guarding writes to ``path`` (a file ``<path>.lock`` beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


class _Locked:
    """Context manager around ``folder_lock`` with an error that names the lock file."""

    def __init__(self, path: Path):
        self.lock = folder_lock(path)

    def __enter__(self) -> "_Locked":
        try:
            self.lock.acquire()
        except filelock.Timeout:
            raise StorageError(
                f"could not acquire {self.lock.lock_file} within {LOCK_TIMEOUT:.0f} s: another "
                f"process is writing this blackbox; wait for it to finish") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


def hold_lock(path: str | os.PathLike) -> _Locked:
    """A context manager holding ``folder_lock(path)``; a time-out is a ``StorageError``.

    Example:
        >>> import tempfile
        >>> with hold_lock(tempfile.mkdtemp() + "/family"):
        ...     pass
    """
    return _Locked(Path(path))


@lru_cache(maxsize=1)
def _hposim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("hposim")
    except PackageNotFoundError:
        return "unknown"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _canonical_json(doc: Mapping[str, Any]) -> str:
    # one JSON round trip first: non-string keys become strings exactly as they will be read back
    doc = json.loads(json.dumps(doc))
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _with_checksum(doc: dict, key: str) -> dict:
    body = {k: v for k, v in doc.items() if k != key}
    return {**body, key: sha256_bytes(_canonical_json(body).encode())}


def _write_json(path: Path, doc: Mapping[str, Any], *, fsync: bool = False) -> None:
    """Write ``doc`` to ``path`` through a temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=False)
            fh.write("\n")
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_remedy(name: str | None) -> str:
    label = name or "NAME"
    return (f"re-import or re-save the blackbox; if it came from the repository run "
            f"`hposim blackbox get {label} --force`")


# ---------------------------------------------------------------------------- save
def _objective_columns(objectives_names: list[str]) -> tuple[list[str], list[str]]:
    """Index column names (made distinct from the objective names) and value column names."""
    index = []
    for col in INDEX_COLUMNS:
        while col in objectives_names:
            col = "_" + col
        index.append(col)
    return index, list(objectives_names)


def _hyperparameters_table(df: pd.DataFrame) -> tuple[pa.Table, list[str]]:
    """Arrow table of the hyperparameters; object columns Arrow cannot type become JSON text."""
    for c in df.columns:
        if not isinstance(c, str):
            raise BlackboxError(f"hyperparameter column names must be strings, got {c!r}")
    json_cols: list[str] = []
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        df = df.copy()
        for c in df.columns:
            try:
                pa.Table.from_pandas(df[[c]], preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                try:
                    df[c] = pd.Series([json.dumps(v.item() if isinstance(v, np.generic) else v)
                                       for v in df[c].tolist()], dtype=object)
                except TypeError as e:
                    raise BlackboxError(
                        f"hyperparameter column {c!r} cannot be stored: its values are neither one "
                        f"Arrow type nor JSON-serializable ({e})") from None
                json_cols.append(c)
        table = pa.Table.from_pandas(df, preserve_index=False)
    return table, json_cols


def _write_objectives(objectives: np.ndarray, path: Path, index_cols: list[str],
                      value_cols: list[str]) -> None:
    """Write the long-format objectives Parquet file, one row group per ~1M rows."""
    n, s, f, o = objectives.shape
    per_config = max(1, s * f)
    chunk = max(1, _ROWS_PER_GROUP // per_config)
    schema = pa.schema([(c, pa.int32()) for c in index_cols] + [(c, pa.float32()) for c in value_cols])
    seed_idx = np.repeat(np.arange(s, dtype=np.int32), f)
    fid_idx = np.tile(np.arange(f, dtype=np.int32), s)
    with pq.ParquetWriter(path, schema, compression="zstd", use_byte_stream_split=value_cols,
                          write_statistics=index_cols) as writer:
        for c0 in range(0, n, chunk):
            c1 = min(n, c0 + chunk)
            block = np.asarray(objectives[c0:c1], dtype=np.float32).reshape(-1, o)
            m = c1 - c0
            arrays = [pa.array(np.repeat(np.arange(c0, c1, dtype=np.int32), per_config)),
                      pa.array(np.tile(seed_idx, m)), pa.array(np.tile(fid_idx, m))]
            arrays += [pa.array(np.ascontiguousarray(block[:, j])) for j in range(o)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=len(block))
        if n == 0:
            writer.write_table(schema.empty_table())


def _jsonable(value: Any, where: str) -> Any:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise BlackboxError(f"{where} is not JSON-serializable ({e}); metadata values must be "
                            f"plain numbers, strings, lists or dicts") from None
    return value


def _metadata_document(bb: TabularBlackbox, *, name: str, task: str, source: Any,
                       extra: Mapping[str, Any] | None, json_cols: list[str],
                       index_cols: list[str], value_cols: list[str]) -> dict:
    extras = {k: v for k, v in bb.metadata.items() if k not in _RESERVED}
    extras.update(extra or {})
    for k, v in extras.items():
        _jsonable(v, f"metadata entry {k!r}")
    if source is None:
        source = bb.metadata.get("source")
    fv = np.asarray(bb.fidelity_values)
    fid_values = [v.item() if isinstance(v, np.generic) else v for v in fv.tolist()]
    for nm in bb.objectives_names:
        if not isinstance(nm, str):
            raise BlackboxError(f"objective names must be strings, got {nm!r}")
    doc = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "task": task,
        "configuration_space": bb.configuration_space.to_dict(),
        "fidelity_name": bb.fidelity_name,
        "fidelity_values": fid_values,
        "fidelity_dtype": fv.dtype.str,
        "objectives_names": list(bb.objectives_names),
        "metric_elapsed_time": bb.metric_elapsed_time,
        "metric": bb.metric,
        "mode": bb.mode,
        "num_seeds": int(bb.num_seeds),
        "shape": [int(x) for x in bb.shape],
        "hyperparameters_json_columns": json_cols,
        "objectives_layout": {"kind": "long", "index_columns": index_cols, "value_columns": value_cols,
                              "dtype": "float32", "order": "C"},
        "source": _jsonable(source, "source"),
        "extra": extras,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hposim_version": _hposim_version(),
    }
    _jsonable(doc["configuration_space"], "the configuration space")
    return doc


def _write_folder(bb: TabularBlackbox, tmp: Path, *, name: str, task: str, source: Any,
                  extra: Mapping[str, Any] | None, build_cache: bool) -> None:
    """Write every file of a blackbox folder into ``tmp`` (not yet visible)."""
    table, json_cols = _hyperparameters_table(bb.hyperparameters)
    index_cols, value_cols = _objective_columns(list(bb.objectives_names))
    doc = _metadata_document(bb, name=name, task=task, source=source, extra=extra,
                             json_cols=json_cols, index_cols=index_cols, value_cols=value_cols)
    pq.write_table(table, tmp / HYPERPARAMETERS, compression="zstd")
    _write_objectives(bb.objectives, tmp / OBJECTIVES, index_cols, value_cols)
    files = {}
    for fname in (HYPERPARAMETERS, OBJECTIVES):
        _fsync_file(tmp / fname)
        files[fname] = {"sha256": sha256_file(tmp / fname), "bytes": (tmp / fname).stat().st_size}
    doc["files"] = files
    _write_json(tmp / METADATA, _with_checksum(doc, "metadata_sha256"), fsync=True)
    if build_cache:
        _write_cache(np.asarray(bb.objectives, dtype=np.float32), tmp, source_folder=tmp,
                     source_sha=files[OBJECTIVES]["sha256"], reason="written by save_tabular", meta=doc)


def remove_leftovers(folder: Path, tag: str = "") -> None:
    """Under ``folder``'s lock: remove the staging folders of crashed writers
    (``.NAME.{tag}tmp-*``) and put back a folder that was swapped out (``.NAME.{tag}old-*``)
    but never replaced."""
    parent = folder.parent
    olds = sorted(parent.glob(f".{folder.name}.{tag}old-*"))
    if olds and not folder.exists():
        os.rename(olds.pop(), folder)
    for p in list(parent.glob(f".{folder.name}.{tag}tmp-*")) + olds:
        shutil.rmtree(p, ignore_errors=True)


def swap_in(staging: Path, folder: Path, tag: str = "") -> None:
    """Rename ``staging`` to ``folder`` atomically; an existing ``folder`` is first moved
    aside (``.NAME.{tag}old-*``, put back if the rename fails), then removed."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.{tag}old-{uuid.uuid4().hex[:8]}")
        os.rename(folder, old)
    try:
        os.rename(staging, folder)
    except BaseException:
        if old is not None:
            os.rename(old, folder)
        raise
    _fsync_dir(folder.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def save_tabular(bb: TabularBlackbox, folder: str | os.PathLike, *, name: str, task: str,
                 source: Any = None, extra: Mapping[str, Any] | None = None,
                 build_cache: bool = True,
                 write_extra: Callable[[Path], None] | None = None) -> Path:
    """Write ``bb`` as a blackbox folder (atomically, under ``<folder>.lock``); returns the folder.

    ``source`` (provenance: a URL, a file name, a dict) defaults to ``bb.metadata["source"]``;
    ``extra`` adds metadata entries to those of ``bb.metadata``. With ``build_cache`` the
    memory-mapped cache is written too, so the first load does not convert the Parquet file.
    ``write_extra(staging)`` writes more files (e.g. a surrogate model) into the staging
    folder before it is renamed into place, so they appear together with the table.
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
    with _Locked(folder):
        remove_leftovers(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; a saved blackbox is a normal folder
        try:
            _write_folder(bb, tmp, name=name, task=task, source=source, extra=extra,
                          build_cache=build_cache)
            if write_extra is not None:
                write_extra(tmp)
            swap_in(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ---------------------------------------------------------------------------- read
def read_metadata(folder: str | os.PathLike, *, remedy: str | None = None) -> dict:
    """Parse and check ``metadata.json`` of a blackbox folder.

    Raises ``CorruptBlackboxError`` if it is unreadable or does not match its own
    checksum, ``BlackboxError`` if it was written by a newer format.
    """
    path = Path(folder) / METADATA
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BlackboxError(f"{Path(folder)} is not a blackbox folder: {METADATA} is missing") from None
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise CorruptBlackboxError(
            path, f"{path} is corrupt or truncated (not valid JSON: {e}); "
                  f"{remedy or _default_remedy(None)}",
            actual=sha256_bytes(raw)) from None
    recorded = doc.get("metadata_sha256")
    actual = sha256_bytes(_canonical_json({k: v for k, v in doc.items()
                                            if k != "metadata_sha256"}).encode())
    if recorded != actual:
        raise CorruptBlackboxError(
            path, f"{path} is corrupt: the sha256 of its content is {actual}, expected {recorded} "
                  f"(recorded in the file); {remedy or _default_remedy(doc.get('name'))}",
            expected=recorded if isinstance(recorded, str) else None, actual=actual)
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BlackboxError(f"{path} has format_version {version!r}; this hposim reads format "
                            f"versions up to {FORMAT_VERSION}: upgrade hposim")
    return doc


def _check_sha(path: Path, data: bytes | None, entry: Mapping[str, Any], remedy: str) -> bytes | None:
    """Verify ``path`` (or ``data``, its bytes) against ``entry`` = {sha256, bytes}."""
    expected = entry.get("sha256")
    if data is None:
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            raise CorruptBlackboxError(path, f"{path} is missing (expected sha256 {expected}); "
                                             f"{remedy}", expected=expected) from None
    else:
        actual = sha256_bytes(data)
    if actual != expected:
        size = len(data) if data is not None else path.stat().st_size
        what = "truncated" if size < int(entry.get("bytes", 0)) else "corrupt"
        raise CorruptBlackboxError(
            path, f"{path} is {what}: sha256 {actual}, expected {expected} ({size} bytes, expected "
                  f"{entry.get('bytes')}); {remedy}", expected=expected, actual=actual)
    return data


def _read_hyperparameters(folder: Path, meta: Mapping[str, Any], remedy: str) -> pd.DataFrame:
    path = folder / HYPERPARAMETERS
    entry = meta["files"][HYPERPARAMETERS]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptBlackboxError(path, f"{path} is missing; {remedy}",
                                   expected=entry.get("sha256")) from None
    _check_sha(path, data, entry, remedy)
    try:
        df = pq.read_table(pa.BufferReader(data)).to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be read ({e}); {remedy}") from None
    for c in meta.get("hyperparameters_json_columns", []):
        df[c] = pd.Series([json.loads(v) for v in df[c].tolist()], dtype=object)
    return df


def _check_consistency(folder: Path, meta: Mapping[str, Any], hp: pd.DataFrame | None,
                       remedy: str) -> None:
    path = folder / METADATA
    try:
        n, s, f, o = (int(x) for x in meta["shape"])
        problems = []
        if len(meta["fidelity_values"]) != f:
            problems.append(f"{len(meta['fidelity_values'])} fidelity values for {f} levels")
        if len(meta["objectives_names"]) != o:
            problems.append(f"{len(meta['objectives_names'])} objective names for {o} objectives")
        if int(meta["num_seeds"]) != s:
            problems.append(f"num_seeds {meta['num_seeds']} but shape has {s} seeds")
        if hp is not None:
            if len(hp) != n:
                problems.append(f"{HYPERPARAMETERS} has {len(hp)} rows, shape has {n} configs")
            if list(hp.columns) != list(meta["configuration_space"]):
                problems.append(f"{HYPERPARAMETERS} columns {list(hp.columns)} differ from the "
                                f"configuration space {list(meta['configuration_space'])}")
        for fname in (HYPERPARAMETERS, OBJECTIVES):
            if fname not in meta["files"]:
                problems.append(f"no checksum recorded for {fname}")
    except (KeyError, TypeError, ValueError) as e:
        problems = [f"missing or malformed entry ({type(e).__name__}: {e})"]
    if problems:
        raise CorruptBlackboxError(path, f"{path} is inconsistent with the data: "
                                         f"{'; '.join(problems)}; {remedy}")


# ---------------------------------------------------------------------------- cache
def _read_cache_record(path: Path) -> tuple[dict | None, str | None]:
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
    body = {k: v for k, v in rec.items() if k != "record_sha256"}
    actual = sha256_bytes(_canonical_json(body).encode())
    if rec.get("record_sha256") != actual:
        return None, (f"{path} is corrupt: the sha256 of its content is {actual}, expected "
                      f"{rec.get('record_sha256')}")
    try:
        FileStamp.from_dict(rec["npy_stamp"])
        FileStamp.from_dict(rec["source_stamp"])
        int(rec["npy_bytes"]), str(rec["npy_sha256"]), str(rec["source_sha256"])
    except (KeyError, TypeError, ValueError) as e:
        return None, f"{path} lacks an entry ({type(e).__name__}: {e})"
    return rec, None


def _write_cache(array: np.ndarray | None, cache_dir: Path, *, source_folder: Path, source_sha: str,
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
            _convert_parquet(source_folder / OBJECTIVES, out, meta)
        out.flush()
        del out
        os.replace(tmp, npy)
    finally:
        tmp.unlink(missing_ok=True)
    stamp = FileStamp.of(npy)
    npy_sha = sha256_file(npy)
    _HASHED[str(npy)] = (stamp, npy_sha)
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
    _write_json(cj, _with_checksum(record, "record_sha256"))
    with open(cache_dir / CACHE_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{record['built']} pid={os.getpid()} build {record['builds']}: {reason}\n")


def _convert_parquet(path: Path, out: np.ndarray, meta: Mapping[str, Any]) -> None:
    """Stream objectives.parquet into ``out`` (n, s, f, o), checking the row order."""
    n, s, f, o = out.shape
    layout = meta["objectives_layout"]
    index_cols, value_cols = list(layout["index_columns"]), list(layout["value_columns"])
    flat = out.reshape(-1, o)
    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows != n * s * f:
            raise ValueError(f"{pf.metadata.num_rows} rows, expected {n * s * f}")
        pos = 0
        for batch in pf.iter_batches(batch_size=_ROWS_PER_GROUP, columns=index_cols + value_cols):
            k = batch.num_rows
            r = np.arange(pos, pos + k, dtype=np.int64)
            expected = (r // max(1, s * f), (r // max(1, f)) % max(1, s), r % max(1, f))
            for col, exp in zip(index_cols, expected):
                got = batch.column(col).to_numpy(zero_copy_only=False)
                if not np.array_equal(got, exp):
                    bad = int(np.flatnonzero(got != exp)[0]) + pos
                    raise ValueError(f"row {bad} has {col}={got[bad - pos]}, expected {exp[bad - pos]}")
            for j, col in enumerate(value_cols):
                flat[pos:pos + k, j] = batch.column(col).to_numpy(zero_copy_only=False)
            pos += k
    except (pa.ArrowException, OSError, ValueError, KeyError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be converted ({e})") from None


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def _cache_location(folder: Path, cache_dir: str | os.PathLike | None) -> Path | None:
    """Where the cache of ``folder`` goes; ``None``: read-only folder, use the default location."""
    if cache_dir is not None:
        return Path(cache_dir).absolute()
    return folder if _writable(folder) else None


def _open_cache(folder: Path, cache_dir: Path, meta: Mapping[str, Any], *, locked: bool,
                remedy: str) -> np.ndarray:
    """The objectives as a read-only memory map, (re)building the cache when needed."""
    npy, cj = cache_dir / CACHE_NPY, cache_dir / CACHE_JSON
    src = folder / OBJECTIVES
    src_entry = meta["files"][OBJECTIVES]
    shape = tuple(int(x) for x in meta["shape"])
    record, problem = _read_cache_record(cj)
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
                raise _NeedsLock
            _check_sha(src, None, src_entry, remedy)
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
                raise _NeedsLock
            actual = sha256_file(npy)
            if actual != record["npy_sha256"]:
                reason = warn = (f"{npy} is corrupt: sha256 {actual}, expected "
                                 f"{record['npy_sha256']} (recorded in {cj})")
            else:
                update_stamps = True
                _HASHED[str(npy)] = (npy_stamp, actual)
        elif (npy_stamp is not None and npy_stamp.size <= HASH_ON_FIRST_LOAD_BYTES
              and _HASHED.get(str(npy)) != (npy_stamp, record["npy_sha256"])):
            # first load of this cache in this process: re-hash it (bit rot keeps size and mtime)
            actual = sha256_file(npy)
            if actual == record["npy_sha256"]:
                _HASHED[str(npy)] = (npy_stamp, actual)
            elif not locked:
                raise _NeedsLock
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
            raise _NeedsLock
        if warn is not None:
            warnings.warn(f"{warn}; rebuilding it from {src}", CacheRebuildWarning, stacklevel=4)
        _check_sha(src, None, src_entry, remedy)
        try:
            _write_cache(None, cache_dir, source_folder=folder, source_sha=src_entry["sha256"],
                         reason=reason, meta=meta, builds=int(record["builds"]) if record else 0)
        except CorruptBlackboxError as e:
            raise CorruptBlackboxError(e.path, f"{e}; {remedy}") from None
        return np.load(npy, mmap_mode="r")
    if update_stamps:
        new = dict(record)
        new.pop("record_sha256", None)
        new["source_stamp"] = FileStamp.of(src).to_dict()
        new["npy_stamp"] = FileStamp.of(npy).to_dict()
        # a read-only cache stays correct, only slower to check next time
        with contextlib.suppress(OSError):
            _write_json(cj, _with_checksum(new, "record_sha256"))
    return arr


def _open(folder: Path, cache_dir: Path, *, locked: bool, remedy: str | None) -> TabularBlackbox:
    meta = read_metadata(folder, remedy=remedy)
    remedy = remedy or _default_remedy(meta.get("name"))
    _check_consistency(folder, meta, None, remedy)
    hp = _read_hyperparameters(folder, meta, remedy)
    _check_consistency(folder, meta, hp, remedy)
    objectives = _open_cache(folder, cache_dir, meta, locked=locked, remedy=remedy)
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
    cdir = _cache_location(folder, cache_dir)
    if cdir is None:
        from blackbox_repo.repository import default_cache_dir
        meta = read_metadata(folder, remedy=remedy)
        cdir = default_cache_dir(str(meta.get("name")), str(meta.get("task")))
    try:
        return _open(folder, cdir, locked=False, remedy=remedy)
    except (_NeedsLock, CorruptBlackboxError, OSError, BlackboxError):
        # either work that needs the lock, or a concurrent save swapped the folder under us:
        # retry with the lock held (saves hold the same lock), where errors are final
        pass
    with _Locked(cdir):
        return _open(folder, cdir, locked=True, remedy=remedy)


# ---------------------------------------------------------------------------- verify
def _verify_cache(cdir: Path) -> list[str]:
    """Re-hash the derived cache in ``cdir``; a corrupt one is invalidated (removed, under
    the cache lock), so the next load rebuilds it whatever its size."""
    cj, npy = cdir / CACHE_JSON, cdir / CACHE_NPY
    if not (cj.exists() or npy.exists()):
        return []
    record, problem = _read_cache_record(cj)
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
        with _Locked(cdir):
            cj.unlink(missing_ok=True)
            npy.unlink(missing_ok=True)          # open memory maps keep their (old) pages
            _HASHED.pop(str(npy), None)
            with open(cdir / CACHE_LOG, "a", encoding="utf-8") as fh:
                stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
                fh.write(f"{stamp} pid={os.getpid()} invalidated by verify: {bad}\n")
    except OSError as e:
        return [f"cache: {bad}; it cannot be invalidated ({e}): delete {cdir} to have it rebuilt"]
    return [f"cache: {bad} (invalidated: it will be rebuilt on the next load)"]


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
        hp = _read_hyperparameters(folder, meta, "") if HYPERPARAMETERS in ok else None
        _check_consistency(folder, meta, hp, "")
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
    cdir = _cache_location(folder, cache_dir)
    if cdir is None:
        from blackbox_repo.repository import default_cache_dir
        cdir = default_cache_dir(str(meta.get("name")), str(meta.get("task")))
    problems += _verify_cache(cdir)
    return problems

