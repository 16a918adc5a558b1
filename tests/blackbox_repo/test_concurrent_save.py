"""Concurrent imports and saves of the same name (real processes): exactly one wins, nothing
is silently replaced, and the cache holds the winner's values (issue 11, requirement 5)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repo.repository import load_blackbox
from blackbox_repo.storage import verify_folder

N_PROCESSES = 4
ROOT = Path(__file__).resolve().parents[2]

# each child imports everything, says "ready", waits for the go file, then runs its job
CHILD = r"""
import json, sys, time
from pathlib import Path
kind, arg, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
from studies.cli import main
from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.repository import save_blackbox, BlackboxExistsError
import numpy as np, pandas as pd
print("ready", flush=True)
deadline = time.monotonic() + 120
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("the go file never appeared")
    time.sleep(0.002)
def table(value):
    return TabularBlackbox(pd.DataFrame({"x": np.arange(500)}), np.full((500, 2, 20, 2), value, np.float32),
                           fidelity_values=np.arange(1, 21), objectives_names=["loss", "cost"])
if kind == "force":
    from blackbox_repo.repository import save_blackboxes
    for k in range(3):
        value = float(arg) * 10 + k
        save_blackboxes({"a": table(value), "b": table(value)}, "race", force=True)
    print(json.dumps({"code": 0}), flush=True)
elif kind == "read":
    from blackbox_repo.repository import load_blackbox
    seen, errors = set(), []
    for _ in range(int(arg)):
        try:
            for task in ("a", "b"):
                obj = np.asarray(load_blackbox("race", task).objectives)
                values = np.unique(obj)
                if len(values) != 1:
                    errors.append(f"mixed values {values[:5]}")
                seen.add(float(values[0]))
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    print(json.dumps({"code": 0, "seen": sorted(seen), "errors": errors[:5]}), flush=True)
elif kind == "import":
    code = main(["blackbox", "import", arg, "--name", "race", "--config-cols", "x",
                 "--fidelity-col", "epoch", "--metric", "loss"])
    print(json.dumps({"code": code}), flush=True)
else:
    value = float(arg)
    bb = TabularBlackbox(pd.DataFrame({"x": np.arange(500)}), np.full((500, 2, 20, 2), value, np.float32),
                         fidelity_values=np.arange(1, 21), objectives_names=["loss", "cost"])
    try:
        save_blackbox(bb, "race", "t")
        print(json.dumps({"code": 0}), flush=True)
    except BlackboxExistsError as e:
        print(json.dumps({"code": 1, "error": str(e)}), flush=True)
"""


def _run_children(tmp_path: Path, kind: str, args: list[str]) -> list[tuple[dict, str]]:
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, kind, a, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT)) for a in args]
    try:
        for p in procs:
            line = p.stdout.readline()
            assert line.strip() == "ready", (line, p.stderr.read())
        go.touch()
        out = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=300)
            assert p.returncode == 0, stderr
            out.append((json.loads(stdout.strip().splitlines()[-1]), stderr))
        return out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_concurrent_imports_of_one_name_without_force_exactly_one_wins(tmp_path):
    # the race of issue 11: two `hposim blackbox import --name race` both succeeded and the
    # first import was silently replaced
    tables = []
    for i in range(N_PROCESSES):
        rows = [(x, e, float(i) + x / 1000 + e / 10) for x in range(300) for e in range(1, 11)]
        path = tmp_path / f"t{i}.csv"
        pd.DataFrame(rows, columns=["x", "epoch", "loss"]).to_csv(path, index=False)
        tables.append(path)
    results = _run_children(tmp_path, "import", [str(p) for p in tables])
    codes = [r["code"] for r, _ in results]
    assert sorted(codes)[0] == 0 and codes.count(0) == 1, results
    for (r, err) in results:
        if r["code"] != 0:
            assert "a blackbox named 'race' already exists in the cache" in err and "--force" in err, err
    winner = codes.index(0)
    bb = load_blackbox("race", "default")
    expected = pd.read_csv(tables[winner]).sort_values(["x", "epoch"])["loss"].to_numpy(np.float32)
    np.testing.assert_array_equal(np.asarray(bb.objectives)[:, 0, :, 0].ravel(), expected)
    assert verify_folder(bb.metadata["folder"]) == []


def test_concurrent_save_blackbox_of_one_task_without_force_exactly_one_wins(tmp_path, hposim_home):
    results = _run_children(tmp_path, "save", [str(v) for v in (1.0, 2.0, 3.0, 4.0)])
    codes = [r["code"] for r, _ in results]
    assert codes.count(0) == 1, results
    assert all("blackbox race/t already exists in the cache" in r["error"] for r, _ in results if r["code"])
    bb = load_blackbox("race", "t")
    assert np.all(np.asarray(bb.objectives) == np.float32(1.0 + codes.index(0)))
    leftovers = [p.name for p in (hposim_home / "blackboxes" / "race").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_forced_family_saves_and_concurrent_loads_stay_consistent(tmp_path):
    """Writers replacing the family ``race`` (two tasks, all-or-nothing) while readers load
    it: no reader fails or sees a mixed table, and the end state is one writer's last save."""
    from blackbox_repo.blackbox import TabularBlackbox
    from blackbox_repo.repository import save_blackboxes
    first = TabularBlackbox(pd.DataFrame({"x": np.arange(500)}), np.full((500, 2, 20, 2), -1.0, np.float32),
                            fidelity_values=np.arange(1, 21), objectives_names=["loss", "cost"])
    save_blackboxes({"a": first, "b": first}, "race")
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    jobs = [("force", "1"), ("force", "2"), ("read", "15"), ("read", "15")]
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, kind, arg, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT)) for kind, arg in jobs]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        outs = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=300)
            assert p.returncode == 0, stderr
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for out in outs[2:]:
        assert out["errors"] == [], out
        assert set(out["seen"]) <= {-1.0, 10.0, 11.0, 12.0, 20.0, 21.0, 22.0}
    a, b = (np.asarray(load_blackbox("race", t).objectives) for t in ("a", "b"))
    assert np.unique(a).tolist() == np.unique(b).tolist() and np.unique(a)[0] in (12.0, 22.0)
    for t in ("a", "b"):
        assert verify_folder(load_blackbox("race", t).metadata["folder"]) == []
