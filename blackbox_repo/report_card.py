"""The report card of a fitted surrogate: how well it imitates the table it was fitted on.

Numbers on the card (all computed by ``blackbox_repo.surrogate.add_surrogate``):

- **held-out error** per objective (MAE, RMSE, and RMSE divided by the standard deviation
  of the true values, ``nrmse``) of a model fitted on 80% of the configurations and asked
  about the other 20% (the split is by configuration, never by row, so no curve of a test
  configuration is seen during fitting); errors are in the objective's own units, the
  elapsed time as the cumulative time;
- **Spearman rank correlation** per fidelity of the default metric across the held-out
  configurations (seed-averaged), and its mean;
- **monotonicity**: how many predicted steps of the cumulative elapsed time went down
  before the repair (increments clipped at 0 and summed), out of how many steps checked,
  on held-out and on randomly sampled configurations; after the repair there are none;
- **fit time** of the final model and **prediction throughput** (configurations per second
  for a batch, and the latency of one configuration).

Example:
    >>> card = ReportCard(model="knn", seeds="separate", n_configs=10, n_train=8, n_test=2)
    >>> ReportCard.from_dict(card.to_dict()) == card
    True
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.fs import json_safe

__all__ = ["ReportCard", "held_out_errors", "spearman_per_fidelity", "count_decreases"]


@dataclass
class ReportCard:
    """What ``add_surrogate`` measured about a surrogate (JSON-serializable via ``to_dict``).

    Example:
        >>> ReportCard(model="mlp", seeds="average").model
        'mlp'
    """

    model: str
    seeds: str
    model_kwargs: dict = field(default_factory=dict)
    n_configs: int = 0             # configurations in the table
    n_used: int = 0                # after subsampling (max_configs)
    n_train: int = 0               # fitted in the held-out evaluation
    n_test: int = 0                # held out
    n_dropped_nan: int = 0         # training rows dropped for NaN cells (imputed when too many)
    n_components: int | None = None
    errors: dict = field(default_factory=dict)         # objective -> {mae, rmse, nrmse}
    metric: str = ""
    spearman: dict = field(default_factory=dict)       # {fidelity_values, rho, mean, at_max_fidelity}
    monotonicity: dict = field(default_factory=dict)   # {elapsed_time, held_out, random, ...}
    fit_seconds: float = 0.0
    eval_fit_seconds: float = 0.0
    throughput_configs_per_s: float = 0.0
    single_config_ms: float = 0.0
    configuration_space: str = ""                      # "table" or "custom"
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe(asdict(self), infinity="null")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ReportCard":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def text(self) -> str:
        """A human-readable summary (what the CLI prints after fitting)."""
        lines = [f"surrogate report card: model {self.model}, seeds {self.seeds}, "
                 f"{self.configuration_space} configuration space"]
        lines.append(f"  configurations: {self.n_configs} in the table, {self.n_used} used, "
                     f"held-out split {self.n_train} train / {self.n_test} test (by configuration)")
        if self.n_dropped_nan:
            lines.append(f"  training rows with NaN cells: {self.n_dropped_nan}")
        if self.n_components:
            lines.append(f"  curve compression: {self.n_components} principal components")
        lines.append("  held-out error per objective:")
        width = max((len(k) for k in self.errors), default=0)
        for name, e in self.errors.items():
            lines.append(f"    {name.ljust(width)}  MAE {_g(e.get('mae'))}  RMSE {_g(e.get('rmse'))}  "
                         f"RMSE/std {_g(e.get('nrmse'))}")
        sp = self.spearman or {}
        if sp:
            lines.append(f"  Spearman rank correlation of {self.metric}: mean {_g(sp.get('mean'))}, "
                         f"at the largest fidelity {_g(sp.get('at_max_fidelity'))}")
            rho = sp.get("rho") or []
            fv = sp.get("fidelity_values") or []
            shown = list(zip(fv, rho))
            if len(shown) > 8:
                idx = np.unique(np.linspace(0, len(shown) - 1, 8).round().astype(int))
                shown = [shown[i] for i in idx]
            lines.append("    per fidelity: " + ", ".join(f"{f}: {_g(r)}" for f, r in shown))
        mono = self.monotonicity or {}
        if mono.get("elapsed_time"):
            lines.append(f"  elapsed time ({mono['elapsed_time']}) decreasing steps before repair: "
                         f"held-out {mono.get('held_out', 0)} of {mono.get('held_out_steps', 0)}, "
                         f"random configs {mono.get('random', 0)} of {mono.get('random_steps', 0)}, "
                         f"in the table itself {mono.get('table', 0)}; after repair 0")
        lines.append(f"  fit time {self.fit_seconds:.3g} s (held-out model {self.eval_fit_seconds:.3g} s); "
                     f"prediction {self.throughput_configs_per_s:,.0f} configs/s batched, "
                     f"{self.single_config_ms:.3g} ms for one config")
        return "\n".join(lines)


def _g(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


# ---------------------------------------------------------------------------- metrics
def held_out_errors(true: np.ndarray, pred: np.ndarray, names: Sequence[str]) -> dict:
    """``{objective: {mae, rmse, nrmse, n}}`` over the cells finite in both arrays.

    ``true`` and ``pred`` are shaped ``(..., n_objectives)``.

    Example:
        >>> t = np.array([[1.0, 10.0], [2.0, 20.0]]); p = np.array([[1.5, 10.0], [2.0, 22.0]])
        >>> held_out_errors(t, p, ["a", "b"])["a"]["mae"]
        0.25
    """
    out = {}
    t2 = np.asarray(true, dtype=np.float64).reshape(-1, len(names))
    p2 = np.asarray(pred, dtype=np.float64).reshape(-1, len(names))
    for j, name in enumerate(names):
        ok = np.isfinite(t2[:, j]) & np.isfinite(p2[:, j])
        if not ok.any():
            out[name] = {"mae": None, "rmse": None, "nrmse": None, "n": 0}
            continue
        d = p2[ok, j] - t2[ok, j]
        rmse = float(np.sqrt(np.mean(d * d)))
        sd = float(np.std(t2[ok, j]))
        out[name] = {"mae": round(float(np.mean(np.abs(d))), 6), "rmse": round(rmse, 6),
                     "nrmse": round(rmse / sd, 4) if sd > 0 else None, "n": int(ok.sum())}
    return out


def spearman_per_fidelity(true: np.ndarray, pred: np.ndarray) -> list[float | None]:
    """Spearman's rho between true and predicted values per fidelity (columns of
    ``(n_configs, n_fidelities)`` arrays), over configurations finite in both; ``None``
    where fewer than 3 remain or either side is constant.

    Example:
        >>> t = np.array([[1.0], [2.0], [3.0], [4.0]])
        >>> spearman_per_fidelity(t, t ** 2)
        [1.0]
    """
    from scipy.stats import spearmanr

    out: list[float | None] = []
    for k in range(true.shape[1]):
        a, b = true[:, k], pred[:, k]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
            out.append(None)
            continue
        rho = spearmanr(a[ok], b[ok]).statistic
        out.append(round(float(rho), 4) if np.isfinite(rho) else None)
    return out


def count_decreases(curves: np.ndarray) -> tuple[int, int]:
    """(steps that go down, steps checked) along the last axis, ignoring NaN neighbours.

    Example:
        >>> count_decreases(np.array([[1.0, 2.0, 1.5, np.nan, 3.0]]))
        (1, 2)
    """
    c = np.asarray(curves, dtype=np.float64)
    d = np.diff(c, axis=-1)
    ok = np.isfinite(d)
    return int(np.count_nonzero(d[ok] < 0)), int(np.count_nonzero(ok))
