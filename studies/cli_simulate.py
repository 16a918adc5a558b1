"""``hposim simulate``: one simulated HPO run on a blackbox, optionally written to Parquet.

Example (shell)::

    hposim simulate --blackbox mlp-sklearn/iris --method ASHA --method-arg reduction_factor=3 \\
        --n-workers 4 --max-time 72000 --seed 0 --out run.parquet

``--method-arg KEY=VALUE`` may repeat; VALUE is read as a JSON literal when it parses
(``3``, ``0.5``, ``true``, ``[1, 2]``, ``"x"``), else taken as a string (``type=promotion``;
a boolean argument also takes ``False``, ``no``, ``0``, ...). The task may be omitted when
the blackbox has a single task.

``--out`` never replaces an existing file unless ``--force`` is given (and never a
directory); it is checked before the run, and a name not ending in ``.parquet`` gets a
warning (the file is Parquet whatever its name). Errors name the command-line flags
(``--time-per-fidelity``), not the Python parameters behind them.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from studies.cli_args import key_values
from studies.cli_errors import CommandError, UsageError

__all__ = ["register", "parse_method_args", "load_one_blackbox", "cmd_simulate", "flag_names",
           "check_out_path"]

#: ``simulate``/``Stop`` parameters -> the flags that set them
_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "n_workers", "seed", "blackbox_seed", "time_per_fidelity", "max_time", "max_trials", "max_completed",
    "max_reports", "max_cost", "target")}
_PARAM = re.compile(r"(?<![\w-])(" + "|".join(_FLAGS) + r")=")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate", help="simulate one HPO run on a blackbox",
        description="Simulate one HPO method on a tabulated blackbox: exact, deterministic, fast. "
                    "At least one stopping criterion (--max-*, --target) is required.")
    p.add_argument("--blackbox", required=True, metavar="NAME[/TASK]",
                   help="blackbox, with its task unless it has only one (see 'hposim blackbox list')")
    p.add_argument("--method", required=True,
                   help="registered method or preset name (exact), e.g. RandomSearch, ASHA, ASHA6-STOP, BOHB; "
                        "see 'hposim methods'")
    p.add_argument("--method-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="method argument (repeatable); VALUE as a JSON literal, else a string")
    p.add_argument("--metric", help="objective to optimize (default: the blackbox's); several, comma-separated, "
                                    "for a multi-objective method: --metric val_acc,latency")
    p.add_argument("--mode", type=_modes, help="min or max (default: the blackbox's); one per metric, "
                                              "comma-separated, with several metrics: --mode max,min")
    p.add_argument("--n-workers", type=int, default=4, help="parallel workers (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the run and of the method (default 0)")
    p.add_argument("--blackbox-seed", type=int, default=None,
                   help="use this blackbox seed for every trial (default: drawn per trial)")
    p.add_argument("--time-per-fidelity", type=float, default=None,
                   help="constant seconds per fidelity level, for blackboxes without elapsed time")
    g = p.add_argument_group("stopping criteria (combinable; the first reached ends the run)")
    g.add_argument("--max-time", type=float, help="simulated seconds")
    g.add_argument("--max-trials", type=int, help="trials started")
    g.add_argument("--max-completed", type=int, help="trials completed")
    g.add_argument("--max-reports", type=int, help="reports")
    g.add_argument("--max-cost", type=float, help="total worker-seconds")
    g.add_argument("--target", type=float, help="metric value to reach")
    p.add_argument("--out", help="write the results (and metadata) to this Parquet file (.parquet); "
                                 "an existing file is kept unless --force")
    p.add_argument("--force", action="store_true", help="overwrite the --out file if it exists")
    p.set_defaults(func=cmd_simulate)


def _modes(text: str) -> str:
    """``--mode``: ``min``, ``max`` or a comma-separated list of them (one per metric)."""
    bad = [m for m in text.split(",") if m.strip() not in ("min", "max")]
    if bad:
        raise argparse.ArgumentTypeError(f"{bad[0].strip()!r} is not a mode; allowed: min or max, comma-separated "
                                         f"with several metrics (e.g. --mode max,min)")
    return text


def flag_names(message: str) -> str:
    """``message`` with the Python parameters of ``simulate`` written as their flags.

    Example:
        >>> flag_names("time_per_fidelity=-1.0 must be a finite number > 0; max_time=3 and seed=2")
        '--time-per-fidelity -1.0 must be a finite number > 0; --max-time 3 and --seed 2'
        >>> flag_names("blackbox_seed=3 is not valid")
        '--blackbox-seed 3 is not valid'
    """
    return _PARAM.sub(lambda m: _FLAGS[m.group(1)] + " ", message)


def check_out_path(out: str, force: bool) -> Path:
    """The ``--out`` path, checked before the run: not a directory, not an existing file
    unless ``force``, its folder creatable; a warning when its suffix is not ``.parquet``."""
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file path, e.g. --out {path / 'run.parquet'}")
    if os.path.lexists(path) and not force:
        raise UsageError(f"--out {out} exists; choose another file, or add --force to overwrite it "
                         f"(it would be replaced by a Parquet file)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(f"--out {out}: the folder {parent} is not writable")
            break
    if path.suffix.lower() != ".parquet":
        print(f"hposim: warning: --out {out} does not end in .parquet; the file written is Parquet "
              f"whatever its name", file=sys.stderr)
    return path


def parse_method_args(items: Sequence[str]) -> dict[str, Any]:
    """``["a=3", "type=promotion"]`` -> ``{"a": 3, "type": "promotion"}`` (``--method-arg``).

    Example:
        >>> parse_method_args(["reduction_factor=3", "type=stopping", "levels=[1, 3]"])
        {'reduction_factor': 3, 'type': 'stopping', 'levels': [1, 3]}
    """
    return key_values(items, "--method-arg", "reduction_factor=3")


def load_one_blackbox(ref: str):
    """The blackbox named ``NAME/TASK``, or ``NAME`` when it has exactly one task."""
    from blackbox_repo.repository import load_blackbox, parse_blackbox_ref

    name, task = parse_blackbox_ref(ref)
    if task is not None:
        return load_blackbox(name, task)
    tasks = load_blackbox(name)
    if len(tasks) != 1:
        raise UsageError(f"blackbox {name!r} has {len(tasks)} tasks; choose one with --blackbox "
                         f"{name}/TASK, TASK in {sorted(tasks)}")
    return next(iter(tasks.values()))


def _make_scheduler(args: argparse.Namespace, blackbox: Any, method_args: dict[str, Any]) -> Any:
    """The scheduler of ``--method`` (a method or a preset, exact name) with ``--method-arg``s; a
    bad name or argument is a usage error (exit status 2) naming the flag, before the run starts."""
    from methods import MethodError
    from methods.registry import resolve_method
    from simulator import make_scheduler

    try:
        resolve_method(args.method)
    except MethodError as e:
        raise UsageError(f"--method {args.method}: {e}") from None
    try:
        return make_scheduler(args.method, blackbox, metric=args.metric, mode=args.mode, seed=args.seed,
                              **method_args)
    except MethodError as e:
        flags = " ".join(["--method", args.method] + [f"--method-arg {a}" for a in args.method_arg])
        raise UsageError(f"{flags}: {e}") from None


def cmd_simulate(args: argparse.Namespace) -> int:
    from blackbox_repo.errors import InputError
    from methods.arguments import check_seed
    from simulator import Stop, simulate

    stop = {k: getattr(args, k) for k in ("max_time", "max_trials", "max_completed", "max_reports",
                                           "max_cost", "target") if getattr(args, k) is not None}
    if not stop:
        raise UsageError("no stopping criterion; give at least one of --max-time, --max-trials, "
                         "--max-completed, --max-reports, --max-cost, --target")
    if args.n_workers < 1:
        raise UsageError(f"--n-workers {args.n_workers} is not valid; it must be >= 1")
    check_seed("--seed", args.seed, UsageError)
    tpf = args.time_per_fidelity
    if tpf is not None and not (math.isfinite(tpf) and tpf > 0):
        raise UsageError(f"--time-per-fidelity {tpf} is not valid; it must be a finite number of seconds > 0")
    out = check_out_path(args.out, args.force) if args.out else None
    method_args = parse_method_args(args.method_arg)
    try:
        stop = Stop(**stop)
        blackbox = load_one_blackbox(args.blackbox)
        scheduler = _make_scheduler(args, blackbox, method_args)
        result = simulate(blackbox, scheduler, n_workers=args.n_workers, stop=stop, seed=args.seed,
                          blackbox_seed=args.blackbox_seed, time_per_fidelity=tpf)
    except InputError as e:
        mapped = flag_names(str(e))
        if mapped == str(e):
            raise
        try:
            mapped_error = type(e)(mapped)
        except TypeError:        # an error class with other constructor arguments: as it is
            raise e from None
        raise mapped_error from e
    print(result.summary())
    message = result.metadata.get("end_message")
    if message:
        print(f"hposim: warning: {message}", file=sys.stderr)
    if out is not None:
        try:
            result.to_parquet(out, overwrite=args.force)
        except OSError as e:
            raise CommandError(f"cannot write --out {args.out}: {e}") from e
        print(f"wrote {len(result.results)} reports to {args.out}")
    return 0
