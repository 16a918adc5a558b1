"""A small recipe for framework tests: one CSV raw file, two tasks, a conversion counter."""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import Recipe


def toy_csv() -> bytes:
    rows = []
    for task in ("alpha", "beta"):
        for x in (1, 2, 3, 4, 5):
            for epoch in (1, 2, 3):
                loss = (x - 3) ** 2 / epoch + (0.5 if task == "beta" else 0.0)
                rows.append((task, x, epoch, loss, 10.0 * epoch))
    df = pd.DataFrame(rows, columns=["task", "x", "epoch", "loss", "time"])
    return df.to_csv(index=False).encode()


def make_toy_recipe(url: str, data: bytes, *, name: str = "toy-recipe", counter: Path | None = None,
                    tasks: tuple[str, ...] = ("alpha", "beta")) -> Recipe:
    def convert(raw_dir: Path):
        if counter is not None:
            with open(counter, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        df = pd.read_csv(io.BytesIO((raw_dir / "toy.csv").read_bytes()))
        for task, g in df.groupby("task", sort=True):
            g = g.sort_values(["x", "epoch"])
            xs = sorted(g["x"].unique())
            objs = g[["loss", "time"]].to_numpy(np.float32).reshape(len(xs), 1, 3, 2)
            yield task, TabularBlackbox(pd.DataFrame({"x": xs}), objs, fidelity_values=[1, 2, 3],
                                        objectives_names=["loss", "time"], metric_elapsed_time="time")

    return Recipe(name=name, description="toy recipe for tests", license="CC0", source=url, tasks=tasks,
                  objectives=("loss", "time"), metric="loss", metric_elapsed_time="time",
                  converter=convert, files=(RawFile("toy.csv", url, hashlib.sha256(data).hexdigest()),))
