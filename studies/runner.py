"""Running a study: validate, skip what is done, run the rest on an engine, record failures.

``run_study(spec, root, engine="local", jobs=2)`` validates the spec (before any run),
checks the root is writable, writes ``study.yaml``, skips runs already done, and runs every
failed or missing cell. Cells go to workers in small batches of the same benchmark so a
worker process loads each blackbox once (``studies.cache``) and pays little per run. A run
that raises is recorded as ``failed`` with its traceback; the others continue.

Example:
    >>> from studies import Study
    >>> study = Study.from_dict({"name": "doc", "seeds": 1,
    ...     "methods": {"RS": {"method": "RandomSearch"}},
    ...     "benchmarks": {"digits": {"blackbox": "mlp-sklearn/digits", "max_trials": 4}}})
    >>> summary = run_study(study, "/tmp/hposim-doc", engine="serial", progress=False)  # doctest: +SKIP
    >>> summary.ok  # doctest: +SKIP
    True
"""
from __future__ import annotations

import math
import os
import platform
import socket
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.results import encode_run
from studies.engines import check_engine, map_unordered
from studies.fingerprint import (STALE_POLICIES, Provenance, StaleRunsError, fingerprint, format_stale_groups,
                                 provenance, stale_groups)
from studies.layout import RUN_FORMAT, RUN_FORMAT_VERSION, StudyStore
from studies.progress import Progress
from blackbox_repo.errors import InputError
from studies.spec import MAX_RUNS, RunSpec, Study, load_study_spec

__all__ = ["run_study", "RunOutcome", "StudyRunSummary", "simulate_run", "execute_batch", "RunBatch",
           "package_versions", "make_batches", "ELSEWHERE"]

RunFunction = Callable[[RunSpec], "tuple[pd.DataFrame, dict]"]

#: the outcome of a run another process claimed (and computes, or has computed) meanwhile
ELSEWHERE = "elsewhere"


@dataclass
class RunOutcome:
    """What happened to one run (returned by workers; small and picklable).

    Example:
        >>> outcome = RunOutcome("digits", "ASHA", 0, "done", wall_seconds=1.5, n_trials=40, best=0.03)
        >>> outcome.name, outcome.status, outcome.best
        ('digits/ASHA/0', 'done', 0.03)
    """

    benchmark: str
    method: str
    seed: int
    status: str
    wall_seconds: float
    error: str | None = None
    n_trials: int = 0
    best: float | None = None

    @property
    def name(self) -> str:
        return f"{self.benchmark}/{self.method}/{self.seed}"


