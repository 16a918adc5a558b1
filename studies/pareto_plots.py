"""Figures of a multi-objective study: hypervolume over time and Pareto fronts (matplotlib, Agg).

Both state the reference point of each benchmark (``studies.pareto_analysis.reference_points``)
in the panel. Colours are ``studies.plots.method_colors``, as in every other figure.

Example:
    >>> from studies.analysis import load_study
    >>> paths = plot_multi_objective(load_study("results/mo-study"), "figs")    # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence


from studies.analysis import StudyResults, aggregate
from studies.pareto_analysis import (hypervolume_trajectories, multi_objective_benchmarks, objectives_of,
                                     pareto_fronts, reference_points)
from studies.plots import STAT_LABELS, _grid, _legend_below, _time_unit, method_colors, plt, save_figure

__all__ = ["plot_hypervolume", "plot_pareto_fronts", "plot_multi_objective", "MO_FIGURES", "MO_CAPTIONS"]

MO_FIGURES = ("hypervolume", "pareto_fronts")
MO_CAPTIONS = {
    "hypervolume": "Hypervolume of the reports so far against simulated time (bands over seeds); the reference "
                   "point of each benchmark is printed in its panel: per metric the worst value observed over all "
                   "runs of the benchmark, 10% of the observed range further.",
    "pareto_fronts": "Pareto front of each method at the end of the budget (the reports of all its seeds pooled); "
                     "the first two metrics, with the reference point printed in the panel.",
}


def _reference_text(refs: Any, bench: str) -> str:
    r = refs[refs["benchmark"] == bench]
    return "ref: " + ", ".join(f"{m}={v:.4g}" for m, v in zip(r["metric"], r["reference"]))


def plot_hypervolume(study: StudyResults, stat: str = "mean_se", log_x: bool = False, n_points: int = 100,
                     colors: Mapping[str, Any] | None = None):
    """Hypervolume so far against simulated time, one panel per multi-objective benchmark."""
    traj = hypervolume_trajectories(study, n_points, log_x)
    if traj.empty:
        raise ValueError("no multi-objective benchmark with done runs")
    agg = aggregate(traj, stat, value="hypervolume")
    refs = reference_points(study)
    benches = [b for b in multi_objective_benchmarks(study) if b in set(agg["benchmark"])]
    methods = study.methods
    colors = colors or method_colors(methods)
    rows, cols = _grid(max(1, len(benches)))
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.8 * rows + 0.6), squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        g = agg[agg["benchmark"] == bench]
        scale, unit = _time_unit(float(g["time"].max()))
        for m in methods:
            gm = g[g["method"] == m]
            if gm.empty:
                continue
            t = gm["time"].to_numpy() / scale
            ax.plot(t, gm["center"], color=colors[m], lw=1.8, label=m)
            ax.fill_between(t, gm["lower"], gm["upper"], color=colors[m], alpha=0.18, lw=0)
        if log_x:
            ax.set_xscale("log")
        metrics, modes = objectives_of(study, bench)
        ax.set_title(bench, fontsize=11)
        ax.set_xlabel(f"simulated time ({unit})")
        ax.set_ylabel("hypervolume (higher is better)", fontsize=9)
        ax.text(0.02, 0.03, _reference_text(refs, bench) + "\n" + ", ".join(
            f"{m} ({mode})" for m, mode in zip(metrics, modes)), transform=ax.transAxes, fontsize=7.5,
            va="bottom", color="0.3")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    fig.suptitle(f"Hypervolume over time; {STAT_LABELS.get(stat, stat)} over seeds", fontsize=12)
    _legend_below(fig, methods, colors)
    fig.tight_layout(rect=(0, 0.07 if rows == 1 else 0.04, 1, 1))
    return fig


def plot_pareto_fronts(study: StudyResults, colors: Mapping[str, Any] | None = None):
    """Each method's Pareto front (all seeds pooled) in the plane of the first two metrics, one
    panel per multi-objective benchmark; the reference point is printed in the panel."""
    benches = multi_objective_benchmarks(study)
    if not benches:
        raise ValueError("no multi-objective benchmark")
    refs = reference_points(study)
    methods = study.methods
    colors = colors or method_colors(methods)
    rows, cols = _grid(len(benches))
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 4.0 * rows + 0.6), squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        metrics, modes = objectives_of(study, bench)
        fronts = pareto_fronts(study, bench)
        x, y = metrics[0], metrics[1]
        for m in methods:
            f = fronts[fronts["method"] == m]
            if f.empty:
                continue
            # the boundary of the dominated region: a staircase through the front, sorted by x
            f = f.sort_values(x)
            ax.step(f[x], f[y], where="post" if modes[0] == "min" else "pre", color=colors[m], lw=1.5)
            ax.plot(f[x], f[y], "o", ms=3.5, color=colors[m])
        ax.set_title(bench + ("" if len(metrics) == 2 else f" (first 2 of {len(metrics)} metrics)"), fontsize=11)
        ax.set_xlabel(f"{x} ({'lower' if modes[0] == 'min' else 'higher'} is better)", fontsize=9)
        ax.set_ylabel(f"{y} ({'lower' if modes[1] == 'min' else 'higher'} is better)", fontsize=9)
        ax.text(0.02, 0.02 if modes[1] == "max" else 0.97, _reference_text(refs, bench), transform=ax.transAxes,
                fontsize=7.5, va="bottom" if modes[1] == "max" else "top", color="0.3")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    fig.suptitle("Pareto fronts at the end of the budget (seeds pooled)", fontsize=12)
    _legend_below(fig, methods, colors)
    fig.tight_layout(rect=(0, 0.07 if rows == 1 else 0.04, 1, 1))
    return fig


def plot_multi_objective(study: StudyResults, out: str, *, formats: Sequence[str] = ("png", "pdf"),
                         log_x: bool = False, stat: str = "mean_se",
                         storage_options: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """The multi-objective figures of ``study`` into ``out`` (none when no benchmark is
    multi-objective); returns figure name -> written paths."""
    if not multi_objective_benchmarks(study) or study.done.empty:
        return {}
    colors = method_colors(study.methods)
    figures = {"hypervolume": lambda: plot_hypervolume(study, stat=stat, log_x=log_x, colors=colors),
               "pareto_fronts": lambda: plot_pareto_fronts(study, colors=colors)}
    return {name: save_figure(make(), out, name, formats, storage_options) for name, make in figures.items()}
