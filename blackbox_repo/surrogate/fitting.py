"""Fitting a surrogate: ``add_surrogate(table, model=...)`` checks its arguments, fits the
curve model of the family (``models.CURVE_MODELS``) on a held-out split to fill the report card
(held-out errors, rank correlation, monotonicity, speed), then on every used configuration.

A model maps an encoded configuration to its *whole* curve -- every fidelity level x every
objective (x every seed, with ``seeds="separate"``) at once, as one multi-output regression --
so a predicted curve is coherent.
"""
from __future__ import annotations

import difflib
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace
from blackbox_repo.report_card import ReportCard, count_decreases, held_out_errors, spearman_per_fidelity
from blackbox_repo.surrogate.blackbox import DEFAULT_CACHE_BYTES, SurrogateBlackbox
from blackbox_repo.surrogate.features import Features
from blackbox_repo.surrogate.models import CURVE_MODELS, MODELS, CurveModel, SurrogateError

__all__ = ["add_surrogate", "SEED_MODES"]

SEED_MODES = ("separate", "average")


def _choose(value: Any, allowed: Sequence[str], what: str) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise SurrogateError(f"{what} {value!r} is not valid; allowed: {list(allowed)}.{hint}")


@dataclass
class _Split:
    used: np.ndarray
    train: np.ndarray
    test: np.ndarray


def _split(n: int, max_configs: int | None, holdout: float, rng: np.random.Generator) -> _Split:
    """Subsample to ``max_configs`` configurations, then hold out a share of them."""
    used = np.arange(n)
    if max_configs is not None and max_configs < n:
        used = np.sort(rng.choice(n, size=max_configs, replace=False))
    perm = rng.permutation(used)
    n_test = 0
    if holdout > 0 and len(used) >= 5:
        n_test = min(max(1, int(round(holdout * len(used)))), len(used) - 2)
    return _Split(used=used, train=np.sort(perm[n_test:]), test=np.sort(perm[:n_test]))


def _seed_mean(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=1, keepdims=True)


def _targets(table: TabularBlackbox, rows: np.ndarray, seeds: str) -> np.ndarray:
    Y = np.asarray(table.objectives[rows], dtype=np.float32)
    return _seed_mean(Y).astype(np.float32) if seeds == "average" else Y


def _with_zero(t: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(t.shape[:-1] + (1,)), t], axis=-1)


