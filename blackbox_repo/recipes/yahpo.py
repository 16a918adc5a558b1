"""``yahpo-lcbench``: per-epoch curves *sampled from* YAHPO Gym's LCBench surrogate (ONNX), as a table.

This is surrogate output, not measured data (``kind="surrogate output"``, and every task's
metadata says so). YAHPO Gym (Pfisterer et al., AutoML Conf 2022) fitted a neural network on
LCBench's learning curves; this recipe evaluates it on ``n_configs`` random configurations of
LCBench's 7-d space (seeded) at every epoch 1..52 for each OpenML task id, in one batched
ONNX call per task, and stores the result as a TabularBlackbox with objectives ``time``
(cumulative seconds: the elapsed-time objective), ``val_accuracy`` (default, **max**),
``val_cross_entropy``, ``val_balanced_accuracy``, ``test_cross_entropy``,
``test_balanced_accuracy``.

The surrogate's ``time`` is not guaranteed to grow with the epoch: it is repaired to its running
maximum over epochs (and clamped at 0); the number of repaired cells is recorded in each
task's metadata (``time_repairs``).

Nothing is downloaded: the YAHPO data folder (``slds-lmu/yahpo_data``, with ``lcbench/model.onnx``,
``encoding.json``, ``config_space.json``) is given by ``$HPOSIM_YAHPO_DATA`` or
:func:`yahpo_lcbench_recipe` (``data_path=``); the sha256 of the files read is recorded in the
metadata. Needs ``yahpo-gym`` (``pip install 'hposim[yahpo]'``); ``yahpo_gym``'s own
``objective_function`` is not used (it breaks with ConfigSpace >= 1, needed under numpy 2), only
its benchmark configuration, encoding and ONNX session. ``yahpo_gym`` keeps its data path in
``~/.config/yahpo_gym``, which this recipe sets.

Example:
    >>> r = yahpo_lcbench_recipe(data_path="/nonexistent", tasks=("3945",), n_configs=3)
    >>> r.kind, r.tasks, r.metric, r.mode
    ('surrogate output', ('3945',), 'val_accuracy', 'max')
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, lograndint, loguniform, randint, uniform
from blackbox_repo.download import sha256_file
from blackbox_repo.recipes.base import MissingExtraError, Recipe, RecipeError

__all__ = ["YAHPO_LCBENCH", "yahpo_lcbench_recipe", "repair_elapsed_time", "DATA_ENV", "TASKS", "SPACE"]

DATA_ENV = "HPOSIM_YAHPO_DATA"
SCENARIO = "lcbench"
N_EPOCHS = 52
TASKS = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152",
         "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330",
         "168331", "168335", "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873",
         "189905", "189906", "189908", "189909")
SPACE = ConfigurationSpace({
    "batch_size": lograndint(16, 512),
    "learning_rate": loguniform(1e-4, 1e-1),
    "max_dropout": uniform(0.0, 1.0),
    "max_units": lograndint(64, 1024),
    "momentum": uniform(0.1, 0.99),
    "num_layers": randint(1, 5),
    "weight_decay": uniform(1e-5, 1e-1),
})
FILES = ("lcbench/model.onnx", "lcbench/encoding.json", "lcbench/config_space.json")


def repair_elapsed_time(t: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Cumulative times along the last axis made >= 0 and non-decreasing (running maximum).

    Example:
        >>> repair_elapsed_time(np.array([[-1.0, 2.0, 1.5, 3.0]]))
        (array([[0., 2., 2., 3.]]), {'negative_cells': 1, 'non_monotone_cells': 1})
    """
    neg = int((t < 0).sum())
    clamped = np.maximum(t, 0.0)
    fixed = np.maximum.accumulate(clamped, axis=-1)
    return fixed, {"negative_cells": neg, "non_monotone_cells": int((fixed != clamped).sum())}


def _data_path(data_path: str | None) -> Path:
    p = data_path or os.environ.get(DATA_ENV)
    if not p:
        raise RecipeError(f"yahpo-lcbench needs the YAHPO Gym data folder (slds-lmu/yahpo_data): set "
                          f"${DATA_ENV} or pass data_path= to yahpo_lcbench_recipe()")
    path = Path(p).expanduser()
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise RecipeError(f"the YAHPO data folder {path} lacks {missing} (from ${DATA_ENV} or data_path=); "
                          f"it must hold the {SCENARIO}/ folder of slds-lmu/yahpo_data")
    return path


