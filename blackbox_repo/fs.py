"""Filesystem primitives, written once: atomic writes, signed JSON, JSON-safe values,
folder locks, staging folders swapped into place.

Used by blackbox storage (``blackbox_repo.storage``), surrogates
(``blackbox_repo.surrogate.persistence``), recipes, generated tables, simulation results and
studies. See docs/architecture.md#data-formats.

* ``atomic_file(path)``: a temporary path beside ``path``, renamed onto it when the block
  ends normally (removed otherwise), so readers see the old file or the new one, never a part;
  ``write_bytes_atomic`` and ``write_json_atomic`` on top of it.
* Signed JSON: a document carrying the sha256 of its own canonical JSON (every key but the
  checksum's, sorted, compact, ASCII) under a key of its own (``sign``, ``signature``,
  ``write_signed_json``).
* ``json_safe``: numpy scalars and arrays, tuples, non-finite floats and other objects turned
  into strict-JSON values.
* ``hold_lock`` / ``folder_lock``: the ``<path>.lock`` file lock guarding writes to ``path``;
  ``staging_folder``, ``swap_in`` and ``remove_leftovers``: a folder written aside and renamed
  into place, with what crashed writers left behind cleaned up under the lock.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "doc.json"
    >>> write_signed_json(path, {"b": 1, "a": [1.5, "x"]}, "doc_sha256")
    >>> doc = json.loads(path.read_text())
    >>> signature(doc, "doc_sha256") == doc["doc_sha256"]
    True
    >>> json_safe({"x": float("nan"), "y": (1, float("inf"))}, infinity="string")
    {'x': None, 'y': [1, 'inf']}
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

import filelock
import numpy as np

from blackbox_repo.checksums import sha256_bytes
from blackbox_repo.errors import StorageError

__all__ = ["LOCK_TIMEOUT", "atomic_file", "write_bytes_atomic", "write_json_atomic", "canonical_json", "sign",
           "signature", "write_signed_json", "json_safe", "fsync_file", "fsync_dir", "umask", "folder_lock",
           "hold_lock", "Locked", "staging_folder", "swap_in", "remove_leftovers"]

#: seconds a writer waits for a folder lock before giving up with a ``StorageError``
LOCK_TIMEOUT = 900.0


# ---------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` (``.NAME.tmp-XXXXXXXX``) to write; when the block ends
    normally it is (fsync'ed with ``fsync``, then) renamed onto ``path``, else removed.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_file(target) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        if fsync:
            fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (``atomic_file``)."""
    with atomic_file(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: str | os.PathLike, doc: Any, *, fsync: bool = False, indent: int | None = 1,
                      sort_keys: bool = False) -> None:
    """Write ``doc`` as JSON (and a final newline) to ``path`` atomically (``atomic_file``)."""
    text = json.dumps(doc, indent=indent, sort_keys=sort_keys) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), fsync=fsync)


# ---------------------------------------------------------------------------- signed JSON
def canonical_json(doc: Mapping[str, Any]) -> str:
    """The canonical JSON text of ``doc`` that signatures hash: keys sorted, no spaces, ASCII;
    after one JSON round trip, so non-string keys become strings exactly as they are read back."""
    doc = json.loads(json.dumps(doc))
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def signature(doc: Mapping[str, Any], key: str) -> str:
    """The sha256 of the canonical JSON of ``doc`` without ``key`` (what ``sign`` records
    under ``key``; compare it with ``doc.get(key)`` to check a signed document)."""
    return sha256_bytes(canonical_json({k: v for k, v in doc.items() if k != key}).encode())


def sign(doc: Mapping[str, Any], key: str) -> dict:
    """``doc`` with its ``signature`` under ``key`` (last)."""
    body = {k: v for k, v in doc.items() if k != key}
    return {**body, key: signature(body, key)}


def write_signed_json(path: str | os.PathLike, doc: Mapping[str, Any], key: str, *, fsync: bool = False) -> None:
    """Write ``sign(doc, key)`` to ``path`` atomically (indented JSON, keys in ``doc``'s order)."""
    write_json_atomic(path, sign(doc, key), fsync=fsync)


# ---------------------------------------------------------------------------- JSON-safe values
def json_safe(x: Any, *, infinity: str = "null") -> Any:
    """``x`` as strict-JSON values: dict keys as strings, tuples as lists, numpy scalars and
    arrays as Python values, NaN as ``None``, infinities as ``None`` (``infinity="null"``) or
    ``"inf"``/``"-inf"`` (``infinity="string"``), any other object as its ``repr``."""
    if isinstance(x, dict):
        return {str(k): json_safe(v, infinity=infinity) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v, infinity=infinity) for v in x]
    if isinstance(x, np.generic):
        return json_safe(x.item(), infinity=infinity)
    if isinstance(x, np.ndarray):
        return json_safe(x.tolist(), infinity=infinity)
    if isinstance(x, float) and not math.isfinite(x):
        if math.isnan(x) or infinity == "null":
            return None
        return "inf" if x > 0 else "-inf"
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


# ---------------------------------------------------------------------------- durability
def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a folder's entries (renames) to disk, where the platform allows it."""
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


def umask() -> int:
    """The process's file-mode creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------- locks and staging
def folder_lock(path: str | os.PathLike) -> filelock.FileLock:
    """The lock guarding writes to ``path`` (a file ``<path>.lock`` beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


class Locked:
    """Context manager holding ``folder_lock(path)``; a time-out is a ``StorageError`` naming
    the lock file.

    Example:
        >>> import tempfile
        >>> with Locked(Path(tempfile.mkdtemp()) / "family"):
        ...     pass
    """

    def __init__(self, path: str | os.PathLike):
        self.lock = folder_lock(path)

    def __enter__(self) -> "Locked":
        try:
            self.lock.acquire()
        except filelock.Timeout:
            raise StorageError(
                f"could not acquire {self.lock.lock_file} within {LOCK_TIMEOUT:.0f} s: another "
                f"process is writing this blackbox; wait for it to finish") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


def hold_lock(path: str | os.PathLike) -> Locked:
    """A context manager holding ``folder_lock(path)``; a time-out is a ``StorageError``.

    Example:
        >>> import tempfile
        >>> with hold_lock(tempfile.mkdtemp() + "/family"):
        ...     pass
    """
    return Locked(path)


def staging_folder(folder: Path) -> Path:
    """A new hidden folder beside ``folder`` (``.NAME.tmp-*``) to write its next version into,
    with the permissions of a normal folder (``mkdtemp`` makes 0700)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    os.chmod(tmp, 0o777 & ~umask())
    return tmp


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
    fsync_dir(folder.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
