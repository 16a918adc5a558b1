"""``hposim methods``, ``hposim method list|info|searchers`` and ``hposim searchers``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from methods import METHODS, SEARCHERS
from methods.catalog import all_methods, all_searchers, describe
from studies.cli import EXIT_USAGE, main
from studies.cli_methods import info_text, methods_text, searchers_text


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_methods_and_method_list_print_the_same_listing(capsys):
    code, out, err = run(capsys, "methods")
    assert code == 0 and err == ""
    assert run(capsys, "method", "list") == (0, out, "")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "DESCRIPTION"]
    for info in all_methods():
        row = next(line for line in lines if line.startswith(info.name + " "))
        assert row.split()[1] == info.kind
    assert "arguments: type='stopping', grace_period=None, reduction_factor=3" in out
    assert "paper: Bergstra & Bengio 2012, Random Search" in out
    assert "mode='min'" in out and "seed=0" in out            # the common arguments, once
    assert out.count("mode='min'") == 1
    assert "``" not in out                                     # reST literals shown plainly


def test_listing_is_aligned_and_wrapped(capsys):
    text = methods_text(width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    column = lines[0].index("KIND")
    for info in all_methods():
        row = next(line for line in lines if line.startswith(info.name + " "))
        assert row[column:].startswith(info.kind)
    assert all(line.startswith("    ") for line in lines if line.lstrip().startswith(("paper:", "arguments:")))


def test_searchers_listing(capsys):
    code, out, err = run(capsys, "searchers")
    assert code == 0 and err == ""
    assert run(capsys, "method", "searchers") == (0, out, "")
    assert out.rstrip("\n") == searchers_text()
    for info in all_searchers():
        assert any(line.startswith(", ".join(info.names) + " ") for line in out.splitlines()), info.names
    assert "searcher_args=" in out


def test_method_info_shows_everything(capsys):
    code, out, err = run(capsys, "method", "info", "asha")
    assert code == 0 and err == ""
    info = describe("ASHA")
    assert out.startswith("ASHA: multi-fidelity method (methods.asha.ASHA)\n")
    for k, v in info.arguments.items():
        assert f"    {k}" in out and f"= {v!r}" in out
    assert "common arguments: metric (required), mode='min'" in out
    assert "searchers (searcher=NAME" in out
    for name in SEARCHERS:
        assert name in out
    assert "study spec: ASHA-TPE: {method: ASHA, searcher: tpe}" in out
    documentation = out.split("documentation:\n", 1)[1]
    assert all(line in documentation for line in ("    " + ln if ln else "" for ln in info.doc.splitlines()))


def test_method_info_without_searcher_and_for_a_searcher(capsys):
    code, out, _ = run(capsys, "method", "info", "RANDOMSEARCH")
    assert code == 0 and out.startswith("RandomSearch: single-fidelity method")
    assert "searchers (searcher=NAME" not in out and "allow_duplicates = False" in out
    code, out, _ = run(capsys, "method", "info", "random")
    assert code == 0 and out.startswith("random: searcher (methods.searcher.RandomSearcher)")
    assert "--method-arg searcher=random" in out and "common arguments" not in out


@pytest.mark.parametrize("argv, wrong, close", [
    (["method", "info", "asah"], "'asah'", "Did you mean 'ASHA'?"),
    (["method", "info", "RandomSerch"], "'RandomSerch'", "Did you mean 'RandomSearch'?"),
])
def test_unknown_name_is_a_usage_error_with_the_names_and_the_close_match(capsys, argv, wrong, close):
    code, out, err = run(capsys, *argv)
    assert code == EXIT_USAGE and out == ""
    assert err.startswith("hposim: error: unknown method or searcher " + wrong)
    assert close in err
    assert all(repr(name) in err for name in list(METHODS) + list(SEARCHERS))
    assert err.count("\n") == 1                                # one line, no traceback


def test_info_text_raises_for_an_unknown_name():
    from methods.base import MethodError

    with pytest.raises(MethodError, match="unknown method or searcher 'nothing'"):
        info_text("nothing")


def test_help_lists_the_new_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "methods" in out and "searchers" in out and "method " in out
    code, out, _ = run(capsys, "method", "--help")
    assert code == 0 and all(c in out for c in ("list", "info", "searchers"))
    code, _, err = run(capsys, "method")
    assert code == EXIT_USAGE and "hposim: error:" in err


def test_installed_console_script():
    script = Path(sys.executable).parent / "hposim"
    assert script.exists(), f"console script missing at {script}; run `make install`"
    done = subprocess.run([str(script), "method", "info", "nope"], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_USAGE and done.stdout == ""
    assert done.stderr.startswith("hposim: error: unknown method or searcher 'nope'")


def test_methods_lists_the_presets_with_what_they_expand_to(capsys):
    from methods.presets import PRESETS

    code, out, err = run(capsys, "methods")
    assert code == 0 and err == ""
    presets = out[out.index("PRESET "):].splitlines()
    for name, preset in PRESETS.items():
        row = next(line for line in presets if line.startswith(name + " "))
        assert row.split(None, 1)[1] == preset.expansion().replace("'", "")
    assert "ASHA6-STOP        ASHA(type=stopping, brackets=6)" in out
    assert "BOHB              SyncBOHB()" in out
    assert all(len(line) <= 80 for line in methods_text(width=80).splitlines()[-60:])


def test_method_info_of_a_preset_shows_it_then_its_method(capsys):
    code, out, err = run(capsys, "method", "info", "ASHA6-STOP")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "ASHA6-STOP: preset = ASHA(type='stopping', brackets=6)"
    assert "ASHA: multi-fidelity method (methods.asha.ASHA)" in lines
    assert run(capsys, "method", "info", "bohb")[1].startswith("BOHB: preset = SyncBOHB()")
    code, out, err = run(capsys, "method", "info", "DEHB")           # the method before the preset
    assert out.startswith("DEHB: multi-fidelity method (methods.dehb.DEHB)")
