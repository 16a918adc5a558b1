"""``hposim study run|presets|status|verify|plot|report|compare|export|export-tensorboard``.

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
    from studies.cli import UsageError
    from studies.runner import run_study

    if not args.root.strip():
        raise UsageError("--root is empty; give the folder or URL that holds studies, e.g. --root ./results")
    if (args.spec is None) == (args.preset is None):
        sys.stderr.write(getattr(args, "run_usage", ""))       # like an argparse error: usage first
        raise UsageError("give a study spec file or --preset NAME (one of them); `hposim study presets` "
                         "lists the presets")
    if args.preset is not None:
        from studies.study_presets import get_study_preset

        study = get_study_preset(args.preset).study(max_runs=args.max_runs)
    else:
        study = Study.from_yaml(args.spec, max_runs=args.max_runs)
    summary = run_study(study, args.root, engine=args.engine, jobs=args.jobs, address=args.scheduler_address,
                        max_runs=args.max_runs, stale=args.stale,
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


def cmd_presets(args: argparse.Namespace) -> int:
    from studies.study_presets import (
        STUDY_PRESETS,
        get_study_preset,
        offline_availability,
    )

    if args.name is not None:
        preset = get_study_preset(args.name)
        print(preset.path if args.path else preset.text(), end="\n" if args.path else "")
        return 0
    header = ("name", "runs", "offline now", "description")
    rows = []
    for name, preset in STUDY_PRESETS.items():
        study = preset.study(max_runs=None)
        available = offline_availability(study)
        n_ok = sum(available.values())
        n_runs = len(study.methods) * len(study.benchmarks) * len(study.seeds)
        rows.append((name, f"{len(study.methods)} x {len(study.benchmarks)} x {len(study.seeds)} = {n_runs}",
                     "yes" if n_ok == len(available) else f"{n_ok} of {len(available)} benchmarks",
                     preset.description()))
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header[:-1])]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print("runs = methods x benchmarks x seeds. Run one: hposim study run --preset NAME --root ./results; "
          "copy one: hposim study presets NAME > my_study.yaml")
    return 0


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
    paths = plot_all(study, out, formats=args.format, log_x=args.log_x, stat=args.stat, x=args.x_axis)
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
    paths = write_report(study, out, storage_options=opts, stat=args.stat, log_x=args.log_x, x=args.x_axis)
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
    if args.trial_curves < 0:
        raise UsageError(f"--trial-curves {args.trial_curves} is not valid; it must be >= 0 (0: no learning curves)")
    _check_out_folder(args.out)
    n = export_tensorboard(args.path, args.out, storage_options=_storage_options(args.storage_option),
                           trial_curves=args.trial_curves)
    print(f"wrote TensorBoard event files for {n} runs into {args.out}; view with: tensorboard --logdir {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from studies.neps_io import export_study

    _check_out_folder(args.out)
    n = export_study(args.path, args.out, args.format, storage_options=_storage_options(args.storage_option))
    what = ("five NePS files per run (all_losses_and_configs.txt, best_loss_trajectory.txt, "
            "best_loss_with_config_trajectory.txt, summary_csv/config_data.csv, summary_csv/run_status.csv)"
            if args.format == "neps" else
            "all_losses_and_configs.csv, best_loss_trajectory.csv and run_status.csv")
    print(f"exported {n} done runs into {args.out}: {what}")
    return 0


def register(subparsers: Any) -> None:
    study = subparsers.add_parser("study", help="run, inspect and report studies (methods x benchmarks x seeds)",
                                  description="Run, inspect and report studies.")
    sub = study.add_subparsers(dest="study_command", metavar="<study command>")
    sub.required = True

    p = sub.add_parser("run", help="run every failed or missing run of a study spec (YAML) or preset")
    p.add_argument("spec", nargs="?", default=None, help="the study spec (YAML); or give --preset")
    p.add_argument("--preset", default=None, metavar="NAME",
                   help="run a study spec shipped with hposim instead of a file (see `hposim study presets`), "
                        "e.g. synetune-hypertune-offline")
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
    stale = p.add_mutually_exclusive_group()
    stale.add_argument("--rerun-stale", dest="stale", action="store_const", const="rerun", default="refuse",
                       help="recompute done runs whose recorded settings (method, arguments, benchmark, budget, "
                            "seed, results semantics) differ from what the spec now gives them; by default such "
                            "a spec is refused before any run starts, naming them and what changed")
    stale.add_argument("--keep-stale", dest="stale", action="store_const", const="keep",
                       help="keep such runs as they are ('study status' and the report flag them as stale)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    _add_storage(p)
    p.set_defaults(func=cmd_run, run_usage=p.format_usage())

    p = sub.add_parser("presets", help="the study specs shipped with hposim (run with `study run --preset`)",
                       description="Without NAME: list the study presets (runs, whether every benchmark is on "
                                   "this machine now, description). With NAME: print that spec, to read or "
                                   "copy (hposim study presets NAME > my_study.yaml).")
    p.add_argument("name", nargs="?", default=None, metavar="NAME", help="print this preset's spec")
    p.add_argument("--path", action="store_true", help="print the path of the spec file instead of its text")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("status", help="done / running / failed / missing per cell, stale runs and other versions")
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
        p.add_argument("--log-x", action="store_true", help="log-scaled x-axis")
        p.add_argument("--x-axis", default="time", choices=["time", "evaluations"],
                       help="x-axis of the anytime and average-rank figures: simulated time (default) or "
                            "number of evaluations (reports), as NePS's neps.plot")
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

    p = sub.add_parser("export", help="write NePS-style outputs of a study's runs (on demand)",
                       description="Write NePS's views of every done run: --format neps, one folder per "
                                   "run <out>/<benchmark>/<method>/<seed>/ with all_losses_and_configs.txt, "
                                   "best_loss_trajectory.txt, best_loss_with_config_trajectory.txt and "
                                   "summary_csv/{config_data,run_status}.csv; --format csv, three CSV files "
                                   "for the whole study (all_losses_and_configs.csv, best_loss_trajectory.csv, "
                                   "run_status.csv).")
    p.add_argument("path", help="the study folder <root>/<study> (or a folder of Syne Tune experiments)")
    p.add_argument("--format", default="neps", choices=["neps", "csv"],
                   help="neps: NePS's files per run (default); csv: three CSV files for the study")
    p.add_argument("--out", required=True, help="output folder (any fsspec URL)")
    _add_storage(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("export-tensorboard", help="write TensorBoard event files of a study (one per run)")
    p.add_argument("path", help="the study folder")
    p.add_argument("--out", required=True, help="the TensorBoard log directory to write")
    p.add_argument("--trial-curves", type=int, default=5, metavar="N",
                   help="write the learning curves of each run's N best trials (default 5; 0: none)")
    _add_storage(p)
    p.set_defaults(func=cmd_export_tensorboard)
