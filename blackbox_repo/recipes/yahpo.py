"""``yahpo-lcbench``: per-epoch curves *sampled from* YAHPO Gym's LCBench surrogate (ONNX), as a table.

This is surrogate output, not measured data (``kind="surrogate output"``, and every task's
metadata says so). YAHPO Gym (Pfisterer et al., AutoML Conf 2022) fitted a neural network on
LCBench's learning curves; this recipe evaluates it on ``n_configs`` random configurations of
LCBench's 7-d space (seeded) at every epoch 1..52 for each OpenML task id, in one batched
ONNX call per task, and stores the result as a TabularBlackbox with objectives ``time``
(cumulative seconds: the elapsed-time objective), ``val_accuracy`` (default, **max**),
``val_cross_entropy``, ``val_balanced_accuracy``, ``test_cross_entropy``,
``test_balanced_accuracy``.

The ONNX model is run with ``onnxruntime`` directly (``pip install 'hposim[yahpo]'``); the
``yahpo-gym`` package is not needed (it pins numpy<2 and ConfigSpace<=0.6.1). What
``yahpo_gym`` 1.0.2's ``BenchmarkSet("lcbench").objective_function`` does around the model, and
:class:`LCBenchSurrogate` repeats:

- ``x_cont`` (float32, n x 8): the *raw* values in the order ``epoch, batch_size,
  learning_rate, momentum, weight_decay, num_layers, max_units, max_dropout`` (YAHPO's
  ``cont_names``), cast to float32. No scaling in Python: the graph itself applies
  ``log(x + 1e-12)`` to epoch, learning_rate and weight_decay, then a fixed shift/scale to
  every column.
- ``x_cat`` (int32, n x 1): the task's code from ``encoding.json`` (``OpenML_task_id``; e.g.
  ``"3945" -> 34``), not its position in ``config_space.json``.
- outputs (float32, n x 6) are returned as they come, in the order of YAHPO's ``y_names``
  (``time, val_accuracy, val_cross_entropy, val_balanced_accuracy, test_cross_entropy,
  test_balanced_accuracy``): the inverse target transforms are inside the graph too.
- configurations are checked against ``config_space.json`` (integers where declared, within
  bounds), as YAHPO's ``check=True`` does.

``tests/blackbox_repo/recipes/data/yahpo_lcbench_reference.csv`` holds YAHPO Gym's own outputs;
the tests require equality to float32 precision.

The surrogate's ``time`` is not guaranteed to grow with the epoch: the table's copy is clamped
at 0 and repaired to its running maximum over epochs; the number of repaired cells is recorded
in each task's metadata (``time_repairs``).

Nothing is downloaded: the YAHPO data folder (``slds-lmu/yahpo_data``, with ``lcbench/model.onnx``,
``encoding.json``, ``config_space.json``) is given by ``$HPOSIM_YAHPO_DATA`` or
:func:`yahpo_lcbench_recipe` (``data_path=``); the sha256 of the files read is recorded in the
metadata.

Example:
    >>> r = yahpo_lcbench_recipe(data_path="/nonexistent", tasks=("3945",), n_configs=3)
    >>> r.kind, r.tasks, r.metric, r.mode
    ('surrogate output', ('3945',), 'val_accuracy', 'max')
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import (ConfigurationSpace, Domain, choice, lograndint, loguniform, randint,
                                       uniform)
from blackbox_repo.download import sha256_file
from blackbox_repo.recipes.base import MissingExtraError, Recipe, RecipeError
from blackbox_repo.recipes.registry import register

__all__ = ["YAHPO_LCBENCH", "yahpo_lcbench_recipe", "repair_elapsed_time", "LCBenchSurrogate", "DATA_ENV",
           "TASKS", "CONT_NAMES", "Y_NAMES", "read_config_space"]

DATA_ENV = "HPOSIM_YAHPO_DATA"
SCENARIO = "lcbench"
INSTANCE = "OpenML_task_id"
FIDELITY = "epoch"
N_EPOCHS = 52
TASKS = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152",
         "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330",
         "168331", "168335", "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873",
         "189905", "189906", "189908", "189909")
#: Columns of the model's ``x_cont`` input, in order (yahpo_gym 1.0.2, ``benchmarks/lcbench.py``).
CONT_NAMES = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
              "max_dropout")
#: Columns of the model's output, in order.
Y_NAMES = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
           "test_balanced_accuracy")
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


def _domain(hp: Mapping[str, Any]) -> Domain:
    kind, name = hp.get("type"), hp.get("name")
    if kind == "categorical":
        return choice(hp["choices"])
    if kind in ("uniform_int", "uniform_float"):
        log = bool(hp.get("log", False))
        if kind == "uniform_int":
            return (lograndint if log else randint)(int(hp["lower"]), int(hp["upper"]))
        return (loguniform if log else uniform)(float(hp["lower"]), float(hp["upper"]))
    raise RecipeError(f"YAHPO config_space.json: hyperparameter {name!r} has type {kind!r}; "
                      f"this reader knows categorical, uniform_int, uniform_float")


def read_config_space(path: Path) -> ConfigurationSpace:
    """Every hyperparameter of a YAHPO ``config_space.json`` (ConfigSpace JSON format 0.2) as hposim domains.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "config_space.json"
        >>> _ = p.write_text('{"hyperparameters": [{"name": "lr", "type": "uniform_float", "log": true, '
        ...                  '"lower": 0.001, "upper": 0.1}]}')
        >>> read_config_space(p)["lr"].describe()
        'float in [0.001, 0.1], log scale'
    """
    try:
        spec = json.loads(Path(path).read_text())
        hps = spec["hyperparameters"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RecipeError(f"cannot read the YAHPO configuration space {path}: {e}") from e
    if spec.get("conditions") or spec.get("forbiddens"):
        raise RecipeError(f"{path} has conditions or forbidden clauses; the {SCENARIO} reader expects none")
    return ConfigurationSpace({hp["name"]: _domain(hp) for hp in hps})


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:
        raise MissingExtraError("yahpo-lcbench evaluates YAHPO Gym's ONNX surrogate and needs onnxruntime: "
                                "pip install 'hposim[yahpo]'") from e
    return onnxruntime


def _data_path(data_path: str | os.PathLike | None) -> Path:
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


@dataclass
class LCBenchSurrogate:
    """YAHPO Gym's LCBench ONNX surrogate, evaluated as ``yahpo_gym`` 1.0.2 evaluates it.

    ``space`` holds the 7 hyperparameters of ``config_space.json`` (without the task id and the
    epoch), ``tasks`` the OpenML task ids it declares, ``epochs`` the epoch range.

    Example:
        >>> s = LCBenchSurrogate.open("/path/to/yahpo_data")            # doctest: +SKIP
        >>> y = s.predict(pd.DataFrame([s.space.sample(np.random.default_rng(0))]), "3945", [1, 52])  # doctest: +SKIP
        >>> y.shape                                                        # doctest: +SKIP
        (1, 2, 6)
    """

    folder: Path
    space: ConfigurationSpace
    tasks: tuple[str, ...]
    epochs: tuple[int, ...]
    encoding: dict[str, int]
    session: Any = field(repr=False)

    @classmethod
    def open(cls, data_path: str | os.PathLike | None = None, threads: int = 1) -> LCBenchSurrogate:
        """Read ``lcbench/`` of the YAHPO data folder (``data_path`` or ``$HPOSIM_YAHPO_DATA``)."""
        rt = _import_onnxruntime()
        path = _data_path(data_path)
        folder = path / SCENARIO
        full = read_config_space(folder / "config_space.json")
        expected = {INSTANCE, *CONT_NAMES}
        if set(full) != expected:
            raise RecipeError(f"{folder / 'config_space.json'} declares {full.names}; the LCBench model "
                              f"takes {sorted(expected)}")
        try:
            encoding = {str(k): int(v) for k, v in json.loads((folder / "encoding.json").read_text())[INSTANCE].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise RecipeError(f"cannot read the {INSTANCE} codes of {folder / 'encoding.json'}: {e}") from e
        tasks = tuple(str(t) for t in full[INSTANCE].values)
        uncoded = [t for t in tasks if t not in encoding]
        if uncoded:
            raise RecipeError(f"{folder / 'encoding.json'} has no code for tasks {uncoded}")
        ep = full[FIDELITY]
        options = rt.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = threads
        session = rt.InferenceSession(str(folder / "model.onnx"), sess_options=options,
                                      providers=["CPUExecutionProvider"])
        shapes = {i.name: i.shape[-1] for i in session.get_inputs()}
        out = session.get_outputs()
        if shapes != {"x_cat": 1, "x_cont": len(CONT_NAMES)} or len(out) != 1 or out[0].shape[-1] != len(Y_NAMES):
            raise RecipeError(f"{folder / 'model.onnx'} has inputs {shapes} and outputs "
                              f"{[(o.name, o.shape) for o in out]}; expected x_cat (n, 1), x_cont (n, "
                              f"{len(CONT_NAMES)}) -> (n, {len(Y_NAMES)})")
        space = ConfigurationSpace({k: full[k] for k in sorted(full) if k not in (INSTANCE, FIDELITY)})
        return cls(folder=folder, space=space, tasks=tasks, epochs=tuple(range(ep.lower, ep.upper + 1)),
                   encoding=encoding, session=session)

    def sample(self, rng: np.random.Generator, n: int) -> pd.DataFrame:
        """``n`` random configurations of :attr:`space` (floats clipped into their declared bounds)."""
        hp = pd.DataFrame(self.space.sample(rng, n), columns=self.space.names)
        for name, dom in self.space.items():
            hp[name] = np.clip(hp[name], dom.lower, dom.upper)
        return hp

    def check(self, hyperparameters: pd.DataFrame, task: str, epochs: Sequence[int]) -> None:
        """Raise :class:`RecipeError` naming the first value YAHPO's input check would reject."""
        if task not in self.tasks:
            raise RecipeError(f"YAHPO {SCENARIO} has no task {task!r}; tasks: {list(self.tasks)}")
        missing = [k for k in self.space if k not in hyperparameters.columns]
        if missing:
            raise RecipeError(f"hyperparameters lack columns {missing}; the LCBench model takes {self.space.names}")
        columns = {FIDELITY: list(epochs), **{k: hyperparameters[k].tolist() for k in self.space}}
        domains = {FIDELITY: randint(self.epochs[0], self.epochs[-1]), **self.space}
        for name, values in columns.items():
            dom = domains[name]
            for v in values:
                if not dom.contains(v) or not (dom.lower <= v <= dom.upper):
                    raise RecipeError(f"{name}={v!r} is outside YAHPO {SCENARIO}'s {dom.describe()}")

    def inputs(self, hyperparameters: pd.DataFrame, task: str,
               epochs: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(x_cont, x_cat)`` for every configuration (outer) x epoch (inner), as yahpo_gym builds them."""
        n, e = len(hyperparameters), len(epochs)
        cols = [np.tile(np.asarray(epochs, dtype=np.float64), n) if name == FIDELITY
                else np.repeat(hyperparameters[name].to_numpy(np.float64), e) for name in CONT_NAMES]
        x_cont = np.stack(cols, axis=1).astype(np.float32)
        x_cat = np.full((n * e, 1), self.encoding[task], dtype=np.int32)
        return x_cont, x_cat

    def predict(self, hyperparameters: pd.DataFrame, task: str, epochs: Sequence[int] | None = None) -> np.ndarray:
        """Raw surrogate outputs, float32 of shape ``(n_configs, n_epochs, 6)`` (columns :data:`Y_NAMES`)."""
        epochs = list(self.epochs if epochs is None else epochs)
        self.check(hyperparameters, task, epochs)
        x_cont, x_cat = self.inputs(hyperparameters, task, epochs)
        out = self.session.run([self.session.get_outputs()[0].name], {"x_cat": x_cat, "x_cont": x_cont})[0]
        return np.asarray(out, dtype=np.float32).reshape(len(hyperparameters), len(epochs), len(Y_NAMES))

    def checksums(self) -> dict[str, str]:
        """sha256 of the files read, keyed like :data:`FILES`."""
        return {f: sha256_file(self.folder.parent / f) for f in FILES}


def yahpo_lcbench_recipe(data_path: str | None = None, tasks: Sequence[str] = TASKS, n_configs: int = 1000,
                         seed: int = 0, name: str = "yahpo-lcbench") -> Recipe:
    """A recipe materializing ``n_configs`` random configurations x 52 epochs per task."""
    if not isinstance(n_configs, int) or n_configs < 1:
        raise RecipeError(f"n_configs={n_configs!r} must be an integer >= 1")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise RecipeError(f"unknown YAHPO lcbench task ids {unknown}; known: {list(TASKS)}")

    def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
        surrogate = LCBenchSurrogate.open(data_path)
        checksums = surrogate.checksums()
        ti = Y_NAMES.index("time")
        for k, task in enumerate(tasks):
            hp = surrogate.sample(np.random.default_rng([seed, k]), n_configs)
            objs = surrogate.predict(hp, task).astype(np.float64)
            objs[..., ti], repairs = repair_elapsed_time(objs[..., ti])
            yield task, TabularBlackbox(
                hp, objs[:, None].astype(np.float32), fidelity_values=list(surrogate.epochs),
                objectives_names=list(Y_NAMES), configuration_space=surrogate.space, fidelity_name=FIDELITY,
                metric_elapsed_time="time", metric="val_accuracy", mode="max",
                metadata={"data": "surrogate output", "surrogate": f"YAHPO Gym {SCENARIO} ONNX (onnxruntime)",
                          "OpenML_task_id": task, "n_configs": n_configs, "seed": seed,
                          "time_repairs": repairs, "surrogate_files": checksums})

    return Recipe(
        name=name,
        description=f"YAHPO Gym lcbench surrogate sampled: {n_configs} random configs x {N_EPOCHS} epochs per "
                    f"OpenML task (surrogate output, not measured)",
        license="Apache-2.0 (YAHPO Gym data and LCBench)",
        source="YAHPO Gym surrogates (github slds-lmu/yahpo_data, lcbench), from $HPOSIM_YAHPO_DATA; "
               "Pfisterer et al., YAHPO Gym, AutoML Conf 2022",
        tasks=tuple(tasks), objectives=Y_NAMES,
        metric="val_accuracy", mode="max", metric_elapsed_time="time", fidelity_name=FIDELITY,
        converter=convert, kind="surrogate output",
        info={"n_configs": n_configs, "seed": seed},
    )


YAHPO_LCBENCH = yahpo_lcbench_recipe()


register(YAHPO_LCBENCH)
