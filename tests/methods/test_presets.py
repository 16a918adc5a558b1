"""Presets (``methods.presets``) and name resolution (``methods.registry``): meanings, lookup, checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, uniform
from blackbox_repo.errors import InputError
from methods import METHODS, MethodError, create, method_arguments
from methods.catalog import PresetInfo, all_presets, describe_any, markdown_table
from methods.presets import PRESETS
from methods.registry import resolve_method

SPACE = ConfigurationSpace({"x": uniform(0, 1), "c": choice(["a", "b", "c"])})
F27 = list(range(1, 28))
F200 = list(range(1, 201))        # NAS-Bench-201's epochs: rung levels 1, 3, 9, 27, 81, 200

#: the tutorial's launcher (syne-tune 0.13.0 docs/source/tutorials/multifidelity/code/hpo_main.py)
TUTORIAL = {
    "ASHA-STOP": ("ASHA", {"type": "stopping", "brackets": 1}),
    "ASHA-PROM": ("ASHA", {"type": "promotion", "brackets": 1}),
    "ASHA6-STOP": ("ASHA", {"type": "stopping", "brackets": 6}),
    "MOBSTER-JOINT": ("MOBSTER", {"type": "promotion", "model": "joint"}),
    "MOBSTER-INDEP": ("MOBSTER", {"type": "promotion", "model": "independent"}),
    "HYPERTUNE-INDEP": ("HyperTune", {"type": "promotion", "brackets": 1, "model": "independent"}),
    "HYPERTUNE4-INDEP": ("HyperTune", {"type": "promotion", "brackets": 4, "model": "independent"}),
    "HYPERTUNE-JOINT": ("HyperTune", {"type": "promotion", "brackets": 1, "model": "joint"}),
    "SYNCHB": ("SyncHyperband", {"brackets": None}),
    "SYNCSH": ("SyncHyperband", {"brackets": 1}),
    "SYNCMOBSTER": ("SyncMOBSTER", {}),
    "BOHB": ("SyncBOHB", {}),
    "DEHB": ("DEHB", {}),
}


def test_the_thirteen_presets_of_the_tutorial():
    assert {name: (p.method, dict(p.args)) for name, p in PRESETS.items()} == TUTORIAL
    assert list(PRESETS) == list(TUTORIAL)


@pytest.mark.parametrize("name", list(TUTORIAL))
def test_each_preset_builds_its_method_with_its_arguments(name):
    method, fixed = TUTORIAL[name]
    scheduler = create(name, SPACE, metric="loss", fidelity_values=F200, seed=0)
    assert type(scheduler) is METHODS[method]
    for k, v in fixed.items():
        if k == "brackets" and v is None:
            assert scheduler.brackets == len(scheduler.levels) == 6
        else:
            assert getattr(scheduler, k) == v, (k, getattr(scheduler, k), v)
    assert scheduler.suggest(0.0) is not None
    assert all(k not in method_arguments(name) for k in fixed)


def test_other_arguments_pass_and_fixed_ones_cannot_be_overridden():
    asha = create("ASHA-PROM", SPACE, metric="loss", fidelity_values=F27, grace_period=3, reduction_factor=2)
    assert (asha.type, asha.brackets, asha.grace_period, asha.reduction_factor) == ("promotion", 1, 3, 2)
    assert create("ASHA-PROM", SPACE, metric="loss", fidelity_values=F27, type="promotion").type == "promotion"
    with pytest.raises(InputError) as e:
        create("ASHA-PROM", SPACE, metric="loss", fidelity_values=F27, type="stopping")
    message = str(e.value)
    assert "preset 'ASHA-PROM'" in message and "fixes type='promotion'" in message and "type='stopping'" in message
    assert "cannot be overridden" in message and "use method 'ASHA'" in message
    with pytest.raises(MethodError, match="brackets=1; it cannot be overridden"):
        create("SYNCSH", SPACE, metric="loss", fidelity_values=F27, brackets=True)     # True is not 1
    with pytest.raises(MethodError, match=r"does not take argument\(s\) \['searcher_arg'\]"):
        create("BOHB", SPACE, metric="loss", fidelity_values=F27, searcher_arg={})


def test_exact_names_first_then_case_insensitive_hints():
    assert resolve_method("DEHB") == ("DEHB", {}, None)                     # the method, not the preset
    assert resolve_method("SyncSH")[:2] == ("SyncSH", {})
    assert resolve_method("SYNCSH")[:2] == ("SyncHyperband", {"brackets": 1})
    for wrong, hint in [("asha", "Did you mean 'ASHA'?"), ("bohb", "Did you mean 'BOHB'?"),
                        ("asha6-stop", "Did you mean 'ASHA6-STOP'?"),
                        ("syncsh", "Did you mean 'SyncSH' or 'SYNCSH'?"), ("ASHAA", "Did you mean 'ASHA'?")]:
        with pytest.raises(InputError) as e:
            create(wrong, SPACE, metric="loss")
        assert f"unknown method {wrong!r}" in str(e.value) and hint in str(e.value), str(e.value)
        assert "ASHA6-STOP" in str(e.value)                                   # the presets are listed


def test_a_preset_whose_brackets_do_not_fit_says_what_would():
    with pytest.raises(InputError) as e:
        create("ASHA6-STOP", SPACE, metric="loss", fidelity_values=F27)
    message = str(e.value)
    assert "preset 'ASHA6-STOP'" in message and "needs 6 brackets" in message
    assert "[1, 3, 9, 27]: at most 4 brackets" in message
    assert "ASHA with type='stopping', brackets <= 4" in message
    with pytest.raises(InputError, match=r"grace_period=9 has the rung levels \[9, 27\]: at most 2 brackets"):
        create("ASHA6-STOP", SPACE, metric="loss", fidelity_values=F27, grace_period=9)
    with pytest.raises(InputError, match=r"at most 5 brackets.*brackets <= 5"):
        create("ASHA6-STOP", SPACE, metric="loss", fidelity_values=list(range(1, 82)))
    assert create("ASHA6-STOP", SPACE, metric="loss", fidelity_values=F200).brackets == 6
    with pytest.raises(InputError, match=r"preset 'ASHA-STOP' \(ASHA\(type='stopping', brackets=1\)\): "
                                         r"reduction_factor must be a number > 1"):
        create("ASHA-STOP", SPACE, metric="loss", fidelity_values=F27, reduction_factor=1)


def test_multi_fidelity_methods_refuse_a_single_fidelity():
    for name in ("ASHA", "SyncBOHB", "AsyncBOHB", "DEHB", "BOHB", "SYNCHB", "ASHA-STOP"):
        with pytest.raises(InputError) as e:
            create(name, SPACE, metric="loss", fidelity_values=[50])
        message = str(e.value)
        assert "is multi-fidelity" in message and "single fidelity ([50]" in message, message
        assert "RandomSearch" in message and "TPE" in message and "'ASHA'" not in message.split("method:")[-1]
    for name in ("RandomSearch", "TPE", "BayesianOptimization", "FIFO"):
        assert create(name, SPACE, metric="loss", fidelity_values=[50]).max_fidelity == 50
    assert create("ASHA", SPACE, metric="loss").levels == [1]            # no fidelities given: not checked


def test_make_scheduler_on_the_wrong_fidelity_kind():
    from simulator import make_scheduler

    obj = np.ones((3, 1, 1, 2), np.float32)
    flat = TabularBlackbox(pd.DataFrame({"x": [0.1, 0.5, 0.9]}), obj, [1], ["loss", "time"],
                           configuration_space=ConfigurationSpace({"x": uniform(0, 1)}), metric_elapsed_time="time")
    with pytest.raises(InputError, match="method 'ASHA' is multi-fidelity"):
        make_scheduler("ASHA", flat)
    with pytest.raises(InputError, match=r"preset 'BOHB' \(SyncBOHB\(\)\) is multi-fidelity"):
        make_scheduler("BOHB", flat)
    assert make_scheduler("RandomSearch", flat).max_fidelity == 1


@pytest.mark.parametrize("name, kwargs, words", [
    ("ASHA", {"type": "median"}, ["type", "'median'", "'stopping'", "'promotion'"]),
    ("MOBSTER", {"model": "both"}, ["model", "'both'", "joint", "independent"]),
    ("MOBSTER", {"type": "halving"}, ["type", "'halving'", "promotion"]),
    ("HyperTune", {"model": "gp"}, ["model", "'gp'", "joint", "independent"]),
    ("HyperTune", {"brackets": 5}, ["brackets", "5"]),
])
def test_model_and_type_values_not_allowed(name, kwargs, words):
    with pytest.raises(InputError) as e:
        create(name, SPACE, metric="loss", fidelity_values=F27, **kwargs)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_the_catalog_lists_the_presets():
    infos = all_presets()
    assert [p.name for p in infos] == list(TUTORIAL)
    bohb = describe_any("BOHB")
    assert isinstance(bohb, PresetInfo) and bohb.expansion == "SyncBOHB()" and bohb.kind == "multi-fidelity"
    assert describe_any("DEHB").class_path == "methods.dehb.DEHB"          # a method before a preset
    table = markdown_table()
    assert "| `ASHA6-STOP` | `ASHA(type='stopping', brackets=6)` | multi-fidelity |" in table
    for p in infos:
        assert f"| `{p.name}` |" in table
