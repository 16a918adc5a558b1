"""Fixtures for recipe tests: a loopback server and temporary recipe registration."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))        # recipe_helpers.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/blackbox_repo: loopback.py

from loopback import LoopbackServer  # noqa: E402

from blackbox_repo.recipes import RECIPES  # noqa: E402
from blackbox_repo.recipes.base import Recipe  # noqa: E402


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def register_temporarily(monkeypatch):
    """Register a (modified) recipe under its name for the test only."""
    def _register(recipe: Recipe) -> Recipe:
        monkeypatch.setitem(RECIPES, recipe.name, recipe)
        return recipe
    return _register
