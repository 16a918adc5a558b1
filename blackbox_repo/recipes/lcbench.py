"""LCBench (Zimmer, Lindauer & Hutter 2021): 2,000 Auto-PyTorch MLP configurations on each of 35
OpenML datasets, one learning curve of 52 logged evaluations each.

Raw data: ``data_2k_lw.zip`` from figshare (file 21188598, the "lightweight" release Syne Tune's
``lcbench.py`` downloads; doi 10.6084/m9.figshare.11662422), one JSON member ``data_2k_lw.json``:
``{dataset_name: {"<config_id>": {"config": {...}, "log": {"time": [52], "epoch": [52],
"Train/val_accuracy": [52], ...}, "results": {"final_*": ..., "OpenML_task_id": ...}}}}``
(the layout LCBench's ``api.Benchmark.query`` reads).

Conversion: the 7 sampled hyperparameters (``num_layers`` kept as the strings "True", "2",
"3", "4" because the raw data stores a boolean for one value, exactly as Syne Tune does); all
52 logged evaluations become fidelities 1..52 (as YAHPO Gym's lcbench; Syne Tune drops the first
and the last and keeps 50); objectives ``val_accuracy`` (default, **max**, percent),
``val_balanced_accuracy``, ``val_cross_entropy``, ``test_accuracy`` (``Train/test_result``),
``test_balanced_accuracy``, ``test_cross_entropy`` and ``time`` (cumulative seconds as
logged). The JSON member is extracted and parsed one dataset at a time from a memory map.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> len(RECIPES["lcbench"].tasks), RECIPES["lcbench"].mode
    (35, 'max')
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, lograndint, loguniform, uniform
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.json_scan import iter_members, mapped_zip_member
from blackbox_repo.recipes.registry import register
from blackbox_repo.recipes.unpinned import UNPINNED, UnpinnedRecipe

__all__ = ["LCBENCH", "TASKS", "SPACE", "OBJECTIVES", "N_FIDELITIES"]

ARCHIVE = "data_2k_lw.zip"
MEMBER = "data_2k_lw.json"
URL = "https://figshare.com/ndownloader/files/21188598"
N_FIDELITIES = 52
TASKS = ("APSFailure", "Amazon_employee_access", "Australian", "Fashion-MNIST", "KDDCup09_appetency",
         "MiniBooNE", "adult", "airlines", "albert", "bank-marketing", "blood-transfusion-service-center",
         "car", "christine", "cnae-9", "connect-4", "covertype", "credit-g", "dionis", "fabert", "helena",
         "higgs", "jannis", "jasmine", "jungle_chess_2pcs_raw_endgame_complete", "kc1", "kr-vs-kp",
         "mfeat-factors", "nomao", "numerai28.6", "phoneme", "segment", "shuttle", "sylvine", "vehicle",
         "volkert")
SPACE = ConfigurationSpace({
    "num_layers": choice(["True", "2", "3", "4"]),
    "max_units": lograndint(64, 1024),
    "batch_size": lograndint(16, 512),
    "learning_rate": loguniform(1e-4, 1e-1),
    "weight_decay": uniform(1e-5, 1e-1),
    "momentum": uniform(0.1, 0.99),
    "max_dropout": uniform(0.0, 1.0),
})
TAGS = {"val_accuracy": "Train/val_accuracy", "val_balanced_accuracy": "Train/val_balanced_accuracy",
        "val_cross_entropy": "Train/val_cross_entropy", "test_accuracy": "Train/test_result",
        "test_balanced_accuracy": "Train/test_balanced_accuracy",
        "test_cross_entropy": "Train/test_cross_entropy", "time": "time"}
OBJECTIVES = tuple(TAGS)


def _num_layers(v) -> str:
    return "True" if v is True else str(v)


def convert_dataset(name: str, runs: dict) -> TabularBlackbox:
    """One dataset's ``{config_id: {"config", "log", "results"}}`` as a TabularBlackbox."""
    ids = sorted(runs, key=int)
    objs = np.full((len(ids), 1, N_FIDELITIES, len(OBJECTIVES)), np.nan, np.float32)
    rows = []
    for i, cid in enumerate(ids):
        run = runs[cid]
        cfg = run["config"]
        try:
            rows.append({h: _num_layers(cfg[h]) if h == "num_layers" else cfg[h] for h in SPACE})
        except KeyError as e:
            raise RecipeError(f"lcbench {name!r} config {cid} lacks hyperparameter {e}; it has "
                              f"{sorted(cfg)}") from None
        log = run["log"]
        for j, tag in enumerate(TAGS.values()):
            curve = log.get(tag)
            if curve is None:
                raise RecipeError(f"lcbench {name!r} config {cid} has no log tag {tag!r}; tags: {sorted(log)}")
            if len(curve) > N_FIDELITIES:
                raise RecipeError(f"lcbench {name!r} config {cid}: {tag!r} has {len(curve)} entries, "
                                  f"at most {N_FIDELITIES} expected")
            objs[i, 0, :len(curve), j] = np.asarray(curve, dtype=np.float64)
    hp = pd.DataFrame(rows, columns=list(SPACE))
    first = runs[ids[0]].get("results", {})
    meta = {k: first[k] for k in ("OpenML_task_id", "instances", "classes", "features") if k in first}
    return TabularBlackbox(hp, objs, fidelity_values=list(range(1, N_FIDELITIES + 1)),
                           objectives_names=list(OBJECTIVES), configuration_space=SPACE, fidelity_name="epoch",
                           metric_elapsed_time="time", metric="val_accuracy", mode="max",
                           metadata={**meta, "fidelity": "k-th logged evaluation (the first is logged "
                                                         "before training, as in YAHPO Gym's lcbench)"})


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    path = raw_dir / ARCHIVE
    with mapped_zip_member(path, MEMBER, raw_dir / "extracted") as buf:
        for (name,), value in iter_members(buf, depth=1, what=f"{path}:{MEMBER}"):
            yield name, convert_dataset(name, json.loads(value))


LCBENCH = UnpinnedRecipe(
    name="lcbench",
    description="LCBench: 2,000 MLP configurations x 52 logged epochs on 35 OpenML datasets",
    license="Apache-2.0 (figshare data release)",
    source=f"{URL} (data_2k_lw.zip, doi 10.6084/m9.figshare.11662422); Zimmer, Lindauer & Hutter, "
           "Auto-PyTorch Tabular, TPAMI 2021",
    tasks=TASKS, objectives=OBJECTIVES, metric="val_accuracy", mode="max", metric_elapsed_time="time",
    fidelity_name="epoch", converter=convert, files=(RawFile(ARCHIVE, URL, UNPINNED),),
)


register(LCBENCH)
