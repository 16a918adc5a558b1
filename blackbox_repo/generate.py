"""Build a tabular blackbox by evaluating a user function over configurations and seeds.

``generate(fn, grid_or_space, fidelities, seeds, n_jobs, objectives_names=...)`` calls
``fn(config, seed)`` once per (configuration, seed) pair. **One call trains one configuration
with one seed through every fidelity level** and returns whole curves: a dict
``objective name -> sequence with one value per fidelity`` (for a network trained epoch by
epoch, the values after epoch 1, 2, ..., N). This is how real training produces learning
curves, and it costs one training run per pair rather than one per fidelity level.

- Calls run in parallel with joblib (loky processes) behind a tqdm progress bar.
- With ``checkpoint_dir``, every finished (configuration, seed) chunk is written there at
  once as one small ``.npy`` file (atomically: temporary file then rename). Running the
  same generation again with the same folder loads the finished chunks and computes only
  the rest, so an interrupted generation resumes without recomputing anything. The folder
  records a fingerprint of the generation (configurations, seeds, fidelities, objectives);
  reusing it for a different generation is an error.
- What ``fn`` returns is validated: a missing or unknown objective, a sequence of the wrong
  length, non-numeric, infinite or beyond-float32 values, or a negative or decreasing
  elapsed time raise ``GenerationError`` naming the configuration, the seed and the
  objective (NaN is a failed evaluation). A metric named like a simulator result column
  (``time``, ``fidelity``, ...) is refused before anything runs.
- A call that raises an exception is recorded as failed: its cells are NaN ("evaluation
  failed/missing"), it is counted in the report (``bb.metadata["generation"]``) and a
  warning is issued; the other calls go on. Failed chunks are not checkpointed, so a rerun
  retries them. If every call fails, ``GenerationError`` is raised.

The caller saves the result, e.g. ``blackbox_repo.storage.save_tabular(bb, folder, ...)``.

Example:
    >>> from blackbox_repo import ConfigurationSpace, choice, randint
    >>> def fn(config, seed):
    ...     curve = [config["x"] / (epoch + seed) for epoch in range(1, 4)]
    ...     return {"loss": curve, "time": [0.1, 0.2, 0.3]}
    >>> space = ConfigurationSpace({"x": randint(1, 3), "opt": choice(["a", "b"])})
    >>> bb = generate(fn, space, fidelities=[1, 2, 3], seeds=2, progress=False,
    ...               objectives_names=["loss", "time"], metric_elapsed_time="time")
    >>> bb.shape
    (6, 2, 3, 2)
    >>> round(bb.evaluate({"x": 2, "opt": "b"}, fidelity=2, seed=1)["loss"], 4)
    0.6667
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox, row_key
from blackbox_repo.configspace import ConfigurationSpace, Float
from blackbox_repo.fs import atomic_file, write_json_atomic
from blackbox_repo.objective_values import FLOAT32_MAX, unstorable
from blackbox_repo.reserved_columns import RESULT_COLUMNS, reserved_metric_error

__all__ = ["generate", "GenerationError", "GenerationReport"]

EvalFn = Callable[[dict, int], Mapping[str, Sequence[float]]]

_MANIFEST = "manifest.json"
_MAX_LISTED_FAILURES = 20


class GenerationError(BlackboxError):
    """The generation cannot proceed: bad input, a bad return value of ``fn``, or no success."""


@dataclass
class GenerationReport:
    """What a generation did. Stored as a dict in ``bb.metadata["generation"]``.

    ``n_computed`` calls ran now, ``n_resumed`` chunks came from the checkpoint folder,
    ``n_failed`` calls raised (their cells are NaN); ``failures`` lists the first few
    as ``{"config_id", "seed", "error"}``. ``wall_seconds`` is this run's duration and
    ``wall_seconds_total`` the sum over every run (interrupted ones included) that shared
    the checkpoint folder, i.e. what the whole generation cost.

    Example:
        >>> from blackbox_repo import ConfigurationSpace, choice
        >>> bb = generate(lambda config, seed: {"loss": [config["x"] / 10]},
        ...               ConfigurationSpace({"x": choice([1, 2, 3])}), fidelities=[1], seeds=2,
        ...               objectives_names=["loss"], progress=False)
        >>> report = GenerationReport(**bb.metadata["generation"])
        >>> report.n_computed, report.n_failed
        (6, 0)
        >>> report.summary()
        '6 (config, seed) runs: 6 computed, 0 resumed from checkpoint, 0 failed; ... s with n_jobs=1'
    """

    n_configs: int
    n_seeds: int
    n_fidelities: int
    n_objectives: int
    n_jobs: int
    n_computed: int = 0
    n_resumed: int = 0
    n_failed: int = 0
    failures: list[dict] = field(default_factory=list)
    wall_seconds: float = 0.0
    wall_seconds_total: float = 0.0
    checkpoint_dir: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        total = self.n_configs * self.n_seeds
        return (f"{total} (config, seed) runs: {self.n_computed} computed, {self.n_resumed} resumed "
                f"from checkpoint, {self.n_failed} failed; {self.wall_seconds:.1f} s with "
                f"n_jobs={self.n_jobs}")


# ---------------------------------------------------------------------------- inputs
def _round_significant(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def _sample_configs(space: ConfigurationSpace, n_configs: int, random_state: int,
                    significant_digits: int | None) -> list[dict]:
    """``n_configs`` distinct configurations, reproducible from ``random_state``."""
    rng = np.random.default_rng(random_state)
    floats = {k: d for k, d in space.items() if isinstance(d, Float)}
    configs: list[dict] = []
    seen: set[tuple] = set()
    for _ in range(100):
        for cfg in space.sample(rng, n=max(n_configs - len(configs), 1)):
            if significant_digits is not None:
                for k, dom in floats.items():
                    cfg[k] = min(max(_round_significant(cfg[k], significant_digits), dom.lower), dom.upper)
            key = row_key(list(cfg.values()))
            if key not in seen:
                seen.add(key)
                configs.append(cfg)
            if len(configs) == n_configs:
                return configs
    raise GenerationError(
        f"could only draw {len(configs)} distinct configurations out of n_configs={n_configs} "
        f"from {space!r}; ask for fewer or widen the space")


def _resolve_configs(grid_or_space: Any, n_configs: int | None, random_state: int,
                     significant_digits: int | None) -> tuple[list[dict], ConfigurationSpace | None]:
    if isinstance(grid_or_space, ConfigurationSpace):
        space = grid_or_space
        if len(space) == 0:
            raise GenerationError("the configuration space has no hyperparameters")
        if n_configs is not None and (not isinstance(n_configs, (int, np.integer)) or n_configs < 1):
            raise GenerationError(f"n_configs must be a positive integer, got {n_configs!r}")
        if space.is_finite:
            grid = list(space.grid())
            if n_configs is None:
                return grid, space
            if n_configs > len(grid):
                raise GenerationError(
                    f"n_configs={n_configs} but the finite space has only {len(grid)} configurations; "
                    f"pass n_configs=None for the whole grid")
            rng = np.random.default_rng(random_state)
            picked = np.sort(rng.choice(len(grid), size=n_configs, replace=False))
            return [grid[int(i)] for i in picked], space
        if n_configs is None:
            infinite = [k for k, d in space.items() if not d.is_finite]
            raise GenerationError(
                f"the space has continuous hyperparameters {infinite}, so it has no grid; "
                f"pass n_configs=<number of configurations to sample>")
        return _sample_configs(space, int(n_configs), random_state, significant_digits), space

    if isinstance(grid_or_space, Mapping) or isinstance(grid_or_space, (str, bytes)) \
            or not isinstance(grid_or_space, Sequence):
        raise GenerationError(
            f"grid_or_space must be a ConfigurationSpace or a list of configuration dicts, "
            f"got {type(grid_or_space).__name__}")
    if n_configs is not None:
        raise GenerationError(
            "n_configs only applies to a ConfigurationSpace; with a list of configurations, "
            "pass the configurations you want evaluated")
    configs = [dict(c) if isinstance(c, Mapping) else c for c in grid_or_space]
    if not configs:
        raise GenerationError("the list of configurations is empty")
    bad = [i for i, c in enumerate(configs) if not isinstance(c, dict)]
    if bad:
        raise GenerationError(
            f"configuration #{bad[0]} is a {type(configs[bad[0]]).__name__}, expected a dict "
            f"hyperparameter -> value")
    names = list(configs[0])
    for i, c in enumerate(configs):
        if set(c) != set(names):
            raise GenerationError(
                f"configuration #{i} {c!r} has hyperparameters {sorted(c)}, but configuration #0 "
                f"has {sorted(names)}; every configuration needs the same hyperparameters")
    first: dict[tuple, int] = {}
    for i, c in enumerate(configs):
        key = row_key([c[k] for k in names])
        if key in first:
            raise GenerationError(
                f"configurations #{first[key]} and #{i} are the same: {c!r}; each configuration "
                f"may appear only once")
        first[key] = i
    return [{k: c[k] for k in names} for c in configs], None


def _resolve_seeds(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise GenerationError(f"seeds must be >= 1 (a number of seeds) or a list of seeds, got {seeds}")
        return list(range(int(seeds)))
    try:
        values = [int(s) for s in seeds]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise GenerationError(
            f"seeds must be a number of seeds or a list of integer seeds, got {seeds!r}") from None
    if not values or len(set(values)) != len(values):
        raise GenerationError(f"seeds must be a non-empty list of distinct integers, got {values}")
    return values


# ---------------------------------------------------------------------------- checkpoint
def _fingerprint(configs: list[dict], seeds: list[int], fidelities: np.ndarray,
                 objectives_names: list[str]) -> str:
    payload = json.dumps({"configs": configs, "seeds": seeds, "fidelities": fidelities.tolist(),
                          "objectives": objectives_names}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _chunk_path(folder: Path, ci: int, si: int) -> Path:
    return folder / f"chunk-c{ci:07d}-s{si:04d}.npy"


def _write_atomic(path: Path, array: np.ndarray) -> None:
    with atomic_file(path, fsync=True) as tmp, open(tmp, "wb") as f:
        np.save(f, array)


def _open_checkpoint(folder: Path, fingerprint: str, shape: tuple[int, ...]) -> dict:
    """The folder's manifest (created when new); refuses a folder of another generation."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / _MANIFEST
    if manifest.exists():
        try:
            recorded = json.loads(manifest.read_text())
        except (OSError, ValueError):
            recorded = {}
        if recorded.get("fingerprint") != fingerprint:
            raise GenerationError(
                f"checkpoint_dir {str(folder)!r} holds chunks of a different generation (other "
                f"configurations, seeds, fidelities or objectives); use another folder or delete it")
        return recorded
    recorded = {"fingerprint": fingerprint, "shape": list(shape), "wall_seconds_total": 0.0, "runs": 0}
    write_json_atomic(manifest, recorded, indent=None)
    return recorded


