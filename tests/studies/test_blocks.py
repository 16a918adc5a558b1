"""Comparisons on a study with failed methods and missing runs: every rank, average rank,
critical-difference diagram, paired comparison, table and figure uses only the (benchmark, seed)
blocks where every compared method is done, and says what it left out."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from studies import Study, run_study
from studies.analysis import aggregate, load_study
from studies.blocks import complete_blocks, panel_seeds
from studies.compare import compare
from studies.report import final_table_display
from studies.stats import critical_difference
from fakes import fake_run

#: C fails on b1 seeds 1 and 2 and on every seed of b3; D fails everywhere; B on b2 ends early
FAILS = {("b1", "C", 1), ("b1", "C", 2)} | {("b3", "C", s) for s in range(4)}


def flaky_run(run):
    if run.method == "D" or (run.benchmark, run.method, run.seed) in FAILS:
        raise RuntimeError(f"{run.method} failed on purpose on {run.benchmark} seed {run.seed}")
    df, meta = fake_run(run)
    if run.benchmark == "b2" and run.method == "B":   # the table ran out before the budget
        cut = df["time"].quantile(0.6)
        df = df[df["time"] <= cut].reset_index(drop=True)
        meta["simulation"].update(end_reason="exhausted", end_time=float(cut))
    else:
        meta["simulation"].update(end_reason="max_trials", end_time=float(df["time"].max()))
    return df, meta


NOTE = ("5 of 12 (benchmark, seed) blocks where all 3 methods (A, B, C) have a done run; left out: "
        "method D (no done run: 12 failed); benchmark b3 (no seed where every method is done (C: 4 failed)); "
        "b1 seeds 1, 2 (C failed); b2 seed 3 (B missing)")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("blocks")
    spec = {"name": "cmp", "seeds": 4,
            "methods": {m: {"method": "RandomSearch"} for m in "ABCD"},
            "benchmarks": {b: {"blackbox": f"toy/{b}", "max_trials": 6, "n_workers": 2} for b in ("b1", "b2", "b3")}}
    run_study(Study.from_dict(spec), str(root), run_fn=flaky_run, validate=False, progress=False)
    shutil.rmtree(root / "cmp" / "b2" / "B" / "3")      # a missing run
    return load_study(str(root / "cmp"))


def test_blocks_and_what_is_left_out(study):
    b = study.blocks()
    assert b.methods == ["A", "B", "C"] and b.benchmarks == ["b1", "b2"]
    assert b.blocks == [("b1", 0), ("b1", 3), ("b2", 0), ("b2", 1), ("b2", 2)]
    assert b.note() == NOTE
    assert panel_seeds(study.runs, "b2", study.methods).caption() == "3 seeds; not shown: D (no done run: 4 failed)"
    assert study.panel("b3").caption() == \
        "4 seeds; not shown: C (no done run: 4 failed), D (no done run: 4 failed)"
    assert study.panel("b3").methods == ["A", "B"]


def test_ranks_use_only_complete_blocks(study):
    fv = study.final_values()
    ranks = study.ranks()
    last = ranks[ranks["step"] == ranks["step"].max()]
    assert set(last["benchmark"]) == {"b1", "b2"} and set(last["method"]) == {"A", "B", "C"}
    for bench, seeds in (("b1", [0, 3]), ("b2", [0, 1, 2])):
        wide = fv[(fv.benchmark == bench) & fv.seed.isin(seeds)].pivot(index="seed", columns="method",
                                                                         values="best")[["A", "B", "C"]]
        expected = wide.rank(axis=1).mean()
        got = last[last.benchmark == bench].set_index("method")["rank"]
        for m in "ABC":
            assert got[m] == pytest.approx(expected[m])
    avg = study.average_rank()
    final = avg[avg["step"] == avg["step"].max()].set_index("method")["rank"]
    for m in "ABC":
        assert final[m] == pytest.approx(last[last.method == m]["rank"].mean())
    # every method is averaged over the same benchmarks: the ranks of 3 methods sum to 6 at every step
    assert np.allclose(avg.groupby("step")["rank"].sum(), 6.0)
    table = study.final_table()
    assert table[table.benchmark == "b3"]["rank"].isna().all() and set(table["n_blocks"]) == {2, 3, 0}


def test_critical_difference_counts_what_it_drops(study):
    res = critical_difference(study.final_values(blocks_only=True), "min")
    assert res.n_blocks == 5 and res.n_dropped == 0 and sorted(res.avg_ranks) == ["A", "B", "C"]
    raw = critical_difference(study.final_values(), "min")
    assert raw.n_blocks == 5 and raw.n_dropped == 7          # b1 seeds 1, 2; b2 seed 3; b3 x 4
    assert sorted(raw.dropped)[:3] == [("b1", 1), ("b1", 2), ("b2", 3)]
    # a done run without any value ranks last in its block instead of dropping the block
    fv = pd.DataFrame({"benchmark": "b", "seed": [0, 0, 1, 1, 2, 2], "method": ["A", "B"] * 3,
                       "best": [1.0, np.nan, 1.0, 2.0, 3.0, 2.0]})
    r = critical_difference(fv, "min")
    assert r.n_blocks == 3 and r.avg_ranks == {"A": pytest.approx(4 / 3), "B": pytest.approx(5 / 3)}


def test_paired_comparison_uses_complete_pairs_and_says_so(study):
    c = compare(study, baseline="A", candidate="C")
    assert c.n_pairs == 6
    assert sorted(zip(c.pairs.benchmark, c.pairs.seed)) == [("b1", 0), ("b1", 3), ("b2", 0), ("b2", 1), ("b2", 2),
                                                             ("b2", 3)]
    assert c.note == ("6 of 12 (benchmark, seed) blocks where all 2 methods (A, C) have a done run; left out: "
                      "benchmark b3 (no seed where every method is done (C: 4 failed)); b1 seeds 1, 2 (C failed)")
    assert "pairs: 6 of 12" in c.format()


def test_table_states_blocks(study):
    t = final_table_display(study)
    assert list(t.columns) == ["benchmark", "metric", "A", "B", "C", "D"]
    assert t.iloc[-1]["benchmark"] == "average rank (5 blocks)" and t.iloc[-1]["D"] == "–"
    assert list(t["benchmark"]) == ["b1 (2 of 4 seeds)", "b2 (3 of 4 seeds)", "b3", "average rank (5 blocks)"]
    cells = t.set_index("benchmark")
    assert cells.loc["b3", "C"] == "–" and cells.loc["b3", "D"] == "–"
    # the cells of b1 are over its common seeds 0 and 3 only
    fv = study.final_values()
    a = fv[(fv.benchmark == "b1") & (fv.method == "A") & fv.seed.isin([0, 3])]["best"]
    assert cells.loc["b1 (2 of 4 seeds)", "A"].startswith(f"{a.mean():.4f} ± ")
    table = study.final_table()
    assert table[table.benchmark == "b1"]["n"].tolist() == [2, 2, 2]
    assert table[table.benchmark == "b3"]["n"].tolist() == [4, 4]
    assert NOTE in t.attrs["note"]


@pytest.mark.parametrize("stat", ["mean_se", "median_iqr", "iqm"])
@pytest.mark.parametrize("log_x", [False, True])
def test_aggregated_best_so_far_never_rises(study, stat, log_x):
    agg = study.aggregate(stat, n_points=60, log_x=log_x)
    for (bench, method), g in agg.groupby(["benchmark", "method"]):
        c = g.sort_values("step")["center"].to_numpy()
        c = c[np.isfinite(c)]
        assert len(c) > 10 and np.all(np.diff(c) <= 1e-12), (bench, method)
        # a fixed set of seeds: all of the panel's seeds wherever the statistic is defined
        n = g["n"].to_numpy()
        assert set(n[np.isfinite(g["center"].to_numpy())]) == {len(study.panel(bench).seeds)}


def test_without_a_fixed_seed_set_the_mean_rises():
    # seed 0 has 0.2 from t=0; seed 1 reports 0.9 only from t=1: over the seeds with data so far
    # the mean goes 0.2 -> 0.55 (up); over the fixed pair it starts at t=1 and only goes down
    traj = pd.DataFrame({"benchmark": "b", "method": "m", "seed": [0, 0, 0, 1, 1, 1], "step": [0, 1, 2] * 2,
                         "time": [0.0, 1.0, 2.0] * 2, "best": [0.2, 0.2, 0.1, np.nan, 0.9, 0.8]})
    loose = aggregate(traj, "mean_se", fixed_seeds=False)["center"].to_numpy()
    assert loose[1] > loose[0]                                 # 0.2 -> 0.55: the old curve rises
    fixed = aggregate(traj, "mean_se")
    assert np.isnan(fixed["center"].iloc[0]) and fixed["center"].iloc[1:].tolist() == pytest.approx([0.55, 0.45])
    assert fixed["n"].tolist() == [0, 2, 2]


def test_ended_early_runs_are_marked(study):
    early = study.ended_early()
    assert set(zip(early.benchmark, early.method)) == {("b2", "B")} and sorted(early.seed) == [0, 1, 2]
    from studies.plots import EARLY_LABEL, plot_anytime

    fig = plot_anytime(study)
    titles = {ax.get_title().split("\n")[0]: ax for ax in fig.axes if ax.get_visible()}
    marks = [ln for ln in titles["b2"].get_lines() if ln.get_marker() == "x"]
    assert len(marks) == 1 and len(marks[0].get_xdata()) == 3
    assert not any(ln.get_marker() == "x" for ln in titles["b1"].get_lines())
    assert "not shown: C (no done run: 4 failed), D" in titles["b3"].get_title().replace("\n", " ")
    assert EARLY_LABEL in [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def test_complete_blocks_on_a_table():
    runs = pd.DataFrame({"benchmark": ["x"] * 4 + ["y"] * 2, "method": ["A", "B"] * 3, "seed": [0, 0, 1, 1, 0, 0],
                         "status": ["done", "done", "done", "corrupt", "done", "failed"]})
    b = complete_blocks(runs, ["A", "B", "Z"])
    assert b.methods == ["A", "B"] and b.left_out_methods == {"Z": "no done run: no run stored"}
    assert b.blocks == [("x", 0)] and b.left_out_blocks == {("x", 1): "B corrupt"}
    assert b.left_out_benchmarks == {"y": "no seed where every method is done (B: 1 failed)"}


def disjoint_run(run):
    if (run.method, run.seed) in {("A", 1), ("B", 0)}:
        raise RuntimeError("disjoint on purpose")
    return fake_run(run)


def test_no_complete_block_is_said_not_hidden(tmp_path):
    from studies.report import write_report

    spec = {"name": "disjoint", "seeds": 2, "methods": {"A": "RandomSearch", "B": "RandomSearch"},
            "benchmarks": {"b1": {"blackbox": "toy/b1", "max_trials": 4, "n_workers": 2}}}
    run_study(Study.from_dict(spec), str(tmp_path), run_fn=disjoint_run, validate=False, progress=False)
    st = load_study(str(tmp_path / "disjoint"))
    assert st.blocks().n_blocks == 0 and st.ranks().empty and st.average_rank().empty
    assert st.blocks().note() == ("0 of 2 (benchmark, seed) blocks where all 2 methods (A, B) have a done run; "
                                  "left out: benchmark b1 (no seed where every method is done)")
    panel = st.panel("b1")
    assert not panel.shared and panel.caption() == "seed sets differ per method"
    assert set(st.aggregate()["method"]) == {"A", "B"}
    with pytest.warns(UserWarning) as caught:
        paths = write_report(st, str(tmp_path / "report"), formats=("png",))
    skipped = sorted(str(w.message).split("'")[1] for w in caught if "skipped" in str(w.message))
    assert skipped == ["average_rank", "critical_difference"]
    assert any("figure 'average_rank' skipped: no (benchmark, seed) block where every method has a done run: 0 of 2"
               in str(w.message) for w in caught)
    md = (tmp_path / "report" / "report.md").read_text()
    assert "average rank (0 blocks)" in md and "0 of 2 (benchmark, seed) blocks" in md
    assert "figure:anytime" in paths and "figure:average_rank" not in paths
