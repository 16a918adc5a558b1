"""Streamed, resumable, checksummed downloads of a recipe's raw files.

``download(url, dest, sha256=...)`` streams ``url`` into ``dest.part`` with a progress bar,
resumes an interrupted ``.part`` with an HTTP ``Range`` request, retries transient errors
(connection errors, truncated bodies, time-outs, HTTP 5xx and 429) with exponential
back-off, verifies the sha256 and only then renames ``.part`` to ``dest`` (atomic). A host
that refuses the connection or whose name cannot be resolved (offline) fails at once with
one message: retrying cannot help.

With ``HPOSIM_OFFLINE=1`` nothing here touches the network: ``fetch_files`` raises an
:class:`OfflineError` that lists every missing file, its URL and the path to put it at.

Example:
    >>> import tempfile, pathlib
    >>> raw = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (raw / "a.csv").write_bytes(b"x,y\\n1,2\\n")
    >>> f = RawFile("a.csv", "https://example.org/a.csv", sha256_file(raw / "a.csv"))
    >>> fetch_files([f], raw)["a.csv"].name      # already present and verified: no network
    'a.csv'
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tqdm.auto import tqdm

from blackbox_repo.errors import EXIT_INTEGRITY, IntegrityError, StorageError

__all__ = ["RawFile", "DownloadError", "ChecksumError", "OfflineError", "download", "fetch_files",
           "is_offline", "missing_files", "offline_message", "sha256_file", "OFFLINE_ENV"]

OFFLINE_ENV = "HPOSIM_OFFLINE"
_CHUNK = 1 << 20
_USER_AGENT = "hposim-blackbox-download"


class DownloadError(StorageError):
    """A raw file could not be downloaded (after retries, a permanent HTTP error, or a host
    that cannot be reached): a ``StorageError`` (exit status 4)."""


class ChecksumError(DownloadError, IntegrityError):
    """A downloaded or cached raw file does not have the expected sha256 (exit status 3)."""

    exit_code = EXIT_INTEGRITY


class OfflineError(DownloadError):
    """``HPOSIM_OFFLINE`` is set and raw files are missing locally."""


@dataclass(frozen=True)
class RawFile:
    """One raw file of a recipe: where it is saved (``filename``, relative to the raw
    folder), where it comes from (``url``) and its sha256.

    Example:
        >>> RawFile("DeepAR.csv.zip", "https://example.org/DeepAR.csv.zip", "ab" * 32).filename
        'DeepAR.csv.zip'
    """

    filename: str
    url: str
    sha256: str
    size: int | None = None


def is_offline() -> bool:
    """Whether ``$HPOSIM_OFFLINE`` asks to never touch the network."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


class _Transient(Exception):
    """An error worth retrying (the ``.part`` file keeps what arrived)."""


def _unreachable(url: str, reason: object) -> str | None:
    """The message for a host that cannot be reached at all (connection refused, name not
    resolved): retrying cannot help, so the download fails at once; None for other errors."""
    host = urllib.parse.urlsplit(url).netloc or url
    if isinstance(reason, ConnectionRefusedError):
        what = f"{host} refused the connection"
    elif isinstance(reason, socket.gaierror):
        what = f"the host name {urllib.parse.urlsplit(url).hostname!r} cannot be resolved"
    else:
        return None
    return (f"cannot download {url}: {what} ({reason}); check the network connection and the URL, "
            f"use a mirror (--mirror / $HPOSIM_MIRROR), or put the file in place by hand and set "
            f"{OFFLINE_ENV}=1")


