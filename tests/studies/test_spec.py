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
