"""Reports of a study: ``report.md``, a self-contained ``report.html`` (images inlined as
base64), the figures (PNG + PDF), and NePS-style summary CSVs.

Files written into ``out`` (any fsspec URL; default ``<study>/report``):
``report.md``, ``report.html``, ``figures/*.png|pdf``, ``final_table.csv``,
``run_status.csv`` (per run: status, trials, best metric, failed trials, wall time, error, and
NePS's best loss, best configuration id and best configuration; ``studies.neps_io``)
and ``config_data.csv`` (every evaluated configuration with its last report, sorted by the
metric, best first, per benchmark).

Example:
    >>> paths = write_report("demo-results/demo")      # doctest: +SKIP
    >>> paths["html"]                                  # doctest: +SKIP
    'demo-results/demo/report/report.html'
"""
from __future__ import annotations

import base64
import html
import math
from typing import Any, Mapping, Sequence

import fsspec
import numpy as np
import pandas as pd

from blackbox_repo.errors import InputError
from studies.analysis import StudyResults, check_x_axis, load_study
from studies.fingerprint import RESULTS_SEMANTICS_VERSION, Provenance, run_settings, settings_sha256, version_flags
from studies.neps_io import run_status_table
from studies.plots import plot_all

__all__ = ["write_report", "run_status_table", "config_data_table", "final_table_display", "report_warnings",
           "provenance_warnings"]

FIGURE_CAPTIONS = {
    "anytime": "Anytime performance: best value found so far against simulated time (bands over each panel's "
               "fixed set of seeds; a cross marks a run that ended before the budget).",
    "anytime_regret": "Normalized regret (0 = the table's best value, 1 = its worst) against simulated time.",
    "average_rank": "Average rank of each method over time, averaged over the (benchmark, seed) blocks where "
                    "every method has a done run (the figure lists what was left out).",
    "final_boxplots": "Final performance at the end of the budget, one point per seed.",
    "critical_difference": "Critical-difference diagram of final performance over the (benchmark, seed) "
                           "blocks where every method has a done run: methods joined by a bar are not "
                           "significantly different (Nemenyi).",
    "decision_time": "Wall-clock time the optimizer spent deciding (per decision and per run).",
}


def config_data_table(study: StudyResults) -> pd.DataFrame:
    """Every evaluated configuration (its last report), sorted by the benchmark's metric, best first."""
    frames = []
    for bench in study.benchmarks:
        metric, mode = study.metric_of(bench)
        rep = study.reports(benchmarks=[bench])
        if rep.empty:
            continue
        last = rep.groupby(["method", "seed", "trial_id"], sort=False).tail(1)
        last = last.sort_values(metric, ascending=(mode == "min"), na_position="last", kind="stable")
        frames.append(last)
    if not frames:
        return pd.DataFrame(columns=["benchmark", "method", "seed", "trial_id"])
    return pd.concat(frames, ignore_index=True)


def report_warnings(status: pd.DataFrame) -> list[str]:
    """What a reader must know before trusting the numbers: corrupt runs left out, no done run at all.

    Example:
        >>> t = pd.DataFrame({"benchmark": ["b", "b"], "method": ["A", "A"], "seed": [0, 1],
        ...                   "status": ["failed", "failed"], "error": ["ValueError: bad", "ValueError: bad"]})
        >>> report_warnings(t)[0][:43]
        'no run is done (2 of 2 failed): there are n'
    """
    out = []
    if not len(status):
        return ["the study has no stored runs: there is nothing to report yet."]
    corrupt = status[status["status"] == "corrupt"]
    if len(corrupt):
        names = ", ".join(f"{r.benchmark}/{r.method}/{r.seed}" for r in corrupt.head(5).itertuples(index=False))
        more = f" and {len(corrupt) - 5} more" if len(corrupt) > 5 else ""
        out.append(f"{len(corrupt)} run(s) are corrupt and EXCLUDED from every table and figure ({names}{more}): "
                   f"their files no longer match the checksums recorded when they were written. "
                   f"'hposim study verify' lists them; 'hposim study run' recomputes them.")
    if not (status["status"] == "done").any():
        errors = status["error"].fillna("(no error recorded)").astype(str).str.split("\n").str[0]
        common = errors.value_counts()
        why = "; ".join(f"{n}x {e[:200]}" for e, n in common.head(3).items())
        n_failed = int((status["status"] == "failed").sum())
        out.append(f"no run is done ({n_failed} of {len(status)} failed"
                   + (f", {len(corrupt)} corrupt" if len(corrupt) else "") + "): there are no results to compare. "
                   f"Most common errors: {why}. Tracebacks are in each run's metadata.json.")
    return out


