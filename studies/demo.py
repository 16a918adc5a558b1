"""``make demo``: the demo study, its report and its figures.

Runs the study shipped as ``studies/demo_study.yaml`` (random search, ASHA with stopping and
with promotion, Hyperband = ASHA with brackets, synchronous Hyperband; every task of the
embedded blackbox; 10 seeds) on local processes, then writes the report (Markdown, HTML,
figures, CSVs), shows the final table, the best configuration of one run, and a regression
check of one method against another. Running it again skips the runs already done.

Example (shell)::

    python -m studies.demo --out demo-results --jobs 2
"""
from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from typing import Sequence

__all__ = ["demo_spec_path", "run_demo", "main"]


def demo_spec_path() -> str:
    """The path of the packaged demo spec."""
    return str(resources.files("studies").joinpath("demo_study.yaml"))


def run_demo(out: str = "demo-results", engine: str = "local", jobs: int = 2, seeds: int | None = None,
             stream=None, spec: str | None = None) -> int:
    """Run the demo study into ``out`` and write its report; returns an exit status."""
    from studies.analysis import load_study
    from studies.compare import compare
    from studies.report import final_table_display, write_report
    from studies.run_view import load_run
    from studies.runner import run_study
    from studies.spec import Study

    stream = stream or sys.stdout
    t0 = time.perf_counter()
    study = Study.from_yaml(spec or demo_spec_path())
    if seeds is not None:
        study.seeds = list(range(seeds))
    n = len(study.runs())
    print(f"Demo study {study.name!r}: {len(study.methods)} methods x {len(study.benchmarks)} benchmarks "
          f"({', '.join(study.benchmarks)}) x {len(study.seeds)} seeds = {n} simulated runs "
          f"on the {engine} engine ({jobs} processes)", file=stream, flush=True)
    # the demo recomputes runs an earlier demo (another spec or hposim version) left: never a refusal
    summary = run_study(study, out, engine=engine, jobs=jobs, stale="rerun")
    print(summary.format(), file=stream, flush=True)
    t_runs = time.perf_counter() - t0
    path = f"{out.rstrip('/')}/{study.name}"
    results = load_study(path)
    paths = write_report(results, f"{out.rstrip('/')}/report")
    t_all = time.perf_counter() - t0

    table = final_table_display(results)
    print("\nFinal best validation error (mean ± s.e. over seeds; lowest per row marked *):", file=stream)
    best = table.attrs["best"]
    shown = table.copy()
    for i in range(len(shown)):
        for j in range(2, shown.shape[1]):
            if best[i, j]:
                shown.iat[i, j] = f"*{shown.iat[i, j]}"
    print(shown.to_string(index=False), file=stream)

    bench = next(iter(study.benchmarks))
    method = "Hyperband" if "Hyperband" in study.methods else next(iter(study.methods))
    run = load_run(f"{path}/{bench}/{method}/{study.seeds[0]}")
    best_trial = run.get_best_result(scope="all")
    print(f"\nBest configuration of {bench}/{method}/seed {study.seeds[0]} (load_run(...).get_best_result()):\n"
          f"  {best_trial.config} -> {run.metric} = {best_trial.metrics[run.metric]:.4f} "
          f"at {run.metadata.get('benchmark_info', {}).get('fidelity_name', 'fidelity')} "
          f"{best_trial.metrics.get('fidelity')}", file=stream)
    if {"RandomSearch", "Hyperband"} <= set(study.methods):
        c = compare(results, baseline="Hyperband", candidate="RandomSearch")
        print(f"\nRegression check (hposim study compare {path} --baseline Hyperband --candidate RandomSearch):\n"
              f"{c.format()}", file=stream)
    print(f"\nReport: {paths['md']}\n        {paths['html']} (self-contained)\n"
          f"Figures: {out.rstrip('/')}/report/figures/\nCSVs:   {paths['run_status']}, {paths['config_data']}\n"
          f"Runs took {t_runs:.1f}s, everything {t_all:.1f}s. Try: hposim study status {path}", file=stream)
    return 0 if summary.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="demo-results", help="where results and the report go")
    parser.add_argument("--engine", default="local", choices=["serial", "local", "dask", "ray"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=None, help="override the number of seeds")
    parser.add_argument("--spec", default=None, help="another study spec (default: the packaged demo)")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.out, args.engine, args.jobs, args.seeds, spec=args.spec)
    except Exception as e:  # one line, like the CLI
        print(f"demo: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
