"""PD1 (Wang et al., "Pre-trained Gaussian processes for Bayesian optimization"): learning curves
of deep-learning workloads (dataset x model x batch size) under a 4-parameter SGD-momentum
learning-rate schedule search space, as converted by Syne Tune's ``pd1_import.py``.

Raw data: ``pd1.tar.gz`` from Google Research's bucket, holding ``pd1/pd1_matched_phase1_results
.jsonl.gz`` and ``pd1/pd1_unmatched_phase1_results.jsonl.gz`` (gzip JSON lines, one training run
per line, flat keys such as ``dataset``, ``model``, ``hps.batch_size``, ``hps.activation_fn``,
``hps.lr_hparams.initial_value``, ``hps.lr_hparams.power``, ``hps.lr_hparams.decay_steps_factor``,
``hps.opt_hparams.momentum``, and per-evaluation lists ``valid/error_rate``, ``valid/ce_loss``,
``eval_time``, ``global_step``, ``epoch``; lists are null for runs without evaluations).

Conversion, as Syne Tune: one task per (dataset, model, activation, batch size) named
``<dataset>_<model>[_<activation>]_batch_size_<bs>``; hyperparameters ``lr_initial_value``,
``lr_power``, ``lr_decay_steps_factor``, ``one_minus_momentum`` (= 1 - momentum); fidelity
= index of the evaluation (1..longest curve of the task); objectives
``metric_valid_error_rate`` (default, min), ``metric_valid_ce_loss`` and
``metric_elapsed_time`` (cumulative sum of ``eval_time``, as Syne Tune). Shorter curves are
padded with NaN (= not evaluated). The 23 task names are those of Syne Tune's pd1 benchmarks.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["pd1"].metric
    'metric_valid_error_rate'
"""
from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, loguniform, uniform
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.registry import register
from blackbox_repo.recipes.unpinned import UNPINNED, UnpinnedRecipe

__all__ = ["PD1", "TASKS", "SPACE", "OBJECTIVES", "task_name"]

ARCHIVE = "pd1.tar.gz"
URL = "http://storage.googleapis.com/gresearch/pint/pd1.tar.gz"
MEMBERS = ("pd1/pd1_matched_phase1_results.jsonl.gz", "pd1/pd1_unmatched_phase1_results.jsonl.gz")
SPACE = ConfigurationSpace({
    "lr_initial_value": loguniform(1e-5, 10.0),
    "lr_power": uniform(0.1, 2.0),
    "lr_decay_steps_factor": uniform(0.01, 0.99),
    "one_minus_momentum": loguniform(1e-3, 1.0),
})
HP_COLUMNS = {"hps.lr_hparams.initial_value": "lr_initial_value", "hps.lr_hparams.power": "lr_power",
              "hps.lr_hparams.decay_steps_factor": "lr_decay_steps_factor",
              "hps.opt_hparams.momentum": "one_minus_momentum"}
CURVES = {"valid/error_rate": "metric_valid_error_rate", "valid/ce_loss": "metric_valid_ce_loss",
          "eval_time": "metric_elapsed_time"}
OBJECTIVES = tuple(CURVES.values())
TASKS = ("cifar100_wide_resnet_batch_size_2048", "cifar100_wide_resnet_batch_size_256",
         "cifar10_wide_resnet_batch_size_2048", "cifar10_wide_resnet_batch_size_256",
         "fashion_mnist_max_pooling_cnn_relu_batch_size_2048", "fashion_mnist_max_pooling_cnn_relu_batch_size_256",
         "fashion_mnist_max_pooling_cnn_tanh_batch_size_2048", "fashion_mnist_max_pooling_cnn_tanh_batch_size_256",
         "fashion_mnist_simple_cnn_batch_size_2048", "fashion_mnist_simple_cnn_batch_size_256",
         "imagenet_resnet_batch_size_256", "imagenet_resnet_batch_size_512", "lm1b_transformer_batch_size_2048",
         "mnist_max_pooling_cnn_relu_batch_size_2048", "mnist_max_pooling_cnn_relu_batch_size_256",
         "mnist_max_pooling_cnn_tanh_batch_size_2048", "mnist_max_pooling_cnn_tanh_batch_size_256",
         "mnist_simple_cnn_batch_size_2048", "mnist_simple_cnn_batch_size_256",
         "svhn_no_extra_wide_resnet_batch_size_1024", "svhn_no_extra_wide_resnet_batch_size_256",
         "translate_wmt_xformer_translate_batch_size_64", "uniref50_transformer_batch_size_128")
