"""The ``hposim`` error model: one line per error, an exit status per kind, quiet closed pipes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blackbox_repo.errors import IntegrityError, ProtocolError
from studies.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_argparse_usage_error_exits_2(capsys):
    assert main(["study", "run"]) == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "hposim: error:" in err


def test_spec_error_is_input_error_exit_2_one_message_no_traceback(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nseeds: 1\nmethods: {RS: RandomSearch}\nbenchmarks: {b: {blackbox: toy/t1}}\n")
    assert main(["study", "run", str(p), "--root", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hposim: error:") and err.count("hposim: error:") == 1
    assert "Traceback" not in err and "no stopping criterion" in err


def test_storage_error_exits_4(tmp_path, toy_blackboxes, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nseeds: 1\nmethods: {RS: RandomSearch}\n"
                 "benchmarks: {b: {blackbox: toy/t1, max_trials: 2}}\n")
    assert main(["study", "run", str(p), "--root", str(blocker / "sub"), "-q"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "file" in err


@pytest.mark.parametrize("error,code", [(IntegrityError("bad checksum"), 3), (ProtocolError("bad call"), 1),
                                        (RuntimeError("boom"), 1)])
def test_error_kinds_map_to_exit_codes_and_debug_shows_traceback(monkeypatch, capsys, error, code):
    import studies.cli_methods as cm

    def explode(args):
        raise error

    monkeypatch.setattr(cm, "cmd_methods", explode)
    assert main(["methods"]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(error) in err and err.count("\n") == 1
    assert main(["--debug", "methods"]) == code
    assert "Traceback" in capsys.readouterr().err


def test_closed_pipe_exits_141_quietly():
    """``hposim methods | head -1``: the reader closes the pipe before hposim writes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "studies.cli", "methods"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                       # like `head` exiting at once
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "Broken pipe" not in err and "BrokenPipeError" not in err and err == ""


def test_input_problems_of_study_commands_exit_2(tmp_path, capsys):
    """The class 'bad input reported as a runtime error (exit 1)': each of these is exit 2."""
    from fakes import fake_run, fake_study_dict
    from studies import Study, run_study

    d = fake_study_dict(seeds=2, methods={"A": {"method": "RandomSearch"},
                                          "bad": {"method": "RandomSearch", "crash": True}})
    run_study(Study.from_dict(d), str(tmp_path / "r"), run_fn=fake_run, validate=False, progress=False)
    d2 = fake_study_dict(name="allbad", seeds=1, methods={"bad": {"method": "RandomSearch", "crash": True}})
    run_study(Study.from_dict(d2), str(tmp_path / "r"), run_fn=fake_run, validate=False, progress=False)
    folder = str(tmp_path / "r" / "fake")
    cases = [
        (["study", "compare", folder, "--baseline", "A", "--candidate", "Z"], "method 'Z' is not in the study"),
        (["study", "compare", folder, "--baseline", "A", "--candidate", "bad"], "no (benchmark, seed) pair"),
        (["study", "plot", str(tmp_path / "r" / "allbad")], "has no done runs to plot"),
        (["study", "plot", folder, "--stat", "mean"], "invalid choice"),
        (["study", "run", str(tmp_path), "--root", str(tmp_path / "x")], "cannot be read"),   # a directory
        (["study", "run", str(tmp_path / "none.yaml")], "does not exist"),
    ]
    for argv, needle in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, (argv, err)


def test_load_run_on_a_folder_without_a_run_is_an_input_error(tmp_path):
    from blackbox_repo.errors import InputError
    from studies.run_view import load_run

    with pytest.raises(InputError, match="is not a run folder"):
        load_run(str(tmp_path))
