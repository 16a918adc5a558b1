"""Statistics across methods: the Friedman test with the Nemenyi critical difference.

Blocks are (benchmark, seed) pairs where every method has a row (a done run); the pairs where
some method has none are left out and counted (``n_dropped``, ``dropped``); a done run without
any reported value ranks last in its block. Within a block methods are ranked (1 = best,
ties share the average rank). The Friedman test asks whether
the average ranks differ; the Nemenyi critical difference ``CD = q_alpha / sqrt(2) *
sqrt(k (k + 1) / (6 N))`` (``q_alpha`` from the studentized range distribution with ``k``
groups and infinite degrees of freedom) says which pairs do (Demsar, JMLR 2006).

Example:
    >>> import pandas as pd
    >>> fv = pd.DataFrame({"benchmark": "b", "seed": [0, 0, 1, 1, 2, 2], "method": ["A", "B"] * 3,
    ...                    "best": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]})
    >>> r = critical_difference(fv, mode={"b": "min"})
    >>> r.avg_ranks["A"], r.avg_ranks["B"]
    (1.0, 2.0)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["critical_difference", "CDResult"]


@dataclass
class CDResult:
    """Average ranks, the critical difference, the Friedman test and the groups of methods
    whose ranks differ by less than the CD (not significantly different).

    Example:
        >>> import pandas as pd
        >>> fv = pd.DataFrame({"benchmark": "b", "seed": [s for s in range(4) for _ in "ABC"],
        ...                    "method": ["A", "B", "C"] * 4,
        ...                    "best": [0.1, 0.2, 0.3, 0.1, 0.3, 0.2, 0.1, 0.2, 0.3, 0.2, 0.1, 0.3]})
        >>> r = critical_difference(fv, mode="min")
        >>> r.avg_ranks, round(r.cd, 3), r.n_blocks, r.cliques
        ({'A': 1.25, 'B': 2.0, 'C': 2.75}, 1.657, 4, [['A', 'B', 'C']])
    """

    avg_ranks: dict[str, float]
    cd: float
    n_blocks: int
    alpha: float
    friedman_statistic: float = float("nan")
    friedman_pvalue: float = float("nan")
    cliques: list[list[str]] = field(default_factory=list)
    #: (benchmark, seed) pairs left out because some method has no row there, and the count
    dropped: list[tuple[str, int]] = field(default_factory=list)

    @property
    def n_dropped(self) -> int:
        return len(self.dropped)


def critical_difference(final_values: pd.DataFrame, mode: Mapping[str, str] | str = "min",
                        alpha: float = 0.05, value: str = "best") -> CDResult:
    """Friedman + Nemenyi on ``final_values`` (columns benchmark, method, seed, ``value``)."""
    methods = list(dict.fromkeys(final_values["method"]))
    keyed = final_values.set_index(["benchmark", "seed", "method"])
    wide = keyed[value].unstack("method").reindex(columns=methods)
    present = keyed.assign(_row=1.0)["_row"].unstack("method").reindex(columns=methods).notna().all(axis=1)
    dropped = [(str(b), int(s)) for b, s in wide.index[~present.to_numpy()]]
    wide = wide[present.to_numpy()]
    k, n = len(methods), len(wide)
    if k < 2 or n < 1:
        raise ValueError(f"a critical-difference diagram needs >= 2 methods with values on common "
                         f"(benchmark, seed) blocks; got {k} methods and {n} blocks"
                         + (f" ({len(dropped)} pairs lack some method)" if dropped else ""))
    sign = np.array([1.0 if (mode if isinstance(mode, str) else mode.get(b, "min")) == "min" else -1.0
                     for b in wide.index.get_level_values("benchmark")])
    scores = wide.to_numpy(dtype=float) * sign[:, None]
    finite = scores[np.isfinite(scores)]
    worst = (finite.max() + (finite.max() - finite.min()) + 1.0) if finite.size else 1.0
    scores = np.where(np.isnan(scores), worst, scores)       # a done run with no value ranks last
    ranks = np.apply_along_axis(stats.rankdata, 1, scores)
    avg = dict(zip(methods, ranks.mean(axis=0).tolist()))
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    cd = float(q * np.sqrt(k * (k + 1) / (6.0 * n)))
    res = CDResult(avg, cd, n, alpha, dropped=dropped)
    if k >= 3 and n >= 2:
        f = stats.friedmanchisquare(*[scores[:, j] for j in range(k)])
        res.friedman_statistic, res.friedman_pvalue = float(f.statistic), float(f.pvalue)
    elif k == 2 and n >= 2:  # Friedman with two groups is the sign test; report Wilcoxon instead
        d = scores[:, 0] - scores[:, 1]
        if np.any(d != 0):
            w = stats.wilcoxon(scores[:, 0], scores[:, 1])
            res.friedman_statistic, res.friedman_pvalue = float(w.statistic), float(w.pvalue)
        else:
            res.friedman_statistic, res.friedman_pvalue = 0.0, 1.0
    res.cliques = _cliques(avg, cd)
    return res


def _cliques(avg: Mapping[str, float], cd: float) -> list[list[str]]:
    """Maximal runs of methods (sorted by rank) spanning less than ``cd``."""
    order = sorted(avg, key=lambda m: avg[m])
    out: list[list[str]] = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and avg[order[j + 1]] - avg[order[i]] < cd:
            j += 1
        if j > i:
            group = order[i:j + 1]
            if not any(set(group) <= set(g) for g in out):
                out.append(group)
    return out
