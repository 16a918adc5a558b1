"""FCNet tabular benchmarks (Klein & Hutter 2019): 62,208 configurations of a two-layer MLP
trained for 100 epochs with 4 seeds on four UCI regression datasets.

Raw data: ``fcnet_tabular_benchmarks.tar.gz`` (the URL Syne Tune's ``fcnet_import.py`` uses),
holding ``fcnet_tabular_benchmarks/fcnet_<task>_data.hdf5`` per task. In each HDF5 file every
configuration is a group named ``json.dumps(config, sort_keys=True)`` with datasets
``train_loss``, ``train_mse``, ``valid_loss``, ``valid_mse`` (4 seeds x 100 epochs),
``final_test_error``, ``n_params``, ``runtime`` (4 seeds). Reading them needs ``h5py``
(``pip install 'hposim[fcnet]'``).

Conversion, as Syne Tune: hyperparameters prefixed ``hp_``; objectives ``metric_valid_loss``
(default, min), ``metric_train_loss``, ``metric_final_test_error`` and ``metric_n_params``
(constant over epochs), ``metric_elapsed_time`` = ``runtime * epoch / 100`` (the raw data
only has the total training time; a constant time per epoch is assumed, as in the original
FCNet code). One HDF5 file is converted at a time.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["fcnet"].metric, RECIPES["fcnet"].mode
    ('metric_valid_loss', 'min')
"""
from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, ordinal
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import MissingExtraError, RecipeError
from blackbox_repo.recipes.registry import register
from blackbox_repo.recipes.unpinned import UNPINNED, UnpinnedRecipe

__all__ = ["FCNET", "TASKS", "SPACE", "OBJECTIVES"]

ARCHIVE = "fcnet_tabular_benchmarks.tar.gz"
URL = "http://ml4aad.org/wp-content/uploads/2019/01/fcnet_tabular_benchmarks.tar.gz"
TASKS = ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")
N_EPOCHS = 100
N_SEEDS = 4
OBJECTIVES = ("metric_valid_loss", "metric_train_loss", "metric_final_test_error", "metric_n_params",
              "metric_elapsed_time")
SPACE = ConfigurationSpace({
    "hp_activation_fn_1": choice(["tanh", "relu"]),
    "hp_activation_fn_2": choice(["tanh", "relu"]),
    "hp_batch_size": ordinal([8, 16, 32, 64]),
    "hp_dropout_1": ordinal([0.0, 0.3, 0.6]),
    "hp_dropout_2": ordinal([0.0, 0.3, 0.6]),
    "hp_init_lr": ordinal([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
    "hp_lr_schedule": choice(["cosine", "const"]),
    "hp_n_units_1": ordinal([16, 32, 64, 128, 256, 512]),
    "hp_n_units_2": ordinal([16, 32, 64, 128, 256, 512]),
})


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise MissingExtraError("blackbox 'fcnet' reads HDF5 files and needs h5py: "
                                "pip install 'hposim[fcnet]'") from e
    return h5py


def _extract(raw_dir: Path) -> Path:
    """Extract the four HDF5 files (only those) next to the archive; returns their folder."""
    out = raw_dir / "extracted"
    wanted = {f"fcnet_{t}_data.hdf5" for t in TASKS}
    if all((out / w).is_file() for w in wanted) and (out / ".complete").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    found = set()
    with tarfile.open(raw_dir / ARCHIVE, mode="r|gz") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name in wanted:
                src = tar.extractfile(member)
                assert src is not None
                tmp = out / (name + ".part")
                with open(tmp, "wb") as fh:
                    shutil.copyfileobj(src, fh, 1 << 20)
                tmp.replace(out / name)
                found.add(name)
    if found != wanted:
        raise RecipeError(f"{raw_dir / ARCHIVE} lacks {sorted(wanted - found)}; expected "
                          f"fcnet_tabular_benchmarks/fcnet_<task>_data.hdf5 for tasks {TASKS}")
    (out / ".complete").write_text("ok\n")
    return out


def convert_file(path: Path) -> TabularBlackbox:
    """One ``fcnet_<task>_data.hdf5`` file as a TabularBlackbox (4 seeds x 100 epochs)."""
    h5py = _h5py()
    with h5py.File(path, "r") as data:
        keys = list(data.keys())
        n = len(keys)
        configs = [json.loads(k) for k in keys]
        objs = np.empty((n, N_SEEDS, N_EPOCHS, len(OBJECTIVES)), np.float32)
        epochs = np.arange(1, N_EPOCHS + 1, dtype=np.float32) / N_EPOCHS
        for i, k in enumerate(keys):
            g = data[k]
            try:
                objs[i, :, :, 0] = g["valid_loss"][:]
                objs[i, :, :, 1] = g["train_loss"][:]
                objs[i, :, :, 2] = np.asarray(g["final_test_error"][:], np.float32)[:, None]
                objs[i, :, :, 3] = np.asarray(g["n_params"][:], np.float32)[:, None]
                objs[i, :, :, 4] = np.asarray(g["runtime"][:], np.float32)[:, None] * epochs
            except (KeyError, ValueError) as e:
                raise RecipeError(f"{path}: configuration {k} is malformed ({e}); expected datasets "
                                  f"valid_loss/train_loss ({N_SEEDS}, {N_EPOCHS}) and final_test_error/"
                                  f"n_params/runtime ({N_SEEDS},)") from None
    hp = pd.DataFrame(configs).rename(columns=lambda c: f"hp_{c}")
    missing = [c for c in SPACE if c not in hp.columns]
    if missing:
        raise RecipeError(f"{path}: configurations lack {missing}; they have {list(hp.columns)}")
    hp = hp[list(SPACE)]
    return TabularBlackbox(hp, objs, fidelity_values=list(range(1, N_EPOCHS + 1)),
                           objectives_names=list(OBJECTIVES), configuration_space=SPACE,
                           fidelity_name="epoch", metric_elapsed_time="metric_elapsed_time",
                           metric="metric_valid_loss", mode="min",
                           metadata={"elapsed_time": "total runtime of each seed spread evenly over "
                                                     "the 100 epochs (as Syne Tune and the FCNet code)"})


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    _h5py()
    folder = _extract(raw_dir)
    for task in TASKS:
        yield task, convert_file(folder / f"fcnet_{task}_data.hdf5")


FCNET = UnpinnedRecipe(
    name="fcnet",
    description="FCNet: 62,208 MLP configurations x 100 epochs x 4 seeds on 4 UCI regression datasets",
    license="BSD-3-Clause (automl/nas_benchmarks)",
    source=f"{URL}; Klein & Hutter, Tabular Benchmarks for Joint Architecture and Hyperparameter "
           "Optimization, arXiv:1905.04970",
    tasks=TASKS, objectives=OBJECTIVES, metric="metric_valid_loss", mode="min",
    metric_elapsed_time="metric_elapsed_time", fidelity_name="epoch", converter=convert,
    files=(RawFile(ARCHIVE, URL, UNPINNED),),
)


register(FCNET)
