"""Execution engines: the same batches of runs, run serially, on local processes, or on a cluster.

- ``serial``: in this process.
- ``local``: joblib's loky process pool (``jobs`` processes, reused between batches); the
  workers exit with the driver, even when it is killed with SIGKILL.
- ``dask``: dask.distributed, on the cluster at ``address``, or on a ``LocalCluster`` of
  ``jobs`` worker processes started (and stopped) for you.
- ``ray``: joblib's Ray backend, on the Ray cluster at ``address`` (``"auto"`` for the
  current one), or on a local Ray started with ``jobs`` CPUs.

Each engine maps a picklable module-level function over a list of items and yields results
as they finish (unordered). Worker processes are long-lived, so module-level caches (the
blackbox cache) survive from one batch to the next.

Example:
    >>> sorted(map_unordered(abs, [-2, -1], engine="serial"))
    [1, 2]
"""
from __future__ import annotations

import contextlib
import difflib
import os
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from blackbox_repo.errors import InputError

__all__ = ["ENGINES", "map_unordered", "EngineError", "check_engine"]

ENGINES = ("serial", "local", "dask", "ray")


class EngineError(InputError):
    """Unknown engine, or the engine's package is not installed."""


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        close = difflib.get_close_matches(engine, ENGINES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise EngineError(f"unknown engine {engine!r}; engines: {list(ENGINES)}.{hint}")
    need = {"dask": ("distributed", "dask"), "ray": ("ray", "ray")}.get(engine)
    if need:
        try:
            __import__(need[0])
        except ImportError:
            raise EngineError(f"engine {engine!r} needs the package {need[0]!r}: "
                              f"pip install 'hposim[{need[1]}]'") from None


def map_unordered(fn: Callable[[Any], Any], items: Iterable[Any], *, engine: str = "serial",
                  jobs: int = 1, address: str | None = None) -> Iterator[Any]:
    """``fn(item)`` for every item, yielded as they finish."""
    check_engine(engine)
    items = list(items)
    if not items:
        return iter(())
    if engine == "serial":
        return (fn(x) for x in items)
    if engine == "local":
        return _joblib_map(fn, items, jobs, backend="loky")
    if engine == "dask":
        return _dask_map(fn, items, jobs, address)
    return _ray_map(fn, items, jobs, address)


def _exit_with_parent(parent_pid: int, interval: float = 0.2) -> None:
    """loky worker initializer: exit as soon as the driver process is gone.

    A driver killed with SIGKILL cannot shut its pool down, and idle loky workers would
    linger for their idle timeout (300 s), holding memory-mapped blackboxes. A daemon thread
    polls the parent pid (a worker is re-parented when its driver dies)."""
    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                os._exit(1)

    if os.getppid() == parent_pid:
        threading.Thread(target=watch, daemon=True, name="hposim-exit-with-parent").start()


def _joblib_map(fn: Callable, items: list, jobs: int, backend: str) -> Iterator[Any]:
    from joblib import Parallel, delayed

    if backend == "loky":
        from joblib._parallel_backends import LokyBackend

        backend = LokyBackend(initializer=_exit_with_parent, initargs=(os.getpid(),))
    parallel = Parallel(n_jobs=max(1, jobs), backend=backend, return_as="generator_unordered",
                        batch_size=1, pre_dispatch="n_jobs")
    yield from parallel(delayed(_in_loky_worker)(fn, x) for x in items)


def _in_loky_worker(fn: Callable[[Any], Any], item: Any) -> Any:
    """Run ``fn(item)`` in a loky worker that keeps its memory-mapped blackboxes.

    loky replaces a worker whose resident memory grew by more than 300 MB since its first
    task, taking that for a leak; but the pages of a memory-mapped table count as resident
    once read, so large tables would restart workers (and reload blackboxes) every batch.
    The per-process blackbox cache is bounded, so the check is switched off here.
    """
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # another joblib layout: nothing to switch off
        pass
    else:
        if hasattr(process_executor, "_MAX_MEMORY_LEAK_SIZE"):
            process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    return fn(item)


def _dask_map(fn: Callable, items: list, jobs: int, address: str | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster, as_completed

    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                dashboard_address=":0"))          # any free port: 8787 is often taken
            client = stack.enter_context(Client(cluster))
        futures = client.map(fn, items, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()


def _ray_map(fn: Callable, items: list, jobs: int, address: str | None) -> Iterator[Any]:
    import ray
    from ray.util.joblib import register_ray

    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, jobs), include_dashboard=False, log_to_driver=False)
        started = True
    register_ray()
    try:
        # Ray's joblib backend returns lists only: run chunks of 2 items per job through one
        # Parallel (its worker pool is kept between calls), so progress is reported per chunk
        from joblib import Parallel, delayed

        n = max(1, jobs)
        with Parallel(n_jobs=n, backend="ray", batch_size=1) as parallel:
            for i in range(0, len(items), 2 * n):
                yield from parallel(delayed(fn)(x) for x in items[i:i + 2 * n])
    finally:
        if started:
            ray.shutdown()