TASK_COLUMNS = ["dataset", "model", "hps.activation_fn", "hps.batch_size"]


def task_name(dataset: str, model: str, activation, batch_size) -> str:
    act = "" if activation is None or (isinstance(activation, float) and np.isnan(activation)) else f"_{activation}"
    return f"{dataset}_{model}{act}_batch_size_{int(batch_size)}"


def _read(raw_dir: Path) -> pd.DataFrame:
    frames = []
    with tarfile.open(raw_dir / ARCHIVE, mode="r:gz") as tar:
        names = set(tar.getnames())
        for member in MEMBERS:
            if member not in names:
                raise RecipeError(f"{raw_dir / ARCHIVE} lacks {member}; it has {sorted(names)[:10]}")
            fh = tar.extractfile(member)
            assert fh is not None
            frames.append(pd.read_json(fh, orient="records", lines=True, compression="gzip"))
    df = pd.concat(frames, ignore_index=True)
    needed = TASK_COLUMNS + list(HP_COLUMNS) + list(CURVES)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise RecipeError(f"pd1 results lack columns {missing}; they have {list(df.columns)[:30]}")
    return df


def _curves(col: pd.Series, length: int) -> np.ndarray:
    out = np.full((len(col), length), np.nan, np.float64)
    for i, v in enumerate(col):
        if isinstance(v, list) and v:
            out[i, :len(v)] = np.asarray(v, dtype=np.float64)
    return out


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    df = _read(raw_dir)
    act = df["hps.activation_fn"].astype(object).where(df["hps.activation_fn"].notna(), None)
    keys = pd.Series([task_name(d, m, a, b) for d, m, a, b in
                      zip(df["dataset"], df["model"], act, df["hps.batch_size"])], index=df.index)
    for task in sorted(keys.unique()):
        g = df[keys == task].reset_index(drop=True)
        hp = g[list(HP_COLUMNS)].rename(columns=HP_COLUMNS).astype(np.float64)
        hp["one_minus_momentum"] = 1.0 - hp["one_minus_momentum"]
        for name, dom in SPACE.items():
            bad = [v for v in hp[name] if not dom.contains(v)]
            if bad:
                raise RecipeError(f"pd1 task {task!r}: {name} values {bad[:3]} outside {dom}")
        length = max((len(v) for v in g["valid/error_rate"] if isinstance(v, list)), default=0)
        if length == 0:
            raise RecipeError(f"pd1 task {task!r} has no evaluated run")
        objs = np.stack([_curves(g[c], length) for c in CURVES], axis=-1)
        objs[..., 2] = np.cumsum(objs[..., 2], axis=-1)
        unavailable = [o for j, o in enumerate(OBJECTIVES) if np.isnan(objs[..., j]).all()]
        first = g.iloc[0]
        bb = TabularBlackbox(hp, objs[:, None].astype(np.float32), fidelity_values=list(range(1, length + 1)),
                             objectives_names=list(OBJECTIVES), configuration_space=SPACE,
                             fidelity_name="global_step_index", metric_elapsed_time="metric_elapsed_time",
                             metric="metric_valid_error_rate", mode="min",
                             metadata={"dataset": str(first["dataset"]), "model": str(first["model"]),
                                       "batch_size": int(first["hps.batch_size"]),
                                       "unavailable_objectives": unavailable})
        yield task, bb


PD1 = UnpinnedRecipe(
    name="pd1",
    description="PD1: learning curves of deep-learning workloads (dataset x model x batch size) over "
                "a 4-d learning-rate/momentum space",
    license="CC-BY-4.0 (Google Research HyperBO data)",
    source=f"{URL}; Wang et al., Pre-trained Gaussian Processes for Bayesian Optimization, JMLR 2024",
    tasks=TASKS, objectives=OBJECTIVES, metric="metric_valid_error_rate", mode="min",
    metric_elapsed_time="metric_elapsed_time", fidelity_name="global_step_index", converter=convert,
    files=(RawFile(ARCHIVE, URL, UNPINNED),),
)


register(PD1)
