"""Regression checks: paired Wilcoxon on normalized AUC, false-alarm rate, the pytest helper."""
from __future__ import annotations

import numpy as np
import pytest

from studies import Study, run_study
from studies.compare import compare, measure_false_alarm_rate, wilcoxon_worse
from studies.stats import critical_difference
from studies.testing import assert_not_worse

BENCH = {"t1": {"blackbox": "toy/t1", "n_workers": 2, "max_time": 60},
         "t2": {"blackbox": "toy/t2", "n_workers": 2, "max_time": 60}}


def test_wilcoxon_worse_direction_and_effect():
    p, e = wilcoxon_worse(np.array([0.1, 0.2, 0.3, 0.05, 0.15, 0.25, 0.12, 0.3]))
    assert p < 0.01 and e == 1.0
    p, e = wilcoxon_worse(-np.array([0.1, 0.2, 0.3, 0.05, 0.15, 0.25]))
    assert p > 0.9 and e == -1.0
    assert wilcoxon_worse(np.zeros(5)) == (1.0, 0.0)


def test_compare_detects_a_worse_method_and_not_an_identical_one(tmp_path, toy_blackboxes):
    study = Study.from_dict({"name": "cmp", "seeds": 12, "benchmarks": BENCH, "methods": {
        "RS": {"method": "RandomSearch"}, "RS-copy": {"method": "RandomSearch"},
        "Grid": {"method": "GridSearch"}}})
    assert run_study(study, str(tmp_path), progress=False).ok
    path = str(tmp_path / "cmp")
    same = compare(path, baseline="RS", candidate="RS-copy")
    assert not same.worse and same.pvalue == 1.0 and same.n_pairs == 24
    bad = compare(path, baseline="RS", candidate="Grid")
    assert bad.worse and bad.effect_size > 0.5, bad.format()
    assert "WORSE" in bad.format() and set(bad.per_benchmark["benchmark"]) == {"t1", "t2"}
    with pytest.raises(ValueError, match="Did you mean 'Grid'"):
        compare(path, baseline="RS", candidate="Gird")
    # the reverse question: is random search worse than grid search? no
    assert not compare(path, baseline="Grid", candidate="RS").worse


def test_false_alarm_rate_on_identical_methods(tmp_path, toy_blackboxes):
    study = Study.from_dict({"name": "fa", "seeds": 30, "benchmarks": BENCH,
                             "methods": {"RS": {"method": "RandomSearch"}}})
    assert run_study(study, str(tmp_path), progress=False).ok
    res = measure_false_alarm_rate(str(tmp_path / "fa"), "RS", n_splits=300, alpha=0.05)
    assert res["pairs_per_test"] == 30
    assert res["rate"] <= 0.10, res     # nominal 0.05; the test is exact for continuous scores


def test_assert_not_worse_helper(tmp_path, toy_blackboxes):
    ok = assert_not_worse("RandomSearch", baseline="RandomSearch", benchmarks=BENCH, seeds=4,
                          root=str(tmp_path / "a"))
    assert not ok.worse
    with pytest.raises(AssertionError, match="WORSE"):
        assert_not_worse("GridSearch", baseline="RandomSearch", benchmarks=BENCH, seeds=10,
                         root=str(tmp_path / "b"))
    # a recorded baseline: only the candidate runs, next to nothing in the recorded folder
    recorded = tmp_path / "b" / "not-worse"
    before = sorted(p.name for p in recorded.rglob("*"))
    res = assert_not_worse({"method": "RandomSearch"}, baseline_study=str(recorded), baseline_label="baseline",
                           root=str(tmp_path / "c"))
    assert res.n_pairs == 20 and sorted(p.name for p in recorded.rglob("*")) == before


def test_critical_difference_numbers():
    import pandas as pd
    from scipy import stats

    rng = np.random.default_rng(0)
    rows = []
    for seed in range(10):
        for m, shift in (("A", 0.0), ("B", 0.5), ("C", 1.0)):
            rows.append({"benchmark": "b", "seed": seed, "method": m, "best": shift + rng.normal(0, 0.3)})
    fv = pd.DataFrame(rows)
    r = critical_difference(fv, "min", alpha=0.05)
    q = stats.studentized_range.ppf(0.95, 3, np.inf) / np.sqrt(2)
    assert r.cd == pytest.approx(q * np.sqrt(3 * 4 / (6 * 10)))
    assert r.cd == pytest.approx(1.048, abs=1e-3)        # Demsar's table: q_0.05(k=3) = 2.343
    assert r.avg_ranks["A"] < r.avg_ranks["B"] < r.avg_ranks["C"]
    assert r.friedman_pvalue < 0.01


@pytest.mark.parametrize("flags,needle", [
    (["--alpha", "nan"], "--alpha nan is not valid"), (["--alpha", "-1"], "--alpha -1.0 is not valid"),
    (["--alpha", "2"], "--alpha 2.0 is not valid"), (["--alpha", "0"], "--alpha 0.0 is not valid"),
    (["--min-effect", "5"], "--min-effect 5.0 is not valid"), (["--min-effect", "-0.5"], "in [0, 1)"),
    (["--min-effect", "nan"], "--min-effect nan"), (["--candidate", "A"], "both 'A'")])
def test_compare_settings_are_validated(tmp_path, capsys, flags, needle):
    """Bad settings are input errors (exit 2) before the study is read, not silent verdicts."""
    from fakes import fake_run, fake_study_dict
    from studies.cli import main

    run_study(Study.from_dict(fake_study_dict(seeds=2)), str(tmp_path), run_fn=fake_run, validate=False,
              progress=False)
    argv = ["study", "compare", str(tmp_path / "fake"), "--baseline", "A", "--candidate", "B"]
    i = argv.index(flags[0]) if flags[0] in argv else len(argv)
    argv = argv[:i] + flags + argv[i + 2:] if flags[0] in argv else argv + flags
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and "sequence" not in err
