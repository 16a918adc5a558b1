"""``hposim simulate --metric a,b --mode max,min``: multi-objective methods from the command line."""
from __future__ import annotations

from simulator import SimulationResult
from studies.cli import main


def test_multi_objective_run_from_the_command_line(tmp_path, toy_blackboxes, capsys):
    out = tmp_path / "run.parquet"
    code = main(["simulate", "--blackbox", "toy/t1", "--method", "MOASHA", "--metric", "valid_error,elapsed_time",
                 "--mode", "min,min", "--max-time", "50", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    res = SimulationResult.read_parquet(out)
    assert res.metadata["metrics"] == ["valid_error", "elapsed_time"] and res.metadata["modes"] == ["min", "min"]
    assert {"valid_error", "elapsed_time"} <= set(res.results.columns)


def test_bad_objectives_on_the_command_line(toy_blackboxes, capsys):
    base = ["simulate", "--blackbox", "toy/t1", "--max-time", "50"]
    assert main(base + ["--method", "MOASHA", "--metric", "valid_error,elapsed_time", "--mode", "min,up"]) == 2
    assert "'up' is not a mode; allowed: min or max" in capsys.readouterr().err
    assert main(base + ["--method", "MOASHA", "--metric", "valid_error"]) == 2
    assert "'MOASHA' is multi-objective: it needs at least two metrics" in capsys.readouterr().err
    assert main(base + ["--method", "ASHA", "--metric", "valid_error,elapsed_time", "--mode", "min,min"]) == 2
    assert "'ASHA' optimizes one metric, got 2" in capsys.readouterr().err
    assert main(base + ["--method", "MOREA", "--metric", "valid_error,elapsed_time", "--mode", "min"]) == 0
    capsys.readouterr()
    assert main(base + ["--method", "MOREA", "--metric", "valid_error,elapsed_time"]) == 2
    assert "--mode max,min" in capsys.readouterr().err
    assert main(base + ["--method", "MOREA", "--metric", "valid_error,elapsed_time", "--mode", "min,min,max"]) == 2
    assert "2 metrics ['valid_error', 'elapsed_time'] but 3 modes" in capsys.readouterr().err
