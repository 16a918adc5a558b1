"""Create (or reuse) the separate virtual environment with Syne Tune 0.13 for the searcher benchmarks.

The environment lives in ``benchmarks/.venv-syne-tune-013``, with
``syne-tune[gpsearchers,kde,blackbox-repository]==0.13.0`` from PyPI (it brings NumPy 1.x), created
by ``python3.11``. Same mechanism as ``syne_tune_env.py`` (Syne Tune 0.16), parameterized by an
``EnvSpec``; the imports checked are those ``st_searchers_side.py`` needs, at 0.13's module paths.
Never imported by hposim.

Example::

    python benchmarks/syne_tune13_env.py        # creates the venv if needed and prints its python
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from syne_tune_env import BENCH_DIR, EnvSpec, ensure as _ensure, main as _main  # noqa: E402

SPEC_013 = EnvSpec(
    version="0.13.0",
    venv_dir=BENCH_DIR / ".venv-syne-tune-013",
    extras="gpsearchers,kde,blackbox-repository",
    packages=(),
    check_imports=(
        "import syne_tune; assert syne_tune.__version__ == '0.13.0', syne_tune.__version__",
        "from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, serialize, deserialize",
        "from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend",
        "from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback",
        "from syne_tune.optimizer.baselines import BayesianOptimization, KDE, REA, RandomSearch",
        "from syne_tune import Tuner, StoppingCriterion",
        "import fastparquet",  # pandas.read_parquet of the exchange files (no pyarrow here)
    ),
    python="python3.11",
)


def ensure(venv_dir: Path | None = None, *, quiet: bool = False) -> Path:
    """Create the Syne Tune 0.13 environment when missing or broken; return its python."""
    return _ensure(venv_dir, quiet=quiet, spec=SPEC_013)


if __name__ == "__main__":
    sys.exit(_main(spec=SPEC_013, description=__doc__.splitlines()[0]))