def _open(url: str, offset: int, timeout: float):
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _stream_once(url: str, part: Path, timeout: float, progress: bool | None, desc: str) -> None:
    """One attempt: append to ``part`` from where it stops. Raises ``_Transient`` or
    ``DownloadError``; returns when the server's body was received completely."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, offset, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:
            # our part already holds everything (or is longer than the file): let the
            # checksum decide; a bad part is deleted there and fetched again
            return
        if e.code >= 500 or e.code == 429:
            raise _Transient(f"HTTP {e.code} {e.reason}") from e
        raise DownloadError(f"downloading {url} failed: HTTP {e.code} {e.reason}; check the URL "
                            f"(a recipe's source may have moved) or use a mirror (--mirror / "
                            f"$HPOSIM_MIRROR)") from e
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError,
            http.client.HTTPException) as e:
        unreachable = _unreachable(url, getattr(e, "reason", e))
        if unreachable is not None:
            raise DownloadError(unreachable) from None
        raise _Transient(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from e
    with resp:
        status = getattr(resp, "status", 200)
        if offset and status != 206:
            offset = 0                      # the server ignored Range: start again
        length = resp.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else None
        mode = "ab" if offset else "wb"
        received = offset
        with open(part, mode) as fh, tqdm(total=expected, initial=offset, unit="B", unit_scale=True,
                                          unit_divisor=1024, desc=desc, leave=False,
                                          disable=None if progress is None else not progress) as bar:
            try:
                while True:
                    block = resp.read(_CHUNK)
                    if not block:
                        break
                    fh.write(block)
                    received += len(block)
                    bar.update(len(block))
            except (http.client.IncompleteRead, ConnectionError, socket.timeout, TimeoutError,
                    http.client.HTTPException, OSError) as e:
                fh.flush()
                raise _Transient(f"connection lost after {received} bytes ({type(e).__name__})") from e
        if expected is not None and received < expected:
            raise _Transient(f"truncated body: {received} of {expected} bytes")


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None, retries: int = 5,
             backoff: float = 0.5, max_backoff: float = 30.0, timeout: float = 60.0,
             progress: bool | None = None, sleep: Callable[[float], None] = time.sleep) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    Resumes from ``dest.part`` if an earlier attempt left one; ``retries`` extra attempts
    after transient errors, waiting ``backoff * 2**attempt`` seconds (capped). A checksum
    mismatch deletes the ``.part`` file and raises :class:`ChecksumError`.
    ``progress=None`` shows a bar when stderr is a terminal.
    """
    dest = Path(dest)
    if is_offline():
        raise OfflineError(f"{OFFLINE_ENV} is set: not downloading {url}; put the file at {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors: list[str] = []
    for attempt in range(retries + 1):
        try:
            _stream_once(url, part, timeout, progress, dest.name)
            break
        except _Transient as e:
            errors.append(str(e))
            if attempt == retries:
                distinct = list(dict.fromkeys(errors))
                said = "; ".join(f"{m} ({errors.count(m)} times)" if errors.count(m) > 1 else m
                                 for m in distinct)
                raise DownloadError(
                    f"downloading {url} failed after {retries + 1} attempts: {said}. "
                    f"The partial file {part} is kept; run again to resume.") from None
            sleep(min(max_backoff, backoff * 2 ** attempt))
    if not part.exists():
        raise DownloadError(f"downloading {url} produced no data")
    if sha256 is not None:
        got = sha256_file(part)
        if got != sha256.lower():
            size = part.stat().st_size
            part.unlink()
            raise ChecksumError(
                f"checksum mismatch for {dest.name} from {url}: expected sha256 {sha256}, got {got} "
                f"({size} bytes). The file was deleted; the source may have changed or the "
                f"download was corrupted. Retry, or use a mirror (--mirror / $HPOSIM_MIRROR).")
    os.replace(part, dest)
    return dest


def _verified(path: Path, f: RawFile) -> bool:
    """Whether a local copy exists and has the right checksum (a bad copy is removed)."""
    if not path.is_file():
        return False
    if sha256_file(path) == f.sha256.lower():
        return True
    path.unlink()
    return False


def missing_files(files: Iterable[RawFile], raw_dir: str | os.PathLike) -> list[RawFile]:
    """The files not present with the right checksum in ``raw_dir`` (never touches the network)."""
    raw_dir = Path(raw_dir)
    out = []
    for f in files:
        path = raw_dir / f.filename
        if not path.is_file() or sha256_file(path) != f.sha256.lower():
            out.append(f)
    return out


def offline_message(missing: Sequence[RawFile], raw_dir: str | os.PathLike, what: str = "") -> str:
    lines = [f"{OFFLINE_ENV} is set, so nothing is downloaded{' for ' + what if what else ''}; "
             f"{len(missing)} raw file(s) are missing from {Path(raw_dir)}:"]
    for f in missing:
        lines.append(f"  - {f.filename}  (sha256 {f.sha256})\n      from {f.url}\n"
                     f"      put it at {Path(raw_dir) / f.filename}")
    lines.append(f"Copy the files there (or unset {OFFLINE_ENV}) and run again.")
    return "\n".join(lines)


def fetch_files(files: Sequence[RawFile], raw_dir: str | os.PathLike, *, progress: bool | None = None,
                what: str = "", **download_kwargs) -> dict[str, Path]:
    """Make every raw file present and verified in ``raw_dir``; returns filename -> path.

    Files already there with the right checksum are reused (a corrupt copy is deleted and
    fetched again). Offline, all missing files are reported in one :class:`OfflineError`.
    """
    raw_dir = Path(raw_dir)
    paths = {f.filename: raw_dir / f.filename for f in files}
    missing = [f for f in files if not _verified(paths[f.filename], f)]
    if missing and is_offline():
        raise OfflineError(offline_message(missing, raw_dir, what))
    for f in missing:
        download(f.url, paths[f.filename], sha256=f.sha256, progress=progress, **download_kwargs)
    return paths
