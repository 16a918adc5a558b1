"""The run file format, defined once (``encode_run`` / ``decode_run``): round trip, and the same
bytes from ``SimulationResult.to_parquet`` (``hposim simulate --out``) and a study run."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator import SimulationResult
from simulator.results import METADATA_KEY, decode_run, encode_run


def _run() -> SimulationResult:
    results = pd.DataFrame({"trial_id": [0, 0, 1], "lr": [0.1, 0.1, 0.01], "fidelity": [1, 2, 1],
                            "loss": [0.5, np.nan, 0.25], "time": [1.0, 2.0, 2.5],
                            "decision": pd.Categorical(["continue", "failed", "complete"])})
    trials = pd.DataFrame({"trial_id": [0, 1], "status": ["failed", "completed"], "end_time": [2.0, 2.5]})
    meta = {"metric": "loss", "mode": "min", "seed": 3, "end_time": math.inf, "nested": {"a": (1, 2)},
            "nan": math.nan, "np": np.float32(0.5)}
    return SimulationResult(results, trials, meta)


def test_round_trip_keeps_tables_and_jsonable_metadata():
    r = _run()
    back = decode_run(encode_run(r.results, r.trials, r.metadata))
    pd.testing.assert_frame_equal(back.results, r.results, check_exact=True)
    pd.testing.assert_frame_equal(back.trials, r.trials, check_exact=True)
    assert back.metadata == {"metric": "loss", "mode": "min", "seed": 3, "end_time": "inf",
                             "nested": {"a": [1, 2]}, "nan": None, "np": 0.5}


def test_to_parquet_writes_exactly_encode_run(tmp_path):
    r = _run()
    path = tmp_path / "run.parquet"
    r.to_parquet(path)
    assert path.read_bytes() == encode_run(r.results, r.trials, r.metadata)
    back = SimulationResult.read_parquet(path)
    pd.testing.assert_frame_equal(back.results, r.results, check_exact=True)
    assert decode_run(str(path)).metadata == back.metadata


def test_without_trials_or_metadata_and_foreign_parquet(tmp_path):
    back = decode_run(encode_run(pd.DataFrame({"trial_id": [0]})))
    assert back.metadata == {} and back.trials.empty and back.results["trial_id"].tolist() == [0]
    foreign = tmp_path / "other.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(foreign)
    with pytest.raises(ValueError, match=f"other.parquet is not an hposim run file: no {METADATA_KEY!r}"):
        decode_run(str(foreign))
