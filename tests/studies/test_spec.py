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


def test_a_huge_seed_count_fails_fast_before_building_anything():
    import time

    d = fake_study_dict(seeds=1_000_000_000)
    t0 = time.perf_counter()
    with pytest.raises(StudySpecError, match=r"limit of 10000.*--max-runs"):
        Study.from_dict(d)
    assert time.perf_counter() - t0 < 1.0
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
