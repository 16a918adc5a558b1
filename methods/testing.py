"""The scheduler conformance suite, public: any scheduler gets every check with one class.

In a test module of your own repository::

    from methods.testing import SchedulerConformance
    from my_package import MyScheduler

    class TestMyScheduler(SchedulerConformance):
        method = MyScheduler                     # a Scheduler subclass, or a registered name
        method_args = {"reduction_factor": 2}    # its arguments besides the common ones

and pytest collects ``TestMyScheduler.test_*``: every check of ``SchedulerConformance``. Every
registered method runs them (``tests/methods/test_conformance.py`` builds one such class per
method and argument variant from ``methods.METHODS``).

Each check runs the real simulator (``simulator.simulate``) -- no second event loop -- on a
small synthetic problem: ``synthetic_table()``, 200 configurations of a mixed space (float,
log-float, integer, categorical) x 3 seeds x fidelities 1..27, objectives ``loss``, ``acc =
-loss`` and a cumulative ``time``; about 30% of the configurations fail (NaN) from some level
on, half of them at their first report. It is built once per class. The scheduler is wrapped
in a ``RecordingScheduler``, which forwards everything and records the protocol calls. Runs are
bounded by ``Stop(max_trials=max_trials)`` (a few dozen trials) and the runs that several
checks share are simulated once per class.

Imports: only test code imports this module (``import methods`` does not); the simulator,
``blackbox_repo.blackbox``, pandas and pytest are imported inside the functions that use them,
so the module keeps the ``methods`` package's layering (stdlib, numpy, scipy, ``methods.*``,
``blackbox_repo.configspace``) and can be imported without pytest.
"""
from __future__ import annotations

import functools
import inspect
import math
import weakref
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationError, ConfigurationSpace, choice, loguniform, randint, uniform
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import create

__all__ = ["SchedulerConformance", "RecordingScheduler", "synthetic_space", "synthetic_curve",
           "synthetic_table", "synthetic_function"]

#: fidelity levels of the synthetic problem (ASHA's rungs 1, 3, 9, 27 with reduction factor 3)
FIDELITIES = tuple(range(1, 28))
#: objectives of the synthetic problem: the metric, its negation (for mode "max"), the time and a
#: model size (the second metric of multi-objective checks)
OBJECTIVES = ("loss", "acc", "time", "size")
#: seeds (repetitions) of the synthetic problem
N_SEEDS = 3
#: the second metric a multi-objective scheduler gets in every check (minimized)
SECOND_OBJECTIVE = "size"
#: fraction of the configurations that fail (NaN from some level on; half at the first level)
FAIL_FRACTION = 0.3

_C_OFFSET = {"a": 0.0, "b": 0.05, "c": 0.1}


def synthetic_space() -> ConfigurationSpace:
    """The space of the synthetic problem: ``x`` uniform, ``lr`` log-uniform, ``n`` integer, ``c`` categorical.

    Example:
        >>> synthetic_space().names
        ['x', 'lr', 'n', 'c']
    """
    return ConfigurationSpace({"x": uniform(0, 1), "lr": loguniform(1e-4, 1e-1), "n": randint(1, 8),
                               "c": choice(["a", "b", "c"])})