@dataclass
class StudyRunSummary:
    """The result of ``run_study``: counts, every outcome, and the failures.

    Example:
        >>> import tempfile, pandas as pd
        >>> study = Study.from_dict({"name": "doc", "seeds": 2, "methods": {"RS": "RandomSearch"},
        ...                          "benchmarks": {"b": {"blackbox": "x/y", "max_trials": 2}}})
        >>> fake = lambda run: (pd.DataFrame({"trial_id": [0], "loss": [0.5]}), {"metric": "loss"})
        >>> summary = run_study(study, tempfile.mkdtemp(), run_fn=fake, validate=False, progress=False)
        >>> summary.ok, summary.done, [o.name for o in summary.outcomes]
        (True, 2, ['b/RS/0', 'b/RS/1'])
        >>> print(summary.format())
        study 'doc' at ...: 2 runs, 0 already done, 2 done now, 0 failed (...s)
    """

    study: str
    url: str
    total: int
    skipped: int
    outcomes: list[RunOutcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    #: done runs whose settings differ from the spec's (recomputed with ``stale="rerun"``, kept with ``"keep"``)
    stale: int = 0
    stale_policy: str = "refuse"

    @property
    def done(self) -> int:
        return sum(o.status == "done" for o in self.outcomes)

    @property
    def elsewhere(self) -> list[RunOutcome]:
        """Runs left to another process that claimed them (a concurrent ``study run``)."""
        return [o for o in self.outcomes if o.status == ELSEWHERE]

    @property
    def failures(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status not in ("done", ELSEWHERE)]

    @property
    def ok(self) -> bool:
        return not self.failures

    def format(self) -> str:
        other = f"{len(self.elsewhere)} left to another process, " if self.elsewhere else ""
        stale = ""
        if self.stale:
            stale = (f" (of which {self.stale} stale, kept: --keep-stale)" if self.stale_policy == "keep" else
                     f", {self.stale} stale to recompute (--rerun-stale)")
        lines = [f"study {self.study!r} at {self.url}: {self.total} runs, {self.skipped} already done{stale}, "
                 f"{self.done} done now, {other}{len(self.failures)} failed ({self.wall_seconds:.1f}s)"]
        if self.failures:
            lines.append("failed runs:")
            for o in self.failures:
                lines.append(f"  {o.name}: {o.error}")
            lines.append("tracebacks are in each failed run's metadata.json; rerun the same command to "
                         "retry only the failed and missing runs")
        return "\n".join(lines)


@dataclass(frozen=True)
class RunBatch:
    """A few runs of one benchmark, sent to one worker together.

    Example:
        >>> import tempfile, pandas as pd
        >>> study = Study.from_dict({"name": "doc", "seeds": 2, "methods": {"RS": "RandomSearch"},
        ...                          "benchmarks": {"b": {"blackbox": "x/y", "max_trials": 2}}})
        >>> fake = lambda run: (pd.DataFrame({"trial_id": [0], "loss": [0.5]}), {"metric": "loss"})
        >>> batch = RunBatch(tempfile.mkdtemp(), {}, tuple(study.runs()), run_fn=fake)
        >>> [(o.name, o.status) for o in execute_batch(batch)]
        [('b/RS/0', 'done'), ('b/RS/1', 'done')]
    """

    root: str
    storage_options: Mapping[str, Any]
    runs: tuple[RunSpec, ...]
    run_fn: RunFunction | None = None
    #: environment variables to set in the worker (the driver's ``HPOSIM_*`` for engines on
    #: this machine, so workers find the same blackbox cache)
    env: Mapping[str, str] | None = None


# ---------------------------------------------------------------------------- one run
_OPTIMA: dict[tuple, dict] = {}


def _benchmark_info(bb: Any, name: str, task: str | None, metric: str, mode: str) -> dict:
    """Best and worst tabulated metric value (for normalized regret), cached per process."""
    key = (name, task, metric, mode)
    if key not in _OPTIMA:
        info: dict[str, Any] = {"metric": metric, "mode": mode, "fidelity_name": bb.fidelity_name,
                                "max_fidelity": np.asarray(bb.fidelity_values)[-1].item()}
        values = bb.objective(metric) if hasattr(bb, "objective") else None
        if values is not None:
            arr = np.asarray(values)  # the table's own dtype: no float64 copy of a large table
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN table has no optimum
                lo, hi = (float(np.nanmin(arr)), float(np.nanmax(arr))) if arr.size else (np.nan, np.nan)
            if np.isfinite(lo) and np.isfinite(hi):
                info["optimum"], info["worst"] = (lo, hi) if mode == "min" else (hi, lo)
        _OPTIMA[key] = info
    return dict(_OPTIMA[key])


def simulate_run(run: RunSpec) -> tuple[pd.DataFrame, dict]:
    """Run one cell with the simulator: returns the results table and the run's metadata."""
    from simulator import make_scheduler, simulate
    from studies.cache import get_blackbox, was_loaded

    cached = was_loaded(run.blackbox, run.task)
    bb = get_blackbox(run.blackbox, run.task)
    metric = run.metric or bb.metric
    mode = run.mode or bb.mode
    scheduler = make_scheduler(run.method_name, bb, metric=metric, mode=mode, seed=run.seed,
                               **dict(run.method_args))
    objectives = {}
    if isinstance(metric, (list, tuple)):     # multi-objective: the first metric is the run's metric
        objectives = {"metrics": list(metric), "modes": list(mode)}
        metric, mode = metric[0], mode[0]
    result = simulate(bb, scheduler, n_workers=run.n_workers, stop=dict(run.stop), seed=run.seed,
                      blackbox_seed=run.blackbox_seed, metric=metric, mode=mode)
    meta = {"simulation": dict(result.metadata), "metric": metric, "mode": mode, **objectives,
            "benchmark_info": _benchmark_info(bb, run.blackbox, run.task, metric, mode),
            "blackbox_cache_hit": cached, "trials": result.trials}
    surrogate = _surrogate_settings(bb)
    if surrogate:
        meta["surrogate"] = surrogate
    return result.results, meta


def _surrogate_settings(bb: Any) -> dict | None:
    """A surrogate blackbox's model and settings (from its report card), recorded in the run's
    fingerprint; None for a table."""
    card = (getattr(bb, "metadata", None) or {}).get("surrogate_report_card")
    if not isinstance(card, Mapping):
        return None
    return {k: card.get(k) for k in ("model", "model_kwargs", "seeds", "configuration_space")}


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("hposim", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "fsspec"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


_VERSIONS: dict[str, str] | None = None


def _summarize(results: pd.DataFrame, metric: str | None, mode: str | None) -> dict:
    out: dict[str, Any] = {"n_reports": int(len(results))}
    if "trial_id" in results:
        out["n_trials"] = int(results["trial_id"].nunique())
    if "decision" in results:
        out["n_failed_trials"] = int((results["decision"] == "failed").sum())
    if "time" in results and len(results):
        out["final_time"] = float(results["time"].max())
    if "decision_time" in results:
        out["decision_time_total"] = float(np.nansum(results["decision_time"].to_numpy(dtype=float)))
    if metric and metric in results and len(results):
        v = results[metric].to_numpy(dtype=float)
        if np.isfinite(v).any():
            i = int(np.nanargmin(v) if mode != "max" else np.nanargmax(v))
            out["best"] = float(v[i])
            if "trial_id" in results:
                out["best_trial"] = int(results["trial_id"].iloc[i])
    return out


def _execute_one(store: StudyStore, run: RunSpec, run_fn: RunFunction) -> RunOutcome:
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = package_versions()
    claim = store.claim(run.benchmark, run.method, run.seed)
    if claim is None:          # another live process computes it (a second `hposim study run`)
        holder = store.claim_holder(run.benchmark, run.method, run.seed) or {}
        return RunOutcome(run.benchmark, run.method, run.seed, ELSEWHERE, 0.0,
                          error=f"claimed by pid {holder.get('pid', '?')} on {holder.get('host', '?')}")
    try:
        state = store.read_state(run.benchmark, run.method, run.seed)
        if state is not None and state.status == "done" and not provenance(state.metadata, run).stale:
            # finished by another process meanwhile (with the settings asked for: a stale one is recomputed)
            s = (state.metadata or {}).get("summary", {})
            return RunOutcome(run.benchmark, run.method, run.seed, ELSEWHERE, 0.0, error="done by another process",
                              n_trials=s.get("n_trials", 0), best=s.get("best"))
        return _compute_one(store, run, run_fn)
    finally:
        claim.release()


def _compute_one(store: StudyStore, run: RunSpec, run_fn: RunFunction) -> RunOutcome:
    started = time.time()
    t0 = time.perf_counter()
    meta: dict[str, Any] = {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
                            "run": run.to_dict(), "fingerprint": fingerprint(run), "versions": _VERSIONS,
                            "started": started,
                            "host": socket.gethostname(), "pid": os.getpid()}
    try:
        results, run_meta = run_fn(run)
        run_meta = dict(run_meta)
        trials = run_meta.pop("trials", None)
        if run_meta.get("surrogate"):      # the loaded surrogate's settings belong to what produced the run
            meta["fingerprint"]["surrogate"] = run_meta.pop("surrogate")
        if not isinstance(results, pd.DataFrame):
            raise TypeError(f"run function returned {type(results).__name__}, expected a DataFrame")
        wall = time.perf_counter() - t0
        meta.update(run_meta)
        meta["summary"] = _summarize(results, run_meta.get("metric", run.metric), run_meta.get("mode", run.mode))
        meta.update(status="done", wall_seconds=wall, finished=time.time())
        data = encode_run(results, trials, run_meta.get("simulation", {}))
        store.write_run(run.benchmark, run.method, run.seed, meta, data)
        s = meta["summary"]
        return RunOutcome(run.benchmark, run.method, run.seed, "done", wall,
                          n_trials=s.get("n_trials", 0), best=s.get("best"))
    except Exception as e:
        wall = time.perf_counter() - t0
        err = f"{type(e).__name__}: {e}"
        meta.update(status="failed", wall_seconds=wall, finished=time.time(),
                    error={"type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()})
        try:
            store.write_run(run.benchmark, run.method, run.seed, meta, None)
        except Exception as e2:
            err += f" (and its failure record could not be written: {type(e2).__name__}: {e2})"
        return RunOutcome(run.benchmark, run.method, run.seed, "failed", wall, error=err.splitlines()[0][:500])


def execute_batch(batch: RunBatch) -> list[RunOutcome]:
    """Run every cell of ``batch`` (in a worker process) and write each as it finishes."""
    if batch.env:
        _apply_env(batch.env)
    store = StudyStore(batch.root, batch.runs[0].study, batch.storage_options)
    fn = batch.run_fn or simulate_run
    return [_execute_one(store, r, fn) for r in batch.runs]


#: passed from the driver to worker processes on this machine (never to a remote cluster)
ENV_VARS = ("HPOSIM_HOME", "HPOSIM_MIRROR", "HPOSIM_OFFLINE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED")


def _apply_env(env: Mapping[str, str | None]) -> None:
    """Set the driver's variables; a change empties the blackbox cache and fsspec's cached filesystems."""
    from studies.cache import clear_cache

    changed = False
    for k, v in env.items():
        if os.environ.get(k) != v:
            changed = True
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if changed:
        clear_cache()
        _OPTIMA.clear()
        if "s3fs" in sys.modules:
            sys.modules["s3fs"].S3FileSystem.clear_instance_cache()


def make_batches(runs: Sequence[RunSpec], jobs: int, max_batch: int = 8) -> list[list[RunSpec]]:
    """Group runs by benchmark into batches of at most ``max_batch``, about 4 batches per job."""
    if not runs:
        return []
    size = max(1, min(max_batch, math.ceil(len(runs) / (4 * max(1, jobs)))))
    by_bench: dict[str, list[RunSpec]] = {}
    for r in runs:
        by_bench.setdefault(r.benchmark, []).append(r)
    out = []
    for group in by_bench.values():
        for i in range(0, len(group), size):
            out.append(group[i:i + size])
    return out


# ---------------------------------------------------------------------------- the study
def run_study(spec: "Study | str | Mapping", root: str, *, engine: str = "serial", jobs: int = 1,
              address: str | None = None, storage_options: Mapping[str, Any] | None = None,
              progress: bool | str | None = None, stream: Any = None, run_fn: RunFunction | None = None,
              validate: bool = True, max_batch: int = 8, max_runs: int | None = MAX_RUNS,
              stale: str = "refuse") -> StudyRunSummary:
    """Run every failed or missing cell of a study under ``root`` (any fsspec URL).

    ``engine`` is one of ``serial``, ``local``, ``dask``, ``ray``; ``jobs`` the number of worker
    processes (local, LocalCluster, local Ray); ``address`` an existing Dask scheduler or Ray
    cluster. ``progress``: None or True = a bar on a TTY and plain lines otherwise, ``"bar"`` or
    ``"lines"`` to force one, False = silent.
    ``run_fn(run) -> (results, metadata)`` replaces the simulator (tests, custom runs); a
    ``"trials"`` DataFrame in the metadata is stored in the Parquet file, the rest in metadata.json.
    ``max_runs`` bounds the runs the spec may expand to (``InputError`` above it, before anything
    is written; None: no bound). At most one worker per pending batch is started.
    ``stale``: what to do with done runs whose recorded settings differ from what the spec now
    gives them (``studies.fingerprint``): ``"refuse"`` (raise ``StaleRunsError`` naming them and
    what changed, before anything is run or written), ``"rerun"`` (recompute them; each old
    record is replaced only once its new one is complete) or ``"keep"`` (keep them; ``study
    status`` and the report flag them).
    """
    t0 = time.perf_counter()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"jobs (--jobs) must be a positive integer, got {jobs!r}")
    if stale not in STALE_POLICIES:
        raise InputError(f"stale={stale!r} is not valid; allowed: {list(STALE_POLICIES)} (--rerun-stale, "
                         f"--keep-stale)")
    study = load_study_spec(spec, max_runs=max_runs)
    check_engine(engine)
    if validate:
        study.validate()
    store = StudyStore(root, study.name, storage_options)
    store.check_writable()
    store.cleanup_temporaries()
    states = store.read_states(warn=False, verify=True)   # a done run is skipped only if its checksum holds
    for st in states.values():
        if st.status == "corrupt":
            warnings.warn(f"{st.benchmark}/{st.method}/{st.seed} is corrupt ({st.problem}); computing it again",
                          stacklevel=2)
    runs = study.runs()
    stale_runs = _stale_runs(runs, states)
    if stale_runs and stale == "refuse":      # before the spec is written or any run starts
        raise StaleRunsError(_stale_message(study.name, store.url, stale_runs))
    store.write_spec(study.to_yaml())
    todo = [r for r in runs if not (r.key in states and states[r.key].status == "done"
                                    and (r.key not in stale_runs or stale == "keep"))]
    summary = StudyRunSummary(study.name, store.url, len(runs), len(runs) - len(todo), stale=len(stale_runs),
                              stale_policy=stale)
    stream = stream if stream is not None else sys.stderr
    bar = {"bar": True, "lines": False}.get(progress) if isinstance(progress, str) else None
    prog = Progress(len(todo), stream=stream, bar=bar, skipped=summary.skipped,
                    label=study.name) if progress is not False else None
    # workers on this machine get the driver's blackbox cache and S3 settings; a remote cluster uses its own
    env = None if address else {k: os.environ.get(k) for k in ENV_VARS}
    jobs = max(1, min(jobs, len(todo)))          # never more workers than pending runs
    batches = [RunBatch(root, dict(storage_options or {}), tuple(b), run_fn, env)
               for b in make_batches(todo, jobs if engine != "serial" else 1, max_batch)]
    jobs = max(1, min(jobs, len(batches)))       # ... nor than batches to hand out
    expected = {r.key: r for r in todo}
    try:
        for outcomes in _map_batches(batches, engine, jobs, address):
            for o in outcomes:
                expected.pop((o.benchmark, o.method, o.seed), None)
                summary.outcomes.append(o)
                if prog is not None:
                    prog.update(o.name, o.status, o.wall_seconds)
    except Exception as e:  # the engine itself broke (a worker died, the cluster went away)
        msg = f"engine {engine!r} failed: {type(e).__name__}: {e}"
        for r in expected.values():
            summary.outcomes.append(RunOutcome(r.benchmark, r.method, r.seed, "failed", 0.0, error=msg))
    finally:
        if prog is not None:
            prog.close()
    summary.wall_seconds = time.perf_counter() - t0
    return summary


def _stale_runs(runs: Sequence[RunSpec], states: Mapping[tuple[str, str, int], Any]
                ) -> dict[tuple[str, str, int], Provenance]:
    """The done runs whose record says they were produced with other settings than ``runs`` give."""
    out = {}
    for r in runs:
        st = states.get(r.key)
        if st is not None and st.status == "done":
            prov = provenance(st.metadata, r)
            if prov.stale:
                out[r.key] = prov
    return out


def _stale_message(study: str, url: str, stale_runs: Mapping[tuple[str, str, int], Provenance]) -> str:
    groups = stale_groups(stale_runs)
    return (f"study {study!r} at {url}: {len(stale_runs)} stored run(s) were produced with other settings than "
            f"the spec now gives (stale; per benchmark / method label, what changed old -> new):\n"
            f"{format_stale_groups(groups)}\n"
            f"Nothing was run, and study.yaml is unchanged. Choose: --rerun-stale recomputes them (each old record is replaced "
            f"only once its new one is written), or --keep-stale keeps them ('hposim study status' and the "
            f"report then flag them as stale); from Python, run_study(..., stale=\"rerun\") or stale=\"keep\"")


def _map_batches(batches: list[RunBatch], engine: str, jobs: int, address: str | None) -> Iterator[list]:
    return map_unordered(execute_batch, batches, engine=engine, jobs=jobs, address=address)
