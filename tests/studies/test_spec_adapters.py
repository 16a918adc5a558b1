"""Optuna and Syne Tune methods in a study spec: what they refuse is a problem of the spec, found by the
spec check (``Study.validate``, run by ``hposim study run`` before any run), naming what is allowed."""
from __future__ import annotations

import pytest

pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from studies.cli import main  # noqa: E402
from studies.spec import Study, StudySpecError  # noqa: E402

ONE = {"b1": {"blackbox": "toy/t1", "max_trials": 5}}
TWO = {"mo": {"blackbox": "toy/t1", "metric": ["valid_error", "elapsed_time"], "mode": ["min", "min"],
              "max_trials": 5}}


def _problems(methods, benchmarks) -> str:
    with pytest.raises(StudySpecError) as e:
        Study.from_dict({"name": "s", "seeds": 1, "methods": methods, "benchmarks": benchmarks}).validate()
    return str(e.value)


def test_the_issue_forms_pass(toy_blackboxes):
    methods = {"OptunaTPE": {"method": "optuna", "sampler": "TPESampler", "pruner": "HyperbandPruner"},
               "ST-ASHA": {"method": "synetune", "scheduler": "ASHA", "grace_period": 1}}
    Study.from_dict({"name": "s", "seeds": 1, "methods": methods, "benchmarks": ONE}).validate()
    methods = {"NSGA": {"method": "optuna", "sampler": "NSGAIISampler"},
               "ST-MOASHA": {"method": "synetune", "scheduler": "MOASHA"}}
    Study.from_dict({"name": "s", "seeds": 1, "methods": methods, "benchmarks": TWO}).validate()


def test_names_and_arguments_the_libraries_do_not_have(toy_blackboxes):
    msg = _problems({"s": {"method": "optuna", "sampler": "TPESamplr"},
                     "p": {"method": "optuna", "pruner": "Hyperband"},
                     "a": {"method": "optuna", "sampler_args": {"n_startup": 2}},
                     "st": {"method": "synetune", "scheduler": "ASHAA"},
                     "sta": {"method": "synetune", "scheduler": "ASHA", "scheduler_args": {"foo": 1}},
                     "stm": {"method": "synetune", "scheduler": "ASHA", "scheduler_args": {"metric": "val_acc"}},
                     "ok": {"method": "synetune", "scheduler": "ASHA"}}, ONE)
    assert "6 problem(s)" in msg and "'ok'" not in msg, msg
    assert "method 's' on benchmark 'b1': Optuna sampler 'TPESamplr' is not valid; allowed: [" in msg
    assert "Did you mean 'TPESampler'?" in msg
    assert "method 'p' on benchmark 'b1': Optuna pruner 'Hyperband' is not valid; allowed: ['HyperbandPruner'" in msg
    assert "method 'a' on benchmark 'b1': Optuna sampler TPESampler does not take argument(s) ['n_startup']" in msg
    assert "method 'st' on benchmark 'b1': Syne Tune scheduler 'ASHAA' is not valid; allowed: ['ASHA'" in msg
    assert "method 'sta' on benchmark 'b1': Syne Tune scheduler ASHA does not take argument(s) ['foo']" in msg
    assert "method 'stm' on benchmark 'b1': scheduler_args ['metric'] are set by hposim" in msg


def test_a_metric_the_blackbox_does_not_have(toy_blackboxes):
    msg = _problems({"st": {"method": "synetune", "scheduler": "ASHA"}},
                    {"b1": {"blackbox": "toy/t1", "metric": "val_acc", "mode": "max", "max_trials": 5}})
    assert "benchmark 'b1': unknown metric 'val_acc'; objectives of toy/t1: ['valid_error', 'elapsed_time']" in msg


def test_objective_counts(toy_blackboxes):
    msg = _problems({"st": {"method": "synetune", "scheduler": "ASHA"},
                     "pr": {"method": "optuna", "pruner": "MedianPruner"},
                     "asha": {"method": "ASHA"}, "ok": {"method": "optuna", "sampler": "NSGAIISampler"}}, TWO)
    assert "3 problem(s)" in msg and "'ok'" not in msg, msg
    assert "method 'st' on benchmark 'mo': Syne Tune scheduler ASHA optimizes one metric, got 2" in msg
    assert "method 'pr' on benchmark 'mo': Optuna's pruners work on single-objective studies only" in msg
    assert "method 'asha' on benchmark 'mo': method 'ASHA' optimizes one metric, got 2" in msg
    msg = _problems({"st": {"method": "synetune", "scheduler": "MOASHA"}, "mo": {"method": "MOASHA"}}, ONE)
    assert "method 'st' on benchmark 'b1': Syne Tune scheduler MOASHA is multi-objective" in msg, msg
    assert "method 'mo' on benchmark 'b1': method 'MOASHA' is multi-objective" in msg, msg
    assert msg.count("method 'mo' on benchmark 'b1'") == 1 and "2 problem(s)" in msg, msg     # reported once
    msg = _problems({"o": {"method": "optuna"}}, {"b": {**TWO["mo"], "mode": ["min", "min", "max"]}})
    assert "benchmark 'b': 2 metrics ['valid_error', 'elapsed_time'] but 3 modes ['min', 'min', 'max']" in msg


def test_study_run_refuses_before_any_run(toy_blackboxes, tmp_path, capsys):
    import yaml

    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"name": "s", "seeds": 1, "benchmarks": ONE,
                                    "methods": {"st": {"method": "synetune", "scheduler": "ASHAA"}}}))
    assert main(["study", "run", "--root", str(tmp_path / "root"), "--engine", "serial", "-q", str(spec)]) == 2
    assert "Syne Tune scheduler 'ASHAA' is not valid; allowed: ['ASHA'" in capsys.readouterr().err
    assert not (tmp_path / "root" / "s").exists()
