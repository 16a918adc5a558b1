"""Tabulated blackboxes: the data model, Parquet storage, the cache and the repository."""
from __future__ import annotations

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox
from blackbox_repo.configspace import (ConfigurationError, ConfigurationSpace, choice, constant,
                                       loguniform, lograndint, ordinal, randint, uniform)

__all__ = ["Blackbox", "BlackboxError", "TabularBlackbox", "ConfigurationError", "ConfigurationSpace",
           "choice", "constant", "loguniform", "lograndint", "ordinal", "randint", "uniform"]
