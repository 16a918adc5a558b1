"""Grid search: every configuration of a finite space once, in a fixed order.

With ``candidates`` (e.g. a tabulated blackbox's rows) the configurations are replayed in
the given order, so users can replay a fixed list; otherwise ``config_space.grid()`` order
(lexicographic over the hyperparameters). ``suggest`` answers ``None`` once all are used.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial
from methods.registry import register

__all__ = ["GridSearch"]


@register("GridSearch")
class GridSearch(Scheduler):
    """Every configuration once, in order, each run to the largest fidelity.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> gs = GridSearch(ConfigurationSpace({"a": choice([1, 2]), "b": choice(["x", "y"])}),
        ...                 metric="err")
        >>> [gs.suggest(0).config for _ in range(4)][1]
        {'a': 1, 'b': 'y'}
        >>> gs.suggest(0) is None
        True
    """

    paper = ("grid search,"
             " the classical baseline (compared with random search by Bergstra & Bengio 2012, JMLR)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        if self.candidates is None and not self.config_space.is_finite:
            infinite = [k for k, d in self.config_space.items() if not d.is_finite]
            raise MethodError(
                f"GridSearch needs a finite configuration space or a list of candidates; these "
                f"hyperparameters have infinitely many values: {infinite} (use choice/ordinal, or a "
                f"randint range of at most 10,001 values)")
        self._configs: Iterator[dict] = iter(self.candidates) if self.candidates is not None \
            else self.config_space.grid()

    def suggest(self, time: float) -> Suggestion | None:
        config = next(self._configs, None)
        return None if config is None else Suggestion.start(config, max_fidelity=self.max_fidelity)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        return Decision.CONTINUE

    def report_levels(self) -> Sequence[Any] | None:
        return []
