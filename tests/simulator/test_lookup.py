"""``simulator.lookup``: a trial's curve by table row or through the blackbox's ``config_curve``,
and the simulator reading blackboxes only through the ``CurveSource`` protocol."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import Blackbox, TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, uniform
from simulator.lookup import NotInTable, trial_curves

SIMULATOR = Path(__file__).resolve().parents[2] / "simulator"


def test_a_table_is_read_by_row_and_a_missing_configuration_is_named():
    obj = np.arange(12, dtype=np.float32).reshape(3, 2, 2, 1)
    bb = TabularBlackbox(pd.DataFrame({"x": [1, 2, 3]}), obj, [1, 2], ["loss"])
    curves = trial_curves(bb, None)
    row, curve = curves({"x": 2}, 1)
    assert row == 1 and np.array_equal(curve, obj[1, 1])
    assert curves({"x": 2.0}, 0)[0] == 1                       # not a plain match: config_id normalizes
    with pytest.raises(NotInTable, match="'x'=7 is not tabulated; nearest valid values"):
        curves({"x": 7}, 0)


def test_a_computing_blackbox_has_no_row():
    class Line(Blackbox):
        configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
        fidelity_values, objectives_names = np.array([1, 2]), ["loss"]

        def evaluate(self, config, fidelity=None, seed=None):
            return {"loss": [config["x"], 2 * config["x"]]}

    row, curve = trial_curves(Line(), None)({"x": 0.25}, 0)
    assert row == -1 and curve.tolist() == [[0.25], [0.5]]


def _probes(tree: ast.AST) -> list[str]:
    """``isinstance(..., <a blackbox class>)`` and ``getattr(<a blackbox>, ...)`` calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 2:
            if node.func.id == "isinstance" and "Blackbox" in ast.unparse(node.args[1]) \
                    and ast.unparse(node.args[1]) != "Blackbox":
                found.append(ast.unparse(node))
            if node.func.id in ("getattr", "hasattr") and any(
                    word in ast.unparse(node.args[0]) for word in ("blackbox", "bb", "table", "sur")):
                found.append(ast.unparse(node))
    return found


def test_the_simulator_reads_blackboxes_only_through_the_protocol():
    probes = {p.name: _probes(ast.parse(p.read_text())) for p in sorted(SIMULATOR.glob("*.py"))}
    assert {name: found for name, found in probes.items() if found} == {}
    # the check itself finds what it is for
    assert _probes(ast.parse("isinstance(bb, TabularBlackbox)\ngetattr(blackbox, 'prefetch', None)")) == [
        "isinstance(bb, TabularBlackbox)", "getattr(blackbox, 'prefetch', None)"]
