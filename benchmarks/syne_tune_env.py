"""Create (or reuse) the separate virtual environment with Syne Tune 0.16 for the side-by-side benchmarks.

The environment lives in ``benchmarks/.venv-syne-tune`` and is never imported by hposim: the benchmark
scripts run ``st_*_side.py`` with that environment's interpreter as a subprocess. ``ensure``, ``check``
and ``main`` take an ``EnvSpec`` (version, pip extras, extra packages, import checks), so that other
Syne Tune versions reuse them (``syne_tune13_env.py``).

Example::

    python benchmarks/syne_tune_env.py          # creates the venv if needed and prints its python
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
from dataclasses import dataclass
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


@dataclass(frozen=True)
class EnvSpec:
    """What one Syne Tune environment installs from PyPI and the imports that prove it usable."""

    version: str = SYNE_TUNE_VERSION
    venv_dir: Path = VENV_DIR
    extras: str = ""  # pip extras of syne-tune, e.g. "gpsearchers,kde"
    packages: tuple[str, ...] = EXTRA_PACKAGES
    check_imports: tuple[str, ...] = CHECK_IMPORTS
    python: str | None = None  # interpreter that creates the venv (None: the one running this module)

    def requirement(self) -> str:
        extras = f"[{self.extras}]" if self.extras else ""
        return f"syne-tune{extras}=={self.version}"


DEFAULT_SPEC = EnvSpec()


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """Path of the interpreter inside ``venv_dir``."""
    return venv_dir / "bin" / "python"


def check(python: Path, imports: tuple[str, ...] = CHECK_IMPORTS) -> list[str]:
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
    proc = subprocess.run([str(python), "-c", probe, json.dumps(list(imports))],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"{python} does not run: {proc.stderr.strip()[-300:]}"]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure(venv_dir: Path | None = None, *, quiet: bool = False, spec: EnvSpec = DEFAULT_SPEC) -> Path:
    """Create the environment when missing or broken; return its python. Idempotent and fast when ready.

    ``venv_dir`` defaults to ``spec.venv_dir``."""
    venv_dir = Path(venv_dir) if venv_dir is not None else spec.venv_dir
    python = venv_python(venv_dir)
    if python.exists() and not check(python, spec.check_imports):
        return python
    if not python.exists():
        if spec.python:
            subprocess.run([spec.python, "-m", "venv", str(venv_dir)], check=True)
        else:
            venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    subprocess.run([*pip, spec.requirement(), *spec.packages], check=True)
    failed = check(python, spec.check_imports)
    if failed:
        raise RuntimeError(
            "Syne Tune environment at {} is incomplete; failing imports:\n  {}".format(
                venv_dir, "\n  ".join(failed)
            )
        )
    return python


def main(argv: list[str] | None = None, spec: EnvSpec = DEFAULT_SPEC, description: str | None = None) -> int:
    """The command line: ``[--venv DIR] [--quiet]``; prints the environment's python."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=spec.venv_dir, help="where to create the environment")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    print(ensure(args.venv, quiet=args.quiet, spec=spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
