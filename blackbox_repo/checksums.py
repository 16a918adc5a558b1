"""File checksums and cheap "has this file changed?" stamps.

``sha256_file`` hashes a whole file (used for every file written by the storage layer).
``FileStamp`` records ``(size, mtime_ns, inode)``: comparing stamps costs one ``stat``
call, so a large memory-mapped cache can be trusted on a warm load without re-reading
it. A stamp that changed does not prove the content changed, only that it must be
re-hashed; a stamp that did not change cannot see corruption that left size and
modification time alone (bit rot on disk): the storage layer re-hashes caches up to 64 MB on
their first load in a process, and ``hposim blackbox verify`` re-hashes everything.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    >>> FileStamp.of(p).size
    3
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from typing import Any, Mapping

__all__ = ["sha256_file", "sha256_bytes", "FileStamp"]

_CHUNK = 8 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of the file at ``path``, read in 8 MB chunks."""
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileStamp:
    """What ``stat`` says about a file: size, modification time (ns) and inode.

    Example:
        >>> FileStamp(3, 10, 7) == FileStamp.from_dict({"size": 3, "mtime_ns": 10, "inode": 7})
        True
    """

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> "FileStamp":
        st = os.stat(path)
        return cls(int(st.st_size), int(st.st_mtime_ns), int(st.st_ino))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "FileStamp":
        return cls(int(d["size"]), int(d["mtime_ns"]), int(d["inode"]))

    def to_dict(self) -> dict:
        return asdict(self)

