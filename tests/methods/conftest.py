"""Shared helpers for method tests: bare trials for hand-driven schedulers.

Methods run through the simulator in the conformance suite (``methods.testing``); the unit
tests of each method call its protocol methods by hand with these trials.
"""
from __future__ import annotations

from typing import Any

import pytest

from methods import Trial


@pytest.fixture
def make_trial():
    """``make_trial(trial_id, meta=None)``: a bare trial for hand-driven tests."""
    def make(tid: int, meta: Any = None) -> Trial:
        return Trial(tid, {"x": 0.5}, meta)
    return make