def synthetic_curve(config: Mapping[str, Any], seed: int) -> np.ndarray:
    """The synthetic problem's learning curve of ``config`` for ``seed``: ``(27, 4)`` float32
    (loss, acc, time, size per fidelity), deterministic (a hash of the values seeds its noise).

    The loss falls with the fidelity towards a final value best near ``x = 0.3``, ``lr = 10**-2.5``,
    ``n = 4``, ``c = "a"``; the curves cross. Failing configurations have NaN loss (and acc) from
    their failure level on; the time is cumulative, 5 + 5 n seconds per epoch; the size,
    ``n + 2 x`` at every fidelity, conflicts with the loss (best near ``n = 4``, ``x = 0.3``).

    Example:
        >>> curve = synthetic_curve({"x": 0.3, "lr": 0.003, "n": 4, "c": "a"}, seed=0)
        >>> curve.shape, bool(curve[0, 0] > curve[-1, 0]), bool((curve[:, 1] == -curve[:, 0]).all())
        ((27, 4), True, True)
    """
    x, lr, n, c = float(config["x"]), float(config["lr"]), int(config["n"]), str(config["c"])
    key = zlib.crc32(repr((x, lr, n, c)).encode())
    traits = np.random.default_rng(key).random(4)              # the configuration's own
    noise = np.random.default_rng([key, int(seed)]).random(len(FIDELITIES) + 1)
    f = np.asarray(FIDELITIES, dtype=float)
    final = ((x - 0.3) ** 2 + 0.05 * (math.log10(lr) + 2.5) ** 2 + 0.02 * abs(n - 4)
             + _C_OFFSET.get(c, 0.2) + 0.02 * noise[0])
    loss = final + (0.2 + 0.8 * traits[0] + 0.02 * noise[1:]) / f
    if traits[1] < FAIL_FRACTION:
        start = 0 if traits[2] < 0.5 else 1 + int(traits[3] * (len(FIDELITIES) - 1))
        loss[start:] = np.nan
    time = np.cumsum((5.0 + 5.0 * n) * (0.9 + 0.2 * noise[1:]))
    size = np.full(len(FIDELITIES), n + 2.0 * x)
    return np.column_stack([loss, -loss, time, size]).astype(np.float32)


def synthetic_table(n_configs: int = 200, seed: int = 0) -> Any:
    """The synthetic problem tabulated: ``n_configs`` random configurations x 3 seeds, a
    ``blackbox_repo.blackbox.TabularBlackbox`` (metric ``loss``, elapsed time ``time``).

    Example:
        >>> table = synthetic_table(20)
        >>> table.shape, table.configuration_space == synthetic_space()
        ((20, 3, 27, 4), True)
    """
    import pandas as pd

    from blackbox_repo.blackbox import TabularBlackbox

    space = synthetic_space()
    configs = space.sample(np.random.default_rng(seed), n_configs)
    objectives = np.stack([[synthetic_curve(c, s) for s in range(N_SEEDS)] for c in configs])
    return TabularBlackbox(pd.DataFrame(configs, columns=space.names), objectives, FIDELITIES,
                           list(OBJECTIVES), configuration_space=space, metric_elapsed_time="time",
                           metric="loss", mode="min", metadata={"name": "conformance", "task": "synthetic"})


@functools.lru_cache(maxsize=1)
def synthetic_function() -> Any:
    """The synthetic problem as a computed blackbox over the whole space (no table): for
    schedulers run without candidates.

    Example:
        >>> bb = synthetic_function()
        >>> round(bb.evaluate({"x": 0.3, "lr": 0.003, "n": 4, "c": "a"}, fidelity=27)["time"])
        682
    """
    from blackbox_repo.blackbox import Blackbox

    class SyntheticFunction(Blackbox):
        """``synthetic_curve`` behind the blackbox interface."""

        def __init__(self) -> None:
            self.configuration_space = synthetic_space()
            self.fidelity_name = "epoch"
            self.fidelity_values = np.asarray(FIDELITIES)
            self.objectives_names = list(OBJECTIVES)
            self.metric_elapsed_time = "time"
            self.metric, self.mode = "loss", "min"
            self.num_seeds = N_SEEDS
            self.metadata = {"name": "conformance", "task": "synthetic-function"}

        def evaluate(self, config: Mapping[str, Any], fidelity: Any = None,
                     seed: int | None = None) -> dict[str, Any]:
            curve = synthetic_curve(config, self.check_seed(seed))
            if fidelity is None:
                return {name: curve[:, j] for j, name in enumerate(OBJECTIVES)}
            k = self.fidelity_index(fidelity)
            return {name: float(curve[k, j]) for j, name in enumerate(OBJECTIVES)}

    return SyntheticFunction()


