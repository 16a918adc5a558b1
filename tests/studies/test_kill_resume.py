"""SIGKILL a running study at random moments; rerunning loses nothing and never counts a half run."""
from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq

from studies.layout import StudyStore

HERE = Path(__file__).parent

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from fakes import fake_run, fake_study_dict
    from studies import Study, run_study
    d = fake_study_dict(name="killme", seeds=10, max_trials=40,
                        methods={{"A": {{"method": "RandomSearch", "sleep": 0.03}},
                                  "B": {{"method": "RandomSearch", "sleep": 0.01}}}})
    s = run_study(Study.from_dict(d), {root!r}, engine={engine!r}, jobs=2, run_fn=fake_run,
                  validate=False, progress=False)
    sys.exit(0 if s.ok else 1)
""")


def _check_done_runs_are_complete(root: Path) -> int:
    states = StudyStore(str(root), "killme").read_states(warn=False)
    for st in states.values():
        assert st.status == "done", st
        data = (Path(st.path) / "results.parquet").read_bytes()
        assert hashlib.sha256(data).hexdigest() == st.metadata["files"]["results.parquet"]["sha256"]
        assert pq.read_table(Path(st.path) / "results.parquet").num_rows == 120
    return len(states)


def _start(root: Path, engine: str) -> subprocess.Popen:
    code = SCRIPT.format(here=str(HERE), root=str(root), engine=engine)
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_moments_then_resume(tmp_path):
    rng = random.Random(1234)
    counts = []
    for engine in ("serial", "local", "serial", "serial"):
        t0 = time.time()
        proc = _start(tmp_path, engine)
        deadline = t0 + 30
        while not [p for p in (tmp_path / "killme" / "_running").rglob("*.json")
                   if p.stat().st_mtime > t0] and time.time() < deadline:
            time.sleep(0.01)                          # wait until runs are under way, then
        time.sleep(rng.uniform(0.0, 0.3))            # kill at a random moment
        os.killpg(proc.pid, signal.SIGKILL)          # the study and any worker it started
        proc.wait()
        counts.append(_check_done_runs_are_complete(tmp_path))
    assert counts == sorted(counts), f"done runs were lost: {counts}"
    assert counts[0] < 40, f"the first kill came too late to test anything: {counts}"
    print("done runs after each kill:", counts)
    proc = _start(tmp_path, "serial")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert _check_done_runs_are_complete(tmp_path) == 40
    # no temporaries are left behind once a study finished on this host
    assert not [p for p in (tmp_path / "killme").rglob(".tmp-*")]
