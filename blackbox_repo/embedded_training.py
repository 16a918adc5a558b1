"""Real training behind the embedded default blackbox ``mlp-sklearn``.

A scikit-learn ``MLPClassifier`` is trained epoch by epoch (``partial_fit``: one shuffled
pass over the training set per call) on datasets bundled with scikit-learn, so everything
runs offline. Each task has a fixed stratified train/validation/test split (60/20/20,
``random_state=0``) and features standardized on the training part. The seed passed to
``train_mlp`` sets the network's initialisation and the shuffling of the minibatches.

Per epoch the curve records ``elapsed_time`` (cumulative seconds of ``partial_fit`` only,
measured with ``time.perf_counter``; evaluation is not counted), ``train_loss`` (the
training loss reported by scikit-learn, including the L2 penalty), ``valid_error`` and
``test_error`` (1 - accuracy). A run whose weights become non-finite stops there: the
remaining epochs are NaN ("evaluation failed").

Regenerate the embedded files (about 20 minutes on 2 cores; see ``--help``)::

    python -m blackbox_repo.embedded_training --n-jobs 2

Example:
    >>> curves = train_mlp(dict(learning_rate_init=0.01, alpha=1e-4, n_units=16, n_layers=1,
    ...                         activation="relu", batch_size=64, solver="adam"),
    ...                    seed=0, task="breast_cancer", n_epochs=3)
    >>> sorted(curves), len(curves["valid_error"])
    (['elapsed_time', 'test_error', 'train_loss', 'valid_error'], 3)
"""
from __future__ import annotations

import argparse
import datetime as _dt
import functools
import os
import platform
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, loguniform, lograndint, ordinal, randint

__all__ = ["SPACE", "TASKS", "OBJECTIVES", "NAME", "train_mlp", "load_task", "quality_figures",
           "generate_task", "main"]

NAME = "mlp-sklearn"
OBJECTIVES = ["elapsed_time", "train_loss", "valid_error", "test_error"]
METRIC, MODE, ELAPSED = "valid_error", "min", "elapsed_time"

#: The declared configuration space sampled for the embedded blackbox.
SPACE = ConfigurationSpace({
    "learning_rate_init": loguniform(1e-4, 1e-1),
    "alpha": loguniform(1e-6, 1e-1),
    "n_units": lograndint(8, 64),
    "n_layers": randint(1, 3),
    "activation": choice(["relu", "tanh", "logistic"]),
    "batch_size": ordinal([32, 64, 128, 256]),
    "solver": choice(["adam", "sgd"]),
})

#: task name -> (scikit-learn loader name, description)
TASKS: dict[str, tuple[str, str]] = {
    "digits": ("load_digits", "8x8 handwritten digits, 1797 samples, 64 features, 10 classes"),
    "breast_cancer": ("load_breast_cancer", "Wisconsin breast cancer, 569 samples, 30 features, 2 classes"),
    "wine": ("load_wine", "wine cultivars, 178 samples, 13 features, 3 classes"),
}

SPLIT_SEED = 0