def _benchmark(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from yahpo_gym import benchmark_set, local_config
    except ImportError as e:
        raise MissingExtraError("yahpo-lcbench evaluates YAHPO Gym surrogates and needs yahpo-gym: "
                                "pip install 'hposim[yahpo]'") from e
    local_config.init_config()
    local_config.set_data_path(str(path))
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        bench = benchmark_set.BenchmarkSet(SCENARIO, active_session=False, multithread=False)
    bench.set_session(multithread=False)
    return bench


def _materialize(bench, task: str, hp, n_configs: int) -> np.ndarray:
    """(n_configs, 1, 52, n_y) surrogate predictions for ``task`` at every epoch."""
    cfg = bench.config
    code = bench.encoding[cfg.instance_names].get(task)
    if code is None:
        raise RecipeError(f"YAHPO {SCENARIO} has no instance {task!r}; instances: {list(bench.instances)[:10]}...")
    epochs = np.arange(1, N_EPOCHS + 1, dtype=np.float32)
    cols = []
    for name in cfg.cont_names:
        if name == "epoch":
            cols.append(np.tile(epochs, n_configs))
        else:
            cols.append(np.repeat(hp[name].to_numpy(np.float32), N_EPOCHS))
    x_cont = np.stack(cols, axis=1).astype(np.float32)
    x_cat = np.full((len(x_cont), 1), code, dtype=np.int32)
    inputs = [i.name for i in bench.session.get_inputs()]
    out = bench.session.run([bench.session.get_outputs()[0].name], {inputs[0]: x_cat, inputs[1]: x_cont})[0]
    return np.asarray(out, np.float64).reshape(n_configs, 1, N_EPOCHS, len(cfg.y_names))


def yahpo_lcbench_recipe(data_path: str | None = None, tasks: Sequence[str] = TASKS, n_configs: int = 1000,
                         seed: int = 0, name: str = "yahpo-lcbench") -> Recipe:
    """A recipe materializing ``n_configs`` random configurations x 52 epochs per task."""
    if not isinstance(n_configs, int) or n_configs < 1:
        raise RecipeError(f"n_configs={n_configs!r} must be an integer >= 1")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise RecipeError(f"unknown YAHPO lcbench task ids {unknown}; known: {list(TASKS)}")

    def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
        path = _data_path(data_path)
        bench = _benchmark(path)
        checksums = {f: sha256_file(path / f) for f in FILES}
        y_names = list(bench.config.y_names)
        for k, task in enumerate(tasks):
            hp = SPACE.sample(np.random.default_rng([seed, k]), n_configs)
            hp = pd.DataFrame(hp, columns=list(SPACE))
            objs = _materialize(bench, task, hp, n_configs)
            ti = y_names.index("time")
            objs[..., ti], repairs = repair_elapsed_time(objs[..., ti])
            yield task, TabularBlackbox(
                hp, objs.astype(np.float32), fidelity_values=list(range(1, N_EPOCHS + 1)),
                objectives_names=y_names, configuration_space=SPACE, fidelity_name="epoch",
                metric_elapsed_time="time", metric="val_accuracy", mode="max",
                metadata={"data": "surrogate output", "surrogate": f"YAHPO Gym {SCENARIO} ONNX",
                          "OpenML_task_id": task, "n_configs": n_configs, "seed": seed,
                          "time_repairs": repairs, "surrogate_files": checksums})

    return Recipe(
        name=name,
        description=f"YAHPO Gym lcbench surrogate sampled: {n_configs} random configs x 52 epochs per "
                    f"OpenML task (surrogate output, not measured)",
        license="Apache-2.0 (YAHPO Gym data and LCBench)",
        source="YAHPO Gym surrogates (github slds-lmu/yahpo_data, lcbench), from $HPOSIM_YAHPO_DATA; "
               "Pfisterer et al., YAHPO Gym, AutoML Conf 2022",
        tasks=tuple(tasks), objectives=("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy",
                                        "test_cross_entropy", "test_balanced_accuracy"),
        metric="val_accuracy", mode="max", metric_elapsed_time="time", fidelity_name="epoch",
        converter=convert, kind="surrogate output",
        info={"n_configs": n_configs, "seed": seed},
    )


YAHPO_LCBENCH = yahpo_lcbench_recipe()


def _register() -> None:
    from blackbox_repo.recipes import register
    register(YAHPO_LCBENCH)


_register()
