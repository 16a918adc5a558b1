"""``load_run`` and ``RunResults``, as Ray Tune and NePS users use them: every scope of
``get_best_result``, ``Result.path``, a single-run Parquet file from ``hposim simulate --out``."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.errors import InputError
from studies.cli import main
from studies.run_view import SCOPES, NotARunError, RunResults, load_run
from test_study_simulated import toy_study

#: 12 reports per trial, built so that each scope picks another trial (min mode)
LOSSES = {0: [0.0] + [0.9] * 11,            # best single report: "all"
          1: [0.3] * 11 + [0.2],            # best last report: "last"
          2: [0.25] * 12,                   # best mean: "avg"
          3: [0.9] * 7 + [0.22] * 5,        # best mean of the last 5: "last-5-avg"
          4: [0.9] * 2 + [0.24] * 10}       # best mean of the last 10: "last-10-avg"


def _scoped_run() -> RunResults:
    rows = [{"trial_id": t, "x": float(t), "fidelity": k + 1, "loss": v, "time": k + 0.01 * t,
             "decision": "continue" if k < 11 else "complete"}
            for t, losses in LOSSES.items() for k, v in enumerate(losses)]
    df = pd.DataFrame(rows).sort_values("time", kind="stable").reset_index(drop=True)
    return RunResults(df, {"metric": "loss", "mode": "min", "status": "done"}, "some/run")


@pytest.mark.parametrize("scope, trial, reported", [
    ("all", 0, 0.0), ("last", 1, 0.2), ("avg", 2, 0.25), ("last-5-avg", 3, 0.22), ("last-10-avg", 4, 0.24)])
def test_every_scope_picks_its_trial(scope, trial, reported):
    best = _scoped_run().get_best_result(scope=scope)
    assert best.trial_id == trial and best.config == {"x": float(trial)}
    assert best.metrics["loss"] == pytest.approx(reported)      # "all": its best report, else its last
    assert best.path == "some/run" and len(best.metrics_dataframe) == 12


def test_scopes_in_max_mode_and_bad_scope():
    run = _scoped_run()
    assert run.get_best_result(mode="max", scope="last").trial_id == 0
    assert run.get_best_result(mode="max", scope="last-5-avg").trial_id == 0
    assert set(SCOPES) == {"last", "all", "avg", "last-5-avg", "last-10-avg"}
    with pytest.raises(InputError, match="scope 'last-5-average' is not valid; allowed: 'last', 'all', 'avg', "
                                         "'last-5-avg', 'last-10-avg'. Did you mean 'last-5-avg'"):
        run.get_best_result(scope="last-5-average")


def test_load_run_on_a_simulate_out_file_and_on_a_study_run_file(tmp_path, toy_blackboxes, capsys):
    out = tmp_path / "run.parquet"
    assert main(["simulate", "--blackbox", "toy/t1", "--method", "ASHA", "--max-time", "150",
                 "--n-workers", "4", "--seed", "1", "--out", str(out)]) == 0
    run = load_run(str(out))
    assert run.metric == "valid_error" and run.mode == "min" and run.status == "done"
    assert run.path == str(out) and len(run) == run.metadata["n_trials"] > 0
    best = run.get_best_result(scope="all")
    assert best.metrics["valid_error"] == pytest.approx(np.nanmin(run.results["valid_error"]))
    assert best.path == str(out)
    # a study run: its results.parquet alone gives the same reports as its folder
    from studies import run_study

    assert run_study(toy_study(seeds=1), str(tmp_path / "r"), progress=False).ok
    folder = tmp_path / "r" / "sim" / "t1" / "ASHA" / "0"
    by_folder, by_file = load_run(str(folder)), load_run(str(folder / "results.parquet"))
    pd.testing.assert_frame_equal(by_folder.results, by_file.results)
    assert by_folder.get_best_result().path == str(folder)
    assert by_file.config == by_folder.config


def test_load_run_on_a_file_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "other.parquet")
    for name in ("notes.txt", "other.parquet"):
        with pytest.raises(NotARunError, match=f"{name} is not an hposim run file"):
            load_run(str(tmp_path / name))


def _neps_run(mode: str) -> RunResults:
    df = pd.DataFrame({"trial_id": [0, 1, 0, 2, 1, 2], "lr": [0.1, 0.2, 0.1, 0.3, 0.2, 0.3],
                       "fidelity": [1, 1, 2, 1, 2, 2], "acc": [0.5, 0.7, 0.6, np.nan, 0.9, np.nan],
                       "time": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
                       "decision": ["continue", "continue", "complete", "failed", "complete", "failed"]})
    return RunResults(df, {"metric": "acc", "mode": mode, "status": "done"}, "r")


def test_neps_views_of_a_run():
    run = _neps_run("max")
    table = run.all_losses_and_configs()
    assert list(table.columns) == ["evaluation", "config_id", "fidelity", "time", "loss", "acc", "decision",
                                   "config.lr"]
    assert table["evaluation"].tolist() == [1, 2, 3, 4, 5, 6] and table["config_id"].tolist() == [0, 1, 0, 2, 1, 2]
    np.testing.assert_array_equal(table["loss"], [-0.5, -0.7, -0.6, np.nan, -0.9, np.nan])   # max: negated
    best = run.best_loss_trajectory()
    assert best["evaluation"].tolist() == [1, 2, 5] and best["loss"].tolist() == [-0.5, -0.7, -0.9]
    assert run.status_summary() == {"metric": "acc", "mode": "max", "num_evaluated_configs": 3,
                                    "num_evaluations": 6, "num_error": 1, "best_loss": -0.9, "best_value": 0.9,
                                    "best_config_id": 1, "best_config": {"lr": 0.2}}
    low = _neps_run("min")
    assert low.best_loss_trajectory()["evaluation"].tolist() == [1]
    assert low.status_summary()["best_config"] == {"lr": 0.1} and low.status_summary()["best_loss"] == 0.5
