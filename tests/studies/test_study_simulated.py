"""Studies with the real simulator on a small blackbox saved in the test's cache."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from methods import METHODS
from methods.random_search import RandomSearch
from simulator import SimulationResult
from studies import Study, StudySpecError, run_study
from studies.analysis import load_study
from studies.run_view import load_run


def toy_study(name="sim", seeds=3, methods=None, **bench):
    b = {"metric": "valid_error", "mode": "min", "n_workers": 4, "max_time": 150}
    b.update(bench)
    return Study.from_dict({
        "name": name, "seeds": seeds,
        "methods": methods or {"RS": {"method": "RandomSearch"},
                               "ASHA": {"method": "ASHA", "type": "stopping", "reduction_factor": 3},
                               "SyncHB": {"method": "SyncHyperband"}},
        "benchmarks": {"t1": {"blackbox": "toy/t1", **b}, "t2": {"blackbox": "toy/t2", **b}}})


def test_serial_study_with_simulator(tmp_path, toy_blackboxes):
    s = run_study(toy_study(), str(tmp_path), progress=False)
    assert s.ok, s.format()
    assert s.done == 18
    run_dir = tmp_path / "sim" / "t1" / "ASHA" / "1"
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["status"] == "done" and meta["simulation"]["n_trials"] == meta["summary"]["n_trials"]
    assert meta["benchmark_info"]["optimum"] <= meta["summary"]["best"]
    # the run file is also a simulator file
    sim = SimulationResult.read_parquet(run_dir / "results.parquet")
    assert len(sim.trials) == meta["summary"]["n_trials"] and sim.metadata["seed"] == 1
    assert sim.results["time"].max() <= 150
    st = load_study(str(tmp_path / "sim"))
    table = st.final_table()
    assert set(table["method"]) == {"RS", "ASHA", "SyncHB"} and (table["n"] == 3).all()
    run = load_run(str(run_dir))
    assert run.get_best_result().metrics["valid_error"] >= meta["benchmark_info"]["optimum"]
    # same spec, same seeds: identical results (runs are pure functions of the spec)
    s2 = run_study(toy_study(name="sim2"), str(tmp_path), progress=False)
    assert s2.ok
    a = load_run(str(tmp_path / "sim2" / "t1" / "ASHA" / "1")).results
    assert a.drop(columns="decision_time").equals(run.results.drop(columns="decision_time"))


def test_bad_input_rejected_before_any_run(tmp_path, toy_blackboxes):
    bad = toy_study(methods={"RS": {"method": "RandomSerch"},
                             "ASHA": {"method": "ASHA", "reduction_factr": 3}}, metric="valid_eror")
    with pytest.raises(StudySpecError) as e:
        run_study(bad, str(tmp_path), progress=False)
    msg = str(e.value)
    assert "'RandomSerch'" in msg and "Did you mean 'RandomSearch'" in msg
    assert "'reduction_factr'" in msg and "Did you mean 'reduction_factor'" in msg
    assert "'valid_eror'" in msg and "Did you mean 'valid_error'" in msg
    d = toy_study().to_dict()
    d["benchmarks"]["t1"]["blackbox"] = "toyy/t1"
    with pytest.raises(StudySpecError, match="toyy"):
        run_study(Study.from_dict(d), str(tmp_path), progress=False)
    assert not (tmp_path / "sim").exists()


class _FailsInTheRun(RandomSearch):
    """A method that passes the spec check (it can be built) and fails once the run asks it."""

    def suggest(self, time):
        raise RuntimeError("this method fails in every run")


def test_failing_method_recorded_others_continue(tmp_path, toy_blackboxes, monkeypatch):
    # argument values a method rejects at construction now fail the spec check (issue 10); a
    # method that can be built and fails while running: the spec is valid, the runs fail
    monkeypatch.setitem(METHODS, "FailsInTheRun", _FailsInTheRun)
    study = toy_study(seeds=2, methods={"RS": {"method": "RandomSearch"},
                                        "ASHA-bad": {"method": "FailsInTheRun"}})
    s = run_study(study, str(tmp_path), engine="serial", progress=False)
    assert s.done == 4 and len(s.failures) == 4
    meta = json.loads((tmp_path / "sim" / "t2" / "ASHA-bad" / "0" / "metadata.json").read_text())
    assert meta["status"] == "failed" and "fails in every run" in meta["error"]["traceback"]
    st = load_study(str(tmp_path / "sim"))
    assert len(st.failures()) == 4 and st.final_table()["method"].tolist() == ["RS", "RS"]


def test_argument_values_a_method_rejects_fail_before_any_run(tmp_path, toy_blackboxes):
    study = toy_study(seeds=2, methods={"RS": {"method": "RandomSearch"},
                                        "ASHA-bad": {"method": "ASHA", "reduction_factor": -1}})
    with pytest.raises(StudySpecError, match="method 'ASHA-bad' on every benchmark .*reduction_factor"):
        run_study(study, str(tmp_path), progress=False)
    assert not (tmp_path / "sim" / "t1" / "RS").exists()


def test_local_engine_loads_each_blackbox_once_per_worker(tmp_path, toy_blackboxes):
    s = run_study(toy_study(seeds=6), str(tmp_path), engine="local", jobs=2, progress=False)
    assert s.ok, s.format()
    loads = defaultdict(int)
    for p in (tmp_path / "sim").rglob("metadata.json"):
        m = json.loads(p.read_text())
        if not m["blackbox_cache_hit"]:
            loads[(m["pid"], m["run"]["benchmark"])] += 1
    assert loads and max(loads.values()) == 1          # a worker loads a blackbox at most once
    assert len({pid for pid, _ in loads}) <= 2          # on 2 worker processes
