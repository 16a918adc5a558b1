"""Figures of a study (matplotlib, Agg): anytime performance, average rank, final boxes,
critical-difference diagram, decision time. PNG and PDF; one colour per method everywhere.

Example:
    >>> from studies.analysis import load_study
    >>> paths = plot_all(load_study("demo-results/demo"), "figs")    # doctest: +SKIP
"""
from __future__ import annotations

import io
import math
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from blackbox_repo.errors import InputError  # noqa: E402
from studies.analysis import StudyResults  # noqa: E402
from studies.stats import critical_difference  # noqa: E402

__all__ = ["method_colors", "plot_anytime", "plot_average_rank", "plot_final_boxplots",
           "plot_critical_difference", "plot_decision_time", "plot_all", "save_figure", "FIGURES"]

FIGURES = ("anytime", "average_rank", "final_boxplots", "critical_difference", "decision_time")
STAT_LABELS = {"mean_se": "mean ± s.e.", "median_iqr": "median, quartiles", "iqm": "IQM, 95% bootstrap CI"}


def method_colors(methods: Sequence[str]) -> dict[str, Any]:
    """Method -> colour, by the method's position in ``methods`` (the study's order)."""
    cmap = plt.get_cmap("tab10" if len(methods) <= 10 else "tab20")
    return {m: cmap(i % cmap.N) for i, m in enumerate(methods)}


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(max_cols, n)
    return math.ceil(n / cols), cols


def _legend_below(fig, methods: Sequence[str], colors: Mapping[str, Any]) -> None:
    handles = [plt.Line2D([], [], color=colors[m], lw=2.5) for m in methods]
    fig.legend(handles, methods, loc="lower center", ncol=min(len(methods), 6), frameon=False,
               bbox_to_anchor=(0.5, 0.0))


def _time_unit(t_max: float) -> tuple[float, str]:
    if t_max >= 7200:
        return 3600.0, "h"
    if t_max >= 300:
        return 60.0, "min"
    return 1.0, "s"


