"""Create (or reuse) the separate virtual environment with Syne Tune 0.16 for the side-by-side benchmarks.

The environment lives in ``benchmarks/.venv-syne-tune`` and is never imported by hposim: the benchmark
scripts run ``st_*_side.py`` with that environment's interpreter as a subprocess.

Example::

    python benchmarks/syne_tune_env.py          # creates the venv if needed and prints its python
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-syne-tune"
SYNE_TUNE_VERSION = "0.16.0"
# syne-tune's core install lacks what its blackbox repository and simulator back-end import.
EXTRA_PACKAGES: tuple[str, ...] = ("huggingface_hub", "fastparquet")
CHECK_IMPORTS = (
    "import syne_tune",
    "from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular",
    "from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend",
    "from syne_tune.blackbox_repository.blackbox_tabular import serialize, deserialize",
    "import fastparquet",
    "from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback",
    "from syne_tune.optimizer.baselines import RandomSearch, ASHA",
    "from syne_tune import Tuner, StoppingCriterion",
)


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """Path of the interpreter inside ``venv_dir``."""
    return venv_dir / "bin" / "python"


def check(python: Path) -> list[str]:
    """Return the import statements that fail in ``python`` (empty when the environment is usable)."""
    probe = (
        "import json, sys\n"
        "failed = []\n"
        "for stmt in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        exec(stmt, {})\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{stmt}  ->  {type(exc).__name__}: {exc}')\n"
        "print(json.dumps(failed))\n"
    )
    proc = subprocess.run([str(python), "-c", probe, json.dumps(CHECK_IMPORTS)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"{python} does not run: {proc.stderr.strip()[-300:]}"]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure(venv_dir: Path = VENV_DIR, *, quiet: bool = False) -> Path:
    """Create the environment when missing or broken; return its python. Idempotent and fast when ready."""
    python = venv_python(venv_dir)
    if python.exists() and not check(python):
        return python
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    subprocess.run([*pip, f"syne-tune=={SYNE_TUNE_VERSION}", *EXTRA_PACKAGES], check=True)
    failed = check(python)
    if failed:
        raise RuntimeError(
            "Syne Tune environment at {} is incomplete; failing imports:\n  {}".format(
                venv_dir, "\n  ".join(failed)
            )
        )
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=VENV_DIR, help="where to create the environment")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    print(ensure(args.venv, quiet=args.quiet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