@dataclass(frozen=True)
class TaskData:
    """One task's fixed split, standardized with the training part's statistics."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"n_train": len(self.y_train), "n_valid": len(self.y_valid), "n_test": len(self.y_test),
                "n_features": int(self.X_train.shape[1]), "n_classes": len(self.classes)}


@functools.lru_cache(maxsize=None)
def load_task(task: str) -> TaskData:
    """The fixed 60/20/20 stratified split of a bundled scikit-learn dataset."""
    import sklearn.datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if task not in TASKS:
        import difflib
        close = difflib.get_close_matches(task, TASKS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise BlackboxError(f"unknown task {task!r}{hint}; known tasks: {sorted(TASKS)}")
    X, y = getattr(sklearn.datasets, TASKS[task][0])(return_X_y=True)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, random_state=SPLIT_SEED, stratify=y)
    X_valid, X_test, y_valid, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, random_state=SPLIT_SEED, stratify=y_rest)
    scaler = StandardScaler().fit(X_train)
    return TaskData(scaler.transform(X_train), y_train, scaler.transform(X_valid), y_valid,
                    scaler.transform(X_test), y_test, np.unique(y))


def train_mlp(config: dict[str, Any], seed: int, *, task: str, n_epochs: int) -> dict[str, list[float]]:
    """Train one configuration with one seed for ``n_epochs`` epochs; whole curves per objective.

    This is the ``fn(config, seed)`` given to ``blackbox_repo.generate``.
    """
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    data = load_task(task)
    clf = MLPClassifier(
        hidden_layer_sizes=(int(config["n_units"]),) * int(config["n_layers"]),
        activation=config["activation"], solver=config["solver"], alpha=float(config["alpha"]),
        batch_size=int(config["batch_size"]), learning_rate_init=float(config["learning_rate_init"]),
        shuffle=True, random_state=int(seed))
    nan = float("nan")
    curves: dict[str, list[float]] = {name: [] for name in OBJECTIVES}
    elapsed = 0.0
    failed = False
    # one BLAS thread: these matrices are small, and threads only fight over shared cores
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_epochs):
            if not failed:
                start = time.perf_counter()
                try:
                    clf.partial_fit(data.X_train, data.y_train, classes=data.classes)
                except ValueError:  # scikit-learn refuses non-finite weights: the run diverged
                    failed = True
                elapsed += time.perf_counter() - start
                failed = failed or not np.isfinite(clf.loss_)
            if failed:
                for name in OBJECTIVES:
                    curves[name].append(nan)
                continue
            curves["elapsed_time"].append(elapsed)
            curves["train_loss"].append(float(clf.loss_))
            curves["valid_error"].append(float(np.mean(clf.predict(data.X_valid) != data.y_valid)))
            curves["test_error"].append(float(np.mean(clf.predict(data.X_test) != data.y_test)))
    return curves


# ---------------------------------------------------------------------------- quality
def _mean_over_seeds(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=1)


def quality_figures(bb: TabularBlackbox, *, metric: str = METRIC, k: int = 10) -> dict[str, Any]:
    """How multi-fidelity the table is, on the seed-averaged ``metric``.

    ``spearman_first_last``: rank correlation over configurations between the first and the
    last fidelity (1 would mean the first epoch already ranks configurations perfectly);
    ``spearman_vs_last``: the same for every fidelity; ``top{k}_overlap_first_last``: how many
    of the ``k`` best configurations at the first fidelity are among the ``k`` best at the last;
    ``rank_at_first_of_best_at_last``: where the finally best configuration stood after epoch 1;
    ``spearman_first_last_best_quarter``: the rank correlation among the configurations in the
    best quarter at the last fidelity (the ones an HPO method must tell apart).
    """
    from scipy.stats import spearmanr

    values = _mean_over_seeds(bb.objective(metric))          # (n_configs, n_fidelities)
    sign = 1.0 if bb.mode == "min" else -1.0
    ok = ~np.isnan(values).any(axis=1)
    v = sign * values[ok]
    first, last = v[:, 0], v[:, -1]
    per_fid = [float(spearmanr(v[:, j], last).statistic) for j in range(v.shape[1])]
    top_first = set(np.argsort(first, kind="stable")[:k].tolist())
    top_last = set(np.argsort(last, kind="stable")[:k].tolist())
    rank_first = np.argsort(np.argsort(first, kind="stable"), kind="stable")
    best_last = int(np.argmin(last))
    best_err = float(values[ok][best_last, -1])
    quarter = last <= np.quantile(last, 0.25)
    return {
        "metric": metric,
        "n_configs_used": int(ok.sum()),
        "spearman_first_last": per_fid[0],
        "spearman_first_last_best_quarter": float(spearmanr(first[quarter], last[quarter]).statistic),
        "spearman_vs_last": {str(f): r for f, r in zip(bb.fidelity_values.tolist(), per_fid)},
        f"top{k}_overlap_first_last": len(top_first & top_last),
        "rank_at_first_of_best_at_last": int(rank_first[best_last]) + 1,
        "best_last_value": best_err,
        "n_nan_cells": int(np.isnan(bb.objectives).sum()),
    }


# ---------------------------------------------------------------------------- generation
def generate_task(task: str, *, n_configs: int, n_seeds: int, n_epochs: int, n_jobs: int,
                  checkpoint_dir: Path | None, random_state: int = 0,
                  progress: bool = True) -> TabularBlackbox:
    """Generate one task's table with ``blackbox_repo.generate``."""
    from blackbox_repo.generate import generate

    load_task(task)  # fail fast on an unknown task
    fn: Callable[[dict, int], dict] = functools.partial(train_mlp, task=task, n_epochs=n_epochs)
    return generate(
        fn, SPACE, fidelities=range(1, n_epochs + 1), seeds=n_seeds, n_jobs=n_jobs, n_configs=n_configs,
        objectives_names=OBJECTIVES, metric_elapsed_time=ELAPSED, metric=METRIC, mode=MODE,
        fidelity_name="epoch", checkpoint_dir=checkpoint_dir, random_state=random_state,
        significant_digits=4, progress=progress)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical cores"


