"""Reading Syne Tune experiment folders written by a real Syne Tune 0.16 run.

The fixture (tests/studies/data/syne-tune/) was produced by
tests/studies/data/make_syne_tune_fixture.py with syne-tune==0.16.0 (LocalBackend, 2 workers,
RandomSearch and ASHA, 30 s each); only metadata.json and results.csv.zip are kept.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studies import run_study
from studies.analysis import load_study
from studies.plots import plot_anytime
from studies.syne_tune_io import is_syne_tune_path
from test_study_simulated import toy_study

DATA = Path(__file__).parent / "data" / "syne-tune"


def test_reads_genuine_syne_tune_folders():
    assert is_syne_tune_path(str(DATA)) and is_syne_tune_path(str(DATA / "ASHA-seed0"))
    st = load_study(str(DATA))
    assert sorted(st.methods) == ["ASHA", "RandomSearch"] and st.benchmarks == ["quadratic"]
    assert set(st.runs["source"]) == {"syne-tune"} and (st.runs["metric"] == "loss").all()
    raw = pd.read_csv(DATA / "RandomSearch-seed0" / "results.csv.zip")
    rep = st.read_run("quadratic", "RandomSearch", 0)
    assert len(rep) == len(raw) and {"x", "width", "fidelity", "loss", "time"} <= set(rep.columns)
    assert rep["time"].is_monotonic_increasing
    np.testing.assert_allclose(sorted(rep["time"]), sorted(raw["st_tuner_time"]))
    assert st.runs.set_index("method").loc["RandomSearch", "best"] == pytest.approx(raw["loss"].min())
    traj = st.trajectories(n_points=20)
    assert (np.diff(traj[traj.method == "ASHA"]["best"].dropna()) <= 0).all()


def test_next_to_hposim_results(tmp_path, toy_blackboxes):
    assert run_study(toy_study(seeds=1), str(tmp_path), progress=False).ok
    both = load_study([str(tmp_path / "sim"), str(DATA)])
    assert set(both.benchmarks) == {"t1", "t2", "quadratic"}
    assert {"RS", "ASHA", "RandomSearch"} <= set(both.methods)
    fig = plot_anytime(both)
    assert len([a for a in fig.axes if a.get_visible()]) == 3


def test_unreadable_experiment_is_skipped_with_warning(tmp_path):
    shutil.copytree(DATA, tmp_path / "st")
    (tmp_path / "st" / "broken").mkdir()
    (tmp_path / "st" / "broken" / "metadata.json").write_text("{}")
    (tmp_path / "st" / "broken" / "results.csv.zip").write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="broken"):
        st = load_study(str(tmp_path / "st"))
    assert len(st.runs) == 2


def test_results_csv_gz_folders_read_like_csv_zip(tmp_path):
    """Syne Tune writes ``results.csv.gz`` too: the same experiment in either file reads the same."""
    for name in ("RandomSearch-seed0", "ASHA-seed0"):
        src = DATA / name
        dst = tmp_path / "gz" / name
        dst.mkdir(parents=True)
        shutil.copy(src / "metadata.json", dst / "metadata.json")
        pd.read_csv(src / "results.csv.zip").to_csv(dst / "results.csv.gz", index=False, compression="gzip")
    assert is_syne_tune_path(str(tmp_path / "gz")) and is_syne_tune_path(str(tmp_path / "gz" / "ASHA-seed0"))
    gz, zipped = load_study(str(tmp_path / "gz")), load_study(str(DATA))
    assert sorted(gz.methods) == ["ASHA", "RandomSearch"] and len(gz.runs) == 2
    for method in ("ASHA", "RandomSearch"):
        pd.testing.assert_frame_equal(gz.read_run("quadratic", method, 0), zipped.read_run("quadratic", method, 0))
    cols = ["benchmark", "method", "seed", "n_trials", "n_reports", "best"]
    pd.testing.assert_frame_equal(gz.runs[cols], zipped.runs[cols])
