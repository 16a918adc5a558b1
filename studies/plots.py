"""Figures of a study (matplotlib, Agg): anytime performance, average rank, final boxes,
critical-difference diagram, decision time. PNG and PDF; one colour per method everywhere.

Example:
    >>> from studies.analysis import load_study
    >>> paths = plot_all(load_study("demo-results/demo"), "figs")    # doctest: +SKIP
"""
from __future__ import annotations

import io
import math
import textwrap
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from blackbox_repo.errors import InputError  # noqa: E402
from studies.analysis import StudyResults, check_x_axis  # noqa: E402
from studies.stats import critical_difference  # noqa: E402

__all__ = ["same_curves", "method_colors", "plot_anytime", "plot_average_rank", "plot_final_boxplots",
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


def _wrap(text: str, width_in: float, fontsize: float = 8.5) -> str:
    """``text`` wrapped to lines that fit ``width_in`` inches at ``fontsize`` points."""
    chars = max(20, int(width_in * 72 / (0.62 * fontsize)))   # DejaVu Sans: about 0.6 em per character
    return "\n".join(textwrap.wrap(text, chars, break_on_hyphens=False)) if text else ""


def _legend_below(fig, methods: Sequence[str], colors: Mapping[str, Any], extra: Sequence[tuple[Any, str]] = ()
                  ) -> float:
    """The methods' legend in rows below the panels (never over them), and under it one row for
    each ``extra`` (handle, text) entry; returns the height they take in inches."""
    width = fig.get_figwidth()
    longest = max((len(m) for m in methods), default=1)
    ncol = max(1, min(len(methods), 8, int(width * 72 / (0.6 * 9 * longest + 45))))
    rows = math.ceil(len(methods) / ncol) if methods else 0
    row_in = 0.25
    base = (0.1 + row_in * len(extra)) / fig.get_figheight()
    if methods:
        fig.legend([plt.Line2D([], [], color=colors[m], lw=2.5) for m in methods], list(methods),
                   loc="lower center", ncol=ncol, frameon=False, bbox_to_anchor=(0.5, base), fontsize=9,
                   borderaxespad=0.1)
    for i, (handle, text) in enumerate(extra):
        fig.legend([handle], [text], loc="lower center", frameon=False, fontsize=8.5, borderaxespad=0.1,
                   bbox_to_anchor=(0.5, (0.05 + row_in * (len(extra) - 1 - i)) / fig.get_figheight()))
    return 0.15 + row_in * (rows + len(extra))


def _layout(fig, top_in: float, bottom_in: float) -> None:
    """``tight_layout`` inside a band that keeps ``top_in`` inches for the figure title and
    ``bottom_in`` inches for the legend and notes, so neither overlaps a panel or its title."""
    h = fig.get_figheight()
    fig.tight_layout(rect=(0, min(bottom_in / h, 0.45), 1, 1 - min(top_in / h, 0.3)))


def same_curves(curves: Mapping[str, np.ndarray]) -> list[list[str]]:
    """Groups (2 or more) of methods whose curves are equal point by point (NaNs equal): drawn
    on top of each other, all but one would be invisible, so figures name them.

    Example:
        >>> same_curves({"A": np.array([1.0, np.nan]), "B": np.array([1.0, np.nan]), "C": np.array([2.0, 1])})
        [['A', 'B']]
    """
    groups: list[list[str]] = []
    for m, c in curves.items():
        for g in groups:
            ref = curves[g[0]]
            if ref.shape == c.shape and np.allclose(ref, c, rtol=0, atol=1e-12, equal_nan=True):
                g.append(m)
                break
        else:
            groups.append([m])
    return [g for g in groups if len(g) > 1]


EARLY_LABEL = "a run ended before the budget (e.g. table exhausted, max_trials)"


def _time_unit(t_max: float) -> tuple[float, str]:
    if t_max >= 7200:
        return 3600.0, "h"
    if t_max >= 300:
        return 60.0, "min"
    return 1.0, "s"


def plot_anytime(study: StudyResults, stat: str = "mean_se", log_x: bool = False, value: str = "best",
                 n_points: int = 100, colors: Mapping[str, Any] | None = None, x: str = "time"):
    """Best value so far against simulated time (``x="evaluations"``: against the number of
    evaluations, as NePS's ``neps.plot``), one panel per benchmark, bands over seeds.

    Each panel aggregates a fixed set of seeds (those where every method shown there is done;
    the curve starts once all of them have reported), says how many, names the methods it
    does not show and why, and marks with a cross where a run ended before the budget (on the
    evaluations axis: at its number of evaluations)."""
    agg = study.aggregate(stat, value=value, n_points=n_points, log_x=log_x, x=x)
    benches = [b for b in study.benchmarks if b in set(agg["benchmark"])]
    methods = study.methods
    colors = colors or method_colors(methods)
    early = study.ended_early()
    if x == "evaluations":     # a run's end on this axis: its number of reports
        n_reports = study.runs.set_index(["benchmark", "method", "seed"])["n_reports"]
        keys = list(zip(early["benchmark"], early["method"], early["seed"]))
        early = early.assign(end_time=[float(n_reports.get(k, np.nan)) for k in keys])
    rows, cols = _grid(max(1, len(benches)))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.7 * rows + 0.9), squeeze=False)
    any_early = False
    for ax, bench in zip(axes.flat, benches):
        g = agg[agg["benchmark"] == bench]
        panel = study.panel(bench)
        scale, unit = _time_unit(float(g["time"].max())) if x == "time" else (1.0, "")
        metric, mode = study.metric_of(bench)
        shown = []
        same = same_curves({m: g[g["method"] == m]["center"].to_numpy(dtype=float) for m in methods
                            if (g["method"] == m).any()})
        for m in methods:
            gm = g[g["method"] == m]
            if gm.empty:
                continue
            t = gm[x].to_numpy() / scale
            ax.plot(t, gm["center"], color=colors[m], lw=1.8, label=m)
            ax.fill_between(t, gm["lower"], gm["upper"], color=colors[m], alpha=0.18, lw=0)
            shown.append(gm)
            ends = early[(early["benchmark"] == bench) & (early["method"] == m)
                         & early["seed"].isin(panel.seeds)]["end_time"].to_numpy(dtype=float)
            ok = np.isfinite(gm["center"].to_numpy(dtype=float))
            if len(ends) and ok.any():
                y = np.interp(ends / scale, t[ok], gm["center"].to_numpy(dtype=float)[ok])
                ax.plot(ends / scale, y, "x", color=colors[m], ms=7, mew=1.8, zorder=4)
                any_early = True
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
        elif x == "evaluations":   # counts up to 10,000s: fewer, whole-number ticks that do not collide
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, integer=True))
        caption = panel.caption() + "".join(f"; same curve: {' = '.join(grp)}" for grp in same)
        ax.set_title(bench + "\n" + _wrap(caption, 4.0, 9.5), fontsize=9.5)
        ax.set_xlabel(f"simulated time ({unit})" if x == "time" else "number of evaluations (reports)")
        label = "normalized regret" if value == "regret" else f"best {metric} so far"
        ax.set_ylabel(f"{label} ({'lower' if mode == 'min' or value == 'regret' else 'higher'} is better)",
                      fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    what = "Normalized regret (0 = best value in the table, 1 = worst)" if value == "regret" else \
        "Anytime performance"
    title = _wrap(f"{what}; {STAT_LABELS.get(stat, stat)} over each panel's fixed set of seeds",
                  fig.get_figwidth() - 0.3, 12)      # a one-panel figure is narrower than the title
    fig.suptitle(title, fontsize=12)
    extra = [(plt.Line2D([], [], color="dimgray", marker="x", lw=0, ms=7, mew=1.8), EARLY_LABEL)] if any_early else []
    legend_h = _legend_below(fig, methods, colors, extra)
    _layout(fig, 0.25 + 0.22 * (title.count("\n") + 1), legend_h)
    return fig


def plot_average_rank(study: StudyResults, log_x: bool = False, n_points: int = 100,
                      colors: Mapping[str, Any] | None = None, x: str = "time"):
    """Rank averaged over benchmarks and their blocks, against the fraction of the budget.

    Only (benchmark, seed) blocks where every compared method has a done run count; the
    figure says how many and what was left out."""
    ar = study.average_rank(n_points=n_points, log_x=log_x, x=x)
    blocks = study.blocks()
    if ar.empty:
        raise ValueError(f"no (benchmark, seed) block where every method has a done run: {blocks.note()}")
    methods = [m for m in study.methods if m in blocks.methods]
    colors = colors or method_colors(study.methods)
    note = _wrap("Blocks: " + blocks.note() + ".", 9.2)
    n_note = note.count("\n") + 1
    fig, ax = plt.subplots(figsize=(9.6, 4.2 + 0.17 * n_note))
    same = {m: grp for grp in same_curves({m: ar[ar["method"] == m]["rank"].to_numpy(dtype=float)
                                           for m in methods}) for m in grp}
    for m in methods:
        g = ar[ar["method"] == m]
        if not g.empty:
            label = m + (f" (= {', '.join(o for o in same[m] if o != m)})" if m in same else "")
            ax.plot(100 * g["fraction"], g["rank"], color=colors[m], lw=2, label=label)
    what = "simulated time" if x == "time" else "largest number of evaluations"
    ax.set_xlabel(f"budget used (% of each benchmark's {what}" + (", log grid)" if log_x else ")"))
    ax.set_ylabel("average rank (1 = best)")
    ax.set_ylim(0.9, max(1, len(methods)) + 0.1)
    ax.set_xlim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(f"Average rank over {len(blocks.benchmarks)} benchmark(s) and {blocks.n_blocks} "
                 f"(benchmark, seed) blocks", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    fig.text(0.01, 0.01, note, ha="left", va="bottom", fontsize=8.5, color="0.25")
    _layout(fig, 0.05, 0.17 * n_note + 0.15)
    return fig


def plot_final_boxplots(study: StudyResults, value: str = "best", colors: Mapping[str, Any] | None = None):
    """Final best value per method (box over seeds), one panel per benchmark."""
    fv = study.final_values()
    benches = [b for b in study.benchmarks if b in set(fv["benchmark"])]
    methods = study.methods
    colors = colors or method_colors(methods)
    rows, cols = _grid(max(1, len(benches)))
    width = max(4.6, 0.9 * len(methods) + 1.5)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, 3.9 * rows + 0.5), squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        g = fv[fv["benchmark"] == bench]
        panel = study.panel(bench)
        if panel.shared:                    # the panel's common seeds, as in the anytime figure
            g = g[g["seed"].isin(panel.seeds)]
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
        ax.set_title(bench + "\n" + _wrap(panel.caption(), width - 0.6, 9.5), fontsize=9.5)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    fig.suptitle("Final performance at the end of the budget (one point per seed of each panel's common seeds)",
                 fontsize=12)
    _layout(fig, 0.45, 0.0)
    return fig


def plot_critical_difference(study: StudyResults, alpha: float = 0.05, colors: Mapping[str, Any] | None = None):
    """Critical-difference diagram of final performance (Friedman + Nemenyi, blocks = benchmark x seed)."""
    blocks = study.blocks()
    fv = study.final_values(blocks_only=True)
    modes = {b: study.metric_of(b)[1] for b in study.benchmarks}
    res = critical_difference(fv, modes, alpha=alpha)
    # side margins wide enough for the longest "method (rank)" label, so none is cut
    margin = max(1.5, 0.62 * 9 / 72 * max(len(f"{m} (0.00)") for m in res.avg_ranks) + 0.3)
    fig_w = 4.5 + 2 * margin
    note = _wrap("Blocks: " + blocks.note() + ".", fig_w - 0.3)
    n_note = note.count("\n") + 1
    methods = sorted(res.avg_ranks, key=res.avg_ranks.get)
    colors = colors or method_colors(study.methods)
    k = len(methods)
    half = math.ceil(k / 2)
    y_bottom = -0.45 - 0.28 * len(res.cliques) - 0.55 * (half - 1) - 0.35
    height = 0.55 * (2.0 - y_bottom) + 0.5 + 0.17 * n_note
    fig, ax = plt.subplots(figsize=(fig_w, height))
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
    fig.text(0.02, 0.01, note, ha="left", va="bottom", fontsize=8.5, color="0.25")
    fig.subplots_adjust(left=margin / fig_w, right=1 - margin / fig_w, top=1 - 0.75 / height,
                        bottom=(0.17 * n_note + 0.1) / height)
    return fig


def plot_decision_time(study: StudyResults, colors: Mapping[str, Any] | None = None):
    """Scheduler decision time per method, ``suggest()`` included: per decision (ms) and per run
    (s), log scale."""
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
    axes[0].set_title("Optimizer time per decision (suggest + report decisions, wall clock)", fontsize=10)
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
             figures: Sequence[str] = FIGURES, x: str = "time") -> dict[str, list[str]]:
    """Every figure of the study into ``out``; returns figure name -> written paths.

    ``x``: the x-axis of the anytime and average-rank figures, ``"time"`` (simulated) or
    ``"evaluations"`` (number of reports). A figure that cannot be drawn (e.g. a
    critical-difference diagram with one method) is left out with a warning."""
    import warnings

    check_x_axis(x)
    colors = method_colors(study.methods)
    makers = {
        "anytime": lambda: plot_anytime(study, stat=stat, log_x=log_x, colors=colors, x=x),
        "anytime_regret": lambda: plot_anytime(study, stat=stat, log_x=log_x, value="regret", colors=colors, x=x),
        "average_rank": lambda: plot_average_rank(study, log_x=log_x, colors=colors, x=x),
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
