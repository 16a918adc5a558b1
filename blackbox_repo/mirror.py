"""A remote copy of converted blackboxes on any fsspec URL (``s3://bucket/prefix``, a folder, ...).

Layout on the mirror, the same as the local cache minus the derived files::

    <url>/<name>/recipe.json                 written last: its presence means "complete"
    <url>/<name>/<task>/metadata.json
    <url>/<name>/<task>/hyperparameters.parquet, objectives.parquet

``Mirror.download`` copies a family into a local folder and checks every file against the
sha256 recorded in its ``metadata.json`` (and the storage layer's consistency checks);
``Mirror.upload`` copies a converted family up. The URL comes from the explicit argument
or ``$HPOSIM_MIRROR``; S3 needs the ``s3`` extra (s3fs).

Example:
    >>> import tempfile
    >>> m = open_mirror("file://" + tempfile.mkdtemp())
    >>> m.has("nasbench201")
    False
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import fsspec

from blackbox_repo.download import sha256_file
from blackbox_repo.errors import StorageError
from blackbox_repo.storage import verify_folder

__all__ = ["Mirror", "MirrorError", "mirror_url", "open_mirror", "MIRROR_ENV"]

MIRROR_ENV = "HPOSIM_MIRROR"
_MARKER = "recipe.json"
_METADATA = "metadata.json"


class MirrorError(StorageError):
    """The mirror could not be read or written, or its copy failed verification (a
    ``StorageError``: exit status 4)."""


def mirror_url(explicit: str | None = None) -> str | None:
    """The mirror to use: ``explicit`` if given, else ``$HPOSIM_MIRROR``, else None."""
    url = explicit if explicit else os.environ.get(MIRROR_ENV, "").strip()
    return url or None


def open_mirror(url: str | None = None) -> "Mirror | None":
    """A :class:`Mirror` for ``url`` (or ``$HPOSIM_MIRROR``); None when no mirror is set."""
    url = mirror_url(url)
    return Mirror(url) if url else None


class Mirror:
    """One mirror URL and its fsspec filesystem.

    Example:
        >>> import tempfile
        >>> Mirror(tempfile.mkdtemp()).url.startswith("/")
        True
    """

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url)
        except ImportError as e:
            raise MirrorError(f"mirror {url!r} needs a filesystem driver that is not installed ({e}); "
                              f"for s3:// URLs: pip install 'hposim[s3]'") from e
        except ValueError as e:
            raise MirrorError(f"mirror URL {url!r} is not valid: {e}") from e
        self.root = self.root.rstrip("/")

    def __repr__(self) -> str:
        return f"Mirror({self.url!r})"

    def is_local(self) -> bool:
        """Whether the mirror is a folder on this machine (usable with ``HPOSIM_OFFLINE``)."""
        protocol = self.fs.protocol
        protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        return any(p in ("file", "local") for p in protocols)

    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def _fail(self, action: str, e: Exception) -> MirrorError:
        return MirrorError(f"mirror {self.url}: {action} failed: {type(e).__name__}: {e}")

    def has(self, name: str) -> bool:
        """Whether the mirror holds a complete copy of blackbox ``name``."""
        try:
            return bool(self.fs.exists(self._path(name, _MARKER)))
        except Exception as e:          # noqa: BLE001 - any driver error means "cannot tell"
            raise self._fail(f"checking {name!r}", e) from e

    def marker(self, name: str) -> dict:
        try:
            with self.fs.open(self._path(name, _MARKER), "rb") as fh:
                doc = json.loads(fh.read().decode("utf-8"))
        except Exception as e:          # noqa: BLE001
            raise self._fail(f"reading {name}/{_MARKER}", e) from e
        if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
            raise MirrorError(f"mirror {self.url}: {name}/{_MARKER} does not list tasks")
        return doc

    def download(self, name: str, dest: str | os.PathLike) -> list[str]:
        """Copy family ``name`` into ``dest`` (``dest/<task>/...`` and ``dest/recipe.json``),
        verifying every file; returns the task names."""
        dest = Path(dest)
        doc = self.marker(name)
        tasks = [str(t) for t in doc["tasks"]]
        for task in tasks:
            local = dest / task
            local.mkdir(parents=True, exist_ok=True)
            remote_meta = self._path(name, task, _METADATA)
            try:
                self.fs.get_file(remote_meta, str(local / _METADATA))
                meta = json.loads((local / _METADATA).read_text(encoding="utf-8"))
                files = meta.get("files") or {}
                for fname in files:
                    self.fs.get_file(self._path(name, task, fname), str(local / fname))
            except Exception as e:      # noqa: BLE001
                raise self._fail(f"downloading {name}/{task}", e) from e
            for fname, entry in files.items():
                got = sha256_file(local / fname)
                if got != entry.get("sha256"):
                    raise MirrorError(f"mirror {self.url}: {name}/{task}/{fname} has sha256 {got}, "
                                      f"expected {entry.get('sha256')}; the mirror copy is corrupt "
                                      f"(re-upload it, or get with --force and no mirror)")
            # the derived cache is not copied (its problems start with "cache: "); a path that
            # merely contains "cache" (the default home is ~/.cache/hposim) is no reason to skip
            problems = [p for p in verify_folder(local) if not p.startswith("cache: ")]
            if problems:
                raise MirrorError(f"mirror {self.url}: {name}/{task} failed verification: "
                                  + "; ".join(problems))
        doc = dict(doc, origin=f"mirror {self.url}")
        (dest / _MARKER).write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
        return tasks

    def upload(self, name: str, folder: str | os.PathLike) -> list[str]:
        """Copy the local family ``folder`` (``<task>/`` sub-folders and ``recipe.json``)
        to the mirror; the marker goes last. Returns the task names."""
        folder = Path(folder)
        marker_path = folder / _MARKER
        if marker_path.is_file():
            doc = json.loads(marker_path.read_text(encoding="utf-8"))
            tasks = [str(t) for t in doc["tasks"]]
        else:
            tasks = sorted(p.name for p in folder.iterdir() if (p / _METADATA).is_file())
            doc = {"recipe": name, "tasks": tasks}
        try:
            for task in tasks:
                meta = json.loads((folder / task / _METADATA).read_text(encoding="utf-8"))
                self.fs.makedirs(self._path(name, task), exist_ok=True)
                for fname in list(meta.get("files") or {}) + [_METADATA]:
                    self.fs.put_file(str(folder / task / fname), self._path(name, task, fname))
            with self.fs.open(self._path(name, _MARKER), "wb") as fh:
                fh.write(json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))
        except Exception as e:          # noqa: BLE001
            raise self._fail(f"uploading {name}", e) from e
        return tasks
