"""HPO methods behind one protocol (see ``methods.base``) and a registry of names.

Importing the package registers every method module below in ``METHODS``.
"""
from __future__ import annotations

from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import METHODS, create, method_arguments, register

from methods.searcher import SEARCHERS, Searcher, make_searcher  # noqa: E402
from methods import (fifo, random_search, grid_search, asha, sync_hyperband, median_stopping,  # noqa: E402,F401
                     bayesopt, tpe, rea, pasha, dehb)  # (register)
from methods import mf_gp, mobster, hypertune  # noqa: E402,F401  (register)
# the Optuna and Syne Tune adapters register "optuna" and "synetune"; they import the libraries
# only when built
from methods.adapters import optuna_adapter, synetune_adapter  # noqa: E402,F401
from methods import mo_random_search, moasha, morea  # noqa: E402,F401  (register: multi-objective)

__all__ = ["Decision", "MethodError", "Scheduler", "Suggestion", "Trial", "TrialStatus",
           "METHODS", "create", "method_arguments", "register", "SEARCHERS", "Searcher", "make_searcher"]

from methods import bohb  # noqa: E402,F401  (register SyncBOHB, AsyncBOHB)
