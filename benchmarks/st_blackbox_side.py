"""Syne Tune 0.16 side of the blackbox benchmark; run by ``benchmarks/.venv-syne-tune/bin/python``.

Modes (each prints one JSON record on its last stdout line):

``prepare``  build a ``BlackboxTabular`` from the exchange files and write it in Syne Tune's own
             on-disk format (``serialize``) into ``--st-dir`` unless it is already there;
``open``     time ``deserialize(--st-dir)`` (Syne Tune's way of opening a cached table);
``lookup``   whole-curve lookups: by integer config id through ``objective_function`` (one call per
             lookup: Syne Tune has no batch lookup), by configuration dict (what its simulator back-end
             does for every trial), and, as a floor, one NumPy fancy-indexing operation on the
             blackbox's ``objectives_evaluations`` array per batch of ``--batch`` ids (not a Syne Tune API).

It never imports hposim. Example::

    .venv-syne-tune/bin/python st_blackbox_side.py open --st-dir data/st-nb201-seed0
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import emit, lookup_rate as _rate, peak_rss_mb, st_blackbox_from_exchange  # noqa: E402

TASK = "nb201-synthetic"


def prepare(exchange: Path, st_dir: Path) -> dict:
    from syne_tune.blackbox_repository.blackbox_tabular import serialize

    if (st_dir / "objectives_evaluations.npy").exists():
        return {"mode": "prepare", "cached": True}
    t0 = time.perf_counter()
    bb = st_blackbox_from_exchange(exchange)
    tmp = st_dir.with_name(st_dir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    serialize({TASK: bb}, str(tmp))
    tmp.rename(st_dir)
    return {"mode": "prepare", "cached": False, "seconds": time.perf_counter() - t0}


def open_table(st_dir: Path) -> dict:
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    t0 = time.perf_counter()
    bb = deserialize(str(st_dir))[TASK]
    seconds = time.perf_counter() - t0
    return {"mode": "open", "seconds": seconds, "shape": list(bb.objectives_evaluations.shape),
            "peak_rss_mb": peak_rss_mb()}


def lookup(st_dir: Path, *, n_batch: int, batch: int, n_single: int, seed: int, min_seconds: float) -> dict:
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    bb = deserialize(str(st_dir))[TASK]
    n_configs, n_seeds = bb.objectives_evaluations.shape[:2]
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_configs, n_batch)
    seeds = rng.integers(0, n_seeds, n_batch)
    chunks = [(ids[i:i + batch], seeds[i:i + batch]) for i in range(0, n_batch, batch)]
    single_ids = ids[:n_single].tolist()
    single_seeds = seeds[:n_single].tolist()
    n_config = max(1, n_single // 10)  # dict lookups go through pandas: far slower
    configs = [bb.hyperparameters.iloc[i].to_dict() for i in single_ids[:n_config]]
    checksum = float(np.asarray(bb.objective_function(single_ids[0], seed=single_seeds[0])).sum())

    def by_id():
        for i, s in zip(single_ids, single_seeds):
            bb.objective_function(i, seed=s)

    def by_config():
        for c, s in zip(configs, single_seeds):
            bb.objective_function(c, seed=s)

    def numpy_floor():
        for c_ids, c_seeds in chunks:
            bb.objectives_evaluations[c_ids, c_seeds]

    return {
        "mode": "lookup",
        "by_id_per_s": _rate(by_id, n_single, min_seconds),
        "by_config_per_s": _rate(by_config, n_config, min_seconds),
        "numpy_fancy_index_per_s": _rate(numpy_floor, n_batch, min_seconds),
        "batch": batch,
        "checksum": checksum,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prepare", "open", "lookup"])
    parser.add_argument("--exchange", type=Path, help="exchange folder (for prepare)")
    parser.add_argument("--st-dir", type=Path, required=True, help="Syne Tune serialized table")
    parser.add_argument("--n-batch", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--n-single", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.mode == "prepare":
        if args.exchange is None:
            parser.error("prepare needs --exchange")
        emit(prepare(args.exchange, args.st_dir))
    elif args.mode == "open":
        emit(open_table(args.st_dir))
    else:
        emit(lookup(args.st_dir, n_batch=args.n_batch, batch=args.batch, n_single=args.n_single,
                    seed=args.seed,
                    min_seconds=args.min_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
