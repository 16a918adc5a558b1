"""``hposim simulate --method``: presets, exact names with hints, bad arguments before the run (exit 2)."""
from __future__ import annotations

import pytest

from studies.cli import main

BLACKBOX = ["simulate", "--blackbox", "mlp-sklearn/digits"]     # embedded: 27 epochs, rung levels 1, 3, 9, 27


def test_a_preset_runs_and_is_recorded_by_its_name(capsys, tmp_path):
    import pandas as pd

    out = tmp_path / "run.parquet"
    code = main([*BLACKBOX, "--method", "ASHA-PROM", "--method-arg", "grace_period=3", "--max-trials", "12",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and text.startswith("ASHA-PROM on mlp-sklearn/digits: 12 trials")
    results = pd.read_parquet(out)
    pauses = set(results.loc[results["decision"] == "pause", "fidelity"])
    assert pauses and pauses <= {3, 9}                # promotion from the grace period 3


@pytest.mark.parametrize("argv, words", [
    (["--method", "asha"], ["--method asha: unknown method 'asha'", "Did you mean 'ASHA'?"]),
    (["--method", "asha6-stop"], ["Did you mean 'ASHA6-STOP'?"]),
    (["--method", "ASHA6-STOP"], ["--method ASHA6-STOP:", "at most 4 brackets",
                                  "ASHA with type='stopping', brackets <= 4"]),
    (["--method", "ASHA-PROM", "--method-arg", "type=stopping"],
     ["--method ASHA-PROM --method-arg type=stopping:", "fixes type='promotion'", "cannot be overridden"]),
    (["--method", "SyncBOHB", "--method-arg", "brackets=6"], ["brackets=6", "1..4"]),
    (["--method", "AsyncBOHB", "--method-arg", "type=median"], ["'median'", "'promotion'"]),
    (["--method", "ASHA", "--method-arg", "reduction_factor=1"], ["reduction_factor must be a number > 1"]),
])
def test_bad_method_input_is_a_usage_error_before_the_run(capsys, argv, words):
    code = main([*BLACKBOX, *argv, "--max-trials", "5"])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""                                   # no run summary: nothing ran
    assert all(w in captured.err for w in words), captured.err
    assert "Traceback" not in captured.err
