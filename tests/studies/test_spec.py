from __future__ import annotations

import pytest

from studies.spec import Study, StudySpecError
from fakes import fake_study_dict


def test_parse_yaml_shape_and_cells(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("""
name: my-study
seeds: 3
master_seed: 10
methods:
  RS:   {method: RandomSearch}
  ASHA: {method: ASHA, type: stopping, reduction_factor: 3}
benchmarks:
  digits: {blackbox: mlp-sklearn/digits, metric: valid_error, mode: min, n_workers: 4, max_time: 3600}
""")
    s = Study.from_yaml(p)
    assert s.seeds == [10, 11, 12]
    assert s.methods["ASHA"].args == {"type": "stopping", "reduction_factor": 3}
    b = s.benchmarks["digits"]
    assert (b.blackbox, b.task, b.metric, b.n_workers, dict(b.stop)) == (
        "mlp-sklearn", "digits", "valid_error", 4, {"max_time": 3600})
    runs = s.runs()
    assert len(runs) == 6 and {r.method for r in runs} == {"RS", "ASHA"}
    # round trip through the YAML shape
    assert Study.from_dict(s.to_dict()).runs() == runs


def test_typo_keys_are_named_with_suggestions():
    d = fake_study_dict()
    d["seed"] = 3
    d["benchmarks"]["b1"]["max_tme"] = 10
    with pytest.raises(StudySpecError) as e:
        Study.from_dict(d)
    msg = str(e.value)
    assert "'seed'" in msg and "Did you mean 'seeds'" in msg
    assert "'max_tme'" in msg and "Did you mean 'max_time'" in msg


@pytest.mark.parametrize("patch,needle", [
    ({"seeds": 0}, "positive count"),
    ({"seeds": [1, 1]}, "duplicates"),
    ({"name": "../evil"}, "not valid"),
    ({"methods": {}}, "non-empty"),
])
def test_bad_values_rejected(patch, needle):
    d = fake_study_dict()
    d.update(patch)
    with pytest.raises(StudySpecError, match=needle):
        Study.from_dict(d)


def test_missing_stop_and_bad_mode():
    d = fake_study_dict()
    d["benchmarks"]["b1"] = {"blackbox": "toy/t1", "mode": "minimize"}
    with pytest.raises(StudySpecError) as e:
        Study.from_dict(d)
    assert "no stopping criterion" in str(e.value) and "'minimize'" in str(e.value)


def test_duplicate_yaml_keys_are_named_with_their_lines(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: s\nseeds: 2\nmethods:\n  RS: {method: RandomSearch}\n  RS: {method: ASHA}\n"
                 "benchmarks:\n  b: {blackbox: toy/t1, max_trials: 3, max_trials: 5}\n")
    with pytest.raises(StudySpecError, match=r"key 'RS' is given twice in one mapping \(lines 4 and 5\)"):
        Study.from_yaml(p)
    p.write_text("name: s\nseeds: 2\nseeds: 3\nmethods: {RS: RandomSearch}\n"
                 "benchmarks: {b: {blackbox: toy/t1, max_trials: 3}}\n")
    with pytest.raises(StudySpecError, match=r"'seeds' is given twice .*lines 2 and 3"):
        Study.from_yaml(p)


def test_benchmark_labels_colliding_after_task_expansion_name_both(toy_blackboxes):
    d = fake_study_dict()
    d["benchmarks"] = {"toy": {"blackbox": "toy", "max_trials": 3},           # expands to toy-t1, toy-t2
                       "toy-t1": {"blackbox": "toy/t2", "max_trials": 3}}
    with pytest.raises(StudySpecError, match=r"benchmarks 'toy' and 'toy-t1' both give a benchmark labelled "
                                             r"'toy-t1'"):
        Study.from_dict(d)


@pytest.mark.timing
def test_a_huge_seed_count_fails_within_a_second():
    import time

    t0 = time.perf_counter()
    with pytest.raises(StudySpecError, match=r"limit of 10000"):
        Study.from_dict(fake_study_dict(seeds=1_000_000_000))
    assert time.perf_counter() - t0 < 1.0


def test_a_huge_seed_count_fails_fast_before_building_anything():
    d = fake_study_dict(seeds=1_000_000_000)
    with pytest.raises(StudySpecError, match=r"limit of 10000.*--max-runs"):
        Study.from_dict(d)
    d = fake_study_dict(seeds=2600)             # 2600 seeds x 2 methods x 2 benchmarks = 10400 runs
    with pytest.raises(StudySpecError, match=r"expands to 10400 runs \(2600 seeds x 2 methods x 2 benchmarks\)"):
        Study.from_dict(d)
    assert len(Study.from_dict(d, max_runs=20_000).runs()) == 10_400


def test_run_study_refuses_too_many_runs_before_writing(tmp_path):
    from studies.runner import run_study
    from fakes import fake_run

    with pytest.raises(StudySpecError, match="limit of 10"):
        run_study(Study.from_dict(fake_study_dict(seeds=3), max_runs=None), str(tmp_path / "r"),
                  run_fn=fake_run, validate=False, progress=False, max_runs=10)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("value,needle", [(-1, "non-negative integer"), ("0", "non-negative integer"),
                                          (True, "non-negative integer"), (1.5, "non-negative integer")])
def test_blackbox_seed_type_is_checked_in_the_spec(value, needle):
    d = fake_study_dict()
    d["benchmarks"]["b1"]["blackbox_seed"] = value
    with pytest.raises(StudySpecError, match=needle):
        Study.from_dict(d)


def test_blackbox_seed_out_of_range_is_a_spec_error_not_failed_runs(toy_blackboxes):
    d = fake_study_dict()
    d["benchmarks"]["b1"]["blackbox_seed"] = 5            # the toy blackbox has seeds 0..1
    with pytest.raises(StudySpecError, match=r"blackbox_seed 5 is not valid; toy/t1 has seeds 0..1"):
        Study.from_dict(d).validate()
    d["benchmarks"]["b1"]["blackbox_seed"] = 1
    Study.from_dict(d).validate()


def test_duplicate_keys_on_one_line_flow_mapping(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: s\nmethods: {RS: RandomSearch}\nbenchmarks: {b: {blackbox: toy/t1, max_time: 5, max_time: 9}}\n")
    with pytest.raises(StudySpecError, match=r"'max_time' is given twice .*lines 3 and 3"):
        Study.from_yaml(p)


# ---------------------------------------------------------------- methods checked against the benchmarks
@pytest.fixture
def one_fidelity_toy(toy_blackboxes):
    """Besides ``toy`` (9 fidelities: rung levels 1, 3, 9), ``flat/s1`` with a single fidelity."""
    from blackbox_repo import save_blackbox
    from fakes import make_toy_blackbox

    save_blackbox(make_toy_blackbox("s1", n_fid=1), "flat", "s1")
    return toy_blackboxes


def _problems(methods, benchmarks=None) -> str:
    from fakes import fake_study_dict

    d = fake_study_dict(methods=methods)
    if benchmarks is not None:
        d["benchmarks"] = benchmarks
    with pytest.raises(StudySpecError) as e:
        Study.from_dict(d).validate()
    return str(e.value)


def test_presets_and_methods_that_fit_pass(toy_blackboxes):
    from fakes import fake_study_dict

    methods = {"bohb": {"method": "BOHB"}, "prom": {"method": "ASHA-PROM", "grace_period": 3},
               "sh": {"method": "SYNCSH", "brackets": 1}, "dehb": "DEHB", "async": {"method": "AsyncBOHB"},
               "asha3": {"method": "ASHA", "brackets": 3}}
    study = Study.from_dict(fake_study_dict(methods=methods)).validate()
    assert {r.method_name for r in study.runs()} == {"BOHB", "ASHA-PROM", "SYNCSH", "DEHB", "AsyncBOHB", "ASHA"}


def test_brackets_beyond_the_rung_levels_fail_the_spec_check(toy_blackboxes):
    msg = _problems({"hb": {"method": "SyncHyperband", "brackets": 6}})
    assert "method 'hb' on every benchmark (b1, b2)" in msg and "brackets=6" in msg and "1..3" in msg, msg
    assert msg.count("brackets=6") == 1                          # one problem for both benchmarks
    msg = _problems({"a6": {"method": "ASHA6-STOP"}})
    assert "preset 'ASHA6-STOP'" in msg and "at most 3 brackets" in msg, msg
    assert "ASHA with type='stopping', brackets <= 3" in msg, msg


def test_argument_values_fail_the_spec_check(toy_blackboxes):
    msg = _problems({"rf": {"method": "ASHA", "reduction_factor": 1}, "ok": "RandomSearch",
                     "typ": {"method": "AsyncBOHB", "type": "median"}})
    assert "method 'rf'" in msg and "reduction_factor must be a number > 1" in msg, msg
    assert "method 'typ'" in msg and "'median'" in msg and "'promotion'" in msg, msg
    assert "'ok'" not in msg and "2 problem(s)" in msg


def test_multi_fidelity_method_on_a_single_fidelity_blackbox(one_fidelity_toy):
    msg = _problems({"bohb": "BOHB", "asha": "ASHA", "rs": "RandomSearch"},
                    {"flat": {"blackbox": "flat/s1", "max_trials": 5}, "b1": {"blackbox": "toy/t1", "max_trials": 5}})
    assert "method 'bohb' on benchmark 'flat'" in msg and "method 'asha' on benchmark 'flat'" in msg, msg
    assert "multi-fidelity" in msg and "single-fidelity" in msg and "RandomSearch" in msg
    assert "'rs'" not in msg and "'b1'" not in msg


def test_preset_names_and_fixed_arguments(toy_blackboxes):
    msg = _problems({"p": {"method": "ASHA-PROM", "type": "stopping"}, "c": "asha",
                     "same": {"method": "ASHA-STOP", "type": "stopping"}})
    assert "method 'p'" in msg and "fixes type='promotion'" in msg and "cannot be overridden" in msg, msg
    assert "method 'c'" in msg and "Did you mean 'ASHA'?" in msg, msg
    assert "'same'" not in msg                                   # the very value it fixes is fine


def test_stop_keys_are_the_fields_of_simulator_stop_and_each_reaches_the_run():
    import dataclasses

    from simulator.stopping import Stop
    from studies.benchmarks import OVERRIDE_KEYS
    from studies.spec import BENCHMARK_KEYS, STOP_KEYS

    assert STOP_KEYS == tuple(f.name for f in dataclasses.fields(Stop))
    assert set(STOP_KEYS) <= set(BENCHMARK_KEYS) and set(STOP_KEYS) <= set(OVERRIDE_KEYS)
    for key in STOP_KEYS:          # every criterion is accepted by a spec and builds the simulator's Stop
        value = 0.5 if key == "target" else 7
        d = fake_study_dict(seeds=1)
        d["benchmarks"]["b1"] = {"blackbox": "toy/t1", key: value}
        run = Study.from_dict(d).runs()[0]
        assert run.stop == {key: value}
        assert Stop(**run.stop).active() == {key: value}
