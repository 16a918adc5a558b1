"""A synthetic table shaped like NAS-Bench-201, generated deterministically from a seed.

NAS-Bench-201 has 15,625 architectures: a cell with 6 edges, each carrying one of 5 operations.
This module builds a table of the same shape — 15,625 configurations x 3 seeds x 200 epochs x
6 objectives — whose learning curves have the structure that matters to HPO methods:

* error decreases with epochs, noisily (per-seed noise, stronger early on);
* the asymptote depends on the configuration (additive effects of the operation on each edge,
  pairwise interactions, a per-configuration random effect; cells whose output is disconnected
  stay near chance level);
* the speed of convergence also depends on the configuration and is *anti*-correlated with the
  asymptote for convolution-heavy cells, so curves cross (the best configurations at epoch 1 are
  not the best at epoch 200);
* per-epoch training time is 10-60 s, set by the cost of the cell's operations, with small jitter.

Nothing here imports hposim or Syne Tune: both benchmark sides read the same exchange files
(``hyperparameters.parquet``, ``objectives.npy``, ``table.json``) written by :func:`write_exchange`.

Example::

    >>> t = build_table(seed=0, n_configs=50, n_epochs=20)
    >>> t.objectives.shape
    (50, 3, 20, 6)
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_EDGES = 6
HP_NAMES = tuple(f"hp_x{i}" for i in range(N_EDGES))
OBJECTIVES = ("valid_error", "test_error", "train_error", "train_loss", "epoch_time", "elapsed_time")
METRIC = "valid_error"
ELAPSED_TIME = "elapsed_time"
FIDELITY_NAME = "epoch"
GENERATOR_VERSION = 1
DEFAULT_DIR = Path(__file__).resolve().parent / "data"

# Edges of the NAS-Bench-201 cell as (from_node, to_node); node 3 is the cell's output.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
# Relative compute cost of each operation (per edge); the cell's epoch time is 10 s + 50 s x
# (sum of costs / 6), so an all-none cell takes 10 s and an all-conv3x3 cell 60 s per epoch.
OP_COST = np.array([0.0, 0.02, 0.35, 1.0, 0.15])


@dataclass
class SyntheticTable:
    """The generated table: hyperparameters (one row per config) and float32 objectives
    shaped ``(n_configs, n_seeds, n_epochs, n_objectives)``."""

    hyperparameters: pd.DataFrame
    objectives: np.ndarray
    fidelity_values: np.ndarray
    objectives_names: tuple[str, ...] = OBJECTIVES
    metric: str = METRIC
    mode: str = "min"
    metric_elapsed_time: str = ELAPSED_TIME
    fidelity_name: str = FIDELITY_NAME
    info: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.objectives.shape)

    def objective(self, name: str) -> np.ndarray:
        """``(n_configs, n_seeds, n_epochs)`` view of one objective."""
        return self.objectives[..., self.objectives_names.index(name)]


def _all_cells(n_configs: int | None) -> np.ndarray:
    """Operation indices per edge, ``(n, 6)`` int8, in itertools.product order (first edge slowest)."""
    cells = np.array(list(itertools.product(range(len(OPS)), repeat=N_EDGES)), dtype=np.int8)
    return cells if n_configs is None else cells[:n_configs]


def _connected(cells: np.ndarray) -> np.ndarray:
    """True where information flows from the cell's input (node 0) to its output (node 3)."""
    live = cells != 0  # "none" cuts an edge
    reach1 = live[:, 0]
    reach2 = live[:, 1] | (reach1 & live[:, 2])
    return live[:, 3] | (reach1 & live[:, 4]) | (reach2 & live[:, 5])