def plot_anytime(study: StudyResults, stat: str = "mean_se", log_x: bool = False, value: str = "best",
                 n_points: int = 100, colors: Mapping[str, Any] | None = None):
    """Best value so far against simulated time, one panel per benchmark, bands over seeds."""
    agg = study.aggregate(stat, value=value, n_points=n_points, log_x=log_x)
    benches = [b for b in study.benchmarks if b in set(agg["benchmark"])]
    methods = study.methods
    colors = colors or method_colors(methods)
    rows, cols = _grid(max(1, len(benches)))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows + 0.6), squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        g = agg[agg["benchmark"] == bench]
        scale, unit = _time_unit(float(g["time"].max()))
        metric, mode = study.metric_of(bench)
        shown = []
        for m in methods:
            gm = g[g["method"] == m]
            if gm.empty:
                continue
            t = gm["time"].to_numpy() / scale
            ax.plot(t, gm["center"], color=colors[m], lw=1.8, label=m)
            ax.fill_between(t, gm["lower"], gm["upper"], color=colors[m], alpha=0.18, lw=0)
            shown.append(gm)
        # focus the y-axis on the part of the curves after the first tenth of the budget
        late = np.concatenate([s[s["step"] >= n_points // 10][["lower", "upper", "center"]].to_numpy().ravel()
                               for s in shown]) if shown else np.array([])
        late = late[np.isfinite(late)]
        if late.size and late.max() - late.min() <= 1e-12 * max(1.0, abs(late.max())):
            # every method sits at the same value late on (a solved task): show the whole curves
            late = np.concatenate([s[["center"]].to_numpy().ravel() for s in shown])
            late = late[np.isfinite(late)]
        if late.size:
            lo, hi = float(late.min()), float(late.max())
            pad = 0.06 * (hi - lo or abs(hi) or 1.0)
            ax.set_ylim(lo - pad, hi + pad)
        if log_x:
            ax.set_xscale("log")
        ax.set_title(bench, fontsize=11)
        ax.set_xlabel(f"simulated time ({unit})")
        label = "normalized regret" if value == "regret" else f"best {metric} so far"
        ax.set_ylabel(f"{label} ({'lower' if mode == 'min' or value == 'regret' else 'higher'} is better)",
                      fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    what = "Normalized regret (0 = best value in the table, 1 = worst)" if value == "regret" else \
        "Anytime performance"
    fig.suptitle(f"{what}; {STAT_LABELS.get(stat, stat)} over seeds", fontsize=12)
    _legend_below(fig, methods, colors)
    fig.tight_layout(rect=(0, 0.07 if rows == 1 else 0.04, 1, 1))
    return fig


def plot_average_rank(study: StudyResults, log_x: bool = False, n_points: int = 100,
                      colors: Mapping[str, Any] | None = None):
    """Rank averaged over benchmarks and seeds, against the fraction of the budget."""
    ar = study.average_rank(n_points=n_points, log_x=log_x)
    methods = study.methods
    colors = colors or method_colors(methods)
    fig, ax = plt.subplots(figsize=(7.6, 4.2))
    for m in methods:
        g = ar[ar["method"] == m]
        if not g.empty:
            ax.plot(100 * g["fraction"], g["rank"], color=colors[m], lw=2, label=m)
    ax.set_xlabel("budget used (% of each benchmark's simulated time" + (", log grid)" if log_x else ")"))
    ax.set_ylabel("average rank (1 = best)")
    ax.set_ylim(0.9, max(1, len(methods)) + 0.1)
    ax.set_xlim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(f"Average rank over {len(study.benchmarks)} benchmark(s) and all seeds", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def plot_final_boxplots(study: StudyResults, value: str = "best", colors: Mapping[str, Any] | None = None):
    """Final best value per method (box over seeds), one panel per benchmark."""
    fv = study.final_values()
    benches = [b for b in study.benchmarks if b in set(fv["benchmark"])]
    methods = study.methods
    colors = colors or method_colors(methods)
    rows, cols = _grid(max(1, len(benches)))
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.6, 0.9 * len(methods) + 1.5) * cols, 3.8 * rows),
                             squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        g = fv[fv["benchmark"] == bench]
        present = [m for m in methods if m in set(g["method"])]
        data = [g[g["method"] == m][value].dropna().to_numpy() for m in present]
        bp = ax.boxplot(data, patch_artist=True, widths=0.6, medianprops={"color": "black"}, showfliers=False)
        ax.set_xticks(range(1, len(present) + 1), present, rotation=20 if len(present) > 4 else 0)
        for patch, m in zip(bp["boxes"], present):
            patch.set_facecolor(colors[m])
            patch.set_alpha(0.55)
        for i, d in enumerate(data, start=1):
            jitter = np.random.default_rng(i).uniform(-0.12, 0.12, len(d))
            ax.scatter(i + jitter, d, s=9, color="black", alpha=0.6, zorder=3)
        metric, mode = study.metric_of(bench)
        label = "normalized regret" if value == "regret" else f"final best {metric}"
        ax.set_ylabel(f"{label} ({'lower' if mode == 'min' or value == 'regret' else 'higher'} is better)",
                      fontsize=9)
        ax.set_title(bench, fontsize=11)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    fig.suptitle("Final performance at the end of the budget (one point per seed)", fontsize=12)
    fig.tight_layout()
    return fig


def plot_critical_difference(study: StudyResults, alpha: float = 0.05, colors: Mapping[str, Any] | None = None):
    """Critical-difference diagram of final performance (Friedman + Nemenyi, blocks = benchmark x seed)."""
    fv = study.final_values()
    modes = {b: study.metric_of(b)[1] for b in study.benchmarks}
    res = critical_difference(fv, modes, alpha=alpha)
    methods = sorted(res.avg_ranks, key=res.avg_ranks.get)
    colors = colors or method_colors(study.methods)
    k = len(methods)
    half = math.ceil(k / 2)
    y_bottom = -0.45 - 0.28 * len(res.cliques) - 0.55 * (half - 1) - 0.35
    height = 0.55 * (2.0 - y_bottom) + 0.5
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(y_bottom, 1.85)
    ax.axis("off")
    ax.hlines(0, 1, k, color="black", lw=1.2)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.18, color="black", lw=1)
        ax.text(r, 0.28, str(r), ha="center", va="bottom", fontsize=9)
    ax.text((1 + k) / 2, 0.95, "average rank (1 = best)", ha="center", fontsize=9)
    # the CD bar
    ax.hlines(1.35, 1, 1 + res.cd, color="firebrick", lw=2.5)
    ax.text(1 + res.cd / 2, 1.42, f"CD = {res.cd:.2f}", ha="center", va="bottom", fontsize=9, color="firebrick")
    # clique bars just below the axis
    for i, group in enumerate(res.cliques):
        y = -0.25 - 0.28 * i
        ax.hlines(y, res.avg_ranks[group[0]] - 0.03, res.avg_ranks[group[-1]] + 0.03, color="black", lw=4)
    y0 = -0.45 - 0.28 * len(res.cliques)
    for i, m in enumerate(methods):
        r = res.avg_ranks[m]
        left = i < half
        y = y0 - 0.55 * (i if left else k - 1 - i)
        x_text = 0.6 if left else k + 0.4
        ax.plot([r, r, x_text], [0, y, y], color=colors.get(m, "black"), lw=1.3)
        ax.text(x_text + (-0.05 if left else 0.05), y, f"{m} ({r:.2f})", ha="right" if left else "left",
                va="center", fontsize=9, color=colors.get(m, "black"))
    test = "Friedman" if k >= 3 else "Wilcoxon"
    ax.set_title(f"Critical difference of final performance (Nemenyi, α = {alpha})\n"
                 f"{res.n_blocks} benchmark × seed blocks; {test} test p = {res.friedman_pvalue:.3g}",
                 fontsize=10)
    fig.subplots_adjust(left=0.2, right=0.8, top=0.8, bottom=0.02)
    return fig


