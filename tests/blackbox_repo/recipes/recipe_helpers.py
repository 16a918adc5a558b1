"""Helpers for recipe tests: point a recipe at a loopback server, build distribution
archives, run a short simulation."""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import PackageData, Recipe

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve_files(recipe: Recipe, server, blobs: dict[str, bytes]) -> Recipe:
    """The recipe with each raw file's URL and sha256 pointing at ``blobs`` on the server."""
    files = tuple(dataclasses.replace(f, url=server.add(f"files/{recipe.name}/{f.filename}", blobs[f.filename]),
                                      sha256=sha(blobs[f.filename]), size=len(blobs[f.filename]))
                  for f in recipe.files)
    return dataclasses.replace(recipe, files=files)


def sdist_bytes(prefix: str, members: dict[str, bytes]) -> bytes:
    """A .tar.gz shaped like a setuptools sdist: every member under ``prefix``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel, data in {"PKG-INFO": b"Metadata-Version: 2.1\n", **members}.items():
            info = tarfile.TarInfo(prefix + rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def wheel_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in members.items():
            zf.writestr(rel, data)
    return buf.getvalue()


def serve_package(recipe: Recipe, server, members: dict[str, bytes]) -> Recipe:
    """The recipe reading ``members`` from a distribution archive served on the loopback server.

    The distribution name is changed to one that is not installed, so the recipe takes its
    'download the distribution archive' path (the installed-package path is covered by the
    real-data tests).
    """
    pkg = recipe.package
    assert pkg is not None and pkg.archive is not None
    if pkg.archive.filename.endswith(".tar.gz"):
        blob = sdist_bytes(pkg.archive_prefix, members)
    else:
        blob = wheel_bytes(members)
    url = server.add(f"pypi/{pkg.archive.filename}", blob)
    new_pkg = PackageData(distribution=f"{pkg.distribution}-not-installed-in-tests", version=pkg.version,
                          extra=pkg.extra, files={rel: sha(data) for rel, data in members.items()},
                          archive=RawFile(pkg.archive.filename, url, sha(blob), len(blob)),
                          archive_prefix=pkg.archive_prefix)
    return dataclasses.replace(recipe, package=new_pkg)


def installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def short_simulation(bb, **kwargs):
    """RandomSearch for a few trials on ``bb``; returns the SimulationResult."""
    from simulator import Stop, make_scheduler, simulate
    sched = make_scheduler("RandomSearch", bb, seed=0)
    res = simulate(bb, sched, n_workers=2, stop=Stop(max_trials=6), seed=0, **kwargs)
    assert res.metadata["n_trials"] >= 1
    assert len(res.results) >= 1
    assert np.isfinite(res.results["time"]).all()
    return res