def _close_checkpoint(folder: Path, manifest: dict, wall_seconds: float) -> float:
    """Add this run's wall time to the manifest; the total over every run of this generation."""
    manifest = dict(manifest)
    manifest["wall_seconds_total"] = float(manifest.get("wall_seconds_total", 0.0)) + wall_seconds
    manifest["runs"] = int(manifest.get("runs", 0)) + 1
    write_json_atomic(folder / _MANIFEST, manifest, indent=None)
    return manifest["wall_seconds_total"]


def _load_chunk(path: Path, expected: tuple[int, int]) -> np.ndarray | None:
    """A finished chunk, or None when absent or unreadable (then it is recomputed)."""
    if not path.exists():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return arr if arr.shape == expected else None


# ---------------------------------------------------------------------------- one call
def _validate(result: Any, config: dict, ci: int, seed: int, objectives_names: list[str],
              n_fid: int, metric_elapsed_time: str | None) -> np.ndarray:
    where = f"fn(config #{ci} {config!r}, seed={seed})"
    if not isinstance(result, Mapping):
        raise GenerationError(
            f"{where} returned a {type(result).__name__}; expected a dict objective -> sequence of "
            f"{n_fid} values (one per fidelity), with objectives {objectives_names}")
    missing = [o for o in objectives_names if o not in result]
    if missing:
        raise GenerationError(
            f"{where} did not return objective(s) {missing}; it returned {sorted(map(str, result))}, "
            f"expected {objectives_names}")
    unknown = [o for o in result if o not in objectives_names]
    if unknown:
        raise GenerationError(
            f"{where} returned unknown objective(s) {unknown}; expected exactly {objectives_names} "
            f"(add them to objectives_names to keep them)")
    out = np.empty((n_fid, len(objectives_names)))
    for j, name in enumerate(objectives_names):
        try:
            values = np.asarray(result[name], dtype=float)
        except (TypeError, ValueError):
            raise GenerationError(
                f"{where} returned non-numeric values for objective {name!r}: {result[name]!r}") from None
        if values.shape != (n_fid,):
            got = "a scalar" if values.ndim == 0 else f"shape {values.shape}"
            raise GenerationError(
                f"{where} returned {got} for objective {name!r}; expected a sequence of {n_fid} "
                f"values, one per fidelity")
        problems = unstorable(values, elapsed_time=name == metric_elapsed_time)
        bad = np.union1d(problems.infinite, problems.too_large)
        if len(bad):
            k = int(bad[0])
            raise GenerationError(
                f"{where} returned {float(values[k])!r} for objective {name!r} at fidelity index {k}: "
                f"objectives are stored as float32 and must be finite within ±{FLOAT32_MAX:.4g}; "
                f"return NaN for a failed or missing evaluation")
        if len(problems.negative):
            k = int(problems.negative[0])
            raise GenerationError(
                f"{where} returned a negative elapsed time {float(values[k])!r} for {name!r} at fidelity "
                f"index {k}; elapsed time is the seconds since the trial started and must be >= 0")
        out[:, j] = values
    if metric_elapsed_time is not None:
        t = out[:, objectives_names.index(metric_elapsed_time)]
        t = t[~np.isnan(t)]
        if np.any(np.diff(t) < 0):
            raise GenerationError(
                f"{where} returned a decreasing elapsed time {metric_elapsed_time!r}: {t.tolist()}; "
                f"it must be cumulative (non-decreasing along the fidelities)")
    return out