def build_table(seed: int = 0, *, n_configs: int | None = None, n_seeds: int = 3,
                n_epochs: int = 200) -> SyntheticTable:
    """Generate the table deterministically from ``seed`` (same seed, same bytes).

    ``n_configs`` truncates the 15,625 cells (for quick tests); the default is all of them.
    """
    rng = np.random.default_rng(seed)
    cells = _all_cells(n_configs)
    n = len(cells)
    onehot = np.eye(len(OPS), dtype=np.float64)[cells]  # (n, 6, 5)

    # --- asymptotic validation error -------------------------------------------------------
    # additive effect of each op on each edge: convolutions help, pooling a little, none hurts
    base_effect = np.array([0.9, 0.35, -0.45, -1.0, 0.15])
    edge_weight = np.array([0.8, 0.7, 0.9, 1.1, 1.0, 1.2])
    effect = base_effect[None, :] * edge_weight[:, None] + rng.normal(0, 0.12, (N_EDGES, len(OPS)))
    score = np.einsum("nek,ek->n", onehot, effect)
    # pairwise interactions between edges that share a node
    for a, b in itertools.combinations(range(N_EDGES), 2):
        if set(EDGES[a]) & set(EDGES[b]):
            inter = rng.normal(0, 0.08, (len(OPS), len(OPS)))
            score += inter[cells[:, a], cells[:, b]]
    score += rng.normal(0, 0.25, n)  # per-configuration random effect
    z = (score - score.mean()) / score.std()
    asymptote = 0.075 + 0.25 / (1.0 + np.exp(-1.4 * (z - 0.9)))  # ~7.5% (best) .. ~32%
    connected = _connected(cells)
    asymptote = np.where(connected, asymptote, 0.88 + rng.uniform(0, 0.02, n))

    # --- speed of convergence: conv-heavy cells learn slower (curves cross) -----------------
    heavy = (cells == 3).sum(1) + 0.4 * (cells == 2).sum(1)
    tau = 0.5 + 1.0 * heavy + rng.gamma(2.0, 0.75, n)  # epochs to reach the power-law knee
    alpha = 0.8 + 0.5 * rng.beta(2, 2, n)
    err0 = asymptote + (0.90 - asymptote) * rng.uniform(0.6, 0.9, n)

    # --- per-epoch time --------------------------------------------------------------------
    cost = OP_COST[cells].sum(1) / N_EDGES
    epoch_time_cfg = 10.0 + 50.0 * cost * rng.uniform(0.92, 1.0, n)

    t = np.arange(1, n_epochs + 1, dtype=np.float64)
    out = np.empty((n, n_seeds, n_epochs, len(OBJECTIVES)), dtype=np.float32)
    decay = (1.0 + t[None, :] / tau[:, None]) ** (-alpha[:, None])  # (n, T), 1 -> 0
    for s in range(n_seeds):
        seed_offset = rng.normal(0, 0.006, n) * connected
        noise_scale = (0.004 + 0.03 * decay) * connected[:, None] + 0.004
        eps = rng.normal(0, 1, (n, n_epochs))
        # AR(1) smoothing of the per-epoch noise, done in closed form over a few lags
        smooth = eps.copy()
        for lag, w in ((1, 0.5), (2, 0.25), (3, 0.125)):
            smooth[:, lag:] += w * eps[:, :-lag]
        smooth /= np.sqrt(1 + 0.25 + 0.0625 + 0.015625)
        valid = asymptote[:, None] + seed_offset[:, None] + (err0 - asymptote)[:, None] * decay
        valid = np.clip(valid + noise_scale * smooth, 0.0, 1.0)
        test = np.clip(valid + 0.004 + rng.normal(0, 0.003, (n, n_epochs)), 0.0, 1.0)
        # training error falls further (over-fitting) and follows the validation curve
        train_asym = asymptote * np.where(connected, 0.25, 1.0)
        train = train_asym[:, None] + (err0 - train_asym)[:, None] * decay ** 1.3
        train = np.clip(train + 0.5 * noise_scale * rng.normal(0, 1, (n, n_epochs)), 0.0, 1.0)
        train_loss = -np.log(np.clip(1.0 - train, 1e-3, None)) * 1.8
        epoch_time = epoch_time_cfg[:, None] * (1.0 + rng.normal(0, 0.02, (n, n_epochs)))
        epoch_time = np.clip(epoch_time, 10.0, 60.0)
        out[:, s, :, 0] = valid
        out[:, s, :, 1] = test
        out[:, s, :, 2] = train
        out[:, s, :, 3] = train_loss
        out[:, s, :, 4] = epoch_time
        out[:, s, :, 5] = np.cumsum(epoch_time, axis=1)

    hp = pd.DataFrame({name: pd.Series(np.asarray(OPS)[cells[:, i]], dtype=object)
                       for i, name in enumerate(HP_NAMES)})
    info = {"generator": "benchmarks/nb201_table.py", "generator_version": GENERATOR_VERSION,
            "seed": seed, "n_configs": n, "n_seeds": n_seeds, "n_epochs": n_epochs,
            "ops": list(OPS), "hp_names": list(HP_NAMES)}
    return SyntheticTable(hyperparameters=hp, objectives=out,
                          fidelity_values=np.arange(1, n_epochs + 1, dtype=np.int64), info=info)