def _spec_settings_hashes(spec: str | None) -> dict[tuple[str, str, int], str]:
    """sha256 of the settings the study's spec gives each cell (empty without a readable spec)."""
    if not spec:
        return {}
    import yaml

    from studies.spec import Study

    try:
        runs = Study.from_dict(yaml.safe_load(spec), max_runs=None).runs()
    except Exception:  # noqa: BLE001 - a spec this version cannot read: nothing to compare with
        return {}
    return {r.key: settings_sha256(run_settings(r)) for r in runs}


def provenance_warnings(study: StudyResults) -> list[str]:
    """What produced the done runs, when it is not this hposim with the spec's settings: stale runs
    (kept with ``--keep-stale``), runs of another hposim version or results semantics (how many,
    which versions), runs of unknown provenance.

    Example:
        >>> from studies.analysis import RUN_COLUMNS
        >>> runs = pd.DataFrame([{"benchmark": "b", "method": "A", "seed": 0, "status": "done", "source": "hposim",
        ...                       "provenance": "hposim 0.0.1 (semantics 0)", "hposim_version": "0.0.1",
        ...                       "semantics_version": 0}], columns=RUN_COLUMNS)
        >>> [w.split(":")[0].split(" (")[0] for w in provenance_warnings(StudyResults(runs, {}))]
        ['1 run(s) are stale', '1 run(s) were written by another hposim version than this one']
    """
    runs = study.runs
    if not len(runs) or "provenance" not in runs:
        return []
    done = runs[(runs["status"] == "done") & (runs["source"] == "hposim") & runs["provenance"].notna()]
    expected = _spec_settings_hashes(study.spec)
    records, stale = [], {}
    for r in done.itertuples(index=False):
        known = r.provenance != "unknown provenance"
        sem = None if pd.isna(r.semantics_version) else int(r.semantics_version)
        records.append(Provenance(known, None if pd.isna(r.hposim_version) else str(r.hposim_version), sem))
        want = expected.get((r.benchmark, r.method, int(r.seed)))
        if (want is not None and r.settings_sha256 != want) or (known and sem != RESULTS_SEMANTICS_VERSION):
            stale[(r.benchmark, r.method)] = stale.get((r.benchmark, r.method), 0) + 1
    out = []
    if stale:
        names = ", ".join(f"{b}/{m} ({n})" for (b, m), n in list(stale.items())[:8])
        more = f" and {len(stale) - 8} more" if len(stale) > 8 else ""
        out.append(f"{sum(stale.values())} run(s) are stale: they were produced with other settings (or another "
                   f"results semantics) than the spec below gives them, and were kept (--keep-stale): "
                   f"{names}{more}. 'hposim study status' says what changed; 'hposim study run SPEC "
                   f"--rerun-stale' recomputes them.")
    return out + version_flags(records)


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.4f}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.3g}"


def final_table_display(study: StudyResults) -> pd.DataFrame:
    """Benchmarks x methods, cells ``mean ± se`` over the benchmark's common seeds (the
    benchmark cell says ``(k of n seeds)`` when some were left out) with the best mean per
    benchmark marked, plus an "average rank" row over the complete (benchmark, seed) blocks
    only. Returns the table of strings; ``attrs["best"]`` is the boolean mask of best cells,
    ``attrs["note"]`` says which seeds and blocks were used and what was left out."""
    table = study.final_table()
    methods = study.methods
    blocks = study.blocks()
    n_seeds = study.runs.groupby("benchmark")["seed"].nunique()
    rows, best_mask = [], []
    for bench in study.benchmarks:
        g = table[table["benchmark"] == bench].set_index("method")
        if g.empty:
            continue
        mode = study.metric_of(bench)[1]
        means = g["mean"].reindex(methods)
        best = means.min() if mode == "min" else means.max()
        used = len(study.panel(bench).seeds)
        label = bench + (f" ({used} of {int(n_seeds.get(bench, 0))} seeds)" if used < n_seeds.get(bench, 0) else "")
        rows.append([label, study.metric_of(bench)[0]] + [
            f"{_fmt(g.loc[m, 'mean'])} ± {_fmt(g.loc[m, 'se'])}" if m in g.index else "–" for m in methods])
        best_mask.append([False, False] + [bool(m in g.index and g.loc[m, "mean"] == best) for m in methods])
    ranked = table[table["benchmark"].isin(blocks.benchmarks) & table["method"].isin(blocks.methods)]
    avg_rank = ranked.groupby("method")["rank"].mean().reindex(methods)
    best_rank = avg_rank.min()
    rows.append([f"average rank ({blocks.n_blocks} blocks)", ""] + [_fmt(avg_rank[m]) for m in methods])
    best_mask.append([False, False] + [bool(avg_rank[m] == best_rank) for m in methods])
    out = pd.DataFrame(rows, columns=["benchmark", "metric", *methods])
    out.attrs["best"] = np.array(best_mask, dtype=bool)
    out.attrs["note"] = (f"Cells: mean ± s.e. over the seeds where every method with a done run on the "
                         f"benchmark is done ((k of n seeds) when some were left out; '–': no done run). Ranks (the average rank row, the average-rank figure and the "
                         f"critical-difference diagram) use {blocks.note()}.")
    return out


