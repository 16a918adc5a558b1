"""The files of a blackbox folder: their names, the format version, the integrity error and
the check of one file against its recorded sha256 (docs/architecture.md#blackbox-folders).

Example:
    >>> METADATA, CANONICAL_FILES
    ('metadata.json', ('hyperparameters.parquet', 'objectives.parquet'))
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from blackbox_repo.checksums import sha256_bytes, sha256_file
from blackbox_repo.errors import IntegrityError

__all__ = ["FORMAT_VERSION", "HYPERPARAMETERS", "OBJECTIVES", "METADATA", "CACHE_NPY", "CACHE_JSON", "CACHE_LOG",
           "CANONICAL_FILES", "CorruptBlackboxError", "CacheRebuildWarning", "default_remedy", "check_file"]

FORMAT_VERSION = 1
HYPERPARAMETERS = "hyperparameters.parquet"
OBJECTIVES = "objectives.parquet"
METADATA = "metadata.json"
CACHE_NPY = "objectives.npy"
CACHE_JSON = "cache.json"
CACHE_LOG = "cache.log"
#: the table's files, listed with their sha256 in ``metadata.json`` (writers may add theirs)
CANONICAL_FILES = (HYPERPARAMETERS, OBJECTIVES)


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


def default_remedy(name: str | None) -> str:
    """What to do about a corrupt file of blackbox ``name`` when the caller gave no advice."""
    label = name or "NAME"
    return (f"re-import or re-save the blackbox; if it came from the repository run "
            f"`hposim blackbox get {label} --force`")


def check_file(path: Path, data: bytes | None, entry: Mapping[str, Any], remedy: str) -> bytes | None:
    """Verify ``path`` (or ``data``, its bytes) against ``entry`` = {sha256, bytes}; a
    mismatch or a missing file is a ``CorruptBlackboxError`` (truncated or corrupt)."""
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