def plot_decision_time(study: StudyResults, colors: Mapping[str, Any] | None = None):
    """Scheduler decision time per method: per decision (ms) and per run (s), log scale."""
    dt = study.decision_times()
    methods = [m for m in study.methods if m in set(dt["method"])]
    colors = colors or method_colors(study.methods)
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 1.6 * len(methods) + 3), 3.8))
    for ax, col, label in ((axes[0], "per_decision_ms", "time per decision (ms)"),
                           (axes[1], "total_s", "total decision time per run (s)")):
        data = [dt[dt["method"] == m][col].replace(0, np.nan).dropna().to_numpy() for m in methods]
        keep = [i for i, d in enumerate(data) if len(d)]
        if keep:
            bp = ax.boxplot([data[i] for i in keep], patch_artist=True, widths=0.6,
                            medianprops={"color": "black"})
            ax.set_xticks(range(1, len(keep) + 1), [methods[i] for i in keep],
                          rotation=20 if len(keep) > 4 else 0)
            for patch, i in zip(bp["boxes"], keep):
                patch.set_facecolor(colors[methods[i]])
                patch.set_alpha(0.55)
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y", which="both")
    axes[0].set_title("Optimizer overhead per decision (wall clock)", fontsize=10)
    axes[1].set_title("Summed over a run (wall clock)", fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, out: str, name: str, formats: Sequence[str] = ("png", "pdf"),
                storage_options: Mapping[str, Any] | None = None, dpi: int = 120) -> list[str]:
    """Save ``fig`` as ``<out>/<name>.<fmt>`` for each format (``out`` is any fsspec URL)."""
    import fsspec

    fs, base = fsspec.core.url_to_fs(str(out), **dict(storage_options or {}))
    fs.makedirs(base, exist_ok=True)
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
        path = f"{base.rstrip('/')}/{name}.{fmt}"
        fs.pipe_file(path, buf.getvalue())
        paths.append(path if "://" not in str(out) else f"{str(out).rstrip('/')}/{name}.{fmt}")
    plt.close(fig)
    return paths


def plot_all(study: StudyResults, out: str, *, formats: Sequence[str] = ("png", "pdf"), log_x: bool = False,
             stat: str = "mean_se", storage_options: Mapping[str, Any] | None = None,
             figures: Sequence[str] = FIGURES) -> dict[str, list[str]]:
    """Every figure of the study into ``out``; returns figure name -> written paths.

    A figure that cannot be drawn (e.g. a critical-difference diagram with one method) is
    left out with a warning."""
    import warnings

    colors = method_colors(study.methods)
    makers = {
        "anytime": lambda: plot_anytime(study, stat=stat, log_x=log_x, colors=colors),
        "anytime_regret": lambda: plot_anytime(study, stat=stat, log_x=log_x, value="regret", colors=colors),
        "average_rank": lambda: plot_average_rank(study, log_x=log_x, colors=colors),
        "final_boxplots": lambda: plot_final_boxplots(study, colors=colors),
        "critical_difference": lambda: plot_critical_difference(study, colors=colors),
        "decision_time": lambda: plot_decision_time(study, colors=colors),
    }
    out_paths: dict[str, list[str]] = {}
    for name in figures:
        if name not in makers:
            raise InputError(f"unknown figure {name!r}; figures: {sorted(makers)}")
        try:
            fig = makers[name]()
        except ValueError as e:
            warnings.warn(f"figure {name!r} skipped: {e}", stacklevel=2)
            continue
        out_paths[name] = save_figure(fig, out, name, formats, storage_options)
    return out_paths
