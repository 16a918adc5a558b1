"""Analysis on a study written by the runner with the stand-in run function, checked by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from studies import run_study, Study
from studies.analysis import aggregate, interquartile_mean, load_study
from studies.run_view import load_run
from fakes import fake_run, fake_study_dict


@pytest.fixture(scope="module")
def study_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    d = fake_study_dict(seeds=4, max_trials=10)
    s = run_study(Study.from_dict(d), str(root), run_fn=fake_run, validate=False, progress=False)
    assert s.ok
    return str(root / "fake")


def test_runs_and_lazy_reports(study_path):
    st = load_study(study_path)
    assert len(st.runs) == 16 and set(st.runs["status"]) == {"done"}
    assert st.benchmarks == ["b1", "b2"] and st.methods == ["A", "B"]
    rep = st.reports(columns=["time", "valid_error"])
    assert list(rep.columns) == ["benchmark", "method", "seed", "time", "valid_error"]
    assert len(rep) == 16 * 30
    assert "study.yaml" not in st.runs["path"].iloc[0] and st.spec.startswith("name: fake")


def test_trajectory_is_best_so_far_on_grid(study_path):
    st = load_study(study_path)
    traj = st.trajectories(n_points=50)
    raw = fake_run(Study.from_dict(fake_study_dict(seeds=4, max_trials=10)).runs()[0])[0]
    one = traj[(traj.benchmark == "b1") & (traj.method == "A") & (traj.seed == 0)]
    for t, b in zip(one["time"], one["best"]):
        seen = raw[raw["time"] <= t]["valid_error"]
        if seen.empty:
            assert np.isnan(b)
        else:
            assert b == pytest.approx(seen.min())
    assert np.all(np.diff(one["best"].dropna()) <= 0)
    # normalized regret uses the optimum and worst value recorded by the run
    reg = (one["best"] - 0.05) / (0.8 - 0.05)
    np.testing.assert_allclose(one["regret"], reg)
    log = st.trajectories(n_points=20, log_x=True)
    assert log["time"].min() > 0 and np.allclose(np.diff(np.log(log[log.step < 20]["time"].unique())),
                                                 np.diff(np.log(log["time"].unique()))[0])


def test_aggregates():
    traj = pd.DataFrame({"benchmark": "b", "method": "m", "seed": np.repeat(np.arange(8), 2),
                         "step": np.tile([0, 1], 8), "time": np.tile([0.0, 1.0], 8),
                         "best": np.concatenate([[v, v / 2] for v in [1, 2, 3, 4, 5, 6, 7, 100]])})
    m = aggregate(traj, "mean_se")
    v = np.array([1, 2, 3, 4, 5, 6, 7, 100.0])
    assert m["center"].iloc[0] == pytest.approx(v.mean())
    assert m["upper"].iloc[0] - m["center"].iloc[0] == pytest.approx(v.std(ddof=1) / np.sqrt(8))
    med = aggregate(traj, "median_iqr")
    assert med["center"].iloc[0] == pytest.approx(4.5) and med["lower"].iloc[0] == pytest.approx(np.percentile(v, 25))
    iqm = aggregate(traj, "iqm")
    assert iqm["center"].iloc[0] == pytest.approx(np.mean([3, 4, 5, 6]))   # robust to the outlier
    assert iqm["lower"].iloc[0] <= iqm["center"].iloc[0] <= iqm["upper"].iloc[0]
    assert interquartile_mean(np.array([[1.0], [2.0], [np.nan]]))[0] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="Did you mean 'iqm'"):
        aggregate(traj, "iqn")


def test_ranks_and_final_table(study_path):
    st = load_study(study_path)
    ranks = st.ranks(n_points=30)
    last = ranks[ranks.step == 29]
    # with two methods, ranks per benchmark sum to 3 at every step
    assert np.allclose(last.groupby("benchmark")["rank"].sum(), 3.0)
    fv = st.final_values()
    b1 = fv[fv.benchmark == "b1"].pivot(index="seed", columns="method", values="best")
    expected_rank_a = np.mean(np.where(b1["A"] < b1["B"], 1.0, np.where(b1["A"] == b1["B"], 1.5, 2.0)))
    table = st.final_table()
    row = table[(table.benchmark == "b1") & (table.method == "A")].iloc[0]
    assert row["rank"] == pytest.approx(expected_rank_a)
    assert row["mean"] == pytest.approx(b1["A"].mean()) and row["n"] == 4 and row["failed"] == 0
    avg = st.average_rank(n_points=30)
    assert set(avg.method) == {"A", "B"} and avg["fraction"].max() == 1.0


def test_load_run_ray_tune_style(study_path):
    run = load_run(f"{study_path}/b1/A/0")
    assert len(run) == 10 and run.metric == "valid_error" and run.config_columns == ["x"]
    df = run.get_dataframe()
    assert len(df) == 10 and (df["fidelity"] == 3).all() and "config/x" in df
    best_all = run.get_best_result(scope="all")
    assert best_all.metrics["valid_error"] == pytest.approx(run.results["valid_error"].min())
    best_last = run.get_best_result(scope="last")
    assert best_last.metrics["valid_error"] == pytest.approx(df["valid_error"].min())
    assert len(best_all.metrics_dataframe) == 3 and run.config == best_all.config
    by_metric = run.get_dataframe(filter_metric="valid_error", filter_mode="max")
    assert (by_metric["valid_error"].to_numpy() >= df["valid_error"].to_numpy() - 1e-12).all()
    assert run.errors == [] and run.num_terminated == 10
    with pytest.raises(ValueError, match="Did you mean 'valid_error'"):
        run.get_best_result(metric="valid_eror")


def test_trajectory_by_number_of_evaluations(study_path):
    st = load_study(study_path)
    traj = st.trajectories(n_points=30, x="evaluations")
    assert "time" not in traj and traj["evaluations"].min() == 1 and traj["evaluations"].max() == 30
    raw = fake_run(Study.from_dict(fake_study_dict(seeds=4, max_trials=10)).runs()[0])[0]
    one = traj[(traj.benchmark == "b1") & (traj.method == "A") & (traj.seed == 0)]
    for n, b in zip(one["evaluations"], one["best"]):
        assert b == pytest.approx(raw["valid_error"].iloc[:int(n)].min())
    agg = st.aggregate("mean_se", n_points=30, x="evaluations")
    assert list(agg.columns) == ["benchmark", "method", "step", "evaluations", "center", "lower", "upper", "n"]
    assert (np.diff(agg[(agg.benchmark == "b1") & (agg.method == "A")]["center"]) <= 1e-12).all()
    ranks = st.ranks(n_points=30, x="evaluations")
    assert "evaluations" in ranks and set(ranks["method"]) == {"A", "B"}
    log = st.trajectories(n_points=10, log_x=True, x="evaluations")
    assert np.allclose(np.diff(np.log(log["evaluations"].unique())), np.log(30) / 9)
    with pytest.raises(ValueError, match="x-axis 'evals' is not valid; allowed: 'time', 'evaluations'"):
        st.trajectories(x="evals")


def test_decision_times_include_the_suggest_calls(tmp_path):
    # a model-based method spends its time in suggest(): the decision-time table must count it
    d = {"name": "dt", "seeds": 1,
         "methods": {"RS": {"method": "RandomSearch"}, "BO": {"method": "BayesianOptimization"}},
         "benchmarks": {"bc": {"blackbox": "mlp-sklearn/breast_cancer", "metric": "valid_error", "mode": "min",
                               "n_workers": 2, "max_trials": 15}}}
    s = run_study(Study.from_dict(d), str(tmp_path), progress=False)
    assert s.ok
    st = load_study(str(tmp_path / "dt"))
    dt = st.decision_times().set_index("method")
    runs = st.runs.set_index("method")
    for m in ("RS", "BO"):
        assert dt.loc[m, "suggest_s"] == pytest.approx(runs.loc[m, "suggest_seconds"]) and dt.loc[m, "suggest_s"] > 0
        assert dt.loc[m, "total_s"] == pytest.approx(dt.loc[m, "suggest_s"] + dt.loc[m, "report_s"])
        assert dt.loc[m, "n_decisions"] >= runs.loc[m, "n_trials"]
    # fitting a GP per suggestion costs far more than drawing at random
    assert dt.loc["BO", "suggest_s"] > 5 * dt.loc["RS", "suggest_s"]