class RecordingScheduler:
    """A scheduler wrapped to record the protocol calls made to it; all else is forwarded.

    ``calls`` lists, in order: ``("suggest", time, suggestion)``, ``("start", trial,
    suggestion)`` (the suggestion it started from), ``("discard", suggestion)``, ``("report",
    trial, fidelity, decision)``, ``("skipped", trial, fidelities)`` and ``("end", trial,
    status)``. A ``suggest`` answer that is neither a ``Suggestion`` nor ``None``, or a new
    configuration outside ``config_space`` (given), fails at once with an ``AssertionError``.

    Example:
        >>> from methods import create
        >>> rec = RecordingScheduler(create("RandomSearch", synthetic_space(), metric="loss"))
        >>> s = rec.suggest(0.0)
        >>> rec.on_start(Trial(0, s.config, s.meta))
        >>> rec.metric, [call[0] for call in rec.calls], rec.starts[0][1] is s
        ('loss', ['suggest', 'start'], True)
    """

    def __init__(self, scheduler: Any, config_space: ConfigurationSpace | None = None):
        self.wrapped = scheduler
        self.calls: list[tuple] = []
        self._space = config_space
        self._last: Suggestion | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return f"RecordingScheduler({self.wrapped!r})"

    def suggest(self, time: float) -> Suggestion | None:
        s = self.wrapped.suggest(time)
        if s is not None and not isinstance(s, Suggestion):
            raise AssertionError(f"suggest({time}) returned {s!r}; expected a methods.Suggestion or None")
        if s is not None and s.config is not None and self._space is not None:
            try:
                self._space.validate(s.config)
            except ConfigurationError as e:
                raise AssertionError(f"suggest({time}) returned a configuration outside the space: {e}") from None
        self.calls.append(("suggest", time, s))
        self._last = s
        return s

    def on_start(self, trial: Trial) -> None:
        self.calls.append(("start", trial, self._last))
        method = getattr(self.wrapped, "on_start", None)
        if method is not None:
            method(trial)

    def on_discard(self, suggestion: Suggestion) -> None:
        self.calls.append(("discard", suggestion))
        method = getattr(self.wrapped, "on_discard", None)
        if method is not None:
            method(suggestion)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        decision = self.wrapped.on_report(trial, fidelity, metrics, time)
        self.calls.append(("report", trial, fidelity, decision))
        return decision

    def on_skipped_reports(self, trial: Trial, fidelities: Sequence[Any], metrics: Mapping[str, np.ndarray]) -> None:
        self.calls.append(("skipped", trial, list(fidelities)))
        self.wrapped.on_skipped_reports(trial, fidelities, metrics)

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        self.calls.append(("end", trial, status))
        method = getattr(self.wrapped, "on_end", None)
        if method is not None:
            method(trial, status)

    # ------------------------------------------------------------------ views of the calls
    @property
    def suggestions(self) -> list[Suggestion | None]:
        """Every ``suggest`` answer, in order."""
        return [call[2] for call in self.calls if call[0] == "suggest"]

    @property
    def nothing_now(self) -> int:
        """How many times ``suggest`` answered ``None``."""
        return sum(1 for s in self.suggestions if s is None)

    @property
    def starts(self) -> list[tuple[Trial, Suggestion | None]]:
        """``(trial, suggestion)`` of every ``on_start`` call."""
        return [(call[1], call[2]) for call in self.calls if call[0] == "start"]

    @property
    def discards(self) -> list[Suggestion]:
        """The suggestions passed to ``on_discard``."""
        return [call[1] for call in self.calls if call[0] == "discard"]

    def calls_after_the_end(self) -> list[str]:
        """Protocol calls about a trial after its ``on_end`` (none is allowed), described."""
        ended: dict[int, Any] = {}
        found = []
        for call in self.calls:
            kind = call[0]
            if kind == "suggest":
                s = call[2]
                if s is not None and s.resume in ended:
                    found.append(f"resume of trial {s.resume} after it ended ({ended[s.resume]})")
            elif kind in ("report", "skipped", "end"):
                tid = call[1].trial_id
                if tid in ended:
                    found.append(f"{kind} of trial {tid} after it ended ({ended[tid]})")
                if kind == "end":
                    ended[tid] = getattr(call[2], "value", call[2])
        return found


@dataclass
class _Run:
    """One simulated run of the scheduler under test."""

    result: Any                  # simulator.SimulationResult
    scheduler: RecordingScheduler
    max_trials: int

    @property
    def results(self) -> Any:
        """The results table without its ``decision_time`` column (wall-clock, never reproducible)."""
        return self.result.results.drop(columns="decision_time")

    @property
    def trials(self) -> Any:
        return self.result.trials