def _multi_objective_figures(study: StudyResults, out: str, formats: Sequence[str], log_x: bool, stat: str,
                             storage_options: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Hypervolume-over-time and Pareto-front figures when some benchmark has several metrics
    (``studies.pareto_plots``); their captions join ``FIGURE_CAPTIONS``."""
    from studies.pareto_plots import MO_CAPTIONS, plot_multi_objective

    FIGURE_CAPTIONS.update(MO_CAPTIONS)
    return plot_multi_objective(study, f"{out.rstrip('/')}/figures", formats=formats, log_x=log_x, stat=stat,
                                storage_options=storage_options)


def _multi_objective_section(study: StudyResults) -> tuple[list[str], list[str]]:
    """Markdown and HTML of the final hypervolumes, with each benchmark's reference point and
    its rule (empty without multi-objective benchmarks)."""
    from studies.pareto_analysis import MARGIN, final_hypervolumes, multi_objective_benchmarks

    if study.done.empty or not multi_objective_benchmarks(study):
        return [], []
    t = final_hypervolumes(study)
    shown = pd.DataFrame({"benchmark": t["benchmark"], "method": t["method"],
                          "hypervolume": [f"{_fmt(m)} ± {_fmt(e)}" for m, e in zip(t["mean"], t["se"])],
                          "normalized": [_fmt(v) for v in t["normalized"]], "seeds": t["n"],
                          "reference point": t["reference"]})
    text = (f"Hypervolume of all reports by the end of the budget, mean ± standard error over seeds; normalized: "
            f"divided by the hypervolume of every report of the benchmark. Reference point per benchmark: per "
            f"metric the worst value observed over all runs of the benchmark, {MARGIN:.0%} of the observed "
            f"range further.")
    return (["## Multi-objective: final hypervolume", "", text, "", _md_table(shown), ""],
            ["<h2>Multi-objective: final hypervolume</h2>", f"<p>{html.escape(text)}</p>", _html_table(shown)])


def _md_table(df: pd.DataFrame, bold: np.ndarray | None = None) -> str:
    cells = df.astype(str).to_numpy()
    if bold is not None:
        cells = np.where(bold, np.char.add(np.char.add("**", cells.astype(str)), "**"), cells)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _html_table(df: pd.DataFrame, bold: np.ndarray | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.astype(str).to_numpy()):
        tds = []
        for j, v in enumerate(row):
            v = html.escape(v)
            tds.append(f"<td><b>{v}</b></td>" if bold is not None and bold[i, j] else f"<td>{v}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_report(study: "StudyResults | str", out: str | None = None, *,
                 storage_options: Mapping[str, Any] | None = None, stat: str = "mean_se",
                 log_x: bool = False, formats: Sequence[str] = ("png", "pdf"), x: str = "time") -> dict[str, str]:
    """Write the report of ``study`` (a ``StudyResults`` or a study folder URL) into ``out``;
    ``x``: the x-axis of the anytime and average-rank figures (``"time"`` or ``"evaluations"``)."""
    check_x_axis(x)
    source = study if isinstance(study, str) else None
    if isinstance(study, str):
        study = load_study(study, storage_options)
    if out is None:
        if source is None:
            raise InputError("write_report needs out= when given a loaded study")
        out = source.rstrip("/") + "/report"
    fs, base = fsspec.core.url_to_fs(str(out), **dict(storage_options or {}))
    base = base.rstrip("/")
    fs.makedirs(base, exist_ok=True)

    def put(name: str, data: bytes) -> str:
        fs.pipe_file(f"{base}/{name}", data)
        return f"{str(out).rstrip('/')}/{name}"

    paths: dict[str, str] = {}
    status = run_status_table(study)
    paths["run_status"] = put("run_status.csv", status.to_csv(index=False).encode())
    paths["config_data"] = put("config_data.csv", config_data_table(study).to_csv(index=False).encode())
    done = study.done
    figures: dict[str, list[str]] = {}
    table = pd.DataFrame()
    if not done.empty:
        paths["final_table"] = put("final_table.csv", study.final_table().to_csv(index=False).encode())
        names = ["anytime", "average_rank", "final_boxplots", "critical_difference", "decision_time"]
        if study.runs["optimum"].notna().any():
            names.insert(1, "anytime_regret")
        figures = plot_all(study, f"{str(out).rstrip('/')}/figures", formats=formats, log_x=log_x, stat=stat,
                           storage_options=storage_options, figures=names, x=x)
        figures.update(_multi_objective_figures(study, str(out), formats, log_x, stat, storage_options))
        table = final_table_display(study)

    n_done = int((status["status"] == "done").sum()) if len(status) else 0
    failed = status[status["status"] != "done"] if len(status) else status
    n_corrupt = int((status["status"] == "corrupt").sum()) if len(status) else 0
    title = f"Study report: {study.name}"
    summary = (f"{len(status)} runs stored: {n_done} done, {len(failed) - n_corrupt} failed"
               + (f", {n_corrupt} corrupt (excluded)" if n_corrupt else "") + "; "
               f"{len(study.methods)} methods × {len(study.benchmarks)} benchmarks. "
               f"Values are the best metric found by the end of each benchmark's budget, "
               f"mean ± standard error over seeds; bold = best per benchmark.")
    md = [f"# {title}", ""]
    h = [f"<h1>{html.escape(title)}</h1>"]
    for warning in report_warnings(status) + provenance_warnings(study):
        md += [f"> **Warning:** {warning}", ""]
        h.append(f"<p style='border:2px solid #c00;padding:0.5em'><b>Warning:</b> {html.escape(warning)}</p>")
    md += [summary, ""]
    h.append(f"<p>{html.escape(summary)}</p>")
    if not table.empty:
        md += ["## Final performance", "", _md_table(table, table.attrs["best"]), "", table.attrs["note"], ""]
        h += ["<h2>Final performance</h2>", _html_table(table, table.attrs["best"]),
              f"<p>{html.escape(table.attrs['note'])}</p>"]
    mo_md, mo_html = _multi_objective_section(study)
    md += mo_md
    h += mo_html
    if figures:
        md += ["## Figures", ""]
        h += ["<h2>Figures</h2>"]
        for name, files in figures.items():
            png = next((f for f in files if f.endswith(".png")), None)
            caption = FIGURE_CAPTIONS.get(name, name)
            if x == "evaluations" and name in ("anytime", "anytime_regret", "average_rank"):
                caption = caption.replace("against simulated time", "against the number of evaluations "
                                          "(reports)").replace("over time", "over the number of evaluations")
            md += [f"### {name.replace('_', ' ')}", "", caption, ""]
            h += [f"<h3>{html.escape(name.replace('_', ' '))}</h3>", f"<p>{html.escape(caption)}</p>"]
            if png:
                md += [f"![{name}](figures/{name}.png)", ""]
                data = fs.cat_file(f"{base}/figures/{name}.png")
                h.append(f'<img alt="{name}" src="data:image/png;base64,{base64.b64encode(data).decode()}">')
    md += ["## Failures", ""]
    h.append("<h2>Failures</h2>")
    if len(failed):
        ft = failed[["benchmark", "method", "seed", "error"]].copy()
        ft["error"] = ft["error"].fillna("").astype(str).str.slice(0, 200)
        md += [_md_table(ft), "", "Tracebacks: `<study>/<benchmark>/<method>/<seed>/metadata.json`.", ""]
        h.append(_html_table(ft))
    else:
        md += ["None.", ""]
        h.append("<p>None.</p>")
    if study.spec:
        md += ["## Spec", "", "```yaml", study.spec.rstrip(), "```", ""]
        h += ["<h2>Spec</h2>", f"<pre>{html.escape(study.spec)}</pre>"]
    md += ["## Files", "", "- `run_status.csv`: one row per run (status, trials, best metric, failed trials, "
           "wall time, error, best loss, best configuration id and best configuration)", "- `config_data.csv`: every evaluated configuration with its last report, "
           "best first", "- `final_table.csv`: the final table with medians, regret, ranks", ""]
    paths["md"] = put("report.md", "\n".join(md).encode())
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:right}th{background:#f3f3f3}img{max-width:100%;margin:0.5em 0 1.5em}"
             "pre{background:#f7f7f7;padding:1em;overflow:auto}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(h)}</body></html>")
    paths["html"] = put("report.html", page.encode())
    for name, files in figures.items():
        paths[f"figure:{name}"] = files[0]
    return paths
