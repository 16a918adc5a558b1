"""``hposim simulate --method optuna|synetune``: bad input refused before the run (exit 2), naming what is
allowed; the issue's forms run (issue 13)."""
from __future__ import annotations

import pytest

pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from studies.cli import main  # noqa: E402

BASE = ["simulate", "--blackbox", "toy/t1", "--max-time", "50"]


@pytest.mark.parametrize("argv,needle", [
    (["--method", "optuna", "--method-arg", "sampler=TPESamplr"],
     "Optuna sampler 'TPESamplr' is not valid; allowed: ['BruteForceSampler'"),
    (["--method", "optuna", "--method-arg", "pruner=Hyperband"],
     "Optuna pruner 'Hyperband' is not valid; allowed: ['HyperbandPruner'"),
    (["--method", "optuna", "--method-arg", 'sampler_args={"n_startup": 2}'],
     "TPESampler does not take argument(s) ['n_startup']"),
    (["--method", "synetune", "--method-arg", "scheduler=ASHAA"],
     "Syne Tune scheduler 'ASHAA' is not valid; allowed: ['ASHA'"),
    (["--method", "synetune", "--method-arg", "scheduler=ASHA", "--method-arg", 'scheduler_args={"foo": 1}'],
     "Syne Tune scheduler ASHA does not take argument(s) ['foo']"),
    (["--method", "synetune", "--method-arg", "scheduler=ASHA", "--method-arg", 'scheduler_args={"metric": "acc"}'],
     "scheduler_args ['metric'] are set by hposim"),
    (["--method", "synetune", "--method-arg", "scheduler=ASHA", "--metric", "val_acc"],
     "metric 'val_acc' is not an objective of this blackbox; objectives: ['valid_error', 'elapsed_time']"),
    (["--method", "synetune", "--method-arg", "scheduler=MOASHA", "--metric", "valid_error"],
     "Syne Tune scheduler MOASHA is multi-objective: it needs at least two metrics"),
    (["--method", "synetune", "--method-arg", "scheduler=ASHA", "--metric", "valid_error,elapsed_time",
      "--mode", "min,min"], "Syne Tune scheduler ASHA optimizes one metric, got 2"),
    (["--method", "optuna", "--method-arg", "pruner=MedianPruner", "--metric", "valid_error,elapsed_time",
      "--mode", "min,min"], "Optuna's pruners work on single-objective studies only"),
    (["--method", "optuna", "--metric", "valid_error,elapsed_time", "--mode", "min,min,max"],
     "2 metrics ['valid_error', 'elapsed_time'] but 3 modes ['min', 'min', 'max']"),
    (["--method", "synetune", "--method-arg", "scheduler=MOASHA", "--metric", "valid_error,elapsed_time",
      "--mode", "min,min,max"], "2 metrics ['valid_error', 'elapsed_time'] but 3 modes"),
])
def test_bad_adapter_input_exits_2_before_the_run(toy_blackboxes, capsys, argv, needle):
    assert main(BASE + argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_the_adapters_run_from_the_command_line(toy_blackboxes, capsys):
    assert main(BASE + ["--method", "optuna", "--method-arg", "sampler=TPESampler",
                        "--method-arg", "pruner=HyperbandPruner"]) == 0
    assert main(BASE + ["--method", "synetune", "--method-arg", "scheduler=ASHA", "--method-arg", "grace_period=1"]) == 0
    assert main(BASE + ["--method", "synetune", "--method-arg", "scheduler=MOASHA",
                        "--metric", "valid_error,elapsed_time", "--mode", "min,min"]) == 0
    assert main(BASE + ["--method", "optuna", "--method-arg", "sampler=NSGAIISampler",
                        "--metric", "valid_error,elapsed_time", "--mode", "min,min"]) == 0
    out = capsys.readouterr().out
    assert out.count("on toy/t1:") == 4
