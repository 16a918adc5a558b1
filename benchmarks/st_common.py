"""Helpers shared by the scripts that run inside the Syne Tune venv (``st_*_side.py``).

This module imports neither hposim nor Syne Tune at module level: it reads the exchange files
written by ``nb201_table.write_exchange`` and builds Syne Tune objects from them on demand.

Example (inside ``benchmarks/.venv-syne-tune``)::

    bb = st_blackbox_from_exchange(Path("benchmarks/data/nb201-synthetic-seed0"))
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def read_exchange_meta(folder: Path) -> dict:
    """The ``table.json`` of an exchange folder."""
    return json.loads((Path(folder) / "table.json").read_text())


def st_spaces(meta: dict, hyperparameters: pd.DataFrame) -> tuple[dict, dict]:
    """Syne Tune configuration and fidelity spaces for the exchange table."""
    from syne_tune.config_space import choice, randint

    ops = meta["info"]["ops"]
    config_space = {name: choice(list(ops)) for name in hyperparameters.columns}
    fids = meta["fidelity_values"]
    fidelity_space = {meta["fidelity_name"]: randint(int(min(fids)), int(max(fids)))}
    return config_space, fidelity_space


def st_blackbox_from_exchange(folder: Path) -> Any:
    """A Syne Tune ``BlackboxTabular`` over the exchange table (objectives loaded in memory)."""
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular

    folder = Path(folder)
    meta = read_exchange_meta(folder)
    hp = pd.read_parquet(folder / "hyperparameters.parquet")
    config_space, fidelity_space = st_spaces(meta, hp)
    objectives = np.load(folder / "objectives.npy")
    return BlackboxTabular(
        hyperparameters=hp,
        configuration_space=config_space,
        fidelity_space=fidelity_space,
        objectives_evaluations=objectives,
        fidelity_values=np.asarray(meta["fidelity_values"]),
        objectives_names=list(meta["objectives_names"]),
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_status() -> dict:
    """Current anonymous (private heap) and file-backed resident memory in MiB, from
    ``/proc/self/status``; file-backed pages include memory-mapped table pages faulted in
    (with the kernel's read-ahead), which are shared page cache, not private memory."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def emit(record: dict) -> None:
    """Print one JSON record on stdout (the parent benchmark parses the last line)."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def lookup_rate(fn, n: int, min_seconds: float) -> float:
    """Lookups per second of ``fn`` (which performs ``n`` lookups), repeated for ``min_seconds``."""
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return calls * n / elapsed


def add_run_args(parser: Any, default_seeds: list[int]) -> None:
    """The experiment options every surrogate-benchmark process takes: seeds, workers, budget."""
    parser.add_argument("--seeds", type=int, nargs="+", default=default_seeds, help="one experiment per seed")
    parser.add_argument("--n-workers", type=int, default=4, help="simulated workers")
    parser.add_argument("--max-time", type=float, default=7_200.0,
                        help="simulated-time budget of each experiment (seconds)")


def add_delay_args(parser: Any) -> None:
    """Syne Tune's simulator delays (as in st_simulator_side.py) and its backend sleep time."""
    parser.add_argument("--delays", choices=["default", "zero"], default="zero",
                        help="Syne Tune's simulator delays (as in st_simulator_side.py)")
    parser.add_argument("--sleep-time", type=float, default=0.1,
                        help="tuner_sleep_time of Syne Tune's backend with --delays zero")


def best_final_callback(metric: str, fidelity_name: str, max_fidelity: int, max_time: float):
    """A Syne Tune ``TunerCallback`` that tracks the final reports: those at fidelity
    ``max_fidelity`` made at simulated time (``ST_TUNER_TIME``) <= ``max_time``. Its ``n_final`` counts
    them, its ``best_final`` is the smallest ``metric`` among them (inf when none)."""
    from syne_tune.constants import ST_TUNER_TIME
    from syne_tune.tuner_callback import TunerCallback

    class BestFinalCallback(TunerCallback):
        def __init__(self):
            self.n_final = 0
            self.best_final = float("inf")

        def on_trial_result(self, trial, status, result, decision):
            if result[fidelity_name] >= max_fidelity and result[ST_TUNER_TIME] <= max_time:
                self.n_final += 1
                self.best_final = min(self.best_final, float(result[metric]))

    return BestFinalCallback()


@contextlib.contextmanager
def private_synetune_folder(prefix: str):
    """Syne Tune logging off (it logs at INFO/WARNING) and ``SYNETUNE_FOLDER`` set to a fresh
    temporary folder, removed on exit (the tuner still creates its folder there)."""
    logging.disable(logging.WARNING)
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.environ["SYNETUNE_FOLDER"] = workdir
    try:
        yield Path(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def quiet_tuner(backend: Any, scheduler: Any, callbacks: list, *, max_time: float, n_workers: int,
                name: str) -> Any:
    """A Syne Tune ``Tuner`` over a simulator backend that neither prints, saves nor sleeps, stopped
    after ``max_time`` simulated seconds (the setup every ``st_*_side.py`` experiment uses)."""
    from syne_tune import StoppingCriterion, Tuner
    return Tuner(trial_backend=backend, scheduler=scheduler,
                 stop_criterion=StoppingCriterion(max_wallclock_time=max_time),
                 n_workers=n_workers, sleep_time=0, callbacks=callbacks,
                 save_tuner=False, results_update_interval=1e9, print_update_interval=1e9,
                 tuner_name=name)
