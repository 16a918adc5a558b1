"""The column names the simulator adds to its tables: reserved, defined once here.

A simulated run's results table has one column per hyperparameter and per objective, plus
``RESULT_COLUMNS``; its trials table has the hyperparameters plus ``TRIAL_COLUMNS``. A
hyperparameter or objective whose name is reserved is renamed in the tables
(``config_<name>``, ``objective_<name>``), except the *metric*: ``best()``, the study
analysis and ``Stop.target`` read the metric's column by name, so a metric named like a
reserved column (``time``, ``fidelity``, ...) is rejected (``reserved_metric_error``).

It lives in ``blackbox_repo`` although the simulator owns these names, because the table import
checks them too and ``blackbox_repo`` may not import the simulator (tests/test_layering.py);
it imports nothing but the error model, so any layer may import it without pulling pandas in.

Example:
    >>> reserved_in(["loss", "time", "fidelity"])
    ['time', 'fidelity']
    >>> print(reserved_metric_error("time"))
    metric 'time' is the name of a column the simulator adds to its results (time of each report); reserved result columns: ['trial_id', 'fidelity', 'time', 'worker', 'decision', 'blackbox_seed', 'decision_time']. Rename the objective (e.g. 'time_objective') or choose another metric
"""
from __future__ import annotations

from typing import Iterable

from blackbox_repo.errors import InputError

__all__ = ["RESULT_COLUMNS", "TRIAL_COLUMNS", "reserved_in", "reserved_metric_error"]

#: columns of ``SimulationResult.results`` besides hyperparameters and objectives
RESULT_COLUMNS: tuple[str, ...] = ("trial_id", "fidelity", "time", "worker", "decision", "blackbox_seed",
                                   "decision_time")
#: columns of ``SimulationResult.trials`` besides hyperparameters
TRIAL_COLUMNS: tuple[str, ...] = ("trial_id", "status", "start_time", "end_time", "last_fidelity", "worker",
                                  "n_segments", "blackbox_seed", "config_id")

_MEANING = {"trial_id": "id of the trial", "fidelity": "fidelity of each report",
            "time": "time of each report", "worker": "worker of each report",
            "decision": "the scheduler's decision", "blackbox_seed": "seed of each trial",
            "decision_time": "seconds of each decision"}


def reserved_in(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are reserved result columns (in their order)."""
    return [n for n in names if n in RESULT_COLUMNS]


def reserved_metric_error(metric: str, error: type[Exception] = InputError) -> Exception:
    """The error for a metric named like a reserved result column (``error``'s message names
    the column, what the simulator keeps in it and the whole reserved set)."""
    return error(f"metric {metric!r} is the name of a column the simulator adds to its results "
                 f"({_MEANING.get(metric, 'reserved')}); reserved result columns: {list(RESULT_COLUMNS)}. "
                 f"Rename the objective (e.g. {metric + '_objective'!r}) or choose another metric")
