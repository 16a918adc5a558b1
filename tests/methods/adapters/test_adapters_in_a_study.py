"""The adapters from a study spec (the YAML of the issue), run by the real study runner."""
from __future__ import annotations

import pytest

pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from studies.runner import run_study  # noqa: E402
from studies.spec import Study  # noqa: E402

SPEC = """
name: adapters
seeds: 2
methods:
  OptunaTPE: {method: optuna, sampler: TPESampler, pruner: HyperbandPruner, pruner_args: {min_resource: 1}}
  ST-ASHA:   {method: synetune, scheduler: ASHA, grace_period: 1}
benchmarks:
  digits: {blackbox: mlp-sklearn, task: digits, metric: valid_error, mode: min, n_workers: 4, max_trials: 40}
"""


def test_a_study_runs_optuna_and_syne_tune_methods_reproducibly(tmp_path):
    import yaml

    study = Study.from_dict(yaml.safe_load(SPEC))
    study.validate()
    first = run_study(study, str(tmp_path / "a"), progress=False)
    again = run_study(study, str(tmp_path / "b"), progress=False)
    assert first.ok and again.ok
    import pandas as pd

    for method in ("OptunaTPE", "ST-ASHA"):
        for seed in (0, 1):
            a, b = (pd.read_parquet(tmp_path / root / "adapters" / "digits" / method / str(seed) / "results.parquet")
                    .drop(columns="decision_time", errors="ignore") for root in "ab")
            assert len(a) > 40 and a.equals(b), (method, seed)
            assert a["trial_id"].nunique() == 40