def embedded_root() -> Path:
    return Path(__file__).resolve().parent / "embedded" / NAME


def _default_checkpoints() -> Path:
    home = Path(os.environ.get("HPOSIM_HOME") or "~/.cache/hposim").expanduser()
    return home / "generate-checkpoints" / NAME


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m blackbox_repo.embedded_training",
        description=f"Regenerate the embedded blackbox {NAME!r} by training scikit-learn MLPs.")
    p.add_argument("--tasks", default="digits,breast_cancer,wine",
                   help=f"comma-separated tasks among {sorted(TASKS)} (default: %(default)s)")
    p.add_argument("--n-configs", type=int, default=500, help="configurations per task (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=27, help="fidelity levels 1..N (default: %(default)s)")
    p.add_argument("--n-jobs", type=int, default=2, help="joblib processes (default: %(default)s)")
    p.add_argument("--random-state", type=int, default=0, help="seed of the configuration sampling")
    p.add_argument("--checkpoint-dir", type=Path, default=_default_checkpoints(),
                   help="folder of finished chunks; rerun with it to resume (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder holding <task>/ folders (default: the package's embedded/mlp-sklearn)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import sklearn

    from blackbox_repo.storage import save_tabular

    args = _parser().parse_args(argv)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    for t in tasks:
        load_task(t)
    out = args.out or embedded_root()
    command = "python -m blackbox_repo.embedded_training " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    machine = _machine()
    total_start = time.perf_counter()
    for task in tasks:
        bb = generate_task(task, n_configs=args.n_configs, n_seeds=args.seeds, n_epochs=args.epochs,
                           n_jobs=args.n_jobs, checkpoint_dir=args.checkpoint_dir / task,
                           random_state=args.random_state, progress=not args.no_progress)
        report = bb.metadata["generation"]
        quality = quality_figures(bb)
        date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        source = (f"trained with scikit-learn {sklearn.__version__} (Python {platform.python_version()}) "
                  f"on {machine}, {date}, command: {command}")
        extra = {
            "description": f"scikit-learn MLPClassifier trained epoch by epoch (partial_fit) on {task}: "
                           f"{TASKS[task][1]}; fixed stratified 60/20/20 split, features standardized",
            "dataset": {"loader": f"sklearn.datasets.{TASKS[task][0]}", "split_seed": SPLIT_SEED,
                        **load_task(task).sizes()},
            "seeds": bb.metadata["seeds"],
            "objectives_doc": {
                "elapsed_time": "cumulative seconds of partial_fit (training only), time.perf_counter",
                "train_loss": "MLPClassifier.loss_ after the epoch (log loss + L2 penalty)",
                "valid_error": "1 - accuracy on the validation split",
                "test_error": "1 - accuracy on the test split"},
            "sampling": {"random_state": args.random_state, "significant_digits": 4},
            "generation": {**report, "command": command,
                           "generation_seconds": round(report["wall_seconds_total"], 1)},
            "quality": quality,
        }
        folder = out / task
        save_tabular(bb, folder, name=NAME, task=task, source=source, extra=extra, build_cache=False)
        print(f"{task}: {bb!r}; {report['n_computed']} computed, {report['n_resumed']} resumed, "
              f"{report['n_failed']} failed in {report['wall_seconds_total']:.0f} s "
              f"(this run {report['wall_seconds']:.0f} s); "
              f"Spearman(first, last)={quality['spearman_first_last']:.3f}, "
              f"top-10 overlap={quality['top10_overlap_first_last']}; saved to {folder}", flush=True)
    # save_tabular's lock files are not blackbox data: keep the package folder to the data only
    for lock in out.glob("*.lock"):
        if lock.is_file():
            lock.unlink(missing_ok=True)
    print(f"total {time.perf_counter() - total_start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    # run the importable module's main, so worker processes unpickle
    # blackbox_repo.embedded_training.train_mlp rather than a function of __main__
    from blackbox_repo.embedded_training import main as _main

    sys.exit(_main())
