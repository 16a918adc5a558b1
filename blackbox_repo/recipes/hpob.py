"""HPO-B (Pineda-Arango et al., NeurIPS 2021 Datasets and Benchmarks): OpenML evaluations of ML
pipelines, one search space per algorithm and one table per (search space, dataset).

Raw data: ``hpob-data.zip`` (the URL Syne Tune's ``hpob_import.py`` downloads) with
``hpob-data/meta-{train,validation,test}-dataset.json``, each
``{"<search space id>": {"<dataset id>": {"X": [[x_1..x_d], ...], "y": [[acc], ...]}}}``;
``X`` is already scaled to [0, 1] with categorical values one-hot encoded.

Conversion: the 16 search spaces of the HPO-B-v3 benchmark (those Syne Tune imports); one task
per (search space, dataset) named ``<space>-<dataset>``, the three splits merged (the split
is in the task's metadata); hyperparameters ``x0..x{d-1}`` (declared ``uniform(0, 1)``; only
the table's rows can be evaluated); one objective ``accuracy`` (**max**), one fidelity level,
one seed. HPO-B records no runtime, so there is no elapsed-time objective (simulate with
``time_per_fidelity=``; Syne Tune fills a constant 1). The multi-GB JSON files are read one
dataset at a time from a memory map.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["hpob"].mode, RECIPES["hpob"].metric_elapsed_time is None
    ('max', True)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, uniform
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.json_scan import iter_members, mapped_zip_member
from blackbox_repo.recipes.registry import register
from blackbox_repo.recipes.unpinned import UNPINNED, UnpinnedRecipe

__all__ = ["HPOB", "SEARCH_SPACES", "SPLITS"]

ARCHIVE = "hpob-data.zip"
URL = "https://rewind.tf.uni-freiburg.de/index.php/s/xdrJQPCTNi2zbfL/download/hpob-data.zip"
SPLITS = ("train", "validation", "test")
SEARCH_SPACES = ("4796", "5527", "5636", "5859", "5860", "5889", "5891", "5906", "5965", "5970", "5971",
                 "6766", "6767", "6794", "7607", "7609")


def _arrays(space: str, dataset: str, split: str, doc: dict) -> tuple[str, np.ndarray, np.ndarray]:
    x = np.asarray(doc["X"], dtype=np.float64)
    y = np.asarray(doc["y"], dtype=np.float64).reshape(-1)
    if x.ndim != 2 or len(x) != len(y):
        raise RecipeError(f"hpob {space}/{dataset} ({split}): X has shape {x.shape}, y has {len(y)} "
                          f"values; expected X (n, d) and y (n, 1)")
    return split, x, y


def _table(space: str, dataset: str, parts: list[tuple[str, np.ndarray, np.ndarray]]) -> TabularBlackbox:
    splits = [p[0] for p in parts]
    x = np.concatenate([p[1] for p in parts])
    ys = [p[2] for p in parts]
    names = [f"x{i}" for i in range(x.shape[1])]
    space_ = ConfigurationSpace({n: uniform(0.0, 1.0) for n in names})
    objs = np.concatenate(ys).astype(np.float32).reshape(-1, 1, 1, 1)
    return TabularBlackbox(pd.DataFrame(x, columns=names), objs, fidelity_values=[1],
                           objectives_names=["accuracy"], configuration_space=space_, fidelity_name="final",
                           metric_elapsed_time=None, metric="accuracy", mode="max",
                           metadata={"search_space": space, "dataset": dataset, "splits": splits})


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    path = raw_dir / ARCHIVE
    found: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for split in SPLITS:
        member = f"meta-{split}-dataset.json"
        with mapped_zip_member(path, member, raw_dir / "extracted") as buf:
            for (space, dataset), value in iter_members(buf, depth=2, what=f"{path}:{member}"):
                if space in SEARCH_SPACES:
                    found.setdefault((space, dataset), []).append(
                        _arrays(space, dataset, split, json.loads(value)))
    if not found:
        raise RecipeError(f"{path} holds none of the HPO-B-v3 search spaces {SEARCH_SPACES}")
    for (space, dataset) in sorted(found, key=lambda k: (int(k[0]), int(k[1]) if k[1].isdigit() else k[1])):
        yield f"{space}-{dataset}", _table(space, dataset, found.pop((space, dataset)))


HPOB = UnpinnedRecipe(
    name="hpob",
    description="HPO-B-v3: accuracies of 16 OpenML pipeline search spaces on their datasets "
                "(meta-train/validation/test merged), single fidelity",
    license="MIT (HPO-B)",
    source=f"{URL}; Pineda-Arango, Jomaa, Wistuba & Grabocka, HPO-B, NeurIPS 2021 Datasets and Benchmarks",
    tasks=(), objectives=("accuracy",), metric="accuracy", mode="max", metric_elapsed_time=None,
    fidelity_name="final", converter=convert, files=(RawFile(ARCHIVE, URL, UNPINNED),),
    notes="tasks are <search space id>-<dataset id>; no runtime recorded (use time_per_fidelity)",
)


register(HPOB)
