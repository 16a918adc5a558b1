"""The static checks CI runs (docs/architecture.md#checks): ruff and mypy, as tests.

Both tools come with the ``test`` extra (``setup.cfg``); their settings are in
``pyproject.toml`` (``[tool.ruff.lint]``: the rule set; ``[tool.mypy]``: the checked files,
whose errors must stay at zero). mypy keeps its cache in ``.mypy_cache``, so a second run
checks only what changed.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tool(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m <tool> ...``; a missing tool fails the test (install the ``test`` extra)."""
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert f"No module named {args[0]}" not in proc.stderr, \
        f"{args[0]} is not installed: pip install -e '.[test]'"
    return proc


def test_ruff_finds_nothing():
    proc = _tool("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_uses_the_project_rules(tmp_path):
    # the rule set is in force: an unused import (F401), a mutable default (B006), a
    # function bound to a loop variable (B023)
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f(x=[]):\n    return x\n\n\n"
                   "fs = []\nfor i in range(3):\n    fs.append(lambda: i)\n")
    proc = _tool("ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                 "--output-format", "concise", str(bad))
    assert proc.returncode == 1
    for code in ("F401", "B006", "B023"):
        assert code in proc.stdout, (code, proc.stdout)


def test_mypy_finds_no_error_in_the_checked_files():
    files = CONFIG["tool"]["mypy"]["files"]
    assert {"blackbox_repo/configspace.py", "blackbox_repo/errors.py", "methods/base.py",
            "methods/registry.py", "simulator/settings.py"} <= set(files)
    missing = [f for f in files if not (ROOT / f).is_file()]
    assert not missing, f"[tool.mypy] files names files that do not exist: {missing}"
    proc = _tool("mypy", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"no issues found in {len(files)} source files" in proc.stdout, proc.stdout


def test_mypy_reports_a_type_error(tmp_path):
    # the check can fail: the same settings on a file with a wrong return type
    bad = tmp_path / "bad.py"
    bad.write_text("def f() -> int:\n    return 'x'\n")
    proc = _tool("mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                 str(tmp_path / "cache"), str(bad), cwd=tmp_path)
    assert proc.returncode == 1 and "Incompatible return value type" in proc.stdout, proc.stdout


def _wall_time_tests() -> list[str]:
    """Test functions that read a wall clock (``time.perf_counter``) without the ``timing`` mark."""
    out = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            marks = {ast.unparse(d) for d in node.decorator_list}
            clocks = [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr == "perf_counter"]
            if clocks and "pytest.mark.timing" not in marks:
                out.append(f"{path.relative_to(ROOT)}::{node.name}")
    return out


def test_wall_time_assertions_are_marked_timing():
    # they depend on the machine's load, so `make test` leaves them out (`make test-timing`)
    assert "timing" in CONFIG["tool"]["pytest"]["ini_options"]["addopts"]
    unmarked = _wall_time_tests()
    assert not unmarked, "tests timing themselves without @pytest.mark.timing:\n" + "\n".join(unmarked)


def test_the_default_run_deselects_timing_tests(tmp_path):
    f = tmp_path / "test_x.py"
    f.write_text("import pytest\n\n\n@pytest.mark.timing\ndef test_slow():\n    pass\n\n\n"
                 "def test_plain():\n    pass\n")
    args = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
            "-p", "no:cacheprovider", "--collect-only", "-q", str(f)]
    default = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "1/2 tests collected (1 deselected)" in default.stdout, default.stdout + default.stderr
    assert "test_x.py::test_plain" in default.stdout and "test_slow" not in default.stdout, default.stdout
