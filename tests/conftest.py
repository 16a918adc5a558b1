"""Suite-wide fixtures: every test runs with its own empty hposim cache."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def hposim_home(tmp_path, monkeypatch):
    """Point ``$HPOSIM_HOME`` at a fresh folder so tests never touch ``~/.cache/hposim``."""
    home = tmp_path / "hposim-home"
    home.mkdir()
    monkeypatch.setenv("HPOSIM_HOME", str(home))
    monkeypatch.delenv("HPOSIM_MIRROR", raising=False)
    monkeypatch.delenv("HPOSIM_OFFLINE", raising=False)
    return home
