"""Fixtures of the studies tests: the fake run function is pickled by value for worker processes."""
from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).parent))
import fakes  # noqa: E402
from fakes import make_toy_blackbox  # noqa: E402

cloudpickle.register_pickle_by_value(fakes)


import pytest  # noqa: E402


@pytest.fixture
def toy_blackboxes(hposim_home):
    """Blackbox ``toy`` with tasks ``t1`` and ``t2`` in this test's hposim cache."""
    from blackbox_repo import save_blackbox

    for task in ("t1", "t2"):
        save_blackbox(make_toy_blackbox(task), "toy", task)
    return hposim_home
