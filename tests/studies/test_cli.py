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
