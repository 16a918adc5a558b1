"""The dask and ray engines on real local clusters (one Dask LocalCluster for the module)."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from studies import run_study
from studies.analysis import load_study
from test_study_simulated import toy_study


@pytest.fixture(scope="module")
def cluster_home(tmp_path_factory):
    """The hposim cache of the module's cluster (an existing cluster has its own environment)."""
    from blackbox_repo import save_blackbox
    from fakes import make_toy_blackbox

    home = tmp_path_factory.mktemp("cluster-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("HPOSIM_HOME", str(home))
    for task in ("t1", "t2"):
        save_blackbox(make_toy_blackbox(task), "toy", task)
    mp.undo()
    return home


@pytest.fixture(scope="module")
def dask_cluster(cluster_home):
    distributed = pytest.importorskip("distributed")
    mp = pytest.MonkeyPatch()
    mp.setenv("HPOSIM_HOME", str(cluster_home))      # the workers inherit it
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    mp.undo()
    yield cluster
    cluster.close()


def _loads_per_worker(folder):
    loads = defaultdict(int)
    pids = set()
    for p in folder.rglob("metadata.json"):
        m = json.loads(p.read_text())
        pids.add(m["pid"])
        if not m["blackbox_cache_hit"]:
            loads[(m["pid"], m["run"]["benchmark"])] += 1
    return loads, pids


def test_dask_engine_on_existing_cluster(tmp_path, dask_cluster, cluster_home, monkeypatch):
    monkeypatch.setenv("HPOSIM_HOME", str(cluster_home))   # the driver validates with the same cache
    s = run_study(toy_study(seeds=4), str(tmp_path), engine="dask", address=dask_cluster.scheduler_address,
                  progress=False)
    assert s.ok, s.format()
    assert s.done == 24
    worker_pids = {w.pid for w in dask_cluster.workers.values() if hasattr(w, "pid")}
    loads, pids = _loads_per_worker(tmp_path / "sim")
    assert len(pids) <= 2 and (not worker_pids or pids <= worker_pids)
    assert max(loads.values()) == 1
    # rerun through the cluster: nothing to do
    again = run_study(toy_study(seeds=4), str(tmp_path), engine="dask", address=dask_cluster.scheduler_address,
                      progress=False)
    assert again.skipped == 24 and again.outcomes == []
    assert len(load_study(str(tmp_path / "sim")).runs) == 24


def test_dask_engine_starts_a_local_cluster(tmp_path, toy_blackboxes):
    pytest.importorskip("distributed")
    s = run_study(toy_study(seeds=1), str(tmp_path), engine="dask", jobs=2, progress=False)
    assert s.ok and s.done == 6
    # stale runs go through the same path on every engine: refused, then recomputed by the workers
    from studies.fingerprint import StaleRunsError

    with pytest.raises(StaleRunsError, match="6 stored run"):
        run_study(toy_study(seeds=1, max_time=120), str(tmp_path), engine="dask", jobs=2, progress=False)
    s = run_study(toy_study(seeds=1, max_time=120), str(tmp_path), engine="dask", jobs=2, progress=False,
                  stale="rerun")
    assert s.ok and s.done == 6
    meta = json.loads((tmp_path / "sim" / "t2" / "ASHA" / "0" / "metadata.json").read_text())
    assert meta["fingerprint"]["settings"]["benchmark"]["stop"] == {"max_time": 120.0}


def test_ray_engine_local(tmp_path, toy_blackboxes):
    pytest.importorskip("ray")
    s = run_study(toy_study(seeds=2), str(tmp_path), engine="ray", jobs=2, progress=False)
    assert s.ok, s.format()
    assert s.done == 12
    loads, pids = _loads_per_worker(tmp_path / "sim")
    assert max(loads.values()) == 1


_HELD: list = []


def _grow_and_report_pid(_: int) -> int:
    """Hold 200 MB more per call, like a worker caching memory-mapped blackboxes; slow
    enough that loky's once-a-second memory check runs between calls."""
    import os
    import time

    import numpy as np

    _HELD.append(np.ones(25_000_000))
    time.sleep(0.6)
    return os.getpid()


def test_local_engine_keeps_its_workers_when_their_memory_grows():
    from studies.engines import map_unordered

    pids = list(map_unordered(_grow_and_report_pid, range(8), engine="local", jobs=2))
    # loky would replace a worker that grew by > 300 MB (and its cached blackboxes with it)
    assert len(pids) == 8 and len(set(pids)) <= 2


_DRIVER = """
import sys
sys.path.insert(0, {here!r})
from fakes import fake_run, fake_study_dict
from studies import Study, run_study
d = fake_study_dict(name="orphans", seeds=20, methods={{"A": {{"method": "RandomSearch", "sleep": 0.5}}}})
run_study(Study.from_dict(d), {root!r}, engine="local", jobs=2, run_fn=fake_run, validate=False, progress=False)
"""


def _children(pid: int) -> set[int]:
    import os

    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(d))
    return out


def test_local_engine_workers_exit_when_the_driver_is_killed(tmp_path):
    """SIGKILL of the driver (only it, not its process group): its loky workers exit within
    seconds instead of idling for loky's 300 s timeout."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    code = _DRIVER.format(here=str(Path(__file__).parent), root=str(tmp_path))
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list((tmp_path / "orphans").rglob("_running/**/*.json")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    workers = _children(driver.pid)
    assert workers, "the driver started no worker processes"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    deadline = time.time() + 15
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.1)
        alive = {p for p in workers if _alive(p)}
    names = {p: _cmdline(p) for p in alive}
    for p in alive:                                   # do not leave them behind if the test fails
        os.kill(p, signal.SIGKILL)
    assert not alive, f"worker processes {names} outlived their killed driver"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