#: per conformance class: its table, and the runs several checks share
_TABLES: "weakref.WeakKeyDictionary[type, Any]" = weakref.WeakKeyDictionary()
_RUNS: "weakref.WeakKeyDictionary[type, dict[tuple, _Run]]" = weakref.WeakKeyDictionary()


def _first_difference(a: Any, b: Any) -> str:
    """Where two tables differ, for an assertion message ("" when they are identical)."""
    if a.equals(b):
        return ""
    if list(a.columns) != list(b.columns):
        return f"columns {list(a.columns)} vs {list(b.columns)}"
    if len(a) != len(b):
        return f"{len(a)} rows vs {len(b)} rows"
    for i in range(len(a)):
        if not a.iloc[[i]].reset_index(drop=True).equals(b.iloc[[i]].reset_index(drop=True)):
            return f"first difference in row {i}: {a.iloc[i].to_dict()} vs {b.iloc[i].to_dict()}"
    return f"dtypes {a.dtypes.to_dict()} vs {b.dtypes.to_dict()}"


def _allows_duplicates(scheduler: Any) -> bool:
    searcher = getattr(scheduler, "searcher", None)
    return getattr(scheduler, "allow_duplicates", False) is True or getattr(searcher, "allow_duplicates", False) is True


class SchedulerConformance:
    """Pytest checks every scheduler must pass: subclass it as ``Test...`` and set ``method``.

    Class attributes: ``method`` (a ``methods.Scheduler`` subclass, or the name of a
    registered method), ``method_args`` (its arguments besides the common ones; give searchers
    by name, an instance serves one scheduler only), ``max_trials`` (trials per simulated run,
    default 40: keep it a few dozen), ``supports_candidates`` (default True; False for a
    scheduler that ignores ``candidates`` and samples the space: it then runs on the computed
    ``synthetic_function()`` instead of the table, and the candidates check is skipped).
    ``make_scheduler`` builds the scheduler under test; override it for a constructor that
    takes other arguments. Checks that do not apply call ``pytest.skip``.

    What a user writes (in a test module of their own repository)::

        from methods.testing import SchedulerConformance

        class TestMyScheduler(SchedulerConformance):
            method = MyScheduler
            method_args = {"eta": 3}

    Example (calling one check by hand, as pytest does):
        >>> class TestAsyncHyperband(SchedulerConformance):
        ...     method = "ASHA"
        ...     method_args = {"type": "promotion", "brackets": 3}
        >>> TestAsyncHyperband().test_deterministic_under_a_seed()
    """

    #: the scheduler under test: a Scheduler subclass or a registered method name
    method: ClassVar[type[Scheduler] | str | None] = None
    #: its arguments besides metric, mode, fidelity_values, seed and candidates
    method_args: ClassVar[Mapping[str, Any]] = {}
    #: trials started per simulated run (Stop(max_trials=...)): a few dozen keep the suite fast
    max_trials: ClassVar[int] = 40
    #: False: the scheduler cannot be restricted to a table's rows (``candidates``)
    supports_candidates: ClassVar[bool] = True
    #: True: the scheduler optimizes several metrics (``None``: its class's ``multi_objective``);
    #: each check then gives it ``[metric, SECOND_OBJECTIVE]`` with modes ``[mode, "min"]``
    multi_objective: ClassVar[bool | None] = None

    # ------------------------------------------------------------------ set-up
    def make_scheduler(self, config_space: ConfigurationSpace, fidelity_values: Sequence[Any], *,
                       metric: str, mode: str, seed: int,
                       candidates: Sequence[Mapping[str, Any]] | None) -> Scheduler:
        """The scheduler under test, from ``method`` and ``method_args`` (override for other
        constructors)."""
        method = type(self).method
        if method is None:
            raise AssertionError(f"{type(self).__name__}: set the class attribute `method` to the Scheduler "
                                 f"subclass (or registered method name) under test")
        metric, mode = self.objectives(metric, mode)
        common = dict(metric=metric, mode=mode, fidelity_values=np.asarray(fidelity_values), seed=seed,
                      candidates=candidates)
        if isinstance(method, str):
            return create(method, config_space, **common, **self.method_args)
        return method(config_space, **common, **self.method_args)

    def is_multi_objective(self) -> bool:
        """Whether the scheduler under test optimizes several metrics (the class attribute
        ``multi_objective``, else the method class's)."""
        if type(self).multi_objective is not None:
            return bool(type(self).multi_objective)
        method = type(self).method
        if isinstance(method, str):
            from methods.registry import METHODS
            method = METHODS.get(method)
        return bool(getattr(method, "multi_objective", False))

    def objectives(self, metric: str, mode: str) -> tuple[Any, Any]:
        """``(metric, mode)`` for a single-objective scheduler; for a multi-objective one
        ``([metric, SECOND_OBJECTIVE], [mode, "min"])``: the checks' metric (its "max" twin
        ``acc = -loss`` included) traded off against the model size ``size``."""
        if not self.is_multi_objective():
            return metric, mode
        return [metric, SECOND_OBJECTIVE], [mode, "min"]

    @classmethod
    def conformance_table(cls) -> Any:
        """This class's ``synthetic_table()`` (built once per class)."""
        table = _TABLES.get(cls)
        if table is None:
            table = _TABLES[cls] = synthetic_table()
        return table

    def simulate_run(self, *, n_workers: int = 4, metric: str = "loss", mode: str = "min", seed: int = 0,
                     max_trials: int | None = None, candidates: Sequence[Mapping[str, Any]] | None = None,
                     on_table: bool = True) -> _Run:
        """Simulate the scheduler under test (recorded) until ``max_trials`` trials started
        (default: the class's) and nothing is left to run. On the table its rows are the
        candidates unless ``candidates`` are given; ``on_table=False`` (or ``supports_candidates
        = False``) runs on ``synthetic_function()`` without candidates."""
        from simulator import Stop, simulate

        max_trials = self.max_trials if max_trials is None else max_trials
        if on_table and self.supports_candidates:
            blackbox = self.conformance_table()
            candidates = blackbox.configs() if candidates is None else list(candidates)
        else:
            blackbox, candidates = synthetic_function(), None
        space = blackbox.configuration_space
        scheduler = self.make_scheduler(space, blackbox.fidelity_values, metric=metric, mode=mode, seed=seed,
                                        candidates=candidates)
        recorder = RecordingScheduler(scheduler, space)
        result = simulate(blackbox, recorder, n_workers=n_workers, stop=Stop(max_trials=max_trials), seed=seed)
        return _Run(result, recorder, max_trials)

    def shared_run(self, **settings: Any) -> _Run:
        """``simulate_run(**settings)`` (without ``candidates``), simulated once per class: checks
        must not change it."""
        if not self.supports_candidates:
            settings["on_table"] = False
        bound = inspect.signature(self.simulate_run).bind(**settings)
        bound.apply_defaults()
        runs = _RUNS.setdefault(type(self), {})
        key = tuple(sorted(bound.arguments.items()))
        run = runs.get(key)
        if run is None:
            run = runs[key] = self.simulate_run(**settings)
        return run

    # ------------------------------------------------------------------ the checks
    def test_mode_max_on_the_negated_metric_gives_the_same_run(self) -> None:
        """Maximizing ``acc = -loss`` makes exactly the decisions of minimizing ``loss``."""
        low = self.shared_run(metric="loss", mode="min")
        high = self.shared_run(metric="acc", mode="max")
        diff = _first_difference(low.results, high.results)
        assert not diff, f"mode 'max' on acc = -loss and mode 'min' on loss gave different runs: {diff}"

    def test_minimizing_never_ends_worse_than_maximizing(self) -> None:
        """The best loss at the largest fidelity is no worse with mode "min" than with "max"."""
        def best(run: _Run) -> float:
            r = run.results
            top = r.loc[(r["fidelity"] == FIDELITIES[-1]) & (r["decision"] != "failed"), "loss"]
            return float(top.min()) if len(top) else math.inf

        low = best(self.shared_run(metric="loss", mode="min"))
        high = best(self.shared_run(metric="loss", mode="max"))
        assert low <= high, (f"minimizing the loss ended with a worse best loss at the largest fidelity ({low}) "
                             f"than maximizing it ({high}): is the mode followed?")

    def test_failed_trials_are_handled(self) -> None:
        """With 1 and 16 workers: failed trials end once, are never reported or resumed after
        failing, and do not jam the method (every trial of the budget starts)."""
        for n_workers in (1, 16):
            run = self.shared_run(n_workers=n_workers)
            res, trials = run.results, run.trials
            failed = set(trials.loc[trials["status"] == "failed", "trial_id"].tolist())
            assert failed, (f"{n_workers} worker(s): no trial failed in {len(trials)} trials, although about "
                            f"{FAIL_FRACTION:.0%} of the configurations fail (half at their first report)")
            assert len(trials) == run.max_trials, (
                f"{n_workers} worker(s): only {len(trials)} of {run.max_trials} trials started before the method "
                f"had nothing more to run: failed trials jam it (does it wait for a trial that failed?)")
            failed_at = res[res["decision"] == "failed"].groupby("trial_id")["time"].max()
            later = res.merge(failed_at.rename("failed_at"), left_on="trial_id", right_index=True)
            assert not (later["time"] > later["failed_at"]).any(), f"{n_workers} worker(s): a failed trial reported later"
            after = run.scheduler.calls_after_the_end()
            assert not after, f"{n_workers} worker(s): calls about trials that had ended: {after[:5]}"
            ends = [call[1].trial_id for call in run.scheduler.calls if call[0] == "end"
                    and getattr(call[2], "value", call[2]) == "failed"]
            assert sorted(ends) == sorted(failed), f"{n_workers} worker(s): on_end(FAILED) calls {ends} vs failed {failed}"

    def test_keeps_every_worker_busy_and_reaches_the_largest_fidelity(self) -> None:
        """With 1 and 16 workers: all workers are busy at some point (all but those the trial
        budget cannot fill) and some trial reaches the largest fidelity."""
        for n_workers in (1, 16):
            run = self.shared_run(n_workers=n_workers)
            res, busy = run.results, min(n_workers, run.max_trials)
            # the simulator gives work to the lowest free worker: worker n-1 works only when all do
            assert int(res["worker"].max()) == busy - 1, (
                f"never were all {busy} workers busy (the highest worker used is {int(res['worker'].max())})")
            assert (res["fidelity"] == FIDELITIES[-1]).any(), (
                f"{n_workers} worker(s): no trial reached the largest fidelity {FIDELITIES[-1]} in "
                f"{res['trial_id'].nunique()} trials")
            assert res["fidelity"].between(FIDELITIES[0], FIDELITIES[-1]).all()

    def test_nothing_now_when_candidates_run_out(self) -> None:
        """Restricted to 7 candidates, the method starts at most those 7, then answers ``None``
        ("nothing now") and stays calm when asked again (``None`` or a resume of a paused trial).
        A method sampling with replacement never runs out: it starts every trial of the budget."""
        if not self.supports_candidates:
            import pytest
            pytest.skip("supports_candidates = False")
        few = self.conformance_table().configs()[:7]
        run = self.simulate_run(n_workers=16, candidates=few)
        rec, trials = run.scheduler, run.trials
        if _allows_duplicates(rec.wrapped):
            assert len(trials) == run.max_trials and rec.nothing_now == 0, (
                f"sampling with replacement from 7 candidates: {len(trials)} of {run.max_trials} trials started, "
                f"{rec.nothing_now} 'nothing now' answers")
            return
        assert rec.nothing_now >= 1, "suggest never answered None although the 7 candidates ran out"
        assert len(trials) <= len(few), f"{len(trials)} trials started from {len(few)} candidates (a duplicate?)"
        keys = {tuple(c.values()) for c in few}
        outside = [t.config for t, _ in rec.starts if tuple(t.config[k] for k in few[0]) not in keys]
        assert not outside, f"configurations not among the candidates were started: {outside[:3]}"
        paused = set(trials.loc[trials["status"] == "paused", "trial_id"].tolist())
        for k in range(5):
            s = rec.suggest(1e9 + k)
            assert s is None or (s.config is None and s.resume in paused), (
                f"asked again after the candidates ran out, suggest answered {s!r}; expected None or a resume "
                f"of a paused trial {sorted(paused)}")

    def test_deterministic_under_a_seed(self) -> None:
        """Two runs with one seed give bit-identical results (``decision_time`` aside) and trials."""
        first = self.shared_run()
        again = self.simulate_run()
        diff = _first_difference(first.results, again.results) or _first_difference(first.trials, again.trials)
        assert not diff, f"two runs with seed 0 differ (is all randomness drawn from self.rng?): {diff}"

    def test_valid_configurations_without_candidates(self) -> None:
        """Without candidates the method suggests valid configurations of the (mixed, continuous)
        space; a method that needs a finite space says so (a ``MethodError`` mentioning "finite")."""
        bb = synthetic_function()
        try:
            self.make_scheduler(bb.configuration_space, bb.fidelity_values, metric="loss", mode="min", seed=0,
                                candidates=None)
        except MethodError as e:
            assert "finite" in str(e), f"without candidates: MethodError that does not mention 'finite': {e}"
            return
        run = self.shared_run(on_table=False)      # the recorder checks every configuration against the space
        assert len(run.trials) == run.max_trials, (
            f"without candidates only {len(run.trials)} of {run.max_trials} trials started")

    def test_on_start_once_per_started_trial(self) -> None:
        """``on_start`` is called once per started trial, in order, right after the suggestion it
        starts: its ``Trial`` carries the suggested configuration (the very dict) and meta."""
        run = self.shared_run()
        starts = run.scheduler.starts
        ids = [trial.trial_id for trial, _ in starts]
        assert ids == list(range(len(run.trials))), f"on_start trial ids {ids[:10]}... vs {len(run.trials)} trials"
        for trial, s in starts:
            assert s is not None and s.config is not None, f"trial {trial.trial_id} started from {s!r}"
            assert trial.config is s.config and trial.meta == s.meta, (
                f"trial {trial.trial_id}: on_start got {trial.config!r}/{trial.meta!r}, suggested "
                f"{s.config!r}/{s.meta!r}")

    def test_on_discard_for_a_suggestion_beyond_the_trial_budget(self) -> None:
        """With 4 workers and ``Stop(max_trials=3)`` the fourth new configuration is discarded
        (``on_discard``); every new configuration suggested either starts or is discarded, once."""
        run = self.shared_run(max_trials=3)
        rec = run.scheduler
        assert rec.discards, (f"no on_discard call: with 4 free workers at time 0 and Stop(max_trials=3), the 4th "
                              f"suggestion is expected to be a new configuration (answers: {rec.suggestions[:5]})")
        new = [s for s in rec.suggestions if s is not None and s.config is not None]
        started = [s for _, s in rec.starts]
        ids = sorted(map(id, started + rec.discards))
        assert ids == sorted(map(id, new)), (
            f"{len(new)} new configurations suggested, {len(started)} started, {len(rec.discards)} discarded")
        for s in rec.discards:
            assert s.config is not None, f"on_discard of a resume {s!r}"

    def test_no_phantom_pending_configuration_at_the_end(self) -> None:
        """A searcher that uses observations (``searcher.uses_observations``) ends a run bounded
        by ``max_trials`` with no phantom pending configuration: every discarded suggestion left
        ``searcher.history``'s pending ones, and the trials still pending are the paused ones."""
        runs = [self.shared_run(max_trials=3), self.shared_run(n_workers=16)]
        searcher = getattr(runs[0].scheduler.wrapped, "searcher", None)
        if searcher is None or not getattr(searcher, "uses_observations", False) or not hasattr(searcher, "history"):
            import pytest
            pytest.skip("the method has no searcher that uses observations")
        for run in runs:
            history = run.scheduler.wrapped.searcher.history
            assert not history.waiting, (
                f"{len(history.waiting)} configuration(s) handed out but never started are still pending at the end "
                f"(discarded: {len(run.scheduler.discards)}): {history.waiting[:3]}")
            trials = run.trials
            unfinished = set(trials.loc[trials["status"].isin(["paused", "running"]), "trial_id"].tolist())
            assert set(history.running) == unfinished, (
                f"pending trials {sorted(history.running)} at the end vs paused trials {sorted(unfinished)}")
