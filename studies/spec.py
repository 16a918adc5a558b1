"""Study specifications: methods x benchmarks x seeds, from YAML or Python.

A study names methods (label -> registered method + arguments), benchmarks (label ->
blackbox/task, metric, mode, number of workers, stopping criterion) and seeds. Every
(benchmark, method, seed) cell is one simulated run (a ``RunSpec``).

Example:
    >>> study = Study.from_dict({
    ...     "name": "tiny", "seeds": 2,
    ...     "methods": {"RS": {"method": "RandomSearch"}},
    ...     "benchmarks": {"digits": {"blackbox": "mlp-sklearn/digits", "max_trials": 5}}})
    >>> [(r.benchmark, r.method, r.seed) for r in study.runs()]
    [('digits', 'RS', 0), ('digits', 'RS', 1)]
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from blackbox_repo.errors import InputError
from simulator.stopping import Stop
from studies.benchmarks import expand_benchmarks
from studies.labels import label_problem

__all__ = ["Study", "MethodSpec", "BenchmarkSpec", "RunSpec", "StudySpecError", "STOP_KEYS",
           "load_study_spec", "MAX_RUNS", "load_yaml_unique"]

#: the most runs a spec may expand to unless a larger ``max_runs`` is passed (``--max-runs``):
#: ``seeds: 1000000000`` is a typo, not a study
MAX_RUNS = 10_000

#: stopping-criterion keys: the fields of ``simulator.Stop``, in its order (derived, so they cannot drift)
STOP_KEYS = tuple(f.name for f in fields(Stop))
STUDY_KEYS = ("name", "seeds", "master_seed", "methods", "benchmarks", "description")
BENCHMARK_KEYS = ("blackbox", "task", "metric", "mode", "n_workers", "blackbox_seed") + STOP_KEYS


class StudySpecError(InputError):
    """A study spec is invalid; the message lists every problem found."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
                seen.setdefault(key, line)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise StudySpecError(f"key {key!r} is given twice in one mapping (lines {first} and {line}); "
                                     f"YAML would silently keep the second: remove one")
        return super().construct_mapping(node, deep=deep)


def load_yaml_unique(text: str, source: str = "study spec") -> Any:
    """Parse YAML like ``yaml.safe_load``, but a duplicate key is a ``StudySpecError`` naming it and its lines.

    Example:
        >>> load_yaml_unique("{a: 1, b: 2}")
        {'a': 1, 'b': 2}
        >>> load_yaml_unique("{a: 1, a: 2}", "s.yaml")
        Traceback (most recent call last):
        ...
        studies.spec.StudySpecError: s.yaml: key 'a' is given twice in one mapping (lines 1 and 1); ...
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except StudySpecError as e:
        raise StudySpecError(f"{source}: {e}") from None
    except yaml.YAMLError as e:
        raise StudySpecError(f"{source} is not valid YAML: {e}") from None


def _suggest(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_label(kind: str, label: Any) -> list[str]:
    problem = label_problem(kind, label)
    return [problem] if problem else []


@dataclass(frozen=True)
class MethodSpec:
    """A method of a study: a registered method name and its arguments.

    Example:
        >>> MethodSpec("ASHA", "ASHA", {"type": "stopping"}).to_dict()
        {'method': 'ASHA', 'type': 'stopping'}
    """

    label: str
    method: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"method": self.method, **dict(self.args)}


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark of a study: one blackbox task, its metric and the simulation settings.

    ``stop`` holds the stopping criterion (keys of ``STOP_KEYS``).

    Example:
        >>> b = BenchmarkSpec("d", "mlp-sklearn", "digits", metric="valid_error", stop={"max_time": 60})
        >>> b.to_dict()["blackbox"], b.to_dict()["max_time"]
        ('mlp-sklearn/digits', 60)
    """

    label: str
    blackbox: str
    task: str | None
    #: a name, or a list of names for multi-objective methods (then ``mode`` is a list too)
    metric: str | list[str] | None = None
    mode: str | list[str] | None = None
    n_workers: int = 4
    stop: Mapping[str, Any] = field(default_factory=dict)
    blackbox_seed: int | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"blackbox": f"{self.blackbox}/{self.task}" if self.task else self.blackbox}
        if self.metric is not None:
            d["metric"] = self.metric
        if self.mode is not None:
            d["mode"] = self.mode
        d["n_workers"] = self.n_workers
        if self.blackbox_seed is not None:
            d["blackbox_seed"] = self.blackbox_seed
        d.update(dict(self.stop))
        return d


