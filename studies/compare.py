"""Regression checks of schedulers: is a candidate worse than a baseline?

Both methods run on the same benchmarks and seeds (so pairs share the simulator's random
streams). For every (benchmark, seed) pair, the score is the area under the best-so-far
curve over the whole budget, with the metric normalized per benchmark to [0, 1] (0 = the
best value either method reached, 1 = the worst; "no result yet" counts as 1) — lower is
better, and it rewards finding good values early as well as at the end.

The test is a one-sided Wilcoxon signed-rank test on the paired differences (candidate -
baseline) pooled over benchmarks, with the matched-pairs rank-biserial correlation as
effect size (+1: the candidate is worse on every pair, -1: better on every pair). The
candidate is declared worse when ``p < alpha`` and the effect size exceeds ``min_effect``.

``measure_false_alarm_rate`` estimates how often this says "worse" when both sides are
the same method (random halves of one method's seeds); see the README for the measured figure.

Example:
    >>> c = compare("results/my-study", baseline="ASHA", candidate="MY-ASHA")    # doctest: +SKIP
    >>> c.worse, c.pvalue, c.effect_size                                         # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from blackbox_repo.errors import InputError
from studies.analysis import StudyResults, load_study

__all__ = ["compare", "Comparison", "paired_scores", "wilcoxon_worse", "measure_false_alarm_rate",
           "check_compare_settings"]


@dataclass
class Comparison:
    """The outcome of ``compare``: pooled test, effect size, per-benchmark details.

    Example:
        >>> c = Comparison("ASHA", "MY-ASHA", n_pairs=20, pvalue=0.003, effect_size=0.62, alpha=0.05,
        ...                min_effect=0.0, mean_difference=0.015)
        >>> c.worse
        True
        >>> print(c.format())
        MY-ASHA vs baseline ASHA: WORSE (one-sided Wilcoxon p = 0.003, alpha = 0.05; rank-biserial ...)
    """

    baseline: str
    candidate: str
    n_pairs: int
    pvalue: float
    effect_size: float
    alpha: float
    min_effect: float
    mean_difference: float
    per_benchmark: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def worse(self) -> bool:
        return bool(self.pvalue < self.alpha and self.effect_size > self.min_effect)

    def format(self) -> str:
        verdict = "WORSE" if self.worse else "not worse"
        lines = [f"{self.candidate} vs baseline {self.baseline}: {verdict} "
                 f"(one-sided Wilcoxon p = {self.pvalue:.3g}, alpha = {self.alpha}; rank-biserial effect "
                 f"= {self.effect_size:+.2f}, threshold {self.min_effect:+.2f}; {self.n_pairs} paired runs; "
                 f"mean normalized-AUC difference {self.mean_difference:+.4f}, > 0 means the candidate is worse)"]
        for r in self.per_benchmark.itertuples(index=False):
            lines.append(f"  {r.benchmark}: baseline AUC {r.baseline_auc:.4f}, candidate AUC {r.candidate_auc:.4f}, "
                         f"p = {r.pvalue:.3g}, effect {r.effect_size:+.2f} (n = {r.n})")
        return "\n".join(lines)


def paired_scores(study: StudyResults, baseline: str, candidate: str, n_points: int = 100) -> pd.DataFrame:
    """Normalized area under the best-so-far curve per (benchmark, seed) for both methods.

    Columns: benchmark, seed, baseline, candidate, diff (candidate - baseline)."""
    for m in (baseline, candidate):
        if m not in study.methods:
            import difflib

            close = difflib.get_close_matches(m, study.methods, n=1)
            raise InputError(f"method {m!r} is not in the study; methods: {study.methods}."
                             + (f" Did you mean {close[0]!r}?" if close else ""))
    traj = study.trajectories(n_points)
    traj = traj[traj["method"].isin([baseline, candidate])]
    rows = []
    for bench, g in traj.groupby("benchmark", sort=False):
        _, mode = study.metric_of(bench)
        v = g["best"].to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            continue
        lo, hi = finite.min(), finite.max()
        span = hi - lo if hi > lo else 1.0
        norm = (v - lo) / span if mode == "min" else (hi - v) / span
        g = g.assign(norm=np.where(np.isfinite(norm), norm, 1.0))
        auc = g.groupby(["method", "seed"])["norm"].mean().unstack("method")
        if baseline not in auc or candidate not in auc:
            continue
        auc = auc[[baseline, candidate]].dropna()
        for seed, r in auc.iterrows():
            rows.append({"benchmark": bench, "seed": int(seed), "baseline": r[baseline],
                         "candidate": r[candidate], "diff": r[candidate] - r[baseline]})
    return pd.DataFrame(rows, columns=["benchmark", "seed", "baseline", "candidate", "diff"])


def wilcoxon_worse(diff: np.ndarray) -> tuple[float, float]:
    """(one-sided p-value that ``diff`` > 0, rank-biserial effect size) of paired differences."""
    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    nz = d[d != 0]
    if nz.size == 0:
        return 1.0, 0.0
    ranks = stats.rankdata(np.abs(nz))
    w_plus, w_minus = ranks[nz > 0].sum(), ranks[nz < 0].sum()
    effect = float((w_plus - w_minus) / (w_plus + w_minus))
    p = float(stats.wilcoxon(nz, alternative="greater").pvalue)
    return p, effect


def check_compare_settings(baseline: str, candidate: str, alpha: float, min_effect: float) -> None:
    """``InputError`` unless ``0 < alpha < 1``, ``0 <= min_effect < 1`` (the rank-biserial effect
    lies in [-1, 1] and must *exceed* ``min_effect``) and the two methods differ.

    Example:
        >>> check_compare_settings("ASHA", "ASHA", 0.05, 0.0)
        Traceback (most recent call last):
        ...
        blackbox_repo.errors.InputError: --baseline and --candidate are both 'ASHA'; compare two different methods
    """
    if baseline == candidate:
        raise InputError(f"--baseline and --candidate are both {baseline!r}; compare two different methods")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"--alpha {alpha!r} is not valid; the significance level must be in (0, 1), e.g. 0.05")
    if isinstance(min_effect, bool) or not isinstance(min_effect, (int, float)) or not 0 <= min_effect < 1:
        raise InputError(f"--min-effect {min_effect!r} is not valid; the rank-biserial effect size lies in "
                         f"[-1, 1] and must exceed it, so it must be in [0, 1), e.g. 0.2")


def compare(study: "StudyResults | str | None" = None, *, baseline: str, candidate: str,
            alpha: float = 0.05, min_effect: float = 0.0, n_points: int = 100,
            storage_options: Mapping[str, Any] | None = None) -> Comparison:
    """Compare ``candidate`` with ``baseline`` on a stored study (a ``StudyResults`` or a path).

    To run both first, use ``studies.testing.assert_not_worse`` or ``run_study`` on a spec
    holding both methods."""
    check_compare_settings(baseline, candidate, alpha, min_effect)
    if study is None:
        raise InputError("compare needs the study (a path or a loaded StudyResults) holding both methods")
    if isinstance(study, str):
        study = load_study(study, storage_options)
    pairs = paired_scores(study, baseline, candidate, n_points)
    if pairs.empty:
        raise InputError(f"no (benchmark, seed) pair has done runs of both {baseline!r} and {candidate!r}")
    p, eff = wilcoxon_worse(pairs["diff"].to_numpy())
    per = []
    for bench, g in pairs.groupby("benchmark", sort=False):
        pb, eb = wilcoxon_worse(g["diff"].to_numpy())
        per.append({"benchmark": bench, "n": len(g), "baseline_auc": g["baseline"].mean(),
                    "candidate_auc": g["candidate"].mean(), "pvalue": pb, "effect_size": eb})
    return Comparison(baseline, candidate, len(pairs), p, eff, alpha, min_effect, float(pairs["diff"].mean()),
                      pd.DataFrame(per), pairs)


def measure_false_alarm_rate(study: "StudyResults | str", method: str, *, n_splits: int = 200,
                             alpha: float = 0.05, min_effect: float = 0.0, seed: int = 0,
                             n_points: int = 100) -> dict:
    """How often ``compare`` calls a method worse than itself.

    The seeds of ``method`` are split at random into two halves, paired at random, and
    tested as baseline vs candidate, ``n_splits`` times. Returns the alarm rate and the
    settings. Under the null hypothesis the rate should be close to (at most) ``alpha``."""
    check_compare_settings("baseline", "candidate", alpha, min_effect)
    if isinstance(study, str):
        study = load_study(study)
    traj = study.trajectories(n_points)
    traj = traj[traj["method"] == method]
    if traj.empty:
        raise InputError(f"method {method!r} has no done runs; methods: {study.methods}")
    # normalized AUC per (benchmark, seed), normalized within the benchmark
    aucs: dict[str, pd.Series] = {}
    for bench, g in traj.groupby("benchmark", sort=False):
        _, mode = study.metric_of(bench)
        v = g["best"].to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        lo, hi = finite.min(), finite.max()
        span = hi - lo if hi > lo else 1.0
        norm = (v - lo) / span if mode == "min" else (hi - v) / span
        aucs[bench] = g.assign(norm=np.where(np.isfinite(norm), norm, 1.0)).groupby("seed")["norm"].mean()
    rng = np.random.default_rng(seed)
    alarms = 0
    n_pairs = 0
    for _ in range(n_splits):
        diffs = []
        for s in aucs.values():
            vals = rng.permutation(s.to_numpy())
            half = len(vals) // 2
            diffs.append(vals[half:2 * half] - vals[:half])
        d = np.concatenate(diffs)
        n_pairs = len(d)
        p, eff = wilcoxon_worse(d)
        alarms += int(p < alpha and eff > min_effect)
    return {"method": method, "rate": alarms / n_splits, "alarms": alarms, "n_splits": n_splits,
            "pairs_per_test": n_pairs, "alpha": alpha, "min_effect": min_effect,
            "benchmarks": list(aucs)}
