"""Parquet round trip, bad input before anything runs, and ``hposim simulate``."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import Blackbox
from blackbox_repo.configspace import ConfigurationSpace, choice
from blackbox_repo.repository import save_blackbox
from methods import MethodError
from methods.base import Suggestion
from blackbox_repo.errors import ProtocolError
from simulator import SimulationError, SimulationResult, Stop, make_scheduler, simulate
from studies.cli import main
from tests.simulator.helpers import Replay, nb201_like, table


@pytest.fixture(scope="module")
def bb():
    return nb201_like(n_seeds=2, n_epochs=9, ops=3, seed=2)


def test_parquet_round_trip(bb, tmp_path):
    res = simulate(bb, make_scheduler("ASHA", bb, seed=1), n_workers=3, stop=Stop(max_time=3000), seed=4)
    path = tmp_path / "sub" / "run.parquet"
    res.to_parquet(path)
    back = SimulationResult.read_parquet(path)
    pd.testing.assert_frame_equal(back.results, res.results, check_exact=True)
    pd.testing.assert_frame_equal(back.trials, res.trials, check_exact=True)
    assert back.metadata["n_reports"] == len(res.results) == res.metadata["n_reports"]
    assert back.metadata["method"] == {"name": "ASHA", "args": {}, "seed": 1}
    assert back.metadata["blackbox"]["label"] == "nb201-like/synthetic"
    assert set(back.metadata["versions"]) >= {"hposim", "numpy", "pandas"}
    assert back.metadata["settings"]["stop"]["max_time"] == 3000
    assert list((tmp_path / "sub").iterdir()) == [path]          # no temporary file left


def test_results_columns(bb):
    res = simulate(bb, make_scheduler("RandomSearch", bb), n_workers=2, stop=Stop(max_trials=3))
    assert list(res.results.columns) == ["trial_id", "op0", "op1", "op2", "fidelity", "error", "elapsed",
                                         "time", "worker", "decision", "blackbox_seed", "decision_time"]
    assert res.results[res.results["trial_id"] == 0]["fidelity"].tolist() == list(range(1, 10))
    assert res.results["decision"].tolist().count("complete") == 3
    assert {"trial_id", "status", "start_time", "end_time", "last_fidelity", "worker"} <= set(res.trials.columns)


def test_clashing_column_names_are_renamed():
    hp = pd.DataFrame({"time": [1, 2]})
    b = table([[0.3], [0.2]], [[5], [6]], fidelities=[1], hp=hp)
    res = simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_time=100))
    assert res.results["config_time"].tolist() == [1, 2]
    assert res.results["time"].tolist() == [5.0, 11.0]
    assert res.metadata["renamed_columns"] == {"time": "config_time"}


def test_bad_input_is_rejected_before_running(bb):
    sched = make_scheduler("RandomSearch", bb)
    with pytest.raises(SimulationError, match="n_workers=0"):
        simulate(bb, sched, n_workers=0, stop=Stop(max_time=10))
    with pytest.raises(ValueError, match="no stopping criterion"):
        simulate(bb, sched, n_workers=1)
    with pytest.raises(SimulationError, match=r"metric 'errror' .*\['error', 'elapsed'\].*'error'"):
        make_scheduler("RandomSearch", bb, metric="errror")
    with pytest.raises(MethodError, match="ASHA"):
        make_scheduler("ASHAA", bb)
    with pytest.raises(MethodError, match="reduction_factor"):
        make_scheduler("ASHA", bb, reduction_fator=3)
    other = make_scheduler("RandomSearch", nb201_like(n_seeds=1, n_epochs=4, ops=3))
    with pytest.raises(SimulationError, match="fidelity values"):
        simulate(bb, other, n_workers=1, stop=Stop(max_time=10))
    levels = Replay(bb.configuration_space, fidelity_values=bb.fidelity_values, levels=[1, 2.5])
    with pytest.raises(SimulationError, match=r"\[2.5\]"):
        simulate(bb, levels, n_workers=1, stop=Stop(max_time=10))
    no_time = nb201_like(n_seeds=1, n_epochs=3, ops=2)
    no_time.metric_elapsed_time = None
    with pytest.raises(SimulationError, match="time_per_fidelity"):
        simulate(no_time, make_scheduler("RandomSearch", no_time), n_workers=1, stop=Stop(max_time=10))
    res = simulate(no_time, make_scheduler("GridSearch", no_time), n_workers=1, stop=Stop(max_trials=2),
                   time_per_fidelity=7)
    assert res.results["time"].tolist() == [7.0, 14.0, 21.0, 28.0, 35.0, 42.0]


def test_resuming_a_trial_that_is_not_paused_names_it(bb):
    c = bb.configs()
    sched = Replay(bb.configuration_space, fidelity_values=bb.fidelity_values,
                   plan=[Suggestion.start(c[0]), Suggestion.resume_trial(0)])
    with pytest.raises(ProtocolError, match="resume trial 0 .* running"):
        simulate(bb, sched, n_workers=2, stop=Stop(max_time=1000))
    sched = Replay(bb.configuration_space, fidelity_values=bb.fidelity_values,
                   plan=[Suggestion.resume_trial(5)])
    with pytest.raises(ProtocolError, match="resume trial 5 .* never started"):
        simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000))


@pytest.fixture
def saved(bb):
    save_blackbox(bb, "toy", "t1")
    return bb


def test_cli_simulate_writes_parquet(saved, tmp_path, capsys):
    out = tmp_path / "run.parquet"
    code = main(["simulate", "--blackbox", "toy", "--method", "ASHA", "--method-arg", "reduction_factor=3",
                 "--method-arg", "type=promotion", "--n-workers", "4", "--max-time", "5000", "--seed", "0",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    res = SimulationResult.read_parquet(out)
    assert f"{len(res.trials)} trials, {len(res.results)} reports" in text
    assert "best error" in text and "wall time" in text
    assert res.metadata["method"]["args"] == {"reduction_factor": 3, "type": "promotion"}
    # the same run through the Python API gives the same table
    api = simulate(saved, make_scheduler("ASHA", saved, reduction_factor=3, type="promotion", seed=0),
                   n_workers=4, stop=Stop(max_time=5000), seed=0)
    cols = [c for c in api.results.columns if c != "decision_time"]
    np.testing.assert_array_equal(res.results["time"].to_numpy(), api.results["time"].to_numpy())
    assert res.results[cols].astype(str).equals(api.results[cols].astype(str))


@pytest.mark.parametrize("argv, message", [
    (["--method", "ASHAA", "--max-time", "10"], "unknown method 'ASHAA'"),
    (["--method", "ASHA", "--method-arg", "reduction_fator=3", "--max-time", "10"], "did you mean 'reduction_factor'"),
    (["--method", "ASHA", "--method-arg", "oops", "--max-time", "10"], "KEY=VALUE"),
    (["--method", "ASHA", "--metric", "acc", "--max-time", "10"], "metric 'acc' is not an objective"),
    (["--method", "ASHA", "--n-workers", "0", "--max-time", "10"], "--n-workers 0"),
    (["--method", "ASHA"], "no stopping criterion"),
    (["--method", "ASHA", "--max-trials", "0"], "--max-trials 0 is not valid"),
])
def test_cli_bad_input(saved, capsys, argv, message):
    code = main(["simulate", "--blackbox", "toy/t1", *argv])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err, err
    assert "Traceback" not in err


def test_cli_task_required_when_several(saved, capsys):
    save_blackbox(saved, "toy", "t2")
    code = main(["simulate", "--blackbox", "toy", "--method", "RandomSearch", "--max-trials", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "toy/TASK" in err and "['t1', 't2']" in err
    assert main(["simulate", "--blackbox", "toy/t2", "--method", "RandomSearch", "--max-trials", "2"]) == 0


class CurveBlackbox(Blackbox):
    """A non-tabular blackbox: curves computed from the configuration."""

    def __init__(self):
        self.configuration_space = ConfigurationSpace({"x": choice([1, 2, 3])})
        self.fidelity_name, self.fidelity_values = "epoch", np.array([1, 2, 3])
        self.objectives_names, self.metric_elapsed_time = ["loss", "t"], "t"
        self.metric, self.mode, self.num_seeds, self.metadata = "loss", "min", 1, {"name": "curve"}

    def evaluate(self, config, fidelity=None, seed=None):
        x = config["x"]
        return {"loss": np.array([1.0, 0.5, 0.25]) * x, "t": np.array([1.0, 2.0, 3.0]) * x * 10}


def test_non_tabular_blackbox_and_suggest_time():
    b = CurveBlackbox()
    res = simulate(b, make_scheduler("GridSearch", b), n_workers=2, stop=Stop(max_time=1000))
    r = res.results
    assert r[["trial_id", "x", "fidelity", "loss", "time"]].values.tolist() == [
        [0, 1, 1, 1.0, 10.0], [0, 1, 2, 0.5, 20.0], [1, 2, 1, 2.0, 20.0], [0, 1, 3, 0.25, 30.0],
        [1, 2, 2, 1.0, 40.0], [2, 3, 1, 3.0, 60.0], [1, 2, 3, 0.5, 60.0], [2, 3, 2, 1.5, 90.0],
        [2, 3, 3, 0.75, 120.0]]
    assert res.trials["start_time"].tolist() == [0.0, 0.0, 30.0]     # equal times: worker 0 first
    assert res.trials["worker"].tolist() == [0, 1, 0]
    assert res.metadata["suggest_seconds"] > 0 and res.metadata["report_seconds"] > 0
