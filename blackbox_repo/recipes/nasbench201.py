"""NAS-Bench-201 (NATS-Bench topology search space): 15,625 cell architectures trained for 200
epochs with 3 seeds on ``cifar10``, ``cifar100`` and ``ImageNet16-120``.

Raw data: ``NATS-tss-v1_0-3ffb9-simple.tar`` of NATS-Bench v1.0 (Dong et al., TPAMI 2021),
the archive its API uses with ``fast_mode=True``: a folder ``NATS-tss-v1_0-3ffb9-simple/``
holding ``meta.pickle.pbz2`` (``{"meta_archs": [15,625 arch strings], "total_archs": 15625,
"arch2infos": None, "evaluated_indexes": ...}``) and one bz2-compressed pickle per
architecture, ``000000.pickle.pbz2`` .. ``015624.pickle.pbz2``, each
``{"12": ..., "200": {"arch_index", "arch_str", "all_results", "dataset_seed", "clear_net_done"}}``
where ``all_results[(dataset, seed)]`` holds ``train_acc1es``/``train_times`` (epoch ->
value), ``eval_acc1es``/``eval_times`` (``"ori-test@<epoch>"`` -> value), ``flop``, ``params``
and ``latency``. Syne Tune's import reads the same per-architecture dictionaries from the
single pickle ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (``arch2infos[i]["200"]``), which must be
unpickled whole; the ``-simple`` archive is streamed one architecture at a time, so the
conversion needs well under 8 GB (about 1 GB for the three output tables).

Conversion, as Syne Tune's ``nasbench201_import.py``: configuration = the six edge operations
``hp_x0..hp_x5`` parsed from ``arch_str``; per epoch ``metric_valid_error = 1 - acc/100`` on
``ori-test``, ``metric_train_error``, ``metric_runtime`` (train + eval seconds of that epoch),
``metric_elapsed_time`` (its cumulative sum), and constants ``metric_latency``,
``metric_flops``, ``metric_params``. Seeds 777, 888, 999; a seed that was not run for an
architecture is imputed with the mean of its other seeds (as Syne Tune does; the number of
imputed curves is in the metadata). Pickles are read with a restricted unpickler.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> RECIPES["nasbench201"].tasks
    ('cifar10', 'cifar100', 'ImageNet16-120')
"""
from __future__ import annotations

import bz2
import io
import pickle
import re
import tarfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.recipes.registry import register
from blackbox_repo.recipes.unpinned import UNPINNED, UnpinnedRecipe

__all__ = ["NASBENCH201", "TASKS", "OPERATIONS", "SEEDS", "OBJECTIVES", "arch_operations", "load_pickle_bz2"]

ARCHIVE = "NATS-tss-v1_0-3ffb9-simple.tar"
FOLDER = "NATS-tss-v1_0-3ffb9-simple"
URL = "https://drive.google.com/uc?export=download&id=17_saCsj_krKjlCBLOJEpNtzPXArMCqxU"
TASKS = ("cifar10", "cifar100", "ImageNet16-120")
SEEDS = (777, 888, 999)
N_EPOCHS = 200
OPERATIONS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
HP = tuple(f"hp_x{i}" for i in range(6))
OBJECTIVES = ("metric_valid_error", "metric_train_error", "metric_runtime", "metric_elapsed_time",
              "metric_latency", "metric_flops", "metric_params")
SPACE = ConfigurationSpace({h: choice(list(OPERATIONS)) for h in HP})

