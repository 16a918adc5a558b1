"""Offline evaluations of the ICML 2020 quantile-based transfer-learning paper: ``icml-deepar``
and ``icml-xgboost``.

Source: ``src/blackbox/offline_evaluations/{DeepAR,XGBoost}.csv.zip`` of the repository
geoalgo/A-Quantile-based-Approach-for-Hyperparameter-Transfer-Learning (Apache-2.0), pinned
to commit 31cdb2ff. Each zip holds a single CSV member (named ``<X>.csv.zip`` upstream) with
hyperparameter columns ``hp_*`` (some stored as ln or log2), objective columns ``metric_*``,
and ``blackbox, task``. Conversion: one task per ``task`` value; log-stored hyperparameters
are mapped back to their natural scale (as Syne Tune's icml2020 import does); one seed and a
single fidelity level (these are final values of random-search designs).

- DeepAR (11 GluonTS datasets, ~210-250 configurations each): objectives ``metric_CRPS``
  (default, min), ``metric_train_loss``, ``metric_throughput``, ``metric_RMSE``,
  ``metric_time`` (training seconds: the elapsed-time objective).
- XGBoost (10 libsvm datasets, 5,000 configurations each): ``metric_error`` (min). No runtime
  was recorded: ``metric_elapsed_time`` is None (simulate with ``time_per_fidelity=``).

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["icml-xgboost"].metric_elapsed_time is None
    True
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, loguniform, lograndint, randint, uniform
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import Recipe, RecipeError
from blackbox_repo.recipes.registry import register

__all__ = ["ICML_DEEPAR", "ICML_XGBOOST", "read_zipped_csv", "BASE_URL"]

REPOSITORY = "geoalgo/A-Quantile-based-Approach-for-Hyperparameter-Transfer-Learning"
COMMIT = "31cdb2ff29576201c365e77cb1d04d94f83bfe1a"
BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/src/blackbox/offline_evaluations/"
PAPER = ("Salinas, Shen & Perrone, A Quantile-based Approach for Hyperparameter Transfer Learning, "
         "ICML 2020")

DEEPAR_ZIP = RawFile("DeepAR.csv.zip", BASE_URL + "DeepAR.csv.zip",
                     "70869c97d28733d7eef2f7dac11a8a846d3e792038acc72017f61fbfb8de0a83", 184888)
XGBOOST_ZIP = RawFile("XGBoost.csv.zip", BASE_URL + "XGBoost.csv.zip",
                      "07bc5e4087cb408ac154871c1b64caf3f1c163ba9b05c0c703db78a0ec815349", 3580783)

DEEPAR_TASKS = ("electricity", "exchange-rate", "m4-Daily", "m4-Hourly", "m4-Monthly", "m4-Quarterly",
                "m4-Weekly", "m4-Yearly", "solar", "traffic", "wiki-rolling")
XGBOOST_TASKS = ("a6a", "australian", "german.numer", "heart", "ijcnn1", "madelon", "skin_nonskin",
                 "spambase", "svmguide1", "w6a")

DEEPAR_SPACE = ConfigurationSpace({
    "hp_num_layers": randint(2, 4),
    "hp_num_cells": randint(30, 120),
    "hp_dropout_rate": loguniform(0.01, 0.51),
    "hp_learning_rate": loguniform(1e-4, 1e-1),
    "hp_num_batches_per_epoch": lograndint(10, 10000),
    "hp_context_length_ratio": loguniform(0.05, 4.0),
})
XGBOOST_SPACE = ConfigurationSpace({
    "hp_min_child_weight": loguniform(2.0 ** -8, 2.0 ** 6),
    "hp_subsample": uniform(0.5, 1.0),
    "hp_colsample_bytree": uniform(0.3, 1.0),
    "hp_gamma": loguniform(2.0 ** -20, 2.0 ** 6),
    "hp_lambda": loguniform(2.0 ** -10, 2.0 ** 8),
    "hp_eta": uniform(0.0, 1.0),
    "hp_max_depth_index": randint(0, 12),
    "hp_alpha": loguniform(2.0 ** -20, 2.0 ** 8),
})
DEEPAR_OBJECTIVES = ("metric_CRPS", "metric_train_loss", "metric_throughput", "metric_RMSE", "metric_time")


def read_zipped_csv(path: Path) -> pd.DataFrame:
    """The single CSV member of an upstream ``.csv.zip``."""
    with zipfile.ZipFile(path) as zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) != 1:
            raise RecipeError(f"{path} should hold exactly one CSV member, it holds "
                              f"{[m.filename for m in members]}")
        with zf.open(members[0]) as fh:
            return pd.read_csv(io.BytesIO(fh.read()))


def _check_columns(df: pd.DataFrame, needed: list[str], path: Path) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise RecipeError(f"{path} lacks columns {missing}; it has {list(df.columns)}")


def _tables(df: pd.DataFrame, space: ConfigurationSpace, objectives: list[str], *, metric: str,
            elapsed: str | None, keep: list[str]) -> Iterator[tuple[str, TabularBlackbox]]:
    for task, g in df.groupby("task", sort=True):
        g = g.reset_index(drop=True)
        hp = g[list(space)].copy()
        objs = g[objectives].to_numpy(dtype=np.float64).astype(np.float32)
        objs = objs.reshape(len(g), 1, 1, len(objectives))
        bb = TabularBlackbox(hp, objs, fidelity_values=[1], objectives_names=objectives,
                             configuration_space=space, fidelity_name="final",
                             metric_elapsed_time=elapsed, metric=metric, mode="min")
        for col in keep:
            bb.metadata[col] = g[col].iloc[0].item() if hasattr(g[col].iloc[0], "item") else g[col].iloc[0]
        yield str(task), bb


def convert_deepar(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    path = raw_dir / DEEPAR_ZIP.filename
    df = read_zipped_csv(path)
    logs = ["hp_num_layers", "hp_num_cells", "hp_dropout_rate_log", "hp_learning_rate_log",
            "hp_num_batches_per_epoch_log", "hp_context_length_ratio_log"]
    _check_columns(df, logs + list(DEEPAR_OBJECTIVES) + ["task", "dataset_time_freq",
                                                         "dataset_prediction_length"], path)
    out = pd.DataFrame({"task": df["task"]})
    for col in logs:                      # every one of these is stored as ln(value)
        out[col.removesuffix("_log")] = np.exp(df[col].to_numpy(dtype=np.float64))
    for col in ("hp_num_layers", "hp_num_cells", "hp_num_batches_per_epoch"):
        out[col] = np.rint(out[col]).astype(np.int64)
    for col in list(DEEPAR_OBJECTIVES) + ["dataset_time_freq", "dataset_prediction_length"]:
        out[col] = df[col]
    yield from _tables(out, DEEPAR_SPACE, list(DEEPAR_OBJECTIVES), metric="metric_CRPS",
                       elapsed="metric_time", keep=["dataset_time_freq", "dataset_prediction_length"])


def convert_xgboost(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    path = raw_dir / XGBOOST_ZIP.filename
    df = read_zipped_csv(path)
    log2 = ["hp_log2_min_child_weight", "hp_log2_gamma", "hp_log2_lambda", "hp_log2_alpha"]
    plain = ["hp_subsample", "hp_colsample_bytree", "hp_eta", "hp_max_depth_index"]
    _check_columns(df, log2 + plain + ["metric_error", "task"], path)
    out = pd.DataFrame({"task": df["task"]})
    for col in log2:
        out[col.replace("_log2", "")] = np.exp2(df[col].to_numpy(dtype=np.float64))
    for col in plain:
        out[col] = df[col]
    out["hp_max_depth_index"] = out["hp_max_depth_index"].astype(np.int64)
    out["metric_error"] = df["metric_error"]
    yield from _tables(out, XGBOOST_SPACE, ["metric_error"], metric="metric_error", elapsed=None, keep=[])


ICML_DEEPAR = Recipe(
    name="icml-deepar",
    description="DeepAR (GluonTS) forecasting: random-search evaluations on 11 time-series datasets "
                "(CRPS, RMSE, training time)",
    license="Apache-2.0", source=f"https://github.com/{REPOSITORY} @ {COMMIT[:8]}; {PAPER}",
    tasks=DEEPAR_TASKS, objectives=DEEPAR_OBJECTIVES, metric="metric_CRPS", mode="min",
    metric_elapsed_time="metric_time", fidelity_name="final", converter=convert_deepar,
    files=(DEEPAR_ZIP,),
    notes="hp_* columns stored as ln(value) upstream are converted back; one seed, final values only.",
)

ICML_XGBOOST = Recipe(
    name="icml-xgboost",
    description="XGBoost classification error: 5,000 random configurations on each of 10 libsvm datasets",
    license="Apache-2.0", source=f"https://github.com/{REPOSITORY} @ {COMMIT[:8]}; {PAPER}",
    tasks=XGBOOST_TASKS, objectives=("metric_error",), metric="metric_error", mode="min",
    metric_elapsed_time=None, fidelity_name="final", converter=convert_xgboost,
    files=(XGBOOST_ZIP,),
    notes="hp_log2_* columns are converted back with 2**x; no runtime recorded (no elapsed-time "
          "objective: simulate with time_per_fidelity).",
)


register(ICML_DEEPAR)
register(ICML_XGBOOST)
