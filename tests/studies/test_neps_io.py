"""NePS-style outputs, on demand: five files per run (``--format neps``) or three per study (``csv``)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.errors import InputError
from studies import Study, run_study
from studies.analysis import load_study
from studies.cli import main
from studies.neps_io import export_study, run_status_table
from fakes import fake_run, fake_study_dict


@pytest.fixture(scope="module")
def study_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("neps")
    assert run_study(Study.from_dict(fake_study_dict(seeds=2, max_trials=5)), str(root), run_fn=fake_run,
                     validate=False, progress=False).ok
    return str(root / "fake")


def test_neps_files_per_run(study_path, tmp_path):
    assert export_study(study_path, str(tmp_path / "n"), "neps") == 8
    files = sorted(str(p.relative_to(tmp_path / "n")) for p in (tmp_path / "n").rglob("*") if p.is_file())
    assert len(files) == 8 * 5
    run_dir = tmp_path / "n" / "b1" / "A" / "1"
    raw = load_study(study_path).read_run("b1", "A", 1).sort_values("time", kind="stable")
    v = raw["valid_error"].to_numpy()
    improved = v[v < np.minimum.accumulate(np.concatenate([[np.inf], v]))[:-1]]
    lines = (run_dir / "best_loss_trajectory.txt").read_text().splitlines()
    assert [float(x) for x in lines] == pytest.approx(improved)
    blocks = (run_dir / "all_losses_and_configs.txt").read_text().split("-" * 79 + "\n")
    assert len([b for b in blocks if b.strip()]) == len(raw) == 15
    assert blocks[0].startswith(f"Config ID: {int(raw['trial_id'].iloc[0])}\nFidelity: 1\n")
    assert f"Config: {{'x': {float(raw['x'].iloc[0])!r}}}" in blocks[0]
    config_data = pd.read_csv(run_dir / "summary_csv" / "config_data.csv")
    assert config_data["loss"].is_monotonic_increasing and len(config_data) == 15
    status = pd.read_csv(run_dir / "summary_csv" / "run_status.csv").set_index("description")["value"]
    assert int(status["num_evaluated_configs"]) == 5 and float(status["best_loss"]) == pytest.approx(v.min())
    i = int(np.argmin(v))
    assert int(status["best_config_id"]) == int(raw["trial_id"].iloc[i])
    assert json.loads(status["best_config"]) == {"x": pytest.approx(raw["x"].iloc[i])}


def test_csv_files_per_study_and_run_status_with_best_config(study_path, tmp_path):
    assert export_study(study_path, str(tmp_path / "c"), "csv") == 8
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "all_losses_and_configs.csv", "best_loss_trajectory.csv", "run_status.csv"]
    every = pd.read_csv(tmp_path / "c" / "all_losses_and_configs.csv")
    assert len(every) == 8 * 15 and list(every.columns[:4]) == ["benchmark", "method", "seed", "metric"]
    status = pd.read_csv(tmp_path / "c" / "run_status.csv")
    st = load_study(study_path)
    for r in status.itertuples(index=False):
        run = st.run(r.benchmark, r.method, r.seed)
        best = run.get_best_result(scope="all")
        assert r.best_loss == pytest.approx(r.best) and r.best_config_id == best.trial_id
        assert json.loads(r.best_config) == pytest.approx(best.config)
    pd.testing.assert_frame_equal(status, pd.read_csv(tmp_path / "c" / "run_status.csv"))
    assert list(run_status_table(st).columns[-3:]) == ["best_loss", "best_config_id", "best_config"]
    with pytest.raises(InputError, match="export format 'yaml' is not valid; allowed: 'neps', 'csv'"):
        export_study(study_path, str(tmp_path / "x"), "yaml")


def test_cli_export(study_path, tmp_path, capsys):
    assert main(["study", "export", study_path, "--format", "csv", "--out", str(tmp_path / "c")]) == 0
    assert "exported 8 done runs" in capsys.readouterr().out
    assert main(["study", "export", study_path, "--out", str(tmp_path / "n")]) == 0
    assert (tmp_path / "n" / "b2" / "B" / "0" / "best_loss_with_config_trajectory.txt").exists()
    assert main(["study", "export", study_path, "--format", "yaml", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "y").exists()
