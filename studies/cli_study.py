"""``hposim study run|status|verify|plot|report|compare|export-tensorboard``.

Example:
    >>> from studies.cli import main
    >>> main(["study", "status", "results/demo"])      # doctest: +SKIP
    0
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import yaml

from blackbox_repo.errors import InputError
from studies.cli_errors import UsageError
from studies.spec import MAX_RUNS, Study

# each command imports the modules it runs when it runs (pandas, matplotlib, fsspec), so that
# `hposim --help` and the other commands start without them

__all__ = ["register"]


def _storage_options(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in pairs or []:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise UsageError(f"--storage-option expects KEY=VALUE, got {p!r}")
        out[key] = yaml.safe_load(value)
    return out


def _positive_int(flag: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a positive integer, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be a positive integer (>= 1), got {value}")
        return value

    return parse


def _check_out_folder(out: str | None) -> None:
    """``--out`` must be a folder (or not exist yet): fail before any work, naming the flag."""
    if out and "://" not in out and os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is an existing file; --out is a folder to write into")


def _check_formats(formats: list[str]) -> None:
    """``--format`` values must be image formats matplotlib writes (checked before any work)."""
    import difflib

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backend_bases import FigureCanvasBase

    known = sorted(FigureCanvasBase.get_supported_filetypes())
    for f in formats:
        if f not in known:
            close = difflib.get_close_matches(f, known, n=1)
            raise UsageError(f"--format {f!r} is not an image format matplotlib writes; formats: {known}."
                             + (f" Did you mean {close[0]!r}?" if close else ""))


def _add_storage(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-option", "-o", action="append", metavar="KEY=VALUE",
                   help="an fsspec storage option (repeatable), e.g. endpoint_url=http://host:9000; "
                        "S3 credentials also come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
                        "AWS_ENDPOINT_URL")


def cmd_run(args: argparse.Namespace) -> int:
    from studies.runner import run_study

    if not args.root.strip():
        raise UsageError("--root is empty; give the folder or URL that holds studies, e.g. --root ./results")
    study = Study.from_yaml(args.spec, max_runs=args.max_runs)
    summary = run_study(study, args.root, engine=args.engine, jobs=args.jobs, address=args.scheduler_address,
                        max_runs=args.max_runs,
                        storage_options=_storage_options(args.storage_option),
                        progress=False if args.quiet else None)
    print(summary.format(), file=sys.stderr if not summary.ok else sys.stdout)
    if args.report:
        from studies.report import write_report

        paths = write_report(f"{args.root.rstrip('/')}/{study.name}",
                             storage_options=_storage_options(args.storage_option))
        print(f"report: {paths['md']} and {paths['html']}")
        if summary.done + summary.skipped == 0:
            print("the report has no results: every run failed (it lists why)", file=sys.stderr)
    return 0 if summary.ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    from studies.status import format_status, study_status

    table = study_status(args.path, _storage_options(args.storage_option))
    if args.csv:
        table.to_csv(sys.stdout, index=False)
    else:
        print(format_status(table, details=not args.brief))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from studies.analysis import load_study
    from studies.plots import plot_all

    opts = _storage_options(args.storage_option)
    _check_out_folder(args.out)
    _check_formats(args.format)
    study = load_study(args.path, opts)
    if study.done.empty:
        raise InputError(f"study {args.path} has no done runs to plot")
    out = args.out or f"{args.path.rstrip('/')}/figures"
    paths = plot_all(study, out, formats=args.format, log_x=args.log_x, stat=args.stat)
    from studies.pareto_plots import plot_multi_objective    # hypervolume and Pareto fronts, if any
    paths.update(plot_multi_objective(study, out, formats=args.format, log_x=args.log_x, stat=args.stat,
                                      storage_options=opts))
    for name, files in paths.items():
        print(f"{name}: {', '.join(files)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from studies.analysis import load_study
    from studies.report import write_report

    opts = _storage_options(args.storage_option)
    _check_out_folder(args.out)
    study = load_study(args.path, opts)
    out = args.out or f"{args.path.rstrip('/')}/report"
    paths = write_report(study, out, storage_options=opts, stat=args.stat, log_x=args.log_x)
    print(f"report: {paths['md']}\nhtml:   {paths['html']}\nruns:   {paths['run_status']}\n"
          f"configs: {paths['config_data']}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from studies.compare import compare

    res = compare(args.path, baseline=args.baseline, candidate=args.candidate, alpha=args.alpha,
                  min_effect=args.min_effect, storage_options=_storage_options(args.storage_option))
    print(res.format())
    return 1 if res.worse else 0


def cmd_verify(args: argparse.Namespace) -> int:
    from studies.layout import RunIntegrityError
    from studies.verify import verify_path

    report = verify_path(args.path, _storage_options(args.storage_option))
    print(report.format())
    if not report.ok:
        raise RunIntegrityError(f"{len(report.problems)} corrupt file(s) (listed above); 'hposim study run' "
                                f"recomputes corrupt runs")
    return 0


def cmd_export_tensorboard(args: argparse.Namespace) -> int:
    from studies.tensorboard import export_tensorboard

    if "://" in args.out:
        raise UsageError(f"--out {args.out!r}: TensorBoard event files are written to a local folder; "
                         f"give a local path (and copy it to remote storage afterwards)")
    _check_out_folder(args.out)
    n = export_tensorboard(args.path, args.out, storage_options=_storage_options(args.storage_option))
    print(f"wrote TensorBoard event files for {n} runs into {args.out}; view with: tensorboard --logdir {args.out}")
    return 0


def register(subparsers: Any) -> None:
    study = subparsers.add_parser("study", help="run, inspect and report studies (methods x benchmarks x seeds)",
                                  description="Run, inspect and report studies.")
    sub = study.add_subparsers(dest="study_command", metavar="<study command>")
    sub.required = True

    p = sub.add_parser("run", help="run every failed or missing run of a study spec (YAML)")
    p.add_argument("spec", help="the study spec (YAML)")
    p.add_argument("--root", default="results", help="folder or URL holding studies (default: ./results); "
                   "any fsspec URL, e.g. s3://bucket/prefix")
    p.add_argument("--engine", default="local", choices=["serial", "local", "dask", "ray"],
                   help="where runs execute (default: local processes)")
    p.add_argument("--jobs", "-j", type=_positive_int("--jobs"), default=2,
                   help="worker processes (local, a LocalCluster, local Ray); at most one per pending batch "
                        "of runs is started")
    p.add_argument("--max-runs", type=_positive_int("--max-runs"), default=MAX_RUNS,
                   help=f"refuse a spec that expands to more runs than this (default {MAX_RUNS}: "
                        f"'seeds: 1000000000' is a typo, not a study)")
    p.add_argument("--scheduler-address", default=None,
                   help="an existing Dask scheduler (tcp://host:8786) or Ray cluster address")
    p.add_argument("--report", action="store_true", help="write the report when the runs are done")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    _add_storage(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="done / running / failed / missing per cell")
    p.add_argument("path", help="the study folder <root>/<study>")
    p.add_argument("--csv", action="store_true", help="one CSV row per run instead of the summary")
    p.add_argument("--brief", action="store_true", help="counts only, no failure lines")
    _add_storage(p)
    p.set_defaults(func=cmd_status)

    for name, func, helptext in (("plot", cmd_plot, "write the figures (PNG and PDF)"),
                                 ("report", cmd_report, "write report.md, report.html, figures and CSVs")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("path", help="the study folder <root>/<study> (or a folder of Syne Tune experiments)")
        p.add_argument("--out", default=None, help=f"output folder (default: <study>/{'figures' if name == 'plot' else 'report'})")
        p.add_argument("--log-x", action="store_true", help="log-scaled time axis")
        p.add_argument("--stat", default="mean_se", choices=["mean_se", "median_iqr", "iqm"],
                       help="aggregation over seeds for the anytime plot")
        if name == "plot":
            p.add_argument("--format", nargs="+", default=["png", "pdf"], help="image formats")
        _add_storage(p)
        p.set_defaults(func=func)

    p = sub.add_parser("compare", help="is the candidate worse than the baseline? (exit 1 if so)")
    p.add_argument("path", help="the study folder holding both methods")
    p.add_argument("--baseline", required=True, help="the baseline method label")
    p.add_argument("--candidate", required=True, help="the candidate method label")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--min-effect", type=float, default=0.0,
                   help="also require a rank-biserial effect size above this (default 0)")
    _add_storage(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("verify", help="check every run file against its recorded sha256 (exit 3 if corrupt)",
                       description="Check every file of a study (or of every study under a root): each "
                                   "metadata.json parses, each done run's results.parquet has the size and "
                                   "sha256 recorded in it. Exit status 3 when anything is corrupt.")
    p.add_argument("path", help="the study folder <root>/<study>, or a root holding studies")
    _add_storage(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("export-tensorboard", help="write TensorBoard event files of a study")
    p.add_argument("path", help="the study folder")
    p.add_argument("--out", required=True, help="the TensorBoard log directory to write")
    _add_storage(p)
    p.set_defaults(func=cmd_export_tensorboard)
