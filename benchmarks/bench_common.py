"""Shared plumbing of the benchmark drivers: subprocess runs that return a JSON record, medians,
machine description and result files.

Example::

    rec = run_json([sys.executable, "-c", "print('{\\"x\\": 1}')"])   # -> {"x": 1}
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS_DIR = BENCH_DIR / "results"
SIGNAL_DEATHS: list[dict] = []


class BenchmarkError(RuntimeError):
    """A benchmark subprocess failed; the message carries its command and stderr tail."""


def run_json(cmd: Sequence[str], *, env: dict | None = None, timeout: float | None = None,
             retries_on_signal: int = 2) -> dict:
    """Run ``cmd`` and return the JSON record printed on its last stdout line.

    A process killed by a signal *after* printing its record (seen rarely under heavy load: a C++
    ``terminate`` during interpreter shutdown) still yields its record; one killed before printing
    is re-run up to ``retries_on_signal`` times. Each such event is counted in ``SIGNAL_DEATHS``.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    for attempt in range(retries_on_signal + 1):
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=full_env,
                              timeout=timeout, cwd=str(BENCH_DIR))
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode < 0:
            SIGNAL_DEATHS.append({"cmd": " ".join(map(str, cmd)), "returncode": proc.returncode,
                                  "had_record": bool(lines), "stderr": proc.stderr[-300:]})
            if lines:
                return json.loads(lines[-1])
            if attempt < retries_on_signal:
                continue
        if proc.returncode != 0 or not lines:
            raise BenchmarkError(
                f"command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
                f"stderr tail:\n{proc.stderr[-2000:]}")
        return json.loads(lines[-1])
    raise AssertionError("unreachable")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """``median [min..max]`` with 3 significant digits."""
    return f"{median(values):.3g} [{min(values):.3g}..{max(values):.3g}]"


def machine() -> dict:
    """What the figures were measured on."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in load],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def command_line() -> str:
    """The command that is running, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])


def save_results(name: str, record: dict) -> Path:
    """Write ``record`` as ``benchmarks/results/<name>.json`` and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(record, indent=1, default=float))
    return path
