"""``hposim blackbox list|info|import|get|verify``: browse the blackbox repository, add tables, fetch recipes.

Example (shell)::

    hposim blackbox list
    hposim blackbox info mlp-sklearn/iris
    hposim blackbox import table.csv --name mybench --config-cols lr,layers,act \\
        --fidelity-col epoch --seed-col seed --task-col dataset \\
        --elapsed-time-col time --metric valid_error --mode min
    hposim blackbox get lcdb                 # cache -> mirror -> download + convert
    hposim blackbox verify                   # re-hash every cached file
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo import repository
from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.configspace import Constant, Domain, Float, Integer
from blackbox_repo.errors import InputError, IntegrityError
from blackbox_repo.importing import ImportReport, TableImportError, format_table, import_table
from blackbox_repo.storage import validate_name
from studies.cli_surrogate import register_surrogate

__all__ = ["register", "format_bytes", "describe_domain", "compact_values", "info_text", "list_text"]

#: metadata keys shown in the standard sections of ``info`` (others are "extra" sections)
STANDARD_KEYS = {
    "format_version", "name", "task", "configuration_space", "fidelity_name", "fidelity_values",
    "objectives_names", "metric_elapsed_time", "metric", "mode", "num_seeds", "shape", "source",
    "created", "files", "seed_values", "description", "version", "import_report", "hposim_version",
    "folder", "extra", "metadata_sha256", "fidelity_dtype", "hyperparameters_json_columns",
    "objectives_layout",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("blackbox", help="list, inspect and import blackboxes",
                              description="Browse the blackbox repository and add your own tables.")
    sub = p.add_subparsers(dest="blackbox_command", metavar="<subcommand>")
    sub.required = True

    ls = sub.add_parser("list", help="every known blackbox: embedded, cached and recipes",
                        description="List every known blackbox: embedded, cached, and recipes "
                                    "not yet fetched.")
    ls.set_defaults(func=cmd_list)

    info = sub.add_parser("info", help="config space, fidelities, objectives, size, provenance",
                          description="Show a blackbox: configuration space, fidelities, seeds, "
                                      "objectives, shape, size on disk, provenance and checksums.")
    info.add_argument("ref", metavar="NAME[/TASK]", help="blackbox name, optionally with a task")
    info.set_defaults(func=cmd_info)

    imp = sub.add_parser(
        "import", help="import a long-format CSV/Parquet table into the cache",
        description="Import a long-format table (one row per task x config x fidelity x seed) "
                    "and save every task into the cache.")
    imp.add_argument("file", metavar="FILE", help="a .csv (optionally compressed) or .parquet file")
    imp.add_argument("--name", required=True, help="name of the new blackbox")
    imp.add_argument("--config-cols", required=True, metavar="A,B,C",
                     help="comma-separated hyperparameter columns")
    imp.add_argument("--fidelity-col", metavar="COL", help="fidelity column (e.g. epoch); "
                     "without it the table has one fidelity level")
    imp.add_argument("--fidelity-name", metavar="NAME", help="name of the fidelity "
                     "(default: the fidelity column's name)")
    imp.add_argument("--seed-col", metavar="COL", help="seed column; without it one seed")
    imp.add_argument("--task-col", metavar="COL", help="task column (e.g. dataset); one blackbox "
                     "task per value; without it a single task 'default'")
    imp.add_argument("--elapsed-time-col", metavar="COL",
                     help="cumulative elapsed-time column (non-decreasing along the fidelity)")
    imp.add_argument("--objective-cols", metavar="A,B", help="comma-separated objective columns "
                     "(default: every other numeric column)")
    imp.add_argument("--metric", help="default metric (default: the first objective that is not "
                     "the elapsed time)")
    imp.add_argument("--mode", default="min", type=_mode, help="min or max (default: min)")
    imp.add_argument("--repair-elapsed-time", action="store_true",
                     help="replace a decreasing elapsed time by its cumulative maximum")
    imp.add_argument("--force", action="store_true", help="overwrite an existing blackbox")
    imp.set_defaults(func=cmd_import)

    register_surrogate(sub)

    get = sub.add_parser(
        "get", help="fetch a recipe's blackbox into the cache (mirror first, else download + convert)",
        description="Fetch a recipe's blackbox into the cache: from the mirror when it has a copy, "
                    "else download the raw files (progress bar, resume, checksums), convert them and "
                    "upload the result to the mirror. HPOSIM_OFFLINE=1 never touches the network.")
    get.add_argument("name", metavar="NAME", help="recipe name (see `hposim blackbox list`)")
    get.add_argument("--force", action="store_true", help="rebuild even if it is already cached")
    get.add_argument("--mirror", metavar="URL", help="fsspec URL of a mirror, e.g. "
                     "s3://bucket/blackboxes (default: $HPOSIM_MIRROR)")
    get.set_defaults(func=cmd_get)

    ver = sub.add_parser("verify", help="re-check the checksum of every cached file",
                         description="Re-hash every file of every cached blackbox (or of the named "
                                     "ones) and report modified, truncated or missing files.")
    ver.add_argument("refs", nargs="*", metavar="NAME[/TASK]", help="what to check (default: everything)")
    ver.set_defaults(func=cmd_verify)


def _mode(value: str) -> str:
    if value not in ("min", "max"):
        close = difflib.get_close_matches(value, ["min", "max"], n=1, cutoff=0.3)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise argparse.ArgumentTypeError(f"mode {value!r} is not valid; allowed: 'min' or 'max'{hint}")
    return value


# ---------------------------------------------------------------------------- formatting
def format_bytes(n: int | float | None) -> str:
    """``1536`` -> ``"1.5 kB"``; ``None`` -> ``"-"``."""
    if n is None:
        return "-"
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _fmt(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v) if isinstance(v, str) else str(v)


def compact_values(values: Sequence[Any], limit: int = 6) -> str:
    """``[1, 2, ..., 200]`` -> ``"1..200 (200 values)"``; short lists are shown whole."""
    values = list(values)
    if len(values) <= limit:
        return ", ".join(_fmt(v) for v in values)
    return f"{_fmt(values[0])}..{_fmt(values[-1])} ({len(values)} values)"


def describe_domain(dom: Domain) -> str:
    """One line per hyperparameter domain, compact for long value lists."""
    if isinstance(dom, Constant):
        return f"constant {_fmt(dom.value)}"
    if isinstance(dom, (Float, Integer)):
        scale = ", log scale" if dom.log else ""
        return f"{dom.kind} in [{_fmt(dom.lower)}, {_fmt(dom.upper)}]{scale}"
    values = list(dom.values or [])
    if len(values) <= 8:
        return f"{dom.kind} {{{', '.join(_fmt(v) for v in values)}}}"
    shown = ", ".join(_fmt(v) for v in values[:3])
    return f"{dom.kind} of {len(values)} values {{{shown}, ..., {_fmt(values[-1])}}}"


def _tasks_text(tasks: Sequence[str], limit: int = 3) -> str:
    tasks = list(tasks)
    if len(tasks) <= limit:
        return ", ".join(tasks) if tasks else "-"
    return _short(f"{', '.join(tasks[:limit])}, ... ({len(tasks)})", 50)


def _short(text: str, width: int = 60) -> str:
    """One line of at most ``width`` characters (``blackbox info`` shows every task)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def list_text(records: Sequence[Any]) -> str:
    header = ["name", "kind", "tasks", "cached", "size", "source"]
    rows = [[r.name, r.kind, _tasks_text(r.tasks), "yes" if r.cached else "no",
             format_bytes(r.size_bytes if r.cached else None), str(r.source or "-")] for r in records]
    widths = [max([len(h)] + [len(row[j]) for row in rows]) for j, h in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- lookup
def _record(name: str):
    for rec in repository.list_blackboxes():
        if rec.name == name:
            return rec
    return None


def _folder_files(folder: Path | None) -> dict[str, int]:
    if folder is None or not folder.is_dir():
        return {}
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def _folder(name: str, task: str) -> Path | None:
    try:
        folder = Path(repository.blackbox_folder(name, task))
    except Exception:  # noqa: BLE001 - a blackbox without a folder (e.g. in memory) has no files
        return None
    return folder if folder.is_dir() else None


def _disk_metadata(folder: Path | None) -> dict:
    if folder is None or not (folder / "metadata.json").is_file():
        return {}
    try:
        return json.loads((folder / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------- info
def _section(title: str, value: Any, indent: str = "  ") -> list[str]:
    """An extra metadata section (e.g. a report card) as indented ``key: value`` lines."""
    lines = [f"{title}:"]

    def walk(v: Any, pad: str) -> None:
        if isinstance(v, Mapping):
            for k, x in v.items():
                if isinstance(x, (Mapping, list)) and x and not _is_flat_list(x):
                    lines.append(f"{pad}{k}:")
                    walk(x, pad + indent)
                else:
                    lines.append(f"{pad}{k}: {_value_text(x)}")
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, Mapping):
                    lines.append(f"{pad}-")
                    walk(x, pad + indent)
                else:
                    lines.append(f"{pad}- {_value_text(x)}")
        else:
            lines.append(f"{pad}{_value_text(v)}")

    walk(value, indent)
    return lines


def _is_flat_list(x: Any) -> bool:
    return isinstance(x, list) and all(not isinstance(v, (Mapping, list)) for v in x)


def _value_text(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _bb_folder(bb: TabularBlackbox, name: str, task: str) -> Path | None:
    folder = bb.metadata.get("folder")
    if folder and Path(folder).is_dir():
        return Path(folder)
    return _folder(name, task)


def info_text(bb: TabularBlackbox, name: str, task: str, record: Any = None) -> str:
    """The full description of one task of a blackbox."""
    folder = _bb_folder(bb, name, task)
    meta = {**_disk_metadata(folder), **bb.metadata}
    n, s, f, o = bb.shape
    kind = f" ({record.kind})" if record is not None else ""
    lines = [f"{name}/{task}{kind}"]
    if meta.get("description") or (record is not None and record.description):
        lines.append(f"  {meta.get('description') or record.description}")

    space = bb.configuration_space
    lines.append(f"configuration space: {len(space)} hyperparameters, {n} configurations tabulated")
    width = max((len(k) for k in space), default=0)
    for k, dom in space.items():
        lines.append(f"  {k.ljust(width)}  {describe_domain(dom)}")

    lines.append(f"fidelity: {bb.fidelity_name} = {compact_values(bb.fidelity_values.tolist())}"
                 + (f" ({f} levels)" if f <= 6 else ""))
    seed_values = meta.get("seed_values")
    seeds = f"seeds: {s} (indices 0..{s - 1})"
    if seed_values and list(seed_values) != list(range(s)):
        seeds += f", original values {compact_values(seed_values)}"
    lines.append(seeds)

    lines.append(f"objectives: {o}")
    width = max(len(x) for x in bb.objectives_names)
    nan_share = _nan_share(bb)
    for j, obj in enumerate(bb.objectives_names):
        marks = []
        if obj == bb.metric:
            marks.append(f"default metric, mode {bb.mode}")
        if obj == bb.metric_elapsed_time:
            marks.append("elapsed time (cumulative)")
        extra = f"  [{'; '.join(marks)}]" if marks else ""
        lines.append(f"  {obj.ljust(width)}  NaN {nan_share[j]:.1%}{extra}")

    lines.append(f"shape: {n} configs x {s} seeds x {f} {bb.fidelity_name} x {o} objectives "
                 f"({n * s * f * o:,} values)")
    files = _folder_files(folder)
    if folder is not None:
        lines.append(f"size on disk: {format_bytes(sum(files.values()))} in {folder}")
    else:
        lines.append("size on disk: - (not saved)")

    lines.append("provenance:")
    lines.append(f"  source: {meta.get('source') or (record.source if record else None) or '-'}")
    lines.append(f"  created: {meta.get('created') or '-'}")
    lines.append(f"  format version: {meta.get('format_version', '-')}")
    if meta.get("hposim_version") or meta.get("version"):
        lines.append(f"  written by: hposim {meta.get('hposim_version') or meta.get('version')}")

    checks = meta.get("files") or {}
    if checks:
        lines.append("files:")
        width = max(len(k) for k in checks)
        for fname, entry in checks.items():
            entry = entry if isinstance(entry, Mapping) else {"sha256": entry}
            size = entry.get("bytes", files.get(fname))
            lines.append(f"  {fname.ljust(width)}  {format_bytes(size):>9}  "
                         f"sha256 {entry.get('sha256', '-')}")
        derived = [k for k in files if k not in checks and k != "metadata.json"]
        if derived:
            lines.append(f"  derived cache: {', '.join(derived)}")

    if meta.get("import_report"):
        lines.append("import report:")
        try:
            text = str(ImportReport.from_dict(meta["import_report"]))
        except (TypeError, KeyError):
            text = json.dumps(meta["import_report"])
        lines += ["  " + line for line in text.splitlines()]
    for key, value in meta.items():
        if key not in STANDARD_KEYS and not (value is None or (isinstance(value, (dict, list))
                                                                and not value)):
            lines += _section(key.replace("_", " "), value)
    return "\n".join(lines)


def _nan_share(bb: TabularBlackbox) -> np.ndarray:
    obj = np.asarray(bb.objectives).reshape(-1, bb.shape[3])
    if obj.shape[0] == 0:
        return np.zeros(bb.shape[3])
    return np.isnan(obj).mean(axis=0)


def summary_text(blackboxes: Mapping[str, TabularBlackbox], name: str, record: Any = None) -> str:
    """One line per task, for a blackbox with several tasks."""
    kind = f" ({record.kind})" if record is not None else ""
    first = next(iter(blackboxes.values()))
    lines = [f"{name}{kind}: {len(blackboxes)} tasks"]
    if record is not None and record.description:
        lines.append(f"  {record.description}")
    if record is not None and record.source:
        lines.append(f"  source: {record.source}")
    lines.append(f"  hyperparameters: {', '.join(first.configuration_space)}")
    lines.append(f"  objectives: {', '.join(first.objectives_names)} (default metric "
                 f"{first.metric}, mode {first.mode}; elapsed time: {first.metric_elapsed_time or '-'})")
    header = ["task", "configs", "seeds", "fidelities", first.fidelity_name, "size"]
    rows = []
    for task, bb in blackboxes.items():
        n, s, f, _ = bb.shape
        size = sum(_folder_files(_bb_folder(bb, name, task)).values())
        rows.append([task, str(n), str(s), str(f), compact_values(bb.fidelity_values.tolist(), 3),
                     format_bytes(size)])
    lines += format_table(header, rows)
    lines.append(f"Details of one task: hposim blackbox info {name}/<task>")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    records = repository.list_blackboxes()
    damaged = [f"{t[0]}/{t[1]}" for t in _verify_targets() if t[2] == "cached"
               and not (t[3] / "metadata.json").is_file()]
    if not records and not damaged:
        print("no blackboxes known")
        return 0
    if records:
        print(list_text(records))
    if damaged:
        print(f"damaged (metadata.json missing; see `hposim blackbox verify`): {', '.join(damaged)}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    name, task = repository.parse_blackbox_ref(args.ref)
    record = _record(name)
    if record is not None and record.kind == "recipe" and not record.cached:
        print(f"{name} (recipe, not fetched)")
        if record.description:
            print(f"  {record.description}")
        print(f"  tasks: {', '.join(record.tasks) or '-'}")
        print(f"  source: {record.source or '-'}")
        print(f"Fetch it with: hposim blackbox get {name}")
        return 0
    if task is not None:
        bb = repository.load_blackbox(name, task=task)
        print(info_text(bb, name, task, record))
        return 0
    blackboxes = repository.load_blackbox(name)
    if len(blackboxes) == 1:
        (only, bb), = blackboxes.items()
        print(info_text(bb, name, only, record))
    else:
        print(summary_text(blackboxes, name, record))
    return 0


# ---------------------------------------------------------------------------- import
def _exists_message(name: str, tasks: Sequence[str]) -> str:
    return (f"a blackbox named {name!r} already exists in the cache (tasks: {_tasks_text(tasks)}); "
            f"pass --force to overwrite it or choose another --name")


_PARAMETER_FLAGS = {
    "repair_elapsed_time=True (CLI: --repair-elapsed-time)": "--repair-elapsed-time",
    "repair_elapsed_time=True": "--repair-elapsed-time",
    "config_cols": "--config-cols", "objective_cols": "--objective-cols", "fidelity_col": "--fidelity-col",
    "seed_col": "--seed-col", "task_col": "--task-col", "elapsed_time_col": "--elapsed-time-col",
}


def flag_names(message: str) -> str:
    """An import error as the command line says it: Python parameter names become flags.

    Example:
        >>> flag_names("name them with fidelity_col / seed_col")
        'name them with --fidelity-col / --seed-col'
    """
    for param, flag in _PARAMETER_FLAGS.items():
        message = re.sub(rf"(?<![\w'-]){re.escape(param)}(?![\w'])", flag, message)
    return message


def cmd_import(args: argparse.Namespace) -> int:
    validate_name(args.name, "blackbox name")
    try:
        repository.check_free_name(args.name)
    except BlackboxError as e:
        raise InputError(f"--name {str(e).replace('choose another name', 'choose another --name')}") from None
    # early and friendly (before reading the table); the save checks again under the lock
    existing = repository.CacheProvider().tasks(args.name) + [
        f"{t} (damaged)" for t in repository.damaged_tasks(args.name)]
    if existing and not args.force:
        raise InputError(_exists_message(args.name, existing))
    try:
        result = import_table(
            args.file, config_cols=args.config_cols, fidelity_col=args.fidelity_col,
            seed_col=args.seed_col, task_col=args.task_col, elapsed_time_col=args.elapsed_time_col,
            objective_cols=args.objective_cols, metric=args.metric, mode=args.mode,
            fidelity_name=args.fidelity_name, repair_elapsed_time=args.repair_elapsed_time,
            name=args.name)
    except TableImportError as e:
        raise TableImportError(flag_names(str(e))) from None
    for task in result.blackboxes:
        validate_name(task, "task name")
    print(result.report)
    try:
        # the existence check and the write are one step under the family's lock: of two
        # concurrent imports of the same --name without --force, exactly one succeeds
        paths = repository.save_blackboxes(result.blackboxes, args.name, force=args.force)
    except repository.BlackboxExistsError:
        raise InputError(_exists_message(args.name, repository.CacheProvider().tasks(args.name))
                         + " (it was created while this import ran)") from None
    for task, path in paths.items():
        print(f"saved {args.name}/{task} -> {path}")
    tasks = list(result.blackboxes)
    ref = args.name if len(tasks) > 1 else f"{args.name}/{tasks[0]}"
    print(f"Inspect it with: hposim blackbox info {ref}")
    return 0


# ---------------------------------------------------------------------------- get / verify
def cmd_get(args: argparse.Namespace) -> int:
    from blackbox_repo.recipes import get_recipe
    # errors are HposimErrors of the right kind (input, storage, integrity): one line each
    recipe = get_recipe(args.name)
    tasks = recipe.get(force=args.force, mirror=args.mirror)
    origin = (recipe.marker() or {}).get("origin", "cache")
    size = sum(p.stat().st_size for p in recipe.family_folder().rglob("*") if p.is_file())
    print(f"{args.name}: {len(tasks)} task(s) ({_tasks_text(list(tasks))}) in {recipe.family_folder()} "
          f"[{format_bytes(size)}, from {origin}]")
    print(f"Inspect it with: hposim blackbox info {args.name}")
    return 0


def _verify_targets() -> list[tuple[str, str, str, Path, Path | None]]:
    """(name, task, kind, folder, cache_dir) of every stored task: cached ones (damaged
    folders included) and embedded ones (whose derived cache lives in the home folder)."""
    cache = repository.CacheProvider()
    targets = []
    for name in sorted({*cache.names(), *(p.name for p in cache._visible_dirs(cache.root()))}):
        for task in sorted({*cache.tasks(name), *repository.damaged_tasks(name)}):
            targets.append((name, task, "cached", cache.folder(name, task), None))
    embedded = repository.EmbeddedProvider()
    for name in embedded.names():
        for task in embedded.tasks(name):
            targets.append((name, task, "embedded", embedded.folder(name, task),
                            repository.default_cache_dir(name, task)))
    return targets


def cmd_verify(args: argparse.Namespace) -> int:
    wanted = [repository.parse_blackbox_ref(r) for r in args.refs]
    targets = [t for t in _verify_targets()
               if not wanted or any(n == t[0] and w in (None, t[1]) for n, w in wanted)]
    missing = [f"{n}/{w}" if w else n for n, w in wanted
               if not any(n == t[0] and w in (None, t[1]) for t in targets)]
    if missing:
        known = sorted({t[0] for t in _verify_targets()})
        raise InputError(f"not in the cache (nor embedded): {missing}; stored here: {known}")
    bad = 0
    for name, task, kind, folder, cache_dir in targets:
        problems = repository.verify_task(folder, cache_dir=cache_dir)
        if problems:
            bad += 1
            fix = ("reinstall hposim (`pip install --force-reinstall hposim`, or `git checkout "
                   "blackbox_repo/embedded` in a source checkout)" if kind == "embedded"
                   else repository.repair_advice(name, task))
            only_cache = all(p.startswith("cache: ") for p in problems)   # derived: repairs itself
            print(f"CORRUPT {name}/{task}: " + "; ".join(problems) + ("" if only_cache else f"\n  fix: {fix}"))
        else:
            print(f"ok      {name}/{task}" + (" (embedded)" if kind == "embedded" else ""))
    print(f"{len(targets) - bad} of {len(targets)} stored task(s) verified")
    if bad:
        raise IntegrityError(f"{bad} stored task(s) failed verification (see above)")
    return 0
