"""Gaussian-process Bayesian optimization: ``GPSearcher`` and the ``BayesianOptimization`` method.

The model is ``methods.gp.GaussianProcess`` (Matérn-5/2 ARD kernel, hyperparameters fitted by
marginal likelihood with priors and restarts) on the configuration space's ``FeatureEncoder``
features (one-hot categoricals, [0, 1] numbers with log scaling). Each suggestion:

1. the first ``num_init_random`` configurations are random (the initial design);
2. otherwise ``num_init_candidates`` random configurations (or unused table rows, when the
   method is restricted to ``candidates``) are scored by expected improvement (EI) over the
   best observed score, and a local search from the ``local_search_starts`` best of them
   moves one step at a time to a better neighbour (numbers perturbed in feature space,
   one categorical redrawn; on a table, neighbours are rows differing in one hyperparameter)
   for at most ``local_search_steps`` rounds; the best unused point is suggested.

Pending trials (running, or handed out and not started) are handled by the *kriging believer*
(Ginsbourger et al. 2010): each pending point is added to the GP as an observation equal to
the posterior mean there. The mean is unchanged and the variance collapses near the pending
points, so their EI drops and four workers asking at once get four different points. It is
deterministic and costs one incremental Cholesky extension per suggestion, where Syne Tune's
fantasizing draws posterior samples (random, and one GP solve per fantasy sample) and the
constant liar shifts the mean by a chosen lie.

Hyperparameters are refitted on a schedule: at every new observation while there are fewer
than ``refit_every_below`` observations, then whenever the data grew by ``refit_growth``
(10% by default) since the last refit; in between new observations extend the Cholesky
factor incrementally (``GaussianProcess.add``). In a multi-fidelity scheduler (e.g.
``ASHA(searcher="bayesopt")``) the model uses the largest fidelity with at least
``num_init_random`` observations (BOHB's rule), random configurations below that.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.acquisition import AcquisitionSearcher
from methods.base import MethodError
from methods.fifo import FIFO
from methods.gp import GaussianProcess
from methods.registry import register
from methods.searcher import register_searcher

__all__ = ["GPSearcher", "BayesianOptimization"]

_PAPER = ("Snoek, Larochelle & Adams 2012, Practical Bayesian Optimization of Machine Learning "
          "Algorithms (NeurIPS)")


@register_searcher("bayesopt", "gp")
class GPSearcher(AcquisitionSearcher):
    """Gaussian-process searcher: expected improvement with a kriging believer for pending points.

    Defaults follow Syne Tune 0.13's ``GPFIFOSearcher`` (``num_init_random=3``,
    ``num_init_candidates=250``; its ``opt_nstarts=2`` hyperparameter-fit starts are the warm
    start plus ``fit_restarts=1`` random one); the refit schedule and the local search are
    hposim's (see the module docstring).

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from methods.base import Trial
        >>> s = GPSearcher(num_init_random=2)
        >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
        ...        rng=np.random.default_rng(0))
        >>> for i in range(4):
        ...     c = s.next_config(); t = Trial(i, c); s.on_start(t)
        ...     s.observe(t, 1, {"loss": (c["x"] - 0.3) ** 2})
        >>> 0 <= s.next_config()["x"] <= 1
        True
    """

    paper = _PAPER

    def __init__(self, *, num_init_random: int = 3, num_init_candidates: int = 250,
                 local_search_starts: int = 5, local_search_steps: int = 10, local_search_width: float = 0.1,
                 fit_restarts: int = 1, refit_every_below: int = 30, refit_growth: float = 0.1,
                 allow_duplicates: bool = False):
        super().__init__(allow_duplicates=allow_duplicates)
        self.set_search(num_init_random=num_init_random, num_init_candidates=num_init_candidates,
                        local_search_starts=local_search_starts, local_search_steps=local_search_steps,
                        local_search_width=local_search_width, fit_restarts=fit_restarts,
                        refit_every_below=refit_every_below, refit_growth=refit_growth)

    def setup(self) -> None:
        if self.encoder.dim == 0:
            raise MethodError(
                f"a Gaussian-process searcher needs at least one hyperparameter that is not a constant; "
                f"the space {dict(self.config_space)} has none (use GridSearch or RandomSearch)")
        self._gp: GaussianProcess | None = None
        self._y: np.ndarray | None = None              # the scores the model was fit on
        self._best = math.inf
        self._gp_fidelity: Any = None
        self._gp_ids: list[int] = []
        self._gp_version = -1
        self._n_at_refit = 0
        super().setup()                            # the local search's masks

    # ------------------------------------------------------------------ the model
    def _model(self) -> tuple[GaussianProcess, float] | None:
        """The GP on the current data at the model fidelity (updated incrementally), and the
        best score there; None below the initial design."""
        fidelity = self.history.model_fidelity(self.num_init_random)
        if fidelity is None:
            return None
        at = self.history.scores[fidelity]
        if self._gp is not None and fidelity == self._gp_fidelity and self._gp_version == self.history.version:
            return self._gp, self._best
        ids = list(at)
        n = len(ids)
        X, y, _ = self.history.data(fidelity)
        k = len(self._gp_ids)
        # new observations appended to the same data: extend the factor, unless a refit is due
        grow = self._gp is not None and fidelity == self._gp_fidelity and ids[:k] == self._gp_ids \
            and self._y is not None and np.array_equal(y[:k], self._y)
        refit = not grow or n < self.refit_every_below or n >= (1 + self.refit_growth) * self._n_at_refit
        gp = self._gp
        if refit:
            if gp is None:
                gp = self._gp = GaussianProcess(restarts=self.fit_restarts, rng=self.rng)
            gp.fit(X, y, refit_hyperparameters=True)
            self._n_at_refit = n
        else:
            assert gp is not None                      # grow: the model exists
            if n > k:
                gp.add(X[k:], y[k:])
        self._gp_fidelity, self._gp_ids, self._gp_version = fidelity, ids, self.history.version
        self._y = y
        self._best = float(y.min())
        return gp, self._best

    # ------------------------------------------------------------------ suggestions
    def suggest(self, pending: Sequence[dict]) -> dict | None:
        model = self._model()
        if model is None:
            return self.random_config()
        gp, best = model
        Xp = self.pending_rows(pending, self._gp_fidelity)
        if Xp is not None:
            # the kriging believer treats pending points as observed at the posterior mean: the
            # incumbent includes them, so EI near a pending point comes from variance alone
            best = min(best, float(gp.posterior(Xp)[0].min()))
        return self.maximize_acquisition(lambda X: gp.expected_improvement(X, best, pending=Xp))


@register("BayesianOptimization")
class BayesianOptimization(FIFO):
    """Gaussian-process Bayesian optimization (expected improvement), every trial to the largest fidelity.

    The arguments are ``GPSearcher``'s (see ``methods.bayesopt``); defaults follow Syne Tune 0.13's
    ``BayesianOptimization`` baseline.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> bo = BayesianOptimization(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", seed=0)
        >>> 0 <= bo.suggest(0.0).config["x"] <= 1
        True
    """

    paper = _PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, num_init_random: int = 3,
                 num_init_candidates: int = 250, local_search_starts: int = 5, local_search_steps: int = 10,
                 local_search_width: float = 0.1, fit_restarts: int = 1, refit_every_below: int = 30,
                 refit_growth: float = 0.1, allow_duplicates: bool = False):
        searcher = GPSearcher(num_init_random=num_init_random, num_init_candidates=num_init_candidates,
                              local_search_starts=local_search_starts, local_search_steps=local_search_steps,
                              local_search_width=local_search_width, fit_restarts=fit_restarts,
                              refit_every_below=refit_every_below, refit_growth=refit_growth,
                              allow_duplicates=allow_duplicates)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, searcher=searcher)
