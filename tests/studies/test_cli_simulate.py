"""``hposim simulate`` (issue 11): ``--out`` never destroys a file, and errors name the flags."""
from __future__ import annotations

import os

import numpy as np
import pytest

from blackbox_repo.repository import save_blackbox
from simulator import SimulationResult
from studies.cli import main
from studies.cli_simulate import flag_names
from tests.simulator.helpers import nb201_like

RUN = ["simulate", "--blackbox", "toy/t1", "--method", "RandomSearch", "--max-trials", "3"]


@pytest.fixture
def toy():
    save_blackbox(nb201_like(n_seeds=2, n_epochs=4, ops=2, seed=1), "toy", "t1")


@pytest.fixture
def work(tmp_path):
    """An empty folder of its own (tmp_path also holds the test's hposim cache)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_out_refuses_to_overwrite_an_existing_input_csv(toy, work, capsys):
    csv = work / "good.csv"
    csv.write_text("lr,epoch,loss\n0.1,1,0.5\n")
    code = main([*RUN, "--out", str(csv)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"--out {csv} exists" in err and "--force" in err
    assert csv.read_text() == "lr,epoch,loss\n0.1,1,0.5\n"           # untouched
    assert sorted(os.listdir(work)) == ["good.csv"]


def test_out_with_force_overwrites_and_warns_about_a_non_parquet_suffix(toy, work, capsys):
    csv = work / "good.csv"
    csv.write_text("x\n")
    assert main([*RUN, "--out", str(csv), "--force"]) == 0
    err = capsys.readouterr().err
    assert f"warning: --out {csv} does not end in .parquet" in err
    assert len(SimulationResult.read_parquet(csv).trials) == 3
    assert sorted(os.listdir(work)) == ["good.csv"]


def test_out_parquet_suffix_gives_no_warning_and_the_second_run_is_refused(toy, work, capsys):
    out = work / "run.parquet"
    assert main([*RUN, "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    before = out.read_bytes()
    assert main([*RUN, "--seed", "5", "--out", str(out)]) == 2
    assert out.read_bytes() == before


def test_out_pointing_to_a_directory_fails_before_the_run_and_leaves_nothing(toy, work, capsys):
    folder = work / "results"
    folder.mkdir()
    code = main([*RUN, "--out", str(folder), "--force"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"--out {folder} is a directory" in captured.err
    assert "trials" not in captured.out                             # the run never started
    assert os.listdir(folder) == [] and sorted(os.listdir(work)) == ["results"]


def test_out_below_a_file_fails_before_the_run(toy, work, capsys):
    (work / "afile").write_text("x")
    code = main([*RUN, "--out", str(work / "afile" / "run.parquet")])
    assert code == 2 and "is a file, not a folder" in capsys.readouterr().err


def test_out_that_appears_during_the_run_is_not_overwritten(work):
    from simulator import Stop, make_scheduler, simulate

    bb = nb201_like(n_seeds=1, n_epochs=3, ops=2)
    res = simulate(bb, make_scheduler("RandomSearch", bb), n_workers=1, stop=Stop(max_trials=1))
    out = work / "run.parquet"
    out.write_text("someone else's")
    with pytest.raises(FileExistsError, match="not overwritten"):
        res.to_parquet(out, overwrite=False)
    assert out.read_text() == "someone else's" and sorted(os.listdir(work)) == ["run.parquet"]


@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "--seed -1 is not valid; a seed must be an integer in [0, 4294967295]"),
    (["--time-per-fidelity", "-1"], "--time-per-fidelity -1.0 is not valid"),
    (["--time-per-fidelity", "inf"], "--time-per-fidelity inf is not valid"),
    (["--blackbox-seed", "7"], "--blackbox-seed 7 is not valid; the blackbox's seeds are 0..1"),
    (["--max-time", "-3"], "--max-time -3.0 is not valid; it must be > 0"),
    (["--target", "nan"], "--target nan is not valid"),
    (["--method-arg", "allow_duplicates=maybe"], "allow_duplicates must be a boolean"),
])
def test_bad_values_are_reported_with_the_flag_name(toy, capsys, argv, message):
    code = main([*RUN, *argv])
    err = capsys.readouterr().err
    assert code != 0 and message in err, err
    assert "_" not in err.split(" is not valid")[0].replace("allow_duplicates", "")   # no Python parameter
    assert "Traceback" not in err


@pytest.mark.parametrize("word, duplicates", [("False", False), ("false", False), ("no", False), ("0", False),
                                              ("true", True), ("YES", True), ("1", True)])
def test_method_arg_booleans_are_read_as_booleans(toy, capsys, work, word, duplicates):
    # 25 configurations: without duplicates the table runs out before 30 trials
    out = work / "run.parquet"
    argv = [*RUN[:-1], "30", "--method-arg", f"allow_duplicates={word}", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    assert len(SimulationResult.read_parquet(out).trials) == (30 if duplicates else 25)


def test_no_time_objective_message_names_the_flag():
    assert flag_names("pass time_per_fidelity=<seconds per fidelity level> to simulate") == \
        "pass --time-per-fidelity <seconds per fidelity level> to simulate"
    assert flag_names("blackbox_seed=3 and n_workers=0 and seed=1") == "--blackbox-seed 3 and --n-workers 0 and --seed 1"
    assert flag_names("max_time_x=3") == "max_time_x=3"
    np.testing.assert_equal(flag_names(""), "")


def test_an_unreachable_target_is_refused_before_running(toy, capsys):
    argv = ["simulate", "--blackbox", "toy/t1", "--method", "RandomSearch", "--target", "-1",
            "--method-arg", "allow_duplicates=true"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0 and "--target -1 can never be reached: the best error in this blackbox is" in err, err


def test_a_run_without_progress_ends_with_a_warning(capsys, work):
    from tests.simulator.helpers import table

    save_blackbox(table(np.full((4, 3), np.nan), np.cumsum(np.ones((4, 3)), axis=1)), "nan", "t1")
    out = work / "run.parquet"
    argv = ["simulate", "--blackbox", "nan/t1", "--method", "RandomSearch", "--max-completed", "1",
            "--method-arg", "allow_duplicates=true", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "ended by no_progress" in captured.out
    assert "hposim: warning: no progress toward the stopping criteria {'max_completed': 1}" in captured.err
    assert SimulationResult.read_parquet(out).metadata["end_reason"] == "no_progress"