def describe(table: SyntheticTable) -> dict:
    """Statistics showing the table's structure (for RESULTS.md): ranges, rank correlation
    between early and final epochs, and how many of the final top-100 were top-100 early."""
    from scipy.stats import spearmanr

    valid = table.objective(METRIC)[:, 0]
    final = valid[:, -1]
    top_final = set(np.argsort(final)[:100])
    stats = {
        "shape": list(table.shape),
        "epoch_time_range_s": [float(table.objective("epoch_time").min()),
                               float(table.objective("epoch_time").max())],
        "final_valid_error_min_median_max": [float(final.min()), float(np.median(final)),
                                             float(final.max())],
        "curves_non_increasing_fraction": float(np.mean(valid[:, -1] <= valid[:, 0])),
    }
    for epoch in (1, 10, 50):
        early = valid[:, epoch - 1]
        stats[f"spearman_epoch{epoch}_vs_200"] = float(spearmanr(early, final).statistic)
        stats[f"top100_overlap_epoch{epoch}_vs_200"] = len(top_final & set(np.argsort(early)[:100]))
    return stats


def _fingerprint(info: dict) -> str:
    return hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]


def exchange_folder(seed: int = 0, root: Path = DEFAULT_DIR) -> Path:
    """Folder holding the exchange files of the table generated from ``seed``."""
    return Path(root) / f"nb201-synthetic-seed{seed}"


def write_exchange(table: SyntheticTable, folder: Path) -> Path:
    """Write the files both benchmark sides read: ``hyperparameters.parquet`` (one string column
    per edge), ``objectives.npy`` (float32, 4-D) and ``table.json`` (names, fidelities, metric)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    table.hyperparameters.to_parquet(tmp / "hyperparameters.parquet", index=False)
    np.save(tmp / "objectives.npy", table.objectives, allow_pickle=False)
    meta = {
        "objectives_names": list(table.objectives_names), "metric": table.metric,
        "mode": table.mode, "metric_elapsed_time": table.metric_elapsed_time,
        "fidelity_name": table.fidelity_name, "fidelity_values": table.fidelity_values.tolist(),
        "shape": list(table.shape), "info": table.info, "fingerprint": _fingerprint(table.info),
    }
    (tmp / "table.json").write_text(json.dumps(meta, indent=1))
    if folder.exists():
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    tmp.rename(folder)
    return folder


def read_exchange(folder: Path, *, mmap: bool = True) -> SyntheticTable:
    """Read the exchange files back (objectives memory-mapped by default)."""
    folder = Path(folder)
    meta = json.loads((folder / "table.json").read_text())
    hp = pd.read_parquet(folder / "hyperparameters.parquet")
    obj = np.load(folder / "objectives.npy", mmap_mode="r" if mmap else None)
    return SyntheticTable(hyperparameters=hp, objectives=obj,
                          fidelity_values=np.asarray(meta["fidelity_values"]),
                          objectives_names=tuple(meta["objectives_names"]), metric=meta["metric"],
                          mode=meta["mode"], metric_elapsed_time=meta["metric_elapsed_time"],
                          fidelity_name=meta["fidelity_name"], info=meta["info"])


def ensure_exchange(seed: int = 0, root: Path = DEFAULT_DIR, *, n_configs: int | None = None,
                    n_epochs: int = 200) -> Path:
    """Generate and write the table unless an up-to-date copy is already on disk."""
    folder = exchange_folder(seed, root) if n_configs is None and n_epochs == 200 else \
        Path(root) / f"nb201-synthetic-seed{seed}-n{n_configs}-e{n_epochs}"
    meta_file = folder / "table.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        info = meta.get("info", {})
        if (info.get("generator_version") == GENERATOR_VERSION and info.get("seed") == seed
                and (folder / "objectives.npy").exists()
                and (folder / "hyperparameters.parquet").exists()):
            return folder
    return write_exchange(build_table(seed, n_configs=n_configs, n_epochs=n_epochs), folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the NAS-Bench-201-shaped synthetic table.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--describe", action="store_true", help="print structure statistics")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    folder = ensure_exchange(args.seed, args.root)
    print(f"{folder}  ({time.perf_counter() - t0:.1f} s)")
    if args.describe:
        print(json.dumps(describe(read_exchange(folder)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
