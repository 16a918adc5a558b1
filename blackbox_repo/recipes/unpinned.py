"""Recipes whose raw files have no published checksum: trust on first download, then pin.

The framework's :class:`~blackbox_repo.download.RawFile` needs a sha256. For the classic
per-epoch benchmarks no source publishes one (Syne Tune's old ``SHA256_HASH`` constants hashed
its *converted* tables, not the raw archives), and they cannot be downloaded here to compute
one. :class:`UnpinnedRecipe` therefore accepts ``RawFile(..., sha256=UNPINNED)`` for such
files: the first download is accepted as is, its sha256 is written beside it
(``<file>.sha256``) and recorded in every converted task's metadata (``raw_files``); every
later use verifies the local copy against that record, and a mismatch is an error. Files with
a real sha256 are handled exactly as by :class:`Recipe`.

Example:
    >>> from blackbox_repo.download import RawFile
    >>> r = UnpinnedRecipe(name="doc-unpinned", description="", license="MIT", source="s",
    ...                    tasks=(), objectives=("y",), metric="y", converter=lambda raw: {},
    ...                    files=(RawFile("a.bin", "https://example.org/a.bin", UNPINNED),))
    >>> [f.filename for f in r.unpinned_files()]
    ['a.bin']
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from blackbox_repo.download import (ChecksumError, OfflineError, RawFile, download, fetch_files,
                                    is_offline, offline_message, sha256_file)
from blackbox_repo.recipes.base import Recipe

__all__ = ["UNPINNED", "UnpinnedRecipe", "recorded_sha256"]

UNPINNED = "unpinned"   # the sha256 of a RawFile whose checksum is not published


def _record_path(raw_dir: Path, f: RawFile) -> Path:
    return raw_dir / f"{f.filename}.sha256"


def recorded_sha256(raw_dir: str | Path, f: RawFile) -> str | None:
    """The sha256 recorded at the first download of ``f`` into ``raw_dir``, or None."""
    try:
        text = _record_path(Path(raw_dir), f).read_text(encoding="utf-8").split()
    except OSError:
        return None
    return text[0] if text and len(text[0]) == 64 else None


@dataclass(frozen=True)
class UnpinnedRecipe(Recipe):
    """A :class:`Recipe` whose files may carry ``sha256=UNPINNED`` (trust on first download).

    Example:
        >>> UnpinnedRecipe(name="x", description="", license="MIT", source="s", tasks=(),
        ...                objectives=("y",), metric="y", converter=lambda raw: {}).unpinned_files()
        []
    """

    def unpinned_files(self) -> list[RawFile]:
        return [f for f in self.files if f.sha256 == UNPINNED]

    def fetch_raw(self, progress: bool | None = None) -> Path:
        raw = self.raw_dir()
        pinned = [f for f in self.files if f.sha256 != UNPINNED]
        unpinned = self.unpinned_files()
        missing = []
        for f in unpinned:
            path = raw / f.filename
            known = recorded_sha256(raw, f)
            if path.is_file() and known is not None:
                got = sha256_file(path)
                if got != known:
                    raise ChecksumError(
                        f"{path} has sha256 {got}, but {known} was recorded when it was first "
                        f"downloaded from {f.url}; delete {path} and {_record_path(raw, f)} to "
                        f"download it again")
            elif path.is_file():
                _record_path(raw, f).write_text(f"{sha256_file(path)}  {f.filename}\n", encoding="utf-8")
            else:
                missing.append(f)
        if missing and is_offline():
            absent = [f for f in pinned if not (raw / f.filename).is_file()] + missing
            raise OfflineError(offline_message(absent, raw, f"blackbox {self.name!r}") +
                               "\n(files marked 'sha256 unpinned' have no published checksum: the "
                               "first copy is trusted and its sha256 recorded)")
        for f in missing:
            download(f.url, raw / f.filename, sha256=None, progress=progress)
            _record_path(raw, f).write_text(f"{sha256_file(raw / f.filename)}  {f.filename}\n",
                                            encoding="utf-8")
        if pinned:
            fetch_files(pinned, raw, progress=progress, what=f"blackbox {self.name!r}")
        return raw

    def raw_checksums(self) -> dict[str, str]:
        out = {}
        for f in self.files:
            sha = f.sha256
            if sha == UNPINNED:
                sha = recorded_sha256(self.raw_dir(), f) or UNPINNED
                sha = f"{sha} (recorded at first download; no published checksum)"
            out[f.filename] = sha
        return out
