"""Fixtures of the studies tests: the fake run function is pickled by value for worker processes."""
from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).parent))
import fakes  # noqa: E402

cloudpickle.register_pickle_by_value(fakes)


import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def make_toy_blackbox(task: str, n_configs: int = 48, n_fid: int = 9, seed: int = 0):
    """A small tabular blackbox with learning curves: valid_error decreases with epochs, at a
    config-dependent rate; elapsed_time is cumulative."""
    from blackbox_repo.blackbox import TabularBlackbox

    rng = np.random.default_rng([seed, sum(map(ord, task))])
    lr = np.round(np.geomspace(1e-3, 1.0, n_configs // 3), 6)
    width = [16, 32, 64]
    hp = pd.DataFrame([(a, w) for a in lr for w in width], columns=["lr", "width"])
    n = len(hp)
    epochs = np.arange(1, n_fid + 1)
    quality = np.abs(np.log10(hp["lr"].to_numpy()) + 1.5) / 1.5 + rng.uniform(0, 0.3, n)
    obj = np.zeros((n, 2, n_fid, 2), np.float32)
    for s in range(2):
        noise = rng.normal(0, 0.01, (n, n_fid))
        err = 0.05 + 0.4 * quality[:, None] / 2 + 0.5 / epochs[None, :] ** (0.5 + rng.uniform(0, 1, (n, 1)))
        obj[:, s, :, 0] = np.clip(err + noise, 0, 1)
        per_epoch = (hp["width"].to_numpy() / 16.0)[:, None] * rng.uniform(0.8, 1.2, (n, 1))
        obj[:, s, :, 1] = np.cumsum(np.repeat(per_epoch, n_fid, axis=1), axis=1)
    return TabularBlackbox(hp, obj, fidelity_values=epochs, objectives_names=["valid_error", "elapsed_time"],
                           metric_elapsed_time="elapsed_time", metric="valid_error", mode="min")


@pytest.fixture
def toy_blackboxes(hposim_home):
    """Blackbox ``toy`` with tasks ``t1`` and ``t2`` in this test's hposim cache."""
    from blackbox_repo import save_blackbox

    for task in ("t1", "t2"):
        save_blackbox(make_toy_blackbox(task), "toy", task)
    return hposim_home