_ALLOWED = {("collections", "OrderedDict"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar")}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise RecipeError(f"NAS-Bench-201 pickle refers to {module}.{name}, which a benchmark file "
                              f"never needs; allowed: {sorted(_ALLOWED)}")
        return super().find_class(module, name)


def load_pickle_bz2(data: bytes) -> Any:
    """Unpickle a ``.pickle.pbz2`` payload allowing only dicts, lists, OrderedDict and numpy scalars."""
    return _RestrictedUnpickler(io.BytesIO(bz2.decompress(data))).load()


def arch_operations(arch_str: str) -> list[str]:
    """``'|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...'`` -> the six operations in edge order."""
    ops = []
    for node in arch_str.split("+"):
        for edge in filter(None, node.split("|")):
            op, _, src = edge.partition("~")
            if not src.isdigit() or op not in OPERATIONS:
                raise RecipeError(f"bad edge {edge!r} in architecture string {arch_str!r}; expected "
                                  f"'<operation>~<input>' with an operation in {OPERATIONS}")
            ops.append(op)
    if len(ops) != len(HP):
        raise RecipeError(f"architecture {arch_str!r} has {len(ops)} edges, expected {len(HP)}")
    return ops


def _fill(values: np.ndarray, info: dict, index: int) -> int:
    """Write one architecture's curves into ``values[task][index]``; returns #imputed curves."""
    results = info["all_results"]
    imputed = 0
    for t, task in enumerate(TASKS):
        out = values[t]
        have = []
        static = None
        for s, seed in enumerate(SEEDS):
            entry = results.get((task, seed))
            if entry is None:
                continue
            acc = entry["eval_acc1es"]
            ev_t = entry["eval_times"]
            tr_acc = entry["train_acc1es"]
            tr_t = entry["train_times"]
            try:
                out[index, s, :, 0] = [1.0 - acc[f"ori-test@{e}"] / 100.0 for e in range(N_EPOCHS)]
                out[index, s, :, 1] = [1.0 - tr_acc[e] / 100.0 for e in range(N_EPOCHS)]
                out[index, s, :, 2] = [tr_t[e] + ev_t[f"ori-test@{e}"] for e in range(N_EPOCHS)]
            except KeyError as e:
                raise RecipeError(f"architecture {index}, {task} seed {seed} lacks epoch entry {e}; "
                                  f"expected {N_EPOCHS} epochs (200-epoch results)") from None
            have.append(s)
            if static is None:
                static = (float(entry["latency"][0]), float(entry["flop"]), float(entry["params"]))
        if not have:
            raise RecipeError(f"architecture {index} has no 200-epoch result for {task} "
                              f"(seeds {SEEDS}); found {sorted(results)[:6]}")
        for s in range(len(SEEDS)):
            if s not in have:
                out[index, s, :, :3] = out[index, have, :, :3].mean(axis=0)
                imputed += 1
        out[index, :, :, 3] = np.cumsum(out[index, :, :, 2], axis=-1)
        out[index, :, :, 4:] = static
    return imputed


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    path = raw_dir / ARCHIVE
    meta = None
    ops: dict[int, list[str]] = {}
    values: np.ndarray | None = None
    imputed = 0
    pending: dict[int, dict] = {}
    with tarfile.open(path, mode="r|*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            m = re.fullmatch(r"(\d{6})\.pickle\.pbz2", name)
            if name != "meta.pickle.pbz2" and not m:
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            doc = load_pickle_bz2(fh.read())
            if m is None:
                meta = doc
                n = int(meta["total_archs"])
                values = np.full((len(TASKS), n, len(SEEDS), N_EPOCHS, len(OBJECTIVES)), np.nan, np.float32)
                for i, info in pending.items():
                    imputed += _fill(values, info, i)
                pending.clear()
                continue
            index = int(m.group(1))
            info = doc["200"]
            ops[index] = arch_operations(info["arch_str"])
            if values is None:
                pending[index] = info          # meta.pickle.pbz2 not seen yet (unusual order)
            else:
                if index >= values.shape[1]:
                    raise RecipeError(f"{member.name}: architecture index {index} >= total_archs "
                                      f"{values.shape[1]} of meta.pickle.pbz2")
                imputed += _fill(values, info, index)
    if meta is None or values is None:
        raise RecipeError(f"{path} lacks {FOLDER}/meta.pickle.pbz2; is it the NATS-Bench tss '-simple' archive?")
    n = values.shape[1]
    if sorted(ops) != list(range(n)):
        missing = sorted(set(range(n)) - set(ops))
        raise RecipeError(f"{path} has {len(ops)} architecture files, meta.pickle.pbz2 announces {n}; "
                          f"missing indices e.g. {missing[:10]}")
    for i in range(n):
        if arch_operations(meta["meta_archs"][i]) != ops[i]:
            raise RecipeError(f"architecture {i}: {meta['meta_archs'][i]!r} in meta.pickle.pbz2 differs "
                              f"from the arch_str of {i:06d}.pickle.pbz2")
    hp = pd.DataFrame([ops[i] for i in range(n)], columns=list(HP))
    for t, task in enumerate(TASKS):
        bb = TabularBlackbox(hp, values[t], fidelity_values=list(range(1, N_EPOCHS + 1)),
                             objectives_names=list(OBJECTIVES), configuration_space=SPACE,
                             fidelity_name="epoch", metric_elapsed_time="metric_elapsed_time",
                             metric="metric_valid_error", mode="min",
                             metadata={"seeds": list(SEEDS), "imputed_seed_curves_all_tasks": imputed,
                                       "valid_error_split": "ori-test"})
        yield task, bb


NASBENCH201 = UnpinnedRecipe(
    name="nasbench201",
    description="NAS-Bench-201: 15,625 cell architectures x 200 epochs x 3 seeds on CIFAR-10, "
                "CIFAR-100 and ImageNet16-120 (error, runtime, latency, FLOPs, params)",
    license="MIT (NATS-Bench code and benchmark files)",
    source="NATS-Bench v1.0 topology search space, NATS-tss-v1_0-3ffb9-simple.tar "
           "(https://github.com/D-X-Y/NATS-Bench); Dong & Yang, NAS-Bench-201, ICLR 2020",
    tasks=TASKS, objectives=OBJECTIVES, metric="metric_valid_error", mode="min",
    metric_elapsed_time="metric_elapsed_time", fidelity_name="epoch", converter=convert,
    files=(RawFile(ARCHIVE, URL, UNPINNED),),
    notes="Google Drive may refuse scripted downloads of large files: then download the archive "
          "by hand and put it at $HPOSIM_HOME/raw/nasbench201/" + ARCHIVE,
)


register(NASBENCH201)
