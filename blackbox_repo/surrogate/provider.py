"""Surrogates in the repository: ``SurrogateProvider``, the cache provider that loads a
cached task folder holding a ``surrogate.json`` as a ``SurrogateBlackbox``; registered in
place of the plain ``CacheProvider`` when this module is imported (``repository._PLUGINS``
imports ``blackbox_repo.surrogate`` at the repository's first lookup).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from blackbox_repo.blackbox import Blackbox, BlackboxError
from blackbox_repo.repository import BlackboxRecord, CacheProvider, register_provider
from blackbox_repo.storage import CorruptBlackboxError, read_metadata
from blackbox_repo.surrogate.blackbox import load_surrogate
from blackbox_repo.surrogate.persistence import SURROGATE_JSON, SURROGATE_MODEL, verify_surrogate

__all__ = ["SurrogateProvider"]


class SurrogateProvider(CacheProvider):
    """The cache provider, surrogate-aware: a cached task folder holding a
    ``surrogate.json`` loads as a ``SurrogateBlackbox``, any other as a table. It replaces
    the plain ``CacheProvider`` (same kind, same place in the lookup order).

    Example:
        >>> SurrogateProvider().kind
        'cached'
    """

    def load(self, name: str, task: str) -> Blackbox:
        folder = self.folder(name, task)
        if (folder / SURROGATE_JSON).is_file():
            return load_surrogate(folder)
        if (folder / SURROGATE_MODEL).is_file():
            # the model without its record would silently load as the plain table
            raise CorruptBlackboxError(folder / SURROGATE_JSON, f"{folder / SURROGATE_JSON} is missing beside "
                                       f"{SURROGATE_MODEL}: the surrogate cannot be checked or loaded; refit it "
                                       f"with `hposim blackbox surrogate ... --name {name} --force`")
        return super().load(name, task)

    def verify(self, folder: Path, cache_dir: str | os.PathLike | None = None) -> list[str]:
        """``CacheProvider.verify``; a surrogate saved before its files were listed in
        ``metadata.json`` is checked by ``verify_surrogate`` as well."""
        problems = super().verify(folder, cache_dir)
        present = [f for f in (SURROGATE_JSON, SURROGATE_MODEL) if (folder / f).exists()]
        if not present:
            return problems
        try:
            listed = read_metadata(folder).get("files") or {}
        except (BlackboxError, CorruptBlackboxError):
            return problems                      # reported by verify_folder
        if all(f in listed for f in present):
            return problems                      # re-hashed by verify_folder
        if SURROGATE_JSON not in present:
            problems.append(f"{folder / SURROGATE_JSON} is missing: the surrogate model cannot be checked "
                            f"and the folder would load as a plain table")
        else:
            problems += verify_surrogate(folder)
        return problems

    def record(self, name: str) -> BlackboxRecord:
        rec = super().record(name)
        models = []
        for t in rec.tasks:
            path = self.root() / name / t / SURROGATE_JSON
            if path.is_file():
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                    models.append(f"{doc.get('model')} surrogate of {doc.get('surrogate_of') or '?'}")
                except (OSError, ValueError):
                    models.append("surrogate (unreadable surrogate.json)")
        if models and not rec.description:
            rec.description = "; ".join(dict.fromkeys(models))
        return rec


def _register() -> None:
    register_provider(SurrogateProvider())


_register()
