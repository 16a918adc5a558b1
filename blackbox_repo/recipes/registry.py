"""The recipe registry: ``RECIPES`` (name -> ``Recipe``), ``register`` and ``get_recipe``.

Recipe modules register themselves here at import; ``blackbox_repo.recipes`` imports them all
and re-exports these names.

Example:
    >>> from blackbox_repo.recipes.base import RecipeError
    >>> try:
    ...     register("lcdb")
    ... except RecipeError as e:
    ...     print(e)
    expected a Recipe, got str
"""
from __future__ import annotations

import difflib

from blackbox_repo.recipes.base import Recipe, RecipeError

__all__ = ["RECIPES", "register", "get_recipe"]

RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add ``recipe`` to ``RECIPES`` under its name (replacing one of the same name)."""
    if not isinstance(recipe, Recipe):
        raise RecipeError(f"expected a Recipe, got {type(recipe).__name__}")
    RECIPES[recipe.name] = recipe
    return recipe


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name lists the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(RECIPES), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RecipeError(f"unknown recipe {name!r}{hint}; known recipes: {sorted(RECIPES)}") from None
