"""Tests of MOBSTER and SyncMOBSTER (methods/mobster.py)."""
from __future__ import annotations

import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import METHODS, create
from methods.base import MethodError
from methods.testing import synthetic_table

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
FIDELITIES = list(range(1, 28))


@pytest.mark.parametrize("name", ["MOBSTER", "SyncMOBSTER", "HyperTune"])
def test_bad_model_type_and_single_fidelity_are_refused_at_construction(name):
    with pytest.raises(MethodError, match=r"model 'gp_multitask' is not valid; allowed: \['joint', 'independent'\]"):
        create(name, SPACE, metric="loss", fidelity_values=FIDELITIES, model="gp_multitask")
    with pytest.raises(MethodError, match=r"is multi-fidelity .*single fidelity \(\[81\]"):
        create(name, SPACE, metric="loss", fidelity_values=[81])        # the registry's check
    with pytest.raises(MethodError, match=r"at least two fidelity values, got \[81\]"):
        METHODS[name](SPACE, metric="loss", fidelity_values=[81])       # the class's own
    if name != "SyncMOBSTER":
        with pytest.raises(MethodError, match=r"type 'hyperband' is not valid; allowed: \['stopping', 'promotion'\]"):
            create(name, SPACE, metric="loss", fidelity_values=FIDELITIES, type="hyperband")
    with pytest.raises(MethodError, match="not in searcher_args"):
        create(name, SPACE, metric="loss", fidelity_values=FIDELITIES, searcher_args={"model": "joint"})


def test_defaults_follow_syne_tune():
    m = create("MOBSTER", SPACE, metric="loss", fidelity_values=FIDELITIES)
    assert (m.type, m.searcher.model, m.brackets, m.reduction_factor) == ("stopping", "joint", 1, 3)
    s = create("SyncMOBSTER", SPACE, metric="loss", fidelity_values=FIDELITIES)
    assert s.searcher.model == "independent" and s.brackets == 4
    assert s.report_levels() == [1, 3, 9, 27]
    assert m.searcher.rung_levels == [1, 3, 9, 27]


def _run(name: str, seed: int, **kwargs):
    from simulator import Stop, make_scheduler, simulate

    bb = synthetic_table(60)
    scheduler = make_scheduler(name, bb, seed=seed, **kwargs)
    return simulate(bb, scheduler, n_workers=4, stop=Stop(max_trials=25), seed=seed).results


@pytest.mark.parametrize("kwargs", [{"model": "joint"}, {"model": "independent", "type": "promotion"}])
def test_mobster_is_deterministic(kwargs):
    a, b = _run("MOBSTER", 3, **kwargs), _run("MOBSTER", 3, **kwargs)
    assert a.drop(columns=[c for c in a.columns if "wall" in c or "decision" in c]).equals(
        b.drop(columns=[c for c in b.columns if "wall" in c or "decision" in c]))
