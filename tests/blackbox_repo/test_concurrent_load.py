"""Four processes opening the same blackbox for the first time build its cache exactly once."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.storage import load_tabular, save_tabular, verify_folder

N_PROCESSES = 4

# each child imports everything, says "ready", waits for the go file, loads, prints its result
CHILD = r"""
import hashlib, json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("always")
from blackbox_repo.storage import load_tabular
folder, cache_dir, go = sys.argv[1], (sys.argv[2] or None), Path(sys.argv[3])
print("ready", flush=True)
deadline = time.monotonic() + 120
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("the go file never appeared")
    time.sleep(0.002)
with warnings.catch_warnings(record=True) as caught:
    bb = load_tabular(folder, cache_dir=cache_dir)
    digest = hashlib.sha256(bb.objectives.tobytes()).hexdigest()
print(json.dumps({"sha": digest, "shape": list(bb.shape), "warnings": [str(w.message) for w in caught]}),
      flush=True)
"""


def make_table(seed: int = 0) -> TabularBlackbox:
    """Big enough (~10 MB of float32) that building the cache takes a noticeable time."""
    rng = np.random.default_rng(seed)
    n = 3000
    hp = pd.DataFrame({"x": np.arange(n), "act": rng.choice(["a", "b", "c"], n)})
    obj = rng.random((n, 3, 100, 3)).astype(np.float32)
    obj[::7, 0, 5, 1] = np.nan
    return TabularBlackbox(hp, obj, fidelity_values=np.arange(1, 101), objectives_names=["e", "f", "g"])


@pytest.mark.parametrize("separate_cache", [False, True], ids=["cache-in-folder", "cache-dir"])
def test_four_processes_first_load_build_once(tmp_path, separate_cache):
    bb = make_table()
    folder = save_tabular(bb, tmp_path / "data" / "big" / "t", name="big", task="t", build_cache=False)
    cache = tmp_path / "cache" / "big" / "t" if separate_cache else folder
    assert not (cache / "objectives.npy").exists()
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(cache) if separate_cache else "",
                               str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(N_PROCESSES)]
    try:
        for p in procs:  # wait until every child has imported everything
            line = p.stdout.readline()
            assert line.strip() == "ready", (line, p.stderr.read())
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    expected = hashlib.sha256(np.ascontiguousarray(bb.objectives).tobytes()).hexdigest()
    assert [r["sha"] for r in results] == [expected] * N_PROCESSES
    assert all(r["shape"] == list(bb.shape) and r["warnings"] == [] for r in results)
    record = json.loads((cache / "cache.json").read_text())
    assert record["builds"] == 1
    assert len((cache / "cache.log").read_text().splitlines()) == 1
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no temp files left
    assert verify_folder(folder, cache_dir=cache) == []
    again = load_tabular(folder, cache_dir=cache if separate_cache else None)   # reuses the cache
    assert hashlib.sha256(again.objectives.tobytes()).hexdigest() == expected
    assert json.loads((cache / "cache.json").read_text())["builds"] == 1


@pytest.mark.timing
def test_a_load_of_a_built_cache_takes_under_5_seconds(tmp_path):
    folder = save_tabular(make_table(), tmp_path / "big" / "t", name="big", task="t")
    t0 = time.perf_counter()
    load_tabular(folder)
    assert time.perf_counter() - t0 < 5
