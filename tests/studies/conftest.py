"""Fixtures of the studies tests: the fake run function is pickled by value for worker processes."""
from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).parent))
import fakes  # noqa: E402

cloudpickle.register_pickle_by_value(fakes)
