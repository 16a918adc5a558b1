"""Multi-objective studies end to end: spec, runs, Pareto fronts, hypervolume over time, report."""
from __future__ import annotations

import numpy as np
import pytest

from methods.pareto import hypervolume, non_dominated_mask
from studies import Study, StudySpecError, run_study
from studies.analysis import load_study
from studies.pareto_analysis import (final_hypervolumes, hypervolume_trajectories, multi_objective_benchmarks,
                                     objectives_of, pareto_front, pareto_fronts, reference_points)
from studies.report import write_report


def mo_study(name="mo", methods=None, **bench):
    b = {"metric": ["valid_error", "elapsed_time"], "mode": ["min", "min"], "n_workers": 2, "max_time": 60}
    b.update(bench)
    return Study.from_dict({
        "name": name, "seeds": 2,
        "methods": methods or {"MORS": {"method": "MORandomSearch"}, "MOASHA": {"method": "MOASHA"},
                               "NSGA2": {"method": "NSGA2", "population_size": 4}},
        "benchmarks": {"t1": {"blackbox": "toy/t1", **b}}})


def test_multi_objective_study_analysis_and_report(tmp_path, toy_blackboxes):
    s = run_study(mo_study(), str(tmp_path), progress=False)
    assert s.ok, s.format()
    st = load_study(str(tmp_path / "mo"))
    assert multi_objective_benchmarks(st) == ["t1"]
    assert objectives_of(st, "t1") == (["valid_error", "elapsed_time"], ["min", "min"])
    assert st.metric_of("t1") == ("valid_error", "min")       # the first metric: single-objective views work

    # reference point: worst observed + 10% of the observed range, over every report of every run
    reports = st.reports(["valid_error", "elapsed_time"])
    refs = reference_points(st).set_index("metric")
    for m in ("valid_error", "elapsed_time"):
        v = reports[m].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        assert refs.loc[m, "reference"] == pytest.approx(v.max() + 0.1 * (v.max() - v.min()))
        assert "10%" in refs.loc[m, "rule"]

    # the front of one run: non-dominated among its reports, and nothing of the run dominates it
    run = st.read_run("t1", "MOASHA", 0, ["valid_error", "elapsed_time", "time"])
    front = pareto_front(st, "t1", "MOASHA", 0)
    Y = run[["valid_error", "elapsed_time"]].dropna().to_numpy(dtype=float)
    assert len(front) == int(non_dominated_mask(Y).sum()) >= 1
    F = front[["valid_error", "elapsed_time"]].to_numpy(dtype=float)
    assert non_dominated_mask(F).all()

    # hypervolume over time: non-decreasing, NaN before the first report, final value exact
    traj = hypervolume_trajectories(st, n_points=20)
    assert set(traj["method"]) == {"MORS", "MOASHA", "NSGA2"} and traj.attrs["reference_points"]
    for _, g in traj.groupby(["method", "seed"]):
        hv = g.sort_values("step")["hypervolume"].to_numpy()
        hv = hv[np.isfinite(hv)]
        assert len(hv) and np.all(np.diff(hv) >= -1e-12)
    ref = refs.loc[["valid_error", "elapsed_time"], "reference"].to_numpy()
    last = traj[(traj["method"] == "MOASHA") & (traj["seed"] == 0) & (traj["step"] == 19)]["hypervolume"].item()
    assert last == pytest.approx(hypervolume(Y, ref))
    assert (traj["normalized"].dropna() <= 1 + 1e-12).all()
    table = final_hypervolumes(st, n_points=20)
    assert set(table["method"]) == {"MORS", "MOASHA", "NSGA2"} and table["reference"].str.contains("valid_error").all()
    pooled = pareto_fronts(st, "t1")
    assert set(pooled["method"]) == {"MORS", "MOASHA", "NSGA2"} and (pooled["seed"] == -1).all()

    paths = write_report(str(tmp_path / "mo"))
    md = open(paths["md"]).read()
    assert "figure:hypervolume" in paths and "figure:pareto_fronts" in paths
    assert "### hypervolume" in md and "### pareto fronts" in md and "reference point" in md


def test_spec_checks_objectives_before_any_run(tmp_path, toy_blackboxes):
    bad = mo_study(methods={"ASHA": {"method": "ASHA"}, "MOASHA": {"method": "MOASHA"}})
    with pytest.raises(StudySpecError) as e:
        run_study(bad, str(tmp_path), progress=False)
    assert "method 'ASHA' on benchmark 't1'" in str(e.value) and "optimizes one metric, got 2" in str(e.value)
    one = mo_study(metric="valid_error", mode="min", methods={"M": {"method": "MOREA"}})
    with pytest.raises(StudySpecError, match="'MOREA' is multi-objective: it needs at least two metrics"):
        run_study(one, str(tmp_path), progress=False)
    with pytest.raises(StudySpecError, match=r"2 metrics .* but 3 modes"):
        mo_study(mode=["min", "min", "max"])
    with pytest.raises(StudySpecError, match=r"need one mode each, e\.g\. mode: \[max, min\]"):
        mo_study(mode=None)
    with pytest.raises(StudySpecError, match=r"unknown metric 'elapsed'.*Did you mean 'elapsed_time'"):
        run_study(mo_study(metric=["valid_error", "elapsed"]), str(tmp_path), progress=False)
    d = mo_study().to_dict()
    assert d["benchmarks"]["t1"]["metric"] == ["valid_error", "elapsed_time"]
    assert Study.from_dict(d).to_dict() == d