@dataclass(frozen=True)
class RunSpec:
    """One cell of a study: everything needed to run it, and nothing else (picklable).

    Example:
        >>> study = Study.from_dict({"name": "s", "seeds": [7], "methods": {"RS": "RandomSearch"},
        ...     "benchmarks": {"digits": {"blackbox": "mlp-sklearn/digits", "max_trials": 5}}})
        >>> run = study.runs()[0]
        >>> run.name, run.key, run.task, run.stop
        ('digits/RS/7', ('digits', 'RS', 7), 'digits', {'max_trials': 5})
        >>> RunSpec.from_dict(run.to_dict()) == run
        True
    """

    study: str
    benchmark: str
    method: str
    seed: int
    method_name: str
    method_args: Mapping[str, Any]
    blackbox: str
    task: str | None
    metric: str | list[str] | None
    mode: str | list[str] | None
    n_workers: int
    stop: Mapping[str, Any]
    blackbox_seed: int | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.benchmark, self.method, self.seed)

    @property
    def name(self) -> str:
        return f"{self.benchmark}/{self.method}/{self.seed}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["method_args"] = dict(self.method_args)
        d["stop"] = dict(self.stop)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunSpec":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Study:
    """A study: methods x benchmarks x seeds.

    Build it from YAML (``Study.from_yaml(path)``), a dict (``Study.from_dict``) or directly.
    ``validate()`` checks methods, arguments, blackboxes and metrics before any run starts.

    Example:
        >>> s = Study("s", {"RS": MethodSpec("RS", "RandomSearch")},
        ...           {"b": BenchmarkSpec("b", "mlp-sklearn", "digits", stop={"max_trials": 3})}, [0, 1])
        >>> len(s.runs())
        2
    """

    name: str
    methods: dict[str, MethodSpec]
    benchmarks: dict[str, BenchmarkSpec]
    seeds: list[int]
    description: str = ""

    # ------------------------------------------------------------------ building
    @classmethod
    def from_yaml(cls, path: str | Path, max_runs: int | None = MAX_RUNS) -> "Study":
        """Read a YAML spec (a local path; use ``from_dict`` for other sources).

        A key given twice in one mapping is an error (YAML would keep the second silently)."""
        path = Path(path)
        if not path.exists():
            raise StudySpecError(f"study spec {str(path)!r} does not exist")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise StudySpecError(f"study spec {str(path)!r} cannot be read: {e}") from None
        data = load_yaml_unique(text, f"study spec {str(path)!r}")
        return cls.from_dict(data, source=str(path), max_runs=max_runs)

    @classmethod
    def from_dict(cls, data: Any, source: str = "study spec", max_runs: int | None = MAX_RUNS) -> "Study":
        """Parse the YAML-shaped dict; structural errors are collected and raised together.

        ``max_runs`` bounds the number of runs (seeds x methods x benchmarks) the spec may
        expand to, checked before any list of seeds is built (None: no bound)."""
        if not isinstance(data, Mapping):
            raise StudySpecError(f"{source}: the top level must be a mapping with keys {list(STUDY_KEYS)}")
        problems: list[str] = []
        for k in data:
            if k not in STUDY_KEYS:
                problems.append(f"unknown top-level key {k!r}; valid keys: {list(STUDY_KEYS)}.{_suggest(k, STUDY_KEYS)}")
        name = data.get("name")
        if name is None:
            problems.append("missing key 'name' (the study name, used as a folder name)")
        else:
            problems += _check_label("study", name)
        seeds = _parse_seeds(data.get("seeds", 1), data.get("master_seed", 0), problems, max_runs)
        methods: dict[str, MethodSpec] = {}
        raw_methods = data.get("methods")
        if not isinstance(raw_methods, Mapping) or not raw_methods:
            problems.append("'methods' must be a non-empty mapping label -> {method: <registered name>, ...args}")
            raw_methods = {}
        for label, m in raw_methods.items():
            problems += _check_label("method", label)
            if isinstance(m, str):
                m = {"method": m}
            if not isinstance(m, Mapping) or "method" not in m:
                problems.append(f"method {label!r}: expected a mapping with key 'method' (a registered "
                                f"method name) and its arguments, got {m!r}")
                continue
            args = {k: v for k, v in m.items() if k != "method"}
            methods[str(label)] = MethodSpec(str(label), str(m["method"]), args)
        benchmarks: dict[str, BenchmarkSpec] = {}
        n_problems = len(problems)
        raw_bench = _named_benchmarks(data.get("benchmarks"), problems)
        if not isinstance(raw_bench, Mapping) or not raw_bench:
            if len(problems) == n_problems:       # else the names were reported already
                problems.append("'benchmarks' must be a non-empty list of benchmark names (`hposim benchmark "
                                "list`) or mapping label -> {blackbox: <name>/<task>, ...} or name -> {overrides}")
            raw_bench = {}
        origin: dict[str, str] = {}
        for label, b in raw_bench.items():
            problems += _check_label("benchmark", label)
            for spec in _parse_benchmark(str(label), b, problems):
                if spec.label in benchmarks:
                    problems.append(f"benchmarks {origin[spec.label]!r} and {label!r} both give a benchmark "
                                    f"labelled {spec.label!r} (a blackbox without a task expands to "
                                    f"<label>-<task>); rename one of them")
                    continue
                origin[spec.label] = str(label)
                benchmarks[spec.label] = spec
        n_runs = len(seeds) * len(methods) * len(benchmarks)
        if max_runs is not None and n_runs > max_runs:
            problems.append(f"the study expands to {n_runs} runs ({len(seeds)} seeds x {len(methods)} methods "
                            f"x {len(benchmarks)} benchmarks), more than the limit of {max_runs}; if you mean "
                            f"it, raise the limit (--max-runs {n_runs})")
        if problems:
            raise StudySpecError(f"{source} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
        return cls(name=str(name), methods=methods, benchmarks=benchmarks, seeds=seeds,
                   description=str(data.get("description", "")))

    def to_dict(self) -> dict:
        """The YAML shape (seeds always as an explicit list)."""
        d: dict[str, Any] = {"name": self.name}
        if self.description:
            d["description"] = self.description
        d["seeds"] = list(self.seeds)
        d["methods"] = {k: m.to_dict() for k, m in self.methods.items()}
        d["benchmarks"] = {k: b.to_dict() for k, b in self.benchmarks.items()}
        return d

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    # ------------------------------------------------------------------ cells
    def runs(self) -> list[RunSpec]:
        """Every cell, ordered benchmark, then seed, then method (so early results are comparable)."""
        out = []
        for b in self.benchmarks.values():
            for seed in self.seeds:
                for m in self.methods.values():
                    out.append(RunSpec(study=self.name, benchmark=b.label, method=m.label, seed=int(seed),
                                       method_name=m.method, method_args=dict(m.args), blackbox=b.blackbox,
                                       task=b.task, metric=b.metric, mode=b.mode, n_workers=b.n_workers,
                                       stop=dict(b.stop), blackbox_seed=b.blackbox_seed))
        return out

    # ------------------------------------------------------------------ validation
    def validate(self) -> "Study":
        """Check every method, argument, blackbox, task and metric, and instantiate every method
        for every benchmark (its space, fidelity grid and rows), so that what a method refuses
        there (a multi-fidelity method on a single-fidelity blackbox, ``brackets`` beyond the rung
        levels, an argument value out of range) fails here rather than in every run; raise
        ``StudySpecError`` listing all problems (with close-match suggestions). Loads each blackbox
        once."""
        problems, named = _check_method_names(self.methods)
        for b in self.benchmarks.values():
            problems += _check_blackbox(b)
        problems += _check_methods_fit({k: self.methods[k] for k in named}, self.benchmarks)
        problems += _objective_count_problems(self.methods, self.benchmarks)
        problems = list(dict.fromkeys(problems))       # both checks can find the same problem
        if problems:
            raise StudySpecError(f"study {self.name!r} has {len(problems)} problem(s):\n  - "
                                 + "\n  - ".join(problems))
        return self


def load_study_spec(spec: "str | Path | Mapping | Study", max_runs: int | None = MAX_RUNS) -> Study:
    """A ``Study`` from a path to YAML, a dict, or a ``Study`` (returned as is), with at most
    ``max_runs`` runs (None: no bound)."""
    if isinstance(spec, Study):
        n = len(spec.seeds) * len(spec.methods) * len(spec.benchmarks)
        if max_runs is not None and n > max_runs:
            raise StudySpecError(f"study {spec.name!r} expands to {n} runs, more than the limit of {max_runs}; "
                                 f"if you mean it, raise the limit (max_runs={n}, --max-runs {n})")
        return spec
    if isinstance(spec, Mapping):
        return Study.from_dict(spec, max_runs=max_runs)
    return Study.from_yaml(spec, max_runs=max_runs)


def _parse_seeds(seeds: Any, master_seed: Any, problems: list[str], max_runs: int | None = None) -> list[int]:
    if isinstance(master_seed, bool) or not isinstance(master_seed, int):
        problems.append(f"'master_seed' must be an integer, got {master_seed!r}")
        master_seed = 0
    if isinstance(seeds, bool):
        problems.append(f"'seeds' must be a count or a list of integers, got {seeds!r}")
        return []
    if isinstance(seeds, int):
        if seeds < 1:
            problems.append(f"'seeds' must be a positive count or a list of integers, got {seeds}")
            return []
        if max_runs is not None and seeds > max_runs:   # fail before building a huge list
            problems.append(f"'seeds: {seeds}' alone expands to more runs than the limit of {max_runs}; if "
                            f"you mean it, raise the limit (--max-runs)")
            return []
        return [master_seed + i for i in range(seeds)]
    if isinstance(seeds, (list, tuple)) and seeds and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        if len(set(seeds)) != len(seeds):
            problems.append(f"'seeds' has duplicates: {list(seeds)}")
        return [int(s) for s in seeds]
    problems.append(f"'seeds' must be a positive count or a non-empty list of non-negative integers, "
                    f"got {seeds!r}")
    return []


def _parse_benchmark(label: str, b: Any, problems: list[str]) -> list[BenchmarkSpec]:
    if not isinstance(b, Mapping) or "blackbox" not in b:
        problems.append(f"benchmark {label!r}: expected a mapping with key 'blackbox' (<name>/<task>), got {b!r}")
        return []
    for k in b:
        if k not in BENCHMARK_KEYS:
            problems.append(f"benchmark {label!r}: unknown key {k!r}; valid keys: {list(BENCHMARK_KEYS)}."
                            f"{_suggest(k, BENCHMARK_KEYS)}")
    ref = str(b["blackbox"])
    name, _, task = ref.partition("/")
    task = b.get("task", task or None)
    stop = {k: b[k] for k in STOP_KEYS if k in b and b[k] is not None}
    if not stop:
        problems.append(f"benchmark {label!r}: no stopping criterion; set at least one of {list(STOP_KEYS)}")
    for k, v in stop.items():
        if k != "target" and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            problems.append(f"benchmark {label!r}: {k} must be a positive number, got {v!r}")
    metric, mode = _parse_objectives(label, b, problems)
    n_workers = b.get("n_workers", 4)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        problems.append(f"benchmark {label!r}: n_workers must be a positive integer, got {n_workers!r}")
        n_workers = 1
    blackbox_seed = b.get("blackbox_seed")
    if blackbox_seed is not None and (isinstance(blackbox_seed, bool) or not isinstance(blackbox_seed, int)
                                      or blackbox_seed < 0):
        problems.append(f"benchmark {label!r}: blackbox_seed must be a non-negative integer (an index into "
                        f"the blackbox's seeds) or null, got {blackbox_seed!r}")
        blackbox_seed = None
    common = dict(metric=metric, mode=mode, n_workers=n_workers, stop=stop,
                  blackbox_seed=blackbox_seed)
    if task:
        return [BenchmarkSpec(label, name, str(task), **common)]
    # no task: one benchmark per task of the blackbox, labelled <label>-<task>
    try:
        from studies.cache import blackbox_tasks
        tasks = blackbox_tasks(name)
    except Exception as e:  # unknown blackbox: reported with the repository's own message
        problems.append(f"benchmark {label!r}: {e}")
        return []
    return [BenchmarkSpec(f"{label}-{t}", name, t, **common) for t in tasks]


def _check_method_names(methods: Mapping[str, MethodSpec]) -> tuple[list[str], list[str]]:
    """Problems with the method names (registered methods or presets, exact) and argument names,
    and the labels of the methods without any (those ``_check_methods_fit`` instantiates)."""
    from methods import MethodError
    from methods.registry import COMMON_ARGUMENTS, METHODS, method_arguments, resolve_method

    problems: list[str] = []
    named: list[str] = []
    for m in methods.values():
        try:
            method, fixed, preset = resolve_method(m.method)
        except MethodError as e:
            problems.append(f"method {m.label!r}: {e}")
            continue
        allowed = method_arguments(m.method)
        found = []
        for k in m.args:
            if k in COMMON_ARGUMENTS:
                found.append(f"method {m.label!r}: argument {k!r} is set by the study/benchmark, not per method")
            elif k in fixed:
                if type(m.args[k]) is not type(fixed[k]) or m.args[k] != fixed[k]:
                    found.append(f"method {m.label!r}: preset {m.method} ({preset.expansion()}) fixes "
                                 f"{k}={fixed[k]!r}; it cannot be overridden (got {m.args[k]!r}); use method "
                                 f"{method!r} to choose {k}")
            elif k not in allowed:
                found.append(f"method {m.label!r}: {m.method} has no argument {k!r}; valid arguments: "
                             f"{sorted(allowed)}.{_suggest(k, allowed)}")
        problems += found
        if not found and method in METHODS:
            named.append(m.label)
    return problems, named


def _check_methods_fit(methods: Mapping[str, MethodSpec], benchmarks: Mapping[str, BenchmarkSpec]) -> list[str]:
    """Instantiate every method for every benchmark as a run does (``simulator.make_scheduler``
    with the blackbox's space, fidelities and rows, seed 0): what a method refuses there is a
    problem of the spec. One problem per method and message, naming the benchmarks it concerns
    (blackboxes that cannot be loaded, or with an unknown metric, are reported elsewhere)."""
    from simulator import make_scheduler
    from studies.cache import get_blackbox

    failures: dict[tuple[str, str], list[str]] = {}
    for b in benchmarks.values():
        try:
            bb = get_blackbox(b.blackbox, b.task)
        except Exception:  # noqa: BLE001 - reported by _check_blackbox
            continue
        metric = b.metric if b.metric is not None else bb.metric
        if any(m not in list(bb.objectives_names) for m in (metric if isinstance(metric, list) else [metric])):
            continue                                    # reported by _check_blackbox
        for m in methods.values():
            try:
                make_scheduler(m.method, bb, metric=metric, mode=b.mode, seed=0, **dict(m.args))
            except Exception as e:  # noqa: BLE001 - every refusal becomes a problem of the spec
                message = str(e) if isinstance(e, (ValueError, LookupError, TypeError)) else f"{type(e).__name__}: {e}"
                failures.setdefault((m.label, message), []).append(b.label)
    problems = []
    for (label, message), where in failures.items():
        on = (f"on every benchmark ({', '.join(where)})" if len(where) == len(benchmarks) > 1
              else f"on benchmark{'s' if len(where) > 1 else ''} {', '.join(repr(w) for w in where)}")
        problems.append(f"method {label!r} {on}: {message}")
    return problems


def _check_blackbox(b: BenchmarkSpec) -> list[str]:
    from studies.cache import get_blackbox

    try:
        bb = get_blackbox(b.blackbox, b.task)
    except Exception as e:
        return [f"benchmark {b.label!r}: cannot load blackbox {b.blackbox}/{b.task}: {e}"]
    out = []
    names = list(bb.objectives_names)
    for metric in (b.metric if isinstance(b.metric, list) else [b.metric]):
        if metric is not None and metric not in names:
            out.append(f"benchmark {b.label!r}: unknown metric {metric!r}; objectives of "
                       f"{b.blackbox}/{b.task}: {names}.{_suggest(metric, names)}")
    n_seeds = int(getattr(bb, "num_seeds", 0) or 0)
    if b.blackbox_seed is not None and n_seeds and not 0 <= b.blackbox_seed < n_seeds:
        out.append(f"benchmark {b.label!r}: blackbox_seed {b.blackbox_seed} is not valid; "
                   f"{b.blackbox}/{b.task} has seeds 0..{n_seeds - 1}")
    return out


def _named_benchmarks(raw: Any, problems: list[str]) -> Any:
    """``benchmarks:`` with registered benchmark names expanded (``studies.benchmarks``)."""
    return expand_benchmarks(raw, problems)


def _parse_objectives(label: str, b: Mapping[str, Any], problems: list[str]) -> tuple[Any, Any]:
    """A benchmark's ``metric`` and ``mode``: a name and "min"/"max", or -- for multi-objective
    methods -- lists with one mode per metric (``metric: [val_acc, latency]``, ``mode: [max, min]``,
    or the comma-separated ``"val_acc,latency"``)."""
    from methods.base import MethodError, parse_objectives

    metric, mode = b.get("metric"), b.get("mode")
    several = isinstance(metric, (list, tuple)) or (isinstance(metric, str) and "," in metric)
    if not several:
        if mode is not None and mode not in ("min", "max"):
            problems.append(f"benchmark {label!r}: mode {mode!r} is not valid; allowed: 'min' or 'max'"
                            + (" (a list of modes goes with a list of metrics)" if isinstance(mode, list) else ""))
        return metric, mode
    if mode is None:
        problems.append(f"benchmark {label!r}: several metrics {metric!r} need one mode each, e.g. "
                        f"mode: [max, min] (allowed: 'min' or 'max')")
        return None, None
    try:
        metrics, modes = parse_objectives(metric, mode)
    except MethodError as e:
        problems.append(f"benchmark {label!r}: {e}")
        return None, None
    return metrics, modes


def _objective_count_problems(methods: Mapping[str, MethodSpec], benchmarks: Mapping[str, BenchmarkSpec]
                              ) -> list[str]:
    """A multi-objective method on a benchmark with one metric, or a single-objective method on
    one with several: one problem per such pair, naming the methods that would fit."""
    from methods import METHODS
    from methods.base import MethodError, check_objective_count
    from methods.registry import resolve_method

    out = []
    for m in methods.values():
        try:
            cls = METHODS[resolve_method(m.method)[0]]
        except MethodError:         # an unknown name: reported by the name check
            continue
        multi = getattr(cls, "multi_objective", False)
        if multi is None:           # takes one metric or several
            continue
        fits = [n for n in sorted(METHODS) if bool(getattr(METHODS[n], "multi_objective", False)) != multi]
        for b in benchmarks.values():
            if b.metric is None:    # the blackbox's metric: _check_methods_fit reports it, by its name
                continue
            metrics = b.metric if isinstance(b.metric, list) else [b.metric]
            try:
                check_objective_count(m.method, multi, metrics, fits[:12])
            except MethodError as e:
                out.append(f"method {m.label!r} on benchmark {b.label!r}: {e}")
    return out