def _run_chunk(fn: EvalFn, config: dict, ci: int, si: int, seed: int, objectives_names: list[str],
               n_fid: int, metric_elapsed_time: str | None,
               folder: str | None) -> tuple[int, int, np.ndarray | None, str | None]:
    """Evaluate one (configuration, seed) pair; write its checkpoint chunk when it succeeds."""
    try:
        result = fn(dict(config), seed)
    except Exception as e:  # a failed evaluation, recorded as NaN cells
        return ci, si, None, f"{type(e).__name__}: {e}"
    curve = _validate(result, config, ci, seed, objectives_names, n_fid, metric_elapsed_time)
    if folder is not None:
        _write_atomic(_chunk_path(Path(folder), ci, si), curve)
    return ci, si, curve, None


# ---------------------------------------------------------------------------- generate
def generate(
    fn: EvalFn,
    grid_or_space: ConfigurationSpace | Sequence[Mapping[str, Any]],
    fidelities: Sequence[Any],
    seeds: int | Sequence[int],
    n_jobs: int = 1,
    *,
    objectives_names: Sequence[str],
    n_configs: int | None = None,
    metric_elapsed_time: str | None = None,
    metric: str | None = None,
    mode: str = "min",
    fidelity_name: str = "epoch",
    checkpoint_dir: str | os.PathLike | None = None,
    random_state: int = 0,
    significant_digits: int | None = None,
    progress: bool = True,
) -> TabularBlackbox:
    """Evaluate ``fn`` on every (configuration, seed) pair and tabulate the curves.

    Args:
        fn: ``fn(config, seed) -> {objective: sequence over all fidelities}``. One call trains
            one configuration with one seed through every fidelity level (see module docs).
            It must be picklable by cloudpickle when ``n_jobs != 1`` (lambdas and closures are).
        grid_or_space: a list of configuration dicts (evaluated in that order), or a
            ``ConfigurationSpace``: a finite space gives its whole grid (or ``n_configs`` of its
            points drawn without replacement); a space with continuous hyperparameters gives
            ``n_configs`` distinct samples drawn with ``random_state``. The space is kept as the
            blackbox's declared ``configuration_space``.
        fidelities: the fidelity values, strictly increasing (e.g. ``range(1, 28)`` epochs).
        seeds: a number of seeds ``n`` (seeds ``0..n-1``) or a list of seeds passed to ``fn``;
            in the blackbox, seed ``i`` is the index of ``seeds[i]``.
        n_jobs: joblib worker processes (``-1`` = all cores).
        objectives_names: the objectives ``fn`` returns, in table order.
        n_configs: how many configurations to sample from a space.
        metric_elapsed_time: the cumulative elapsed-time objective (checked non-decreasing).
        metric, mode, fidelity_name: defaults recorded in the blackbox.
        checkpoint_dir: folder for finished chunks; rerunning with it resumes.
        random_state: seed of the configuration sampling.
        significant_digits: round sampled float hyperparameters to this many significant
            digits (readable values that users can type back into ``evaluate``).
        progress: show a tqdm progress bar.

    Returns:
        a ``TabularBlackbox`` whose ``metadata["generation"]`` is the ``GenerationReport``
        as a dict and ``metadata["seeds"]`` the seeds passed to ``fn``.
    """
    start = time.perf_counter()
    if not callable(fn):
        raise GenerationError(f"fn must be callable fn(config, seed) -> dict, got {fn!r}")
    objectives_names = [str(o) for o in objectives_names]
    if not objectives_names or len(set(objectives_names)) != len(objectives_names):
        raise GenerationError(f"objectives_names must be non-empty and distinct, got {objectives_names}")
    if metric_elapsed_time is not None and metric_elapsed_time not in objectives_names:
        raise GenerationError(
            f"metric_elapsed_time={metric_elapsed_time!r} is not among objectives_names {objectives_names}")
    if metric is not None and metric not in objectives_names:
        raise GenerationError(f"metric={metric!r} is not among objectives_names {objectives_names}")
    default_metric = metric if metric is not None else next(
        (o for o in objectives_names if o != metric_elapsed_time), objectives_names[0])
    if default_metric in RESULT_COLUMNS:
        raise reserved_metric_error(default_metric, GenerationError)
    if mode not in ("min", "max"):
        raise GenerationError(f"mode={mode!r} is not valid; allowed: 'min' or 'max'")
    fid = np.asarray(list(fidelities))
    if fid.ndim != 1 or len(fid) == 0:
        raise GenerationError(f"fidelities must be a non-empty 1-D sequence, got {fidelities!r}")
    if len(fid) > 1 and np.any(np.diff(fid) <= 0):
        raise GenerationError(f"fidelities must be strictly increasing, got {fid.tolist()}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise GenerationError(f"n_jobs must be a non-zero integer (-1 = all cores), got {n_jobs!r}")

    configs, space = _resolve_configs(grid_or_space, n_configs, random_state, significant_digits)
    seed_values = _resolve_seeds(seeds)
    n_cfg, n_seed, n_fid, n_obj = len(configs), len(seed_values), len(fid), len(objectives_names)
    table = np.full((n_cfg, n_seed, n_fid, n_obj), np.nan, dtype=np.float32)
    report = GenerationReport(n_cfg, n_seed, n_fid, n_obj, int(n_jobs),
                              checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir))
    done = np.zeros((n_cfg, n_seed), dtype=bool)

    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    manifest: dict = {}
    if folder is not None:
        manifest = _open_checkpoint(folder, _fingerprint(configs, seed_values, fid, objectives_names),
                                    table.shape)
        for ci in range(n_cfg):
            for si in range(n_seed):
                chunk = _load_chunk(_chunk_path(folder, ci, si), (n_fid, n_obj))
                if chunk is not None:
                    table[ci, si] = chunk
                    done[ci, si] = True
        report.n_resumed = int(done.sum())

    todo = [(ci, si) for ci in range(n_cfg) for si in range(n_seed) if not done[ci, si]]
    jobs = (delayed(_run_chunk)(fn, configs[ci], ci, si, seed_values[si], objectives_names, n_fid,
                                metric_elapsed_time, None if folder is None else str(folder))
            for ci, si in todo)
    failures: list[dict] = []
    try:
        with tqdm(total=n_cfg * n_seed, initial=report.n_resumed, desc="generate", unit="run",
                  disable=not progress, dynamic_ncols=True) as bar:
            if todo:
                parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
                for ci, si, curve, error in parallel(jobs):
                    if curve is None:
                        failures.append({"config_id": ci, "seed": seed_values[si], "error": error})
                        bar.set_postfix(failed=len(failures))
                    else:
                        table[ci, si] = curve
                        report.n_computed += 1
                    bar.update(1)
    finally:
        report.wall_seconds = report.wall_seconds_total = time.perf_counter() - start
        if folder is not None:
            report.wall_seconds_total = _close_checkpoint(folder, manifest, report.wall_seconds)

    report.n_failed = len(failures)
    report.failures = failures[:_MAX_LISTED_FAILURES]
    if report.n_failed == n_cfg * n_seed:
        shown = "; ".join(f"config #{f['config_id']} seed {f['seed']}: {f['error']}" for f in failures[:3])
        raise GenerationError(f"every one of the {n_cfg * n_seed} calls of fn failed, e.g. {shown}")
    if failures:
        shown = "; ".join(f"config #{f['config_id']} seed {f['seed']}: {f['error']}" for f in failures[:3])
        warnings.warn(f"{report.n_failed} of {n_cfg * n_seed} calls of fn failed (their cells are NaN; "
                      f"a rerun with the same checkpoint_dir retries them), e.g. {shown}",
                      RuntimeWarning, stacklevel=2)

    names = list(space) if space is not None else list(configs[0])
    hyperparameters = pd.DataFrame({k: [c[k] for c in configs] for k in names})
    return TabularBlackbox(
        hyperparameters, table, fid, objectives_names, configuration_space=space,
        fidelity_name=fidelity_name, metric_elapsed_time=metric_elapsed_time, metric=metric,
        mode=mode, metadata={"generation": report.to_dict(), "seeds": seed_values})
