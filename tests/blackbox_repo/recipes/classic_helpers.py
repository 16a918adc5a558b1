"""Helpers for the classic per-epoch recipe tests: serve raw blobs, run a short simulation."""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from blackbox_repo.recipes.base import Recipe


def serve(recipe: Recipe, server, blobs: dict[str, bytes], pin: bool = True) -> Recipe:
    """The recipe fetching each raw file from the loopback server (pinned to the blob's sha256)."""
    files = tuple(dataclasses.replace(
        f, url=server.add(f"raw/{recipe.name}/{f.filename}", blobs[f.filename]),
        sha256=hashlib.sha256(blobs[f.filename]).hexdigest() if pin else f.sha256)
        for f in recipe.files)
    return dataclasses.replace(recipe, files=files)


def simulate_briefly(bb, **kwargs):
    """RandomSearch on ``bb`` for 4 trials (fewer on smaller tables) with 2 workers; checks the basics and returns the result."""
    from simulator import Stop, make_scheduler, simulate
    n = min(4, bb.n_configs)
    res = simulate(bb, make_scheduler("RandomSearch", bb, seed=0), n_workers=2, stop=Stop(max_trials=n),
                   seed=0, **kwargs)
    assert res.metadata["n_trials"] == n and len(res.results) >= n
    assert np.isfinite(res.results["time"]).all() and (res.results["time"] > 0).all()
    return res
