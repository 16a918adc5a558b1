"""Tabulated blackboxes: the data model, Parquet storage, the cache and the repository."""
from __future__ import annotations

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox
from blackbox_repo.configspace import (ConfigurationError, ConfigurationSpace, choice, constant,
                                       loguniform, lograndint, ordinal, randint, uniform)

__all__ = ["Blackbox", "BlackboxError", "TabularBlackbox", "ConfigurationError", "ConfigurationSpace",
           "choice", "constant", "loguniform", "lograndint", "ordinal", "randint", "uniform"]

from blackbox_repo.importing import ImportReport, ImportResult, from_dataframe, import_table  # noqa: E402
__all__ += ["from_dataframe", "import_table", "ImportResult", "ImportReport"]

from blackbox_repo.generate import GenerationError, GenerationReport, generate  # noqa: E402
__all__ += ["generate", "GenerationError", "GenerationReport"]

from blackbox_repo.storage import CorruptBlackboxError  # noqa: E402
from blackbox_repo.repository import (DEFAULT_BLACKBOX, BlackboxRecord, list_blackboxes,  # noqa: E402
                                      load_blackbox, save_blackbox)
__all__ += ["load_blackbox", "list_blackboxes", "DEFAULT_BLACKBOX", "save_blackbox", "BlackboxRecord",
            "CorruptBlackboxError"]

from blackbox_repo.recipes import RECIPES, Recipe, get_recipe  # noqa: E402  (plugs the recipe provider in)
__all__ += ["RECIPES", "Recipe", "get_recipe"]

from blackbox_repo.surrogate import (SurrogateBlackbox, SurrogateError, add_surrogate,  # noqa: E402
                                     load_surrogate)
__all__ += ["SurrogateBlackbox", "SurrogateError", "add_surrogate", "load_surrogate"]