def add_surrogate(blackbox: TabularBlackbox, model: str = "knn", configuration_space: ConfigurationSpace | None = None,
                  seeds: str = "separate", max_configs: int | None = None, random_state: int = 0, *,
                  n_components: int | str | None = "auto", holdout: float = 0.2,
                  cache_bytes: int = DEFAULT_CACHE_BYTES, **model_kwargs: Any) -> SurrogateBlackbox:
    """Fit a surrogate of ``blackbox`` (a table) and measure it; returns a ``SurrogateBlackbox``.

    ``model``: one of ``MODELS``; ``model_kwargs`` go to the model (``n_neighbors`` for
    knn, scikit-learn / XGBoost arguments otherwise). ``configuration_space``: the space the
    surrogate answers (default: the table's); every tabulated value must belong to it.
    ``seeds``: ``"separate"`` (one curve per seed, as tabulated) or ``"average"`` (the mean
    over seeds; the surrogate has one seed). ``max_configs``: fit on a random subset of that
    many configurations (large tables). ``n_components``: principal components of the
    (standardized) curves the regressor predicts; ``"auto"`` = 32 when a curve has more
    numbers (never for knn), ``None`` = no compression. ``holdout``: share of configurations
    held out to measure the report card (the final model is then fitted on all).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> x = np.linspace(0, 1, 30)
        >>> obj = np.stack([np.broadcast_to((x[:, None] - 0.5) ** 2, (30, 4)),
        ...                 np.broadcast_to(np.arange(1, 5) * (1 + x[:, None]), (30, 4))], -1)
        >>> t = TabularBlackbox(pd.DataFrame({"x": x}), obj[:, None], [1, 2, 3, 4], ["loss", "time"],
        ...                     metric_elapsed_time="time")
        >>> sur = add_surrogate(t, "random_forest", n_estimators=20)
        >>> sur.card.spearman["mean"] > 0.5
        True
    """
    if isinstance(blackbox, SurrogateBlackbox):
        blackbox = blackbox.table
    if not isinstance(blackbox, TabularBlackbox):
        raise SurrogateError(f"add_surrogate fits a TabularBlackbox, got {type(blackbox).__name__}")
    model = _choose(model, MODELS, "model")
    seeds = _choose(seeds, SEED_MODES, "seeds")
    if max_configs is not None and (isinstance(max_configs, bool) or not isinstance(max_configs, (int, np.integer))
                                    or max_configs < 2):
        raise SurrogateError(f"max_configs={max_configs!r} is not valid; it must be an integer >= 2 or None")
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout < 1:
        raise SurrogateError(f"holdout={holdout!r} is not valid; it must be a number in [0, 1)")
    family = CURVE_MODELS[model]
    family.check_arguments(model_kwargs, random_state)      # argument and import errors first
    table = blackbox
    space = configuration_space if configuration_space is not None else table.configuration_space
    if not isinstance(space, ConfigurationSpace):
        raise SurrogateError(f"configuration_space must be a ConfigurationSpace, got {type(space).__name__}")
    columns = list(table.hyperparameters.columns)
    if sorted(space) != sorted(columns):
        raise SurrogateError(f"the configuration space's hyperparameters {list(space)} differ from the "
                             f"table's {columns}")
    for k, dom in space.items():
        outside = [v for v in pd.unique(table.hyperparameters[k]) if not dom.contains(v)]
        if outside:
            raise SurrogateError(f"tabulated values of '{k}' lie outside the configuration space "
                                 f"({dom.describe()}): {outside[:5]}")
    features = Features(space)
    X_all = features.columns({k: table.hyperparameters[k].tolist() for k in space})
    n, s, f, o = table.shape
    ei = table.objective_index(table.metric_elapsed_time) if table.metric_elapsed_time else None
    s_out = s if seeds == "separate" else 1
    n_out = s_out * f * o
    if n_components == "auto":
        auto = family.auto_components
        nc = None if auto is None or n_out <= auto else auto
    elif n_components is None:
        nc = None
    elif isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise SurrogateError(f"n_components={n_components!r} is not valid; it must be 'auto', None or "
                             f"an integer >= 1")
    else:
        nc = int(n_components)
    rng = np.random.default_rng(random_state)
    sp = _split(n, max_configs, float(holdout), rng)

    def new_model() -> CurveModel:
        return family(elapsed_index=ei, random_state=random_state, n_components=nc, model_kwargs=model_kwargs)

    mi = table.objective_index(table.metric)
    card = ReportCard(model=model, seeds=seeds, model_kwargs=_jsonable_kwargs(family, model_kwargs),
                      n_configs=n, n_used=len(sp.used), n_train=len(sp.train), n_test=len(sp.test),
                      metric=table.metric,
                      configuration_space="table" if space == table.configuration_space else "custom",
                      versions=family.versions())
    mono: dict[str, Any] = {"elapsed_time": table.metric_elapsed_time}
    if ei is not None:
        mono["table"], _ = count_decreases(_with_zero(np.asarray(table.objectives[..., ei], np.float64)))
    # ---------------------------------------------------------- held-out evaluation
    if len(sp.test):
        m = new_model()
        t0 = time.perf_counter()
        m.fit(X_all[sp.train], _targets(table, sp.train, seeds))
        card.eval_fit_seconds = round(time.perf_counter() - t0, 4)
        pred, raw_t = m.predict(X_all[sp.test], raw=True)
        true = _targets(table, sp.test, seeds)
        card.errors = held_out_errors(true, pred, table.objectives_names)
        rho = spearman_per_fidelity(_seed_mean(true[..., mi])[:, 0], _seed_mean(pred[..., mi])[:, 0])
        finite = [r for r in rho if r is not None]
        card.spearman = {"fidelity_values": [v.item() if isinstance(v, np.generic) else v
                                             for v in table.fidelity_values.tolist()],
                         "rho": rho, "mean": round(float(np.mean(finite)), 4) if finite else None,
                         "at_max_fidelity": rho[-1] if rho else None}
        if raw_t is not None:
            mono["held_out"], mono["held_out_steps"] = count_decreases(_with_zero(raw_t))
    # ---------------------------------------------------------- final model
    final = new_model()
    t0 = time.perf_counter()
    final.fit(X_all[sp.used], _targets(table, sp.used, seeds))
    card.fit_seconds = round(time.perf_counter() - t0, 4)
    card.n_dropped_nan = final.n_dropped_nan
    card.n_components = final.used_components
    sample_rng = np.random.default_rng(random_state + 1)
    batch = space.sample(sample_rng, 1024)
    Xb = features.configs(batch)
    t0 = time.perf_counter()
    pred_b, raw_b = final.predict(Xb, raw=True)
    card.throughput_configs_per_s = round(len(batch) / max(time.perf_counter() - t0, 1e-9), 1)
    if raw_b is not None:
        mono["random"], mono["random_steps"] = count_decreases(_with_zero(raw_b[:256]))
        after, _ = count_decreases(_with_zero(np.asarray(pred_b[..., ei], np.float64)))
        mono["after_repair"] = after
    singles = []
    for c in batch[:20]:
        x = features.configs([c])
        t0 = time.perf_counter()
        final.predict(x)
        singles.append(time.perf_counter() - t0)
    card.single_config_ms = round(1000 * float(np.median(singles)), 4)
    card.monotonicity = mono if ei is not None else {}
    return SurrogateBlackbox(table, final, features, seeds=seeds, card=card, cache_bytes=cache_bytes)


def _jsonable_kwargs(family: type[CurveModel], kwargs: Mapping[str, Any]) -> dict:
    merged = {**family.defaults, **kwargs}
    out = {}
    for k, v in merged.items():
        try:
            json.dumps(v)
            out[k] = v
        except TypeError:
            out[k] = repr(v)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

